package access

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func base() *Snapshot {
	return org(
		member("olga", RoleOwner),
		member("ana", RoleMember, team("payments", TeamRoleAdmin)),
		member("bob", RoleMember, team("web")),
		member("bill", RoleBilling),
		project("payment-api", "payments"), project("web-app", "web"), emptyTeam("platform"),
	)
}

func membership(t *testing.T, s *Snapshot, id, slug string) (Membership, bool) {
	t.Helper()
	for _, m := range s.Members {
		if m.ID == id {
			for _, ms := range m.Teams {
				if ms.Team == slug {
					return ms, true
				}
			}
		}
	}
	return Membership{}, false
}

func TestApplySemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		changes []Change
		check   func(t *testing.T, s *Snapshot)
	}{
		{
			"team role at the member's minimum is stored as null",
			[]Change{{Kind: ChangeTeamAdd, Member: "bob", Team: "platform", Role: TeamRoleContributor}},
			func(t *testing.T, s *Snapshot) {
				if got, _ := membership(t, s, "bob", "platform"); got.Role != "" {
					t.Errorf("stored role = %q, want null", got.Role)
				}
			},
		},
		{
			"team role above the minimum is stored",
			[]Change{{Kind: ChangeTeamRole, Member: "bob", Team: "web", Role: TeamRoleAdmin}},
			func(t *testing.T, s *Snapshot) {
				if got, _ := membership(t, s, "bob", "web"); got.Role != TeamRoleAdmin {
					t.Errorf("stored role = %q, want admin", got.Role)
				}
			},
		},
		{
			"promotion to manager resets team roles at or below its minimum to null",
			[]Change{{Kind: ChangeOrgRole, Member: "ana@acme.test", Role: RoleManager}},
			func(t *testing.T, s *Snapshot) {
				if got, _ := membership(t, s, "ana", "payments"); got.Role != "" {
					t.Errorf("stored role = %q, want null (Team Admin is manager's minimum)", got.Role)
				}
			},
		},
		{
			"team delete drops its memberships and project links",
			[]Change{{Kind: ChangeTeamDelete, Team: "payments"}},
			func(t *testing.T, s *Snapshot) {
				if _, ok := membership(t, s, "ana", "payments"); ok {
					t.Error("ana is still on the deleted team")
				}
				if s.Projects[0].Teams == nil || len(s.Projects[0].Teams) != 0 {
					t.Errorf("payment-api teams = %v, want none", s.Projects[0].Teams)
				}
			},
		},
		{
			"org setting flips",
			[]Change{{Kind: ChangeOrgSetting, Setting: SettingOpenMembership, Value: true}},
			func(t *testing.T, s *Snapshot) {
				if !s.Org.OpenMembership {
					t.Error("open membership is still off")
				}
			},
		},
		{
			"member remove, team create and project link",
			[]Change{
				{Kind: ChangeMemberRemove, Member: "bob"},
				{Kind: ChangeTeamCreate, Team: "sre"},
				{Kind: ChangeProjectLink, Project: "web-app", Team: "sre"},
			},
			func(t *testing.T, s *Snapshot) {
				if len(s.Members) != 3 || !slices.Equal(s.Projects[1].Teams, []string{"web", "sre"}) {
					t.Errorf("members = %d, web-app teams = %v; want 3 and [web sre]", len(s.Members), s.Projects[1].Teams)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			orig := in.Clone()
			got, err := Apply(in, tt.changes)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			tt.check(t, got)
			if !reflect.DeepEqual(in, orig) {
				t.Error("Apply modified its input")
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change Change
		want   error
	}{
		{"unknown member", Change{Kind: ChangeOrgRole, Member: "nobody", Role: RoleMember}, ErrUnknownMember},
		{"unknown org role", Change{Kind: ChangeOrgRole, Member: "ana", Role: "god"}, ErrUnknownRole},
		{"unknown team", Change{Kind: ChangeTeamAdd, Member: "ana", Team: "nope"}, ErrUnknownTeam},
		{"unknown project", Change{Kind: ChangeProjectLink, Project: "nope", Team: "web"}, ErrUnknownProject},
		{"unknown setting", Change{Kind: ChangeOrgSetting, Setting: "nope"}, ErrUnknownSetting},
		{"team role for a member not on the team", Change{Kind: ChangeTeamRole, Member: "bob", Team: "payments", Role: TeamRoleAdmin}, ErrInvalidChange},
		{"duplicate team slug", Change{Kind: ChangeTeamCreate, Team: "web"}, ErrInvalidChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Apply(base(), []Change{tt.change}); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// as is the acting identity of a user token of member id with role.
func as(id, role string, scopes ...string) ActingIdentity {
	return ActingIdentity{Kind: CallerUser, UserID: "u-" + id, Email: id + "@acme.test", MemberID: id, OrgRole: role, TokenScopes: scopes}
}

// byIntegration is the acting identity of an internal integration's token.
var byIntegration = ActingIdentity{Kind: CallerIntegration, Username: "access-sync", Integration: "access-sync",
	TokenScopes: []string{"member:admin", "member:read", "member:write", "org:admin", "org:read", "org:write", "team:admin", "team:read", "team:write"}}

func TestValidate(t *testing.T) {
	t.Parallel()
	idp := base()
	idp.Teams[1].IDPProvisioned = true // web
	idp.Members[2].Flags.IDPProvisioned = true
	owner := as("olga", RoleOwner)
	tests := []struct {
		name    string
		snap    *Snapshot
		changes []Change
		caller  ActingIdentity
		want    []Rule
	}{
		{"promoting a member is fine", base(), []Change{{Kind: ChangeOrgRole, Member: "ana", Role: RoleManager}}, owner, nil},
		{"the retired admin role cannot be newly assigned", base(), []Change{{Kind: ChangeOrgRole, Member: "ana", Role: RoleAdmin}}, owner, []Rule{RuleRetiredRole}},
		{"billing cannot be on a team", base(), []Change{{Kind: ChangeTeamAdd, Member: "bill", Team: "web"}}, owner, []Rule{RuleNoTeamRoles}},
		{"demoting to billing keeps the member's teams", base(), []Change{{Kind: ChangeOrgRole, Member: "ana", Role: RoleBilling}}, owner, []Rule{RuleNoTeamRoles}},
		{"demoting to billing and leaving teams is fine", base(), []Change{
			{Kind: ChangeOrgRole, Member: "ana", Role: RoleBilling},
			{Kind: ChangeTeamRemove, Member: "ana", Team: "payments"},
		}, owner, nil},
		{"the last owner cannot be demoted", base(), []Change{{Kind: ChangeOrgRole, Member: "olga", Role: RoleMember}}, ActingIdentity{}, []Rule{RuleLastOwner}},
		{"the last owner cannot be removed", base(), []Change{{Kind: ChangeMemberRemove, Member: "olga"}}, owner, []Rule{RuleLastOwner}},
		{"the last owner may leave while a manager remains (the last owner or manager stays)", base(), []Change{
			{Kind: ChangeOrgRole, Member: "ana", Role: RoleManager},
			{Kind: ChangeMemberRemove, Member: "olga"},
		}, owner, nil},
		{"the last manager of an org without owners cannot be removed", org(member("mia", RoleManager), member("ana", RoleMember)),
			[]Change{{Kind: ChangeMemberRemove, Member: "mia"}}, as("mia", RoleManager), []Rule{RuleLastOwner}},
		{"an owner can step down once another owner exists", base(), []Change{
			{Kind: ChangeOrgRole, Member: "ana", Role: RoleOwner},
			{Kind: ChangeOrgRole, Member: "olga", Role: RoleMember},
		}, ActingIdentity{}, nil},
		{"SCIM-managed teams keep their membership", idp, []Change{{Kind: ChangeTeamAdd, Member: "ana", Team: "web"}}, owner, []Rule{RuleIDPProvisioned}},
		{"SCIM-provisioned members cannot be removed through the REST API", idp, []Change{{Kind: ChangeMemberRemove, Member: "bob"}}, owner, []Rule{RuleIDPProvisioned}},
		{"SCIM-provisioned members are deactivated through SCIM", idp, []Change{{Kind: ChangeMemberRemove, Member: "bob", SCIM: true}}, owner, nil},
		{"SCIM group membership changes an IdP-managed team", idp, []Change{{Kind: ChangeTeamAdd, Member: "ana", Team: "web", SCIM: true}}, owner, nil},
		{"SCIM keeps the last owner", base(), []Change{{Kind: ChangeMemberRemove, Member: "olga", SCIM: true}}, owner, []Rule{RuleLastOwner}},
		{"unknown objects are reported", base(), []Change{{Kind: ChangeTeamAdd, Member: "zoe", Team: "web"}}, owner, []Rule{RuleUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []Rule
			for _, v := range Validate(tt.snap, tt.changes, tt.caller) {
				if v.Rule == RuleCallerUnknown {
					continue // the acting identity's rules: TestValidateChecksTheActingIdentity
				}
				got = append(got, v.Rule)
				if v.Message == "" {
					t.Errorf("violation %+v has no message", v)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rules = %v, want %v", got, tt.want)
			}
		})
	}
}

// Sentry checks each change against who makes it: the owner of the
// configured token (the acting identity), not whoever asked for it.
func TestValidateChecksTheActingIdentity(t *testing.T) {
	t.Parallel()
	snap := func() *Snapshot {
		return org(
			member("olga", RoleOwner, team("web")),
			member("omar", RoleOwner),
			member("mia", RoleManager, team("payments")),
			member("ana", RoleMember, team("payments", TeamRoleAdmin)),
			member("bob", RoleMember, team("web")),
			member("cat", RoleMember, team("payments")),
			project("payment-api", "payments"), project("web-app", "web"), emptyTeam("platform"),
		)
	}
	restricted := snap()
	restricted.Members[4].Flags.IDPRoleRestricted = true // bob
	partner := snap()
	partner.Members[4].Flags.PartnershipRestricted = true // bob
	type row struct {
		rule    Rule
		warning bool
	}
	tests := []struct {
		name    string
		snap    *Snapshot
		changes []Change
		caller  ActingIdentity
		want    []row
	}{
		{"the token's owner cannot change its own role", snap(), []Change{{Kind: ChangeOrgRole, Member: "olga", Role: RoleManager}}, as("olga", RoleOwner), []row{{RuleOwnRole, false}}},
		{"another owner may change it", snap(), []Change{{Kind: ChangeOrgRole, Member: "olga", Role: RoleManager}}, as("omar", RoleOwner), nil},
		{"a manager cannot give the owner role", snap(), []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleOwner}}, as("mia", RoleManager), []row{{RuleAssignRole, false}}},
		{"a manager may make a member a manager", snap(), []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleManager}}, as("mia", RoleManager), nil},
		{"a manager cannot demote an owner", snap(), []Change{{Kind: ChangeOrgRole, Member: "omar", Role: RoleMember}}, as("mia", RoleManager), []row{{RuleSuperior, false}}},
		{"a token without member:admin gives no role", snap(), []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleManager}}, as("olga", RoleOwner, "org:read", "member:read", "member:write"), []row{{RuleMissingScope, false}}},
		{"a member's token gives no role", snap(), []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleMember}, {Kind: ChangeOrgRole, Member: "cat", Role: RoleManager}}, as("ana", RoleMember), []row{{RuleMissingScope, false}}},
		{"an integration token changes no org role", snap(), []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleManager}}, byIntegration, []row{{RuleTokenKind, false}}},
		{"an integration token removes no member", snap(), []Change{{Kind: ChangeMemberRemove, Member: "bob"}}, byIntegration, []row{{RuleTokenKind, false}}},
		{"an integration token deactivates through SCIM all the same", snap(), []Change{{Kind: ChangeMemberRemove, Member: "bob", SCIM: true}}, byIntegration, nil},
		{"an org auth token changes nothing", snap(), []Change{{Kind: ChangeTeamAdd, Member: "bob", Team: "platform"}}, ActingIdentity{Kind: CallerOrgToken, TokenScopes: []string{"org:ci"}}, []row{{RuleTokenKind, false}}},
		{"a manager cannot remove an owner", snap(), []Change{{Kind: ChangeMemberRemove, Member: "omar"}}, as("mia", RoleManager), []row{{RuleSuperior, false}}},
		{"a manager may remove a member", snap(), []Change{{Kind: ChangeMemberRemove, Member: "bob"}}, as("mia", RoleManager), nil},
		{"a member's token removes nobody else", snap(), []Change{{Kind: ChangeMemberRemove, Member: "bob"}}, as("ana", RoleMember), []row{{RuleMissingScope, false}}},
		{"anyone may leave", snap(), []Change{{Kind: ChangeMemberRemove, Member: "ana"}}, as("ana", RoleMember), nil},
		{"a token whose user is no member removes nobody", snap(), []Change{{Kind: ChangeMemberRemove, Member: "bob"}},
			ActingIdentity{Kind: CallerUser, UserID: "u-zed", Email: "zed@acme.test", Unknown: "the token's user zed@acme.test is no member of this organization"}, []row{{RuleSuperior, false}}},
		{"a Team Admin may set team roles on its team", snap(), []Change{{Kind: ChangeTeamRole, Member: "cat", Team: "payments", Role: TeamRoleAdmin}}, as("ana", RoleMember), nil},
		{"a contributor may not make others Team Admin", snap(), []Change{{Kind: ChangeTeamRole, Member: "bob", Team: "web", Role: TeamRoleAdmin}}, as("cat", RoleMember), []row{{RuleTeamRights, false}}},
		{"a Team Admin of another team may not add members here (Sentry files an access request)", snap(), []Change{{Kind: ChangeTeamAdd, Member: "bob", Team: "platform"}}, as("ana", RoleMember), []row{{RuleTeamRights, false}}},
		{"a Team Admin may add members to its team", snap(), []Change{{Kind: ChangeTeamAdd, Member: "bob", Team: "payments"}}, as("ana", RoleMember), nil},
		{"a manager adds members to any team", snap(), []Change{{Kind: ChangeTeamAdd, Member: "bob", Team: "platform"}}, as("mia", RoleManager), nil},
		{"a contributor may not remove others from a team", snap(), []Change{{Kind: ChangeTeamRemove, Member: "ana", Team: "payments"}}, as("cat", RoleMember), []row{{RuleTeamRights, false}}},
		{"an integration's team-role changes depend on the version", snap(), []Change{{Kind: ChangeTeamRole, Member: "cat", Team: "payments", Role: TeamRoleAdmin}}, byIntegration, []row{{RuleVersion, true}}},
		{"an IdP-role-restricted member's role depends on the version", restricted, []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleManager}}, as("olga", RoleOwner), []row{{RuleIDPRoleRestricted, true}}},
		{"a partnership member cannot be changed", partner, []Change{{Kind: ChangeOrgRole, Member: "bob", Role: RoleManager}}, as("olga", RoleOwner), []row{{RulePartnership, false}}},
		{"who acts is unknown: nothing is refused on a guess, and the preview says what was not checked", snap(),
			[]Change{{Kind: ChangeOrgRole, Member: "olga", Role: RoleManager}}, ActingIdentity{}, []row{{RuleCallerUnknown, true}}},
		{"GET /api/0/ failed: the same", snap(),
			[]Change{{Kind: ChangeMemberRemove, Member: "bob"}}, ActingIdentity{Kind: CallerUnknown, Unknown: "GET /api/0/ failed"}, []row{{RuleCallerUnknown, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []row
			for _, v := range Validate(tt.snap, tt.changes, tt.caller) {
				got = append(got, row{v.Rule, v.Warning})
				if v.Message == "" || strings.Contains(v.Message, "%!") {
					t.Errorf("violation %+v has no proper message", v)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rules = %v, want %v", got, tt.want)
			}
		})
	}
}

