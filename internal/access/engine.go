// Package access answers, exactly as Sentry decides it, "what can this member
// reach, with which scopes, and why?" and "who can reach this project, and by
// which path?" over a Snapshot of one organization.
//
// The package is pure: no I/O, no clock, no globals. An Engine is built once
// from a Snapshot with New and is then immutable and safe for concurrent use.
//
// The rules mirror src/sentry/auth/access.py and its helpers (docs/sentry-access-model.md#effective-access),
// each stated on the function that applies it:
//
//   - A member reaches nothing until its invite is accepted (pending and
//     expired invites have no user, so Sentry builds no Access for them).
//   - A member whose seat is over the plan's member limit (flag
//     member-limit:restricted) reaches nothing in Sentry's UI: every
//     organization endpoint refuses its browser session (401
//     member-disabled-over-limit). Its user auth tokens are not refused, so
//     the engine also says what they still reach (Restriction).
//   - Global access = open membership (org flag allow_joinleave) OR an org
//     role with is_global (manager, owner). It reaches every team and project.
//   - Without it, a member reaches the projects linked to its teams.
//   - Org scopes are the org role's scopes filtered by Organization.get_scopes
//     (eventsMemberAdmin / alertsMemberWrite); see filterScopes.
//   - On a project, a member also holds the scopes of its effective team role
//     on every one of its teams linked to that project (filtered the same way).
//     The effective team role is max(stored role or contributor, the org
//     role's minimum team role) (OrganizationMemberTeam.get_team_role).
//   - Internal integrations act as members of every team with their own
//     scopes (OrganizationGlobalMembership).
package access

import (
	"errors"
	"slices"
	"strings"
)

// Errors returned by Engine lookups; test with errors.Is.
var (
	// ErrUnknownMember means no member has that id or email.
	ErrUnknownMember = errors.New("unknown member")
	// ErrUnknownProject means no project has that slug.
	ErrUnknownProject = errors.New("unknown project")
)

// PathKind names the rule by which a principal reaches a project.
type PathKind string

// Path kinds.
const (
	// PathOpenMembership: the org's open membership (allow_joinleave) gives
	// every active member global access (has_global_access in access.py).
	PathOpenMembership PathKind = "open-membership"
	// PathGlobalRole: the member's org role has is_global (manager, owner).
	PathGlobalRole PathKind = "global-role"
	// PathTeam: the member is on a team linked to the project; the path names
	// the team and the member's effective team role on it.
	PathTeam PathKind = "team"
	// PathIntegration: an internal integration's token acts as a member of
	// every team (OrganizationGlobalMembership in access.py).
	PathIntegration PathKind = "integration"
)

// Path is one way a principal reaches a project. Team and TeamRole are set
// only on team paths; TeamRole is the effective team role id.
type Path struct {
	Kind     PathKind `json:"kind"`
	Team     string   `json:"team,omitempty"`
	TeamRole string   `json:"teamRole,omitempty"`
	Detail   string   `json:"detail"`
}

// Engine answers access questions over one Snapshot. Build it with New.
// Slices inside returned values may be shared with the engine and with other
// results: treat them as read-only.
type Engine struct {
	snap      *Snapshot
	orgRoles  []OrgRole
	teamRoles []TeamRole

	orgRoleByID  map[string]int
	teamRoleByID map[string]int
	minTeam      []int      // org role index → minimum team role index (-1 if none)
	orgScopes    [][]string // org role index → filtered scopes
	teamScopes   [][]string // team role index → filtered scopes
	globalPaths  [][]Path   // org role index → paths of global access (nil if none)

	members     []memberInfo
	byID        map[string]int
	byEmail     map[string]int
	emailOrder  []int // member indexes sorted by email
	emailRank   []int // member index → position in emailOrder
	globalOrder []int // active members with a global org role, by email
	// limitedOrder are the members over the member limit, by email.
	limitedOrder []int

	teamBySlug   map[string]int
	teamOrder    []int   // team indexes sorted by slug
	teamProjects [][]int // team index → project indexes, by slug
	teamSeats    [][]seatRef

	projectBySlug map[string]int
	projectOrder  []int // project indexes sorted by slug
	projectRank   []int
	projectTeams  [][]int // project index → team indexes, by slug

	integrations []Integration // sorted by slug, scopes sorted

	stats Stats
}

