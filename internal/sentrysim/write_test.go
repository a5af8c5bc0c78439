package sentrysim

import (
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

func memberDetail(t *testing.T, h *harness, id string) sentry.Member {
	t.Helper()
	var m sentry.Member
	h.do("GET", org+"/members/"+id+"/", DemoOwnerToken, nil).want(t, 200).decode(t, &m)
	return m
}

func teamRoleOf(m sentry.Member, slug string) (role *string, on bool) {
	for _, tr := range m.TeamRoles {
		if tr.TeamSlug == slug {
			return tr.Role, true
		}
	}
	return nil, false
}

func auditEvents(t *testing.T, h *harness, event string) []sentry.AuditLogEntry {
	t.Helper()
	var page sentry.AuditLogPage
	h.do("GET", org+"/audit-logs/?event="+event, DemoOwnerToken, nil).want(t, 200).decode(t, &page)
	return page.Rows
}

func TestPutMemberTeamRolesReplacesTheWholeSet(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	body := map[string]any{"teamRoles": []map[string]any{{"teamSlug": "payments", "role": "admin"}, {"teamSlug": "platform", "role": nil}}}
	h.do("PUT", org+"/members/1017/", DemoOwnerToken, body).want(t, 200)
	m := memberDetail(t, h, "1017")
	if want := []string{"payments", "platform"}; !slices.Equal(m.Teams, want) {
		t.Errorf("teams = %v, want %v (identity dropped)", m.Teams, want)
	}
	if r, _ := teamRoleOf(m, "payments"); r == nil || *r != "admin" {
		t.Errorf("payments role = %v, want admin", r)
	}
	rows := auditEvents(t, h, "member.edit")
	if len(rows) == 0 || rows[0].Actor.Email != DemoOwnerEmail || *rows[0].TargetObject != 1017 {
		t.Errorf("newest member.edit = %+v", rows[0])
	}
}

func TestPutMemberRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, member string
		body                map[string]any
		want                int
		wantBody            string
	}{
		{"own role is 400", DemoOwnerToken, "1000", map[string]any{"orgRole": "member"}, 400, `{"detail":"You cannot make changes to your own role."}`},
		{"a role above the caller's is 400", DemoManagerToken, "1017", map[string]any{"orgRole": "owner"}, 400, `{"orgRole":["You do not have permission to set that org-level role"]}`},
		{"member above the caller is 403", DemoManagerToken, "1000", map[string]any{"orgRole": "member"}, 403, `{"role":"You do not have permission to assign a role to the given user."}`},
		{"retired admin cannot be assigned", DemoOwnerToken, "1017", map[string]any{"orgRole": "admin"}, 400, `{"detail":"The role 'admin' is deprecated and may no longer be assigned."}`},
		{"without member:admin the caller is a plain member", DemoMemberToken, "1017", map[string]any{"teams": []string{}}, 403, `{"detail":"You do not have permission to perform this action."}`},
		{"without member:admin no role is assignable", DemoMemberToken, "1017", map[string]any{"orgRole": "member"}, 400, `{"orgRole":["You do not have permission to set that org-level role"]}`},
		{"integration tokens cannot change org roles", DemoIntegrationToken, "1017", map[string]any{"orgRole": "manager"}, 400, ""},
		{"billing cannot have teams", DemoOwnerToken, "1017", map[string]any{"orgRole": "billing", "teamRoles": []map[string]any{{"teamSlug": "payments", "role": nil}}}, 400, `{"detail":"The user with a 'billing' role cannot have team-level permissions."}`},
		{"unknown team is 400", DemoOwnerToken, "1017", map[string]any{"teamRoles": []map[string]any{{"teamSlug": "nope", "role": nil}}}, 400, `{"teamRoles":["Invalid teams"]}`},
		{"a manager may promote a member to manager", DemoManagerToken, "1017", map[string]any{"orgRole": "manager"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := demoHarness(t)
			r := h.do("PUT", org+"/members/"+tt.member+"/", tt.token, tt.body).want(t, tt.want)
			if got := strings.TrimSpace(string(r.body)); tt.wantBody != "" && got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
		})
	}
}

func TestOrgRoleChangeResetsTeamRolesAtTheNewMinimum(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	// Adam (legacy admin) is explicit Team Admin of backend-eng; as manager
	// the minimum team role is admin, so the stored role becomes null.
	h.do("PUT", org+"/members/1007/", DemoOwnerToken, map[string]any{"orgRole": "manager",
		"teamRoles": []map[string]any{{"teamSlug": "platform", "role": nil}, {"teamSlug": "backend-eng", "role": "admin"}}}).want(t, 200)
	m := memberDetail(t, h, "1007")
	if r, on := teamRoleOf(m, "backend-eng"); !on || r != nil {
		t.Errorf("backend-eng role = %v (on=%v), want stored null", r, on)
	}
	if m.OrgRole != "manager" {
		t.Errorf("orgRole = %s", m.OrgRole)
	}
}

