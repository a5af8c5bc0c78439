package benchmark

import (
	"context"
	"fmt"
	"slices"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// plan is the fewest requests a full sync of a fixture can make, per
// endpoint, and the longest chain of them that must follow one another.
type plan struct {
	endpoints map[string]int
	total     int
	chain     int
}

// Endpoint labels of the plan.
const (
	epAuditLogs    = "audit-logs"
	epOrganization = "organization"
	epAuthProvider = "auth-provider"
	epMembers      = "members"
	epTeams        = "teams"
	epTeamMembers  = "team members"
	epProjects     = "projects"
	epSentryApps   = "sentry-apps"
	epAPIIndex     = "api index"
)

// pages is the number of requests for a list of n at perPage (an empty
// list still takes one).
func pages(n int) int { return max(1, (n+perPage-1)/perPage) }

// minimumPlan counts, from the fixture, one request per page of the audit
// log, members, teams and each team's member list (which leaves out
// pending invites) unless the team list's memberCount says it is empty,
// and one each for the organization, its auth provider, the projects
// (all_projects=1 is unpaginated), the Sentry Apps and the API index (who
// the token acts as).
func minimumPlan(fx *sentrysim.Fixture) plan {
	teamSize := map[string]int{}    // the member list's length
	memberCount := map[string]int{} // approved memberships, pending invites included
	for _, m := range fx.Members {
		if m.InviteStatus != "" && m.InviteStatus != "approved" {
			continue
		}
		for _, t := range m.Teams {
			memberCount[t.Team]++
			if !m.Pending {
				teamSize[t.Team]++
			}
		}
	}
	p := plan{endpoints: map[string]int{
		epAuditLogs:    pages(len(fx.AuditLog)),
		epOrganization: 1,
		epAuthProvider: 1,
		epMembers:      pages(len(fx.Members)),
		epTeams:        pages(len(fx.Teams)),
		epProjects:     1,
		epSentryApps:   1,
		epAPIIndex:     1,
	}}
	longestTeam := 0
	for _, t := range fx.Teams {
		if memberCount[t.Slug] == 0 {
			continue
		}
		n := pages(teamSize[t.Slug])
		p.endpoints[epTeamMembers] += n
		longestTeam = max(longestTeam, n)
	}
	for _, n := range p.endpoints {
		p.total += n
	}
	p.chain = p.endpoints[epAuditLogs] + max(p.endpoints[epMembers], p.endpoints[epTeams]+longestTeam, 1)
	return p
}

// busiest returns the endpoint with the most requests (ties by name).
func (p plan) busiest() (string, int) {
	names := make([]string, 0, len(p.endpoints))
	for k := range p.endpoints {
		names = append(names, k)
	}
	slices.Sort(names)
	best, n := "", -1
	for _, k := range names {
		if p.endpoints[k] > n {
			best, n = k, p.endpoints[k]
		}
	}
	return best, n
}

// changer is the part of the Sentry client that makes the changes.
type changer interface {
	AddMemberToTeam(ctx context.Context, memberID, team string) (sentry.JoinResult, error)
	RemoveMemberFromTeam(ctx context.Context, memberID, team string) error
	SetOrgRole(ctx context.Context, memberID, orgRole string) (*sentry.Member, error)
	AddProjectTeam(ctx context.Context, project, team string) (*sentry.Project, error)
}

// makeChanges makes Changes changes, chosen deterministically from the
// fixture, a quarter of each kind: team adds, team removals, org-role
// changes (member → manager) and project links. It picks only changes
// Sentry allows the owner's token (docs/sentry-access-model.md#member-and-team):
// no join or leave of an IdP-provisioned team (403), no member whose
// org role the IdP manages (idp:role-restricted) or who is
// partnership-restricted.
func makeChanges(ctx context.Context, c changer, fx *sentrysim.Fixture) error {
	per := Changes / 4
	idpTeam := map[string]bool{}
	var teams []string // the teams changes may touch
	for _, t := range fx.Teams {
		idpTeam[t.Slug] = t.IDPProvisioned
		if !t.IDPProvisioned {
			teams = append(teams, t.Slug)
		}
	}
	// changeable reports whether m's team can be left by m.
	changeable := func(tm sentrysim.TeamMembership) bool { return !idpTeam[tm.Team] }
	var active []sentrysim.MemberFixture
	for _, m := range fx.Members {
		if !m.Pending && m.Role == "member" && m.InviteStatus == "" && slices.ContainsFunc(m.Teams, changeable) &&
			!slices.Contains(m.Flags, "idp:role-restricted") && !slices.Contains(m.Flags, "partnership:restricted") {
			active = append(active, m)
		}
	}
	if len(active) < 3*per || len(teams) < 2 || len(fx.Projects) < per {
		return fmt.Errorf("the org is too small for %d changes", Changes)
	}
	on := func(m sentrysim.MemberFixture, slug string) bool {
		return slices.ContainsFunc(m.Teams, func(t sentrysim.TeamMembership) bool { return t.Team == slug })
	}
	step := len(active) / (3 * per)
	for i := range per {
		m := active[i*step]
		for _, t := range teams {
			if !on(m, t) {
				if _, err := c.AddMemberToTeam(ctx, fmt.Sprint(m.ID), t); err != nil {
					return fmt.Errorf("add %s to team %s: %w", m.Email, t, err)
				}
				break
			}
		}
		m = active[(per+i)*step]
		leave := m.Teams[slices.IndexFunc(m.Teams, changeable)].Team
		if err := c.RemoveMemberFromTeam(ctx, fmt.Sprint(m.ID), leave); err != nil {
			return fmt.Errorf("remove %s from team %s: %w", m.Email, leave, err)
		}
		m = active[(2*per+i)*step]
		if _, err := c.SetOrgRole(ctx, fmt.Sprint(m.ID), "manager"); err != nil {
			return fmt.Errorf("make %s a manager: %w", m.Email, err)
		}
		pr := fx.Projects[i*len(fx.Projects)/per]
		for _, t := range teams {
			if !slices.Contains(pr.Teams, t) {
				if _, err := c.AddProjectTeam(ctx, pr.Slug, t); err != nil {
					return fmt.Errorf("link team %s to project %s: %w", t, pr.Slug, err)
				}
				break
			}
		}
	}
	return nil
}
