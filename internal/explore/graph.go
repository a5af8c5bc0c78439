package explore

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// The graph page shows the org as three layers, members | teams | projects,
// with an edge member → team (labelled with the effective team role) and
// team → project for each link. Focusing a member, team or project keeps
// exactly the paths that grant access through it.
//
// Why server-side SVG and no JavaScript graph library: an org of 10,000
// members, 1,000 teams and 3,000 projects has tens of thousands of edges,
// far too many to ship to a browser or to read. The question a reviewer
// asks is always about one node ("how does Ana reach payment-api?"), so
// the server focuses and filters, caps each layer at GraphCap nodes (with an
// "and N more" node), and lays the few remaining nodes out in fixed
// columns. The layered layout needs no force simulation, is deterministic
// (testable with goquery), renders as plain SVG under the strict CSP (no
// inline script or style), works without JavaScript, and each node is a
// link that refocuses the graph through htmx.

// GraphCap is the most nodes a graph column shows.
const GraphCap = 25

// Graph layout, in SVG user units.
const (
	graphColW  = 250
	graphGap   = 110
	graphRowH  = 30
	graphNodeH = 24
	graphTop   = 34
	graphPad   = 8
	// graphPortH is the vertical distance between the edges leaving one
	// member node; each edge's role label sits just above its own port, so
	// labels are graphPortH apart and never overlap (font-size 10px).
	graphPortH = 12
	// GraphLabelH and GraphLabelCharW bound an edge label's box: baseline
	// at LabelY, at most GraphLabelH above it, GraphLabelCharW per rune.
	GraphLabelH     = 10
	GraphLabelCharW = 6
)

// GraphQuery focuses and filters the graph. Focus is "member:<id>",
// "team:<slug>", "project:<slug>" or empty.
type GraphQuery struct {
	Focus string
	Role  string // only members with this org role
	Team  string // only this team
}

// GraphNode is one positioned node. More > 0 marks an "and N more" node.
type GraphNode struct {
	Kind    string // "member", "team", "project", "more"
	ID      string
	Label   string
	Sub     string
	X, Y    int
	W, H    int
	Focused bool
	Href    string // refocuses the graph on this node
	More    int
}

// GraphEdge is one positioned edge. Grants is false for a membership that
// grants nothing (drawn dashed). A labelled edge (member → team, with the
// effective team role) has its label's baseline start at LabelX, LabelY:
// just after its own port on the member node, so the labels of a member
// with several teams stack instead of overlapping.
type GraphEdge struct {
	X1, Y1, X2, Y2 int
	Label          string
	LabelX, LabelY int
	Grants         bool
}

// Graph is the laid-out graph.
type Graph struct {
	Snapshot      SnapshotInfo
	Query         GraphQuery
	Columns       [3]string // column titles
	ColumnX       [3]int
	Nodes         []GraphNode
	Edges         []GraphEdge
	Width, Height int
	Notes         []string
	Roles         []string
	Teams         []string
	FocusLabel    string
}