func TestTeamRoleAtMinimumIsStoredAsNull(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct {
		name, member, role string
		want               any
	}{
		{"contributor for a member is null", "1014", "contributor", nil},
		{"admin for a member is stored", "1014", "admin", "admin"},
		{"admin for a manager is null (the minimum)", "1002", "admin", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			h.do("PUT", org+"/members/"+tt.member+"/teams/payments/", DemoOwnerToken, map[string]any{"teamRole": tt.role}).want(t, 200).decode(t, &got)
			if got["teamRole"] != tt.want || got["isActive"] != true {
				t.Errorf("got %v, want teamRole %v", got, tt.want)
			}
		})
	}
	// A contributor cannot promote to admin.
	r := h.do("PUT", org+"/members/1014/teams/notifications/", DemoMemberToken, map[string]any{"teamRole": "admin"})
	if r.status != 404 {
		t.Errorf("not on team: status = %d", r.status)
	}
	r = h.do("PUT", org+"/members/1015/teams/backend-eng/", DemoMemberToken, map[string]any{"teamRole": "admin"})
	_ = r // Paula is not on backend-eng
	h.do("PUT", org+"/members/1023/teams/backend-eng/", DemoMemberToken, map[string]any{"teamRole": "admin"}).want(t, 400)
}

func TestDeleteMemberRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, member string
		want                int
		wantDetail          string
	}{
		{"idp-provisioned member is 403", DemoOwnerToken, "1014", 403, `"This user is managed through your organization's identity provider."`},
		{"without member:admin is 400", DemoMemberToken, "1017", 400, `"You are missing the member:admin scope."`},
		{"a manager cannot remove an owner", DemoManagerToken, "1001", 400, `"You cannot remove a member who has more access than you."`},
		{"an owner removes a member", DemoOwnerToken, "1017", 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := demoHarness(t)
			r := h.do("DELETE", org+"/members/"+tt.member+"/", tt.token, nil).want(t, tt.want)
			if tt.wantDetail != "" && r.detail(t) != tt.wantDetail {
				t.Errorf("detail = %s, want %s", r.detail(t), tt.wantDetail)
			}
		})
	}
	t.Run("the last owner cannot be removed", func(t *testing.T) {
		t.Parallel()
		fx := DemoFixture()
		for i := range fx.Members {
			if fx.Members[i].ID == 1003 { // Marco is SCIM-managed; removable here
				fx.Members[i].Flags = nil
			}
		}
		h := newHarness(t, fx, Options{})
		// Owners and managers hold org:write; Sentry refuses to remove the
		// last of them.
		for _, id := range []string{"1001", "1002", "1003", "1004"} {
			h.do("DELETE", org+"/members/"+id+"/", DemoOwnerToken, nil).want(t, 204)
		}
		r := h.do("DELETE", org+"/members/1000/", DemoOwnerToken, nil).want(t, 403)
		if got := r.detail(t); got != `"You cannot remove the only remaining owner or manager of the organization."` {
			t.Errorf("detail = %s", got)
		}
		if rows := auditEvents(t, h, "member.remove"); len(rows) != 4 {
			t.Errorf("member.remove entries = %d, want 4", len(rows))
		}
	})
}

func TestMemberTeamJoin(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	path := func(member, team string) string { return org + "/members/" + member + "/teams/" + team + "/" }
	// Closed membership: Priya is not an admin of notifications, so adding
	// Dana there becomes an access request.
	h.do("POST", path("1026", "notifications"), DemoMemberToken, nil).want(t, 202)
	var ars []sentry.AccessRequest
	h.do("GET", org+"/access-requests/", DemoOwnerToken, nil).want(t, 200).decode(t, &ars)
	found := false
	for _, ar := range ars {
		if ar.Team.Slug == "notifications" && ar.Member.ID == "1026" {
			found = ar.Requester != nil && ar.Requester.Email == emailOf("Priya Patel")
		}
	}
	if !found {
		t.Errorf("no access request by Priya for Dana on notifications in %+v", ars)
	}
	h.do("POST", path("1026", "payments"), DemoMemberToken, nil).want(t, 201) // Priya is Team Admin of payments
	h.do("POST", path("1026", "payments"), DemoMemberToken, nil).want(t, 204) // already a member
	r := h.do("POST", path("1026", "identity"), DemoOwnerToken, nil).want(t, 403)
	if got := r.detail(t); got != `"This team is managed through your organization's identity provider."` {
		t.Errorf("idp team detail = %s", got)
	}
	h.do("DELETE", path("1017", "identity"), DemoOwnerToken, nil).want(t, 403)
	h.do("DELETE", path("1026", "payments"), DemoMemberToken, nil).want(t, 200)
	if m := memberDetail(t, h, "1026"); slices.Contains(m.Teams, "payments") {
		t.Error("Dana still on payments after DELETE")
	}
	if rows := auditEvents(t, h, "member.leave-team"); rows[0].DateCreated != DemoEpoch() {
		t.Errorf("newest member.leave-team = %+v", rows[0])
	}
}

