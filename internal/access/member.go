package access

import (
	"fmt"
	"slices"
	"strings"
)

// MemberRef identifies a member in results.
type MemberRef struct {
	ID      string      `json:"id"`
	Email   string      `json:"email"`
	Name    string      `json:"name"`
	OrgRole string      `json:"orgRole"`
	State   MemberState `json:"state"`
}

// MemberAccess is everything one member reaches and why.
type MemberAccess struct {
	Member MemberRef `json:"member"`
	// GlobalAccess reports whether the member reaches every team and project
	// (open membership or a global org role).
	GlobalAccess bool   `json:"globalAccess"`
	GlobalReason string `json:"globalReason"`
	// OrgScopes are the org role's scopes after the org options' filter.
	OrgScopes []string     `json:"orgScopes"`
	Teams     []TeamAccess `json:"teams"`
	// Projects are the reachable projects, sorted by slug.
	Projects []ProjectReach `json:"projects"`
	// Restriction is set when Sentry refuses the member although its invite
	// is accepted: its seat is over the plan's member limit. Projects,
	// OrgScopes and GlobalAccess are then empty (what the member reaches in
	// Sentry's UI), and Restriction says what its user auth tokens still do.
	Restriction *Restriction `json:"restriction,omitempty"`
}

// Restriction is why Sentry refuses an accepted member, and what is left.
type Restriction struct {
	// Kind is RestrictionMemberLimit.
	Kind string `json:"kind"`
	// Reason says what Sentry refuses and how the member gets access back.
	Reason string `json:"reason"`
	// Tokens says what the member's user auth tokens still reach.
	Tokens string `json:"tokens"`
	// TokenOrgScopes are the org role's scopes, the most a user auth token
	// of the member may hold; TokenProjects the projects such a token
	// reaches (a token's own scope list narrows what it may do there).
	TokenOrgScopes []string `json:"tokenOrgScopes"`
	TokenProjects  int      `json:"tokenProjects"`
}

// RestrictionMemberLimit is the member-limit:restricted flag: a seat over
// the plan's member limit (docs/sentry-access-model.md#members-over-the-member-limit).
const RestrictionMemberLimit = "member-limit"

// Words for the member limit, shared by Member, Explain and Project.
const (
	limitReason = "over the plan's member limit (member-limit:restricted): Sentry refuses this member in its UI " +
		"(every page of the organization, every team and project) until an owner frees a seat or raises the limit; " +
		"the member can still leave the organization or ask for a seat"
	limitTokens = "user auth tokens the member created still work with the org role's scopes: " +
		"Sentry applies the member limit to browser sessions only"
)

// TeamAccess is one of the member's team memberships. StoredRole is the
// team role as Sentry stores it ("" is null); EffectiveRole is the one that
// applies ("" when the membership grants nothing).
type TeamAccess struct {
	Slug          string `json:"slug"`
	StoredRole    string `json:"storedRole"`
	EffectiveRole string `json:"effectiveRole"`
	Reason        string `json:"reason"`
}

// ProjectReach is one project a member reaches, with its sorted scopes and
// every path that grants access.
type ProjectReach struct {
	Slug   string   `json:"slug"`
	Scopes []string `json:"scopes"`
	Paths  []Path   `json:"paths"`
}

func (e *Engine) memberRef(i int) MemberRef {
	m := &e.snap.Members[i]
	return MemberRef{ID: m.ID, Email: m.Email, Name: m.Name, OrgRole: m.OrgRole, State: m.State}
}

// Member returns what the member with id or email ref reaches and why.
// It returns ErrUnknownMember when no member matches.
func (e *Engine) Member(ref string) (MemberAccess, error) {
	i, ok := e.lookupMember(ref)
	if !ok {
		return MemberAccess{}, fmt.Errorf("member %q: %w", ref, ErrUnknownMember)
	}
	ma := e.memberTeams(i)
	e.addProjects(&ma, i)
	return ma, nil
}

// MemberTeams is Member without Projects (left empty): the member, its
// global access, org scopes, teams with their stored and effective team
// roles, and its restriction. It costs the member's teams alone, where
// Member also resolves every project the member reaches (all of them for
// a member with global access), so pages that show a member's teams, not
// its projects, ask this.
func (e *Engine) MemberTeams(ref string) (MemberAccess, error) {
	i, ok := e.lookupMember(ref)
	if !ok {
		return MemberAccess{}, fmt.Errorf("member %q: %w", ref, ErrUnknownMember)
	}
	return e.memberTeams(i), nil
}

