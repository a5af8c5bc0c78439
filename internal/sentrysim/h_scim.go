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
		// ResourceDoesNotExist re-raised in SCIM's error shape.
		c.scimError(http.StatusNotFound, msgNotFound)
		return nil
	}
	return m
}

// scimRole lowercases and validates a sentryOrgRole: SCIM may give any
// role without org:admin (so not owner).
func (c *call) scimRole(role string) (string, bool) {
	role = strings.ToLower(role)
	r, ok := c.st().roles.orgRole(role)
	if !ok || slices.Contains(r.scopes, "org:admin") {
		c.scimError(http.StatusBadRequest, "Invalid organization role.")
		return "", false
	}
	return role, true
}

// scimJSONError writes a SCIM error whose detail is the serializer errors
// as compact JSON, as SCIMApiError(detail=json.dumps(errors)) does.
func (c *call) scimJSONError(errs any) {
	b, _ := json.Marshal(errs)
	c.scimError(http.StatusBadRequest, string(b))
}

// scimCreateUser provisions an invited member flagged idp:provisioned (and
// idp:role-restricted when a role is given).
func (s *Server) scimCreateUser(c *call) {
	st := s.st
	var b struct {
		UserName      string `json:"userName"`
		SentryOrgRole string `json:"sentryOrgRole"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Malformed request body.")
		return
	}
	role := st.org.defaultRole
	if b.SentryOrgRole != "" {
		var ok bool
		if role, ok = c.scimRole(b.SentryOrgRole); !ok {
			return
		}
	}
	if b.UserName == "" {
		c.scimJSONError(map[string][]string{"email": {"This field is required."}})
		return
	}
	if m := st.memberByEmail[strings.ToLower(b.UserName)]; m != nil && m.inviteStatus == "approved" {
		if m.user != nil {
			c.scimError(http.StatusConflict, "User already exists in the database.")
			return
		}
		c.scimJSONError(map[string][]string{"email": {fmt.Sprintf("The user %s has already been invited", b.UserName)}})
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

// maybeBool is resolve_maybe_bool_value: a boolean, or "true"/"false" in
// any case; ok is false for anything else.
func maybeBool(v any) (value, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		return boolValue(strings.ToLower(x))
	}
	return false, false
}

// scimPatchUser accepts only replace active=false (the Okta form
// {"value": {"active": false}} or path "active"), which deletes the member;
// any other operation, active=true included, is 400 Invalid Patch
// Operation (SCIMPatchRequestSerializer and patch in members.py).
func (s *Server) scimPatchUser(c *call) {
	m := c.scimMember()
	if m == nil {
		return
	}
	var b struct {
		Operations *[]map[string]any `json:"Operations"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Malformed request body.")
		return
	}
	if b.Operations == nil {
		c.scimJSONError(map[string][]string{"Operations": {"This field is required."}})
		return
	}
	if len(*b.Operations) > maxPatchOps {
		c.scimJSONError(map[string][]string{"Operations": {"Ensure this field has no more than 100 elements."}})
		return
	}
	opErrs := map[string]map[string][]string{}
	for i, op := range *b.Operations {
		e := map[string][]string{}
		kind, _ := op["op"].(string)
		if kind == "" {
			e["op"] = []string{"This field is required."}
		} else if strings.ToLower(kind) != "replace" {
			e["op"] = []string{fmt.Sprintf("\"%s\" is not a valid choice", strings.ToLower(kind))}
		}
		v, has := op["value"]
		if !has {
			e["value"] = []string{"This field is required."}
		} else if _, isObj := v.(map[string]any); !isObj {
			if _, isBool := maybeBool(v); !isBool {
				e["value"] = []string{"value must be a boolean or object"}
			}
		}
		if len(e) > 0 {
			opErrs[fmt.Sprint(i)] = e
		}
	}
	if len(opErrs) > 0 {
		c.scimJSONError(map[string]any{"Operations": opErrs})
		return
	}
	if m.flags["partnership:restricted"] {
		c.detail(http.StatusForbidden, errPartnership)
		return
	}
	// Sentry's patch ends on the first operation (it deletes the member or
	// answers 400), so only the first is read; none leaves the user as is.
	if ops := *b.Operations; len(ops) > 0 {
		if !scimDeactivates(ops[0]) {
			c.scimError(http.StatusBadRequest, "Invalid Patch Operation.")
			return
		}
		s.scimRemove(c, m)
		return
	}
	c.json(http.StatusOK, s.st.scimUser(m))
}

