package sentrysim

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

func TestDemoFixtureIsValid(t *testing.T) {
	t.Parallel()
	fx := DemoFixture()
	if err := fx.Validate(); err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, m := range fx.Members {
		roles[m.Role]++
	}
	for _, r := range []string{"owner", "manager", "member", "billing", "admin"} {
		if roles[r] == 0 {
			t.Errorf("demo has no %s", r)
		}
	}
	if *fx.Org.OpenMembership {
		t.Error("demo org has open membership on")
	}
}

func TestOrgDetail(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var o sentry.Organization
	h.do("GET", org+"/", DemoOwnerToken, nil).want(t, 200).decode(t, &o)
	if o.Slug != DemoOrgSlug || o.OrgRole != "owner" || o.OpenMembership {
		t.Errorf("org = %+v", o)
	}
	if !slices.Contains(o.Access, "org:admin") || !slices.Contains(o.Access, "member:admin") {
		t.Errorf("access = %v, want the owner token's scopes", o.Access)
	}
	if len(o.OrgRoleList) != 5 || len(o.TeamRoleList) != 2 {
		t.Errorf("role lists = %d, %d", len(o.OrgRoleList), len(o.TeamRoleList))
	}
	if o.PendingAccessRequests != 3 || !o.HasAuthProvider {
		t.Errorf("pending = %d, hasAuthProvider = %v", o.PendingAccessRequests, o.HasAuthProvider)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct {
		name, path, token string
		want              int
		wantDetail        string
	}{
		{"no credentials is 401", org + "/", "", 401, `"Authentication credentials were not provided."`},
		{"unknown token is 401 Invalid token", org + "/", "nope", 401, `"Invalid token"`},
		{"unknown org is 404", "/api/0/organizations/nope/", DemoOwnerToken, 404, `"The requested resource does not exist"`},
		{"org auth token holds only org:ci so members are 403", org + "/members/", DemoCIToken, 403, `"You do not have permission to perform this action."`},
		{"SCIM token works on REST endpoints within its scopes", org + "/members/", DemoSCIMToken, 200, ""},
		{"api-tokens is session only, 401 for bearer tokens", "/api/0/api-tokens/", DemoOwnerToken, 401, `"Authentication credentials were not provided."`},
		{"audit log needs org:write, members are 403", org + "/audit-logs/", DemoMemberToken, 403, `"You do not have permission to perform this action."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", tt.path, tt.token, nil).want(t, tt.want)
			if tt.wantDetail == "" {
				return
			}
			if got := r.detail(t); got != tt.wantDetail {
				t.Errorf("detail = %s, want %s", got, tt.wantDetail)
			}
		})
	}
}

func memberEmails(ms []sentry.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Email)
	}
	return out
}

func TestMembersListQuery(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct {
		name, query string
		check       func(sentry.Member) bool
		wantCount   int // -1: any non-zero
	}{
		{"role:owner lists the owners", "role:owner", func(m sentry.Member) bool { return m.OrgRole == "owner" }, 2},
		{"email: matches case-insensitively", "email:OLIVIA.OWNER@acme.test", func(m sentry.Member) bool { return m.Email == DemoOwnerEmail }, 1},
		{"isInvited:true lists pending invites", "isInvited:true", func(m sentry.Member) bool { return m.Pending }, 5},
		{"ssoLinked:false lists unlinked members", "ssoLinked:false", func(m sentry.Member) bool { return !m.Flags.SSOLinked }, -1},
		{"has2fa:true lists members with 2FA", "has2fa:true", func(m sentry.Member) bool { return m.User != nil && m.User.Has2FA }, -1},
		{"scope:member:admin lists managers and owners", "scope:member:admin", func(m sentry.Member) bool { return m.OrgRole == "owner" || m.OrgRole == "manager" }, 6},
		{"free text matches names", "priya", func(m sentry.Member) bool { return m.Name == "Priya Patel" }, 1},
		{"unknown key matches nothing", "color:blue", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []sentry.Member
			h.do("GET", org+"/members/?query="+strings.ReplaceAll(tt.query, " ", "+"), DemoOwnerToken, nil).want(t, 200).decode(t, &got)
			if tt.wantCount >= 0 && len(got) != tt.wantCount {
				t.Errorf("got %d members %v, want %d", len(got), memberEmails(got), tt.wantCount)
			}
			if tt.wantCount < 0 && len(got) == 0 {
				t.Error("got no members")
			}
			for _, m := range got {
				if !tt.check(m) {
					t.Errorf("member %s does not match %q", m.Email, tt.query)
				}
			}
		})
	}
}

func TestMembersListOmitsJoinRequests(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var got []sentry.Member
	h.do("GET", org+"/members/", DemoOwnerToken, nil).want(t, 200).decode(t, &got)
	if len(got) != len(DemoFixture().Members)-1 {
		t.Errorf("got %d members, want all but the join request", len(got))
	}
	if slices.Contains(memberEmails(got), emailOf("Quinn Quest")) {
		t.Error("join request is listed")
	}
}

func TestMemberDetail(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var m sentry.Member
	h.do("GET", org+"/members/1009/", DemoOwnerToken, nil).want(t, 200).decode(t, &m)
	if m.Email != emailOf("Priya Patel") {
		t.Fatalf("member = %s", m.Email)
	}
	if want := []string{"backend-eng", "payments"}; !slices.Equal(m.Teams, want) {
		t.Errorf("teams = %v, want %v", m.Teams, want)
	}
	for _, tr := range m.TeamRoles {
		switch tr.TeamSlug {
		case "payments":
			if tr.Role == nil || *tr.Role != "admin" {
				t.Errorf("payments role = %v, want admin", tr.Role)
			}
		case "backend-eng":
			if tr.Role != nil {
				t.Errorf("backend-eng role = %v, want null", *tr.Role)
			}
		}
	}
	h.do("GET", org+"/members/1040/", DemoOwnerToken, nil).want(t, 404) // join request
}

func TestTeamsAreCallerRelative(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var teams []sentry.Team
	h.do("GET", org+"/teams/", DemoMemberToken, nil).want(t, 200).decode(t, &teams)
	byslug := map[string]sentry.Team{}
	for _, tm := range teams {
		byslug[tm.Slug] = tm
	}
	pay := byslug["payments"]
	if !pay.IsMember || pay.TeamRole == nil || *pay.TeamRole != "admin" || !pay.HasAccess {
		t.Errorf("payments for Priya = %+v", pay)
	}
	if len(pay.Projects) != 5 {
		t.Errorf("payments projects = %d, want 5", len(pay.Projects))
	}
	notif := byslug["notifications"]
	if notif.IsMember || notif.HasAccess || notif.TeamRole != nil {
		t.Errorf("closed membership: notifications for Priya = %+v", notif)
	}
	var owner []sentry.Team
	h.do("GET", org+"/teams/?detailed=0", DemoOwnerToken, nil).want(t, 200).decode(t, &owner)
	for _, tm := range owner {
		if !tm.HasAccess || tm.Projects != nil {
			t.Errorf("owner team %s: hasAccess=%v projects=%v", tm.Slug, tm.HasAccess, tm.Projects)
		}
	}
}

func TestTeamMembersExcludePending(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var got []sentry.TeamMember
	h.do("GET", "/api/0/teams/acme/payments/members/", DemoOwnerToken, nil).want(t, 200).decode(t, &got)
	for _, m := range got {
		if m.Pending {
			t.Errorf("pending member %s listed", m.Email)
		}
		if m.TeamSlug != "payments" {
			t.Errorf("teamSlug = %q", m.TeamSlug)
		}
	}
	if len(got) != 7 {
		t.Errorf("got %d payments members, want 7", len(got))
	}
}

func TestProjectsList(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct {
		name, path, token string
		want              int
	}{
		{"a user sees every project, team or not", org + "/projects/?all_projects=1", DemoMemberToken, 18},
		{"an integration token (a proxy user) sees every project", org + "/projects/?all_projects=1", DemoIntegrationToken, 18},
		{"team: filters by team", org + "/projects/?query=team:payments", DemoOwnerToken, 5},
		{"per_page pages", org + "/projects/?per_page=5", DemoOwnerToken, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []sentry.Project
			h.do("GET", tt.path, tt.token, nil).want(t, 200).decode(t, &got)
			if len(got) != tt.want {
				t.Errorf("got %d projects, want %d", len(got), tt.want)
			}
		})
	}
	var got []sentry.Project
	h.do("GET", org+"/projects/?query=slug:payment-api", DemoMemberToken, nil).want(t, 200).decode(t, &got)
	if len(got) != 1 || !got[0].IsMember || !got[0].HasAccess || len(got[0].Teams) != 2 {
		t.Errorf("payment-api for Priya = %+v", got)
	}
}

func TestReadEndpoints(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var ars []sentry.AccessRequest
	h.do("GET", org+"/access-requests/", DemoOwnerToken, nil).want(t, 200).decode(t, &ars)
	if len(ars) != 3 {
		t.Errorf("access requests = %d, want 3", len(ars))
	}
	var mine []sentry.AccessRequest
	h.do("GET", org+"/access-requests/", DemoMemberToken, nil).want(t, 200).decode(t, &mine)
	if len(mine) != 1 || mine[0].Team.Slug != "payments" {
		t.Errorf("team admin sees %+v, want only the payments request", mine)
	}
	var toks []sentry.OrgAuthToken
	h.do("GET", org+"/org-auth-tokens/", DemoOwnerToken, nil).want(t, 200).decode(t, &toks)
	if len(toks) != 3 || toks[0].Name != "ci-releases" || toks[2].DateLastUsed != nil {
		t.Errorf("org auth tokens = %+v", toks)
	}
	var apps []sentry.SentryApp
	h.do("GET", org+"/sentry-apps/", DemoOwnerToken, nil).want(t, 200).decode(t, &apps)
	if len(apps) != 4 || !slices.Contains(apps[0].Scopes, "org:admin") {
		t.Errorf("apps = %+v", apps)
	}
	var ap sentry.AuthProvider
	h.do("GET", org+"/auth-provider/", DemoOwnerToken, nil).want(t, 200).decode(t, &ap)
	if !ap.SCIMEnabled || ap.ProviderName != "saml2" {
		t.Errorf("auth provider = %+v", ap)
	}
	fx := DemoFixture()
	fx.AuthProvider = nil
	h2 := newHarness(t, fx, Options{})
	h2.do("GET", org+"/auth-provider/", DemoOwnerToken, nil).want(t, http.StatusNoContent)
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var page sentry.AuditLogPage
	h.do("GET", org+"/audit-logs/", DemoOwnerToken, nil).want(t, 200).decode(t, &page)
	if len(page.Rows) != 100 || !slices.Contains(page.Options, "member.invite") {
		t.Fatalf("rows = %d, options = %d", len(page.Rows), len(page.Options))
	}
	for i := 1; i < len(page.Rows); i++ {
		if page.Rows[i].DateCreated.After(page.Rows[i-1].DateCreated) {
			t.Fatal("rows are not newest first")
		}
	}
	var teams sentry.AuditLogPage
	h.do("GET", org+"/audit-logs/?event=team.create", DemoOwnerToken, nil).want(t, 200).decode(t, &teams)
	if len(teams.Rows) != 7 {
		t.Errorf("team.create rows = %d, want 7", len(teams.Rows))
	}
	var unknown sentry.AuditLogPage
	h.do("GET", org+"/audit-logs/?event=nope", DemoOwnerToken, nil).want(t, 200).decode(t, &unknown)
	if len(unknown.Rows) != 0 {
		t.Errorf("unknown event rows = %d", len(unknown.Rows))
	}
	var byActor sentry.AuditLogPage
	h.do("GET", org+"/audit-logs/?actor=5000", DemoOwnerToken, nil).want(t, 200).decode(t, &byActor)
	for _, r := range byActor.Rows {
		if r.Actor == nil || r.Actor.Email != DemoOwnerEmail {
			t.Fatalf("actor filter returned %+v", r.Actor)
		}
	}
}
