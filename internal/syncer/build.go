package syncer

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// This file maps Sentry's JSON shapes (internal/sentry) to the engine's
// model (internal/access). It is pure, and it orders everything the same way
// whatever order Sentry answered in, so that two snapshots of the same state
// are reflect.DeepEqual: members by numeric id, teams, projects and
// integrations by slug, a member's teams and a project's teams by slug.

// mapMember maps a member from the member list or detail. Teams is left
// empty: team memberships come from the team member lists (which, like
// Sentry's, leave out pending invites), not from the member.
//
// State: "pending" means the invite was not accepted yet (no user),
// "expired" a pending invite whose token is past INVITE_DAYS_VALID (30
// days) — src/sentry/models/organizationmember.py.
func mapMember(m sentry.Member) access.Member {
	out := access.Member{
		ID: m.ID, Email: m.Email, Name: m.Name,
		OrgRole: cmp.Or(m.OrgRole, m.Role),
		State:   access.StateActive,
		Flags: access.MemberFlags{
			SSOLinked:             m.Flags.SSOLinked,
			SSOInvalid:            m.Flags.SSOInvalid,
			IDPProvisioned:        m.Flags.IDPProvisioned,
			IDPRoleRestricted:     m.Flags.IDPRoleRestricted,
			MemberLimitRestricted: m.Flags.MemberLimitRestricted,
			PartnershipRestricted: m.Flags.PartnershipRestricted,
		},
		DateCreated: m.DateCreated,
	}
	switch {
	case m.Pending && m.Expired:
		out.State = access.StateExpired
	case m.Pending || m.User == nil:
		out.State = access.StatePending
	}
	if u := m.User; u != nil {
		out.UserID = u.ID
		out.Has2FA = u.Has2FA
		out.LastLogin = u.LastLogin
		out.LastActive = u.LastActive
		if out.Email == "" {
			out.Email = u.Email
		}
	}
	return out
}

// mapTeam maps a team.
func mapTeam(t sentry.Team) access.Team {
	return access.Team{ID: t.ID, Slug: t.Slug, Name: t.Name, IDPProvisioned: t.Flags.IDPProvisioned, DateCreated: t.DateCreated}
}

// mapProject maps a project with the slugs of its teams.
func mapProject(p sentry.Project) access.Project {
	teams := make([]string, 0, len(p.Teams))
	for _, t := range p.Teams {
		teams = append(teams, t.Slug)
	}
	if len(teams) == 0 && p.Team != nil {
		teams = append(teams, p.Team.Slug)
	}
	slices.Sort(teams)
	return access.Project{ID: p.ID, Slug: p.Slug, Name: p.Name, Platform: p.Platform, Teams: slices.Compact(teams)}
}

// mapIntegrations keeps the internal integrations among the org's Sentry
// Apps: their tokens act as a member of every team
// (OrganizationGlobalMembership in src/sentry/auth/access.py).
func mapIntegrations(apps []sentry.SentryApp) []access.Integration {
	out := []access.Integration{}
	for _, a := range apps {
		if a.Status != "internal" {
			continue
		}
		out = append(out, access.Integration{Slug: a.Slug, Name: a.Name, UUID: a.UUID, Status: a.Status, Scopes: slices.Clone(a.Scopes)})
	}
	slices.SortFunc(out, func(a, b access.Integration) int { return cmp.Compare(a.Slug, b.Slug) })
	return out
}

// setTeamMembers makes the given team members exactly the members of team
// slug: it removes slug from every member and adds it, with the stored team
// role (nil is Sentry's null, kept as ""), to each listed member. It returns
// the ids of listed members that are not in members.
func setTeamMembers(members map[string]*access.Member, slug string, list []sentry.TeamMember) []string {
	for _, m := range members {
		m.Teams = slices.DeleteFunc(m.Teams, func(ms access.Membership) bool { return ms.Team == slug })
	}
	var unknown []string
	for _, tm := range list {
		m := members[tm.ID]
		if m == nil {
			unknown = append(unknown, tm.ID)
			continue
		}
		role := ""
		if tm.TeamRole != nil {
			role = *tm.TeamRole
		}
		m.Teams = append(m.Teams, access.Membership{Team: slug, Role: role})
	}
	return unknown
}

// assemble turns the parts into a snapshot in canonical order.
func assemble(org access.Org, orgRoles []access.OrgRole, teamRoles []access.TeamRole,
	members map[string]*access.Member, teams []access.Team, projects []access.Project, integrations []access.Integration,
) *access.Snapshot {
	snap := &access.Snapshot{
		Org: org, OrgRoles: orgRoles, TeamRoles: teamRoles,
		Members:      make([]access.Member, 0, len(members)),
		Teams:        slices.Clone(teams),
		Projects:     slices.Clone(projects),
		Integrations: slices.Clone(integrations),
	}
	for _, m := range members {
		mm := *m
		mm.Teams = slices.Clone(m.Teams)
		slices.SortFunc(mm.Teams, func(a, b access.Membership) int { return cmp.Compare(a.Team, b.Team) })
		if mm.Teams == nil {
			mm.Teams = []access.Membership{}
		}
		snap.Members = append(snap.Members, mm)
	}
	slices.SortFunc(snap.Members, func(a, b access.Member) int { return compareIDs(a.ID, b.ID) })
	slices.SortFunc(snap.Teams, func(a, b access.Team) int { return cmp.Compare(a.Slug, b.Slug) })
	slices.SortFunc(snap.Projects, func(a, b access.Project) int { return cmp.Compare(a.Slug, b.Slug) })
	slices.SortFunc(snap.Integrations, func(a, b access.Integration) int { return cmp.Compare(a.Slug, b.Slug) })
	return snap
}

// compareIDs orders Sentry ids numerically when both are numbers.
func compareIDs(a, b string) int {
	na, errA := strconv.ParseInt(a, 10, 64)
	nb, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(na, nb)
	}
	return cmp.Compare(a, b)
}

// memberIndex copies the snapshot's members into a map by id.
func memberIndex(ms []access.Member) map[string]*access.Member {
	out := make(map[string]*access.Member, len(ms))
	for _, m := range ms {
		m.Teams = slices.Clone(m.Teams)
		out[m.ID] = &m
	}
	return out
}
