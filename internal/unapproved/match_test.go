package unapproved

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// pair is the snapshot pair of the tables: ana (member), ben (admin) and
// the token's own member owen (owner); teams payments (id 100), web (101)
// and, renamed by SCIM from old-core to core, team 102.
func pair() Pair {
	before := &access.Snapshot{
		Members: []access.Member{
			{ID: "1", Email: "ana@acme.test", UserID: "11", OrgRole: "member", State: access.StateActive},
			{ID: "2", Email: "ben@acme.test", UserID: "12", OrgRole: "admin", State: access.StateActive,
				Teams: []access.Membership{{Team: "old-core", Role: "admin"}}},
			{ID: "9", Email: "owen@acme.test", UserID: "19", OrgRole: "owner", State: access.StateActive},
		},
		Teams: []access.Team{{ID: "100", Slug: "payments"}, {ID: "101", Slug: "web"}, {ID: "102", Slug: "old-core"}},
	}
	after := &access.Snapshot{
		Members: []access.Member{
			{ID: "1", Email: "ana@acme.test", UserID: "11", OrgRole: "member", State: access.StateActive},
			{ID: "2", Email: "ben@acme.test", UserID: "12", OrgRole: "manager", State: access.StateActive,
				Teams: []access.Membership{{Team: "core", Role: "admin"}}},
			{ID: "9", Email: "owen@acme.test", UserID: "19", OrgRole: "owner", State: access.StateActive},
		},
		Teams:  []access.Team{{ID: "100", Slug: "payments"}, {ID: "101", Slug: "web"}, {ID: "102", Slug: "core"}},
		Caller: access.ActingIdentity{Kind: access.CallerUser, MemberID: "9"},
	}
	return Pair{Before: before, After: after}
}

// step is applied step i of request req.
func step(req string, i int, k changes.Kind, p changes.Params) Applied {
	return Applied{Request: req, Step: changes.Step{Index: i, Kind: k, Params: p, State: changes.StepApplied}}
}

type P = changes.Params

