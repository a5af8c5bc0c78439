package conformance

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// Effective access, from tests/sentry/auth/test_access.py and
// src/sentry/auth/access.py (with Organization.get_scopes in
// src/sentry/models/organization.py): each case is checked against the
// simulator (what the caller's own token is told in the teams and projects
// lists) and against the access engine (internal/access over the same
// organization), so the two agree with Sentry and with each other.

const (
	tAccess   = "tests/sentry/auth/test_access.py"
	srcAccess = "src/sentry/auth/access.py"
	srcOrg    = "src/sentry/models/organization.py: Organization.get_scopes"
)

// reach is what one principal reaches: per team, team access; per project,
// project access and the scopes it holds there.
type reach struct {
	teams    map[string]bool
	projects map[string][]string // nil: no access
}

type accessRule struct {
	name, sentry string
	opts         opts
	// who is a person's name or "integration[scopes]".
	who string
	// teamAccess and projectAccess are the expected has_team_access and
	// has_project_access; scopes are scopes expected (true) or not
	// (false) on "project".
	teamAccess    map[string]bool
	projectAccess map[string]bool
	scopes        map[string]bool
}

func teamsAll(v bool) map[string]bool {
	return map[string]bool{"team": v, "idp-team": v, "other-team": v}
}

func TestEffectiveAccess(t *testing.T) {
	t.Parallel()
	closed := opts{closed: true}
	eventsOff := opts{closed: true, tweak: func(fx *sentrysim.Fixture) { fx.Org.EventsMemberAdmin = ptr(false) }}
	alertsOff := opts{closed: true, tweak: func(fx *sentrysim.Fixture) { fx.Org.AlertsMemberWrite = ptr(false) }}
	rules := []accessRule{
		{name: "closed membership: a member reaches the projects of their teams only", sentry: tAccess + "::test_mixed_access",
			opts: closed, who: "member_on_team",
			teamAccess:    map[string]bool{"team": true, "other-team": false},
			projectAccess: map[string]bool{"project": true, "other-project": false, "orphan": false},
			scopes:        map[string]bool{"project:read": true}},
		{name: "an owner reaches every team and project without membership", sentry: tAccess + "::test_owner_all_teams",
			opts: closed, who: "owner", teamAccess: teamsAll(true),
			projectAccess: map[string]bool{"project": true, "other-project": true, "orphan": true},
			scopes:        map[string]bool{"project:read": true, "project:admin": true}},
		{name: "a manager has global access too (is_global)", sentry: srcAccess + ": has_global_access (role.is_global)",
			opts: closed, who: "manager", teamAccess: teamsAll(true),
			projectAccess: map[string]bool{"project": true, "orphan": true}},
		{name: "closed membership: a member on no team reaches nothing", sentry: tAccess + "::test_member_no_teams_closed_membership",
			opts: closed, who: "member", teamAccess: teamsAll(false),
			projectAccess: map[string]bool{"project": false, "other-project": false, "orphan": false}},
		{name: "open membership: a member on no team reaches every team and project", sentry: tAccess + "::test_member_no_teams_open_membership",
			who: "member", teamAccess: teamsAll(true),
			projectAccess: map[string]bool{"project": true, "other-project": true, "orphan": true},
			scopes:        map[string]bool{"project:read": true}},
		{name: "open membership: a member on a team reaches it with membership", sentry: tAccess + "::test_team_restricted_org_member_access",
			who: "member_on_team", teamAccess: map[string]bool{"team": true},
			projectAccess: map[string]bool{"project": true}, scopes: map[string]bool{"project:read": true}},
		{name: "the retired admin role is not global: closed membership limits it to its teams", sentry: srcAccess + ": has_global_access (admin is not is_global)",
			opts: closed, who: "admin_on_team", teamAccess: map[string]bool{"team": true, "other-team": false},
			projectAccess: map[string]bool{"project": true, "other-project": false}},
		{name: "a Team Admin holds project:write on the team's projects through the team role", sentry: srcAccess + ": has_any_project_scope (team-role scopes of the project's teams)",
			opts: closed, who: "team_admin", projectAccess: map[string]bool{"project": true, "other-project": false},
			scopes: map[string]bool{"project:write": true, "project:admin": true}},
		{name: "a contributor holds no project:write", sentry: srcAccess + ": has_any_project_scope",
			opts: closed, who: "member_on_team", projectAccess: map[string]bool{"project": true},
			scopes: map[string]bool{"project:write": false}},
		{name: "eventsMemberAdmin off removes event:admin from a member", sentry: srcOrg + " (sentry:events_member_admin)",
			opts: eventsOff, who: "member_on_team", projectAccess: map[string]bool{"project": true},
			scopes: map[string]bool{"event:admin": false, "event:write": true}},
		{name: "eventsMemberAdmin off leaves a manager's event:admin (NON_MEMBER_SCOPES)", sentry: srcOrg + " (NON_MEMBER_SCOPES)",
			opts: eventsOff, who: "manager", projectAccess: map[string]bool{"project": true},
			scopes: map[string]bool{"event:admin": true}},
		{name: "alertsMemberWrite off removes alerts:write from a member", sentry: srcOrg + " (sentry:alerts_member_write)",
			opts: alertsOff, who: "member_on_team", projectAccess: map[string]bool{"project": true},
			scopes: map[string]bool{"alerts:write": false, "alerts:read": true}},
		{name: "a pending invite reaches nothing", sentry: srcAccess + ": from_user (no user, no access)",
			opts: closed, who: "invite",
			projectAccess: map[string]bool{"project": false, "orphan": false}},
		{name: "an internal integration has global access with its own scopes", sentry: tAccess + "::FromSentryAppTest::test_has_access, test_has_app_scopes",
			opts: closed, who: "integration[org:read team:read team:write project:read]", teamAccess: teamsAll(true),
			projectAccess: map[string]bool{"project": true, "other-project": true, "orphan": true},
			scopes:        map[string]bool{"project:read": true, "project:write": false}},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			fx := build(r.opts, r.who, "owner")
			check := func(t *testing.T, where string, got reach) {
				t.Helper()
				for team, want := range r.teamAccess {
					if got.teams != nil {
						equal(t, fmt.Sprintf("%s: team access to %s", where, team), got.teams[team], want)
					}
				}
				for p, want := range r.projectAccess {
					equal(t, fmt.Sprintf("%s: access to %s", where, p), got.projects[p] != nil, want)
				}
				for s, want := range r.scopes {
					equal(t, fmt.Sprintf("%s: %s on project", where, s), slices.Contains(got.projects["project"], s), want)
				}
			}
			// A pending invite has no user, so no token to ask the
			// simulator with: only the engine answers for it.
			if r.who != "invite" {
				t.Run("simulator", func(t *testing.T) {
					check(t, "simulator", simulatorReach(t, start(t, fx, sentrysim.Options{}), r.who))
				})
			}
			t.Run("engine", func(t *testing.T) { check(t, "engine", engineReach(t, fx, r.who)) })
		})
	}
}

