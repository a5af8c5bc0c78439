package sentrysim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// SCIM v2 endpoints follow src/sentry/scim/endpoints/{members,teams,utils}.py.

const maxPatchOps = 100

var scimFilterPattern = regexp.MustCompile(`^(\w+) eq "(.*)"$`)

// scimPaging reads startIndex and count; false means a 400 was written.
func (c *call) scimPaging() (start, count int, ok bool) {
	q := c.r.URL.Query()
	start, count = 1, 100
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			c.scimError(http.StatusBadRequest, "Invalid startIndex parameter.")
			return 0, 0, false
		}
		start = n
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.scimError(http.StatusBadRequest, "Invalid count parameter.")
			return 0, 0, false
		}
		count = min(n, 100)
	}
	return start, count, true
}

// scimFilter parses `<attr> eq "<value>"` with attr among allowed.
func (c *call) scimFilter(allowed ...string) (attr, value string, ok bool) {
	f := c.r.URL.Query().Get("filter")
	if f == "" {
		return "", "", true
	}
	m := scimFilterPattern.FindStringSubmatch(strings.TrimSpace(f))
	if m == nil || !slices.Contains(allowed, m[1]) {
		c.w.Header().Set("Content-Type", "application/json")
		c.w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(c.w).Encode(map[string]any{"schemas": []string{sentry.SCIMErrorSchema}, "scimType": "invalidFilter"})
		return "", "", false
	}
	return m[1], m[2], true
}

func scimList[T any](c *call, items []T, start, count int) {
	from := min(start-1, len(items))
	to := min(from+count, len(items))
	page := items[from:to]
	if page == nil {
		page = []T{}
	}
	c.json(http.StatusOK, sentry.SCIMListResponse[T]{Schemas: []string{sentry.SCIMListSchema},
		TotalResults: len(items), StartIndex: start, ItemsPerPage: len(page), Resources: page})
}

func (st *state) scimUser(m *member) sentry.SCIMUser {
	out := sentry.SCIMUser{Schemas: []string{sentry.SCIMUserSchema}, ID: id(m.id), UserName: m.email,
		Emails: []sentry.SCIMEmail{{Primary: true, Value: m.email, Type: "work"}},
		Name:   sentry.SCIMName{GivenName: "N/A", FamilyName: "N/A"}, Meta: sentry.SCIMMeta{ResourceType: "User"},
		SentryOrgRole: m.role}
	if !st.authProvider.azureAD {
		active := true
		out.Active = &active
	}
	return out
}

func (s *Server) scimListUsers(c *call) {
	st := s.st
	start, count, ok := c.scimPaging()
	if !ok {
		return
	}
	_, value, ok := c.scimFilter("userName")
	if !ok {
		return
	}
	var ms []*member
	for _, m := range st.members {
		if m.inviteStatus == "approved" && (value == "" || strings.EqualFold(m.email, value)) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *member) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.email), strings.ToLower(b.email)), cmp.Compare(a.id, b.id))
	})
	out := make([]sentry.SCIMUser, 0, len(ms))
	for _, m := range ms {
		out = append(out, st.scimUser(m))
	}
	scimList(c, out, start, count)
}

func (c *call) scimMember() *member {
	m := c.st().lookupMember(c.r.PathValue("member"), nil)
	if m == nil || m.inviteStatus != "approved" {
		c.scimError(http.StatusNotFound, "User not found.")
		return nil
	}
	return m
}

// scimRole validates a sentryOrgRole: SCIM cannot provision roles holding
// org:admin (owners).
func (c *call) scimRole(role string) bool {
	r, ok := c.st().roles.orgRole(role)
	if !ok || slices.Contains(r.scopes, "org:admin") {
		c.scimError(http.StatusBadRequest, "Invalid role: SCIM cannot assign the '"+role+"' role.")
		return false
	}
	return true
}

