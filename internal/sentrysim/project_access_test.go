package sentrysim

import (
	"slices"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// TestProjectAccessIsTheCallersTeamScopes pins the project serializer's
// per-caller "access" (get_access_by_project in
// src/sentry/api/serializers/models/project.py, docs/sentry-access-model.md#effective-access): the
// scopes of the caller's memberships on the project's teams (effective team
// role through Organization.get_scopes) plus the raw scopes of the minimum
// team role of the caller's org role. No org-role scopes, and computed for
// the user, so the token's scopes do not bound it. It used to be the org
// scopes ∩ token plus team scopes, cut to project:/event:/alerts: scopes
// (found by internal/testing/accessdiff).
func TestProjectAccessIsTheCallersTeamScopes(t *testing.T) {
	t.Parallel()
	contributor := []string{"alerts:read", "event:read", "event:write", "member:read", "org:read",
		"project:read", "project:releases", "team:read"}
	teamAdmin := []string{"alerts:read", "alerts:write", "event:admin", "event:read", "event:write",
		"member:read", "org:integrations", "org:read", "project:admin", "project:read", "project:releases",
		"project:write", "team:admin", "team:read", "team:write"}
	closed, open := false, true
	fx := func(openMembership *bool) *Fixture {
		return &Fixture{
			Org:      OrgFixture{Slug: "acme", OpenMembership: openMembership},
			Teams:    []TeamFixture{{Slug: "web"}, {Slug: "ops"}},
			Projects: []ProjectFixture{{Slug: "site", Teams: []string{"web"}}, {Slug: "infra", Teams: []string{"ops"}}},
			Members: []MemberFixture{
				{Email: "ann@acme.test", Role: "member", Teams: []TeamMembership{{Team: "web"}}},
				{Email: "lead@acme.test", Role: "member", Teams: []TeamMembership{{Team: "web", Role: "admin"}}},
				{Email: "old@acme.test", Role: "admin", Teams: []TeamMembership{{Team: "web"}}},
				{Email: "boss@acme.test", Role: "owner"},
			},
			UserTokens: []UserTokenFixture{
				{Token: "t-ann", Member: "ann@acme.test", Scopes: allScopes()},
				{Token: "t-ann-read", Member: "ann@acme.test", Scopes: []string{"org:read"}},
				{Token: "t-lead", Member: "lead@acme.test", Scopes: allScopes()},
				{Token: "t-old", Member: "old@acme.test", Scopes: allScopes()},
				{Token: "t-boss", Member: "boss@acme.test", Scopes: allScopes()},
			},
		}
	}
	tests := []struct {
		name    string
		open    *bool
		token   string
		project string
		want    []string // nil: no access
	}{
		{"a contributor holds the contributor scopes, not her org role's", &closed, "t-ann", "site", contributor},
		{"a token limited to org:read does not narrow it", &closed, "t-ann-read", "site", contributor},
		{"no team on the project, closed membership: no access", &closed, "t-ann", "infra", nil},
		{"open membership: the minimum team role's scopes", &open, "t-ann", "infra", contributor},
		{"a team admin holds the Team Admin scopes", &closed, "t-lead", "site", teamAdmin},
		{"the retired admin's stored null is Team Admin", &closed, "t-old", "site", teamAdmin},
		{"an owner off the project's teams holds Team Admin, not org:admin", &closed, "t-boss", "infra", teamAdmin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fx(tt.open), Options{})
			var ps []sentry.Project
			h.do("GET", "/api/0/organizations/acme/projects/?query=slug:"+tt.project, tt.token, nil).want(t, 200).decode(t, &ps)
			if len(ps) != 1 {
				t.Fatalf("got %d projects, want 1", len(ps))
			}
			got := slices.Sorted(slices.Values(ps[0].Access))
			if ps[0].HasAccess != (tt.want != nil) || !slices.Equal(got, tt.want) {
				t.Errorf("hasAccess=%v access=%v, want access %v", ps[0].HasAccess, got, tt.want)
			}
		})
	}
}

// TestBillingCannotBeAddedToATeam: a role whose isTeamRolesAllowed is off
// (billing) cannot join or be added to a team, whoever asks: 403 "The user
// with a 'billing' role cannot have team-level permissions."
// (OrganizationMemberTeamDetailsEndpoint.post, Sentry's
// test_cannot_add_to_team_when_team_roles_disabled). The simulator used to
// add them, which made a team membership that the engine, following the
// same rule, treats as granting nothing (found by internal/testing/accessdiff).
func TestBillingCannotBeAddedToATeam(t *testing.T) {
	t.Parallel()
	open := true
	fx := &Fixture{
		Org:      OrgFixture{Slug: "acme", OpenMembership: &open},
		Teams:    []TeamFixture{{Slug: "web"}},
		Projects: []ProjectFixture{{Slug: "site", Teams: []string{"web"}}},
		Members: []MemberFixture{
			{ID: 10, Email: "boss@acme.test", Role: "owner", Teams: []TeamMembership{{Team: "web"}}},
			{ID: 11, Email: "bill@acme.test", Role: "billing"},
			{ID: 12, Email: "ann@acme.test", Role: "member"},
		},
		UserTokens: []UserTokenFixture{
			{Token: "t-boss", Member: "boss@acme.test", Scopes: allScopes()},
			{Token: "t-bill", Member: "bill@acme.test", Scopes: allScopes()},
		},
	}
	tests := []struct {
		name, member, token string
		want                int
		detail              string
	}{
		{"an owner cannot add a billing member", "11", "t-boss", 403, `"The user with a 'billing' role cannot have team-level permissions."`},
		{"an owner adds a member", "12", "t-boss", 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fx, Options{})
			r := h.do("POST", "/api/0/organizations/acme/members/"+tt.member+"/teams/web/", tt.token, nil).want(t, tt.want)
			if tt.detail != "" {
				if got := r.detail(t); got != tt.detail {
					t.Errorf("detail = %s, want %s", got, tt.detail)
				}
			}
			var m sentry.Member
			h.do("GET", "/api/0/organizations/acme/members/"+tt.member+"/", "t-boss", nil).want(t, 200).decode(t, &m)
			if got, want := slices.Contains(m.Teams, "web"), tt.want == 201; got != want {
				t.Errorf("on team web = %v, want %v", got, want)
			}
		})
	}
}
