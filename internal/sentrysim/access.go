package sentrysim

import "slices"

// principalKind says what kind of credential authenticated a request.
type principalKind int

const (
	// kindUser is a user auth token of an organization member.
	kindUser principalKind = iota
	// kindIntegration is an internal-integration (Sentry App) token.
	kindIntegration
	// kindOrgToken is an organization auth token (sntrys_…).
	kindOrgToken
	// kindSCIM is the SCIM internal integration's token.
	kindSCIM
)

// principal is the authenticated caller of one request. scopes are the
// literal org-level scopes it holds (src/sentry/auth/access.py); upper is the
// token's own scope list, which bounds team-role scopes too.
type principal struct {
	kind principalKind
	// session reports whether a browser session (SignIn), not a token,
	// authenticated a user.
	session bool
	key     string // identity for rate limiting
	member  *member
	app     *app
	scopes  []string
	upper   []string
}

// disabledFromLimit is is_member_disabled_from_limit as determine_access
// applies it: only to session callers (a token returns before the session
// gates), never to Sentry apps, true for a member flagged
// member-limit:restricted (src/sentry/api/permissions.py,
// src/sentry/api/utils.py; docs/sentry-access-model.md#members-over-the-member-limit).
func (st *state) disabledFromLimit(p *principal) bool {
	return p.session && p.member != nil && p.member.flags["member-limit:restricted"]
}

// isMemberUser reports whether the caller is a user who is an org member.
func (p *principal) isMemberUser() bool { return p.kind == kindUser && p.member != nil }

// actor describes the caller for audit entries.
func (p *principal) actor() (userID int64, label string) {
	switch p.kind {
	case kindUser:
		return p.member.user.id, ""
	case kindSCIM:
		return 0, "SCIM Internal Integration (" + p.app.uuid[:6] + ")"
	case kindIntegration:
		return 0, p.app.name
	default:
		return 0, "Organization auth token"
	}
}

// hasGlobalAccess is has_global_access: open membership or a global org role;
// integration tokens and org-bound tokens get global membership/access.
func (st *state) hasGlobalAccess(p *principal) bool {
	switch p.kind {
	case kindIntegration, kindOrgToken, kindSCIM:
		return true
	}
	r, _ := st.roles.orgRole(p.member.role)
	return st.org.openMembership || r.global
}

// hasTeamAccess is has_team_access: global access, or an active membership.
func (st *state) hasTeamAccess(p *principal, t *team) bool {
	if st.hasGlobalAccess(p) {
		return true
	}
	_, ok := p.member.teams[t.id]
	return ok
}

// teamRoleScopes returns the scopes the caller's membership of t grants,
// bounded by the token's scopes; integrations get their own scopes.
func (st *state) teamRoleScopes(p *principal, t *team) []string {
	if p.kind != kindUser {
		return p.scopes
	}
	stored, ok := p.member.teams[t.id]
	if !ok {
		return nil
	}
	return intersect(st.teamScopes(st.effectiveTeamRole(p.member, stored)), p.upper)
}

// hasTeamScope is has_team_scope: team access and the scope at org level or
// through the team membership's role.
func (st *state) hasTeamScope(p *principal, t *team, scope string) bool {
	if !st.hasTeamAccess(p, t) {
		return false
	}
	return slices.Contains(p.scopes, scope) || slices.Contains(st.teamRoleScopes(p, t), scope)
}

// hasProjectAccess is has_project_access: global access, or membership of a
// team the project belongs to.
func (st *state) hasProjectAccess(p *principal, pr *project) bool {
	if st.hasGlobalAccess(p) {
		return true
	}
	for _, tid := range pr.teams {
		if _, ok := p.member.teams[tid]; ok {
			return true
		}
	}
	return false
}

// hasAnyProjectScope is has_any_project_scope: project access and any of the
// scopes at org level or (with team roles) through a team of the project.
func (st *state) hasAnyProjectScope(p *principal, pr *project, scopes ...string) bool {
	if !st.hasProjectAccess(p, pr) {
		return false
	}
	if hasAny(p.scopes, scopes...) {
		return true
	}
	if p.kind != kindUser || !st.hasFeature("team-roles") {
		return false
	}
	for _, tid := range pr.teams {
		if _, ok := p.member.teams[tid]; ok && hasAny(st.teamRoleScopes(p, st.teams[tid]), scopes...) {
			return true
		}
	}
	return false
}

// callerPriority returns the caller's org role priority, or -1 for callers
// that are not members (they can assign no roles).
func (st *state) callerPriority(p *principal) int {
	if !p.isMemberUser() {
		return -1
	}
	r, _ := st.roles.orgRole(p.member.role)
	return r.priority
}
