package conformance

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

const (
	srcTeams         = "src/sentry/core/endpoints/organization_teams.py"
	srcTeamDetails   = "src/sentry/core/endpoints/team_details.py"
	srcProjects      = "src/sentry/core/endpoints/organization_projects.py"
	srcProjectIndex  = "src/sentry/core/endpoints/project_index.py"
	tProjectIndex    = "tests/sentry/core/endpoints/test_project_index.py"
	srcProjectTeam   = "src/sentry/core/endpoints/project_team_details.py"
	tProjectTeam     = "tests/sentry/core/endpoints/test_project_team_details.py"
	srcAccessRequest = "src/sentry/api/endpoints/organization_access_request_details.py"
	srcAuditLogs     = "src/sentry/core/endpoints/organization_auditlogs.py"
	tAuditLogs       = "tests/sentry/core/endpoints/test_organization_auditlogs.py"
	srcOrgTokens     = "src/sentry/api/endpoints/org_auth_tokens.py"
	srcRateLimit     = "src/sentry/middleware/ratelimit.py"
	srcPaginator     = "src/sentry/api/base.py: Endpoint.paginate, src/sentry/api/paginator.py"

	teams        = "/api/0/organizations/{org}/teams/"
	projects     = "/api/0/organizations/{org}/projects/"
	yourProjects = "/api/0/projects/"
)

// slugs decodes a list answer into its "slug" values.
func slugs(t *testing.T, body []byte) []string {
	t.Helper()
	var items []struct{ Slug string }
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("list %s: %v", body, err)
	}
	out := []string{}
	for _, it := range items {
		out = append(out, it.Slug)
	}
	return out
}

func listIs(actor, path string, want ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		equal(t, "GET "+path+" as "+actor, slugs(t, w.do(t, actor, "GET", path, nil).body), want)
	}
}

func TestTeams(t *testing.T) {
	t.Parallel()
	runRules(t, []rule{
		{name: "teams are listed by slug", sentry: srcTeams + ": get (order_by slug)",
			as: "owner", method: "GET", path: teams, status: 200,
			want: `[{"slug":"idp-team"},{"slug":"other-team"},{"slug":"team"}]`},
		{name: "an unknown query key matches nothing", sentry: srcTeams + ": get (queryset.none())",
			as: "owner", method: "GET", path: teams + "?query=bogus:x", status: 200, want: `[]`},
		{name: "a non-numeric id: filter is 400", sentry: srcTeams + ": get (ParseError Invalid id value)",
			as: "owner", method: "GET", path: teams + "?query=id:abc", status: 400, want: `{"detail":"Invalid id value"}`},
		{name: "creating a team adds its creator with a null team role", sentry: srcTeams + ": post (OrganizationMemberTeam without a role)",
			as: "admin", method: "POST", path: teams, body: map[string]any{"slug": "new-team"}, status: 201,
			want: `{"slug":"new-team"}`, then: storedTeamRoleOn("admin", "new-team", "")},
		{name: "a taken slug is 409", sentry: srcTeams + ": post (IntegrityError: CONFLICTING_SLUG_ERROR)",
			as: "owner", method: "POST", path: teams, body: map[string]any{"slug": "team"}, status: 409,
			want: `{"non_field_errors":["A team with this slug already exists."],"detail":"A team with this slug already exists."}`},
		{name: "a team needs a name or a slug", sentry: srcTeams + ": TeamPostSerializer.validate",
			as: "owner", method: "POST", path: teams, body: map[string]any{}, status: 400,
			want: `{"non_field_errors":["Name or slug is required"]}`},
		{name: "an all-numeric slug is 400", sentry: srcTeams + ": TeamPostSerializer (SentrySerializerSlugField)",
			as: "owner", method: "POST", path: teams, body: map[string]any{"slug": "1234"}, status: 400},
		{name: "creating a team needs org:write, org:admin or team:write", sentry: srcTeams + ": OrganizationTeamsPermission",
			as: "member", method: "POST", path: teams, body: map[string]any{"slug": "new-team"}, status: 403},
		{name: "PUT renames a team", sentry: srcTeamDetails + ": put",
			as: "owner", method: "PUT", path: "/api/0/teams/{org}/team/", body: map[string]any{"slug": "renamed", "name": "Renamed"}, status: 200,
			want: `{"slug":"renamed","name":"Renamed"}`},
		{name: "PUT to a taken slug is 400 on slug", sentry: srcTeamDetails + ": TeamDetailsSerializer.validate_slug",
			as: "owner", method: "PUT", path: "/api/0/teams/{org}/team/", body: map[string]any{"slug": "other-team"}, status: 400,
			want: `{"slug":["The slug \"other-team\" is already in use."]}`},
		{name: "PUT of an IdP-provisioned team is 403", sentry: srcTeamDetails + ": put (can_modify_idp_team)",
			as: "owner", method: "PUT", path: "/api/0/teams/{org}/idp-team/", body: map[string]any{"name": "x"}, status: 403,
			want: `{"detail":"This team is managed through your organization's identity provider."}`},
		{name: "DELETE of an IdP-provisioned team is 403", sentry: srcTeamDetails + ": delete (can_modify_idp_team)",
			as: "owner", method: "DELETE", path: "/api/0/teams/{org}/idp-team/", status: 403},
		{name: "DELETE removes a team", sentry: srcTeamDetails + ": delete",
			as: "owner", method: "DELETE", path: "/api/0/teams/{org}/other-team/", status: 204,
			then: func(t *testing.T, w *world) {
				equal(t, "GET the deleted team", w.do(t, "owner", "GET", "/api/0/teams/{org}/other-team/", nil).status, 404)
			}},
	})
}

