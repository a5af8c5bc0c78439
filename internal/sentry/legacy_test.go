package sentry

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// These tests hold the client to what older and self-hosted Sentry servers
// send (docs/sentry-access-model.md#older-and-self-hosted-servers).

// pagedServer answers a list in pages of per items with Sentry's Link
// header, whatever the query asks for (a server that ignores all_projects
// or does not know that a list is meant to be unpaginated).
func pagedServer(t *testing.T, items []string, per int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			fmt.Sscanf(c, "0:%d:0", &page)
		}
		start, end := min(page*per, len(items)), min((page+1)*per, len(items))
		w.Header().Set("Link", sentryLink("http://x/?", fmt.Sprintf("0:%d:1", page-1), page > 0,
			fmt.Sprintf("0:%d:0", page+1), end < len(items)))
		body := "["
		for i, it := range items[start:end] {
			if i > 0 {
				body += ","
			}
			body += it
		}
		writeJSON(w, 200, body+"]")
	}
}

func TestEveryListFollowsLinkPaginationWhereverItAppears(t *testing.T) {
	t.Parallel()
	item := func(format string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(format, i+1)
		}
		return out
	}
	tests := []struct {
		name  string
		items []string
		list  func(ctx context.Context, c *Client) (int, error)
	}{
		{"projects although all_projects=1 was sent", item(`{"id":"%d","slug":"p%[1]d","teams":[]}`, 5),
			func(ctx context.Context, c *Client) (int, error) { ps, err := c.Projects(ctx); return len(ps), err }},
		{"access requests", item(`{"id":"%d","member":{"id":"1"},"team":{"slug":"web"}}`, 5),
			func(ctx context.Context, c *Client) (int, error) { l, err := c.AccessRequests(ctx); return len(l), err }},
		{"org auth tokens", item(`{"id":"%d","name":"ci","scopes":["org:ci"]}`, 5),
			func(ctx context.Context, c *Client) (int, error) { l, err := c.OrgAuthTokens(ctx); return len(l), err }},
		{"sentry apps", item(`{"uuid":"u%d","slug":"a%[1]d","status":"internal"}`, 5),
			func(ctx context.Context, c *Client) (int, error) { l, err := c.SentryApps(ctx); return len(l), err }},
		{"teams", item(`{"id":"%d","slug":"t%[1]d"}`, 5),
			func(ctx context.Context, c *Client) (int, error) { l, err := c.ListTeams(ctx); return len(l), err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := newTestClient(t, pagedServer(t, tt.items, 2))
			n, err := tt.list(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tt.items) {
				t.Errorf("got %d items, want all %d (the list came in pages of 2)", n, len(tt.items))
			}
			if got := h.srvHits.Load(); got != 3 {
				t.Errorf("requests = %d, want 3 pages", got)
			}
		})
	}
}

func TestProjectsStillAskForAllProjects(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("all_projects") != "1" {
			t.Errorf("query = %s, want all_projects=1", r.URL.RawQuery)
		}
		writeJSON(w, 200, `[]`)
	})
	if _, err := c.Projects(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestAuditLogsReadABareListAsOlderServersSendIt(t *testing.T) {
	t.Parallel()
	// src/sentry/api/endpoints/organization_auditlogs.py before {rows,
	// options}: self.paginate(..., on_results=serialize) answers a list.
	pages := map[string]struct{ body, link string }{
		"": {`[{"id":"3","event":"member.edit","dateCreated":"2026-03-01T12:00:00Z"},{"id":"2","event":"team.create","dateCreated":"2026-03-01T11:00:00Z"}]`,
			sentryLink("http://x/?", "1:0:1", false, "1709:0:0", true)},
		"1709:0:0": {`[{"id":"1","event":"member.add","dateCreated":"2026-03-01T10:00:00Z"}]`,
			sentryLink("http://x/?", "1:0:1", true, "1708:0:0", false)},
	}
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		p := pages[r.URL.Query().Get("cursor")]
		w.Header().Set("Link", p.link)
		writeJSON(w, 200, p.body)
	})
	got, err := c.ListAuditLogs(t.Context(), AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got.Rows {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[3 2 1]" {
		t.Errorf("rows = %v, want [3 2 1]", ids)
	}
	if !got.BareList {
		t.Error("BareList = false, want true for a list-shaped body")
	}
	if len(got.Options) != 0 {
		t.Errorf("options = %v, want none (a bare list carries none)", got.Options)
	}
}

