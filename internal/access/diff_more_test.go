package access

import (
	"slices"
	"strings"
	"testing"
)

// bruteDiff computes the access diff the slow way, from every member's
// full Member() answer in both snapshots.
func bruteDiff(t *testing.T, before, after *Snapshot) []string {
	t.Helper()
	reach := func(s *Snapshot) map[string]string {
		e := New(s)
		out := map[string]string{}
		for _, m := range s.Members {
			ma, err := e.Member(m.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ma.Projects {
				out[m.ID+" "+p.Slug] = strings.Join(p.Scopes, ",")
			}
		}
		return out
	}
	rb, ra := reach(before), reach(after)
	var out []string
	for k, v := range rb {
		if w, ok := ra[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range ra {
		if _, ok := rb[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func TestDiffAccessAgreesWithFullComputation(t *testing.T) {
	t.Parallel()
	scenarios := map[string][]Change{
		"promote and demote": {
			{Kind: ChangeOrgRole, Member: "3", Role: RoleManager},
			{Kind: ChangeOrgRole, Member: "0", Role: RoleMember},
		},
		"team churn": {
			{Kind: ChangeTeamAdd, Member: "4", Team: "team-0002", Role: TeamRoleAdmin},
			{Kind: ChangeTeamRemove, Member: "5", Team: "team-0005"},
			{Kind: ChangeTeamDelete, Team: "team-0007"},
		},
		"links": {
			{Kind: ChangeProjectLink, Project: "project-0010", Team: "team-0001"},
			{Kind: ChangeProjectUnlink, Project: "project-0011", Team: "team-0011"},
		},
		"settings": {
			{Kind: ChangeOrgSetting, Setting: SettingEventsMemberAdmin, Value: true},
			{Kind: ChangeOrgSetting, Setting: SettingAlertsMemberWrite, Value: false},
		},
		"open membership": {{Kind: ChangeOrgSetting, Setting: SettingOpenMembership, Value: true}},
		"member removed":  {{Kind: ChangeMemberRemove, Member: "8"}},
	}
	for name, changes := range scenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			before := syntheticSnapshot(120, 20, 60, false)
			after, err := Apply(before, changes)
			if err != nil {
				t.Fatal(err)
			}
			if name == "links" {
				after.Projects = append(after.Projects, Project{Slug: "project-new", Teams: []string{"team-0003"}})
			}
			want := bruteDiff(t, before, after)
			var got []string
			for _, m := range DiffAccess(before, after).Members {
				for _, p := range m.Projects {
					got = append(got, m.ID+" "+p.Project)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("DiffAccess changes (%d) differ from full computation (%d):\ngot  %v\nwant %v", len(got), len(want), got, want)
			}
			if len(want) == 0 {
				t.Error("scenario changes nobody's access; it tests nothing")
			}
		})
	}
}

func TestExplainSentences(t *testing.T) {
	t.Parallel()
	s := org(member("ana", RoleMember, team("web")), project("payment-api", "payments"), project("three", "a", "b", "c"))
	e := New(s)
	tests := []struct{ project, want string }{
		{"payment-api", "denied: open membership is off; the member's org role Member is not global; payment-api is linked to team payments; the member is not on it."},
		{"three", "denied: open membership is off; the member's org role Member is not global; three is linked to teams a, b and c; the member is on none of them."},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			t.Parallel()
			d, err := e.Explain("ana", tt.project, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
