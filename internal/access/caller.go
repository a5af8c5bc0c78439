package access

import (
	"fmt"
	"slices"
	"strings"
)

// This file holds the rules Sentry checks against who makes a change: the
// owner of the configured token (ActingIdentity), not the person who asked
// for it (docs/sentry-access-model.md#the-acting-identity). Each rule names
// the Sentry code it mirrors; where Sentry's versions disagree the rule is
// a warning, never a refusal.

// Rules that depend on the acting identity.
const (
	// RuleAssignRole: the caller may not give the new org role: it is
	// above the caller's own, the caller lacks member:admin, or the token
	// is not a member's (get_allowed_org_roles in
	// organization_member_utils.py; PUT in organization_member_details.py).
	RuleAssignRole Rule = "assign-role"
	// RuleSuperior: the member's current org role is above the caller's
	// (PUT: "You do not have permission to assign a role to the given
	// user."; DELETE: roles.can_manage, "You cannot remove a member who has
	// more access than you.").
	RuleSuperior Rule = "superior-member"
	// RuleTokenKind: the kind of token cannot make this change at all (an
	// integration token changes no org role and removes no member; an org
	// auth token holds only org:ci).
	RuleTokenKind Rule = "token-kind"
	// RuleMissingScope: the caller's scopes (its role's ∩ the token's)
	// lack what the endpoint needs.
	RuleMissingScope Rule = "missing-scope"
	// RuleTeamRights: the caller may not add, remove or change the role of
	// members of this team (organization_member_team_details.py,
	// can_admin_team and can_set_team_role in organization_member_utils.py).
	RuleTeamRights Rule = "team-rights"
	// RuleCallerUnknown: who Sentry acts as is not known, so the rules
	// above were not checked (a warning).
	RuleCallerUnknown Rule = "caller-unknown"
	// RuleVersion: Sentry's versions answer differently (a warning).
	RuleVersion Rule = "version-dependent"
)

// callerFacts is what the caller-dependent rules know of the acting
// identity.
type callerFacts struct {
	id ActingIdentity
	// known reports that the identity is one the rules can be checked
	// against (a user token whose membership is known, an integration or
	// an org auth token).
	known bool
}

func newCallerFacts(id ActingIdentity) callerFacts {
	c := callerFacts{id: id}
	switch id.Kind {
	case CallerUser, CallerIntegration, CallerOrgToken:
		c.known = true
	}
	return c
}

// name is how messages name the caller.
func (c callerFacts) name() string {
	switch {
	case c.id.Email != "":
		return c.id.Email
	case c.id.Username != "":
		return c.id.Username
	}
	return "the token's user"
}

// CallerUnknownReason says, in words, why who Sentry acts as is not known,
// or "" when it is: an identity recorded before the acting identity was
// read, or one the server did not reveal.
func CallerUnknownReason(id ActingIdentity) string {
	switch id.Kind {
	case "":
		return "the snapshot was taken before sentry-access recorded who the token acts as; the next sync records it"
	case CallerUnknown:
		if id.Unknown != "" {
			return id.Unknown
		}
		return "the server did not say who the token belongs to"
	}
	return ""
}

// callerMember returns the caller's membership in the workspace as it is
// now, or nil.
func (w *workspace) callerMember(c callerFacts) *Member {
	if c.id.Kind != CallerUser {
		return nil
	}
	for i := range w.s.Members {
		m := &w.s.Members[i]
		if (c.id.MemberID != "" && m.ID == c.id.MemberID) || (c.id.MemberID == "" && c.id.UserID != "" && m.UserID == c.id.UserID) {
			return m
		}
	}
	return nil
}

// tokenAllows reports whether the token's own scopes include scope (true
// when they are not known: the role's scopes then stand alone).
func (c callerFacts) tokenAllows(scope string) bool {
	return len(c.id.TokenScopes) == 0 || slices.Contains(c.id.TokenScopes, scope)
}

// orgScope reports whether a user caller holds scope at org level: its
// org role's scopes ∩ the token's (scopes_upper_bound, auth/access.py).
func (w *workspace) orgScope(c callerFacts, m *Member, scope string) bool {
	if m == nil {
		return false
	}
	r, err := w.orgRole(m.OrgRole)
	return err == nil && slices.Contains(w.orgRoles[r].Scopes, scope) && c.tokenAllows(scope)
}

// teamRoleOf returns the index of m's effective team role on team (the
// higher of the stored role and its org role's minimum), or -1 when m is
// not on it.
func (w *workspace) teamRoleOf(m *Member, team string) int {
	if m == nil {
		return -1
	}
	k := slices.IndexFunc(m.Teams, func(ms Membership) bool { return ms.Team == team })
	if k < 0 {
		return -1
	}
	eff := w.minTeamRole(m)
	if r, err := w.teamRole(m.Teams[k].Role); err == nil {
		eff = max(eff, r)
	}
	return eff
}