func storedTeamRoleOn(name, team, want string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		got, on := w.teamRole(t, name, team)
		if !on {
			t.Fatalf("%s is not on %s", name, team)
		}
		equal(t, name+"'s stored role on "+team, got, want)
	}
}

func linkOtherTeam(fx *sentrysim.Fixture) {
	for i := range fx.Projects {
		if fx.Projects[i].Slug == "project" {
			fx.Projects[i].Teams = append(fx.Projects[i].Teams, "other-team")
		}
	}
}

func TestProjects(t *testing.T) {
	t.Parallel()
	closed := opts{closed: true}
	runRules(t, []rule{
		{name: "the list holds every project, whatever the caller reaches", sentry: srcProjects + ": get (Project.objects.filter(organization))",
			opts: closed, as: "member", method: "GET", path: projects, status: 200,
			want: `[{"slug":"orphan","hasAccess":false},{"slug":"other-project","hasAccess":false},{"slug":"project","hasAccess":false}]`},
		{name: "an integration token (a proxy user) lists projects without a team too", sentry: srcProjects + ": get (only tokens without a user are limited to projects with teams)",
			as: "integration[org:read project:read]", method: "GET", path: projects, status: 200,
			then: listIs("integration[org:read project:read]", projects, "orphan", "other-project", "project")},
		{name: "all_projects=1 is one unpaginated list", sentry: srcProjects + ": get (get_all_projects)",
			as: "owner", method: "GET", path: projects + "?all_projects=1&per_page=1", status: 200,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "owner", "GET", projects+"?all_projects=1&per_page=1", nil)
				equal(t, "projects", len(slugs(t, a.body)), 3)
				equal(t, "Link header", a.header.Get("Link"), "")
			}},
		{name: "an unknown query key matches nothing", sentry: srcProjects + ": get (queryset.none())",
			as: "owner", method: "GET", path: projects + "?query=bogus:1", status: 200, want: `[]`},
		{name: "a non-integer id: filter is 400", sentry: srcProjects + ": get (All 'id' values must be integers.)",
			as: "owner", method: "GET", path: projects + "?query=id:x", status: 400,
			want: `{"error":{"params":{"stats_period":{"message":"All 'id' values must be integers."}}}}`},
		{name: "team: and !team: filter by team", sentry: srcProjects + ": get (team, !team)",
			as: "owner", method: "GET", path: projects + "?query=team:team", status: 200, want: `[{"slug":"project"}]`,
			then: listIs("owner", projects+"?query=!team:team", "orphan", "other-project")},
		{name: "is_member: keeps the caller's projects whatever its value", sentry: srcProjects + ": get (is_member filters on the user's teams)",
			as: "member_on_team", method: "GET", path: projects + "?query=is_member:false", status: 200, want: `[{"slug":"project"}]`},
		{name: "GET a project", sentry: "src/sentry/core/endpoints/project_details.py: get",
			as: "owner", method: "GET", path: "/api/0/projects/{org}/project/", status: 200, want: `{"slug":"project","teams":[{"slug":"team"}]}`},
		{name: "GET a project needs access to it", sentry: "src/sentry/api/bases/project.py: ProjectPermission",
			opts: closed, as: "member", method: "GET", path: "/api/0/projects/{org}/project/", status: 403},
		{name: "GET a project through team membership", sentry: "src/sentry/api/bases/project.py: ProjectPermission",
			opts: closed, as: "member_on_team", method: "GET", path: "/api/0/projects/{org}/project/", status: 200},
		{name: "GET an unknown project is 404", sentry: "src/sentry/api/bases/project.py: ProjectEndpoint.convert_args",
			as: "owner", method: "GET", path: "/api/0/projects/{org}/nope/", status: 404},
		{name: "GET a project carries its organization", sentry: "src/sentry/api/serializers/models/project.py: DetailedProjectSerializer (\"organization\": attrs[\"org\"])",
			as: "owner", method: "GET", path: "/api/0/projects/{org}/project/", status: 200,
			want: `{"slug":"project","organization":{"id":"1","slug":"acme","name":"Acme"}}`},
	})
}