// scimCreateUser provisions an invited member flagged idp:provisioned (and
// idp:role-restricted when a role is given).
func (s *Server) scimCreateUser(c *call) {
	st := s.st
	var b struct {
		UserName      string `json:"userName"`
		SentryOrgRole string `json:"sentryOrgRole"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil || b.UserName == "" {
		c.scimError(http.StatusBadRequest, "userName is required.")
		return
	}
	role := st.org.defaultRole
	if b.SentryOrgRole != "" {
		if !c.scimRole(b.SentryOrgRole) {
			return
		}
		role = b.SentryOrgRole
	}
	if st.memberByEmail[strings.ToLower(b.UserName)] != nil {
		c.scimError(http.StatusConflict, "User already exists in the database.")
		return
	}
	m := &member{id: st.newID(), email: b.UserName, name: b.UserName, role: role, inviteStatus: "approved",
		flags: map[string]bool{"idp:provisioned": true}, dateCreated: s.now(), teams: map[int64]*string{}}
	if b.SentryOrgRole != "" {
		m.flags["idp:role-restricted"] = true
	}
	st.members[m.id] = m
	st.memberByEmail[strings.ToLower(m.email)] = m
	c.record("member.invite", m.id, nil, "invited member "+m.email, map[string]any{"email": m.email, "role": role})
	c.json(http.StatusCreated, st.scimUser(m))
}

func (s *Server) scimGetUser(c *call) {
	if m := c.scimMember(); m != nil {
		c.json(http.StatusOK, s.st.scimUser(m))
	}
}

// falseValue reports whether v is JSON false or the string "false".
func falseValue(v any) (isFalse, ok bool) {
	switch x := v.(type) {
	case bool:
		return !x, true
	case string:
		b, valid := boolValue(x)
		return !b, valid
	}
	return false, false
}

// scimPatchUser accepts only replace active=false (both Okta shapes), which
// deletes the member; any other operation is 400.
func (s *Server) scimPatchUser(c *call) {
	m := c.scimMember()
	if m == nil {
		return
	}
	var b sentry.SCIMPatch
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
		return
	}
	if len(b.Operations) > maxPatchOps {
		c.scimError(http.StatusBadRequest, "Too many patch ops sent, limit is 100.")
		return
	}
	deactivate := false
	for _, op := range b.Operations {
		if !strings.EqualFold(op.Op, "replace") {
			c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
			return
		}
		var value any
		switch {
		case strings.EqualFold(op.Path, "active"):
			value = op.Value
		case op.Path == "":
			obj, ok := op.Value.(map[string]any)
			if !ok {
				c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
				return
			}
			v, has := obj["active"]
			if !has || len(obj) != 1 {
				c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
				return
			}
			value = v
		default:
			c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
			return
		}
		isFalse, ok := falseValue(value)
		if !ok {
			c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
			return
		}
		deactivate = deactivate || isFalse
	}
	if !deactivate {
		c.json(http.StatusOK, s.st.scimUser(m))
		return
	}
	s.scimRemove(c, m)
}

func (s *Server) scimRemove(c *call, m *member) {
	st := s.st
	if m.role == "owner" && m.user != nil && st.ownerCount() <= 1 {
		c.scimError(http.StatusForbidden, "You cannot remove the only remaining owner of the organization.")
		return
	}
	st.deleteMember(m)
	c.record("member.remove", m.id, nil, "removed member "+m.email, map[string]any{"email": m.email, "role": m.role})
	c.noContent()
}

// scimPutUser changes the member's org role (undocumented in the OpenAPI
// schema).
func (s *Server) scimPutUser(c *call) {
	m := c.scimMember()
	if m == nil {
		return
	}
	var b struct {
		SentryOrgRole string `json:"sentryOrgRole"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Invalid body.")
		return
	}
	if b.SentryOrgRole != "" && b.SentryOrgRole != m.role {
		if !c.scimRole(b.SentryOrgRole) {
			return
		}
		m.role = b.SentryOrgRole
		m.flags["idp:role-restricted"] = true
		for tid, stored := range m.teams {
			m.teams[tid] = s.st.normalizeTeamRole(m.role, stored)
		}
		c.record("member.edit", m.id, m, "edited member "+m.email, map[string]any{"email": m.email, "role": m.role})
	}
	c.json(http.StatusOK, s.st.scimUser(m))
}

func (s *Server) scimDeleteUser(c *call) {
	if m := c.scimMember(); m != nil {
		s.scimRemove(c, m)
	}
}

func (st *state) scimGroup(t *team, withMembers bool) any {
	g := sentry.SCIMGroup{Schemas: []string{sentry.SCIMGroupSchema}, ID: id(t.id), DisplayName: t.name,
		Members: []sentry.SCIMGroupMember{}, Meta: sentry.SCIMMeta{ResourceType: "Group"}}
	if !withMembers {
		return map[string]any{"schemas": g.Schemas, "id": g.ID, "displayName": g.DisplayName, "meta": g.Meta}
	}
	ms := make([]*member, 0, len(t.members))
	for mid := range t.members {
		ms = append(ms, st.members[mid])
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Compare(a.id, b.id) })
	for _, m := range ms {
		g.Members = append(g.Members, sentry.SCIMGroupMember{Value: id(m.id), Display: m.email})
	}
	return g
}

func (s *Server) scimListGroups(c *call) {
	st := s.st
	start, count, ok := c.scimPaging()
	if !ok {
		return
	}
	_, value, ok := c.scimFilter("displayName", "value")
	if !ok {
		return
	}
	withMembers := c.r.URL.Query().Get("excludedAttributes") != "members"
	var out []any
	for _, t := range st.sortedTeams() {
		if value == "" || t.slug == slugify(value) {
			out = append(out, st.scimGroup(t, withMembers))
		}
	}
	scimList(c, out, start, count)
}

// scimTeam looks a group up by its numeric team id only.
func (c *call) scimTeam() *team {
	var tid int64
	if _, err := fmt.Sscan(c.r.PathValue("team"), &tid); err == nil {
		if t := c.st().teams[tid]; t != nil {
			return t
		}
	}
	c.scimError(http.StatusNotFound, msgNotFound)
	return nil
}