type memberInfo struct {
	role int // org role index; -1 if the role is unknown
	// active reports whether the member uses the org in Sentry's UI: its
	// invite is accepted and its seat is within the member limit.
	active bool
	global bool
	seats  []seat // sorted by team slug
	// limited is the member as it would be without the member limit; set
	// only for an accepted member flagged member-limit:restricted. It is
	// what the member's user auth tokens reach.
	limited *memberInfo
}

// seat is a member's place on a team, resolved.
type seat struct {
	slug   string
	team   int // -1 if the team is not in the snapshot
	stored int // stored team role index; -1 for null or unknown
	eff    int // effective team role index; -1 when the seat grants nothing
}

type seatRef struct{ member, seat int }

// New builds an Engine over s, indexing it once. s must not be changed
// afterwards. Empty OrgRoles / TeamRoles fall back to DefaultOrgRoles /
// DefaultTeamRoles; an org role without MinimumTeamRole gets the one
// src/sentry/roles/manager.py computes.
func New(s *Snapshot) *Engine {
	e := &Engine{snap: s}
	e.indexRoles()
	e.indexTeamsAndProjects()
	e.indexMembers()
	e.integrations = make([]Integration, len(s.Integrations))
	for i, in := range s.Integrations {
		in.Scopes = slices.Clip(slices.Sorted(slices.Values(in.Scopes)))
		e.integrations[i] = in
	}
	slices.SortFunc(e.integrations, func(a, b Integration) int { return strings.Compare(a.Slug, b.Slug) })
	e.stats = e.computeStats()
	return e
}

// Snapshot returns the snapshot the engine was built from. Do not modify it.
func (e *Engine) Snapshot() *Snapshot { return e.snap }

// OrgRoles returns the org roles in effect (the snapshot's or the defaults),
// lowest priority first, with MinimumTeamRole filled.
func (e *Engine) OrgRoles() []OrgRole { return e.orgRoles }

// TeamRoles returns the team roles in effect, lowest priority first.
func (e *Engine) TeamRoles() []TeamRole { return e.teamRoles }

func resolveRoles(s *Snapshot) ([]OrgRole, []TeamRole) {
	orgRoles := slices.Clone(s.OrgRoles)
	if len(orgRoles) == 0 {
		orgRoles = DefaultOrgRoles()
	}
	teamRoles := slices.Clone(s.TeamRoles)
	if len(teamRoles) == 0 {
		teamRoles = DefaultTeamRoles()
	}
	for i := range orgRoles {
		if m := minimumTeamRole(orgRoles, teamRoles, i); m >= 0 {
			orgRoles[i].MinimumTeamRole = teamRoles[m].ID
		}
	}
	return orgRoles, teamRoles
}

func (e *Engine) indexRoles() {
	e.orgRoles, e.teamRoles = resolveRoles(e.snap)
	org := e.snap.Org
	e.orgRoleByID = make(map[string]int, len(e.orgRoles))
	e.minTeam = make([]int, len(e.orgRoles))
	e.orgScopes = make([][]string, len(e.orgRoles))
	e.globalPaths = make([][]Path, len(e.orgRoles))
	e.teamRoleByID = make(map[string]int, len(e.teamRoles))
	e.teamScopes = make([][]string, len(e.teamRoles))
	for i, r := range e.teamRoles {
		e.teamRoleByID[r.ID] = i
		e.teamScopes[i] = filterScopes(org, r.Scopes)
	}
	for i, r := range e.orgRoles {
		e.orgRoleByID[r.ID] = i
		e.minTeam[i] = minimumTeamRole(e.orgRoles, e.teamRoles, i)
		e.orgScopes[i] = filterScopes(org, r.Scopes)
		var paths []Path
		if org.OpenMembership {
			paths = append(paths, Path{Kind: PathOpenMembership, Detail: "open membership is on: every member reaches every project"})
		}
		if r.IsGlobal {
			paths = append(paths, Path{Kind: PathGlobalRole, Detail: "org role " + r.Name + " has global access"})
		}
		e.globalPaths[i] = slices.Clip(paths)
	}
}