// TestYourProjects is GET /api/0/projects/, the list go-sentry's
// Projects.List reads.
func TestYourProjects(t *testing.T) {
	t.Parallel()
	integration := "integration[project:read]"
	sortedIs := func(actor, path string, want ...string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			t.Helper()
			got := slugs(t, w.do(t, actor, "GET", path, nil).body)
			slices.Sort(got)
			equal(t, "GET "+path+" as "+actor+" (sorted)", got, want)
		}
	}
	runRules(t, []rule{
		{name: "a user lists the projects of the teams it is on, each with its organization", sentry: tProjectIndex + "::test_member_constraints",
			as: "member_on_team", method: "GET", path: yourProjects, status: 200,
			want: `[{"slug":"project","organization":{"id":"1","slug":"acme"}}]`},
		{name: "an owner on no team lists no project", sentry: tProjectIndex + "::test_show_all_without_superuser",
			as: "owner", method: "GET", path: yourProjects, status: 200, want: `[]`},
		{name: "an internal integration lists every project of its organization", sentry: tProjectIndex + "::test_valid_with_internal_integration",
			as: integration, method: "GET", path: yourProjects, status: 200,
			then: sortedIs(integration, yourProjects, "orphan", "other-project", "project")},
		{name: "organizationId keeps that organization's projects", sentry: tProjectIndex + "::test_filter_by_org_id",
			as: "member_on_team", method: "GET", path: yourProjects + "?organizationId=2", status: 200, want: `[]`,
			then: listIs("member_on_team", yourProjects+"?organizationId=1", "project")},
		{name: "query matches the name or slug", sentry: tProjectIndex + "::test_query_filter",
			as: integration, method: "GET", path: yourProjects + "?query=other", status: 200, want: `[{"slug":"other-project"}]`,
			then: listIs(integration, yourProjects+"?query=baz")},
		{name: "slug: matches the slug", sentry: tProjectIndex + "::test_slug_query",
			as: integration, method: "GET", path: yourProjects + "?query=slug:orphan", status: 200, want: `[{"slug":"orphan"}]`,
			then: listIs(integration, yourProjects+"?query=slug:baz")},
		{name: "id: matches the id", sentry: tProjectIndex + "::test_id_query",
			as: integration, method: "GET", path: yourProjects + "?query=id:201", status: 200, want: `[{"slug":"other-project"}]`,
			then: listIs(integration, yourProjects+"?query=id:-1")},
		{name: "a non-integer id: is 400", sentry: srcProjectIndex + ": get (ParseError Invalid project ID)",
			as: integration, method: "GET", path: yourProjects + "?query=id:x", status: 400, want: `{"detail":"Invalid project ID: x"}`},
		{name: "an unknown query key matches nothing", sentry: srcProjectIndex + ": get (queryset.none())",
			as: integration, method: "GET", path: yourProjects + "?query=bogus:1", status: 200, want: `[]`},
		{name: "status=deleted lists no active project", sentry: tProjectIndex + "::test_status_filter",
			as: integration, method: "GET", path: yourProjects + "?status=deleted", status: 200, want: `[]`},
		{name: "a token without a project scope is refused", sentry: srcProjectIndex + ": ProjectPermission (ScopedPermission.has_permission: the token's own scopes)",
			as: "member_on_team[org:read team:read]", method: "GET", path: yourProjects, status: 403,
			want: `{"detail":"You do not have permission to perform this action."}`},
		{name: "an org auth token (org:ci) is refused", sentry: srcProjectIndex + ": ProjectPermission (ScopedPermission.has_permission)",
			as: "orgtoken", method: "GET", path: yourProjects, status: 403},
		{name: "the list is paged newest first by date", sentry: srcProjectIndex + ": paginate (DateTimePaginator, order_by -date_added)",
			opts: opts{tweak: func(fx *sentrysim.Fixture) {
				for i := range fx.Projects {
					fx.Projects[i].DateCreated = epoch.Add(-time.Duration(i) * time.Hour)
				}
			}},
			as: integration, method: "GET", path: yourProjects + "?per_page=2", status: 200,
			want: `[{"slug":"project"},{"slug":"other-project"}]`,
			then: func(t *testing.T, w *world) {
				a := w.do(t, integration, "GET", yourProjects+"?per_page=2", nil)
				m := regexp.MustCompile(`rel="next"; results="true"; cursor="([^"]+)"`).FindStringSubmatch(a.header.Get("Link"))
				if m == nil {
					t.Fatalf("Link %q has no next page", a.header.Get("Link"))
				}
				next := m[1]
				equal(t, "second page", slugs(t, w.do(t, integration, "GET", yourProjects+"?per_page=2&cursor="+next, nil).body), []string{"orphan"})
			}},
	})
}