// TestExplain is the decision table of the matching rules: which change a
// snapshot diff shows is explained by which applied steps.
func TestExplain(t *testing.T) {
	t.Parallel()
	ana := func(c Change) Change { c.Member, c.Email = "1", "ana@acme.test"; return c }
	ben := func(c Change) Change { c.Member, c.Email = "2", "ben@acme.test"; return c }
	joined := ana(Change{Kind: KindTeamJoined, Team: "payments"})
	tests := []struct {
		name   string
		change Change
		steps  []Applied
		want   Verdict
		by     []StepRef
		rest   string // the partial verdict's remainder contains it
	}{
		{"team joined, nothing applied", joined, nil, Unexplained, nil, ""},
		{"team joined by team-add of the member to the team", joined,
			[]Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"})}, Explained, []StepRef{{"7", 0}}, ""},
		{"team joined, team-add to another team", joined,
			[]Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "web"})}, Unexplained, nil, ""},
		{"team joined, team-add of another member", joined,
			[]Applied{step("7", 0, changes.KindTeamAdd, P{Member: "2", Team: "payments"})}, Unexplained, nil, ""},
		{"team joined, team-remove (the inverse) does not explain it", joined,
			[]Applied{step("7", 0, changes.KindTeamRemove, P{Member: "1", Team: "payments"})}, Unexplained, nil, ""},
		{"team joined by approving Sentry's access request", joined,
			[]Applied{step("8", 0, changes.KindAccessRequestApprove, P{AccessRequest: "55", Member: "1", Team: "payments"})}, Explained, []StepRef{{"8", 0}}, ""},
		{"team joined by a SCIM group change adding the member", joined,
			[]Applied{step("8", 1, changes.KindSCIMGroupMembers, P{TeamID: "100", Add: []string{"1"}})}, Explained, []StepRef{{"8", 1}}, ""},
		{"team joined, SCIM group change of another group", joined,
			[]Applied{step("8", 1, changes.KindSCIMGroupMembers, P{TeamID: "101", Add: []string{"1"}})}, Unexplained, nil, ""},
		{"team joined with a team role, team-add only: partial", ana(Change{Kind: KindTeamJoined, Team: "payments", To: "admin"}),
			[]Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"})}, Partial, []StepRef{{"7", 0}}, "team role admin was set outside"},
		{"team joined with a team role, team-add and team-role", ana(Change{Kind: KindTeamJoined, Team: "payments", To: "admin"}),
			[]Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"}), step("7", 1, changes.KindTeamRole, P{Member: "1", Team: "payments", Role: "admin"})},
			Explained, []StepRef{{"7", 0}, {"7", 1}}, ""},
		{"team joined by the token's member creating the team", Change{Kind: KindTeamJoined, Member: "9", Email: "owen@acme.test", Team: "payments"},
			[]Applied{step("9", 0, changes.KindTeamCreate, P{Team: "payments"})}, Explained, []StepRef{{"9", 0}}, ""},
		{"team joined, team created by the token: another member's join is not explained", joined,
			[]Applied{step("9", 0, changes.KindTeamCreate, P{Team: "payments"})}, Unexplained, nil, ""},
		{"team joined through a SCIM group rename (the membership moved)", ben(Change{Kind: KindTeamJoined, Team: "core", To: "admin"}),
			[]Applied{step("4", 0, changes.KindSCIMGroupRename, P{TeamID: "102", Name: "core"})}, Explained, []StepRef{{"4", 0}}, ""},
		{"team left by team-remove", ana(Change{Kind: KindTeamLeft, Team: "payments"}),
			[]Applied{step("7", 0, changes.KindTeamRemove, P{Member: "1", Team: "payments"})}, Explained, []StepRef{{"7", 0}}, ""},
		{"team left, team-add does not explain it", ana(Change{Kind: KindTeamLeft, Team: "payments"}),
			[]Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"})}, Unexplained, nil, ""},
		{"team left by a SCIM group change removing the member", ana(Change{Kind: KindTeamLeft, Team: "payments"}),
			[]Applied{step("7", 0, changes.KindSCIMGroupMembers, P{TeamID: "100", Remove: []string{"1"}})}, Explained, []StepRef{{"7", 0}}, ""},
		{"team left through a SCIM group rename", ben(Change{Kind: KindTeamLeft, Team: "old-core", From: "admin"}),
			[]Applied{step("4", 0, changes.KindSCIMGroupRename, P{TeamID: "102", Name: "core"})}, Explained, []StepRef{{"4", 0}}, ""},
		{"team role by team-role to that role", ana(Change{Kind: KindTeamRole, Team: "payments", From: "", To: "admin"}),
			[]Applied{step("7", 0, changes.KindTeamRole, P{Member: "1", Team: "payments", Role: "admin"})}, Explained, []StepRef{{"7", 0}}, ""},
		{"team role, team-role to another role: partial", ana(Change{Kind: KindTeamRole, Team: "payments", From: "", To: "admin"}),
			[]Applied{step("7", 0, changes.KindTeamRole, P{Member: "1", Team: "payments", Role: "contributor"})}, Partial, []StepRef{{"7", 0}}, "changed again outside"},
		{"team role to null by team-role to the member's minimum team role", ana(Change{Kind: KindTeamRole, Team: "payments", From: "admin", To: ""}),
			[]Applied{step("7", 0, changes.KindTeamRole, P{Member: "1", Team: "payments", Role: "contributor"})}, Explained, []StepRef{{"7", 0}}, ""},
		{"team role to null by an org-role step whose minimum team role covers it", ben(Change{Kind: KindTeamRole, Team: "core", From: "admin", To: ""}),
			[]Applied{step("5", 0, changes.KindOrgRole, P{Member: "2", Role: "manager"})}, Explained, []StepRef{{"5", 0}}, ""},
		{"team role to null, org-role step whose minimum is below the old role", ana(Change{Kind: KindTeamRole, Team: "payments", From: "admin", To: ""}),
			[]Applied{step("5", 0, changes.KindOrgRole, P{Member: "1", Role: "member"})}, Unexplained, nil, ""},
		{"team role, nothing applied", ana(Change{Kind: KindTeamRole, Team: "payments", To: "admin"}), nil, Unexplained, nil, ""},
		{"org role by org-role to that role", ben(Change{Kind: KindOrgRole, From: "admin", To: "manager"}),
			[]Applied{step("5", 0, changes.KindOrgRole, P{Member: "2", Role: "manager"})}, Explained, []StepRef{{"5", 0}}, ""},
		{"org role, org-role to another role: partial", ben(Change{Kind: KindOrgRole, From: "member", To: "owner"}),
			[]Applied{step("5", 0, changes.KindOrgRole, P{Member: "2", Role: "manager"})}, Partial, []StepRef{{"5", 0}}, "set the org role to manager; it is owner now"},
		{"org role, org-role of another member", ben(Change{Kind: KindOrgRole, From: "admin", To: "manager"}),
			[]Applied{step("5", 0, changes.KindOrgRole, P{Member: "1", Role: "manager"})}, Unexplained, nil, ""},
		{"member added by an invite of the email, whatever its case", Change{Kind: KindMemberAdded, Member: "30", Email: "Cara@Acme.test", To: "member"},
			[]Applied{step("6", 0, changes.KindMemberInvite, P{Email: "cara@acme.test"})}, Explained, []StepRef{{"6", 0}}, ""},
		{"member added by SCIM provisioning", Change{Kind: KindMemberAdded, Member: "30", Email: "cara@acme.test", To: "member"},
			[]Applied{step("6", 0, changes.KindSCIMUserCreate, P{Email: "cara@acme.test"})}, Explained, []StepRef{{"6", 0}}, ""},
		{"member added with a higher org role than invited: partial", Change{Kind: KindMemberAdded, Member: "30", Email: "cara@acme.test", To: "admin"},
			[]Applied{step("6", 0, changes.KindMemberInvite, P{Email: "cara@acme.test", Role: "member"})}, Partial, []StepRef{{"6", 0}}, "org role admin was set outside"},
		{"member added with the role an org-role step set", Change{Kind: KindMemberAdded, Member: "30", Email: "cara@acme.test", To: "admin"},
			[]Applied{step("6", 0, changes.KindMemberInvite, P{Email: "cara@acme.test"}), step("6", 1, changes.KindOrgRole, P{Member: "30", Role: "admin"})},
			Explained, []StepRef{{"6", 0}, {"6", 1}}, ""},
		{"member added, invite of another email", Change{Kind: KindMemberAdded, Member: "30", Email: "cara@acme.test", To: "member"},
			[]Applied{step("6", 0, changes.KindMemberInvite, P{Email: "carl@acme.test"})}, Unexplained, nil, ""},
		{"member removed by member-remove", ana(Change{Kind: KindMemberRemoved, From: "member"}),
			[]Applied{step("3", 0, changes.KindMemberRemove, P{Member: "1"})}, Explained, []StepRef{{"3", 0}}, ""},
		{"member removed by SCIM deactivation", ana(Change{Kind: KindMemberRemoved, From: "member"}),
			[]Applied{step("3", 0, changes.KindSCIMUserDeactivate, P{Member: "1"})}, Explained, []StepRef{{"3", 0}}, ""},
		{"member removed, team-remove does not explain it", ana(Change{Kind: KindMemberRemoved, From: "member"}),
			[]Applied{step("3", 0, changes.KindTeamRemove, P{Member: "1", Team: "payments"})}, Unexplained, nil, ""},
		{"project linked by project-link of the pair", Change{Kind: KindProjectLinked, Team: "web", Project: "payment-api"},
			[]Applied{step("2", 0, changes.KindProjectLink, P{Team: "web", Project: "payment-api"})}, Explained, []StepRef{{"2", 0}}, ""},
		{"project linked, project-link of another project", Change{Kind: KindProjectLinked, Team: "web", Project: "payment-api"},
			[]Applied{step("2", 0, changes.KindProjectLink, P{Team: "web", Project: "checkout"})}, Unexplained, nil, ""},
		{"project linked, project-unlink does not explain it", Change{Kind: KindProjectLinked, Team: "web", Project: "payment-api"},
			[]Applied{step("2", 0, changes.KindProjectUnlink, P{Team: "web", Project: "payment-api"})}, Unexplained, nil, ""},
		{"project unlinked by project-unlink", Change{Kind: KindProjectUnlinked, Team: "web", Project: "payment-api"},
			[]Applied{step("2", 0, changes.KindProjectUnlink, P{Team: "web", Project: "payment-api"})}, Explained, []StepRef{{"2", 0}}, ""},
		{"team removed by team-delete", Change{Kind: KindTeamRemoved, Team: "web"},
			[]Applied{step("2", 0, changes.KindTeamDelete, P{Team: "web"})}, Explained, []StepRef{{"2", 0}}, ""},
		{"team removed by a SCIM group rename", Change{Kind: KindTeamRemoved, Team: "old-core"},
			[]Applied{step("4", 0, changes.KindSCIMGroupRename, P{TeamID: "102", Name: "core"})}, Explained, []StepRef{{"4", 0}}, ""},
		{"an organization setting is never explained", Change{Kind: KindSetting, Setting: access.SettingOpenMembership, From: "off", To: "on"},
			[]Applied{step("2", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"})}, Unexplained, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Explain([]Change{tt.change}, tt.steps, pair())[0]
			if got.Verdict != tt.want {
				t.Fatalf("verdict = %s, want %s (%+v)", got.Verdict, tt.want, got)
			}
			if !slices.Equal(got.By, tt.by) {
				t.Errorf("by = %v, want %v", got.By, tt.by)
			}
			if tt.rest != "" && !strings.Contains(got.Remainder, tt.rest) {
				t.Errorf("remainder = %q, want it to say %q", got.Remainder, tt.rest)
			}
			if got.Flagged() != (tt.want != Explained) {
				t.Errorf("flagged = %v for verdict %s", got.Flagged(), got.Verdict)
			}
		})
	}
}

// TestCarried is which steps count as carried out for a snapshot pair
// taken from..to: sent to Sentry after approval, in the window.
func TestCarried(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	at := func(d time.Duration) *time.Time { v := from.Add(d); return &v }
	tests := []struct {
		name string
		st   changes.Step
		want bool
	}{
		{"applied inside the window", changes.Step{State: changes.StepApplied, Attempts: 1, StartedAt: at(10 * time.Minute), FinishedAt: at(11 * time.Minute)}, true},
		{"applied while the earlier sync ran (finished after it began)", changes.Step{State: changes.StepApplied, Attempts: 1, StartedAt: at(-time.Minute), FinishedAt: at(time.Second)}, true},
		{"applied before the earlier sync began", changes.Step{State: changes.StepApplied, Attempts: 1, StartedAt: at(-2 * time.Hour), FinishedAt: at(-time.Hour)}, false},
		{"started after the later sync ended", changes.Step{State: changes.StepApplied, Attempts: 1, StartedAt: at(2 * time.Hour), FinishedAt: at(2 * time.Hour)}, false},
		{"being applied (no finish yet)", changes.Step{State: changes.StepApplying, Attempts: 1, StartedAt: at(30 * time.Minute)}, true},
		{"failed after a call: Sentry may have made the change", changes.Step{State: changes.StepFailed, Attempts: 2, StartedAt: at(5 * time.Minute), FinishedAt: at(6 * time.Minute)}, true},
		{"failed without a call", changes.Step{State: changes.StepFailed, Attempts: 0, StartedAt: at(5 * time.Minute), FinishedAt: at(6 * time.Minute)}, false},
		{"approved, not yet applied", changes.Step{State: changes.StepApproved}, false},
		{"pending approval", changes.Step{State: changes.StepPending}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Carried(tt.st, from, to); got != tt.want {
				t.Errorf("Carried = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChanges is which diff entries are access changes.
func TestChanges(t *testing.T) {
	t.Parallel()
	ana := access.MemberRef{ID: "1", Email: "ana@acme.test", OrgRole: "member"}
	ben := access.MemberRef{ID: "2", Email: "ben@acme.test", OrgRole: "admin"}
	d := &access.SnapshotDiff{
		MembersAdded:    []access.MemberRef{{ID: "30", Email: "cara@acme.test", OrgRole: "member"}},
		MembersRemoved:  []access.MemberRef{ben},
		OrgRoleChanges:  []access.OrgRoleChange{{Member: ana, From: "member", To: "admin"}},
		StateChanges:    []access.StateChange{{Member: ana, From: access.StatePending, To: access.StateActive}},
		LimitChanges:    []access.LimitChange{{Member: ana, Restricted: true}},
		TeamsJoined:     []access.TeamMembership{{Member: ana, Team: "payments", Role: "admin"}},
		TeamsLeft:       []access.TeamMembership{{Member: ana, Team: "web"}, {Member: ana, Team: "legacy"}},
		TeamRoleChanges: []access.TeamRoleChange{{Member: ana, Team: "core", From: "", To: "admin"}},
		TeamsAdded:      []string{"new-team"},
		TeamsRemoved:    []string{"legacy"},
		ProjectsAdded:   []string{"fresh"},
		ProjectsRemoved: []string{"gone"},
		ProjectsLinked:  []access.ProjectLink{{Project: "fresh", Team: "payments"}, {Project: "payment-api", Team: "web"}},
		ProjectsUnlinked: []access.ProjectLink{{Project: "gone", Team: "payments"}, {Project: "checkout", Team: "web"},
			{Project: "old-api", Team: "legacy"}},
		SettingChanges:   []access.SettingChange{{Setting: access.SettingOpenMembership, From: false, To: true}},
		IntegrationsDiff: []access.IntegrationDelta{{Slug: "ci", Kind: "added"}},
	}
	var got []string
	for _, c := range Changes(d, nil, nil) {
		got = append(got, c.Describe())
	}
	want := []string{
		"cara@acme.test was added to the organization as member",
		"ben@acme.test (admin) was removed from the organization",
		"ana@acme.test's org role changed from member to admin",
		"ana@acme.test joined team payments as admin",
		"ana@acme.test left team web",
		"ana@acme.test's team role on core changed from the minimum team role of the org role to admin",
		"team web was given access to project payment-api",
		"team web lost access to project checkout",
		"team legacy was deleted (1 member(s), 1 project(s))",
		"the organization setting Open Membership was switched on",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(Changes(nil, nil, nil)) != 0 {
		t.Error("no diff (the first snapshot) must have no changes")
	}
}

// TestUndone is which applied steps the next snapshot shows undone.
func TestUndone(t *testing.T) {
	t.Parallel()
	p := pair()
	p.After.Members[0].Teams = []access.Membership{{Team: "web"}}
	p.After.Projects = []access.Project{{Slug: "payment-api", Teams: []string{"payments"}}}
	tests := []struct {
		name    string
		steps   []Applied
		changes []Change
		want    []string
	}{
		{"team-add whose member is off the team again", []Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"})}, nil,
			[]string{"sentry-access's change was undone in Sentry: ana@acme.test is no longer on team payments"}},
		{"team-add whose member is on the team", []Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "web"})}, nil, nil},
		{"an expiry's team-remove whose member is back on the team", []Applied{step("8", 0, changes.KindTeamRemove, P{Member: "1", Team: "web"})}, nil,
			[]string{"sentry-access's change was undone in Sentry: ana@acme.test is on team web again"}},
		{"the last step of an object counts", []Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"}), step("8", 0, changes.KindTeamRemove, P{Member: "1", Team: "payments"})}, nil, nil},
		{"an object the diff shows a change of is left to that change", []Applied{step("7", 0, changes.KindTeamAdd, P{Member: "1", Team: "payments"})},
			[]Change{{Kind: KindTeamLeft, Member: "1", Team: "payments"}}, nil},
		{"a member who is gone is left to the removal", []Applied{step("7", 0, changes.KindTeamAdd, P{Member: "44", Team: "payments"})}, nil, nil},
		{"a project link undone", []Applied{step("2", 0, changes.KindProjectLink, P{Team: "web", Project: "payment-api"})}, nil,
			[]string{"sentry-access's change was undone in Sentry: team web no longer has access to project payment-api"}},
		{"an org role changed again", []Applied{step("5", 0, changes.KindOrgRole, P{Member: "2", Role: "admin"})}, nil,
			[]string{"sentry-access's change was undone in Sentry: ben@acme.test's org role is manager, not admin"}},
		{"a team role Sentry stored as null is in effect", []Applied{step("5", 0, changes.KindTeamRole, P{Member: "1", Team: "web", Role: "contributor"})}, nil, nil},
		{"a step that failed is not checked", []Applied{{Request: "7", Step: changes.Step{Kind: changes.KindTeamAdd, Params: P{Member: "1", Team: "payments"}, State: changes.StepFailed, Attempts: 1}}}, nil, nil},
		{"a team created that is gone", []Applied{step("9", 0, changes.KindTeamCreate, P{Team: "sre"})}, nil,
			[]string{"sentry-access's change was undone in Sentry: team sre no longer exists"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, c := range Undone(tt.steps, p.After, tt.changes) {
				got = append(got, c.Describe())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("undone = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAuditFor is which archived audit entry records a change, by event,
// target and data as Sentry writes them.
func TestAuditFor(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	obj := func(v int64) *int64 { return &v }
	entry := func(id, event string, target *int64, user *sentry.AuditActor, data map[string]any, min int) sentry.AuditLogEntry {
		raw, _ := json.Marshal(data)
		return sentry.AuditLogEntry{ID: id, Event: event, TargetObject: target, TargetUser: user, Data: raw,
			Actor: &sentry.AuditActor{ID: "19", Name: "Owen", Email: "owen@acme.test"}, IPAddress: "203.0.113.7", DateCreated: at.Add(time.Duration(min) * time.Minute)}
	}
	anaUser := &sentry.AuditActor{ID: "11", Email: "ana@acme.test"}
	entries := []sentry.AuditLogEntry{
		// member↔team endpoint: target object the membership row (5001), not the member.
		entry("a1", "member.join-team", obj(5001), anaUser, map[string]any{"team_slug": "payments", "member_id": 1, "email": "ana@acme.test", "is_active": true}, 1),
		entry("a2", "member.join-team", obj(5002), anaUser, map[string]any{"team_slug": "web", "email": "ana@acme.test"}, 2),
		entry("a3", "member.join-team", obj(5003), nil, map[string]any{"team_slug": "payments", "email": "ana@acme.test"}, 5),
		entry("a4", "member.edit", obj(1), anaUser, map[string]any{"email": "ana@acme.test", "role": "admin"}, 3),
		entry("a5", "member.edit", obj(5001), anaUser, map[string]any{"email": "ana@acme.test", "role": "member", "team_slug": "payments", "team_role": "admin"}, 4),
		entry("a6", "project-team.add", obj(77), nil, map[string]any{"team_slug": "web", "project_slug": "payment-api"}, 1),
		entry("a7", "org.edit", obj(1), nil, map[string]any{"allow_joinleave": "to True"}, 1),
		entry("a8", "member.remove", obj(1), anaUser, map[string]any{"email": "ana@acme.test", "role": "member"}, 6),
		entry("a9", "member.leave-team", obj(5001), anaUser, map[string]any{"team_slug": "payments", "email": "ana@acme.test"}, 7),
	}
	ana := Change{Member: "1", Email: "ana@acme.test", UserID: "11"}
	with := func(c Change, f func(*Change)) Change { f(&c); return c }
	tests := []struct {
		name   string
		change Change
		want   string // entry id, "" for none
	}{
		{"team joined: the newest join of that team and member", with(ana, func(c *Change) { c.Kind, c.Team = KindTeamJoined, "payments" }), "a3"},
		{"team joined: another team's join is not it", with(ana, func(c *Change) { c.Kind, c.Team = KindTeamJoined, "core" }), ""},
		{"org role: member.edit without a team, the new role", with(ana, func(c *Change) { c.Kind, c.From, c.To = KindOrgRole, "member", "admin" }), "a4"},
		{"team role: member.edit with the team", with(ana, func(c *Change) { c.Kind, c.Team, c.To = KindTeamRole, "payments", "admin" }), "a5"},
		{"project linked: project-team.add of the pair", Change{Kind: KindProjectLinked, Team: "web", Project: "payment-api"}, "a6"},
		{"project unlinked: no project-team.remove", Change{Kind: KindProjectUnlinked, Team: "web", Project: "payment-api"}, ""},
		{"open membership: org.edit naming allow_joinleave", Change{Kind: KindSetting, Setting: access.SettingOpenMembership, From: "off", To: "on"}, "a7"},
		{"require 2FA: org.edit that does not name it", Change{Kind: KindSetting, Setting: access.SettingRequire2FA, From: "off", To: "on"}, ""},
		{"member removed: member.remove of the member id", with(ana, func(c *Change) { c.Kind = KindMemberRemoved }), "a8"},
		{"undone team-add: the leave-team that undid it", with(ana, func(c *Change) {
			c.Kind, c.Team, c.From, c.To, c.Undone = KindUndone, "payments", "on", "off", &StepRef{"7", 0}
		}), "a9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AuditFor(tt.change, entries)
			id := ""
			if got != nil {
				id = got.ID
			}
			if id != tt.want {
				t.Errorf("entry = %q, want %q", id, tt.want)
			}
		})
	}
	c := CiteAudit(entries[0])
	if c.Actor != "Owen <owen@acme.test>" || c.IP != "203.0.113.7" || !c.At.Equal(at.Add(time.Minute)) {
		t.Errorf("citation = %+v", c)
	}
}
