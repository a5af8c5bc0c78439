package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/explore"
)

func renderString(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The list pages with their team filter's option tags prepared are the
// same bytes as with the tags rendered one by one; a selected team, or
// options prepared for another list, renders them one by one.
func TestPreparedTeamOptionsRenderTheSamePages(t *testing.T) {
	t.Parallel()
	var teams []string
	for i := range 300 {
		teams = append(teams, fmt.Sprintf("team-%03d", i))
	}
	p, err := PrepareOptions(context.Background(), teams)
	if err != nil {
		t.Fatal(err)
	}
	other, err := PrepareOptions(context.Background(), append([]string(nil), teams...))
	if err != nil {
		t.Fatal(err)
	}
	for _, team := range []string{"", "team-007"} {
		ml := explore.MemberList{Teams: teams, Query: explore.MemberQuery{Team: team}}
		pl := explore.ProjectList{Teams: teams, Query: explore.ProjectQuery{Team: team}}
		g := explore.Graph{Teams: teams, Query: explore.GraphQuery{Team: team}}
		for name, pages := range map[string][3]templ.Component{
			"prepared":       {MembersPage(ml, p), ProjectsPage(pl, p), GraphPage(g, nil, p)},
			"one by one":     {MembersPage(ml, PreparedOptions{}), ProjectsPage(pl, PreparedOptions{}), GraphPage(g, nil, PreparedOptions{})},
			"another list's": {MembersPage(ml, other), ProjectsPage(pl, other), GraphPage(g, nil, other)},
		} {
			want := [3]string{renderString(t, MembersPage(ml, PreparedOptions{})), renderString(t, ProjectsPage(pl, PreparedOptions{})), renderString(t, GraphPage(g, nil, PreparedOptions{}))}
			for i, c := range pages {
				if got := renderString(t, c); got != want[i] {
					t.Errorf("team %q, %s options: page %d differs from the one rendered one by one", team, name, i)
				}
			}
		}
		if team != "" && !strings.Contains(renderString(t, MembersPage(ml, p)), `value="team-007" selected`) {
			t.Error("the selected team is not selected with prepared options")
		}
	}
}
