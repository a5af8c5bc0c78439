package explore_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/explore"
)

func TestSearchFindsMembersTeamsAndProjects(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	tests := []struct {
		q                        string
		members, teams, projects []string
		membersN, teamsN, projsN int
	}{
		{"cat", []string{"cat@acme.test"}, nil, nil, 1, 0, 0},
		{"Bob", []string{"bob@acme.test"}, nil, nil, 1, 0, 0}, // by name, any case
		{"pay", nil, []string{"payments"}, []string{"payment-api"}, 0, 1, 1},
		{"web", nil, []string{"web"}, nil, 0, 1, 0},
		{"acme.test", []string{"ana@acme.test", "bob@acme.test", "cat@acme.test", "dan@acme.test", "eve@acme.test", "fay@acme.test"}, nil, nil, 6, 0, 0},
		{"out", nil, nil, []string{"checkout"}, 0, 0, 1},
		{"   ", nil, nil, nil, 0, 0, 0},
		{"zzz", nil, nil, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			r, err := svc.Search(t.Context(), tt.q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ms, ts, ps []string
			for _, m := range r.Members {
				ms = append(ms, m.Email)
			}
			for _, x := range r.Teams {
				ts = append(ts, x.Slug)
			}
			for _, x := range r.Projects {
				ps = append(ps, x.Slug)
			}
			if fmt.Sprint(ms, ts, ps) != fmt.Sprint(tt.members, tt.teams, tt.projects) ||
				r.MembersTotal != tt.membersN || r.TeamsTotal != tt.teamsN || r.ProjectsTotal != tt.projsN {
				t.Errorf("Search(%q) = %v %v %v (%d/%d/%d), want %v %v %v (%d/%d/%d)", tt.q, ms, ts, ps,
					r.MembersTotal, r.TeamsTotal, r.ProjectsTotal, tt.members, tt.teams, tt.projects, tt.membersN, tt.teamsN, tt.projsN)
			}
		})
	}
	t.Run("prefix matches come first and the limit holds", func(t *testing.T) {
		r, err := svc.Search(t.Context(), "a", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Members) != 2 || r.Members[0].Email != "ana@acme.test" || r.MembersTotal != 6 {
			t.Errorf("members %+v (total %d), want ana first, two kept of 6", r.Members, r.MembersTotal)
		}
	})
}

// bigOrg is an org of n members on n/10 teams with n*3/10 projects.
func bigOrg(n int) *access.Snapshot {
	s := &access.Snapshot{Org: access.Org{Slug: "acme"}}
	for i := range n / 10 {
		s.Teams = append(s.Teams, access.Team{ID: fmt.Sprint(i), Slug: fmt.Sprintf("team-%05d", i), Name: fmt.Sprintf("Team %05d", i)})
	}
	for i := range n * 3 / 10 {
		s.Projects = append(s.Projects, access.Project{ID: fmt.Sprint(i), Slug: fmt.Sprintf("project-%05d", i), Teams: []string{s.Teams[i%len(s.Teams)].Slug}})
	}
	for i := range n {
		s.Members = append(s.Members, access.Member{ID: fmt.Sprint(i), Email: fmt.Sprintf("user%05d@acme.test", i), Name: fmt.Sprintf("User %05d", i),
			OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: s.Teams[i%len(s.Teams)].Slug}}})
	}
	return s
}

// BenchmarkSearch10k is the top bar's search at 10,000 members, 1,000
// teams and 3,000 projects.
func BenchmarkSearch10k(b *testing.B) {
	svc := explore.New(&memSource{snaps: []*access.Snapshot{bigOrg(10000)}}, explore.Options{})
	if err := svc.Reload(b.Context()); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"user0999", "user0"} { // one member; every member
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.Search(b.Context(), q, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Suggestions are the members whose email or name starts with the text,
// in email order, then those that contain it, SuggestLimit in all; the
// same for projects by slug and name.
func TestSuggestListsPrefixMatchesFirstUpToTheLimit(t *testing.T) {
	t.Parallel()
	snap := bigOrg(1000)
	svc := explore.New(&memSource{snaps: []*access.Snapshot{snap}}, explore.Options{})
	if err := svc.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := func(texts []string, values []string, q string) []string {
		var prefix, inner []string
		for i, text := range texts {
			switch {
			case strings.HasPrefix(text, q):
				prefix = append(prefix, values[i])
			case strings.Contains(text, q):
				inner = append(inner, values[i])
			}
		}
		out := append(prefix, inner...)
		return out[:min(len(out), explore.SuggestLimit)]
	}
	var memberTexts, emails, projectTexts, slugs []string
	for _, m := range snap.Members { // bigOrg's members are in email order
		memberTexts, emails = append(memberTexts, strings.ToLower(m.Email+" "+m.Name)), append(emails, m.Email)
	}
	for _, p := range snap.Projects {
		projectTexts, slugs = append(projectTexts, strings.ToLower(p.Slug+" "+p.Name)), append(slugs, p.Slug)
	}
	for _, tt := range []struct{ kind, q string }{
		{"member", "user0001"}, // ten prefix matches, then none inside
		{"member", "0001"},     // only inner matches: emails and names
		{"member", "5@acme"},   // more inner matches than the limit
		{"member", "user 009"}, // by name
		{"member", "nobody"},
		{"project", "project-0002"},
		{"project", "02"},
	} {
		t.Run(tt.kind+" "+tt.q, func(t *testing.T) {
			got, err := svc.Suggest(t.Context(), tt.kind, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var values []string
			for _, sg := range got {
				values = append(values, sg.Value)
			}
			texts, all := memberTexts, emails
			if tt.kind == "project" {
				texts, all = projectTexts, slugs
			}
			if w := want(texts, all, tt.q); !slices.Equal(values, w) {
				t.Errorf("Suggest(%s, %q) = %v, want %v", tt.kind, tt.q, values, w)
			}
		})
	}
}