// teamScope reports whether a user caller on team holds scope there
// through its team role (∩ the token's scopes).
func (w *workspace) teamScope(c callerFacts, m *Member, team, scope string) bool {
	r := w.teamRoleOf(m, team)
	return r >= 0 && slices.Contains(w.teamRoles[r].Scopes, scope) && c.tokenAllows(scope)
}

// global reports whether m's org role gives access to every team
// (manager, owner).
func (w *workspace) global(m *Member) bool {
	if m == nil {
		return false
	}
	r, err := w.orgRole(m.OrgRole)
	return err == nil && w.orgRoles[r].IsGlobal
}

// roleIndex is the priority of m's org role (-1 when unknown).
func (w *workspace) roleIndex(m *Member) int {
	if m == nil {
		return -1
	}
	r, err := w.orgRole(m.OrgRole)
	if err != nil {
		return -1
	}
	return r
}

// callerCheck checks change c, before it applies, against the acting
// identity. SCIM changes are made with the SCIM token and skip these
// rules.
func (w *workspace) callerCheck(c Change, cf callerFacts) []Violation {
	if c.SCIM || c.Kind == ChangeOrgSetting {
		return nil
	}
	refuse := func(rule Rule, format string, args ...any) []Violation {
		return []Violation{{Rule: rule, Message: fmt.Sprintf(format, args...)}}
	}
	warn := func(rule Rule, format string, args ...any) []Violation {
		return []Violation{{Rule: rule, Message: fmt.Sprintf(format, args...), Warning: true}}
	}
	switch cf.id.Kind {
	case CallerOrgToken:
		return refuse(RuleTokenKind, "The configured token is an organization auth token, which holds only org:ci: Sentry refuses every change of members and teams made with it. Configure a user auth token of an owner or manager.")
	case CallerIntegration:
		return w.integrationCheck(c, cf, refuse, warn)
	}
	if !cf.known {
		return nil // one warning for the whole request (Validate)
	}
	caller := w.callerMember(cf)
	who := cf.name()
	if caller == nil {
		switch c.Kind {
		case ChangeOrgRole:
			return refuse(RuleAssignRole, "Sentry refuses this: the token's user %s is no member of the organization, so it may give no org role. Configure a user auth token of an owner or manager.", who)
		case ChangeMemberRemove:
			return refuse(RuleSuperior, "Sentry refuses this: the token's user %s is no member of the organization (\"You cannot remove a member who has more access than you.\"). Configure a user auth token of an owner or manager.", who)
		}
		return nil
	}
	var target *Member
	if c.Member != "" {
		if i, err := w.member(c.Member); err == nil {
			target = &w.s.Members[i]
		}
	}
	switch c.Kind {
	case ChangeOrgRole:
		if target == nil || target.OrgRole == c.Role {
			return nil
		}
		if target.ID == caller.ID {
			return refuse(RuleOwnRole, "Sentry refuses this: the configured token belongs to %s, and nobody may change their own org role (\"You cannot make changes to your own role.\"). Use a token of another owner or manager.", who)
		}
		if !w.orgScope(cf, caller, "member:admin") {
			return refuse(RuleMissingScope, "Sentry refuses this: the token's user %s (%s) has no member:admin scope with this token, so it may give no org role (\"You do not have permission to set that org-level role\").", who, caller.OrgRole)
		}
		mine := w.roleIndex(caller)
		if r, err := w.orgRole(c.Role); err == nil && r > mine {
			return refuse(RuleAssignRole, "Sentry refuses this: the token's user %s is %s and may give only the roles at or below %s, not %s. Use an owner's token.", who, caller.OrgRole, caller.OrgRole, c.Role)
		}
		if w.roleIndex(target) > mine {
			return refuse(RuleSuperior, "Sentry refuses this: %s is %s, above the token's user %s (%s): \"You do not have permission to assign a role to the given user.\"", target.Email, target.OrgRole, who, caller.OrgRole)
		}
	case ChangeMemberRemove:
		if target == nil || target.ID == caller.ID {
			return nil // anyone may leave
		}
		if !w.orgScope(cf, caller, "member:admin") {
			if target.State != StateActive && target.State != "" && w.orgScope(cf, caller, "member:invite") && w.s.Org.AllowMemberInvite {
				return warn(RuleMissingScope, "Sentry removes the invite of %s only if the token's user %s sent it (it has member:invite, not member:admin).", target.Email, who)
			}
			return refuse(RuleMissingScope, "Sentry refuses this: the token's user %s has no member:admin scope with this token (\"You are missing the member:admin scope.\").", who)
		}
		if w.roleIndex(target) > w.roleIndex(caller) {
			return refuse(RuleSuperior, "Sentry refuses this: %s is %s, above the token's user %s (%s): \"You cannot remove a member who has more access than you.\" Use an owner's token.", target.Email, target.OrgRole, who, caller.OrgRole)
		}
	case ChangeTeamAdd:
		if target == nil || slices.ContainsFunc(target.Teams, func(ms Membership) bool { return ms.Team == c.Team }) {
			return nil
		}
		// _can_create_team_member: global access (open membership or a
		// global role) or can_admin_team; otherwise Sentry files an
		// access request (202).
		if w.s.Org.OpenMembership || w.global(caller) || w.canAdminTeamNew(cf, caller, c.Team) {
			return nil
		}
		return refuse(RuleTeamRights, "Sentry would not add %s to %s: the token's user %s has no access to every team (open membership is off and %s is no owner or manager) and is no Team Admin of %s, so Sentry files an access request instead.", target.Email, c.Team, who, caller.OrgRole, c.Team)
	case ChangeTeamRemove:
		if target == nil || target.ID == caller.ID {
			return nil // one may leave a team
		}
		// _can_delete: an owner or manager (org:write in the role's own
		// scopes), else can_admin_team.
		if r := w.roleIndex(caller); r >= 0 && slices.Contains(w.orgRoles[r].Scopes, "org:write") {
			return nil
		}
		if w.canAdminTeamNew(cf, caller, c.Team) {
			return nil
		}
		return refuse(RuleTeamRights, "Sentry refuses this: the token's user %s may remove others from %s only as its Team Admin, an owner or a manager (\"You do not have permission to edit that user's membership.\").", who, c.Team)
	case ChangeTeamRole:
		if target == nil {
			return nil
		}
		return w.teamRoleCheck(c, cf, caller, target, refuse, warn)
	case ChangeMemberInvite:
		// get_allowed_org_roles with member:admin; a member with
		// member:invite invites as member only, while member invites are
		// allowed (organization_member_index.py).
		role := c.Role
		if role == "" {
			role = RoleMember
		}
		if w.orgScope(cf, caller, "member:admin") {
			if r, err := w.orgRole(role); err == nil && r > w.roleIndex(caller) {
				return refuse(RuleAssignRole, "Sentry refuses this: the token's user %s is %s and may invite only with the roles at or below %s, not %s.", who, caller.OrgRole, caller.OrgRole, role)
			}
			return nil
		}
		if w.orgScope(cf, caller, "member:invite") && w.s.Org.AllowMemberInvite && role == RoleMember {
			return nil
		}
		return refuse(RuleMissingScope, "Sentry refuses this: the token's user %s (%s) may not invite with the role %s (it needs member:admin, or member:invite with member invites allowed for the member role).", who, caller.OrgRole, role)
	case ChangeTeamCreate:
		if !w.orgScope(cf, caller, "org:write") && !w.orgScope(cf, caller, "org:admin") && !w.orgScope(cf, caller, "team:write") {
			return refuse(RuleMissingScope, "Sentry refuses this: creating a team needs org:write, org:admin or team:write, which the token's user %s (%s) does not hold with this token.", who, caller.OrgRole)
		}
	case ChangeTeamDelete, ChangeProjectLink, ChangeProjectUnlink:
		if !w.global(caller) {
			return warn(RuleCallerUnknown, "Not checked: Sentry checks the token's user %s (%s) for team:admin on the team (deleting it) or project:write on the project (linking or unlinking it), through its team roles too.", who, caller.OrgRole)
		}
	}
	return nil
}

