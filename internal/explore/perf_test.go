package explore_test

import (
	"fmt"
	"slices"
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
	d, err := svc.Member(t.Context(), "cat@acme.test", 1) // on payments and web
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.ProjectPage.Total, 254; got != want {
		t.Fatalf("total = %d, want every project: %d", got, want)
	}
	if len(d.Access.Projects) != 0 {
		t.Errorf("the member page resolves all %d projects, want only the page's", len(d.Access.Projects))
	}
	// Projects are by slug: checkout, orphan, p000…p249, payment-api, site.
	tests := []struct {
		page, wantPage, wantRows int
		wantFirst                string
	}{
		{0, 1, explore.ProjectPageSize, "checkout"},
		{1, 1, explore.ProjectPageSize, "checkout"},
		{2, 2, explore.ProjectPageSize, "p098"},
		{3, 3, 54, "p198"},
		{9, 3, 54, "p198"}, // past the end: the last page
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("page ", tt.page), func(t *testing.T) {
			got, err := svc.Member(t.Context(), "cat@acme.test", tt.page)
			if err != nil {
				t.Fatal(err)
			}
			if got.ProjectPage.Number != tt.wantPage || len(got.Projects) != tt.wantRows || got.Projects[0].Slug != tt.wantFirst {
				t.Errorf("got page %d with %d rows from %s, want page %d with %d rows from %s",
					got.ProjectPage.Number, len(got.Projects), got.Projects[0].Slug, tt.wantPage, tt.wantRows, tt.wantFirst)
			}
			if !slices.Equal(viaOf(got), viaOf(d)) {
				t.Errorf("page %d counts %v by path, page 1 %v: want every page to count every project", tt.page, viaOf(got), viaOf(d))
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

func viaOf(d explore.MemberDetail) []string {
	var out []string
	for _, v := range d.Via {
		out = append(out, fmt.Sprint(v.Path.Kind, "/", v.Path.Team, "=", v.Projects))
	}
	return out
}
