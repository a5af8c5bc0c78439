package access

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Scope change kinds.
const (
	AccessGained  = "gained"  // the member did not reach the project before
	AccessLost    = "lost"    // the member no longer reaches the project
	AccessChanged = "changed" // reached before and after, with other scopes
)

// ScopeChange is how one member's access to one project changed. Added and
// Removed are sorted; on a gain Added is every scope, on a loss Removed is.
type ScopeChange struct {
	Kind    string   `json:"kind"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// AccessDiff is who gains or loses which project and which scopes, seen per
// member (sorted by email) and per project (sorted by slug).
type AccessDiff struct {
	Members  []MemberAccessChange  `json:"members"`
	Projects []ProjectAccessChange `json:"projects"`
}

// MemberAccessChange is one member's changes, projects sorted by slug.
type MemberAccessChange struct {
	ID       string               `json:"id"`
	Email    string               `json:"email"`
	Projects []ProjectScopeChange `json:"projects"`
}

// ProjectScopeChange is a change on one project.
type ProjectScopeChange struct {
	Project string `json:"project"`
	ScopeChange
}

// ProjectAccessChange is one project's changes, members sorted by email.
type ProjectAccessChange struct {
	Project string              `json:"project"`
	Members []MemberScopeChange `json:"members"`
}

// MemberScopeChange is a change for one member.
type MemberScopeChange struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	ScopeChange
}

// Empty reports whether nobody's access changed.
func (d AccessDiff) Empty() bool { return len(d.Members) == 0 }

// DiffAccess compares effective access between two snapshots of one org:
// which members gain or lose which projects and scopes. Members are matched
// by id, projects by slug. Only active members reach anything, so accepting
// an invite is a gain and removing a member a loss.
func DiffAccess(before, after *Snapshot) AccessDiff {
	return diffAccess(New(before), New(after))
}

// diffAccess looks, for each member, only at the projects whose access can
// differ: those linked to its teams in either snapshot and projects that
// exist in only one; it looks at every project when its global access or
// org scopes changed.
func diffAccess(eb, ea *Engine) AccessDiff {
	d := AccessDiff{Members: []MemberAccessChange{}, Projects: []ProjectAccessChange{}}
	var churn []string // projects in only one snapshot
	for slug := range eb.projectBySlug {
		if _, ok := ea.projectBySlug[slug]; !ok {
			churn = append(churn, slug)
		}
	}
	for slug := range ea.projectBySlug {
		if _, ok := eb.projectBySlug[slug]; !ok {
			churn = append(churn, slug)
		}
	}
	var all []string
	allProjects := func() []string {
		if all == nil {
			for _, p := range eb.projectOrder {
				all = append(all, eb.snap.Projects[p].Slug)
			}
			for _, p := range ea.projectOrder {
				all = append(all, ea.snap.Projects[p].Slug)
			}
			slices.Sort(all)
			all = slices.Compact(all)
		}
		return all
	}
	byProject := map[string][]MemberScopeChange{}
	visit := func(id string, ib, ia int) {
		if sameInputs(eb, ib, ea, ia, len(churn) > 0) {
			return
		}
		var cands []string
		gb, ga := ib >= 0 && eb.members[ib].global, ia >= 0 && ea.members[ia].global
		if gb != ga || (gb && !slices.Equal(eb.memberOrgScopes(ib), ea.memberOrgScopes(ia))) {
			cands = allProjects()
		} else {
			if gb {
				cands = append(cands, churn...)
			}
			cands = eb.appendTeamProjects(cands, ib)
			cands = ea.appendTeamProjects(cands, ia)
			slices.Sort(cands)
			cands = slices.Compact(cands)
		}
		mc := MemberAccessChange{ID: id}
		if ia >= 0 {
			mc.Email = ea.snap.Members[ia].Email
		} else {
			mc.Email = eb.snap.Members[ib].Email
		}
		for _, slug := range cands {
			sb, okb := eb.reachSlug(ib, slug)
			sa, oka := ea.reachSlug(ia, slug)
			var sc ScopeChange
			switch {
			case !okb && !oka:
				continue
			case !okb:
				sc = ScopeChange{Kind: AccessGained, Added: sa, Removed: []string{}}
			case !oka:
				sc = ScopeChange{Kind: AccessLost, Added: []string{}, Removed: sb}
			case slices.Equal(sb, sa):
				continue
			default:
				sc = ScopeChange{Kind: AccessChanged, Added: minus(sa, sb), Removed: minus(sb, sa)}
			}
			mc.Projects = append(mc.Projects, ProjectScopeChange{Project: slug, ScopeChange: sc})
			byProject[slug] = append(byProject[slug], MemberScopeChange{ID: id, Email: mc.Email, ScopeChange: sc})
		}
		if len(mc.Projects) > 0 {
			d.Members = append(d.Members, mc)
		}
	}
	for ib := range eb.snap.Members {
		id := eb.snap.Members[ib].ID
		ia, ok := ea.byID[id]
		if !ok {
			ia = -1
		}
		visit(id, ib, ia)
	}
	for ia := range ea.snap.Members {
		id := ea.snap.Members[ia].ID
		if _, ok := eb.byID[id]; !ok {
			visit(id, -1, ia)
		}
	}
	byEmail := func(a, b string, ida, idb string) int {
		return cmp.Or(strings.Compare(strings.ToLower(a), strings.ToLower(b)), strings.Compare(ida, idb))
	}
	slices.SortFunc(d.Members, func(a, b MemberAccessChange) int { return byEmail(a.Email, b.Email, a.ID, b.ID) })
	for slug, ms := range byProject {
		slices.SortFunc(ms, func(a, b MemberScopeChange) int { return byEmail(a.Email, b.Email, a.ID, b.ID) })
		d.Projects = append(d.Projects, ProjectAccessChange{Project: slug, Members: ms})
	}
	slices.SortFunc(d.Projects, func(a, b ProjectAccessChange) int { return strings.Compare(a.Project, b.Project) })
	return d
}

// sameInputs reports whether member ib of eb and ia of ea reach the same
// projects with the same scopes for certain: same activity, global access
// and org scopes, and the same teams with the same team-role scopes linked to
// the same projects (and, for global access, no project added or removed).
func sameInputs(eb *Engine, ib int, ea *Engine, ia int, churn bool) bool {
	if ib < 0 || ia < 0 {
		return false
	}
	mb, ma := &eb.members[ib], &ea.members[ia]
	if mb.active != ma.active || mb.global != ma.global || len(mb.seats) != len(ma.seats) {
		return false
	}
	if !mb.active {
		return true
	}
	if (mb.global && churn) || !slices.Equal(eb.memberOrgScopes(ib), ea.memberOrgScopes(ia)) {
		return false
	}
	for k := range mb.seats {
		sb, sa := mb.seats[k], ma.seats[k]
		if sb.slug != sa.slug || (sb.eff < 0) != (sa.eff < 0) || (sb.team < 0) != (sa.team < 0) {
			return false
		}
		if sb.eff < 0 || sb.team < 0 {
			continue
		}
		if !slices.Equal(eb.teamScopes[sb.eff], ea.teamScopes[sa.eff]) {
			return false
		}
		pb, pa := eb.teamProjects[sb.team], ea.teamProjects[sa.team]
		if len(pb) != len(pa) {
			return false
		}
		for j := range pb {
			if eb.snap.Projects[pb[j]].Slug != ea.snap.Projects[pa[j]].Slug {
				return false
			}
		}
	}
	return true
}

func (e *Engine) memberOrgScopes(i int) []string {
	if i < 0 || e.members[i].role < 0 {
		return nil
	}
	return e.orgScopes[e.members[i].role]
}

// appendTeamProjects appends the slugs of the projects linked to member i's
// teams.
func (e *Engine) appendTeamProjects(dst []string, i int) []string {
	if i < 0 {
		return dst
	}
	for _, st := range e.members[i].seats {
		if st.team < 0 {
			continue
		}
		for _, p := range e.teamProjects[st.team] {
			dst = append(dst, e.snap.Projects[p].Slug)
		}
	}
	return dst
}

// reachSlug is reach by project slug; i < 0 or an unknown slug reach nothing.
func (e *Engine) reachSlug(i int, slug string) ([]string, bool) {
	if i < 0 {
		return nil, false
	}
	p, ok := e.projectBySlug[slug]
	if !ok {
		return nil, false
	}
	return e.scopesOn(i, p)
}

// scopesOn is reach without the paths: member i's scopes on project p.
func (e *Engine) scopesOn(i, p int) ([]string, bool) {
	mi := &e.members[i]
	if !mi.active {
		return nil, false
	}
	var scopes []string
	ok := mi.global
	if mi.role >= 0 {
		scopes = e.orgScopes[mi.role]
	}
	for _, st := range mi.seats {
		if st.team < 0 || st.eff < 0 || !slices.Contains(e.projectTeams[p], st.team) {
			continue
		}
		ok = true
		scopes = unionSorted(scopes, e.teamScopes[st.eff])
	}
	if !ok {
		return nil, false
	}
	if scopes == nil {
		scopes = []string{}
	}
	return scopes, true
}

// minus returns the elements of sorted a not in sorted b.
func minus(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}

// SnapshotDiff is what changed between two snapshots of one org, every list
// sorted (members by email, then id; teams and projects by slug).
type SnapshotDiff struct {
	MembersAdded   []MemberRef     `json:"membersAdded"`
	MembersRemoved []MemberRef     `json:"membersRemoved"`
	OrgRoleChanges []OrgRoleChange `json:"orgRoleChanges"`
	StateChanges   []StateChange   `json:"stateChanges"`
	// LimitChanges are members who went over the plan's member limit or
	// got a seat again (member-limit:restricted set or cleared).
	LimitChanges     []LimitChange      `json:"limitChanges"`
	TeamsJoined      []TeamMembership   `json:"teamsJoined"`
	TeamsLeft        []TeamMembership   `json:"teamsLeft"`
	TeamRoleChanges  []TeamRoleChange   `json:"teamRoleChanges"`
	TeamsAdded       []string           `json:"teamsAdded"`
	TeamsRemoved     []string           `json:"teamsRemoved"`
	ProjectsAdded    []string           `json:"projectsAdded"`
	ProjectsRemoved  []string           `json:"projectsRemoved"`
	ProjectsLinked   []ProjectLink      `json:"projectsLinked"`
	ProjectsUnlinked []ProjectLink      `json:"projectsUnlinked"`
	SettingChanges   []SettingChange    `json:"settingChanges"`
	Access           AccessDiff         `json:"access"`
	IntegrationsDiff []IntegrationDelta `json:"integrations"`
}

// OrgRoleChange is a member's org role change.
type OrgRoleChange struct {
	Member MemberRef `json:"member"`
	From   string    `json:"from"`
	To     string    `json:"to"`
}

// StateChange is a member's invite state change (e.g. pending → active).
type StateChange struct {
	Member MemberRef   `json:"member"`
	From   MemberState `json:"from"`
	To     MemberState `json:"to"`
}

// LimitChange is a member's member-limit:restricted flag being set
// (Restricted: over the limit now) or cleared.
type LimitChange struct {
	Member     MemberRef `json:"member"`
	Restricted bool      `json:"restricted"`
}

// TeamMembership is a member joining or leaving a team; Role is the stored
// team role ("" is null).
type TeamMembership struct {
	Member MemberRef `json:"member"`
	Team   string    `json:"team"`
	Role   string    `json:"role"`
}

// TeamRoleChange is a change of stored team role ("" is null).
type TeamRoleChange struct {
	Member MemberRef `json:"member"`
	Team   string    `json:"team"`
	From   string    `json:"from"`
	To     string    `json:"to"`
}

// ProjectLink is a project ↔ team link.
type ProjectLink struct {
	Project string `json:"project"`
	Team    string `json:"team"`
}

// SettingChange is an access-relevant org setting that flipped.
type SettingChange struct {
	Setting string `json:"setting"`
	From    bool   `json:"from"`
	To      bool   `json:"to"`
}

// IntegrationDelta is an internal integration added, removed or rescoped.
type IntegrationDelta struct {
	Slug    string   `json:"slug"`
	Kind    string   `json:"kind"` // added, removed, changed
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// Diff compares two snapshots of one org: members (matched by id), their
// org roles, states, teams and team roles; teams, projects and links;
// settings; internal integrations; and the effective-access changes
// (DiffAccess).
func Diff(a, b *Snapshot) SnapshotDiff {
	ea, eb := New(a), New(b)
	d := SnapshotDiff{
		MembersAdded: []MemberRef{}, MembersRemoved: []MemberRef{},
		OrgRoleChanges: []OrgRoleChange{}, StateChanges: []StateChange{}, LimitChanges: []LimitChange{},
		TeamsJoined: []TeamMembership{}, TeamsLeft: []TeamMembership{}, TeamRoleChanges: []TeamRoleChange{},
		ProjectsLinked: []ProjectLink{}, ProjectsUnlinked: []ProjectLink{},
		SettingChanges: []SettingChange{}, IntegrationsDiff: []IntegrationDelta{},
	}
	for _, i := range ea.emailOrder {
		m := &a.Members[i]
		j, ok := eb.byID[m.ID]
		if !ok {
			d.MembersRemoved = append(d.MembersRemoved, ea.memberRef(i))
			continue
		}
		n := &b.Members[j]
		ref := eb.memberRef(j)
		if m.OrgRole != n.OrgRole {
			d.OrgRoleChanges = append(d.OrgRoleChanges, OrgRoleChange{Member: ref, From: m.OrgRole, To: n.OrgRole})
		}
		if m.State != n.State {
			d.StateChanges = append(d.StateChanges, StateChange{Member: ref, From: m.State, To: n.State})
		}
		if m.Flags.MemberLimitRestricted != n.Flags.MemberLimitRestricted {
			d.LimitChanges = append(d.LimitChanges, LimitChange{Member: ref, Restricted: n.Flags.MemberLimitRestricted})
		}
		diffMemberships(&d, ref, m.Teams, n.Teams)
	}
	for _, j := range eb.emailOrder {
		if _, ok := ea.byID[b.Members[j].ID]; !ok {
			d.MembersAdded = append(d.MembersAdded, eb.memberRef(j))
			for _, ms := range b.Members[j].Teams {
				d.TeamsJoined = append(d.TeamsJoined, TeamMembership{Member: eb.memberRef(j), Team: ms.Team, Role: ms.Role})
			}
		}
	}
	byMemberTeam := func(x, y TeamMembership) int {
		return cmp.Or(strings.Compare(strings.ToLower(x.Member.Email), strings.ToLower(y.Member.Email)),
			strings.Compare(x.Member.ID, y.Member.ID), strings.Compare(x.Team, y.Team))
	}
	slices.SortFunc(d.TeamsJoined, byMemberTeam)
	slices.SortFunc(d.TeamsLeft, byMemberTeam)
	d.TeamsAdded, d.TeamsRemoved = keyDiff(ea.teamBySlug, eb.teamBySlug)
	d.ProjectsAdded, d.ProjectsRemoved = keyDiff(ea.projectBySlug, eb.projectBySlug)
	links := func(e *Engine) map[ProjectLink]bool {
		out := map[ProjectLink]bool{}
		for _, p := range e.snap.Projects {
			for _, t := range p.Teams {
				out[ProjectLink{Project: p.Slug, Team: t}] = true
			}
		}
		return out
	}
	la, lb := links(ea), links(eb)
	for l := range lb {
		if !la[l] {
			d.ProjectsLinked = append(d.ProjectsLinked, l)
		}
	}
	for l := range la {
		if !lb[l] {
			d.ProjectsUnlinked = append(d.ProjectsUnlinked, l)
		}
	}
	byLink := func(x, y ProjectLink) int {
		return cmp.Or(strings.Compare(x.Project, y.Project), strings.Compare(x.Team, y.Team))
	}
	slices.SortFunc(d.ProjectsLinked, byLink)
	slices.SortFunc(d.ProjectsUnlinked, byLink)
	d.SettingChanges = diffSettings(a.Org, b.Org)
	d.IntegrationsDiff = diffIntegrations(ea.integrations, eb.integrations)
	d.Access = diffAccess(ea, eb)
	return d
}

func diffMemberships(d *SnapshotDiff, ref MemberRef, before, after []Membership) {
	if slices.Equal(before, after) {
		return
	}
	old := make(map[string]string, len(before))
	for _, ms := range before {
		old[ms.Team] = ms.Role
	}
	cur := make(map[string]string, len(after))
	for _, ms := range after {
		cur[ms.Team] = ms.Role
	}
	for _, slug := range slices.Sorted(maps.Keys(cur)) {
		role := cur[slug]
		was, ok := old[slug]
		switch {
		case !ok:
			d.TeamsJoined = append(d.TeamsJoined, TeamMembership{Member: ref, Team: slug, Role: role})
		case was != role:
			d.TeamRoleChanges = append(d.TeamRoleChanges, TeamRoleChange{Member: ref, Team: slug, From: was, To: role})
		}
	}
	for _, ms := range before {
		if _, ok := cur[ms.Team]; !ok {
			d.TeamsLeft = append(d.TeamsLeft, TeamMembership{Member: ref, Team: ms.Team, Role: ms.Role})
		}
	}
}

// keyDiff returns the sorted keys only in b (added) and only in a (removed).
func keyDiff(a, b map[string]int) (added, removed []string) {
	added, removed = []string{}, []string{}
	for k := range b {
		if _, ok := a[k]; !ok {
			added = append(added, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			removed = append(removed, k)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func diffSettings(a, b Org) []SettingChange {
	pairs := []struct {
		name string
		a, b bool
	}{
		{SettingOpenMembership, a.OpenMembership, b.OpenMembership},
		{SettingEventsMemberAdmin, a.EventsMemberAdmin, b.EventsMemberAdmin},
		{SettingAlertsMemberWrite, a.AlertsMemberWrite, b.AlertsMemberWrite},
		{SettingAllowMemberInvite, a.AllowMemberInvite, b.AllowMemberInvite},
		{SettingAllowMemberProjectCreation, a.AllowMemberProjectCreation, b.AllowMemberProjectCreation},
		{SettingAllowJoinRequests, a.AllowJoinRequests, b.AllowJoinRequests},
		{SettingRequire2FA, a.Require2FA, b.Require2FA},
		{"requiresSso", a.RequiresSSO, b.RequiresSSO},
		{"hasAuthProvider", a.HasAuthProvider, b.HasAuthProvider},
		{"scimEnabled", a.SCIMEnabled, b.SCIMEnabled},
	}
	out := []SettingChange{}
	for _, p := range pairs {
		if p.a != p.b {
			out = append(out, SettingChange{Setting: p.name, From: p.a, To: p.b})
		}
	}
	return out
}

// diffIntegrations compares integrations sorted by slug with sorted scopes.
func diffIntegrations(a, b []Integration) []IntegrationDelta {
	out := []IntegrationDelta{}
	find := func(list []Integration, slug string) (Integration, bool) {
		i, ok := slices.BinarySearchFunc(list, slug, func(in Integration, s string) int { return strings.Compare(in.Slug, s) })
		if !ok {
			return Integration{}, false
		}
		return list[i], true
	}
	for _, in := range a {
		n, ok := find(b, in.Slug)
		switch {
		case !ok:
			out = append(out, IntegrationDelta{Slug: in.Slug, Kind: "removed", Added: []string{}, Removed: in.Scopes})
		case !slices.Equal(in.Scopes, n.Scopes):
			out = append(out, IntegrationDelta{Slug: in.Slug, Kind: "changed", Added: minus(n.Scopes, in.Scopes), Removed: minus(in.Scopes, n.Scopes)})
		}
	}
	for _, n := range b {
		if _, ok := find(a, n.Slug); !ok {
			out = append(out, IntegrationDelta{Slug: n.Slug, Kind: "added", Added: n.Scopes, Removed: []string{}})
		}
	}
	slices.SortFunc(out, func(x, y IntegrationDelta) int { return strings.Compare(x.Slug, y.Slug) })
	return out
}