func TestAccessRequestApproval(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var ars []sentry.AccessRequest
	h.do("GET", org+"/access-requests/", DemoMemberToken, nil).want(t, 200).decode(t, &ars)
	h.do("PUT", org+"/access-requests/"+ars[0].ID+"/", DemoMemberToken, map[string]any{}).want(t, 400)
	h.do("PUT", org+"/access-requests/"+ars[0].ID+"/", DemoMemberToken, map[string]any{"isApproved": true}).want(t, 204)
	if m := memberDetail(t, h, ars[0].Member.ID); !slices.Contains(m.Teams, "payments") {
		t.Errorf("approved member teams = %v", m.Teams)
	}
	var after []sentry.AccessRequest
	h.do("GET", org+"/access-requests/", DemoOwnerToken, nil).want(t, 200).decode(t, &after)
	if len(after) != 2 {
		t.Errorf("requests after approval = %d, want 2", len(after))
	}
	// Priya holds no team:write on platform.
	for _, ar := range after {
		if ar.Team.Slug == "platform" {
			h.do("PUT", org+"/access-requests/"+ar.ID+"/", DemoMemberToken, map[string]any{"isApproved": false}).want(t, 403)
		}
	}
}

func TestTeamsCreateAndDelete(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var tm sentry.Team
	h.do("POST", org+"/teams/", DemoOwnerToken, map[string]any{"name": "Data Science"}).want(t, 201).decode(t, &tm)
	if tm.Slug != "data-science" || !tm.IsMember {
		t.Errorf("created team = %+v", tm)
	}
	r := h.do("POST", org+"/teams/", DemoOwnerToken, map[string]any{"slug": "payments"}).want(t, 409)
	if got, want := strings.TrimSpace(string(r.body)), `{"detail":"A team with this slug already exists.","non_field_errors":["A team with this slug already exists."]}`; got != want {
		t.Errorf("409 body = %s, want %s", got, want)
	}
	h.do("POST", org+"/teams/", DemoMemberToken, map[string]any{"slug": "x"}).want(t, 403)
	h.do("DELETE", "/api/0/teams/acme/notifications/", DemoMemberToken, nil).want(t, 403)
	h.do("DELETE", "/api/0/teams/acme/payments/", DemoMemberToken, nil).want(t, 204) // Team Admin of payments
	h.do("GET", "/api/0/teams/acme/payments/", DemoOwnerToken, nil).want(t, 404)
	if rows := auditEvents(t, h, "team.remove"); len(rows) != 1 {
		t.Errorf("team.remove entries = %d", len(rows))
	}
}

func TestProjectTeamUnlinkNeedsProjectWriteOnTheTeam(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	r := h.do("DELETE", "/api/0/projects/acme/payment-api/teams/backend-eng/", DemoMemberToken, nil).want(t, 403)
	if got := r.detail(t); got != `["You do not have permission to perform this action."]` {
		t.Errorf("detail = %s, want a list", got)
	}
	var p sentry.Project
	h.do("DELETE", "/api/0/projects/acme/checkout-web/teams/payments/", DemoMemberToken, nil).want(t, 200).decode(t, &p)
	if len(p.Teams) != 1 || p.Teams[0].Slug != "contractors-q1" {
		t.Errorf("teams after unlink = %+v", p.Teams)
	}
	// Without payments on it, Priya has no access to checkout-web any more.
	h.do("POST", "/api/0/projects/acme/checkout-web/teams/payments/", DemoMemberToken, nil).want(t, 403)
	h.do("POST", "/api/0/projects/acme/payment-api/teams/notifications/", DemoMemberToken, nil).want(t, 201)
	if rows := auditEvents(t, h, "project-team.remove"); len(rows) != 1 || rows[0].Actor.Email != emailOf("Priya Patel") {
		t.Errorf("project-team.remove = %+v", rows)
	}
}

