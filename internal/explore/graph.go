package explore

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
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
	graphGap   = 160
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

// GraphQuery focuses and filters the graph. Focus is "member:<id or
// email>", "team:<slug>", "project:<slug>", a bare email or slug (a
// member's email, else a team's slug, else a project's slug, else a
// member's id) or empty. MembersFrom, TeamsFrom and ProjectsFrom are the
// first row shown of each column (0-based): the slice an "and N more"
// node opens.
type GraphQuery struct {
	Focus string
	Role  string // only members with this org role
	Team  string // only this team

	MembersFrom, TeamsFrom, ProjectsFrom int
}

// Query parameters of the column offsets.
const (
	paramMembersFrom  = "mfrom"
	paramTeamsFrom    = "tfrom"
	paramProjectsFrom = "pfrom"
)

// ParseGraphQuery reads a GraphQuery from the graph page's query string:
// focus, role, team, and the column offsets mfrom, tfrom and pfrom (whole
// numbers of 0 or more; anything else is EINVALID).
func ParseGraphQuery(v url.Values) (GraphQuery, error) {
	q := GraphQuery{Focus: strings.TrimSpace(v.Get("focus")), Role: v.Get("role"), Team: v.Get("team")}
	for name, dst := range map[string]*int{paramMembersFrom: &q.MembersFrom, paramTeamsFrom: &q.TeamsFrom, paramProjectsFrom: &q.ProjectsFrom} {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, invalid("%s must be a whole number of 0 or more (got %q).", name, s)
		}
		*dst = n
	}
	return q, nil
}

// url is the graph page for q.
func (q GraphQuery) url() string {
	v := url.Values{}
	for _, kv := range [][2]string{{"focus", q.Focus}, {"role", q.Role}, {"team", q.Team}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	for name, n := range map[string]int{paramMembersFrom: q.MembersFrom, paramTeamsFrom: q.TeamsFrom, paramProjectsFrom: q.ProjectsFrom} {
		if n > 0 {
			v.Set(name, strconv.Itoa(n))
		}
	}
	if len(v) == 0 {
		return "/graph"
	}
	return "/graph?" + v.Encode()
}

// GraphNode is one positioned node. Kind "more" is a node that opens
// another slice of its column: More > 0 for "and N more" (the next slice),
// Before > 0 for "N before" (the previous one).
type GraphNode struct {
	Kind    string // "member", "team", "project", "more"
	ID      string
	Label   string
	Sub     string
	X, Y    int
	W, H    int
	Focused bool
	Href    string // refocuses the graph on this node, or opens the slice
	More    int
	Before  int
}

// GraphEdge is one positioned edge. Grants is false for a membership that
// grants nothing (drawn dashed). A labelled edge (member → team, with the
// effective team role) has its label's baseline start at LabelX, LabelY:
// just after its own port on the member node, so the labels of a member
// with several teams stack instead of overlapping. The edge runs straight
// from X1 to LeadX at Y1, under its label, and then curves to X2, Y2: every
// labelled edge has the same LeadX, past the longest label, so no curve
// passes over a label.
type GraphEdge struct {
	X1, Y1, X2, Y2 int
	LeadX          int
	Label          string
	LabelX, LabelY int
	Grants         bool
}

// Path is the edge as an SVG path: the straight lead, then a cubic whose
// control points sit halfway across at the start's and the end's height.
func (e GraphEdge) Path() string {
	c := (e.LeadX + e.X2) / 2
	return fmt.Sprintf("M%d,%d H%d C%d,%d %d,%d %d,%d", e.X1, e.Y1, e.LeadX, c, e.Y1, c, e.Y2, e.X2, e.Y2)
}

// EdgePoints samples the edge as Path draws it: n points along the lead
// and n along the curve.
func EdgePoints(e GraphEdge, n int) [][2]float64 {
	var out [][2]float64
	for i := range n {
		f := float64(i) / float64(n)
		out = append(out, [2]float64{float64(e.X1) + f*float64(e.LeadX-e.X1), float64(e.Y1)})
	}
	x0, y0, x3, y3 := float64(e.LeadX), float64(e.Y1), float64(e.X2), float64(e.Y2)
	c := float64((e.LeadX + e.X2) / 2)
	for i := range n + 1 {
		t := float64(i) / float64(n)
		u := 1 - t
		x := u*u*u*x0 + 3*u*u*t*c + 3*u*t*t*c + t*t*t*x3
		y := u*u*u*y0 + 3*u*u*t*y0 + 3*u*t*t*y3 + t*t*t*y3
		out = append(out, [2]float64{x, y})
	}
	return out
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
	g.Teams = st.teamSlugs
	kind, id, err := st.resolveFocus(q.Focus)
	if err != nil {
		return Graph{}, err
	}
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
		g.Notes = append(g.Notes, "Largest teams first. Click a node to focus it and see exactly the paths that grant access through it.")
		// The columns show the members and projects of the teams shown.
		shown, _, _ := window(teams, q.TeamsFrom)
		members = st.membersOn(shown, roleOK)
		projects = st.projectsOf(shown)
	case "member":
		mi := st.byID[id]
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
		ti := st.teamBySlug[id]
		g.FocusLabel = id
		teams = []int{ti}
		members = st.membersOn(teams, roleOK)
		projects = st.projectsOf(teams)
	case "project":
		pi := st.projectBySlug[id]
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
	}
	st.layout(&g, kind, id, members, teams, projects)
	return g, ctx.Err()
}