func TestProjectTeams(t *testing.T) {
	t.Parallel()
	denied := `{"detail":["You do not have permission to perform this action."]}`
	runRules(t, []rule{
		{name: "a team is linked by slug", sentry: tProjectTeam + "::test_add_team",
			as: "owner", method: "POST", path: "/api/0/projects/{org}/orphan/teams/team/", status: 201, want: `{"slug":"orphan","teams":[{"slug":"team"}]}`},
		{name: "a team is linked by id", sentry: tProjectTeam + "::test_add_team",
			as: "owner", method: "POST", path: "/api/0/projects/{org}/orphan/teams/102/", status: 201},
		{name: "an unknown team is 404 Team does not exist.", sentry: tProjectTeam + "::test_add_team_not_found",
			as: "owner", method: "POST", path: "/api/0/projects/{org}/project/teams/not-a-team/", status: 404,
			want: `{"detail":"Team does not exist."}`},
		{name: "a Team Admin of the project's team may link other teams", sentry: tProjectTeam + "::test_add_team_with_team_role",
			as: "team_admin", method: "POST", path: "/api/0/projects/{org}/project/teams/other-team/", status: 201},
		{name: "a contributor cannot link teams", sentry: tProjectTeam + "::test_add_team_with_team_role",
			as: "member_on_team", method: "POST", path: "/api/0/projects/{org}/project/teams/other-team/", status: 403},
		{name: "a team is unlinked", sentry: tProjectTeam + "::test_remove_team",
			as: "owner", method: "DELETE", path: "/api/0/projects/{org}/project/teams/team/", status: 200, want: `{"teams":[]}`},
		{name: "unlinking an unknown team is 404", sentry: tProjectTeam + "::test_remove_team_not_found",
			as: "owner", method: "DELETE", path: "/api/0/projects/{org}/project/teams/not-a-team/", status: 404,
			want: `{"detail":"Team does not exist."}`},
		{name: "a Team Admin may unlink their own team", sentry: tProjectTeam + "::test_remove_team_with_team_role",
			opts: opts{tweak: linkOtherTeam}, as: "team_admin", method: "DELETE", path: "/api/0/projects/{org}/project/teams/team/", status: 200},
		{name: "a Team Admin may not unlink a team they do not admin", sentry: tProjectTeam + "::test_remove_team_with_team_role",
			opts: opts{tweak: linkOtherTeam}, as: "team_admin", method: "DELETE", path: "/api/0/projects/{org}/project/teams/other-team/", status: 403,
			want: denied},
		{name: "a contributor may not unlink", sentry: tProjectTeam + "::test_remove_team_with_team_role",
			as: "member_on_team", method: "DELETE", path: "/api/0/projects/{org}/project/teams/team/", status: 403},
	})
}