// Sentry adds the creator of a team to it, and a SCIM group PATCH makes
// the team IdP-provisioned.
func TestApplyTeamCreatorAndSCIM(t *testing.T) {
	t.Parallel()
	got, err := Apply(base(), []Change{
		{Kind: ChangeTeamCreate, Team: "sre", Member: "olga"},
		{Kind: ChangeTeamAdd, Team: "web", Member: "ana", SCIM: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ms, ok := membership(t, got, "olga", "sre"); !ok || ms.Role != "" {
		t.Errorf("creator on the new team = %v (%+v), want on it with a null team role", ok, ms)
	}
	for _, tm := range got.Teams {
		if tm.Slug == "web" && !tm.IDPProvisioned {
			t.Error("a SCIM group PATCH leaves the team not IdP-provisioned")
		}
	}
}

func TestDiffAccess(t *testing.T) {
	t.Parallel()
	type row struct{ member, project, kind, added, removed string }
	tests := []struct {
		name    string
		changes []Change
		want    []row
	}{
		{
			"joining a team gains its projects",
			[]Change{{Kind: ChangeTeamAdd, Member: "bob", Team: "payments"}},
			[]row{{"bob", "payment-api", AccessGained, "alerts:read,alerts:write,event:admin,event:read,event:write,member:invite,member:read,org:read,project:read,project:releases,team:read", ""}},
		},
		{
			"leaving a team loses its projects",
			[]Change{{Kind: ChangeTeamRemove, Member: "bob", Team: "web"}},
			[]row{{"bob", "web-app", AccessLost, "", "alerts:read,alerts:write,event:admin,event:read,event:write,member:invite,member:read,org:read,project:read,project:releases,team:read"}},
		},
		{
			"demoting a team admin to contributor removes admin scopes",
			[]Change{{Kind: ChangeTeamRole, Member: "ana", Team: "payments", Role: TeamRoleContributor}},
			[]row{{"ana", "payment-api", AccessChanged, "", "org:integrations,project:admin,project:write,team:admin,team:write"}},
		},
		{
			"eventsMemberAdmin off takes event:admin from members but not from team admins",
			[]Change{{Kind: ChangeOrgSetting, Setting: SettingEventsMemberAdmin, Value: false}},
			[]row{{"bob", "web-app", AccessChanged, "", "event:admin"}},
		},
		{
			"opening membership gives members the other projects",
			[]Change{{Kind: ChangeOrgSetting, Setting: SettingOpenMembership, Value: true}},
			[]row{
				{"ana", "web-app", AccessGained, "alerts:read,alerts:write,event:admin,event:read,event:write,member:invite,member:read,org:read,project:read,project:releases,team:read", ""},
				{"bill", "payment-api", AccessGained, "org:billing", ""},
				{"bill", "web-app", AccessGained, "org:billing", ""},
				{"bob", "payment-api", AccessGained, "alerts:read,alerts:write,event:admin,event:read,event:write,member:invite,member:read,org:read,project:read,project:releases,team:read", ""},
			},
		},
		{
			"a new project linked to nobody is gained by the owner only",
			nil, // set below
			[]row{{"olga", "new-api", AccessGained, "", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := base()
			after, err := Apply(before, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if tt.changes == nil {
				after.Projects = append(after.Projects, Project{Slug: "new-api"})
			}
			d := DiffAccess(before, after)
			var got []row
			for _, m := range d.Members {
				for _, p := range m.Projects {
					got = append(got, row{m.ID, p.Project, p.Kind, strings.Join(p.Added, ","), strings.Join(p.Removed, ",")})
				}
			}
			if tt.changes == nil && len(got) == 1 {
				got[0].added = "" // the owner's full scope list is not the point here
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("diff =\n%v\nwant\n%v", got, tt.want)
			}
			// The per-project view holds the same changes.
			n := 0
			for _, p := range d.Projects {
				n += len(p.Members)
			}
			if n != len(got) {
				t.Errorf("per-project view has %d changes, per-member view %d", n, len(got))
			}
		})
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	before := base()
	after, err := Apply(before, []Change{
		{Kind: ChangeOrgRole, Member: "bob", Role: RoleManager},
		{Kind: ChangeTeamAdd, Member: "bob", Team: "platform"},
		{Kind: ChangeTeamRole, Member: "ana", Team: "payments", Role: TeamRoleContributor},
		{Kind: ChangeTeamCreate, Team: "sre"},
		{Kind: ChangeProjectLink, Project: "web-app", Team: "sre"},
		{Kind: ChangeOrgSetting, Setting: SettingAlertsMemberWrite, Value: false},
		{Kind: ChangeMemberRemove, Member: "bill"},
	})
	if err != nil {
		t.Fatal(err)
	}
	after.Members = append(after.Members, Member{ID: "new", Email: "new@acme.test", OrgRole: RoleMember, State: StatePending})
	d := Diff(before, after)
	got, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"membersAdded":[{"id":"new","email":"new@acme.test","name":"","orgRole":"member","state":"pending"}]`,
		`"membersRemoved":[{"id":"bill"`,
		`"orgRoleChanges":[{"member":{"id":"bob","email":"bob@acme.test","name":"Bob","orgRole":"manager","state":"active"},"from":"member","to":"manager"}]`,
		`"teamsJoined":[{"member":{"id":"bob"`,
		`"team":"platform","role":""}]`,
		`"teamRoleChanges":[{"member":{"id":"ana"`,
		`"team":"payments","from":"admin","to":""}]`,
		`"teamsAdded":["sre"]`,
		`"projectsLinked":[{"project":"web-app","team":"sre"}]`,
		`"settingChanges":[{"setting":"alertsMemberWrite","from":true,"to":false}]`,
		`"access":{"members":[{"id":"ana","email":"ana@acme.test","projects":[{"project":"payment-api","kind":"changed"`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("diff JSON\n%s\nwant it to contain\n%s", got, want)
		}
	}
}
