package explore_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// TestGraphFocusAcceptsAnEmailOrASlug: a focus without its kind is a
// member's email, then a team's slug, then a project's slug; the kind may
// also be given with an email.
func TestGraphFocusAcceptsAnEmailOrASlug(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	tests := []struct{ focus, wantLabel string }{
		{"cat@acme.test", "cat@acme.test"},
		{"CAT@acme.test", "cat@acme.test"},
		{"member:cat@acme.test", "cat@acme.test"},
		{"member:3", "cat@acme.test"},
		{"payments", "payments"},
		{"checkout", "checkout"},
		{"team:web", "web"},
	}
	for _, tt := range tests {
		g, err := svc.Graph(t.Context(), explore.GraphQuery{Focus: tt.focus})
		if err != nil {
			t.Errorf("focus %q: %v", tt.focus, err)
			continue
		}
		if g.FocusLabel != tt.wantLabel {
			t.Errorf("focus %q: focused on %q, want %q", tt.focus, g.FocusLabel, tt.wantLabel)
		}
	}
	_, err := svc.Graph(t.Context(), explore.GraphQuery{Focus: "nobody@acme.test"})
	if sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND || !strings.Contains(sentryaccess.ErrorMessage(err), "nobody@acme.test") {
		t.Errorf("an unknown email: %v, want not found naming it", err)
	}
}

// TestGraphMoreNodesOpenTheNextSlice: a column cut at GraphCap ends in an
// "and N more" node that links to the next slice of that column, and the
// next slice starts with a node back to the previous one.
func TestGraphMoreNodesOpenTheNextSlice(t *testing.T) {
	t.Parallel()
	s := org()
	for i := range 60 {
		s.Members = append(s.Members, access.Member{ID: fmt.Sprint(100 + i), Email: fmt.Sprintf("m%02d@acme.test", i), OrgRole: "member",
			State: access.StateActive, Teams: []access.Membership{{Team: "payments"}}})
	}
	svc := newService(t, s)
	q := explore.GraphQuery{Focus: "team:payments"}
	var seen []string
	for range 10 {
		g, err := svc.Graph(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var more *explore.GraphNode
		for i, n := range g.Nodes {
			switch {
			case n.Kind == "member":
				seen = append(seen, n.ID)
			case n.Kind == "more" && n.X == g.ColumnX[0] && n.More > 0:
				more = &g.Nodes[i]
			case n.Kind == "more" && n.X == g.ColumnX[0] && q.MembersFrom > 0 && n.Href == "":
				t.Errorf("the node back to the previous members has no link")
			}
		}
		if more == nil {
			break
		}
		if more.Href == "" {
			t.Fatalf("the %q node has no link", more.Label)
		}
		u, err := url.Parse(more.Href)
		if err != nil {
			t.Fatal(err)
		}
		next, err := explore.ParseGraphQuery(u.Query())
		if err != nil {
			t.Fatal(err)
		}
		if next.Focus != q.Focus || next.MembersFrom != q.MembersFrom+explore.GraphCap {
			t.Fatalf("more links to %+v, want the next slice of %+v", next, q)
		}
		q = next
	}
	if len(seen) != 63 { // bob, cat, eve and the 60
		t.Errorf("slices showed %d members, want all 63 once", len(seen))
	}
}

// TestGraphEdgeCurvesNeverCrossARoleLabel samples every edge's curve (as
// web draws it: a straight lead from the member node under its label, then
// a cubic) and checks that no point lies in any role label's box.
func TestGraphEdgeCurvesNeverCrossARoleLabel(t *testing.T) {
	t.Parallel()
	s := org()
	s.Teams = append(s.Teams, access.Team{ID: "13", Slug: "zeta"}, access.Team{ID: "14", Slug: "alpha"})
	for i := range 12 {
		m := access.Member{ID: fmt.Sprint(100 + i), Email: fmt.Sprintf("m%02d@acme.test", i), OrgRole: "member", State: access.StateActive,
			Teams: []access.Membership{{Team: "zeta", Role: "admin"}, {Team: "payments"}, {Team: "alpha"}}}
		if i%2 == 0 {
			m.Teams = append(m.Teams, access.Membership{Team: "web"}, access.Membership{Team: "empty", Role: "admin"})
		}
		s.Members = append(s.Members, m)
	}
	svc := newService(t, s)
	for _, focus := range []string{"", "team:payments", "project:checkout", "member:100"} {
		g, err := svc.Graph(t.Context(), explore.GraphQuery{Focus: focus})
		if err != nil {
			t.Fatal(err)
		}
		type box struct{ x0, y0, x1, y1 float64 }
		var boxes []box
		for _, e := range g.Edges {
			if e.Label != "" {
				boxes = append(boxes, box{float64(e.LabelX), float64(e.LabelY - explore.GraphLabelH), float64(e.LabelX + explore.GraphLabelCharW*len([]rune(e.Label))), float64(e.LabelY)})
			}
		}
		for _, e := range g.Edges {
			for _, p := range explore.EdgePoints(e, 64) {
				for _, b := range boxes {
					if p[0] > b.x0 && p[0] < b.x1 && p[1] > b.y0 && p[1] < b.y1 {
						t.Errorf("focus %q: the edge to (%d,%d) passes (%.0f,%.0f), inside a role label at (%.0f,%.0f)", focus, e.X2, e.Y2, p[0], p[1], b.x0, b.y1)
					}
				}
			}
		}
	}
}