// scimDeactivates reports whether a User PATCH operation sets active false,
// in the Okta form ({"value": {"active": false}}) or with path "active".
func scimDeactivates(op map[string]any) bool {
	if obj, isObj := op["value"].(map[string]any); isObj {
		v, ok := maybeBool(obj["active"])
		return ok && !v
	}
	if path, _ := op["path"].(string); path == "active" {
		v, ok := maybeBool(op["value"])
		return ok && !v
	}
	return false
}

// scimRemove is _delete_member: the only owner stays (a plain 403).
func (s *Server) scimRemove(c *call, m *member) {
	st := s.st
	if m.role == "owner" && m.user != nil && st.ownerCount() <= 1 {
		c.detail(http.StatusForbidden, "You cannot remove the only remaining owner of the organization.")
		return
	}
	st.deleteMember(m)
	c.record("member.remove", m.id, nil, "removed member "+m.email, map[string]any{"email": m.email, "role": m.role})
	c.noContent()
}

// scimPutUser is PUT Users/{id} (members.py, put): an owner is never
// changed, only marked provisioned; a role locks it to the IdP
// (idp:role-restricted); a blank role hands a restricted member back to the
// default role, and leaves an unrestricted one alone.
func (s *Server) scimPutUser(c *call) {
	st := s.st
	m := c.scimMember()
	if m == nil {
		return
	}
	var b struct {
		SentryOrgRole string `json:"sentryOrgRole"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Malformed request body.")
		return
	}
	if m.role == "owner" {
		m.flags["idp:role-restricted"] = false
		m.flags["idp:provisioned"] = true
		c.json(http.StatusOK, st.scimUser(m))
		return
	}
	if m.flags["partnership:restricted"] {
		c.detail(http.StatusForbidden, errPartnership)
		return
	}
	requested, restricted := st.org.defaultRole, false
	if b.SentryOrgRole != "" {
		if m.flags["idp:role-restricted"] && strings.EqualFold(m.role, b.SentryOrgRole) {
			c.json(http.StatusOK, st.scimUser(m))
			return
		}
		requested, restricted = strings.ToLower(b.SentryOrgRole), true
	} else if m.role != st.org.defaultRole && !m.flags["idp:role-restricted"] {
		c.json(http.StatusOK, st.scimUser(m))
		return
	}
	role, ok := c.scimRole(requested)
	if !ok {
		return
	}
	m.role = role
	m.flags["idp:role-restricted"] = restricted
	m.flags["idp:provisioned"] = true
	c.json(http.StatusOK, st.scimUser(m))
}

func (s *Server) scimDeleteUser(c *call) {
	m := c.scimMember()
	if m == nil {
		return
	}
	if m.flags["partnership:restricted"] {
		c.detail(http.StatusForbidden, errPartnership)
		return
	}
	s.scimRemove(c, m)
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
	_, value, ok := c.scimFilter("displayName", "value", "userName")
	if !ok {
		return
	}
	withMembers := c.r.URL.Query().Get("excludedAttributes") != "members"
	var out []any
	for _, t := range st.sortedTeams() {
		if value == "" || strings.EqualFold(t.slug, slugify(value)) {
			out = append(out, st.scimGroup(t, withMembers))
		}
	}
	scimList(c, out, start, count)
}

// scimTeam looks a group up by team id or slug (slug__id_or_slug).
func (c *call) scimTeam() *team {
	if t := c.st().lookupTeam(c.r.PathValue("team")); t != nil {
		return t
	}
	c.scimError(http.StatusNotFound, "Group not found.")
	return nil
}

// scimCreateGroup is POST Groups: a team slugified from displayName,
// IdP-provisioned, with no members; a taken slug is Sentry's plain 409.
func (s *Server) scimCreateGroup(c *call) {
	st := s.st
	var b struct {
		DisplayName string `json:"displayName"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Malformed request body.")
		return
	}
	slug := slugify(b.DisplayName)
	if msg := slugProblem(slug); msg != "" {
		c.json(http.StatusBadRequest, map[string][]string{"slug": {msg}})
		return
	}
	if st.teamBySlug[slug] != nil {
		c.json(http.StatusConflict, map[string]any{"non_field_errors": []string{msgTeamExists}, "detail": msgTeamExists})
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

// scimPutGroup answers PUT Groups/{id}: the SCIM team permission has no PUT
// in its scope map, so it is 403.
func (s *Server) scimPutGroup(c *call) { c.detail(http.StatusForbidden, msgForbidden) }

// errSCIMPatch is a PATCH failure that rolls the whole request back, as
// Sentry's transaction does.
type errSCIMPatch struct {
	status int
	body   any
}

var memberFilterPath = regexp.MustCompile(`\[(.*?)\]`)

// patchMember finds the member of a {value: id} item; nil means 404.
func (st *state) patchMember(v any) *member {
	m := st.lookupMember(fmt.Sprint(v), nil)
	if m == nil || m.inviteStatus != "approved" {
		return nil
	}
	return m
}

// scimPatchGroup applies add/remove/replace of members and renames (Okta
// and Azure AD shapes) in one transaction: a failure leaves the team as it
// was. Any successful PATCH marks the team IdP-provisioned (teams.py, patch).
func (s *Server) scimPatchGroup(c *call) {
	st := s.st
	t := c.scimTeam()
	if t == nil {
		return
	}
	var b struct {
		Schemas    []string          `json:"schemas"`
		Operations *[]map[string]any `json:"Operations"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&b); err != nil {
		c.scimError(http.StatusBadRequest, "Malformed request body.")
		return
	}
	errs := map[string]any{}
	if b.Schemas == nil {
		errs["schemas"] = []string{"This field is required."}
	}
	if b.Operations == nil {
		errs["Operations"] = []string{"This field is required."}
	} else {
		opErrs := map[string]any{}
		for i, op := range *b.Operations {
			kind, _ := op["op"].(string)
			switch strings.ToLower(kind) {
			case "add", "remove", "replace":
			case "":
				opErrs[fmt.Sprint(i)] = map[string][]string{"op": {"This field is required."}}
			default:
				opErrs[fmt.Sprint(i)] = map[string][]string{"op": {fmt.Sprintf("\"%s\" is not a valid choice", strings.ToLower(kind))}}
			}
		}
		if len(opErrs) > 0 {
			errs["Operations"] = opErrs
		}
	}
	if len(errs) > 0 {
		c.scimJSONError(errs)
		return
	}
	if len(*b.Operations) > maxPatchOps {
		c.json(http.StatusBadRequest, map[string]any{"schemas": []string{sentry.SCIMErrorSchema}, "detail": "Too many patch ops sent, limit is 100."})
		return
	}
	// A member filter Sentry cannot parse fails before anything changes.
	for _, op := range *b.Operations {
		path, _ := op["path"].(string)
		if strings.ToLower(op["op"].(string)) == "remove" && strings.Contains(path, "members") {
			if _, hasValue := op["value"]; !hasValue {
				if _, err := removeFilterID(path); err != nil {
					c.json(http.StatusBadRequest, map[string]any{"schemas": []string{sentry.SCIMErrorSchema}, "scimType": "invalidFilter"})
					return
				}
			}
		}
	}
	undo := st.teamSavepoint(t)
	if e := s.applyGroupPatch(c, t, *b.Operations); e != nil {
		if e.status != http.StatusBadRequest || !isUnsupportedAttr(e.body) {
			undo()
		}
		c.json(e.status, e.body)
		return
	}
	c.noContent()
}

func isUnsupportedAttr(body any) bool {
	m, ok := body.(map[string]any)
	return ok && m["detail"] == "Invalid Replace attr. Only displayName and members supported."
}

// removeFilterID reads the member id of `members[value eq "123"]`.
func removeFilterID(path string) (string, error) {
	sub := memberFilterPath.FindStringSubmatch(path)
	if sub == nil {
		return "", fmt.Errorf("no filter")
	}
	m := scimFilterPattern.FindStringSubmatch(strings.TrimSpace(sub[1]))
	if m == nil || m[1] != "value" {
		return "", fmt.Errorf("bad filter")
	}
	return m[2], nil
}

// applyGroupPatch runs the operations; a non-nil result is the answer of
// the first failure.
func (s *Server) applyGroupPatch(c *call, t *team, ops []map[string]any) *errSCIMPatch {
	st := s.st
	userNotFound := &errSCIMPatch{http.StatusNotFound, map[string]any{"schemas": []string{sentry.SCIMErrorSchema}, "detail": "User not found."}}
	add := func(v any) *errSCIMPatch {
		items, _ := v.([]any)
		for _, item := range items {
			obj, _ := item.(map[string]any)
			m := st.patchMember(obj["value"])
			if m == nil {
				return userNotFound
			}
			if _, on := m.teams[t.id]; !on {
				st.addToTeam(m, t, nil)
				c.record("member.join-team", m.id, m, fmt.Sprintf("added %s to team %s", m.email, t.slug), map[string]any{"team_slug": t.slug, "email": m.email})
			}
		}
		return nil
	}
	t.idpProvisioned = true
	for _, op := range ops {
		path, hasPath := op["path"].(string)
		switch strings.ToLower(op["op"].(string)) {
		case "add":
			if path == "members" {
				if e := add(op["value"]); e != nil {
					return e
				}
			}
		case "remove":
			if !strings.Contains(path, "members") {
				continue
			}
			var idv any
			if v, has := op["value"]; has {
				items, _ := v.([]any)
				if len(items) > 0 {
					obj, _ := items[0].(map[string]any)
					idv = obj["value"]
				}
			} else {
				idv, _ = removeFilterID(path)
			}
			m := st.patchMember(idv)
			if m == nil {
				return userNotFound
			}
			if _, on := m.teams[t.id]; on {
				st.removeFromTeam(m, t)
				c.record("member.leave-team", m.id, m, fmt.Sprintf("removed %s from team %s", m.email, t.slug), map[string]any{"team_slug": t.slug, "email": m.email})
			}
		case "replace":
			switch {
			case hasPath && path == "members":
				for mid := range t.members {
					st.removeFromTeam(st.members[mid], t)
				}
				if e := add(op["value"]); e != nil {
					return e
				}
			case !hasPath:
				obj, _ := op["value"].(map[string]any)
				name, isString := obj["displayName"].(string)
				if !isString {
					// value["displayName"] raises: a server error.
					return &errSCIMPatch{http.StatusInternalServerError, map[string]any{"detail": "Internal Error"}}
				}
				if e := st.renameTeam(c, t, name); e != nil {
					return e
				}
			case path == "displayName":
				name, _ := op["value"].(string)
				if e := st.renameTeam(c, t, name); e != nil {
					return e
				}
			default:
				return &errSCIMPatch{http.StatusBadRequest, map[string]any{"schemas": []string{sentry.SCIMErrorSchema},
					"detail": "Invalid Replace attr. Only displayName and members supported."}}
			}
		}
	}
	return nil
}

// renameTeam is TeamDetailsSerializer(name, slug=slugify(name)): a bad or
// taken slug is 400 on slug.
func (st *state) renameTeam(c *call, t *team, name string) *errSCIMPatch {
	slug := slugify(name)
	if msg := slugProblem(slug); msg != "" {
		return &errSCIMPatch{http.StatusBadRequest, map[string][]string{"slug": {msg}}}
	}
	if other := st.teamBySlug[slug]; other != nil && other != t {
		return &errSCIMPatch{http.StatusBadRequest, map[string][]string{"slug": {fmt.Sprintf("The slug \"%s\" is already in use.", slug)}}}
	}
	old := t.slug
	delete(st.teamBySlug, t.slug)
	t.name, t.slug = name, slug
	st.teamBySlug[slug] = t
	c.record("team.edit", t.id, nil, "edited team "+slug, map[string]any{"id": t.id, "slug": slug, "old_slug": old, "name": name})
	return nil
}

// teamSavepoint records a team's name, slug, provisioning, members and
// the audit log length, and returns the function that restores them.
func (st *state) teamSavepoint(t *team) func() {
	name, slug, idp := t.name, t.slug, t.idpProvisioned
	roles := map[int64]*string{}
	for mid := range t.members {
		roles[mid] = st.members[mid].teams[t.id]
	}
	auditLen := len(st.audit)
	return func() {
		for mid := range t.members {
			st.removeFromTeam(st.members[mid], t)
		}
		for mid, r := range roles {
			st.addToTeam(st.members[mid], t, r)
		}
		delete(st.teamBySlug, t.slug)
		t.name, t.slug, t.idpProvisioned = name, slug, idp
		st.teamBySlug[slug] = t
		st.audit = st.audit[:auditLen]
	}
}

func (s *Server) scimDeleteGroup(c *call) {
	if t := c.scimTeam(); t != nil {
		s.st.deleteTeam(t)
		c.record("team.remove", t.id, nil, "removed team "+t.slug, map[string]any{"id": t.id, "slug": t.slug, "name": t.name})
		c.noContent()
	}
}