func TestInviteMember(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token string
		body        map[string]any
		want        int
		wantBody    string
	}{
		{"integration tokens invite only members", DemoIntegrationToken, map[string]any{"email": "x@acme.test", "orgRole": "manager"}, 400, `["Integration tokens are restricted to inviting new members with the member role only."]`},
		{"integration token invites a member", DemoIntegrationToken, map[string]any{"email": "x@acme.test", "orgRole": "member"}, 201, ""},
		{"billing cannot have teams", DemoOwnerToken, map[string]any{"email": "x@acme.test", "orgRole": "billing", "teams": []string{"payments"}}, 400, `{"email":"The user with a 'billing' role cannot have team-level permissions."}`},
		{"an existing member is 400", DemoOwnerToken, map[string]any{"email": DemoOwnerEmail}, 400, `{"email":["The user olivia.owner@acme.test is already a member"]}`},
		{"retired admin is refused", DemoOwnerToken, map[string]any{"email": "x@acme.test", "orgRole": "admin"}, 400, ""},
		{"a member invites into their own team", DemoMemberToken, map[string]any{"email": "x@acme.test", "teams": []string{"payments"}}, 201, ""},
		{"a member cannot invite into other teams under closed membership", DemoMemberToken, map[string]any{"email": "x@acme.test", "teams": []string{"platform"}}, 400, `{"detail":"You cannot assign members to teams you are not a member of."}`},
		{"a member cannot invite a manager", DemoMemberToken, map[string]any{"email": "x@acme.test", "orgRole": "manager"}, 400, ""},
		{"org auth token is 403", DemoCIToken, map[string]any{"email": "x@acme.test"}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := demoHarness(t)
			r := h.do("POST", org+"/members/", tt.token, tt.body).want(t, tt.want)
			if got := strings.TrimSpace(string(r.body)); tt.wantBody != "" && got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			if tt.want == 201 {
				var m sentry.Member
				r.decode(t, &m)
				if !m.Pending || m.User != nil {
					t.Errorf("invite = %+v, want pending", m)
				}
				if rows := auditEvents(t, h, "member.invite"); rows[0].DateCreated != DemoEpoch() || rows[0].Data == nil {
					t.Errorf("newest member.invite = %+v", rows[0])
				}
			}
		})
	}
}

func TestOrgAuthTokens(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	h.do("POST", org+"/org-auth-tokens/", DemoOwnerToken, map[string]any{"name": ""}).want(t, 400)
	var tok sentry.OrgAuthToken
	h.do("POST", org+"/org-auth-tokens/", DemoOwnerToken, map[string]any{"name": "deploys"}).want(t, 201).decode(t, &tok)
	if !strings.HasPrefix(tok.Token, "sntrys_") || !slices.Equal(tok.Scopes, []string{"org:ci"}) {
		t.Fatalf("token = %+v", tok)
	}
	// An org auth token holds only org:ci: it cannot even read the org.
	h.do("GET", org+"/", tok.Token, nil).want(t, 403)
	h.do("DELETE", org+"/org-auth-tokens/"+tok.ID+"/", DemoOwnerToken, nil).want(t, 204)
	h.do("GET", org+"/", tok.Token, nil).want(t, 401)
	if rows := auditEvents(t, h, "org-auth-token.remove"); len(rows) != 1 {
		t.Errorf("org-auth-token.remove entries = %d", len(rows))
	}
}

func TestOpenMembershipGivesTeamAccess(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	h.do("PUT", org+"/", DemoMemberToken, map[string]any{"openMembership": true}).want(t, 403)
	var o sentry.Organization
	h.do("PUT", org+"/", DemoOwnerToken, map[string]any{"openMembership": true}).want(t, 200).decode(t, &o)
	if !o.OpenMembership {
		t.Fatal("openMembership not saved")
	}
	var tm sentry.Team
	h.do("GET", "/api/0/teams/acme/notifications/", DemoMemberToken, nil).want(t, 200).decode(t, &tm)
	if !tm.HasAccess || tm.IsMember || tm.TeamRole != nil {
		t.Errorf("notifications for Priya under open membership = %+v", tm)
	}
	if rows := auditEvents(t, h, "org.edit"); len(rows) != 1 {
		t.Errorf("org.edit entries = %d", len(rows))
	}
}

func TestUserTokenScopesAreBoundedByTheRole(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	// Priya's token lists org:admin, but a member holds no org:admin.
	var o sentry.Organization
	h.do("GET", org+"/", DemoMemberToken, nil).want(t, 200).decode(t, &o)
	if slices.Contains(o.Access, "org:admin") || slices.Contains(o.Access, "member:admin") || !slices.Contains(o.Access, "member:invite") {
		t.Errorf("member access = %v", o.Access)
	}
}
