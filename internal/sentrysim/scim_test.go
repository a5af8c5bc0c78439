package sentrysim

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

const scim = org + "/scim/v2"

func TestSCIMUsers(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var list sentry.SCIMListResponse[sentry.SCIMUser]
	r := h.do("GET", scim+"/Users?startIndex=2&count=5", DemoSCIMToken, nil).want(t, 200)
	r.decode(t, &list)
	if list.StartIndex != 2 || list.ItemsPerPage != 5 || list.TotalResults != 40 || r.header.Get("Link") != "" {
		t.Errorf("list = start %d, items %d, total %d, link %q", list.StartIndex, list.ItemsPerPage, list.TotalResults, r.header.Get("Link"))
	}
	var one sentry.SCIMListResponse[sentry.SCIMUser]
	h.do("GET", scim+"/Users?filter="+url.QueryEscape(`userName eq "PRIYA.PATEL@acme.test"`), DemoSCIMToken, nil).want(t, 200).decode(t, &one)
	if one.TotalResults != 1 || one.Resources[0].ID != "1009" || one.Resources[0].Active == nil {
		t.Errorf("filtered = %+v", one)
	}
	r = h.do("GET", scim+"/Users?filter="+url.QueryEscape(`email co "x"`), DemoSCIMToken, nil).want(t, 400)
	if !strings.Contains(string(r.body), `"scimType":"invalidFilter"`) {
		t.Errorf("bad filter body = %s", r.body)
	}
}

func TestSCIMCreateUser(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	r := h.do("POST", scim+"/Users", DemoSCIMToken, map[string]any{"userName": "new@acme.test", "sentryOrgRole": "owner"}).want(t, 400)
	if !strings.Contains(string(r.body), sentry.SCIMErrorSchema) {
		t.Errorf("SCIM error lacks schemas: %s", r.body)
	}
	var u sentry.SCIMUser
	h.do("POST", scim+"/Users", DemoSCIMToken, map[string]any{"userName": "new@acme.test", "sentryOrgRole": "manager"}).want(t, 201).decode(t, &u)
	m := memberDetail(t, h, u.ID)
	if !m.Flags.IDPProvisioned || !m.Flags.IDPRoleRestricted || m.OrgRole != "manager" || !m.Pending {
		t.Errorf("provisioned member = %+v", m)
	}
	// The provisioned invite is pending: a second POST is Sentry's plain
	// serializer error; an accepted member's email is the 409.
	h.do("POST", scim+"/Users", DemoSCIMToken, map[string]any{"userName": "new@acme.test"}).want(t, 400)
	r = h.do("POST", scim+"/Users", DemoSCIMToken, map[string]any{"userName": DemoOwnerEmail}).want(t, 409)
	if got := r.detail(t); got != `"User already exists in the database."` {
		t.Errorf("409 detail = %s", got)
	}
	var plain sentry.SCIMUser
	h.do("POST", scim+"/Users", DemoSCIMToken, map[string]any{"userName": "plain@acme.test"}).want(t, 201).decode(t, &plain)
	if m := memberDetail(t, h, plain.ID); m.Flags.IDPRoleRestricted || !m.Flags.IDPProvisioned {
		t.Errorf("no role given: flags = %+v", m.Flags)
	}
}

func TestSCIMActiveFalseDeletesTheMember(t *testing.T) {
	t.Parallel()
	shapes := []struct {
		name string
		op   map[string]any
	}{
		{"Okta value object", map[string]any{"op": "replace", "value": map[string]any{"active": false}}},
		{"path active", map[string]any{"op": "replace", "path": "active", "value": false}},
		{"string false", map[string]any{"op": "Replace", "path": "active", "value": "false"}},
	}
	for _, tt := range shapes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := demoHarness(t)
			body := map[string]any{"schemas": []string{sentry.SCIMPatchSchema}, "Operations": []any{tt.op}}
			h.do("PATCH", scim+"/Users/1014", DemoSCIMToken, body).want(t, 204)
			h.do("GET", org+"/members/1014/", DemoOwnerToken, nil).want(t, 404)
			if rows := auditEvents(t, h, "member.remove"); len(rows) != 1 || !strings.HasPrefix(rows[0].Actor.Name, "SCIM Internal Integration (") {
				t.Errorf("member.remove = %+v", rows)
			}
		})
	}
	t.Run("other operations are 400", func(t *testing.T) {
		t.Parallel()
		h := demoHarness(t)
		body := map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "emails", "value": false}}}
		r := h.do("PATCH", scim+"/Users/1014", DemoSCIMToken, body).want(t, 400)
		if got := r.detail(t); got != `"Invalid Patch Operation."` {
			t.Errorf("detail = %s", got)
		}
	})
}

