package sentrysim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// The member endpoints follow src/sentry/core/endpoints/
// organization_member_index.py (POST), organization_member_details.py (PUT,
// DELETE) and organization_member_utils.py; every rule below is a case of
// internal/testing/conformance (docs/sentry-access-model.md#members).

// Error texts of organization_member_details.py.
const (
	errInsufficientRole  = "You cannot remove a member who has more access than you."
	errInsufficientScope = "You are missing the member:admin scope."
	errMemberInvite      = "You cannot modify invitations sent by someone else."
	errEditWhenReinvite  = "You cannot modify member details when resending an invitation. Separate requests are required."
	errOnlyOrgWrite      = "You cannot remove the only remaining owner or manager of the organization."
	errUninvitable       = "You cannot send an invitation to a user who is already a full member."
	errExpired           = "You cannot resend an expired invitation without regenerating the token."
	errPartnership       = "This member is managed by an active partnership and cannot be modified until the end of the partnership."
	errIDPMember         = "This user is managed through your organization's identity provider."
	errRoleNotAllowed    = "You do not have permission to set that org-level role"
)

// allowedOrgRoles is get_allowed_org_roles: the roles the caller may give
// and take away, those at or below its own role. Without member:admin there
// are none (unless it is inviting), and a caller that is no member (an
// integration's proxy user, an org token) has none.
func (st *state) allowedOrgRoles(p *principal, inviting bool) []orgRoleDef {
	if !inviting && !slices.Contains(p.scopes, "member:admin") {
		return nil
	}
	if !p.isMemberUser() {
		return nil
	}
	own := st.callerPriority(p)
	var out []orgRoleDef
	for _, r := range st.roles.org {
		if r.priority <= own {
			out = append(out, r)
		}
	}
	return out
}

func roleIn(roles []orgRoleDef, id string) bool {
	return slices.ContainsFunc(roles, func(r orgRoleDef) bool { return r.id == id })
}

// memberRequest is OrganizationMemberRequestSerializer's validated data.
// present lists the keys sent (a partial PUT only validates those).
type memberRequest struct {
	present    map[string]bool
	email      string
	role       string // orgRole, else role
	teams      []*team
	teamRoles  []teamAssignment // nil when teamRoles was null or absent
	reinvite   bool
	regenerate bool
	sendInvite bool
}

type teamAssignment struct {
	team *team
	role *string
}

// parseMemberRequest runs the serializer over the body: field errors are
// 400 {field: [msg]}, and a teamRoles entry without "role" or "teamSlug" is
// a 500, as validate_teamRoles reads item["role"] of every entry. ok is
// false once an answer has been written.
// allowRetired is false on invite in orgs with team roles.
func (c *call) parseMemberRequest(partial bool, allowed []orgRoleDef, allowRetired bool) (memberRequest, bool) {
	st := c.st()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(c.r.Body).Decode(&raw); err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return memberRequest{}, false
	}
	req := memberRequest{present: map[string]bool{}, sendInvite: true}
	for k := range raw {
		req.present[k] = true
	}
	errs := map[string][]string{}
	fail := func(field, msg string) { errs[field] = append(errs[field], msg) }
	validRole := func(field string, v json.RawMessage, def string) string {
		role := def
		if v != nil {
			if err := json.Unmarshal(v, &role); err != nil {
				fail(field, "Not a valid string.")
				return ""
			}
		}
		if _, known := st.roles.orgRole(role); !known {
			fail(field, fmt.Sprintf("\"%s\" is not a valid choice.", role))
			return ""
		}
		if role == "billing" && st.hasFeature("invite-billing") {
			return role
		}
		if !roleIn(allowed, role) {
			fail(field, errRoleNotAllowed)
			return ""
		}
		if r, _ := st.roles.orgRole(role); r.retired && !allowRetired {
			fail(field, fmt.Sprintf("The role '%s' is deprecated and may no longer be assigned.", role))
			return ""
		}
		return role
	}
	if v, ok := raw["email"]; ok {
		if err := json.Unmarshal(v, &req.email); err != nil || !strings.Contains(req.email, "@") {
			fail("email", "Enter a valid email address.")
		} else if m := st.memberByEmail[strings.ToLower(req.email)]; m != nil && m.inviteStatus == "approved" {
			if m.user == nil {
				fail("email", fmt.Sprintf("The user %s has already been invited", req.email))
			} else {
				fail("email", fmt.Sprintf("The user %s is already a member", req.email))
			}
		}
	} else if !partial {
		fail("email", "This field is required.")
	}
	var role, orgRole string
	if v, ok := raw["role"]; ok || !partial {
		role = validRole("role", v, st.org.defaultRole)
	}
	if v, ok := raw["orgRole"]; ok || !partial {
		orgRole = validRole("orgRole", v, st.org.defaultRole)
	}
	if req.present["orgRole"] {
		req.role = orgRole
	} else if req.present["role"] {
		req.role = role
	}
	teamsBySlug := func(slugs []string) ([]*team, bool) {
		var out []*team
		for _, slug := range slugs {
			t := st.teamBySlug[slug]
			if t == nil {
				return nil, false
			}
			out = append(out, t)
		}
		return out, true
	}
	if v, ok := raw["teams"]; ok {
		var slugs []string
		if err := json.Unmarshal(v, &slugs); err != nil || slugs == nil {
			fail("teams", "Expected a list of items.")
		} else if ts, valid := teamsBySlug(slugs); !valid {
			fail("teams", "Invalid teams")
		} else {
			req.teams = ts
		}
	}
	if v, ok := raw["teamRoles"]; ok && string(v) != "null" {
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			fail("teamRoles", "Expected a list of items.")
		} else {
			for _, it := range items {
				_, hasRole := it["role"]
				_, hasSlug := it["teamSlug"]
				if !hasRole || !hasSlug {
					c.serverError()
					return memberRequest{}, false
				}
			}
			var parsed []sentry.MemberTeamRole
			_ = json.Unmarshal(v, &parsed)
			var slugs []string
			for _, tr := range parsed {
				if tr.Role != nil {
					if _, valid := st.roles.teamRole(*tr.Role); !valid {
						fail("teamRoles", "Invalid team-role")
						break
					}
				}
				slugs = append(slugs, tr.TeamSlug)
			}
			if len(errs["teamRoles"]) == 0 {
				if _, valid := teamsBySlug(slugs); !valid {
					fail("teamRoles", "Invalid teams")
				} else {
					req.teamRoles = []teamAssignment{}
					for _, tr := range parsed {
						req.teamRoles = append(req.teamRoles, teamAssignment{team: st.teamBySlug[tr.TeamSlug], role: tr.Role})
					}
				}
			}
		}
	}
	for key, dst := range map[string]*bool{"reinvite": &req.reinvite, "regenerate": &req.regenerate, "sendInvite": &req.sendInvite} {
		if v, ok := raw[key]; ok {
			b, valid := drfBool(v)
			if !valid {
				fail(key, "Must be a valid boolean.")
			}
			*dst = b
		}
	}
	if len(errs) > 0 {
		c.json(http.StatusBadRequest, errs)
		return memberRequest{}, false
	}
	return req, true
}

