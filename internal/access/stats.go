package access

import (
	"cmp"
	"maps"
	"slices"
)

// Stats are the dashboard's counts and lists, computed once by New.
// Member lists are sorted by email; slug lists by slug.
type Stats struct {
	Members int `json:"members"`
	// Active counts members whose invite is accepted, Restricted included.
	Active int `json:"active"`
	// ByOrgRole counts members per org role, in role priority order, plus
	// any unknown role last.
	ByOrgRole []RoleCount `json:"byOrgRole"`
	// Owners counts active members with the top org role, except those
	// over the member limit (Sentry refuses them).
	Owners int `json:"owners"`
	// GlobalMembers counts active members with global access.
	GlobalMembers int `json:"globalMembers"`
	// WithoutSSO lists active members whose SSO is not linked (or invalid);
	// empty unless the org has an auth provider.
	WithoutSSO []MemberRef `json:"withoutSso"`
	// Without2FA lists active members without two-factor authentication.
	Without2FA []MemberRef `json:"without2fa"`
	// PendingInvites and ExpiredInvites are invites not yet accepted.
	PendingInvites []MemberRef `json:"pendingInvites"`
	ExpiredInvites []MemberRef `json:"expiredInvites"`
	// OnNoTeam lists active members on no team.
	OnNoTeam []MemberRef `json:"onNoTeam"`
	// Restricted lists accepted members over the plan's member limit
	// (member-limit:restricted): Sentry refuses them in its UI.
	Restricted []MemberRef `json:"restricted"`
	// TeamsWithoutProjects and ProjectsWithoutTeams are slugs.
	TeamsWithoutProjects []string `json:"teamsWithoutProjects"`
	ProjectsWithoutTeams []string `json:"projectsWithoutTeams"`
	// Reach is every active member's reach, most projects first, then by email.
	Reach []MemberReach `json:"reach"`
}

// RoleCount is the number of members holding one org role.
type RoleCount struct {
	Role    string `json:"role"`
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// MemberReach is how many projects an active member reaches.
type MemberReach struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	OrgRole  string `json:"orgRole"`
	Global   bool   `json:"global"`
	Projects int    `json:"projects"`
	// Restricted reports whether the member is over the member limit, so
	// reaches nothing (Projects is 0).
	Restricted bool `json:"restricted,omitempty"`
}

// Stats returns the counts computed when the engine was built.
func (e *Engine) Stats() Stats { return e.stats }

func (e *Engine) computeStats() Stats {
	s := e.snap
	st := Stats{
		Members:              len(s.Members),
		WithoutSSO:           []MemberRef{},
		Without2FA:           []MemberRef{},
		PendingInvites:       []MemberRef{},
		ExpiredInvites:       []MemberRef{},
		OnNoTeam:             []MemberRef{},
		Restricted:           []MemberRef{},
		TeamsWithoutProjects: []string{},
		ProjectsWithoutTeams: []string{},
		Reach:                []MemberReach{},
	}
	perRole := make([]int, len(e.orgRoles))
	unknown := map[string]int{}
	stamp := make([]int, len(s.Projects))
	for _, i := range e.emailOrder {
		m := &s.Members[i]
		mi := &e.members[i]
		if mi.role >= 0 {
			perRole[mi.role]++
		} else {
			unknown[m.OrgRole]++
		}
		switch m.State {
		case StatePending:
			st.PendingInvites = append(st.PendingInvites, e.memberRef(i))
		case StateExpired:
			st.ExpiredInvites = append(st.ExpiredInvites, e.memberRef(i))
		}
		if !accepted(m) {
			continue
		}
		st.Active++
		if mi.limited != nil {
			st.Restricted = append(st.Restricted, e.memberRef(i))
		} else if mi.role == len(e.orgRoles)-1 {
			st.Owners++
		}
		if s.Org.HasAuthProvider && (!m.Flags.SSOLinked || m.Flags.SSOInvalid) {
			st.WithoutSSO = append(st.WithoutSSO, e.memberRef(i))
		}
		if !m.Has2FA {
			st.Without2FA = append(st.Without2FA, e.memberRef(i))
		}
		if len(mi.seats) == 0 {
			st.OnNoTeam = append(st.OnNoTeam, e.memberRef(i))
		}
		r := MemberReach{ID: m.ID, Email: m.Email, OrgRole: m.OrgRole, Global: mi.global, Restricted: mi.limited != nil}
		switch {
		case r.Restricted:
		case mi.global:
			st.GlobalMembers++
			r.Projects = len(s.Projects)
		default:
			for _, seat := range mi.seats {
				if seat.team < 0 || seat.eff < 0 {
					continue
				}
				for _, p := range e.teamProjects[seat.team] {
					if stamp[p] != i+1 {
						stamp[p] = i + 1
						r.Projects++
					}
				}
			}
		}
		st.Reach = append(st.Reach, r)
	}
	slices.SortStableFunc(st.Reach, func(a, b MemberReach) int { return cmp.Compare(b.Projects, a.Projects) })
	for i, r := range e.orgRoles {
		st.ByOrgRole = append(st.ByOrgRole, RoleCount{Role: r.ID, Name: r.Name, Members: perRole[i]})
	}
	for _, id := range slices.Sorted(maps.Keys(unknown)) {
		st.ByOrgRole = append(st.ByOrgRole, RoleCount{Role: id, Name: id, Members: unknown[id]})
	}
	for _, t := range e.teamOrder {
		if len(e.teamProjects[t]) == 0 {
			st.TeamsWithoutProjects = append(st.TeamsWithoutProjects, s.Teams[t].Slug)
		}
	}
	for _, p := range e.projectOrder {
		if len(e.projectTeams[p]) == 0 {
			st.ProjectsWithoutTeams = append(st.ProjectsWithoutTeams, s.Projects[p].Slug)
		}
	}
	return st
}