func withAccessRequest(fx *sentrysim.Fixture) {
	fx.AccessRequests = append(fx.AccessRequests, sentrysim.AccessRequestFixture{Member: emailOf("member"), Team: "team"})
}

// resolve PUTs the world's one access request as actor.
func resolve(t *testing.T, w *world, actor string, body any) answer {
	t.Helper()
	var ars []struct{ ID string }
	if err := json.Unmarshal(w.do(t, "owner", "GET", "/api/0/organizations/{org}/access-requests/", nil).body, &ars); err != nil || len(ars) != 1 {
		t.Fatalf("access requests: %v %v", ars, err)
	}
	return w.do(t, actor, "PUT", "/api/0/organizations/{org}/access-requests/"+ars[0].ID+"/", body)
}

func TestAccessRequests(t *testing.T) {
	t.Parallel()
	o := opts{closed: true, tweak: withAccessRequest}
	list := "/api/0/organizations/{org}/access-requests/"
	runRules(t, []rule{
		{name: "org:write lists every request", sentry: srcAccessRequest + ": get",
			opts: o, as: "owner", method: "GET", path: list, status: 200, want: `[{"member":{"email":"member@example.com"},"team":{"slug":"team"}}]`},
		{name: "without team:write the list is empty", sentry: srcAccessRequest + ": get (empty response without access)",
			opts: o, as: "member", method: "GET", path: list, status: 200, want: `[]`},
		{name: "approving adds the member and removes the request", sentry: srcAccessRequest + ": put",
			opts: o, as: "owner", method: "GET", path: list, status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "PUT status", resolve(t, w, "owner", map[string]any{"isApproved": true}).status, 204)
				onTeam("member", "team", true)(t, w)
				requests()(t, w)
			}},
		{name: "denying removes the request only", sentry: srcAccessRequest + ": put",
			opts: o, as: "owner", method: "GET", path: list, status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "PUT status", resolve(t, w, "owner", map[string]any{"isApproved": false}).status, 204)
				onTeam("member", "team", false)(t, w)
				requests()(t, w)
			}},
		{name: "isApproved is required", sentry: srcAccessRequest + ": put (is_approved None: 400)",
			opts: o, as: "owner", method: "GET", path: list, status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "PUT status", resolve(t, w, "owner", map[string]any{}).status, 400)
			}},
		{name: "a member may not resolve requests (checked before the body)", sentry: srcAccessRequest + ": put (_can_access: 403)",
			opts: o, as: "owner", actors: []string{"member_on_team"}, method: "GET", path: list, status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "PUT status", resolve(t, w, "member_on_team", map[string]any{}).status, 403)
			}},
		{name: "an unknown request is 404", sentry: srcAccessRequest + ": put (ResourceDoesNotExist)",
			opts: o, as: "owner", method: "PUT", path: list + "999999/", body: map[string]any{"isApproved": true}, status: 404},
	})
}