func (s *Server) scimCreateGroup(c *call) {
	st := s.st
	var b struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil || slugify(b.DisplayName) == "" {
		c.scimError(http.StatusBadRequest, "displayName is required.")
		return
	}
	slug := slugify(b.DisplayName)
	if st.teamBySlug[slug] != nil {
		c.scimError(http.StatusConflict, msgTeamExists)
		return
	}
	t := st.newTeam(slug, b.DisplayName, true)
	c.record("team.create", t.id, nil, "created team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
	c.json(http.StatusCreated, st.scimGroup(t, true))
}

func (s *Server) scimGetGroup(c *call) {
	if t := c.scimTeam(); t != nil {
		c.json(http.StatusOK, s.st.scimGroup(t, c.r.URL.Query().Get("excludedAttributes") != "members"))
	}
}

var removeMemberPath = regexp.MustCompile(`^members\[value eq "?([^"\]]+)"?\]$`)

// memberValues reads [{value: id}] into members; false after a 404/400.
func (c *call) memberValues(v any) ([]*member, bool) {
	list, ok := v.([]any)
	if !ok {
		c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
		return nil, false
	}
	var out []*member
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
			return nil, false
		}
		m := c.st().lookupMember(fmt.Sprint(obj["value"]), nil)
		if m == nil {
			c.scimError(http.StatusNotFound, "User not found.")
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

// scimPatchGroup applies add/remove/replace of members and renames (Okta
// and Azure AD shapes). Any PATCH marks the team idp-provisioned.
func (s *Server) scimPatchGroup(c *call) {
	st := s.st
	t := c.scimTeam()
	if t == nil {
		return
	}
	var b sentry.SCIMPatch
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
		return
	}
	if len(b.Operations) > maxPatchOps {
		c.scimError(http.StatusBadRequest, "Too many patch ops sent, limit is 100.")
		return
	}
	add := func(m *member) {
		if _, on := m.teams[t.id]; !on {
			st.addToTeam(m, t, nil)
			c.record("member.join-team", m.id, m, fmt.Sprintf("added %s to team %s", m.email, t.slug), map[string]any{"team_slug": t.slug, "email": m.email})
		}
	}
	remove := func(m *member) {
		if _, on := m.teams[t.id]; on {
			st.removeFromTeam(m, t)
			c.record("member.leave-team", m.id, m, fmt.Sprintf("removed %s from team %s", m.email, t.slug), map[string]any{"team_slug": t.slug, "email": m.email})
		}
	}
	rename := func(name string) bool {
		slug := slugify(name)
		if other := st.teamBySlug[slug]; other != nil && other != t {
			c.scimError(http.StatusConflict, msgTeamExists)
			return false
		}
		old := t.slug
		delete(st.teamBySlug, t.slug)
		t.name, t.slug = name, slug
		st.teamBySlug[slug] = t
		c.record("team.edit", t.id, nil, "edited team "+slug, map[string]any{"id": t.id, "slug": slug, "old_slug": old, "name": name})
		return true
	}
	t.idpProvisioned = true
	for _, op := range b.Operations {
		switch strings.ToLower(op.Op) {
		case "add":
			if op.Path != "members" {
				c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
				return
			}
			ms, ok := c.memberValues(op.Value)
			if !ok {
				return
			}
			for _, m := range ms {
				add(m)
			}
		case "remove":
			if sub := removeMemberPath.FindStringSubmatch(op.Path); sub != nil {
				m := st.lookupMember(sub[1], nil)
				if m == nil {
					c.scimError(http.StatusNotFound, "User not found.")
					return
				}
				remove(m)
				continue
			}
			if op.Path != "members" {
				c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
				return
			}
			ms, ok := c.memberValues(op.Value)
			if !ok {
				return
			}
			for _, m := range ms {
				remove(m)
			}
		case "replace":
			switch {
			case op.Path == "members":
				ms, ok := c.memberValues(op.Value)
				if !ok {
					return
				}
				keep := map[int64]bool{}
				for _, m := range ms {
					keep[m.id] = true
				}
				for mid := range t.members {
					if !keep[mid] {
						remove(st.members[mid])
					}
				}
				for _, m := range ms {
					add(m)
				}
			case op.Path == "displayName":
				name, ok := op.Value.(string)
				if !ok || !rename(name) {
					if !ok {
						c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
					}
					return
				}
			case op.Path == "":
				obj, ok := op.Value.(map[string]any)
				name, isString := obj["displayName"].(string)
				if !ok || !isString {
					c.scimError(http.StatusBadRequest, "Invalid Replace attr. Only displayName and members supported.")
					return
				}
				if !rename(name) {
					return
				}
			default:
				c.scimError(http.StatusBadRequest, "Invalid Replace attr. Only displayName and members supported.")
				return
			}
		default:
			c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
			return
		}
	}
	c.noContent()
}

func (s *Server) scimDeleteGroup(c *call) {
	if t := c.scimTeam(); t != nil {
		s.st.deleteTeam(t)
		c.record("team.remove", t.id, nil, "removed team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
		c.noContent()
	}
}