// Graph returns the focused, filtered and laid-out graph. A bad focus or
// filter is EINVALID; an unknown focused node is ENOTFOUND.
func (s *Service) Graph(ctx context.Context, q GraphQuery) (Graph, error) {
	st, err := s.load()
	if err != nil {
		return Graph{}, err
	}
	if _, ok := st.roleRank[q.Role]; q.Role != "" && !ok {
		return Graph{}, invalid("role %q is not an org role.", q.Role)
	}
	if _, ok := st.teamBySlug[q.Team]; q.Team != "" && !ok {
		return Graph{}, invalid("team %q does not exist.", q.Team)
	}
	g := Graph{Snapshot: st.info(), Query: q, Columns: [3]string{"Members", "Teams", "Projects"}}
	for _, r := range st.eng.OrgRoles() {
		g.Roles = append(g.Roles, r.ID)
	}
	for _, t := range st.teams {
		g.Teams = append(g.Teams, t.t.Slug)
	}
	kind, id, _ := strings.Cut(q.Focus, ":")
	var members, teams, projects []int // indexes into st.members / st.teams / st.projects
	roleOK := func(mi int) bool { return q.Role == "" || st.members[mi].m.OrgRole == q.Role }
	teamOK := func(ti int) bool { return q.Team == "" || st.teams[ti].t.Slug == q.Team }
	switch kind {
	case "":
		if q.Team != "" {
			teams = []int{st.teamBySlug[q.Team]}
		} else {
			teams = identity(len(st.teams))
			slices.SortStableFunc(teams, func(a, b int) int { return st.teams[b].members - st.teams[a].members })
		}
		teams = capInts(teams, GraphCap)
		members = st.membersOn(teams, roleOK)
		projects = st.projectsOf(teams)
		g.Notes = append(g.Notes, "Largest teams first. Click a node to focus it and see exactly the paths that grant access through it.")
	case "member":
		mi, ok := st.byID[id]
		if !ok {
			return Graph{}, notFound("No member %q in snapshot %d.", id, st.meta.ID)
		}
		members = []int{mi}
		row := &st.members[mi]
		g.FocusLabel = row.m.Email
		for _, t := range row.teams {
			if ti, ok := st.teamBySlug[t]; ok && teamOK(ti) {
				teams = append(teams, ti)
			}
		}
		projects = st.projectsOf(teams)
		if row.global {
			g.Notes = append(g.Notes, fmt.Sprintf("%s has global access (%s): it reaches all %d projects, not only those shown through its teams.", row.m.Email, row.globalBy, len(st.projects)))
		}
	case "team":
		ti, ok := st.teamBySlug[id]
		if !ok {
			return Graph{}, notFound("No team %q in snapshot %d.", id, st.meta.ID)
		}
		g.FocusLabel = id
		teams = []int{ti}
		members = st.membersOn(teams, roleOK)
		projects = st.projectsOf(teams)
	case "project":
		pi, ok := st.projectBySlug[id]
		if !ok {
			return Graph{}, notFound("No project %q in snapshot %d.", id, st.meta.ID)
		}
		g.FocusLabel = id
		projects = []int{pi}
		for _, t := range slices.Sorted(slices.Values(st.projects[pi].p.Teams)) {
			if ti, ok := st.teamBySlug[t]; ok && teamOK(ti) {
				teams = append(teams, ti)
			}
		}
		members = st.membersOn(teams, roleOK)
		global := 0
		for i := range st.members {
			if st.members[i].global && roleOK(i) {
				global++
			}
		}
		if global > 0 {
			g.Notes = append(g.Notes, fmt.Sprintf("%d more members reach %s through global access (open membership or a global org role); they are not drawn.", global, id))
		}
		if len(teams) == 0 {
			g.Notes = append(g.Notes, id+" is linked to no team: only members with global access reach it.")
		}
	default:
		return Graph{}, invalid("focus must be member:<id>, team:<slug> or project:<slug> (got %q).", q.Focus)
	}
	st.layout(&g, kind, id, members, teams, projects)
	return g, ctx.Err()
}

// membersOn returns the members on any of teams who pass ok, by email.
func (st *state) membersOn(teams []int, ok func(int) bool) []int {
	seen := map[int]bool{}
	var out []int
	for _, ti := range teams {
		for _, mi := range st.teamSeats[ti] {
			if !seen[mi] && ok(mi) {
				seen[mi] = true
				out = append(out, mi)
			}
		}
	}
	slices.Sort(out) // member indexes are in email order
	return out
}

// projectsOf returns the projects linked to any of teams, by slug.
func (st *state) projectsOf(teams []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, ti := range teams {
		for _, ps := range st.teams[ti].projects {
			pi := st.projectBySlug[ps]
			if !seen[pi] {
				seen[pi] = true
				out = append(out, pi)
			}
		}
	}
	slices.Sort(out)
	return out
}