func withAudit(fx *sentrysim.Fixture) {
	fx.AuditLog = append(fx.AuditLog,
		sentrysim.AuditEntryFixture{Event: "org.edit", Actor: emailOf("owner"), DateCreated: epoch.Add(-48 * time.Hour)},
		sentrysim.AuditEntryFixture{Event: "org.edit", Actor: emailOf("manager"), DateCreated: epoch.Add(-12 * time.Hour)},
		sentrysim.AuditEntryFixture{Event: "team.create", Actor: emailOf("owner"), DateCreated: epoch.Add(-time.Hour)},
	)
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	o := opts{tweak: withAudit}
	logs := "/api/0/organizations/{org}/audit-logs/"
	rows := func(t *testing.T, w *world, q string) []string {
		t.Helper()
		var page struct {
			Rows []struct {
				Event string
				Actor struct{ Email string }
			}
		}
		if err := json.Unmarshal(w.do(t, "owner", "GET", logs+q, nil).body, &page); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range page.Rows {
			out = append(out, r.Event+" by "+strings.TrimSuffix(r.Actor.Email, "@example.com"))
		}
		return out
	}
	rowsAre := func(q string, want ...string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) { t.Helper(); equal(t, "rows of "+q, rows(t, w, q), want) }
	}
	runRules(t, []rule{
		{name: "rows come newest first with every event name as options", sentry: tAuditLogs + "::test_simple, test_options_data_included",
			opts: o, as: "owner", method: "GET", path: logs, status: 200,
			then: rowsAre("", "team.create by owner", "org.edit by manager", "org.edit by owner")},
		{name: "event= filters by event name", sentry: tAuditLogs + "::test_filter_by_event",
			opts: o, as: "owner", method: "GET", path: logs + "?event=team.create", status: 200, then: rowsAre("?event=team.create", "team.create by owner")},
		{name: "actor= filters by user id", sentry: tAuditLogs + "::test_filter_by_user",
			opts: o, as: "owner", method: "GET", path: logs, status: 200, then: rowsAre("?actor=1002", "org.edit by manager")},
		{name: "an unknown event is no rows", sentry: tAuditLogs + "::test_invalid_event",
			opts: o, as: "owner", method: "GET", path: logs + "?event=wrong", status: 200, want: `{"rows":[]}`},
		{name: "an actor id beyond 32 bits is 400", sentry: tAuditLogs + "::test_user_out_of_bounds",
			opts: o, as: "owner", method: "GET", path: logs + "?actor=111111111111", status: 400,
			want: `{"actor":["Ensure this value is less than or equal to 2147483647."]}`},
		{name: "statsPeriod keeps recent rows", sentry: tAuditLogs + "::test_filter_by_stats_period",
			opts: o, as: "owner", method: "GET", path: logs + "?statsPeriod=1d", status: 200,
			then: rowsAre("?statsPeriod=1d", "team.create by owner", "org.edit by manager")},
		{name: "reading the audit log needs org:write", sentry: "src/sentry/api/bases/organization.py: OrganizationAuditPermission",
			opts: o, as: "member", method: "GET", path: logs, status: 403},
	})
}