func TestAuditLogsOfModernServersAreNotBareLists(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"rows":[{"id":"1","event":"member.add","dateCreated":"2026-03-01T10:00:00Z"}],"options":["member.add"]}`)
	})
	got, err := c.ListAuditLogs(t.Context(), AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got.BareList || len(got.Rows) != 1 || fmt.Sprint(got.Options) != "[member.add]" {
		t.Errorf("got %+v", got)
	}
}

func TestAuditLogsRefuseABodyOfAnotherShape(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `"rows"`) })
	if _, err := c.ListAuditLogs(t.Context(), AuditQuery{}); err == nil {
		t.Error("a string body decoded without error")
	}
}

// legacyOrgDetail is GET /api/0/organizations/{org}/ as Sentry's
// DetailedOrganizationSerializer answered it before team roles
// (src/sentry/api/serializers/models/organization.py at 0016022e): no
// orgRoleList or teamRoleList (only availableRoles), no eventsMemberAdmin,
// alertsMemberWrite, allowMemberInvite, allowMemberProjectCreation,
// requiresSso or hasAuthProvider, and the caller's role as "role".
const legacyOrgDetail = `{"id":"1","slug":"acme","name":"Acme","dateCreated":"2020-01-01T00:00:00Z",
	"isEarlyAdopter":false,"require2FA":false,"features":["open-membership"],"isDefault":false,
	"defaultRole":"member","availableRoles":[{"id":"member","name":"Member"},{"id":"owner","name":"Owner"}],
	"openMembership":true,"allowSharedIssues":true,"allowJoinRequests":true,
	"access":["org:read","member:read"],"role":"owner","pendingAccessRequests":0}`

func TestOrganizationTellsWhichFieldsTheServerLeftOut(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, legacyOrgDetail) })
	o, err := c.Organization(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alertsMemberWrite", "allowMemberInvite", "allowMemberProjectCreation", "eventsMemberAdmin",
		"hasAuthProvider", "orgRole", "orgRoleList", "requiresSso", "teamRoleList"}
	if !slices.Equal(o.Absent, want) {
		t.Errorf("Absent = %v\nwant     %v", o.Absent, want)
	}
	if o.Has("openMembership") != true || o.Has("eventsMemberAdmin") != false {
		t.Errorf("Has: openMembership %v, eventsMemberAdmin %v", o.Has("openMembership"), o.Has("eventsMemberAdmin"))
	}
	if o.CallerRole() != "owner" {
		t.Errorf("CallerRole = %q, want the deprecated role field", o.CallerRole())
	}
	if o.RateLimitHeaders {
		t.Error("RateLimitHeaders = true without headers")
	}
}

func TestOrganizationTreatsNullAsLeftOut(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"id":"1","slug":"acme","openMembership":false,"eventsMemberAdmin":null,"alertsMemberWrite":false,
			"allowMemberInvite":true,"allowMemberProjectCreation":true,"require2FA":false,"requiresSso":false,"allowJoinRequests":true,
			"hasAuthProvider":false,"orgRole":"member","access":[],"orgRoleList":[],"teamRoleList":[]}`)
	})
	o, err := c.Organization(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Absent, []string{"eventsMemberAdmin"}) {
		t.Errorf("Absent = %v, want [eventsMemberAdmin]", o.Absent)
	}
}

func TestOrganizationOfAModernServerLeavesNothingOut(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Sentry-Rate-Limit-Limit", "40")
		w.Header().Set("X-Sentry-Rate-Limit-Remaining", "39")
		writeJSON(w, 200, `{"id":"1","slug":"acme","openMembership":false,"eventsMemberAdmin":true,"alertsMemberWrite":false,
			"allowMemberInvite":true,"allowMemberProjectCreation":true,"require2FA":false,"requiresSso":false,"allowJoinRequests":true,
			"hasAuthProvider":false,"orgRole":"member","role":"member","access":[],
			"links":{"organizationUrl":"https://acme.sentry.io","regionUrl":"https://us.sentry.io"},
			"orgRoleList":[{"id":"member","name":"Member","scopes":["org:read"],"isGlobal":false,"isRetired":false,"isTeamRolesAllowed":true,"minimumTeamRole":"contributor"}],
			"teamRoleList":[{"id":"contributor","name":"Contributor","scopes":[],"isMinimumRoleFor":null}]}`)
	})
	o, err := c.Organization(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Absent) != 0 || len(o.OrgRoleList[0].Absent) != 0 {
		t.Errorf("Absent = %v, role Absent = %v, want none", o.Absent, o.OrgRoleList[0].Absent)
	}
	if o.Links == nil || o.Links.RegionURL != "https://us.sentry.io" {
		t.Errorf("Links = %+v", o.Links)
	}
	if !o.RateLimitHeaders {
		t.Error("RateLimitHeaders = false with Sentry's headers")
	}
}

func TestOrgRoleListEntriesTellWhichFieldsTheServerLeftOut(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		// A role list of the first team-roles releases: snake_case
		// is_global, no isTeamRolesAllowed (src/sentry/api/serializers/models/role.py).
		writeJSON(w, 200, `{"id":"1","slug":"acme","orgRoleList":[
			{"id":"member","name":"Member","scopes":["org:read"],"is_global":false,"minimumTeamRole":"contributor"},
			{"id":"owner","name":"Owner","scopes":["org:admin"],"is_global":true}]}`)
	})
	o, err := c.Organization(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	member, owner := o.OrgRoleList[0], o.OrgRoleList[1]
	if !slices.Equal(member.Absent, []string{"isRetired", "isTeamRolesAllowed"}) {
		t.Errorf("member Absent = %v", member.Absent)
	}
	if !slices.Equal(owner.Absent, []string{"isRetired", "isTeamRolesAllowed", "minimumTeamRole"}) {
		t.Errorf("owner Absent = %v", owner.Absent)
	}
	if !owner.IsGlobal || member.IsGlobal {
		t.Errorf("isGlobal from is_global: owner %v, member %v", owner.IsGlobal, member.IsGlobal)
	}
}

func TestAPIIndexAnswersTheTokensUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		wantUser   string
		wantScopes string
	}{
		// src/sentry/api/endpoints/index.py: {"version", "auth", "user"}.
		{"user token", `{"version":"0","auth":{"scopes":["org:read","member:read"]},"user":{"id":"7","name":"Olivia","username":"olivia","email":"olivia@acme.test"}}`,
			"olivia@acme.test", "[org:read member:read]"},
		{"org auth token: no user", `{"version":"0","auth":{"scopes":["org:ci"]},"user":null}`, "", "[org:ci]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/0/" {
					t.Errorf("path = %s, want /api/0/", r.URL.Path)
				}
				writeJSON(w, 200, tt.body)
			})
			idx, err := c.APIIndex(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			email := ""
			if idx.User != nil {
				email = idx.User.Email
			}
			if email != tt.wantUser || idx.Auth == nil || fmt.Sprint(idx.Auth.Scopes) != tt.wantScopes {
				t.Errorf("got user %q auth %+v", email, idx.Auth)
			}
		})
	}
}
