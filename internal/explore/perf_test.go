package explore_test

import (
	"fmt"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/explore"
)

// openOrg is org() with open membership and 250 more projects on team web:
// every active member reaches all 254 projects.
func openOrg() *access.Snapshot {
	s := org()
	s.Org.OpenMembership = true
	for i := range 250 {
		s.Projects = append(s.Projects, access.Project{ID: fmt.Sprint(1000 + i), Slug: fmt.Sprintf("p%03d", i), Teams: []string{"web"}})
	}
	return s
}

func TestAMemberPageListsItsProjectsAPageAtATimeWithCountsByPath(t *testing.T) {
	t.Parallel()
	svc := newService(t, openOrg())
	d, err := svc.Member(t.Context(), "cat@acme.test") // on payments and web
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.ProjectPage.Total, 254; got != want || len(d.Access.Projects) != want {
		t.Fatalf("total = %d (access lists %d), want every project: %d", got, len(d.Access.Projects), want)
	}
	tests := []struct {
		page, wantPage, wantRows int
		wantFirst                string
	}{
		{0, 1, explore.ProjectPageSize, d.Access.Projects[0].Slug},
		{1, 1, explore.ProjectPageSize, d.Access.Projects[0].Slug},
		{3, 3, 54, d.Access.Projects[200].Slug},
		{9, 3, 54, d.Access.Projects[200].Slug}, // past the end: the last page
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("page ", tt.page), func(t *testing.T) {
			got := d.ProjectsOnPage(tt.page)
			if got.ProjectPage.Number != tt.wantPage || len(got.Projects) != tt.wantRows || got.Projects[0].Slug != tt.wantFirst {
				t.Errorf("got page %d with %d rows from %s, want page %d with %d rows from %s",
					got.ProjectPage.Number, len(got.Projects), got.Projects[0].Slug, tt.wantPage, tt.wantRows, tt.wantFirst)
			}
		})
	}

	// Counts cover every project, not only the page: open membership
	// reaches all 254; team web links 252 (site, checkout and the 250),
	// team payments 2 (payment-api, checkout).
	want := map[string]int{"open-membership/": 254, "team/web": 252, "team/payments": 2}
	got := map[string]int{}
	for _, v := range d.Via {
		got[string(v.Path.Kind)+"/"+v.Path.Team] = v.Projects
		if v.Path.Detail != "" {
			t.Errorf("via %s carries a project's detail %q", v.Path.Kind, v.Path.Detail)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("via = %v, want %v", got, want)
	}
	if d.Via[0].Path.Kind != access.PathOpenMembership {
		t.Errorf("first via = %s, want the path reaching the most projects (open membership)", d.Via[0].Path.Kind)
	}
}
