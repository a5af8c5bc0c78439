package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestDiffTextPrintsEveryChangeTheJSONHas: after an open-membership switch,
// a team-role change, an org-role change, a team left and a project linked,
// `diff` in text prints every one of them (it printed only "effective
// access changes (425)"), and as many lines per kind as the JSON holds
// entries. The whole text is the golden file testdata/diff.golden
// (go test ./cmd/sentry-access -run TestDiffText -update rewrites it).
func TestDiffTextPrintsEveryChangeTheJSONHas(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t)
	te.mustRun(t, "sync")
	c, err := sentry.New(sentry.Config{BaseURL: te.vars["SENTRY_URL"], Org: te.vars["SENTRY_ORG"], Token: te.vars["SENTRY_AUTH_TOKEN"]})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	id := func(email string) string {
		ms, err := c.ListMembers(ctx, sentry.MemberQuery{Email: email})
		if err != nil || len(ms) != 1 {
			t.Fatalf("find %s: %v (%d found)", email, err, len(ms))
		}
		return ms[0].ID
	}
	on := true
	change := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s in Sentry: %v", what, err)
		}
	}
	_, err = c.UpdateOrganization(ctx, sentry.OrganizationUpdate{OpenMembership: &on})
	change("open membership", err)
	_, err = c.SetTeamRole(ctx, id("paul.payne@acme.test"), "payments", "admin")
	change("team role", err)
	_, err = c.SetOrgRole(ctx, id("noah.nash@acme.test"), "manager")
	change("org role", err)
	change("leave team", c.RemoveMemberFromTeam(ctx, id("gus.grant@acme.test"), "platform"))
	_, err = c.AddProjectTeam(ctx, "legacy-monolith", "platform")
	change("link project", err)
	te.mustRun(t, "sync")
	text := te.mustRun(t, "diff")

	golden := filepath.Join("testdata", "diff.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s (run with -update to write it): %v", golden, err)
	}
	if text != string(want) {
		t.Errorf("diff text differs from %s (run with -update after checking):\n%s", golden, text)
	}

	var j struct{ Diff access.SnapshotDiff }
	if err := json.Unmarshal([]byte(te.mustRun(t, "diff", "--json")), &j); err != nil {
		t.Fatal(err)
	}
	d := j.Diff
	changes := 0
	for _, m := range d.Access.Members {
		changes += len(m.Projects)
	}
	for label, n := range map[string]int{
		"setting changes": len(d.SettingChanges), "team role changes": len(d.TeamRoleChanges),
		"org role changes": len(d.OrgRoleChanges), "team memberships removed": len(d.TeamsLeft),
		"project links added": len(d.ProjectsLinked),
	} {
		if n == 0 {
			t.Errorf("the JSON has no %s: the test changed nothing of that kind", label)
		}
		if head := fmt.Sprintf("\n%s (%d)\n", label, n); !strings.Contains(text, head) {
			t.Errorf("the text lacks %q", strings.TrimSpace(head))
		}
	}
	if head := fmt.Sprintf("effective access changes (%d, for %d members)", changes, len(d.Access.Members)); !strings.Contains(text, head) {
		t.Errorf("the text lacks %q", head)
	}
	if got := strings.Count(text, "\n    "); got != changes {
		t.Errorf("the text lists %d project changes, the JSON %d", got, changes)
	}
	for _, want := range []string{"openMembership: off → on", "paul.payne@acme.test on payments: null → admin", "noah.nash@acme.test: member → manager",
		"gus.grant@acme.test left platform", "legacy-monolith linked to team platform"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q", want)
		}
	}
}