func (e *Engine) memberTeams(i int) MemberAccess {
	mi := &e.members[i]
	ma := MemberAccess{
		Member:       e.memberRef(i),
		GlobalAccess: mi.global,
		GlobalReason: e.globalReason(i),
		OrgScopes:    []string{},
		Teams:        make([]TeamAccess, 0, len(mi.seats)),
		Projects:     []ProjectReach{},
	}
	if mi.active && mi.role >= 0 {
		ma.OrgScopes = e.orgScopes[mi.role]
	}
	for _, st := range mi.seats {
		ta := TeamAccess{Slug: st.slug, Reason: e.seatReason(i, st)}
		if st.stored >= 0 {
			ta.StoredRole = e.teamRoles[st.stored].ID
		} else {
			ta.StoredRole = e.storedRaw(i, st.slug)
		}
		if st.eff >= 0 {
			ta.EffectiveRole = e.teamRoles[st.eff].ID
		}
		ma.Teams = append(ma.Teams, ta)
	}
	if mi.limited != nil {
		ma.Restriction = e.restriction(mi.limited)
	}
	return ma
}

// addProjects fills ma.Projects: every project member i reaches, in
// project order.
func (e *Engine) addProjects(ma *MemberAccess, i int) {
	mi := &e.members[i]
	if !mi.active {
		return
	}
	if mi.global {
		ma.Projects = make([]ProjectReach, 0, len(e.projectOrder))
		for _, p := range e.projectOrder {
			scopes, paths, _ := e.reach(i, p)
			ma.Projects = append(ma.Projects, ProjectReach{Slug: e.snap.Projects[p].Slug, Scopes: scopes, Paths: paths})
		}
		return
	}
	for _, p := range e.teamReach(mi) {
		scopes, paths, ok := e.reach(i, p)
		if ok {
			ma.Projects = append(ma.Projects, ProjectReach{Slug: e.snap.Projects[p].Slug, Scopes: scopes, Paths: paths})
		}
	}
}

// restriction describes the member limit for a member resolved without it.
func (e *Engine) restriction(free *memberInfo) *Restriction {
	r := &Restriction{Kind: RestrictionMemberLimit, Reason: limitReason, Tokens: limitTokens, TokenOrgScopes: []string{}}
	if free.role >= 0 {
		r.TokenOrgScopes = e.orgScopes[free.role]
	}
	r.TokenProjects = e.reachCount(free)
	return r
}

// reachCount counts the projects mi reaches.
func (e *Engine) reachCount(mi *memberInfo) int {
	if !mi.active {
		return 0
	}
	if mi.global {
		return len(e.snap.Projects)
	}
	stamp := make([]bool, len(e.snap.Projects))
	n := 0
	for _, st := range mi.seats {
		if st.team < 0 || st.eff < 0 {
			continue
		}
		for _, p := range e.teamProjects[st.team] {
			if !stamp[p] {
				stamp[p] = true
				n++
			}
		}
	}
	return n
}

// storedRaw returns the stored role string for an unknown stored role.
func (e *Engine) storedRaw(i int, slug string) string {
	for _, ms := range e.snap.Members[i].Teams {
		if ms.Team == slug {
			return ms.Role
		}
	}
	return ""
}

// globalReason says why member i has global access or not.
func (e *Engine) globalReason(i int) string {
	m := &e.snap.Members[i]
	mi := &e.members[i]
	switch {
	case m.State == StatePending:
		return "invite pending: a member reaches nothing until the invite is accepted"
	case m.State == StateExpired:
		return "invite expired: a member reaches nothing until a new invite is accepted"
	case mi.limited != nil:
		return limitReason
	case mi.role < 0:
		return fmt.Sprintf("org role %q is unknown: no access", m.OrgRole)
	}
	role := e.orgRoles[mi.role]
	open := e.snap.Org.OpenMembership
	switch {
	case open && role.IsGlobal:
		return "open membership is on and org role " + role.Name + " is global: reaches every team and project"
	case open:
		return "open membership is on: every member reaches every team and project"
	case role.IsGlobal:
		return "org role " + role.Name + " is global: reaches every team and project"
	}
	return "open membership is off and org role " + role.Name + " is not global: reaches only its teams' projects"
}