// Risk is one finding the dashboard should surface.
type Risk struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Risk kinds.
const (
	RiskOpenMembership  = "open-membership"
	RiskSingleOwner     = "single-owner"
	RiskNoOwner         = "no-owner"
	RiskWithoutSSO      = "without-sso"
	RiskWithout2FA      = "without-2fa"
	RiskExpiredInvites  = "expired-invites"
	RiskPendingInvites  = "pending-invites"
	RiskProjectsNoTeam  = "projects-without-teams"
	RiskMembersNoTeam   = "members-on-no-team"
	RiskIntegrationsAll = "integrations-reach-all"
	RiskRestricted      = "member-limit-restricted"
)

// Risks derives findings from Stats and the org settings, most severe first.
func (e *Engine) Risks() []Risk {
	st := e.stats
	org := e.snap.Org
	var out []Risk
	add := func(kind string, n int, msg string) { out = append(out, Risk{Kind: kind, Message: msg, Count: n}) }
	if st.Owners == 0 {
		add(RiskNoOwner, 0, "no active owner: nobody can manage billing, SSO or other owners")
	}
	if st.Owners == 1 {
		add(RiskSingleOwner, 1, "only one active owner: the organization depends on one person")
	}
	if org.OpenMembership {
		add(RiskOpenMembership, st.Active, "open membership is on: every member reaches every team and project")
	}
	if n := len(st.WithoutSSO); n > 0 {
		add(RiskWithoutSSO, n, "active members without a linked SSO identity")
	}
	if n := len(st.Without2FA); n > 0 && !org.Require2FA {
		add(RiskWithout2FA, n, "active members without two-factor authentication, and 2FA is not required")
	}
	if n := len(st.Restricted); n > 0 {
		add(RiskRestricted, n, "members over the plan's member limit: Sentry refuses them in its UI, but their user auth tokens still work")
	}
	if n := len(e.integrations); n > 0 {
		add(RiskIntegrationsAll, n, "internal integrations reach every project with their scopes")
	}
	if n := len(st.ExpiredInvites); n > 0 {
		add(RiskExpiredInvites, n, "expired invites to clean up")
	}
	if n := len(st.PendingInvites); n > 0 {
		add(RiskPendingInvites, n, "invites not yet accepted")
	}
	if n := len(st.ProjectsWithoutTeams); n > 0 {
		add(RiskProjectsNoTeam, n, "projects linked to no team: only members with global access reach them")
	}
	if n := len(st.OnNoTeam); n > 0 {
		add(RiskMembersNoTeam, n, "active members on no team")
	}
	return out
}
