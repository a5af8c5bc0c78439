package explore

import (
	"context"
	"strings"
)

// SearchLimit is the most hits Search returns per kind.
const SearchLimit = 8

// SearchResults is what the top bar's search finds: members by email or
// name, teams and projects by slug or name. Each list holds at most the
// limit asked for, prefix matches first, then by email or slug; the
// totals count every match.
type SearchResults struct {
	Query                                   string
	Members                                 []MemberHit
	Teams                                   []TeamHit
	Projects                                []ProjectHit
	MembersTotal, TeamsTotal, ProjectsTotal int
}

// Empty reports whether nothing matched.
func (r SearchResults) Empty() bool {
	return r.MembersTotal+r.TeamsTotal+r.ProjectsTotal == 0
}

// MemberHit is a member the search found.
type MemberHit struct {
	ID, Email, Name, OrgRole string
	// Restricted reports whether the member is over the member limit.
	Restricted bool
}

// TeamHit is a team the search found.
type TeamHit struct {
	Slug, Name string
	Members    int
}

// ProjectHit is a project the search found.
type ProjectHit struct {
	Slug, Name, Platform string
}

// Search finds members, teams and projects whose text (a member's email
// and name, a team's or project's slug and name) contains q, case-
// insensitively, keeping at most limit of each (SearchLimit when limit is
// not positive). It scans the read model's lowercased search keys, built
// once per snapshot: about a millisecond at 10,000 members. An empty q
// finds nothing.
func (s *Service) Search(ctx context.Context, q string, limit int) (SearchResults, error) {
	st, err := s.load()
	if err != nil {
		return SearchResults{}, err
	}
	if limit <= 0 {
		limit = SearchLimit
	}
	q = strings.TrimSpace(q)
	out := SearchResults{Query: q}
	needle := strings.ToLower(q)
	if needle == "" {
		return out, ctx.Err()
	}
	var mp, mi []int
	for i, at := range st.memberText.rows(needle) {
		mp, mi, out.MembersTotal = classify(st.members[i].search, needle, i, at, mp, mi, out.MembersTotal, limit)
	}
	for _, i := range firstOf(mp, mi, limit) {
		r := &st.members[i]
		out.Members = append(out.Members, MemberHit{ID: r.m.ID, Email: r.m.Email, Name: r.m.Name, OrgRole: r.m.OrgRole, Restricted: r.restricted})
	}
	var tp, ti []int
	for i, at := range st.teamText.rows(needle) {
		tp, ti, out.TeamsTotal = classify(st.teams[i].search, needle, i, at, tp, ti, out.TeamsTotal, limit)
	}
	for _, i := range firstOf(tp, ti, limit) {
		t := &st.teams[i]
		out.Teams = append(out.Teams, TeamHit{Slug: t.t.Slug, Name: t.t.Name, Members: t.members})
	}
	var pp, pi []int
	for i, at := range st.projectText.rows(needle) {
		pp, pi, out.ProjectsTotal = classify(st.projects[i].search, needle, i, at, pp, pi, out.ProjectsTotal, limit)
	}
	for _, i := range firstOf(pp, pi, limit) {
		p := st.projects[i].p
		out.Projects = append(out.Projects, ProjectHit{Slug: p.Slug, Name: p.Name, Platform: p.Platform})
	}
	return out, ctx.Err()
}

// classify counts text, which holds needle first at at, as a match and
// keeps index i among the prefix matches (the text, or one of its words,
// starts with needle) or the inner ones, each list capped at limit.
func classify(text, needle string, i, at int, prefix, inner []int, total, limit int) ([]int, []int, int) {
	if at == 0 || isWordStart(text, at) || strings.Contains(text, " "+needle) {
		if len(prefix) < limit {
			prefix = append(prefix, i)
		}
	} else if len(inner) < limit {
		inner = append(inner, i)
	}
	return prefix, inner, total + 1
}

// isWordStart reports whether text[at] starts a word (after a space, a dot,
// a dash, an underscore or an at sign).
func isWordStart(text string, at int) bool {
	return at > 0 && strings.ContainsRune(" .-_@", rune(text[at-1]))
}

func firstOf(prefix, inner []int, limit int) []int {
	out := append(prefix, inner...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