func capInts(s []int, n int) []int {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (st *state) layout(g *Graph, kind, id string, members, teams, projects []int) {
	q := g.Query
	href := func(focus string) string {
		v := url.Values{"focus": {focus}}
		if q.Role != "" {
			v.Set("role", q.Role)
		}
		if q.Team != "" {
			v.Set("team", q.Team)
		}
		return "/graph?" + v.Encode()
	}
	for c := range g.ColumnX {
		g.ColumnX[c] = graphPad + c*(graphColW+graphGap)
	}
	bottom := graphTop + graphRowH // at least one row
	memberY, teamY, projectY := map[int]int{}, map[int]int{}, map[int]int{}
	// place lays out a column top-down; height(i) is a node's height (a
	// member node grows with its edges), ys gets each node's top.
	place := func(col int, idx []int, ys map[int]int, height func(i int) int, node func(i int) GraphNode) {
		shown := capInts(idx, GraphCap)
		y := graphTop
		for _, i := range shown {
			n := node(i)
			n.X, n.Y, n.W, n.H = g.ColumnX[col], y, graphColW, height(i)
			ys[i] = n.Y
			g.Nodes = append(g.Nodes, n)
			y += n.H + graphRowH - graphNodeH
		}
		if more := len(idx) - len(shown); more > 0 {
			g.Nodes = append(g.Nodes, GraphNode{Kind: "more", Label: fmt.Sprintf("and %d more", more), More: more,
				X: g.ColumnX[col], Y: y, W: graphColW, H: graphNodeH})
			y += graphRowH
		}
		bottom = max(bottom, y)
	}
	fixed := func(int) int { return graphNodeH }
	place(1, teams, teamY, fixed, func(i int) GraphNode {
		t := st.teams[i].t
		sub := fmt.Sprintf("%d members", st.teams[i].members)
		if t.IDPProvisioned {
			sub += " · SCIM"
		}
		return GraphNode{Kind: "team", ID: t.Slug, Label: t.Slug, Sub: sub, Focused: kind == "team" && id == t.Slug, Href: href("team:" + t.Slug)}
	})
	place(2, projects, projectY, fixed, func(i int) GraphNode {
		p := st.projects[i].p
		return GraphNode{Kind: "project", ID: p.Slug, Label: p.Slug, Sub: p.Platform, Focused: kind == "project" && id == p.Slug, Href: href("project:" + p.Slug)}
	})
	// member → team edges, labelled with the effective team role. Each
	// edge leaves its member node at its own port, graphPortH apart, in the
	// order of the teams' rows so that they do not cross; the node is as
	// tall as its ports need.
	type memberEdge struct {
		team   int
		label  string
		grants bool
	}
	edgesOf := map[int][]memberEdge{}
	for _, mi := range capInts(members, GraphCap) {
		ma, err := st.eng.Member(st.members[mi].m.ID)
		if err != nil {
			continue
		}
		for _, ta := range ma.Teams {
			ti, ok := st.teamBySlug[ta.Slug]
			if _, shown := teamY[ti]; !ok || !shown {
				continue
			}
			label := ta.EffectiveRole
			if label == "" {
				label = "grants nothing"
			}
			edgesOf[mi] = append(edgesOf[mi], memberEdge{team: ti, label: label, grants: ta.EffectiveRole != ""})
		}
		slices.SortStableFunc(edgesOf[mi], func(a, b memberEdge) int { return teamY[a.team] - teamY[b.team] })
	}
	place(0, members, memberY, func(i int) int {
		return max(graphNodeH, graphPortH*len(edgesOf[i])+graphNodeH-graphPortH)
	}, func(i int) GraphNode {
		m := st.members[i].m
		return GraphNode{Kind: "member", ID: m.ID, Label: m.Email, Sub: m.OrgRole, Focused: kind == "member" && id == m.ID, Href: href("member:" + m.ID)}
	})
	// Members were placed last (their heights need the shown teams); list
	// the nodes column by column as before.
	slices.SortStableFunc(g.Nodes, func(a, b GraphNode) int { return a.X - b.X })
	x1, x2 := g.ColumnX[0]+graphColW, g.ColumnX[1]
	for _, mi := range sortedKeys(memberY) {
		for j, e := range edgesOf[mi] {
			port := memberY[mi] + graphPortH*(j+1)
			g.Edges = append(g.Edges, GraphEdge{X1: x1, Y1: port, X2: x2, Y2: teamY[e.team] + graphNodeH/2,
				Label: e.label, LabelX: x1 + 4, LabelY: port - 2, Grants: e.grants})
		}
	}
	x1, x2 = g.ColumnX[1]+graphColW, g.ColumnX[2]
	for _, ti := range sortedKeys(teamY) {
		for _, ps := range st.teams[ti].projects {
			if y2, ok := projectY[st.projectBySlug[ps]]; ok {
				g.Edges = append(g.Edges, GraphEdge{X1: x1, Y1: teamY[ti] + graphNodeH/2, X2: x2, Y2: y2 + graphNodeH/2, Grants: true})
			}
		}
	}
	g.Width = g.ColumnX[2] + graphColW + graphPad
	g.Height = bottom + graphPad
}

func sortedKeys(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