// canAdminTeamNew is can_admin_team as the newest Sentry read has it: a
// member of the team holding team:write there, or org:write or
// member:write (organization_member_utils.py).
func (w *workspace) canAdminTeamNew(cf callerFacts, m *Member, team string) bool {
	if w.teamRoleOf(m, team) < 0 {
		return false
	}
	return w.teamScope(cf, m, team, "team:write") || w.orgScope(cf, m, "org:write") || w.orgScope(cf, m, "member:write")
}

// canAdminTeamOld is can_admin_team as older versions have it: org:write,
// or membership of the team with team:write there.
func (w *workspace) canAdminTeamOld(cf callerFacts, m *Member, team string) bool {
	if w.orgScope(cf, m, "org:write") {
		return true
	}
	return w.teamRoleOf(m, team) >= 0 && w.teamScope(cf, m, team, "team:write")
}

// teamRoleCheck is PUT member-team with a teamRole. Sentry needs the
// caller to be able to set both the old and the new role
// (can_set_team_role). The newest version allows it when can_admin_team
// holds, or the caller's org role's minimum team role, or its team role
// there, is at least the role; older versions need can_admin_team and one
// of the other two. Refused when both refuse; a warning when they differ.
func (w *workspace) teamRoleCheck(c Change, cf callerFacts, caller, target *Member, refuse, warn func(Rule, string, ...any) []Violation) []Violation {
	newRole, err := w.teamRole(c.Role)
	if err != nil {
		return nil
	}
	oldRole := w.teamRoleOf(target, c.Team)
	if oldRole < 0 {
		return nil // not on the team: Apply reports it
	}
	manages := func(r int) bool {
		return w.minTeamRole(caller) >= r || w.teamRoleOf(caller, c.Team) >= r
	}
	adminNew, adminOld := w.canAdminTeamNew(cf, caller, c.Team), w.canAdminTeamOld(cf, caller, c.Team)
	newOK := (adminNew || manages(newRole)) && (adminNew || manages(oldRole))
	oldOK := adminOld && manages(newRole)
	who := cf.name()
	switch {
	case !newOK && !oldOK:
		return refuse(RuleTeamRights, "Sentry refuses this: the token's user %s (%s) is no Team Admin of %s and holds no org:write, so it may not set team roles there (\"You do not have permission to edit that user's membership.\").", who, caller.OrgRole, c.Team)
	case newOK != oldOK:
		return warn(RuleVersion, "Depends on the Sentry version: the newest Sentry lets the token's user %s (%s) set this team role on %s, older versions refuse it (\"You do not have permission to edit that user's membership.\").", who, caller.OrgRole, c.Team)
	}
	return nil
}