// resolveFocus turns a focus into its kind and the id the layout uses (a
// member's id, a team's or project's slug): "member:<id or email>",
// "team:<slug>", "project:<slug>", or a bare email or slug. An unknown node
// is ENOTFOUND; an unknown kind EINVALID. An empty focus is ("", "").
func (st *state) resolveFocus(focus string) (kind, id string, err error) {
	if focus == "" {
		return "", "", nil
	}
	member := func(ref string) (string, bool) {
		if i, ok := st.byID[ref]; ok {
			return st.members[i].m.ID, true
		}
		if i, ok := st.byEmail[strings.ToLower(ref)]; ok {
			return st.members[i].m.ID, true
		}
		return "", false
	}
	kind, ref, typed := strings.Cut(focus, ":")
	if !typed {
		ref = focus
		if id, ok := member(ref); ok && strings.Contains(ref, "@") {
			return "member", id, nil
		}
		if _, ok := st.teamBySlug[ref]; ok {
			return "team", ref, nil
		}
		if _, ok := st.projectBySlug[ref]; ok {
			return "project", ref, nil
		}
		if id, ok := member(ref); ok {
			return "member", id, nil
		}
		return "", "", notFound("No member, team or project %q in snapshot %d: focus on a member's email, or a team's or project's slug.", ref, st.meta.ID)
	}
	switch kind {
	case "member":
		if id, ok := member(ref); ok {
			return kind, id, nil
		}
		return "", "", notFound("No member %q in snapshot %d.", ref, st.meta.ID)
	case "team":
		if _, ok := st.teamBySlug[ref]; ok {
			return kind, ref, nil
		}
		return "", "", notFound("No team %q in snapshot %d.", ref, st.meta.ID)
	case "project":
		if _, ok := st.projectBySlug[ref]; ok {
			return kind, ref, nil
		}
		return "", "", notFound("No project %q in snapshot %d.", ref, st.meta.ID)
	}
	return "", "", invalid("focus must be a member's email, a team's or project's slug, or member:<id>, team:<slug> or project:<slug> (got %q).", focus)
}

// window returns the GraphCap indexes of idx from from on, and how many
// come before and after them.
func window(idx []int, from int) (shown []int, before, after int) {
	from = min(max(from, 0), max(len(idx)-1, 0))
	shown = capInts(idx[min(from, len(idx)):], GraphCap)
	return shown, min(from, len(idx)), len(idx) - min(from, len(idx)) - len(shown)
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
		return GraphQuery{Focus: focus, Role: q.Role, Team: q.Team}.url()
	}
	// from returns the offset of column col; at sets it on a copy of q.
	from := func(col int) int { return [3]int{q.MembersFrom, q.TeamsFrom, q.ProjectsFrom}[col] }
	at := func(col, n int) string {
		s := q
		switch col {
		case 0:
			s.MembersFrom = n
		case 1:
			s.TeamsFrom = n
		default:
			s.ProjectsFrom = n
		}
		return s.url()
	}
	for c := range g.ColumnX {
		g.ColumnX[c] = graphPad + c*(graphColW+graphGap)
	}
	bottom := graphTop + graphRowH // at least one row
	memberY, teamY, projectY := map[int]int{}, map[int]int{}, map[int]int{}
	// place lays out a column top-down; height(i) is a node's height (a
	// member node grows with its edges), ys gets each node's top.
	place := func(col int, idx []int, ys map[int]int, height func(i int) int, node func(i int) GraphNode) {
		shown, before, after := window(idx, from(col))
		y := graphTop
		if before > 0 {
			g.Nodes = append(g.Nodes, GraphNode{Kind: "more", Label: fmt.Sprintf("%d before", before), Before: before,
				Href: at(col, max(before-GraphCap, 0)), X: g.ColumnX[col], Y: y, W: graphColW, H: graphNodeH})
			y += graphRowH
		}
		for _, i := range shown {
			n := node(i)
			n.X, n.Y, n.W, n.H = g.ColumnX[col], y, graphColW, height(i)
			ys[i] = n.Y
			g.Nodes = append(g.Nodes, n)
			y += n.H + graphRowH - graphNodeH
		}
		if after > 0 {
			g.Nodes = append(g.Nodes, GraphNode{Kind: "more", Label: fmt.Sprintf("and %d more", after), More: after,
				Href: at(col, before+len(shown)), X: g.ColumnX[col], Y: y, W: graphColW, H: graphNodeH})
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
	shownMembers, _, _ := window(members, q.MembersFrom)
	for _, mi := range shownMembers {
		ma, err := st.eng.MemberTeams(st.members[mi].m.ID)
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
	// Every labelled edge runs straight under its label to leadX, past the
	// longest label, before it curves: no curve crosses a label.
	longest := 0
	for _, es := range edgesOf {
		for _, e := range es {
			longest = max(longest, len([]rune(e.label)))
		}
	}
	leadX := x1 + 4 + longest*GraphLabelCharW + 6
	for _, mi := range sortedKeys(memberY) {
		for j, e := range edgesOf[mi] {
			port := memberY[mi] + graphPortH*(j+1)
			g.Edges = append(g.Edges, GraphEdge{X1: x1, Y1: port, X2: x2, Y2: teamY[e.team] + graphNodeH/2, LeadX: leadX,
				Label: e.label, LabelX: x1 + 4, LabelY: port - 2, Grants: e.grants})
		}
	}
	x1, x2 = g.ColumnX[1]+graphColW, g.ColumnX[2]
	for _, ti := range sortedKeys(teamY) {
		for _, ps := range st.teams[ti].projects {
			if y2, ok := projectY[st.projectBySlug[ps]]; ok {
				g.Edges = append(g.Edges, GraphEdge{X1: x1, Y1: teamY[ti] + graphNodeH/2, X2: x2, Y2: y2 + graphNodeH/2, LeadX: x1, Grants: true})
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
