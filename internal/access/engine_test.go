package access

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefaultRolesMinimumTeamRole(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		RoleBilling: TeamRoleContributor,
		RoleMember:  TeamRoleContributor,
		RoleAdmin:   TeamRoleAdmin,
		RoleManager: TeamRoleAdmin,
		RoleOwner:   TeamRoleAdmin,
	}
	for _, r := range DefaultOrgRoles() {
		if got := r.MinimumTeamRole; got != want[r.ID] {
			t.Errorf("minimum team role of %s = %q, want %q", r.ID, got, want[r.ID])
		}
	}
	t.Run("computed when the snapshot's roles leave it empty", func(t *testing.T) {
		t.Parallel()
		roles := DefaultOrgRoles()
		for i := range roles {
			roles[i].MinimumTeamRole = ""
		}
		e := New(&Snapshot{OrgRoles: roles})
		for _, r := range e.OrgRoles() {
			if got := r.MinimumTeamRole; got != want[r.ID] {
				t.Errorf("minimum team role of %s = %q, want %q", r.ID, got, want[r.ID])
			}
		}
	})
}

// TestExplain is the truth table of who reaches which project, and with
// which scope, each row named by the Sentry rule it checks.
func TestExplain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		snap    *Snapshot
		member  string
		project string
		scope   string
		allowed bool
		reason  string // a substring of Decision.String()
	}{
		{
			"member on closed org reaches its team's project",
			org(member("ana", RoleMember, team("payments")), project("payment-api", "payments")),
			"ana", "payment-api", "", true, "member of team payments as Contributor",
		},
		{
			"member on closed org does not reach other teams' projects",
			org(member("ana", RoleMember, team("web")), project("payment-api", "payments", "platform")),
			"ana@acme.test", "payment-api", "", false,
			"denied: open membership is off; the member's org role Member is not global; payment-api is linked to teams payments and platform; the member is on neither.",
		},
		{
			"open membership gives every member every project",
			org(openMembership, member("ana", RoleMember), project("payment-api", "payments")),
			"ana", "payment-api", "", true, "open membership is on",
		},
		{
			"manager is global on a closed org",
			org(member("max", RoleManager), project("payment-api", "payments")),
			"max", "payment-api", "", true, "org role Manager has global access",
		},
		{
			"owner is global on a closed org",
			org(member("olga", RoleOwner), project("payment-api", "payments")),
			"olga", "payment-api", "project:admin", true, "org role Owner grants project:admin",
		},
		{
			"retired admin is not global",
			org(member("adam", RoleAdmin), project("payment-api", "payments")),
			"adam", "payment-api", "", false, "org role Admin is not global",
		},
		{
			"contributor does not hold project:write on a linked project",
			org(member("ana", RoleMember, team("payments")), project("payment-api", "payments")),
			"ana", "payment-api", "project:write", false, "team role Contributor on team payments does not grant project:write",
		},
		{
			"team admin holds project:write on a linked project",
			org(member("ana", RoleMember, team("payments", TeamRoleAdmin)), project("payment-api", "payments")),
			"ana", "payment-api", "project:write", true, "team role Team Admin on team payments grants project:write",
		},
		{
			"team admin role on one team does not carry to a project of another team",
			org(openMembership, member("ana", RoleMember, team("payments", TeamRoleAdmin)), project("web-app", "web")),
			"ana", "web-app", "project:write", false, "the member is on no team linked to web-app",
		},
		{
			"retired admin with a null team role gets Team Admin as its minimum",
			org(member("adam", RoleAdmin, team("payments")), project("payment-api", "payments")),
			// Admin's org scopes hold team:admin too: the reason that depends on
			// the minimum team role is the team path's.
			"adam", "payment-api", "team:admin", true, "team role Team Admin on team payments grants team:admin",
		},
		{
			"eventsMemberAdmin off removes event:admin from the member role",
			org(eventsMemberAdminOff, member("ana", RoleMember, team("payments")), project("payment-api", "payments")),
			"ana", "payment-api", "event:admin", false, "org role Member would grant event:admin but eventsMemberAdmin is off",
		},
		{
			"eventsMemberAdmin on keeps event:admin on the member role",
			org(member("ana", RoleMember, team("payments")), project("payment-api", "payments")),
			"ana", "payment-api", "event:admin", true, "org role Member grants event:admin",
		},
		{
			"alertsMemberWrite off removes alerts:write from the member role",
			org(alertsMemberWriteOff, member("ana", RoleMember, team("payments")), project("payment-api", "payments")),
			"ana", "payment-api", "alerts:write", false, "alertsMemberWrite is off",
		},
		{
			"alertsMemberWrite off leaves alerts:write with a team admin, which holds team:write",
			org(alertsMemberWriteOff, member("ana", RoleMember, team("payments", TeamRoleAdmin)), project("payment-api", "payments")),
			"ana", "payment-api", "alerts:write", true, "team role Team Admin on team payments grants alerts:write",
		},
		{
			"eventsMemberAdmin off does not touch the manager, which holds org:write",
			org(eventsMemberAdminOff, member("max", RoleManager), project("payment-api", "payments")),
			"max", "payment-api", "event:admin", true, "org role Manager grants event:admin",
		},
		{
			"billing may not be put on a team, but a membership that exists still grants the minimum team role",
			org(member("bill", RoleBilling, team("payments")), project("payment-api", "payments")),
			"bill", "payment-api", "project:read", true, "team role Contributor on team payments grants project:read",
		},
		{
			"pending invite reaches nothing even with open membership",
			org(openMembership, memberIn(StatePending, "pia", RoleMember, team("payments")), project("payment-api", "payments")),
			"pia", "payment-api", "", false, "invite pending",
		},
		{
			"expired invite reaches nothing",
			org(memberIn(StateExpired, "eve", RoleOwner), project("payment-api", "payments")),
			"eve", "payment-api", "", false, "invite expired",
		},
		{
			"internal integration reaches every project with its scopes",
			org(integration("deploy-bot", "project:releases"), project("payment-api", "payments")),
			"deploy-bot", "payment-api", "project:releases", true, "internal integration deploy-bot has project:releases",
		},
		{
			"internal integration lacks scopes it was not given",
			org(integration("deploy-bot", "project:releases"), project("payment-api", "payments")),
			"deploy-bot", "payment-api", "project:write", false, "does not have project:write",
		},
		{
			"project on no team is reached only by global access",
			org(member("ana", RoleMember, team("payments")), project("orphan")),
			"ana", "orphan", "", false, "orphan is linked to no team",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := New(tt.snap).Explain(tt.member, tt.project, tt.scope)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if got.Allowed != tt.allowed {
				t.Errorf("allowed = %v, want %v (%s)", got.Allowed, tt.allowed, got)
			}
			if !strings.Contains(got.String(), tt.reason) {
				t.Errorf("reasons = %q, want them to contain %q", got.String(), tt.reason)
			}
			prefix := "denied: "
			if tt.allowed {
				prefix = "allowed: "
			}
			if !strings.HasPrefix(got.String(), prefix) {
				t.Errorf("reasons = %q, want prefix %q", got.String(), prefix)
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	e := New(org(member("ana", RoleMember), project("payment-api", "payments")))
	if _, err := e.Explain("nobody", "payment-api", ""); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("unknown member: err = %v, want ErrUnknownMember", err)
	}
	if _, err := e.Explain("ana", "nothing", ""); !errors.Is(err, ErrUnknownProject) {
		t.Errorf("unknown project: err = %v, want ErrUnknownProject", err)
	}
	if _, err := e.Member("ANA@ACME.TEST"); err != nil {
		t.Errorf("email lookup is case-insensitive: %v", err)
	}
	if _, err := e.Project("nothing"); !errors.Is(err, ErrUnknownProject) {
		t.Errorf("Project: err = %v, want ErrUnknownProject", err)
	}
}

func TestMemberEffectiveTeamRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		role      string
		stored    string
		wantEff   string
		wantInWhy string
	}{
		{"member with null role gets contributor", RoleMember, "", TeamRoleContributor, "no stored role"},
		{"member with stored admin keeps team admin", RoleMember, TeamRoleAdmin, TeamRoleAdmin, "stored role Team Admin"},
		{"manager with null role gets team admin", RoleManager, "", TeamRoleAdmin, "minimum team role for Manager is Team Admin"},
		{"owner with stored contributor is raised to team admin", RoleOwner, TeamRoleContributor, TeamRoleAdmin, "below the minimum team role Team Admin"},
		{"retired admin with null role gets team admin", RoleAdmin, "", TeamRoleAdmin, "minimum team role for Admin"},
		{"billing may not be given a team, but an existing membership still holds the minimum", RoleBilling, "", TeamRoleContributor, "Sentry refuses to add it to a team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := New(org(member("ana", tt.role, team("payments", tt.stored)), project("payment-api", "payments")))
			got, err := e.Member("ana")
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Teams) != 1 {
				t.Fatalf("teams = %+v, want one", got.Teams)
			}
			if got.Teams[0].StoredRole != tt.stored || got.Teams[0].EffectiveRole != tt.wantEff {
				t.Errorf("stored/effective = %q/%q, want %q/%q", got.Teams[0].StoredRole, got.Teams[0].EffectiveRole, tt.stored, tt.wantEff)
			}
			if !strings.Contains(got.Teams[0].Reason, tt.wantInWhy) {
				t.Errorf("reason = %q, want it to contain %q", got.Teams[0].Reason, tt.wantInWhy)
			}
		})
	}
}