// integrationCheck is what Sentry answers an internal integration's token:
// its proxy user is no member and holds no org role.
func (w *workspace) integrationCheck(c Change, cf callerFacts, refuse, warn func(Rule, string, ...any) []Violation) []Violation {
	app := cf.id.Integration
	if app == "" {
		app = "an internal integration"
	}
	switch c.Kind {
	case ChangeOrgRole:
		return refuse(RuleTokenKind, "Sentry refuses this: the configured token is %s's, and only a user auth token may change org roles (an integration may give no role). Configure a user auth token of an owner or manager.", app)
	case ChangeMemberRemove:
		return refuse(RuleTokenKind, "Sentry refuses this: an integration token cannot remove members (Sentry finds no member behind %s's token and answers \"You cannot remove a member who has more access than you.\"). Configure a user auth token of an owner or manager.", app)
	case ChangeMemberInvite:
		if c.Role != "" && c.Role != RoleMember {
			return refuse(RuleTokenKind, "Sentry refuses this: integration tokens may invite only with the member role (\"Integration tokens are restricted to inviting new members with the member role only.\"). Invite as member, or configure a user auth token of an owner or manager.")
		}
	case ChangeTeamAdd:
		// Closed membership: integration tokens need org:write or
		// team:write (_can_create_team_member).
		if !w.s.Org.OpenMembership && !slices.Contains(cf.id.TokenScopes, "org:write") && !slices.Contains(cf.id.TokenScopes, "team:write") && len(cf.id.TokenScopes) > 0 {
			return refuse(RuleMissingScope, "Sentry would not add the member: under closed membership %s's token needs org:write or team:write, and Sentry files an access request instead.", app)
		}
	case ChangeTeamRole, ChangeTeamRemove:
		return warn(RuleVersion, "Depends on the Sentry version: older versions refuse team role changes and removals from a team by an integration's token (it has no team role), the newest allows them with team:write, org:write or member:write. A user auth token of an owner or manager works in every version.")
	}
	return nil
}

// callerSentence says who Sentry acts as, for the top of a preview.
func callerSentence(id ActingIdentity) string {
	switch id.Kind {
	case CallerUser:
		who := id.Email
		if who == "" {
			who = id.Username
		}
		if id.OrgRole != "" {
			return fmt.Sprintf("Sentry will act as %s (the owner of the configured token, %s).", who, id.OrgRole)
		}
		return fmt.Sprintf("Sentry will act as %s (the owner of the configured token).", who)
	case CallerIntegration:
		if id.Integration != "" {
			return fmt.Sprintf("Sentry will act as the internal integration %s (the configured token is its token).", id.Integration)
		}
		return "Sentry will act as an internal integration (the configured token is an integration's)."
	case CallerOrgToken:
		return "Sentry will act as an organization auth token (org:ci only)."
	}
	return "Who Sentry will act as is not known: " + strings.TrimSuffix(CallerUnknownReason(id), ".") + "."
}

// CallerSentence says who Sentry acts as when sentry-access calls it with
// the configured token, as previews open with it ("Sentry will act as
// olivia@acme.test (the owner of the configured token, owner).").
func CallerSentence(id ActingIdentity) string { return callerSentence(id) }