func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var g sentry.SCIMGroup
	h.do("POST", scim+"/Groups", DemoSCIMToken, map[string]any{"displayName": "Data Science"}).want(t, 201).decode(t, &g)
	var tm sentry.Team
	h.do("GET", "/api/0/teams/acme/data-science/", DemoOwnerToken, nil).want(t, 200).decode(t, &tm)
	if !tm.Flags.IDPProvisioned || tm.ID != g.ID {
		t.Errorf("SCIM team = %+v", tm)
	}
	h.do("POST", scim+"/Groups", DemoSCIMToken, map[string]any{"displayName": "data science"}).want(t, 409)
	patch := func(ops ...any) map[string]any {
		return map[string]any{"schemas": []string{sentry.SCIMPatchSchema}, "Operations": ops}
	}
	h.do("PATCH", scim+"/Groups/"+g.ID, DemoSCIMToken, patch(
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "1009"}, map[string]any{"value": "1017"}}},
	)).want(t, 204)
	h.do("PATCH", scim+"/Groups/"+g.ID, DemoSCIMToken, patch(
		map[string]any{"op": "remove", "path": `members[value eq "1009"]`},
		map[string]any{"op": "Replace", "path": "displayName", "value": "ML Platform"},
	)).want(t, 204)
	var got sentry.SCIMGroup
	h.do("GET", scim+"/Groups/"+g.ID, DemoSCIMToken, nil).want(t, 200).decode(t, &got)
	if got.DisplayName != "ML Platform" || len(got.Members) != 1 || got.Members[0].Value != "1017" {
		t.Errorf("group after patch = %+v", got)
	}
	h.do("GET", scim+"/Groups/data-science", DemoSCIMToken, nil).want(t, 404) // numeric ids only
	h.do("PATCH", scim+"/Groups/"+g.ID, DemoSCIMToken, patch(map[string]any{"op": "replace", "path": "name", "value": "x"})).want(t, 400)
	h.do("PATCH", scim+"/Groups/"+g.ID, DemoSCIMToken, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "999"}}})).want(t, 404)

	// Any PATCH marks the team provisioned: normal member-team changes are 403.
	h.do("PATCH", scim+"/Groups/102", DemoSCIMToken, patch(map[string]any{"op": "replace", "path": "members", "value": []any{map[string]any{"value": "1011"}}})).want(t, 204)
	h.do("POST", org+"/members/1026/teams/notifications/", DemoOwnerToken, nil).want(t, 403)
	var members []sentry.TeamMember
	h.do("GET", "/api/0/teams/acme/notifications/members/", DemoOwnerToken, nil).want(t, 200).decode(t, &members)
	if len(members) != 1 || members[0].ID != "1011" {
		t.Errorf("replace members left %d members", len(members))
	}
	h.do("DELETE", scim+"/Groups/"+g.ID, DemoSCIMToken, nil).want(t, 204)
	h.do("GET", "/api/0/teams/acme/ml-platform/", DemoOwnerToken, nil).want(t, 404)
}

func TestSCIMNeedsSCIMEnabled(t *testing.T) {
	t.Parallel()
	fx := DemoFixture()
	fx.AuthProvider.SCIMEnabled = false
	h := newHarness(t, fx, Options{})
	h.do("GET", scim+"/Users", DemoOwnerToken, nil).want(t, 403)
}
