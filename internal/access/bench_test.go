package access

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The benchmarks run on a synthetic org of 10,000 members, 1,000 teams and
// 3,000 projects, closed and open. Each reports p99-ns, the 99th percentile
// of one lookup (the target is 5 ms).

const (
	benchMembers  = 10_000
	benchTeams    = 1_000
	benchProjects = 3_000
)

func benchEngines(b *testing.B) map[string]*Engine {
	b.Helper()
	return map[string]*Engine{
		"closed": New(syntheticSnapshot(benchMembers, benchTeams, benchProjects, false)),
		"open":   New(syntheticSnapshot(benchMembers, benchTeams, benchProjects, true)),
	}
}

// timed runs f b.N times, cycling i, and reports the p99 of one call.
func timed(b *testing.B, f func(i int)) {
	b.Helper()
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		f(i)
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	if len(durs) > 0 {
		slices.Sort(durs)
		b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
	}
}

func BenchmarkNew(b *testing.B) {
	s := syntheticSnapshot(benchMembers, benchTeams, benchProjects, false)
	for b.Loop() {
		New(s)
	}
}

func BenchmarkMemberAccess(b *testing.B) {
	for name, e := range benchEngines(b) {
		b.Run(name, func(b *testing.B) {
			timed(b, func(i int) {
				if _, err := e.Member(fmt.Sprint(i % benchMembers)); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func BenchmarkProjectAccess(b *testing.B) {
	for name, e := range benchEngines(b) {
		b.Run(name, func(b *testing.B) {
			timed(b, func(i int) {
				if _, err := e.Project(fmt.Sprintf("project-%04d", i%benchProjects)); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func BenchmarkExplain(b *testing.B) {
	for name, e := range benchEngines(b) {
		b.Run(name, func(b *testing.B) {
			timed(b, func(i int) {
				if _, err := e.Explain(fmt.Sprint(i%benchMembers), fmt.Sprintf("project-%04d", (i*7)%benchProjects), "project:write"); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkMatrix computes every member's access once per iteration.
func BenchmarkMatrix(b *testing.B) {
	e := New(syntheticSnapshot(benchMembers, benchTeams, benchProjects, false))
	ids := make([]string, benchMembers)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	for b.Loop() {
		for _, id := range ids {
			if _, err := e.Member(id); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDiff diffs two 10k-member snapshots that differ by a few
// changes, including a project link and a promotion.
func BenchmarkDiff(b *testing.B) {
	before := syntheticSnapshot(benchMembers, benchTeams, benchProjects, false)
	after, err := Apply(before, []Change{
		{Kind: ChangeOrgRole, Member: "5", Role: RoleManager},
		{Kind: ChangeTeamAdd, Member: "17", Team: "team-0042", Role: TeamRoleAdmin},
		{Kind: ChangeProjectLink, Project: "project-0100", Team: "team-0999"},
		{Kind: ChangeOrgSetting, Setting: SettingEventsMemberAdmin, Value: true},
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d := Diff(before, after)
		if d.Access.Empty() {
			b.Fatal("no access change found")
		}
	}
}

// BenchmarkDiffSmall is the common case: two syncs a few changes apart.
func BenchmarkDiffSmall(b *testing.B) {
	before := syntheticSnapshot(benchMembers, benchTeams, benchProjects, false)
	after, err := Apply(before, []Change{
		{Kind: ChangeTeamAdd, Member: "17", Team: "team-0042", Role: TeamRoleAdmin},
		{Kind: ChangeProjectUnlink, Project: "project-0100", Team: "team-0100"},
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Diff(before, after)
	}
}

func BenchmarkDiffAccessOpen(b *testing.B) {
	before := syntheticSnapshot(benchMembers, benchTeams, benchProjects, true)
	after, err := Apply(before, []Change{{Kind: ChangeTeamRole, Member: "1", Team: "team-0013", Role: TeamRoleAdmin}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		DiffAccess(before, after)
	}
}