// seatReason says how the effective team role of a membership was chosen.
func (e *Engine) seatReason(i int, st seat) string {
	mi := &e.members[i]
	switch {
	case mi.limited != nil:
		return "over the member limit: the membership grants nothing in Sentry's UI until the member has a seat"
	case !mi.active:
		return "invite not accepted: the membership takes effect when it is"
	case st.team < 0:
		return "team " + st.slug + " is not in the snapshot"
	case mi.role < 0:
		return "unknown org role: the membership grants nothing"
	case st.eff < 0:
		return "no team roles are defined"
	case !e.orgRoles[mi.role].IsTeamRolesAllowed:
		return "org role " + e.orgRoles[mi.role].Name + " may not hold team roles and Sentry refuses to add it to a team, but this existing membership still grants the minimum team role " +
			e.teamRoles[st.eff].Name + ": remove it"
	}
	role := e.orgRoles[mi.role]
	eff := e.teamRoles[st.eff].Name
	minName := e.teamRoles[e.minTeam[mi.role]].Name
	switch {
	case st.stored < 0 && e.storedRaw(i, st.slug) != "":
		return fmt.Sprintf("stored role %q is unknown; minimum team role for %s is %s", e.storedRaw(i, st.slug), role.Name, eff)
	case st.stored < 0:
		return "no stored role: minimum team role for " + role.Name + " is " + eff
	case st.stored < e.minTeam[mi.role]:
		return "stored " + e.teamRoles[st.stored].Name + " is below the minimum team role " + minName + " of " + role.Name
	}
	return "stored role " + eff + " (minimum for " + role.Name + " is " + minName + ")"
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// MemberProjects is a page of the projects Member(ref) lists, in the same
// order: at most limit of them from the from-th (0-based), with how many
// there are and how many projects each path reaches. It resolves the
// scopes and paths of the page's projects only: a member with global
// access reaches every project (3,000 in a large org), and a page shows a
// hundred. It returns ErrUnknownMember when no member matches.
func (e *Engine) MemberProjects(ref string, from, limit int) (MemberProjectsPage, error) {
	i, ok := e.lookupMember(ref)
	if !ok {
		return MemberProjectsPage{}, fmt.Errorf("member %q: %w", ref, ErrUnknownMember)
	}
	out := MemberProjectsPage{Projects: []ProjectReach{}}
	mi := &e.members[i]
	if !mi.active {
		return out, nil
	}
	order := e.projectOrder // a member with global access: every project
	if !mi.global {
		order = e.teamReach(mi)
	}
	out.Total = len(order)
	lo := min(max(from, 0), out.Total)
	hi := min(lo+max(limit, 0), out.Total)
	for _, p := range order[lo:hi] {
		scopes, paths, ok := e.reach(i, p)
		if ok || mi.global {
			out.Projects = append(out.Projects, ProjectReach{Slug: e.snap.Projects[p].Slug, Scopes: scopes, Paths: paths})
		}
	}
	seen := map[pathKey]int{}
	count := func(path Path, n int) {
		k := pathKey{path.Kind, path.Team}
		at, ok := seen[k]
		if !ok {
			at = len(out.Via)
			seen[k] = at
			out.Via = append(out.Via, PathCount{Path: path})
		}
		out.Via[at].Projects += n
	}
	if mi.global && mi.role >= 0 {
		for _, path := range e.globalPaths[mi.role] {
			count(path, out.Total)
		}
	}
	for _, st := range mi.seats {
		if st.team >= 0 && st.eff >= 0 {
			count(e.teamPath(st), len(e.teamProjects[st.team]))
		}
	}
	return out, nil
}

// MemberProjectsPage is what MemberProjects returns.
type MemberProjectsPage struct {
	// Total is how many projects the member reaches.
	Total int
	// Projects are the page's, in project order.
	Projects []ProjectReach
	// Via counts the projects each path reaches (by kind and team; a
	// project reached by two paths counts under both), each path as the
	// first project reached by it names it.
	Via []PathCount
}

// PathCount is how many of a member's projects one path reaches.
type PathCount struct {
	Path     Path
	Projects int
}

type pathKey struct {
	kind PathKind
	team string
}

// teamReach returns the projects linked to the teams on which mi holds a
// team role, in project order, each once.
func (e *Engine) teamReach(mi *memberInfo) []int {
	var ps []int
	for _, st := range mi.seats {
		if st.team >= 0 && st.eff >= 0 {
			ps = append(ps, e.teamProjects[st.team]...)
		}
	}
	slices.SortFunc(ps, func(a, b int) int { return e.projectRank[a] - e.projectRank[b] })
	return slices.Compact(ps)
}
