package gosentry

import (
	"net/http"
	"slices"
	"testing"

	"github.com/jianyuan/go-sentry/v2/sentry"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// projectTeams renders a go-sentry project's teams as sorted slugs.
func projectTeams(p *sentry.Project) []string {
	out := make([]string, 0, len(p.Teams))
	for _, t := range p.Teams {
		out = append(out, str(t.Slug))
	}
	return sorted(out)
}

// projectsByTeam is what a fixture says: each project's sorted team slugs.
func projectsByTeam(fx *sentrysim.Fixture) map[string][]string {
	out := map[string][]string{}
	for _, p := range fx.Projects {
		out[p.Slug] = sorted(p.Teams)
	}
	return out
}

// TestProjectListsReachEveryProject pages OrganizationProjects.List and
// Projects.List over 150 projects with go-sentry's cursor: every project
// once, in two pages, with its teams (organization_projects.py: paginated
// unless all_projects=1, which go-sentry does not send; project_index.py:
// DateTimePaginator, 100 a page, here for an integration, which lists
// every project).
func TestProjectListsReachEveryProject(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 10, Teams: 30, Projects: 150, Seed: 5})
	s := start(t, fx, sentrysim.Options{})
	want := projectsByTeam(fx)
	check := func(call string, projects []*sentry.Project, pages int) {
		t.Helper()
		if pages != 2 {
			t.Errorf("%s: %d pages, want 2", call, pages)
		}
		seen := map[string]bool{}
		for _, p := range projects {
			if seen[p.Slug] {
				t.Errorf("%s: %s twice", call, p.Slug)
			}
			seen[p.Slug] = true
			if teams, ok := want[p.Slug]; !ok || !slices.Equal(projectTeams(p), teams) {
				t.Errorf("%s: %s teams %v, want %v", call, p.Slug, projectTeams(p), teams)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("%s: %d projects, want %d", call, len(seen), len(want))
		}
	}
	c := s.owner()
	projects, pages := listAll(t, "OrganizationProjects.List", func(p *sentry.ListCursorParams) ([]*sentry.Project, *sentry.Response, error) {
		return c.OrganizationProjects.List(ctx, org, &sentry.ListOrganizationProjectsParams{ListCursorParams: *p})
	})
	check("OrganizationProjects.List", projects, pages)
	c = s.client(sentrysim.DemoIntegrationToken)
	projects, pages = listAll(t, "Projects.List", func(p *sentry.ListCursorParams) ([]*sentry.Project, *sentry.Response, error) {
		return c.Projects.List(ctx, &sentry.ListProjectsParams{ListCursorParams: *p})
	})
	check("Projects.List", projects, pages)
}

// TestProjectsList runs go-sentry's Projects.List (GET /api/0/projects/,
// src/sentry/core/endpoints/project_index.py): a user's token lists the
// projects of the teams its user is on, whatever the org role; an
// internal integration's token every project of its organization; each
// project with its organization, newest first. An org auth token holds no
// project scope (ProjectPermission's scope_map) and is refused.
func TestProjectsList(t *testing.T) {
	t.Parallel()
	fx := sentrysim.DemoFixture()
	s := start(t, fx, sentrysim.Options{})
	list := func(token string) []string {
		t.Helper()
		c := s.client(token)
		projects, _ := listAll(t, "Projects.List", func(p *sentry.ListCursorParams) ([]*sentry.Project, *sentry.Response, error) {
			return c.Projects.List(ctx, &sentry.ListProjectsParams{ListCursorParams: *p})
		})
		var out []string
		for i, p := range projects {
			if str(p.Organization.Slug) != org {
				t.Errorf("Projects.List: %s organization.slug %q, want %q", p.Slug, str(p.Organization.Slug), org)
			}
			if i > 0 && p.DateCreated.After(projects[i-1].DateCreated) {
				t.Errorf("Projects.List: %s (%v) after %s (%v), want newest first", p.Slug, p.DateCreated, projects[i-1].Slug, projects[i-1].DateCreated)
			}
			out = append(out, p.Slug)
		}
		return sorted(out)
	}
	onTeams := func(email string) []string {
		var teams []string
		for _, m := range fx.Members {
			if m.Email == email {
				for _, tm := range m.Teams {
					teams = append(teams, tm.Team)
				}
			}
		}
		var out []string
		for _, p := range fx.Projects {
			for _, tm := range p.Teams {
				if slices.Contains(teams, tm) {
					out = append(out, p.Slug)
					break
				}
			}
		}
		return sorted(out)
	}
	var all []string
	for _, p := range fx.Projects {
		all = append(all, p.Slug)
	}
	for _, tc := range []struct {
		who, token string
		want       []string
	}{
		// The owner is on platform only: an owner's role does not widen
		// "your projects".
		{"owner", sentrysim.DemoOwnerToken, onTeams(sentrysim.DemoOwnerEmail)},
		{"member", sentrysim.DemoMemberToken, onTeams("priya.patel@acme.test")},
		{"integration", sentrysim.DemoIntegrationToken, sorted(all)},
	} {
		if got := list(tc.token); !slices.Equal(got, tc.want) {
			t.Errorf("Projects.List as %s = %v, want %v", tc.who, got, tc.want)
		}
	}
	_, _, err := s.client(sentrysim.DemoCIToken).Projects.List(ctx, nil)
	refused(t, "Projects.List with an org auth token", err, http.StatusForbidden, "You do not have permission to perform this action.", false)
}