func (e *Engine) indexTeamsAndProjects() {
	s := e.snap
	e.teamBySlug = make(map[string]int, len(s.Teams))
	for i, t := range s.Teams {
		e.teamBySlug[t.Slug] = i
	}
	e.teamOrder = sortedIndexes(len(s.Teams), func(i int) string { return s.Teams[i].Slug })
	e.projectBySlug = make(map[string]int, len(s.Projects))
	for i, p := range s.Projects {
		e.projectBySlug[p.Slug] = i
	}
	e.projectOrder = sortedIndexes(len(s.Projects), func(i int) string { return s.Projects[i].Slug })
	e.projectRank = ranks(e.projectOrder)
	e.teamProjects = make([][]int, len(s.Teams))
	e.projectTeams = make([][]int, len(s.Projects))
	for _, p := range e.projectOrder {
		for _, slug := range s.Projects[p].Teams {
			t, ok := e.teamBySlug[slug]
			if !ok || slices.Contains(e.projectTeams[p], t) {
				continue
			}
			e.projectTeams[p] = append(e.projectTeams[p], t)
			e.teamProjects[t] = append(e.teamProjects[t], p)
		}
		slices.SortFunc(e.projectTeams[p], func(a, b int) int { return strings.Compare(s.Teams[a].Slug, s.Teams[b].Slug) })
	}
}

func (e *Engine) indexMembers() {
	s := e.snap
	e.members = make([]memberInfo, len(s.Members))
	e.byID = make(map[string]int, len(s.Members))
	e.byEmail = make(map[string]int, len(s.Members))
	e.teamSeats = make([][]seatRef, len(s.Teams))
	for i := range s.Members {
		m := &s.Members[i]
		e.byID[m.ID] = i
		if m.Email != "" {
			e.byEmail[strings.ToLower(m.Email)] = i
		}
		e.members[i] = e.resolveMember(m, false)
		if accepted(m) && m.Flags.MemberLimitRestricted {
			free := e.resolveMember(m, true)
			e.members[i].limited = &free
		}
		for j, st := range e.members[i].seats {
			if st.team >= 0 {
				e.teamSeats[st.team] = append(e.teamSeats[st.team], seatRef{member: i, seat: j})
			}
		}
	}
	e.emailOrder = sortedIndexes(len(s.Members), func(i int) string { return strings.ToLower(s.Members[i].Email) + "\x00" + s.Members[i].ID })
	e.emailRank = ranks(e.emailOrder)
	for _, i := range e.emailOrder {
		mi := e.members[i]
		if mi.active && mi.role >= 0 && e.orgRoles[mi.role].IsGlobal {
			e.globalOrder = append(e.globalOrder, i)
		}
		if mi.limited != nil {
			e.limitedOrder = append(e.limitedOrder, i)
		}
	}
}