// drfBool reads a DRF BooleanField: true/false, 1/0 and their strings.
func drfBool(v json.RawMessage) (value, ok bool) {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false, false
	}
	switch b := x.(type) {
	case bool:
		return b, true
	case float64:
		return b == 1, b == 0 || b == 1
	case string:
		return boolValue(strings.ToLower(b))
	}
	return false, false
}

// serverError answers Sentry's 500 for an unhandled exception.
func (c *call) serverError() {
	c.json(http.StatusInternalServerError, map[string]any{"detail": "Internal Error", "errorId": fmt.Sprintf("%032x", c.s.st.nextID)})
}

// inviteMember is POST /organizations/{org}/members/.
func (s *Server) inviteMember(c *call) {
	st := s.st
	isAdmin := slices.Contains(c.p.scopes, "member:admin")
	if !st.hasFeature("invite-members") {
		c.json(http.StatusForbidden, map[string]any{"organization": "Your organization is not allowed to invite members"})
		return
	}
	// Unverified: Sentry's member permission class refuses members
	// without member:admin when member invites are off
	// (docs/sentry-access-model.md#members).
	if !st.org.allowMemberInvite && !isAdmin {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	allowed := st.allowedOrgRoles(c.p, true)
	integration := c.p.kind == kindIntegration || c.p.kind == kindSCIM
	body, err := peekBody(c)
	if err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return
	}
	assigned := cmp.Or(stringField(body, "orgRole"), stringField(body, "role"), st.org.defaultRole)
	if len(allowed) == 0 && integration {
		if assigned != "member" {
			c.json(http.StatusBadRequest, []string{"Integration tokens are restricted to inviting new members with the member role only."})
			return
		}
		r, _ := st.roles.orgRole("member")
		allowed = []orgRoleDef{r}
	}
	req, ok := c.parseMemberRequest(false, allowed, !st.hasFeature("team-roles"))
	if !ok {
		return
	}
	var teams []*team
	if len(req.teamRoles) > 0 {
		for _, a := range req.teamRoles {
			teams = append(teams, a.team)
		}
	} else {
		teams = req.teams
	}
	isMember := !isAdmin && slices.Contains(c.p.scopes, "member:invite")
	if isMember && !st.org.openMembership && st.org.allowMemberInvite && len(teams) > 0 {
		for _, t := range teams {
			if _, on := c.p.member.teams[t.id]; !on {
				c.detail(http.StatusBadRequest, "You cannot assign members to teams you are not a member of.")
				return
			}
		}
	}
	if r, _ := st.roles.orgRole(assigned); len(teams) > 0 && !r.teamRolesAllowed {
		c.json(http.StatusBadRequest, map[string]any{"email": fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", assigned)})
		return
	}
	m := &member{id: st.newID(), email: req.email, name: req.email, role: assigned, inviteStatus: "approved",
		flags: map[string]bool{}, dateCreated: s.now(), teams: map[int64]*string{}}
	if c.p.isMemberUser() {
		m.inviterID = c.p.member.id
	}
	st.members[m.id] = m
	st.memberByEmail[strings.ToLower(m.email)] = m
	// Team roles are not set on invite: the teams are joined with null.
	for _, t := range teams {
		st.addToTeam(m, t, nil)
	}
	c.record("member.invite", m.id, nil, "invited member "+m.email, map[string]any{"email": m.email, "role": assigned})
	c.json(http.StatusCreated, st.apiMember(m))
}

// peekBody reads the JSON object body and puts it back for a second read.
func peekBody(c *call) (map[string]any, error) {
	b, err := readAll(c.r)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func stringField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// readAll reads the request body and leaves a copy in its place.
func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// putMember is PUT /organizations/{org}/members/{member}/.
func (s *Server) putMember(c *call) {
	st := s.st
	m := c.approvedMember()
	if m == nil {
		return
	}
	if c.p.kind == kindOrgToken {
		c.w.WriteHeader(http.StatusBadRequest) // no request.user
		return
	}
	allowed := st.allowedOrgRoles(c.p, false)
	req, ok := c.parseMemberRequest(true, allowed, true)
	if !ok {
		return
	}
	if m.flags["partnership:restricted"] {
		c.detail(http.StatusForbidden, errPartnership)
		return
	}
	reinviteOnly := true
	for k := range req.present {
		if k != "reinvite" && k != "regenerate" {
			reinviteOnly = false
		}
	}
	isAdmin := slices.Contains(c.p.scopes, "member:admin")
	if !isAdmin && slices.Contains(c.p.scopes, "member:invite") {
		if !(st.org.allowMemberInvite && m.user == nil && reinviteOnly) {
			c.detail(http.StatusForbidden, msgForbidden)
			return
		}
		if !c.p.isMemberUser() || m.inviterID != c.p.member.id {
			c.detail(http.StatusForbidden, errMemberInvite)
			return
		}
	}
	if req.reinvite {
		if !reinviteOnly {
			c.detail(http.StatusForbidden, errEditWhenReinvite)
			return
		}
		switch {
		case m.user == nil:
			if req.regenerate {
				if !isAdmin {
					c.detail(http.StatusBadRequest, errInsufficientScope)
					return
				}
				m.expired = false
			}
			if m.expired {
				c.detail(http.StatusBadRequest, errExpired)
				return
			}
		case st.authProvider != nil && !m.flags["sso:linked"]:
			// Sentry emails the SSO link.
		default:
			c.detail(http.StatusBadRequest, errUninvitable)
			return
		}
		c.record("member.reinvite", m.id, m, "resent an invite to "+m.email, map[string]any{"email": m.email})
		c.json(http.StatusOK, st.apiMemberDetail(c.p, m))
		return
	}

	// Team assignments come first, before any org-role check: a refused
	// role change still leaves the new team set (and without teamRoles or
	// teams the member leaves every team: save_team_assignments(member, None)).
	assignments := req.teamRoles
	if req.present["teamRoles"] {
		if !st.hasFeature("team-roles") {
			for i := range assignments {
				assignments[i].role = nil
			}
		}
	} else if req.present["teams"] {
		for _, t := range req.teams {
			assignments = append(assignments, teamAssignment{team: t})
		}
	}
	newRole := cmp.Or(req.role, m.role)
	if len(assignments) > 0 || (!req.present["teamRoles"] && !req.present["teams"] && len(m.teams) > 0) {
		if r, _ := st.roles.orgRole(newRole); !r.teamRolesAllowed {
			c.detail(http.StatusBadRequest, fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", newRole))
			return
		}
	}
	st.saveTeamAssignments(c, m, assignments)

	if req.role != "" && req.role != m.role {
		if !roleIn(allowed, req.role) {
			c.json(http.StatusForbidden, map[string]any{"role": "You do not have permission to assign the given role."})
			return
		}
		if !roleIn(allowed, m.role) {
			c.json(http.StatusForbidden, map[string]any{"role": "You do not have permission to assign a role to the given user."})
			return
		}
		if c.p.isMemberUser() && c.p.member.id == m.id {
			c.detail(http.StatusBadRequest, "You cannot make changes to your own role.")
			return
		}
		if r, _ := st.roles.orgRole(req.role); r.retired && st.hasFeature("team-roles") {
			c.detail(http.StatusBadRequest, fmt.Sprintf("The role '%s' is deprecated and may no longer be assigned.", req.role))
			return
		}
		m.role = req.role
		// Team roles at or below the new minimum are reset to null
		// (_change_org_role; docs/sentry-access-model.md#members).
		for tid, stored := range m.teams {
			m.teams[tid] = st.normalizeTeamRole(m.role, stored)
		}
	}
	c.record("member.edit", m.id, m, "edited member "+m.email, map[string]any{"email": m.email, "role": m.role})
	c.json(http.StatusOK, st.apiMemberDetail(c.p, m))
}

// saveTeamAssignments is save_team_assignments: the member's team set
// becomes exactly assignments (roles stored as given), with a
// member.join-team or member.leave-team audit entry per change.
func (st *state) saveTeamAssignments(c *call, m *member, assignments []teamAssignment) {
	keep := map[int64]bool{}
	for _, a := range assignments {
		keep[a.team.id] = true
	}
	for tid := range m.teams {
		if !keep[tid] {
			t := st.teams[tid]
			st.removeFromTeam(m, t)
			c.record("member.leave-team", m.id, m, fmt.Sprintf("removed %s from team %s", m.email, t.slug),
				map[string]any{"team_slug": t.slug, "email": m.email})
		}
	}
	for _, a := range assignments {
		_, was := m.teams[a.team.id]
		var role *string
		if a.role != nil {
			v := *a.role
			role = &v
		}
		st.addToTeam(m, a.team, role)
		if !was {
			c.record("member.join-team", m.id, m, fmt.Sprintf("added %s to team %s", m.email, a.team.slug),
				map[string]any{"team_slug": a.team.slug, "email": m.email})
		}
	}
}

// deleteMember is DELETE /organizations/{org}/members/{member}/.
func (s *Server) deleteMember(c *call) {
	st := s.st
	m := c.approvedMember()
	if m == nil {
		return
	}
	isAdmin := slices.Contains(c.p.scopes, "member:admin")
	switch c.p.kind {
	case kindUser:
		if c.p.member.id != m.id {
			if !isAdmin {
				if st.org.allowMemberInvite && slices.Contains(c.p.scopes, "member:invite") {
					s.deleteInviteByMember(c, m)
					return
				}
				c.detail(http.StatusBadRequest, errInsufficientScope)
				return
			}
			if r, _ := st.roles.orgRole(m.role); r.priority > st.callerPriority(c.p) {
				c.detail(http.StatusBadRequest, errInsufficientRole)
				return
			}
		}
	case kindIntegration, kindSCIM:
		// The app's proxy user is no member of the organization.
		c.detail(http.StatusBadRequest, errInsufficientRole)
		return
	default:
		if !isAdmin {
			c.detail(http.StatusBadRequest, errInsufficientScope)
			return
		}
	}
	if st.onlyMemberWithOrgWrite(m) {
		c.detail(http.StatusForbidden, errOnlyOrgWrite)
		return
	}
	if m.flags["idp:provisioned"] {
		c.detail(http.StatusForbidden, errIDPMember)
		return
	}
	if m.flags["partnership:restricted"] {
		c.detail(http.StatusForbidden, errPartnership)
		return
	}
	st.deleteMember(m)
	// Invites the removed member sent go with them.
	if m.user != nil {
		for _, other := range st.sortedMembers() {
			if other.inviterID == m.id && other.user == nil {
				st.deleteMember(other)
			}
		}
	}
	c.record("member.remove", m.id, nil, "removed member "+m.email, map[string]any{"email": m.email, "role": m.role})
	c.noContent()
}

// deleteInviteByMember is _handle_deletion_by_member: a member may revoke
// only pending invites they sent.
func (s *Server) deleteInviteByMember(c *call, m *member) {
	if m.user != nil {
		c.detail(http.StatusBadRequest, errInsufficientScope)
		return
	}
	if m.inviterID != c.p.member.id {
		c.detail(http.StatusBadRequest, errMemberInvite)
		return
	}
	s.st.deleteMember(m)
	c.record("member.remove", m.id, nil, "removed member "+m.email, map[string]any{"email": m.email, "role": m.role})
	c.noContent()
}

// onlyMemberWithOrgWrite is is_only_member_with_org_write: m holds a role
// with org:write and no other accepted member does.
func (st *state) onlyMemberWithOrgWrite(m *member) bool {
	hasOrgWrite := func(x *member) bool {
		r, _ := st.roles.orgRole(x.role)
		return slices.Contains(r.scopes, "org:write")
	}
	if m.user == nil || !hasOrgWrite(m) {
		return false
	}
	for _, x := range st.members {
		if x != m && x.user != nil && x.inviteStatus == "approved" && hasOrgWrite(x) {
			return false
		}
	}
	return true
}
