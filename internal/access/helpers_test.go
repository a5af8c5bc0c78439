package access

import (
	"fmt"
	"slices"
	"strings"
)

// Builders that let test tables read as the rule they check.

type build func(*Snapshot)

// org builds a snapshot with Sentry's default options except open
// membership, which starts off so that tests state it when they need it.
func org(opts ...build) *Snapshot {
	s := &Snapshot{Org: Org{Slug: "acme", EventsMemberAdmin: true, AlertsMemberWrite: true}}
	for _, o := range opts {
		o(s)
	}
	return s
}

func openMembership(s *Snapshot)       { s.Org.OpenMembership = true }
func eventsMemberAdminOff(s *Snapshot) { s.Org.EventsMemberAdmin = false }
func alertsMemberWriteOff(s *Snapshot) { s.Org.AlertsMemberWrite = false }

// member adds an active member "<name>@acme.test" with id name.
func member(name, role string, teams ...Membership) build {
	return memberIn(StateActive, name, role, teams...)
}

func memberIn(state MemberState, name, role string, teams ...Membership) build {
	return func(s *Snapshot) {
		for _, t := range teams {
			ensureTeam(s, t.Team)
		}
		s.Members = append(s.Members, Member{
			ID: name, Email: name + "@acme.test", Name: strings.ToUpper(name[:1]) + name[1:],
			OrgRole: role, State: state, Teams: teams,
		})
	}
}

// team is a membership with an optional stored team role.
func team(slug string, role ...string) Membership {
	m := Membership{Team: slug}
	if len(role) > 0 {
		m.Role = role[0]
	}
	return m
}

func project(slug string, teams ...string) build {
	return func(s *Snapshot) {
		for _, t := range teams {
			ensureTeam(s, t)
		}
		s.Projects = append(s.Projects, Project{ID: "p-" + slug, Slug: slug, Name: slug, Teams: teams})
	}
}

func emptyTeam(slug string) build { return func(s *Snapshot) { ensureTeam(s, slug) } }

func integration(slug string, scopes ...string) build {
	return func(s *Snapshot) {
		s.Integrations = append(s.Integrations, Integration{Slug: slug, Name: slug, Scopes: scopes, Status: "internal"})
	}
}

func ensureTeam(s *Snapshot, slug string) {
	if !slices.ContainsFunc(s.Teams, func(t Team) bool { return t.Slug == slug }) {
		s.Teams = append(s.Teams, Team{ID: "t-" + slug, Slug: slug, Name: slug})
	}
}

// syntheticSnapshot builds an org of nMembers members, nTeams teams and
// nProjects projects, deterministic: each member is on 1–3 teams, each
// project is linked to 1–2 teams, roles are mostly member with a few
// managers, owners, admins and billing, and 2% are pending invites.
func syntheticSnapshot(nMembers, nTeams, nProjects int, open bool) *Snapshot {
	s := &Snapshot{Org: Org{Slug: "big", OpenMembership: open, EventsMemberAdmin: false, AlertsMemberWrite: true}}
	for t := range nTeams {
		s.Teams = append(s.Teams, Team{ID: fmt.Sprint(t), Slug: fmt.Sprintf("team-%04d", t)})
	}
	for p := range nProjects {
		teams := []string{s.Teams[p%nTeams].Slug}
		if p%3 == 0 {
			teams = append(teams, s.Teams[(p*7+1)%nTeams].Slug)
		}
		s.Projects = append(s.Projects, Project{ID: fmt.Sprint(p), Slug: fmt.Sprintf("project-%04d", p), Teams: teams})
	}
	for i := range nMembers {
		role := RoleMember
		switch {
		case i%500 == 0:
			role = RoleOwner
		case i%100 == 0:
			role = RoleManager
		case i%50 == 0:
			role = RoleAdmin
		case i%250 == 7:
			role = RoleBilling
		}
		state := StateActive
		if i%50 == 13 {
			state = StatePending
		}
		m := Member{ID: fmt.Sprint(i), Email: fmt.Sprintf("user%05d@big.test", i), OrgRole: role, State: state, Has2FA: i%3 == 0}
		if role != RoleBilling {
			for k := range 1 + i%3 {
				ms := Membership{Team: s.Teams[(i*13+k*101)%nTeams].Slug}
				if (i+k)%10 == 0 {
					ms.Role = TeamRoleAdmin
				}
				m.Teams = append(m.Teams, ms)
			}
		}
		s.Members = append(s.Members, m)
	}
	s.Integrations = []Integration{{Slug: "deploy-bot", Name: "Deploy Bot", Scopes: []string{"project:releases", "project:read"}}}
	return s
}
