package explore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// ProjectQuery filters, sorts and pages the project list.
type ProjectQuery struct {
	Q      string // substring of slug, name or platform
	Team   string // linked to this team
	NoTeam bool   // only projects linked to no team
	Sort   string // "slug", "reach"; a leading "-" reverses
	Page   int
}

// ProjectRow is one project in the list.
type ProjectRow struct {
	Slug     string
	Name     string
	Platform string
	Teams    []string
	Reach    int // active members who reach it
}

// ProjectList is a page of projects.
type ProjectList struct {
	Snapshot SnapshotInfo
	Query    ProjectQuery
	Rows     []ProjectRow
	Page     Page
	Teams    []string
}

// Projects returns one page of the projects matching q.
func (s *Service) Projects(ctx context.Context, q ProjectQuery) (ProjectList, error) {
	st, err := s.load()
	if err != nil {
		return ProjectList{}, err
	}
	var problems []string
	if !slices.Contains([]string{"", "slug", "-slug", "reach", "-reach"}, q.Sort) {
		problems = append(problems, "sort must be one of slug, -slug, reach, -reach (got \""+q.Sort+"\")")
	}
	if _, ok := st.teamBySlug[q.Team]; q.Team != "" && !ok {
		problems = append(problems, "team \""+q.Team+"\" does not exist")
	}
	if len(problems) > 0 {
		return ProjectList{}, invalid("%s.", strings.Join(problems, "; "))
	}
	needle := strings.ToLower(strings.TrimSpace(q.Q))
	var hits []int
	for i, p := range st.projects {
		switch {
		case needle != "" && !strings.Contains(p.filter, needle),
			q.Team != "" && !slices.Contains(p.p.Teams, q.Team),
			q.NoTeam && st.linkedTeams(p.p) > 0:
			continue
		}
		hits = append(hits, i)
	}
	switch q.Sort {
	case "-slug":
		slices.Reverse(hits)
	case "reach":
		slices.SortStableFunc(hits, func(a, b int) int { return st.projects[b].reach - st.projects[a].reach })
	case "-reach":
		slices.SortStableFunc(hits, func(a, b int) int { return st.projects[a].reach - st.projects[b].reach })
	}
	page, lo, hi := paginate(len(hits), q.Page, PageSize)
	q.Page = page.Number
	out := ProjectList{Snapshot: st.info(), Query: q, Page: page}
	for _, i := range hits[lo:hi] {
		out.Rows = append(out.Rows, st.projectRow(i))
	}
	out.Teams = st.teamSlugs
	return out, ctx.Err()
}

// linkedTeams counts the project's teams that exist in the snapshot.
func (st *state) linkedTeams(p *access.Project) int {
	n := 0
	for _, t := range p.Teams {
		if _, ok := st.teamBySlug[t]; ok {
			n++
		}
	}
	return n
}

func (st *state) projectRow(i int) ProjectRow {
	p := st.projects[i]
	teams := slices.Sorted(slices.Values(p.p.Teams))
	return ProjectRow{Slug: p.p.Slug, Name: p.p.Name, Platform: p.p.Platform, Teams: teams, Reach: p.reach}
}

// ProjectRow returns the project's row (its teams and reach) without who
// reaches it by which path. Unknown projects are a ENOTFOUND error.
func (s *Service) ProjectRow(ctx context.Context, slug string) (ProjectRow, error) {
	st, err := s.load()
	if err != nil {
		return ProjectRow{}, err
	}
	pi, ok := st.projectBySlug[slug]
	if !ok {
		return ProjectRow{}, notFound("No project %q in snapshot %d.", slug, st.meta.ID)
	}
	return st.projectRow(pi), ctx.Err()
}

// GroupCap is the most members a project page lists per access path.
const GroupCap = 200

// ProjectGroup is the members reaching a project by one path (open
// membership, a global role, or one team), capped at GroupCap.
type ProjectGroup struct {
	access.PathGroup
	Total int // members in the group before the cap
}

// ProjectDetail is one project: who reaches it and why, grouped by path,
// and the integrations that reach it.
type ProjectDetail struct {
	Snapshot     SnapshotInfo
	Row          ProjectRow
	Groups       []ProjectGroup
	Integrations []access.IntegrationAccess
	// Restricted are the members whose role or teams would reach the
	// project but who are over the plan's member limit: Sentry refuses
	// them in its UI; their user auth tokens still reach it (capped at
	// GroupCap, RestrictedTotal before the cap).
	Restricted      []access.ProjectMember
	RestrictedTotal int
}

// Project returns the project with this slug. Unknown projects are a
// ENOTFOUND error.
func (s *Service) Project(ctx context.Context, slug string) (ProjectDetail, error) {
	st, err := s.load()
	if err != nil {
		return ProjectDetail{}, err
	}
	pi, ok := st.projectBySlug[slug]
	if !ok {
		return ProjectDetail{}, notFound("No project %q in snapshot %d.", slug, st.meta.ID)
	}
	pa, err := st.eng.ProjectGroups(slug, GroupCap)
	if errors.Is(err, access.ErrUnknownProject) {
		return ProjectDetail{}, notFound("No project %q in snapshot %d.", slug, st.meta.ID)
	}
	if err != nil {
		return ProjectDetail{}, err
	}
	d := ProjectDetail{Snapshot: st.info(), Row: st.projectRow(pi), Integrations: pa.Integrations,
		Restricted: pa.Restricted, RestrictedTotal: pa.RestrictedTotal}
	for _, g := range pa.Groups {
		d.Groups = append(d.Groups, ProjectGroup{PathGroup: g.PathGroup, Total: g.Total})
	}
	return d, ctx.Err()
}