// TestProjectGetAndTeams runs Projects.Get, AddTeam and RemoveTeam as the
// Terraform provider's sentry_project and team links do: the project with
// its organization and teams (project_details.py,
// DetailedProjectSerializer), a team added (201 with the project) and
// removed (200), each seen on the next Get
// (project_team_details.py).
func TestProjectGetAndTeams(t *testing.T) {
	t.Parallel()
	s := demo(t)
	c := s.owner()
	get := func() *sentry.Project {
		t.Helper()
		p, _, err := c.Projects.Get(ctx, org, "search-indexer")
		must(t, "Projects.Get", err)
		return p
	}
	p := get()
	if p.ID != "214" || p.Slug != "search-indexer" || p.Platform != "rust" || !p.HasAccess ||
		str(p.Organization.Slug) != org || str(p.Organization.Name) != "Acme Corp" ||
		str(p.Team.Slug) != "backend-eng" || !slices.Equal(projectTeams(p), []string{"backend-eng"}) {
		t.Errorf("Projects.Get = id %s slug %s platform %s hasAccess %t organization %s/%s team %s teams %v",
			p.ID, p.Slug, p.Platform, p.HasAccess, str(p.Organization.Slug), str(p.Organization.Name), str(p.Team.Slug), projectTeams(p))
	}

	added, resp, err := c.Projects.AddTeam(ctx, org, "search-indexer", "payments")
	must(t, "Projects.AddTeam", err)
	if resp.StatusCode != http.StatusCreated || !slices.Equal(projectTeams(added), []string{"backend-eng", "payments"}) {
		t.Errorf("Projects.AddTeam = %d teams %v, want 201 [backend-eng payments]", resp.StatusCode, projectTeams(added))
	}
	if got := projectTeams(get()); !slices.Equal(got, []string{"backend-eng", "payments"}) {
		t.Errorf("Projects.Get after AddTeam: teams %v", got)
	}
	// Priya, Team Admin of payments (project:write on the project) but a
	// contributor on backend-eng, may not unlink backend-eng: 403 whose
	// detail is a list (project_team_details.py, delete: has_team_scope).
	_, err = s.client(sentrysim.DemoMemberToken).Projects.RemoveTeam(ctx, org, "search-indexer", "backend-eng")
	refused(t, "Projects.RemoveTeam(backend-eng) by a contributor", err, http.StatusForbidden, "You do not have permission to perform this action.", true)
	resp, err = c.Projects.RemoveTeam(ctx, org, "search-indexer", "backend-eng")
	must(t, "Projects.RemoveTeam", err)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("Projects.RemoveTeam = %d, want 200", resp.StatusCode)
	}
	if p := get(); !slices.Equal(projectTeams(p), []string{"payments"}) || str(p.Team.Slug) != "payments" {
		t.Errorf("Projects.Get after RemoveTeam: team %s teams %v, want payments", str(p.Team.Slug), projectTeams(p))
	}

	_, _, err = c.Projects.Get(ctx, org, "no-such-project")
	refused(t, "Projects.Get(unknown)", err, http.StatusNotFound, "The requested resource does not exist", false)
}