// simulatorReach asks the simulator, with the principal's own token, what
// it reaches (hasAccess and access in the teams and projects lists).
func simulatorReach(t *testing.T, w *world, who string) reach {
	t.Helper()
	out := reach{teams: map[string]bool{}, projects: map[string][]string{}}
	var ts []struct {
		Slug      string
		HasAccess bool `json:"hasAccess"`
	}
	if err := json.Unmarshal(w.do(t, who, "GET", teams, nil).body, &ts); err != nil {
		t.Fatal(err)
	}
	for _, tm := range ts {
		out.teams[tm.Slug] = tm.HasAccess
	}
	var ps []struct {
		Slug      string
		HasAccess bool     `json:"hasAccess"`
		Access    []string `json:"access"`
	}
	if err := json.Unmarshal(w.do(t, who, "GET", projects+"?all_projects=1", nil).body, &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.HasAccess {
			out.projects[p.Slug] = append([]string{}, p.Access...)
		}
	}
	return out
}

// engineReach asks the access engine over the same organization.
func engineReach(t *testing.T, fx *sentrysim.Fixture, who string) reach {
	t.Helper()
	e := access.New(snapshotOf(fx))
	out := reach{projects: map[string][]string{}}
	if name, scopes := parseActor(who); name == "integration" {
		out.teams = map[string]bool{}
		for _, tm := range fx.Teams {
			out.teams[tm.Slug] = true // an integration is a member of every team
		}
		for _, p := range fx.Projects {
			pa, err := e.Project(p.Slug)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range pa.Integrations {
				if slices.Equal(in.Scopes, sorted(scopes)) || len(pa.Integrations) == 1 {
					out.projects[p.Slug] = in.Scopes
				}
			}
		}
		return out
	}
	ma, err := e.Member(emailOf(who))
	if err != nil {
		t.Fatal(err)
	}
	out.teams = map[string]bool{}
	for _, tm := range fx.Teams {
		out.teams[tm.Slug] = ma.GlobalAccess
	}
	for _, ta := range ma.Teams {
		out.teams[ta.Slug] = true
	}
	if len(ma.Teams) == 0 && !ma.GlobalAccess && ma.Member.State != access.StateActive {
		out.teams = nil // a pending invite: team access is not asked of the engine
	}
	for _, p := range ma.Projects {
		out.projects[p.Slug] = p.Scopes
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// snapshotOf turns the world's fixture into the engine's snapshot, as a
// sync would: Sentry's default roles, the org settings, members with their
// state and stored team roles, teams, projects and integrations.
func snapshotOf(fx *sentrysim.Fixture) *access.Snapshot {
	s := &access.Snapshot{Org: access.Org{Slug: fx.Org.Slug,
		OpenMembership:    fx.Org.OpenMembership == nil || *fx.Org.OpenMembership,
		EventsMemberAdmin: fx.Org.EventsMemberAdmin == nil || *fx.Org.EventsMemberAdmin,
		AlertsMemberWrite: fx.Org.AlertsMemberWrite == nil || *fx.Org.AlertsMemberWrite}}
	for _, tm := range fx.Teams {
		s.Teams = append(s.Teams, access.Team{ID: fmt.Sprint(tm.ID), Slug: tm.Slug, Name: tm.Name, IDPProvisioned: tm.IDPProvisioned})
	}
	for _, p := range fx.Projects {
		s.Projects = append(s.Projects, access.Project{ID: fmt.Sprint(p.ID), Slug: p.Slug, Name: p.Slug, Teams: slices.Clone(p.Teams)})
	}
	for _, m := range fx.Members {
		if m.InviteStatus != "" && m.InviteStatus != "approved" {
			continue
		}
		am := access.Member{ID: fmt.Sprint(m.ID), Email: m.Email, Name: m.Name, OrgRole: m.Role, State: access.StateActive}
		if m.Pending {
			am.State = access.StatePending
		}
		for _, tm := range m.Teams {
			am.Teams = append(am.Teams, access.Membership{Team: tm.Team, Role: tm.Role})
		}
		s.Members = append(s.Members, am)
	}
	for _, in := range fx.Integrations {
		s.Integrations = append(s.Integrations, access.Integration{Slug: in.Slug, Name: in.Slug, Status: "internal", Scopes: slices.Clone(in.Scopes)})
	}
	return s
}
