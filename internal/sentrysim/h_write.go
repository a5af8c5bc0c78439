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

// inviteBody is the body of POST members and PUT member.
type inviteBody struct {
	Email      string                  `json:"email"`
	OrgRole    string                  `json:"orgRole"`
	Role       string                  `json:"role"`
	TeamRoles  []sentry.MemberTeamRole `json:"teamRoles"`
	Teams      []string                `json:"teams"`
	SendInvite *bool                   `json:"sendInvite"`
	Reinvite   bool                    `json:"reinvite"`
	Regenerate bool                    `json:"regenerate"`
}

type teamAssignment struct {
	team *team
	role *string
}

// teamAssignments validates teamRoles (or the deprecated teams) and returns
// them; ok is false after a 400 has been written. present reports whether
// either key was sent.
func (c *call) teamAssignments(raw map[string]json.RawMessage, b inviteBody, orgRole string) (out []teamAssignment, present, ok bool) {
	st := c.st()
	_, hasTR := raw["teamRoles"]
	_, hasT := raw["teams"]
	if !hasTR && !hasT {
		return nil, false, true
	}
	list := b.TeamRoles
	if !hasTR {
		for _, slug := range b.Teams {
			list = append(list, sentry.MemberTeamRole{TeamSlug: slug})
		}
	}
	r, _ := st.roles.orgRole(orgRole)
	if len(list) > 0 && !r.teamRolesAllowed {
		c.detail(http.StatusBadRequest, fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", orgRole))
		return nil, true, false
	}
	for _, tr := range list {
		t := st.teamBySlug[tr.TeamSlug]
		if t == nil {
			c.json(http.StatusBadRequest, map[string]any{"teams": "Invalid team"})
			return nil, true, false
		}
		role := tr.Role
		if role != nil && *role == "" {
			role = nil
		}
		if role != nil {
			if _, valid := st.roles.teamRole(*role); !valid {
				c.json(http.StatusBadRequest, map[string]any{"teamRoles": []string{"Invalid team-role"}})
				return nil, true, false
			}
		}
		if !st.hasFeature("team-roles") {
			role = nil
		}
		out = append(out, teamAssignment{team: t, role: st.normalizeTeamRole(orgRole, role)})
	}
	return out, true, true
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

func readRaw(c *call, v any) (map[string]json.RawMessage, bool) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(c.r.Body).Decode(&raw); err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return nil, false
	}
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, v); err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return nil, false
	}
	return raw, true
}

