package access

import (
	"fmt"
	"slices"
	"strings"
)

// ProjectAccess is everyone who reaches one project and how.
type ProjectAccess struct {
	Project string `json:"project"`
	// Members are the active members who reach the project, sorted by email.
	Members []ProjectMember `json:"members"`
	// Integrations are the internal integrations, which reach every project.
	Integrations []IntegrationAccess `json:"integrations"`
	// Restricted are the members over the plan's member limit whose role
	// or teams would reach the project: Sentry refuses them in its UI, but
	// their user auth tokens still reach it with these scopes and paths.
	Restricted []ProjectMember `json:"restricted"`
}

// ProjectMember is one member who reaches a project.
type ProjectMember struct {
	ID      string   `json:"id"`
	Email   string   `json:"email"`
	OrgRole string   `json:"orgRole"`
	Scopes  []string `json:"scopes"`
	Paths   []Path   `json:"paths"`
}

// IntegrationAccess is an internal integration's reach of a project.
type IntegrationAccess struct {
	Slug   string   `json:"slug"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// Project returns who reaches the project with this slug and by which path.
// It returns ErrUnknownProject when no project matches.
func (e *Engine) Project(slug string) (ProjectAccess, error) {
	p, ok := e.projectBySlug[slug]
	if !ok {
		return ProjectAccess{}, fmt.Errorf("project %q: %w", slug, ErrUnknownProject)
	}
	pa := ProjectAccess{Project: slug, Integrations: e.integrationAccess()}
	candidates := e.projectCandidates(p)
	pa.Members = make([]ProjectMember, 0, len(candidates))
	pa.Restricted = []ProjectMember{}
	for _, i := range candidates {
		mi := &e.members[i]
		list := &pa.Members
		if mi.limited != nil {
			mi, list = mi.limited, &pa.Restricted
		}
		scopes, paths, ok := e.reachOf(mi, p)
		if !ok {
			continue
		}
		*list = append(*list, e.projectMember(i, scopes, paths))
	}
	return pa, nil
}

func (e *Engine) integrationAccess() []IntegrationAccess {
	out := make([]IntegrationAccess, 0, len(e.integrations))
	for _, in := range e.integrations {
		out = append(out, IntegrationAccess{Slug: in.Slug, Name: in.Name, Scopes: in.Scopes})
	}
	return out
}

func (e *Engine) projectMember(i int, scopes []string, paths []Path) ProjectMember {
	m := &e.snap.Members[i]
	return ProjectMember{ID: m.ID, Email: m.Email, OrgRole: m.OrgRole, Scopes: scopes, Paths: paths}
}

// projectCandidates returns, in email order, the members who may reach
// project p: every member under open membership, else the members of its
// teams, the members with a global org role and the restricted members
// whose role would be global.
func (e *Engine) projectCandidates(p int) []int {
	var candidates []int
	if e.snap.Org.OpenMembership {
		candidates = e.emailOrder
	} else {
		seen := make(map[int]bool)
		for _, t := range e.projectTeams[p] {
			for _, sr := range e.teamSeats[t] {
				if !seen[sr.member] {
					seen[sr.member] = true
					candidates = append(candidates, sr.member)
				}
			}
		}
		for _, i := range e.globalOrder {
			if !seen[i] {
				seen[i] = true
				candidates = append(candidates, i)
			}
		}
		for _, i := range e.limitedOrder {
			if !seen[i] && e.members[i].limited.global {
				candidates = append(candidates, i)
			}
		}
		slices.SortFunc(candidates, func(a, b int) int { return e.emailRank[a] - e.emailRank[b] })
	}
	return candidates
}

// ProjectGroups is the project's members grouped by path, as
// Project(slug).Groups() groups them, with each group (and the restricted
// members) cut to its first limit members by email and its full count
// beside it. It resolves the scopes and paths of the members it returns
// only, so a project every member reaches (open membership at 10,000
// members) costs about limit members per group, not every member.
// It returns ErrUnknownProject when no project matches.
func (e *Engine) ProjectGroups(slug string, limit int) (ProjectGroupsAccess, error) {
	p, ok := e.projectBySlug[slug]
	if !ok {
		return ProjectGroupsAccess{}, fmt.Errorf("project %q: %w", slug, ErrUnknownProject)
	}
	out := ProjectGroupsAccess{Project: slug, Integrations: e.integrationAccess(), Restricted: []ProjectMember{}}
	var open, global *CountedGroup
	teams := map[string]*CountedGroup{}
	groupOf := func(kind PathKind, team string) *CountedGroup {
		switch kind {
		case PathOpenMembership:
			if open == nil {
				open = &CountedGroup{PathGroup: PathGroup{Kind: kind, Label: "Open membership"}}
			}
			return open
		case PathGlobalRole:
			if global == nil {
				global = &CountedGroup{PathGroup: PathGroup{Kind: kind, Label: "Global org role"}}
			}
			return global
		case PathTeam:
			g := teams[team]
			if g == nil {
				g = &CountedGroup{PathGroup: PathGroup{Kind: kind, Team: team, Label: "Team " + team}}
				teams[team] = g
			}
			return g
		}
		return nil
	}
	for _, i := range e.projectCandidates(p) {
		mi := &e.members[i]
		if mi.limited != nil {
			if len(out.Restricted) < limit {
				if scopes, paths, ok := e.reachOf(mi.limited, p); ok {
					out.Restricted = append(out.Restricted, e.projectMember(i, scopes, paths))
					out.RestrictedTotal++
				}
			} else if e.reaches(mi.limited, p) {
				out.RestrictedTotal++
			}
			continue
		}
		var resolved ProjectMember // the member's scopes and paths, once a group shows it
		have := false
		e.eachPath(mi, p, func(kind PathKind, team string) {
			g := groupOf(kind, team)
			if g == nil || g.last == i+1 {
				return
			}
			g.last = i + 1
			g.Total++
			if len(g.Members) < limit {
				if !have {
					scopes, paths, _ := e.reachOf(mi, p)
					resolved, have = e.projectMember(i, scopes, paths), true
				}
				g.Members = append(g.Members, resolved)
			}
		})
	}
	for _, g := range []*CountedGroup{open, global} {
		if g != nil {
			out.Groups = append(out.Groups, *g)
		}
	}
	slugs := make([]string, 0, len(teams))
	for s := range teams {
		slugs = append(slugs, s)
	}
	slices.SortFunc(slugs, strings.Compare)
	for _, s := range slugs {
		out.Groups = append(out.Groups, *teams[s])
	}
	return out, nil
}

// ProjectGroupsAccess is what ProjectGroups returns.
type ProjectGroupsAccess struct {
	Project      string
	Groups       []CountedGroup
	Integrations []IntegrationAccess
	// Restricted are the first restricted members who would reach the
	// project (see ProjectAccess.Restricted), RestrictedTotal all of them.
	Restricted      []ProjectMember
	RestrictedTotal int
}

// CountedGroup is a PathGroup cut to a limit, with Total the members it
// holds before the cut.
type CountedGroup struct {
	PathGroup
	Total int
	last  int // 1 + the member last counted, so one member counts once
}

// eachPath calls yield with the kind (and team) of each path by which mi
// reaches project p, the paths reachOf returns, without building them.
func (e *Engine) eachPath(mi *memberInfo, p int, yield func(kind PathKind, team string)) {
	if !mi.active {
		return
	}
	if mi.role >= 0 && mi.global {
		for _, path := range e.globalPaths[mi.role] {
			yield(path.Kind, path.Team)
		}
	}
	for _, st := range mi.seats {
		if st.team >= 0 && st.eff >= 0 && slices.Contains(e.projectTeams[p], st.team) {
			yield(PathTeam, st.slug)
		}
	}
}

// reaches reports whether mi reaches project p (reachOf's ok).
func (e *Engine) reaches(mi *memberInfo, p int) bool {
	if !mi.active {
		return false
	}
	if mi.role >= 0 && mi.global {
		return true
	}
	for _, st := range mi.seats {
		if st.team >= 0 && st.eff >= 0 && slices.Contains(e.projectTeams[p], st.team) {
			return true
		}
	}
	return false
}

// PathGroup is the members reaching a project by one path: open membership,
// a global role, or one team.
type PathGroup struct {
	Kind    PathKind        `json:"kind"`
	Team    string          `json:"team,omitempty"`
	Label   string          `json:"label"`
	Members []ProjectMember `json:"members"`
}

// Groups groups the project's members by path, in this order: open
// membership, global role, then each team by slug. A member with several
// paths appears in each of its groups; members stay sorted by email.
func (pa ProjectAccess) Groups() []PathGroup {
	var open, global *PathGroup
	teams := map[string]*PathGroup{}
	for _, m := range pa.Members {
		for _, p := range m.Paths {
			var g *PathGroup
			switch p.Kind {
			case PathOpenMembership:
				if open == nil {
					open = &PathGroup{Kind: p.Kind, Label: "Open membership"}
				}
				g = open
			case PathGlobalRole:
				if global == nil {
					global = &PathGroup{Kind: p.Kind, Label: "Global org role"}
				}
				g = global
			case PathTeam:
				if teams[p.Team] == nil {
					teams[p.Team] = &PathGroup{Kind: p.Kind, Team: p.Team, Label: "Team " + p.Team}
				}
				g = teams[p.Team]
			default:
				continue
			}
			if n := len(g.Members); n == 0 || g.Members[n-1].ID != m.ID {
				g.Members = append(g.Members, m)
			}
		}
	}
	var out []PathGroup
	for _, g := range []*PathGroup{open, global} {
		if g != nil {
			out = append(out, *g)
		}
	}
	slugs := make([]string, 0, len(teams))
	for s := range teams {
		slugs = append(slugs, s)
	}
	slices.SortFunc(slugs, strings.Compare)
	for _, s := range slugs {
		out = append(out, *teams[s])
	}
	return out
}
