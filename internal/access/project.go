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
	pa := ProjectAccess{Project: slug, Integrations: make([]IntegrationAccess, 0, len(e.integrations))}
	for _, in := range e.integrations {
		pa.Integrations = append(pa.Integrations, IntegrationAccess{Slug: in.Slug, Name: in.Name, Scopes: in.Scopes})
	}
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
		m := &e.snap.Members[i]
		*list = append(*list, ProjectMember{ID: m.ID, Email: m.Email, OrgRole: m.OrgRole, Scopes: scopes, Paths: paths})
	}
	return pa, nil
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