// inviteMember is POST /organizations/{org}/members/
// (src/sentry/api/endpoints/organization_member/index.py).
func (s *Server) inviteMember(c *call) {
	st := s.st
	var b inviteBody
	raw, ok := readRaw(c, &b)
	if !ok {
		return
	}
	if !st.hasFeature("invite-members") {
		c.json(http.StatusForbidden, map[string]any{"organization": "Your organization is not allowed to invite members"})
		return
	}
	isAdmin := slices.Contains(c.p.scopes, "member:admin")
	if !st.org.allowMemberInvite && !isAdmin {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	if strings.TrimSpace(b.Email) == "" {
		c.json(http.StatusBadRequest, map[string]any{"email": []string{"This field is required."}})
		return
	}
	role := b.OrgRole
	if role == "" {
		role = b.Role
	}
	if role == "" {
		role = st.org.defaultRole
	}
	r, known := st.roles.orgRole(role)
	if !known || (role == "billing" && !st.hasFeature("invite-billing")) {
		c.json(http.StatusBadRequest, map[string]any{"orgRole": []string{fmt.Sprintf("%q is not a valid choice.", role)}})
		return
	}
	if c.p.kind == kindIntegration && role != "member" {
		c.json(http.StatusBadRequest, map[string]any{"orgRole": []string{"Integration tokens are restricted to inviting new members with the member role only."}})
		return
	}
	if r.retired && st.hasFeature("team-roles") {
		c.json(http.StatusBadRequest, map[string]any{"orgRole": []string{"The role 'admin' is deprecated and may no longer be assigned."}})
		return
	}
	if c.p.kind == kindUser {
		limit := 1 // without member:admin only the member role
		if isAdmin {
			limit = st.callerPriority(c.p)
		}
		if r.priority > limit {
			c.json(http.StatusBadRequest, map[string]any{"orgRole": []string{"You do not have permission to set that org-level role"}})
			return
		}
	}
	if st.memberByEmail[strings.ToLower(b.Email)] != nil {
		c.json(http.StatusBadRequest, map[string]any{"email": []string{fmt.Sprintf("The user %s is already a member", b.Email)}})
		return
	}
	assignments, _, ok := c.teamAssignments(raw, b, role)
	if !ok {
		return
	}
	if c.p.kind == kindUser && !isAdmin && !st.org.openMembership {
		for _, a := range assignments {
			if _, on := c.p.member.teams[a.team.id]; !on {
				c.detail(http.StatusForbidden, msgForbidden)
				return
			}
		}
	}
	m := &member{id: st.newID(), email: b.Email, name: b.Email, role: role, inviteStatus: "approved",
		flags: map[string]bool{}, dateCreated: s.now(), teams: map[int64]*string{}}
	if c.p.isMemberUser() {
		m.inviterID = c.p.member.id
	}
	st.members[m.id] = m
	st.memberByEmail[strings.ToLower(m.email)] = m
	for _, a := range assignments {
		st.addToTeam(m, a.team, a.role)
	}
	c.record("member.invite", m.id, nil, "invited member "+m.email, map[string]any{"email": m.email, "role": role})
	c.json(http.StatusCreated, st.apiMember(m))
}

// putMember is PUT /organizations/{org}/members/{member}/
// (src/sentry/api/endpoints/organization_member/details.py).
func (s *Server) putMember(c *call) {
	st := s.st
	m := c.approvedMember()
	if m == nil {
		return
	}
	var b inviteBody
	raw, ok := readRaw(c, &b)
	if !ok {
		return
	}
	_, hasOrgRole := raw["orgRole"]
	_, hasRole := raw["role"]
	_, hasTR := raw["teamRoles"]
	_, hasTeams := raw["teams"]
	edits := hasOrgRole || hasRole || hasTR || hasTeams
	// A caller without both member:invite and member:admin is treated as a
	// plain member: it may only resend invites it sent.
	isMemberAdmin := slices.Contains(c.p.scopes, "member:invite") && slices.Contains(c.p.scopes, "member:admin")
	if b.Reinvite {
		if edits {
			c.detail(http.StatusForbidden, msgForbidden)
			return
		}
		if !isMemberAdmin && (!c.p.isMemberUser() || m.inviterID != c.p.member.id) {
			c.detail(http.StatusForbidden, "You cannot modify invitations sent by someone else.")
			return
		}
		if m.user != nil {
			c.detail(http.StatusBadRequest, "You cannot resend an invitation to an accepted member.")
			return
		}
		if m.expired && !b.Regenerate {
			c.detail(http.StatusBadRequest, "You cannot resend an expired invitation without regenerating the token.")
			return
		}
		if b.Regenerate {
			if !isMemberAdmin {
				c.detail(http.StatusBadRequest, "You are missing the member:admin scope.")
				return
			}
			m.expired = false
		}
		c.record("member.reinvite", m.id, m, "resent an invite to "+m.email, map[string]any{"email": m.email})
		c.json(http.StatusOK, st.apiMemberDetail(c.p, m))
		return
	}
	if !isMemberAdmin {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	if m.flags["partnership:restricted"] {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	newRole := m.role
	if hasOrgRole || hasRole {
		role := b.OrgRole
		if role == "" {
			role = b.Role
		}
		r, known := st.roles.orgRole(role)
		if !known {
			c.json(http.StatusBadRequest, map[string]any{"orgRole": []string{fmt.Sprintf("%q is not a valid choice.", role)}})
			return
		}
		if role != m.role {
			if !c.p.isMemberUser() {
				c.json(http.StatusForbidden, map[string]any{"role": "You do not have permission to assign the given role."})
				return
			}
			if c.p.member.id == m.id {
				c.detail(http.StatusBadRequest, "You cannot make changes to your own role.")
				return
			}
			if r.retired && st.hasFeature("team-roles") {
				c.detail(http.StatusBadRequest, "The role 'admin' is deprecated and may no longer be assigned.")
				return
			}
			callerPrio := st.callerPriority(c.p)
			cur, _ := st.roles.orgRole(m.role)
			if cur.priority > callerPrio {
				c.json(http.StatusForbidden, map[string]any{"role": "You do not have permission to assign a role to the given user."})
				return
			}
			if r.priority > callerPrio {
				c.json(http.StatusForbidden, map[string]any{"role": "You do not have permission to assign the given role."})
				return
			}
			newRole = role
		}
	}
	assignments, present, ok := c.teamAssignments(raw, b, newRole)
	if !ok {
		return
	}
	if !present && newRole != m.role {
		if r, _ := st.roles.orgRole(newRole); !r.teamRolesAllowed && len(m.teams) > 0 {
			c.detail(http.StatusBadRequest, fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", newRole))
			return
		}
	}
	data := map[string]any{"email": m.email, "role": newRole}
	if newRole != m.role {
		m.role = newRole
		// Team roles at or below the new minimum are reset to null.
		for tid, stored := range m.teams {
			m.teams[tid] = st.normalizeTeamRole(newRole, stored)
		}
	}
	if present {
		// teamRoles replaces the member's entire team set
		// (save_team_assignments in organization_member/__init__.py).
		for tid := range m.teams {
			st.removeFromTeam(m, st.teams[tid])
		}
		var slugs []string
		for _, a := range assignments {
			st.addToTeam(m, a.team, a.role)
			slugs = append(slugs, a.team.slug)
		}
		data["teams"] = slugs
	}
	c.record("member.edit", m.id, m, "edited member "+m.email, data)
	c.json(http.StatusOK, st.apiMemberDetail(c.p, m))
}

// deleteMember is DELETE /organizations/{org}/members/{member}/.
func (s *Server) deleteMember(c *call) {
	st := s.st
	m := c.approvedMember()
	if m == nil {
		return
	}
	self := c.p.isMemberUser() && c.p.member.id == m.id
	if !self {
		if !slices.Contains(c.p.scopes, "member:admin") {
			c.detail(http.StatusBadRequest, "You are missing the member:admin scope.")
			return
		}
		if c.p.isMemberUser() {
			r, _ := st.roles.orgRole(m.role)
			if r.priority > st.callerPriority(c.p) {
				c.detail(http.StatusBadRequest, "You cannot remove a member who has more access than you.")
				return
			}
		}
	}
	if m.flags["idp:provisioned"] {
		c.detail(http.StatusForbidden, "This user is managed through your organization's identity provider.")
		return
	}
	if m.role == "owner" && m.user != nil && st.ownerCount() <= 1 {
		c.detail(http.StatusForbidden, "You cannot remove the only remaining owner of the organization.")
		return
	}
	st.deleteMember(m)
	c.record("member.remove", m.id, nil, "removed member "+m.email, map[string]any{"email": m.email, "role": m.role})
	c.noContent()
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

// canAddToTeam is the member-team POST rule: org:write, joining oneself
// under open membership, or team admin rights on the team; integration
// tokens need open membership or org:write/team:write.
func (st *state) canAddToTeam(p *principal, m *member, t *team) bool {
	if slices.Contains(p.scopes, "org:write") {
		return true
	}
	if p.kind != kindUser {
		return st.org.openMembership || slices.Contains(p.scopes, "team:write")
	}
	if st.org.openMembership && p.member.id == m.id {
		return true
	}
	return st.hasTeamScope(p, t, "team:write")
}

// joinTeam is POST /organizations/{org}/members/{member}/teams/{team}/:
// 204 when already a member, 202 and an access request when the caller may
// not add, 201 otherwise.
func (s *Server) joinTeam(c *call) {
	st := s.st
	m, t, ok := c.teamMember()
	if !ok {
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
	// A role with isTeamRolesAllowed off (billing) cannot be put on a team
	// (OrganizationMemberTeamDetailsEndpoint.post; Sentry's
	// test_cannot_add_to_team_when_team_roles_disabled; docs/sentry-access-model.md#members).
	if r, _ := st.roles.orgRole(m.role); !r.teamRolesAllowed {
		c.detail(http.StatusForbidden, fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", m.role))
		return
	}
	if !st.canAddToTeam(c.p, m, t) {
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

// putTeamRole is PUT /organizations/{org}/members/{member}/teams/{team}/.
func (s *Server) putTeamRole(c *call) {
	st := s.st
	m, t, ok := c.teamMember()
	if !ok {
		return
	}
	var b struct {
		TeamRole string `json:"teamRole"`
	}
	if !c.decode(&b) {
		return
	}
	if _, on := m.teams[t.id]; !on {
		c.detail(http.StatusNotFound, msgNotFound)
		return
	}
	newRole, known := st.roles.teamRole(b.TeamRole)
	if !known {
		c.json(http.StatusBadRequest, map[string]any{"teamRole": []string{fmt.Sprintf("%q is not a valid choice.", b.TeamRole)}})
		return
	}
	if !st.canSetTeamRole(c.p, t, newRole) {
		c.detail(http.StatusBadRequest, "You do not have permission to edit that user's membership.")
		return
	}
	if st.hasFeature("team-roles") {
		m.teams[t.id] = st.normalizeTeamRole(m.role, &newRole.id)
		c.record("member.edit", m.id, m, fmt.Sprintf("changed %s's role on team %s to %s", m.email, t.slug, newRole.id),
			map[string]any{"email": m.email, "team_slug": t.slug, "teamRole": newRole.id})
	}
	c.json(http.StatusOK, map[string]any{"isActive": true, "teamRole": m.teams[t.id]})
}

// canSetTeamRole is _can_set_team_role: global org roles, team admins
// (can_admin_team), an org role whose minimum team role reaches the new role,
// or the caller's own role on the team reaching it.
func (st *state) canSetTeamRole(p *principal, t *team, newRole teamRoleDef) bool {
	if p.kind != kindUser {
		return hasAny(p.scopes, "org:write", "team:write", "team:admin")
	}
	r, _ := st.roles.orgRole(p.member.role)
	stored, onTeam := p.member.teams[t.id]
	if r.global || slices.Contains(p.scopes, "org:write") || (onTeam && st.hasTeamScope(p, t, "team:write")) {
		return true
	}
	if minRole, _ := st.roles.teamRole(r.minimumTeamRole); minRole.priority >= newRole.priority {
		return true
	}
	if onTeam {
		eff, _ := st.roles.teamRole(st.effectiveTeamRole(p.member, stored))
		return eff.priority >= newRole.priority
	}
	return false
}

// leaveTeam is DELETE /organizations/{org}/members/{member}/teams/{team}/.
func (s *Server) leaveTeam(c *call) {
	st := s.st
	m, t, ok := c.teamMember()
	if !ok {
		return
	}
	if t.idpProvisioned {
		c.detail(http.StatusForbidden, msgIDPTeam)
		return
	}
	self := c.p.isMemberUser() && c.p.member.id == m.id
	if !self && !slices.Contains(c.p.scopes, "org:write") && !st.hasTeamScope(c.p, t, "team:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
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
// the creating member becomes Team Admin.
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
		c.json(http.StatusBadRequest, map[string]any{"non_field_errors": []string{"A name or slug is required."}})
		return
	}
	if !slugPattern.MatchString(slug) || strings.Trim(slug, "0123456789") == "" {
		c.json(http.StatusBadRequest, map[string]any{"slug": []string{"Enter a valid slug consisting of lowercase letters, numbers, underscores or hyphens. It cannot be entirely numeric."}})
		return
	}
	if st.teamBySlug[slug] != nil {
		c.json(http.StatusConflict, map[string]any{"non_field_errors": []string{msgTeamExists}, "detail": msgTeamExists})
		return
	}
	t := st.newTeam(slug, b.Name, false)
	if c.p.isMemberUser() {
		admin := "admin"
		st.addToTeam(c.p.member, t, st.normalizeTeamRole(c.p.member.role, &admin))
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
// the team).
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
	st.deleteTeam(t)
	c.record("team.remove", t.id, nil, "removed team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
	c.noContent()
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
	t := c.pathTeam()
	if t == nil {
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
	var b struct {
		IsApproved *bool `json:"isApproved"`
	}
	if !c.decode(&b) {
		return
	}
	if b.IsApproved == nil {
		c.json(http.StatusBadRequest, map[string]any{"isApproved": []string{"This field is required."}})
		return
	}
	t, m := st.teams[ar.teamID], st.members[ar.memberID]
	if !hasAny(c.p.scopes, "org:write", "org:admin", "member:write", "member:admin") &&
		!st.hasTeamScope(c.p, t, "team:write") && !st.hasTeamScope(c.p, t, "team:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
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
	if strings.TrimSpace(b.Name) == "" {
		c.detail(http.StatusBadRequest, []string{"The name cannot be blank."})
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