func TestOrgAuthTokens(t *testing.T) {
	t.Parallel()
	tokens := "/api/0/organizations/{org}/org-auth-tokens/"
	runRules(t, []rule{
		{name: "a new token is org:ci and shown once", sentry: srcOrgTokens + ": post",
			as: "owner", method: "POST", path: tokens, body: map[string]any{"name": "deploys"}, status: 201,
			want: `{"name":"deploys","scopes":["org:ci"]}`,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "owner", "GET", tokens, nil)
				if strings.Contains(string(a.body), `"token"`) {
					t.Errorf("the list shows token values: %s", a.body)
				}
			}},
		{name: "a blank name is 400", sentry: srcOrgTokens + ": post (The name cannot be blank.)",
			as: "owner", method: "POST", path: tokens, body: map[string]any{"name": ""}, status: 400,
			want: `{"detail":"The name cannot be blank."}`},
		{name: "a name over 255 characters is 400", sentry: srcOrgTokens + ": post (MAX_NAME_LENGTH)",
			as: "owner", method: "POST", path: tokens, body: map[string]any{"name": strings.Repeat("x", 256)}, status: 400,
			want: `{"detail":"The name cannot be longer than 255 characters."}`},
		{name: "an org auth token cannot read members", sentry: "src/sentry/api/endpoints/org_auth_tokens.py: scope_list=[\"org:ci\"]",
			as: "orgtoken", method: "GET", path: members, status: 403},
	})
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	limited := sentrysim.Options{RateLimit: sentrysim.RateLimit{PerWindow: 1, Window: time.Second, Headers: true}}
	selfHosted := sentrysim.Options{RateLimit: sentrysim.RateLimit{PerWindow: 1, Window: time.Second}}
	runRules(t, []rule{
		{name: "past the limit Sentry answers 429 with its message and headers, without Retry-After", sentry: srcRateLimit + ": process_view, process_response",
			sim: limited, as: "owner", method: "GET", path: teams, status: 200,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "owner", "GET", teams, nil)
				equal(t, "status", a.status, http.StatusTooManyRequests)
				if err := contains(a.body, `{"detail":"You are attempting to use this endpoint too frequently. Limit is 1 requests in 1 seconds"}`); err != nil {
					t.Error(err)
				}
				for _, h := range []string{"X-Sentry-Rate-Limit-Limit", "X-Sentry-Rate-Limit-Remaining", "X-Sentry-Rate-Limit-Reset"} {
					if a.header.Get(h) == "" {
						t.Errorf("no %s header", h)
					}
				}
				equal(t, "Retry-After", a.header.Get("Retry-After"), "")
			}},
		{name: "the limit is per caller and endpoint", sentry: srcRateLimit + ": get_rate_limit_key (category and endpoint)",
			sim: limited, as: "owner", method: "GET", path: teams, status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "another endpoint", w.do(t, "owner", "GET", projects, nil).status, 200)
			}},
		{name: "without rate-limit headers (self-hosted) a 429 still comes", sentry: srcRateLimit + " (headers only where the rate limiter reports)",
			sim: selfHosted, as: "owner", method: "GET", path: teams, status: 200,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "owner", "GET", teams, nil)
				equal(t, "status", a.status, http.StatusTooManyRequests)
				equal(t, "limit header", a.header.Get("X-Sentry-Rate-Limit-Limit"), "")
			}},
	})
}

func TestPagination(t *testing.T) {
	t.Parallel()
	runRules(t, []rule{
		{name: "a page carries previous and next links with results and cursor", sentry: srcPaginator,
			as: "owner", method: "GET", path: members + "?per_page=2", status: 200,
			then: func(t *testing.T, w *world) {
				link := w.do(t, "owner", "GET", members+"?per_page=2", nil).header.Get("Link")
				for _, part := range []string{`rel="previous"; results="false"`, `rel="next"; results="true"; cursor="2:1:0"`} {
					if !strings.Contains(link, part) {
						t.Errorf("Link %q lacks %q", link, part)
					}
				}
			}},
		{name: "per_page over 100 is 400", sentry: srcPaginator + " (get_per_page)",
			as: "owner", method: "GET", path: members + "?per_page=101", status: 400,
			want: `{"detail":"Invalid per_page value. Cannot exceed 100."}`},
		{name: "a non-integer per_page is 400", sentry: srcPaginator + " (get_per_page)",
			as: "owner", method: "GET", path: members + "?per_page=x", status: 400, want: `{"detail":"Invalid per_page parameter."}`},
		{name: "a malformed cursor is 400", sentry: srcPaginator + " (Cursor.from_string)",
			as: "owner", method: "GET", path: members + "?cursor=nope", status: 400, want: `{"detail":"Invalid cursor parameter."}`},
	})
}