func TestMemberJSONShape(t *testing.T) {
	t.Parallel()
	e := New(org(openMembership,
		member("ana", RoleMember, team("payments", TeamRoleAdmin)),
		project("web-app", "web"), project("payment-api", "payments")))
	got, err := e.Member("ana")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	contributorless := `"orgScopes":["alerts:read","alerts:write","event:admin","event:read","event:write","member:invite","member:read","org:read","project:read","project:releases","team:read"]`
	for _, want := range []string{
		`{"member":{"id":"ana","email":"ana@acme.test","name":"Ana","orgRole":"member","state":"active"},"globalAccess":true,"globalReason":"open membership is on: every member reaches every team and project",`,
		contributorless,
		`"teams":[{"slug":"payments","storedRole":"admin","effectiveRole":"admin","reason":"stored role Team Admin (minimum for Member is Contributor)"}]`,
		`"projects":[{"slug":"payment-api","scopes":[`,
		`"paths":[{"kind":"open-membership","detail":"open membership is on: every member reaches every project"},{"kind":"team","team":"payments","teamRole":"admin","detail":"member of team payments as Team Admin"}]},{"slug":"web-app"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON\n%s\nwant it to contain\n%s", b, want)
		}
	}
	pay := got.Projects[0]
	if !slices.Contains(pay.Scopes, "project:admin") || !slices.IsSorted(pay.Scopes) {
		t.Errorf("payment-api scopes = %v, want sorted and to include the team admin's project:admin", pay.Scopes)
	}
	if web := got.Projects[1]; slices.Contains(web.Scopes, "project:write") {
		t.Errorf("web-app scopes = %v, want no project:write from a team not linked to it", web.Scopes)
	}
}

func TestMemberPendingReachesNothing(t *testing.T) {
	t.Parallel()
	e := New(org(openMembership, memberIn(StatePending, "pia", RoleOwner, team("payments")), project("payment-api", "payments")))
	got, err := e.Member("pia")
	if err != nil {
		t.Fatal(err)
	}
	if got.GlobalAccess || len(got.Projects) != 0 || len(got.OrgScopes) != 0 {
		t.Errorf("pending invite: global=%v projects=%v scopes=%v, want nothing", got.GlobalAccess, got.Projects, got.OrgScopes)
	}
	if !strings.Contains(got.GlobalReason, "invite pending") {
		t.Errorf("reason = %q, want it to say the invite is pending", got.GlobalReason)
	}
}

func TestProject(t *testing.T) {
	t.Parallel()
	e := New(org(
		member("zed", RoleMember, team("payments")),
		member("ana", RoleMember, team("payments", TeamRoleAdmin), team("platform")),
		member("max", RoleManager),
		member("bob", RoleMember, team("web")),
		memberIn(StatePending, "pia", RoleMember, team("payments")),
		integration("deploy-bot", "project:releases", "project:read"),
		project("payment-api", "payments", "platform"),
	))
	got, err := e.Project("payment-api")
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, m := range got.Members {
		emails = append(emails, m.Email)
	}
	want := []string{"ana@acme.test", "max@acme.test", "zed@acme.test"}
	if !slices.Equal(emails, want) {
		t.Errorf("members = %v, want %v (sorted by email; bob is on no linked team; pia is pending)", emails, want)
	}
	if n := len(got.Members[0].Paths); n != 2 {
		t.Errorf("ana's paths = %+v, want two: payments and platform", got.Members[0].Paths)
	}
	if len(got.Integrations) != 1 || got.Integrations[0].Slug != "deploy-bot" {
		t.Errorf("integrations = %+v, want deploy-bot", got.Integrations)
	}

	var groups []string
	for _, g := range got.Groups() {
		var in []string
		for _, m := range g.Members {
			in = append(in, m.ID)
		}
		groups = append(groups, g.Label+": "+strings.Join(in, ","))
	}
	wantGroups := []string{"Global org role: max", "Team payments: ana,zed", "Team platform: ana"}
	if !slices.Equal(groups, wantGroups) {
		t.Errorf("groups = %q, want %q", groups, wantGroups)
	}
}

func TestStatsAndRisks(t *testing.T) {
	t.Parallel()
	s := org(
		member("olga", RoleOwner),
		member("ana", RoleMember, team("payments")),
		member("bob", RoleMember),
		memberIn(StatePending, "pia", RoleMember),
		memberIn(StateExpired, "eve", RoleMember),
		project("payment-api", "payments"), project("orphan"), emptyTeam("idle"),
	)
	s.Org.HasAuthProvider = true
	s.Members[1].Flags.SSOLinked = true
	st := New(s).Stats()
	refs := func(rs []MemberRef) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"owners", st.Owners, 1},
		{"active", st.Active, 3},
		{"without SSO", refs(st.WithoutSSO), []string{"bob", "olga"}},
		{"pending", refs(st.PendingInvites), []string{"pia"}},
		{"expired", refs(st.ExpiredInvites), []string{"eve"}},
		{"on no team", refs(st.OnNoTeam), []string{"bob", "olga"}},
		{"teams without projects", st.TeamsWithoutProjects, []string{"idle"}},
		{"projects without teams", st.ProjectsWithoutTeams, []string{"orphan"}},
		{"most reach first", st.Reach[0].ID + "/" + st.Reach[1].ID, "olga/ana"},
		{"members per role", st.ByOrgRole[1], RoleCount{Role: RoleMember, Name: "Member", Members: 4}},
	}
	for _, c := range checks {
		gj, _ := json.Marshal(c.got)
		wj, _ := json.Marshal(c.want)
		if string(gj) != string(wj) {
			t.Errorf("%s = %s, want %s", c.name, gj, wj)
		}
	}
	var kinds []string
	for _, r := range New(s).Risks() {
		kinds = append(kinds, r.Kind)
	}
	if !slices.Contains(kinds, RiskSingleOwner) || !slices.Contains(kinds, RiskWithoutSSO) {
		t.Errorf("risks = %v, want single-owner and without-sso", kinds)
	}
}

func TestListings(t *testing.T) {
	t.Parallel()
	e := New(org(member("zed", RoleMember), member("ana", RoleOwner), project("web", "w"), project("api", "a")))
	var emails []string
	for _, m := range e.Members() {
		emails = append(emails, m.Email)
	}
	if want := []string{"ana@acme.test", "zed@acme.test"}; !slices.Equal(emails, want) {
		t.Errorf("Members = %v, want %v", emails, want)
	}
	if got, want := e.Projects(), []string{"api", "web"}; !slices.Equal(got, want) {
		t.Errorf("Projects = %v, want %v", got, want)
	}
}

func TestProjectJSONShape(t *testing.T) {
	t.Parallel()
	e := New(org(member("ana", RoleMember, team("payments")), integration("deploy-bot", "project:releases"), project("payment-api", "payments")))
	pa, err := e.Project("payment-api")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(pa)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"project":"payment-api","members":[{"id":"ana","email":"ana@acme.test","orgRole":"member","scopes":["alerts:read","alerts:write","event:admin","event:read","event:write","member:invite","member:read","org:read","project:read","project:releases","team:read"],"paths":[{"kind":"team","team":"payments","teamRole":"contributor","detail":"member of team payments as Contributor"}]}],"integrations":[{"slug":"deploy-bot","name":"deploy-bot","scopes":["project:releases"]}],"restricted":[]}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
}

// restrictedMember adds an active member flagged member-limit:restricted.
func restrictedMember(name, role string, teams ...Membership) build {
	return func(s *Snapshot) {
		member(name, role, teams...)(s)
		s.Members[len(s.Members)-1].Flags.MemberLimitRestricted = true
	}
}

// TestMemberOverTheMemberLimitReachesNothingInSentrysUI is the rule of
// docs/sentry-access-model.md#members-over-the-member-limit: Sentry refuses
// the browser session of a member flagged member-limit:restricted on every
// organization endpoint (determine_access → MemberDisabledOverLimit; tests/
// sentry/api/bases/test_organization.py test_member_limit_error), whatever
// its role, teams or open membership; its user auth tokens are not refused.
func TestMemberOverTheMemberLimitReachesNothingInSentrysUI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		snap       *Snapshot
		who        string
		tokenReach int
		wouldVia   string // what Explain says a seat would give
	}{
		{"member on a team", org(restrictedMember("uma", RoleMember, team("payments")), project("payment-api", "payments"), project("web", "web")),
			"uma", 1, "member of team payments as Contributor"},
		{"open membership", org(openMembership, restrictedMember("uma", RoleMember), project("payment-api", "payments"), project("web", "web")),
			"uma", 2, "open membership is on"},
		{"global org role", org(restrictedMember("max", RoleManager), project("payment-api", "payments")),
			"max", 1, "org role Manager has global access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := New(tt.snap)
			ma, err := e.Member(tt.who)
			if err != nil {
				t.Fatal(err)
			}
			if ma.GlobalAccess || len(ma.Projects) != 0 || len(ma.OrgScopes) != 0 {
				t.Errorf("global=%v projects=%v org scopes=%v, want nothing in Sentry's UI", ma.GlobalAccess, ma.Projects, ma.OrgScopes)
			}
			for _, ta := range ma.Teams {
				if ta.EffectiveRole != "" || !strings.Contains(ta.Reason, "member limit") {
					t.Errorf("team %s: effective role %q (%s), want none because of the member limit", ta.Slug, ta.EffectiveRole, ta.Reason)
				}
			}
			r := ma.Restriction
			if r == nil {
				t.Fatal("Restriction is nil, want the member limit")
			}
			if r.Kind != RestrictionMemberLimit || !strings.Contains(r.Reason, "member limit") || !strings.Contains(r.Tokens, "browser sessions only") {
				t.Errorf("restriction = %+v, want the member limit and what tokens still do", r)
			}
			if r.TokenProjects != tt.tokenReach || len(r.TokenOrgScopes) == 0 {
				t.Errorf("tokens reach %d projects with org scopes %v, want %d and the role's scopes", r.TokenProjects, r.TokenOrgScopes, tt.tokenReach)
			}
			d, err := e.Explain(tt.who, "payment-api", "project:read")
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed || !strings.HasPrefix(d.String(), "denied: "+tt.who+"@acme.test is over the plan's member limit") ||
				!strings.Contains(d.String(), tt.wouldVia) || !strings.Contains(d.String(), "browser sessions only") {
				t.Errorf("Explain = %s, want denied by the member limit, naming %q and the tokens", d, tt.wouldVia)
			}
			pa, err := e.Project("payment-api")
			if err != nil {
				t.Fatal(err)
			}
			if len(pa.Members) != 0 || len(pa.Restricted) != 1 || pa.Restricted[0].ID != tt.who {
				t.Errorf("project: members %+v restricted %+v, want %s only among the restricted", pa.Members, pa.Restricted, tt.who)
			}
			st := e.Stats()
			if len(st.Restricted) != 1 || st.Active != 1 || st.Owners != 0 || st.GlobalMembers != 0 || st.Reach[0].Projects != 0 || !st.Reach[0].Restricted {
				t.Errorf("stats: restricted=%v active=%d owners=%d global=%d reach=%+v", st.Restricted, st.Active, st.Owners, st.GlobalMembers, st.Reach)
			}
			var kinds []string
			for _, r := range e.Risks() {
				kinds = append(kinds, r.Kind)
			}
			if !slices.Contains(kinds, RiskRestricted) {
				t.Errorf("risks = %v, want %s", kinds, RiskRestricted)
			}
		})
	}
	t.Run("a restricted owner is not counted as an owner", func(t *testing.T) {
		t.Parallel()
		st := New(org(member("olga", RoleOwner), restrictedMember("omar", RoleOwner))).Stats()
		if st.Owners != 1 {
			t.Errorf("owners = %d, want 1 (omar is over the member limit)", st.Owners)
		}
	})
	t.Run("lifting the limit is a gain in the access diff", func(t *testing.T) {
		t.Parallel()
		before := org(restrictedMember("uma", RoleMember, team("payments")), project("payment-api", "payments"))
		after := org(member("uma", RoleMember, team("payments")), project("payment-api", "payments"))
		d := DiffAccess(before, after)
		if len(d.Members) != 1 || d.Members[0].Projects[0].Kind != AccessGained {
			t.Errorf("diff = %+v, want uma to gain payment-api", d)
		}
		if lc := Diff(before, after).LimitChanges; len(lc) != 1 || lc[0].Member.ID != "uma" || lc[0].Restricted {
			t.Errorf("limit changes = %+v, want uma to have a seat again", lc)
		}
	})
}

// MemberTeams is Member without Projects, for every kind of member
// (pending invites, restricted members, global roles, open membership).
func TestMemberTeamsIsMemberWithoutProjects(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		snap := syntheticSnapshot(400, 40, 120, open)
		snap.Members = append(snap.Members, Member{ID: "uma", Email: "uma@acme.test", OrgRole: RoleMember, State: StateActive,
			Teams: []Membership{{Team: snap.Teams[0].Slug}}, Flags: MemberFlags{MemberLimitRestricted: true}})
		e := New(snap)
		for _, m := range snap.Members {
			full, err := e.Member(m.Email)
			if err != nil {
				t.Fatal(err)
			}
			teams, err := e.MemberTeams(m.Email)
			if err != nil {
				t.Fatal(err)
			}
			if len(teams.Projects) != 0 {
				t.Fatalf("open=%v %s: MemberTeams lists %d projects, want none", open, m.Email, len(teams.Projects))
			}
			full.Projects = teams.Projects
			if !reflect.DeepEqual(full, teams) {
				t.Fatalf("open=%v %s: MemberTeams = %+v\nwant Member without projects %+v", open, m.Email, teams, full)
			}
		}
	}
	if _, err := New(org()).MemberTeams("nobody"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("MemberTeams(unknown) error = %v, want ErrUnknownMember", err)
	}
}

// ProjectGroups is Project(slug).Groups() with each group, and the
// restricted members, cut to the limit and counted in full: for every
// project of an org closed and open, with restricted members and members
// on teams that are also global.
func TestProjectGroupsAreProjectsGroupsCutToTheLimit(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		snap := syntheticSnapshot(300, 30, 60, open)
		for i := range 12 { // restricted members, some with global roles
			snap.Members[i*7].Flags.MemberLimitRestricted = true
		}
		e := New(snap)
		for _, p := range snap.Projects {
			full, err := e.Project(p.Slug)
			if err != nil {
				t.Fatal(err)
			}
			groups := full.Groups()
			for _, limit := range []int{1, 3, 1000} {
				got, err := e.ProjectGroups(p.Slug, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Groups) != len(groups) {
					t.Fatalf("open=%v %s limit %d: %d groups, want %d", open, p.Slug, limit, len(got.Groups), len(groups))
				}
				for gi, g := range groups {
					want := g.Members[:min(limit, len(g.Members))]
					have := got.Groups[gi]
					if have.Total != len(g.Members) || have.Kind != g.Kind || have.Team != g.Team || have.Label != g.Label ||
						!reflect.DeepEqual(have.Members, want) {
						t.Fatalf("open=%v %s limit %d group %s: %d of %d members %+v, want %d of %d %+v", open, p.Slug, limit, g.Label,
							len(have.Members), have.Total, have.Members, len(want), len(g.Members), want)
					}
				}
				wantRestricted := full.Restricted[:min(limit, len(full.Restricted))]
				if got.RestrictedTotal != len(full.Restricted) || !reflect.DeepEqual(got.Restricted, wantRestricted) {
					t.Fatalf("open=%v %s limit %d: restricted %d of %d, want %d of %d", open, p.Slug, limit,
						len(got.Restricted), got.RestrictedTotal, len(wantRestricted), len(full.Restricted))
				}
				if !reflect.DeepEqual(got.Integrations, full.Integrations) {
					t.Fatalf("integrations = %+v, want %+v", got.Integrations, full.Integrations)
				}
			}
		}
	}
	if _, err := New(org()).ProjectGroups("nowhere", 10); !errors.Is(err, ErrUnknownProject) {
		t.Errorf("ProjectGroups(unknown) error = %v, want ErrUnknownProject", err)
	}
}

// MemberProjects is a page of Member(ref).Projects, with their count and
// the projects each path reaches counted over all of them, for every
// member of an org closed and open (restricted members and pending
// invites included).
func TestMemberProjectsIsAPageOfMembersProjects(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		snap := syntheticSnapshot(300, 30, 90, open)
		for i := range 10 {
			snap.Members[i*11].Flags.MemberLimitRestricted = true
		}
		e := New(snap)
		for _, m := range snap.Members {
			full, err := e.Member(m.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantVia := map[pathKey]PathCount{}
			for _, pr := range full.Projects {
				for _, path := range pr.Paths {
					k := pathKey{path.Kind, path.Team}
					pc, ok := wantVia[k]
					if !ok {
						pc.Path = path
					}
					pc.Projects++
					wantVia[k] = pc
				}
			}
			for _, page := range []struct{ from, limit int }{{0, 5}, {7, 40}, {0, 10000}, {85, 100}, {500, 10}} {
				got, err := e.MemberProjects(m.ID, page.from, page.limit)
				if err != nil {
					t.Fatal(err)
				}
				lo := min(page.from, len(full.Projects))
				want := full.Projects[lo:min(lo+page.limit, len(full.Projects))]
				if got.Total != len(full.Projects) || !reflect.DeepEqual(got.Projects, want) {
					t.Fatalf("open=%v %s from %d limit %d: %d of %d projects, want %d of %d", open, m.Email, page.from, page.limit,
						len(got.Projects), got.Total, len(want), len(full.Projects))
				}
				gotVia := map[pathKey]PathCount{}
				for _, pc := range got.Via {
					gotVia[pathKey{pc.Path.Kind, pc.Path.Team}] = pc
				}
				if !reflect.DeepEqual(gotVia, wantVia) {
					t.Fatalf("open=%v %s: via %+v, want %+v", open, m.Email, got.Via, wantVia)
				}
			}
		}
	}
	if _, err := New(org()).MemberProjects("nobody", 0, 10); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("MemberProjects(unknown) error = %v, want ErrUnknownMember", err)
	}
}