// resolveMember applies the membership rules to one member:
// only active members hold anything (an empty State counts as active); global access is open membership OR
// a global org role (has_global_access); the effective team role of a
// membership is max(stored role or the default contributor, the org role's
// minimum team role), also for a role with isTeamRolesAllowed off
// (billing), which Sentry only refuses to assign (OrganizationMemberTeam.get_team_role in
// src/sentry/models/organizationmemberteam.py, docs/sentry-access-model.md#team-roles-and-the-minimum-team-role).
// A member flagged member-limit:restricted is not active unless
// ignoreLimit is set (docs/sentry-access-model.md#members-over-the-member-limit).
func (e *Engine) resolveMember(m *Member, ignoreLimit bool) memberInfo {
	role, ok := e.orgRoleByID[m.OrgRole]
	if !ok {
		role = -1
	}
	mi := memberInfo{role: role, active: accepted(m) && (ignoreLimit || !m.Flags.MemberLimitRestricted)}
	if mi.active && role >= 0 {
		mi.global = e.snap.Org.OpenMembership || e.orgRoles[role].IsGlobal
	}
	mi.seats = make([]seat, 0, len(m.Teams))
	for _, ms := range m.Teams {
		st := seat{slug: ms.Team, team: -1, stored: -1, eff: -1}
		if t, ok := e.teamBySlug[ms.Team]; ok {
			st.team = t
		}
		if r, ok := e.teamRoleByID[ms.Role]; ok {
			st.stored = r
		}
		// A role with isTeamRolesAllowed off (billing) may not be given a
		// team (the member PUT answers 400, the member-team POST 403), but
		// is_team_roles_allowed gates only that assignment: a membership
		// that exists anyway (older data) still grants the minimum team role
		// (OrganizationMemberTeam.get_team_role), so it is counted here.
		if mi.active && role >= 0 && st.team >= 0 && len(e.teamRoles) > 0 {
			st.eff = max(max(st.stored, 0), e.minTeam[role])
		}
		mi.seats = append(mi.seats, st)
	}
	slices.SortFunc(mi.seats, func(a, b seat) int { return strings.Compare(a.slug, b.slug) })
	mi.seats = slices.CompactFunc(mi.seats, func(a, b seat) bool { return a.slug == b.slug })
	return mi
}

// accepted reports whether m's invite is accepted (an empty State counts
// as accepted): the member has a user, whatever the member limit says.
func accepted(m *Member) bool { return m.State == StateActive || m.State == "" }

// lookupMember finds a member by id, then by case-insensitive email.
func (e *Engine) lookupMember(ref string) (int, bool) {
	if i, ok := e.byID[ref]; ok {
		return i, true
	}
	i, ok := e.byEmail[strings.ToLower(ref)]
	return i, ok
}

// reach computes what member i holds on project p: its scopes (sorted), the
// paths that grant access, and whether it reaches p at all. Seats are the
// member's seats on teams linked to p that grant a team role.
func (e *Engine) reach(i, p int) (scopes []string, paths []Path, ok bool) {
	return e.reachOf(&e.members[i], p)
}

// reachOf is reach for a resolved member.
func (e *Engine) reachOf(mi *memberInfo, p int) (scopes []string, paths []Path, ok bool) {
	if !mi.active {
		return nil, nil, false
	}
	var base []string
	if mi.role >= 0 {
		base = e.orgScopes[mi.role]
		if mi.global {
			paths = e.globalPaths[mi.role]
			ok = true
		}
	}
	scopes = base
	copied := false
	for _, st := range mi.seats {
		if st.team < 0 || !slices.Contains(e.projectTeams[p], st.team) {
			continue
		}
		if !copied {
			paths = slices.Clone(paths)
			copied = true
		}
		if st.eff < 0 {
			continue
		}
		ok = true
		paths = append(paths, e.teamPath(st))
		scopes = unionSorted(scopes, e.teamScopes[st.eff])
	}
	if !ok {
		return nil, nil, false
	}
	if scopes == nil {
		scopes = []string{}
	}
	return scopes, paths, true
}

func (e *Engine) teamPath(st seat) Path {
	r := e.teamRoles[st.eff]
	return Path{Kind: PathTeam, Team: st.slug, TeamRole: r.ID, Detail: "member of team " + st.slug + " as " + r.Name}
}

// sortedIndexes returns 0..n-1 sorted by key.
func sortedIndexes(n int, key func(int) string) []int {
	keys := make([]string, n)
	idx := make([]int, n)
	for i := range n {
		keys[i] = key(i)
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	return idx
}

func ranks(order []int) []int {
	r := make([]int, len(order))
	for pos, i := range order {
		r[i] = pos
	}
	return r
}

// Members returns every member, sorted by email.
func (e *Engine) Members() []MemberRef {
	out := make([]MemberRef, 0, len(e.emailOrder))
	for _, i := range e.emailOrder {
		out = append(out, e.memberRef(i))
	}
	return out
}

// Projects returns every project slug, sorted.
func (e *Engine) Projects() []string {
	out := make([]string, 0, len(e.projectOrder))
	for _, p := range e.projectOrder {
		out = append(out, e.snap.Projects[p].Slug)
	}
	return out
}
