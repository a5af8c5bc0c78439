package sentrysim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// record appends an audit entry by the caller, as Sentry's
// create_audit_entry does (src/sentry/utils/audit.py).
func (c *call) record(event string, target int64, targetUser *member, note string, data map[string]any) {
	st := c.st()
	uid, label := c.p.actor()
	raw, err := json.Marshal(data)
	if err != nil {
		raw = []byte("{}")
	}
	e := &auditEntry{id: st.newID(), actorUserID: uid, actorLabel: label, event: event, note: note, data: raw,
		ipAddress: ipOf(c.r), dateCreated: c.s.now()}
	if target != 0 {
		e.targetObject = &target
	}
	if targetUser != nil && targetUser.user != nil {
		e.targetUserID = targetUser.user.id
	}
	st.audit = append(st.audit, e)
}

func ipOf(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndex(host, ":"); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// putOrg updates the org settings that change access.
func (s *Server) putOrg(c *call) {
	var body sentry.OrganizationUpdate
	if !c.decode(&body) {
		return
	}
	o := &s.st.org
	changes := map[string]any{}
	set := func(name string, dst *bool, v *bool) {
		if v != nil && *dst != *v {
			*dst = *v
			changes[name] = *v
		}
	}
	set("openMembership", &o.openMembership, body.OpenMembership)
	set("allowMemberProjectCreation", &o.allowMemberProjectCreation, body.AllowMemberProjectCreation)
	set("allowMemberInvite", &o.allowMemberInvite, body.AllowMemberInvite)
	set("eventsMemberAdmin", &o.eventsMemberAdmin, body.EventsMemberAdmin)
	set("alertsMemberWrite", &o.alertsMemberWrite, body.AlertsMemberWrite)
	set("require2FA", &o.require2FA, body.Require2FA)
	set("allowJoinRequests", &o.allowJoinRequests, body.AllowJoinRequests)
	if len(changes) > 0 {
		c.record("org.edit", o.id, nil, "edited the organization setting(s)", changes)
	}
	// Scopes may depend on the settings just changed.
	c.json(http.StatusOK, s.orgBody(c))
}

// normalizeTeamRole stores null for a team role at or below the minimum
// team role of the org role (src/sentry/api/endpoints/organization_member/team_details.py).
func (st *state) normalizeTeamRole(orgRole string, role *string) *string {
	if role == nil {
		return nil
	}
	r, _ := st.roles.teamRole(*role)
	minRole, _ := st.roles.teamRole(st.minimumTeamRole(orgRole))
	if r.priority <= minRole.priority {
		return nil
	}
	v := *role
	return &v
}

func (c *call) teamMember() (*member, *team, bool) {
	m := c.approvedMember()
	if m == nil {
		return nil, nil, false
	}
	t := c.pathTeam()
	if t == nil {
		return nil, nil, false
	}
	return m, t, true
}

const msgIDPTeam = "This team is managed through your organization's identity provider."

// errTeamMembership is ERR_INSUFFICIENT_ROLE of
// organization_member_team_details.py.
const errTeamMembership = "You do not have permission to edit that user's membership."

// hasTeamMembership is has_team_membership: a user on the team; an
// integration acts as a member of every team (OrganizationGlobalMembership).
func (st *state) hasTeamMembership(p *principal, t *team) bool {
	switch p.kind {
	case kindUser:
		_, on := p.member.teams[t.id]
		return on
	case kindIntegration, kindSCIM:
		return true
	}
	return false
}

// canAdminTeam is can_admin_team (organization_member_utils.py): team
// membership and team:write on the team, or org:write or member:write.
func (st *state) canAdminTeam(p *principal, t *team) bool {
	return st.hasTeamMembership(p, t) &&
		(st.hasTeamScope(p, t, "team:write") || hasAny(p.scopes, "org:write", "member:write"))
}

// canAddToTeam is _can_create_team_member: an integration token under
// closed membership needs org:write or team:write; anyone else needs global
// access (open membership or a global org role) or can_admin_team.
func (st *state) canAddToTeam(p *principal, t *team) bool {
	if (p.kind == kindIntegration || p.kind == kindSCIM) && !st.org.openMembership {
		return hasAny(p.scopes, "org:write", "team:write")
	}
	return st.hasGlobalAccess(p) || st.canAdminTeam(p, t)
}

// joinTeam is POST /organizations/{org}/members/{member}/teams/{team}/
// (organization_member_team_details.py, post): 204 when already a member,
// 202 and an access request when the caller may not add, 201 otherwise.
func (s *Server) joinTeam(c *call) {
	st := s.st
	m, t, ok := c.teamMember()
	if !ok {
		return
	}
	if c.p.kind == kindOrgToken {
		c.w.WriteHeader(http.StatusUnauthorized) // no request.user
		return
	}
	// A role with isTeamRolesAllowed off (billing) cannot be put on a team
	// (Sentry's test_cannot_add_to_team_when_team_roles_disabled).
	if r, _ := st.roles.orgRole(m.role); !r.teamRolesAllowed {
		c.detail(http.StatusForbidden, fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", m.role))
		return
	}
	if _, on := m.teams[t.id]; on {
		c.noContent()
		return
	}
	if t.idpProvisioned {
		c.detail(http.StatusForbidden, msgIDPTeam)
		return
	}
	if !st.canAddToTeam(c.p, t) {
		if !st.hasPendingRequest(m, t) {
			ar := &accessRequest{id: st.newID(), memberID: m.id, teamID: t.id}
			if c.p.isMemberUser() && c.p.member.id != m.id {
				ar.requesterID = c.p.member.user.id
			}
			st.accessRequests[ar.id] = ar
		}
		c.w.WriteHeader(http.StatusAccepted)
		return
	}
	st.addToTeam(m, t, nil)
	c.record("member.join-team", m.id, m, fmt.Sprintf("joined team %s", t.slug), map[string]any{"team_slug": t.slug, "email": m.email})
	c.json(http.StatusCreated, st.apiTeam(c.p, t, false))
}

// getTeamMembership is GET /organizations/{org}/members/{member}/teams/{team}/:
// the membership with its stored team role, 404 off the team.
func (s *Server) getTeamMembership(c *call) {
	m, t, ok := c.teamMember()
	if !ok {
		return
	}
	stored, on := m.teams[t.id]
	if !on {
		c.detail(http.StatusNotFound, msgNotFound)
		return
	}
	c.json(http.StatusOK, map[string]any{"isActive": true, "teamRole": stored})
}

// putTeamRole is PUT /organizations/{org}/members/{member}/teams/{team}/.
func (s *Server) putTeamRole(c *call) {
	st := s.st
	m, t, ok := c.teamMember()
	if !ok {
		return
	}
	if _, on := m.teams[t.id]; !on {
		c.detail(http.StatusNotFound, msgNotFound)
		return
	}
	var b struct {
		TeamRole *string `json:"teamRole"`
	}
	if !c.decode(&b) {
		return
	}
	if b.TeamRole != nil && st.hasFeature("team-roles") {
		newRole, known := st.roles.teamRole(*b.TeamRole)
		if !known {
			c.json(http.StatusBadRequest, map[string]any{"teamRole": []string{fmt.Sprintf("\"%s\" is not a valid choice.", *b.TeamRole)}})
			return
		}
		// The caller must be allowed to set both the new role and the
		// member's current (effective) one, so nobody demotes a role above
		// their own (Sentry's VULN-734 test).
		old, _ := st.roles.teamRole(st.effectiveTeamRole(m, m.teams[t.id]))
		if !st.canSetTeamRole(c.p, t, newRole) || !st.canSetTeamRole(c.p, t, old) {
			c.detail(http.StatusBadRequest, errTeamMembership)
			return
		}
		m.teams[t.id] = st.normalizeTeamRole(m.role, &newRole.id)
		c.record("member.edit", m.id, m, fmt.Sprintf("changed %s's role on team %s to %s", m.email, t.slug, newRole.id),
			map[string]any{"email": m.email, "team_slug": t.slug, "teamRole": newRole.id})
	}
	c.json(http.StatusOK, map[string]any{"isActive": true, "teamRole": m.teams[t.id]})
}

// canSetTeamRole is can_set_team_role (organization_member_utils.py):
// can_admin_team, an org role whose minimum team role reaches the role, or
// the caller's own (effective) role on the team reaching it.
func (st *state) canSetTeamRole(p *principal, t *team, role teamRoleDef) bool {
	if st.canAdminTeam(p, t) {
		return true
	}
	if !p.isMemberUser() {
		return false
	}
	if minRole, _ := st.roles.teamRole(st.minimumTeamRole(p.member.role)); minRole.priority >= role.priority {
		return true
	}
	if stored, on := p.member.teams[t.id]; on {
		eff, _ := st.roles.teamRole(st.effectiveTeamRole(p.member, stored))
		return eff.priority >= role.priority
	}
	return false
}

// canRemoveFromTeam is _can_delete: oneself, an owner or manager (a role
// with org:write), or can_admin_team.
func (st *state) canRemoveFromTeam(p *principal, m *member, t *team) bool {
	if p.kind == kindOrgToken {
		return false
	}
	if p.isMemberUser() {
		if p.member.id == m.id {
			return true
		}
		if r, _ := st.roles.orgRole(p.member.role); slices.Contains(r.scopes, "org:write") {
			return true
		}
	}
	return st.canAdminTeam(p, t)
}

// leaveTeam is DELETE /organizations/{org}/members/{member}/teams/{team}/:
// a refusal is 400, an IdP-provisioned team 403.
func (s *Server) leaveTeam(c *call) {
	st := s.st
	m, t, ok := c.teamMember()
	if !ok {
		return
	}
	if !st.canRemoveFromTeam(c.p, m, t) {
		c.detail(http.StatusBadRequest, errTeamMembership)
		return
	}
	if t.idpProvisioned {
		c.detail(http.StatusForbidden, msgIDPTeam)
		return
	}
	if _, on := m.teams[t.id]; on {
		st.removeFromTeam(m, t)
		c.record("member.leave-team", m.id, m, fmt.Sprintf("removed %s from team %s", m.email, t.slug),
			map[string]any{"team_slug": t.slug, "email": m.email})
	}
	c.json(http.StatusOK, st.apiTeam(c.p, t, false))
}

var slugPattern = regexp.MustCompile(`^[a-z0-9_\-]+$`)

// slugProblem is SentrySerializerSlugField's message for a slug it refuses
// ("" when the slug is valid).
func slugProblem(slug string) string {
	if slug == "" || !slugPattern.MatchString(slug) || strings.Trim(slug, "0123456789") == "" {
		return "Enter a valid slug consisting of lowercase letters, numbers, underscores or hyphens. It cannot be entirely numeric."
	}
	return ""
}

func slugify(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

const msgTeamExists = "A team with this slug already exists."

// createTeam is POST /organizations/{org}/teams/: 409 on a duplicate slug;
// the creating member joins the team.
func (s *Server) createTeam(c *call) {
	st := s.st
	var b struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	}
	if !c.decode(&b) {
		return
	}
	slug := b.Slug
	if slug == "" {
		slug = slugify(b.Name)
	}
	if slug == "" {
		c.json(http.StatusBadRequest, map[string]any{"non_field_errors": []string{"Name or slug is required"}})
		return
	}
	if msg := slugProblem(slug); msg != "" {
		c.json(http.StatusBadRequest, map[string]any{"slug": []string{msg}})
		return
	}
	if st.teamBySlug[slug] != nil {
		c.json(http.StatusConflict, map[string]any{"non_field_errors": []string{msgTeamExists}, "detail": msgTeamExists})
		return
	}
	t := st.newTeam(slug, b.Name, false)
	// The creating member joins the team with a null team role
	// (organization_teams.py, post).
	if c.p.isMemberUser() {
		st.addToTeam(c.p.member, t, nil)
		c.record("member.join-team", c.p.member.id, c.p.member, "joined team "+t.slug,
			map[string]any{"email": c.p.member.email, "team_slug": t.slug})
	}
	c.record("team.create", t.id, nil, "created team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
	c.json(http.StatusCreated, st.apiTeam(c.p, t, true))
}

func (st *state) newTeam(slug, name string, idp bool) *team {
	if name == "" {
		name = slug
	}
	t := &team{id: st.newID(), slug: slug, name: name, idpProvisioned: idp, members: map[int64]bool{},
		projects: map[int64]bool{}}
	st.teams[t.id] = t
	st.teamBySlug[t.slug] = t
	return t
}

// deleteTeam is DELETE /teams/{org}/{team}/ (team:admin at org level or on
// the team); an IdP-provisioned team only goes through SCIM
// (team_details.py, can_modify_idp_team).
func (s *Server) deleteTeam(c *call) {
	st := s.st
	t := c.pathTeam()
	if t == nil {
		return
	}
	if !slices.Contains(c.p.scopes, "team:admin") && !st.hasTeamScope(c.p, t, "team:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	if t.idpProvisioned {
		c.detail(http.StatusForbidden, msgIDPTeam)
		return
	}
	st.deleteTeam(t)
	c.record("team.remove", t.id, nil, "removed team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
	c.noContent()
}

// putTeam is PUT /teams/{org}/{team}/ (team_details.py, put): name and
// slug, team:write or team:admin on the team, 403 for an IdP-provisioned
// team, 400 {"slug": [...]} for a bad or taken slug.
func (s *Server) putTeam(c *call) {
	st := s.st
	t := c.pathTeam()
	if t == nil {
		return
	}
	if !st.hasTeamScope(c.p, t, "team:write") && !st.hasTeamScope(c.p, t, "team:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	if t.idpProvisioned {
		c.detail(http.StatusForbidden, msgIDPTeam)
		return
	}
	var b struct {
		Name *string `json:"name"`
		Slug *string `json:"slug"`
	}
	if !c.decode(&b) {
		return
	}
	if b.Slug != nil {
		if msg := slugProblem(*b.Slug); msg != "" {
			c.json(http.StatusBadRequest, map[string][]string{"slug": {msg}})
			return
		}
		if other := st.teamBySlug[*b.Slug]; other != nil && other != t {
			c.json(http.StatusBadRequest, map[string][]string{"slug": {fmt.Sprintf("The slug \"%s\" is already in use.", *b.Slug)}})
			return
		}
		delete(st.teamBySlug, t.slug)
		t.slug = *b.Slug
		st.teamBySlug[t.slug] = t
	}
	if b.Name != nil {
		t.name = *b.Name
	}
	c.record("team.edit", t.id, nil, "edited team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
	c.json(http.StatusOK, st.apiTeam(c.p, t, false))
}

func (c *call) projectAndTeam(scopes ...string) (*project, *team, bool) {
	st := c.st()
	pr := c.pathProject()
	if pr == nil {
		return nil, nil, false
	}
	if !st.hasAnyProjectScope(c.p, pr, scopes...) {
		c.detail(http.StatusForbidden, msgForbidden)
		return nil, nil, false
	}
	t := c.st().lookupTeam(c.r.PathValue("team"))
	if t == nil {
		c.detail(http.StatusNotFound, "Team does not exist.")
		return nil, nil, false
	}
	return pr, t, true
}

// linkProjectTeam is POST /projects/{org}/{project}/teams/{team}/.
func (s *Server) linkProjectTeam(c *call) {
	st := s.st
	pr, t, ok := c.projectAndTeam("project:write", "project:admin")
	if !ok {
		return
	}
	st.linkProject(pr, t)
	c.record("project-team.add", pr.id, nil, fmt.Sprintf("added team %s to project %s", t.slug, pr.slug),
		map[string]any{"team_slug": t.slug, "project_slug": pr.slug})
	c.json(http.StatusCreated, st.apiProject(c.p, pr))
}

// unlinkProjectTeam is DELETE /projects/{org}/{project}/teams/{team}/: it
// also needs project:write on the team, else 403 with a list detail
// (src/sentry/api/endpoints/project_team_details.py).
func (s *Server) unlinkProjectTeam(c *call) {
	st := s.st
	pr, t, ok := c.projectAndTeam("project:write", "project:admin")
	if !ok {
		return
	}
	if !st.hasTeamScope(c.p, t, "project:write") {
		c.detail(http.StatusForbidden, []string{msgForbidden})
		return
	}
	st.unlinkProject(pr, t)
	c.record("project-team.remove", pr.id, nil, fmt.Sprintf("removed team %s from project %s", t.slug, pr.slug),
		map[string]any{"team_slug": t.slug, "project_slug": pr.slug})
	c.json(http.StatusOK, st.apiProject(c.p, pr))
}

// putAccessRequest approves or denies a team join request (204 either way).
func (s *Server) putAccessRequest(c *call) {
	st := s.st
	var rid int64
	fmt.Sscan(c.r.PathValue("request"), &rid)
	ar := st.accessRequests[rid]
	if ar == nil {
		c.detail(http.StatusNotFound, msgNotFound)
		return
	}
	// The permission is checked before the body (_can_access), and both
	// refusals have no body (organization_access_request_details.py).
	t, m := st.teams[ar.teamID], st.members[ar.memberID]
	if !hasAny(c.p.scopes, "org:write", "org:admin", "member:write", "member:admin") &&
		!st.hasTeamScope(c.p, t, "team:write") && !st.hasTeamScope(c.p, t, "team:admin") {
		c.w.WriteHeader(http.StatusForbidden)
		return
	}
	var b struct {
		IsApproved *bool `json:"isApproved"`
	}
	if !c.decode(&b) {
		return
	}
	if b.IsApproved == nil {
		c.w.WriteHeader(http.StatusBadRequest)
		return
	}
	delete(st.accessRequests, ar.id)
	if *b.IsApproved {
		if _, on := m.teams[t.id]; !on {
			st.addToTeam(m, t, nil)
			c.record("member.join-team", m.id, m, fmt.Sprintf("approved %s joining team %s", m.email, t.slug),
				map[string]any{"team_slug": t.slug, "email": m.email})
		}
	}
	c.noContent()
}

func newSecret(prefix string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// createOrgToken is POST /organizations/{org}/org-auth-tokens/: scopes are
// always org:ci.
func (s *Server) createOrgToken(c *call) {
	st := s.st
	var b struct {
		Name string `json:"name"`
	}
	if !c.decode(&b) {
		return
	}
	if b.Name == "" {
		c.detail(http.StatusBadRequest, "The name cannot be blank.")
		return
	}
	if len(b.Name) > 255 {
		c.detail(http.StatusBadRequest, "The name cannot be longer than 255 characters.")
		return
	}
	t := &orgToken{id: st.newID(), name: b.Name, token: newSecret("sntrys_"), dateCreated: s.now(), active: true}
	st.orgTokens[t.id] = t
	st.orgTokenByVal[t.token] = t
	c.record("org-auth-token.create", t.id, nil, "created org auth token "+t.name, map[string]any{"name": t.name, "scopes": []string{"org:ci"}})
	out := st.apiOrgToken(t)
	out.Token = t.token
	c.json(http.StatusCreated, out)
}

// deleteOrgToken deactivates an org auth token.
func (s *Server) deleteOrgToken(c *call) {
	st := s.st
	var tid int64
	fmt.Sscan(c.r.PathValue("token"), &tid)
	t := st.orgTokens[tid]
	if t == nil || !t.active {
		c.detail(http.StatusNotFound, msgNotFound)
		return
	}
	t.active = false
	c.record("org-auth-token.remove", t.id, nil, "removed org auth token "+t.name, map[string]any{"name": t.name})
	c.noContent()
}
