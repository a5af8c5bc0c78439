package changes

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func TestParseBlueprintErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"malformed YAML names its line", "version: 1\nname: x\nteams:\n  - slug: a\n   projects: [b\n", []string{"[5:"}},
		{"an unknown field names its line", "version: 1\nname: x\nteams:\n  - slug: a\n    projets: [b]\n", []string{"[5:", "projets"}},
		{"a duplicate key is refused", "version: 1\nname: x\nname: y\n", []string{"[3:"}},
		{"a wrong version", "version: 2\nname: x\n", []string{"version is 2"}},
		{"a bad team role", "version: 1\nname: x\nteams:\n  - slug: a\n    members: [{email: a@b.c, role: owner}]\n", []string{`role "owner"`}},
		{"a bad expiry", "version: 1\nname: x\nexpires: soon\n", []string{`expires "soon"`}},
		// Without the alias check, these 800 bytes decode for minutes.
		{"nested aliases (billion laughs) are refused before decoding", laughs(9), []string{"aliases (*a0) are not allowed", "line 7"}},
		{"a single alias is refused too", "version: 1\nname: &n x\ndescription: *n\n", []string{"aliases (*n)"}},
		{"an empty document says it is empty", "", []string{"The blueprint is empty", "version: 1"}},
		{"a document of comments only says it is empty", "# teams for Q3\n# (to do)\n", []string{"The blueprint is empty"}},
		{"a document of blank lines says it is empty", "\n  \n\t\n", []string{"The blueprint is empty"}},
		{"a bare document marker says it is empty", "---\n# nothing yet\n", []string{"The blueprint is empty"}},
		{"a document over the size limit is refused", "version: 1\nname: x\ndescription: " + strings.Repeat("x", MaxBlueprintBytes) + "\n", []string{"at most 262144"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseBlueprint([]byte(tt.yaml))
			if sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
				t.Fatalf("error = %v, want EINVALID", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if msg := sentryaccess.ErrorMessage(err); strings.Contains(msg, "runtime error") || strings.Contains(msg, "nil pointer") {
				t.Errorf("error %q is a Go panic, not words for people", msg)
			}
		})
	}
}

func TestSampleBlueprints(t *testing.T) {
	t.Parallel()
	bps, err := SampleBlueprints()
	if err != nil {
		t.Fatal(err)
	}
	iso, con := bps["microservices-isolation.yaml"], bps["contractor-access.yaml"]
	if iso == nil || con == nil {
		t.Fatalf("samples = %v, want the isolation and contractor blueprints", bps)
	}
	if d, _ := con.Expiry(); d != 14*24*time.Hour {
		t.Errorf("contractor expiry = %s, want 14 days", d)
	}
	if !iso.Prune || len(iso.Teams) != 4 {
		t.Errorf("isolation blueprint: prune %t, %d teams; want prune and 4 teams", iso.Prune, len(iso.Teams))
	}
}

func planSnapshot() *access.Snapshot {
	return &access.Snapshot{
		Org: access.Org{Slug: "acme"},
		Members: []access.Member{
			{ID: "1", Email: "olivia.owner@acme.test", OrgRole: "owner", Teams: []access.Membership{{Team: "platform"}}},
			{ID: "2", Email: "cody.cruz@acme.test", OrgRole: "member", Teams: []access.Membership{{Team: "contractors-q1", Role: "admin"}}},
			{ID: "3", Email: "leo.lund@acme.test", OrgRole: "member"},
			{ID: "4", Email: "cleo.chan@acme.test", OrgRole: "member", Teams: []access.Membership{{Team: "contractors-q1"}}},
		},
		Teams: []access.Team{{Slug: "payments", Name: "Payments"}, {Slug: "platform", Name: "Platform"}, {Slug: "backend-eng"}, {Slug: "contractors-q1"}},
		Projects: []access.Project{
			{Slug: "payment-api", Teams: []string{"payments", "backend-eng"}},
			{Slug: "billing-worker", Teams: []string{"payments"}},
			{Slug: "checkout-web", Teams: []string{"payments", "contractors-q1"}},
			{Slug: "mobile-redesign", Teams: []string{"contractors-q1"}},
			{Slug: "api-gateway", Teams: []string{"backend-eng"}},
		},
	}
}

func describeAll(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Describe()
	}
	return out
}

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"what already matches plans nothing",
			"version: 1\nname: n\nteams:\n  - slug: payments\n    projects: [payment-api, billing-worker]\n", nil},
		{"without prune, other teams' links stay",
			"version: 1\nname: n\nteams:\n  - slug: platform\n    projects: [api-gateway]\n",
			[]string{"link project api-gateway to team platform"}},
		{"with prune, other teams are unlinked from mentioned projects only",
			"version: 1\nname: n\nprune: true\nteams:\n  - slug: payments\n    projects: [payment-api, checkout-web]\n  - slug: identity\n    name: Identity\n",
			[]string{"create team identity", "unlink project payment-api from team backend-eng", "unlink project checkout-web from team contractors-q1"}},
		{"members are added with their role and pruned when not listed",
			"version: 1\nname: n\nprune: true\nteams:\n  - slug: contractors-q1\n    projects: [mobile-redesign]\n    members:\n      - {email: cody.cruz@acme.test, role: contributor}\n      - {email: leo.lund@acme.test, role: admin}\n",
			[]string{"add member leo.lund@acme.test to team contractors-q1", "make member cody.cruz@acme.test contributor of team contractors-q1",
				"make member leo.lund@acme.test admin of team contractors-q1", "remove member cleo.chan@acme.test from team contractors-q1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bp, err := ParseBlueprint([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			steps, err := Plan(planSnapshot(), bp)
			if err != nil {
				t.Fatal(err)
			}
			got := describeAll(steps)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("plan =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i, s := range steps {
				if s.Index != i {
					t.Errorf("step %d has index %d", i, s.Index)
				}
			}
		})
	}
	bp, _ := ParseBlueprint([]byte("version: 1\nname: n\nteams:\n  - slug: payments\n    projects: [nope]\n"))
	if _, err := Plan(planSnapshot(), bp); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown project: error = %v, want EINVALID naming it", err)
	}
}

func TestCreateFromContractorBlueprintIsTimeBound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.snaps = fakeSnapshots{planSnapshot()}
	bps, _ := SampleBlueprints()
	r, err := h.svc.CreateFromBlueprint(context.Background(), owner, bps["contractor-access.yaml"], "Q1 contract")
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != SourceBlueprint || r.ExpiresAt == nil || !r.ExpiresAt.Equal(h.clock.Now().Add(14*24*time.Hour)) {
		t.Errorf("request source %s expires %v, want a blueprint request expiring in 14 days", r.Source, r.ExpiresAt)
	}
	if len(r.Steps) == 0 || !strings.HasPrefix(r.Title, "Blueprint: Contractor access") {
		t.Errorf("request %q has %d steps", r.Title, len(r.Steps))
	}
}

// A time-bound blueprint ends the access it lists that already exists at
// its expiry too: the contractor sample on an org where the contractors
// are already on their team and the team already on its project.
func TestTheContractorSamplePutsAnEndDateOnAccessThatAlreadyExists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	snap := planSnapshot()
	snap.Members[2].Teams = []access.Membership{{Team: "contractors-q1"}} // leo is on the team already
	snap.Members[1].Teams = []access.Membership{{Team: "contractors-q1"}} // and cody, as contributor
	bps, _ := SampleBlueprints()
	bp := bps["contractor-access.yaml"]
	steps, err := Plan(snap, bp)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"end team contractors-q1's link to project mobile-redesign at the expiry",
		"end cody.cruz@acme.test's membership of team contractors-q1 at the expiry",
		"end leo.lund@acme.test's membership of team contractors-q1 at the expiry"}
	if got := describeAll(steps); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	h := newHarness(t)
	h.svc.snaps = fakeSnapshots{snap}
	h.svc.preview = EnginePreviewer{}
	r, err := h.svc.CreateFromBlueprint(ctx, owner, bp, "Q1 contract")
	if err != nil {
		t.Fatalf("the org already has the access, yet the request must put an end date on it: %v", err)
	}
	for _, a := range []sentryaccess.Actor{approver, second}[:r.Required] {
		if r, err = h.svc.Approve(ctx, a, r.ID, "ok"); err != nil {
			t.Fatal(err)
		}
	}
	if r, err = h.svc.Apply(ctx, r.ID); err != nil || r.State != StateApplied {
		t.Fatalf("apply: %v %+v", err, r)
	}
	gs, _ := h.svc.Grants(ctx, GrantFilter{})
	if len(gs) != 1 {
		t.Fatalf("grants = %+v, want one", gs)
	}
	wantRevert := []string{"remove member leo.lund@acme.test from team contractors-q1", "remove member cody.cruz@acme.test from team contractors-q1",
		"unlink project mobile-redesign from team contractors-q1"}
	if got := describeAll(gs[0].Revert); strings.Join(got, "\n") != strings.Join(wantRevert, "\n") {
		t.Errorf("revert =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRevert, "\n"))
	}
	// Without an expiry the same blueprint plans nothing: the org matches.
	untimed := *bp
	untimed.Expires = ""
	if steps, _ := Plan(snap, &untimed); len(steps) != 0 {
		t.Errorf("untimed plan = %q, want none", describeAll(steps))
	}
}

// The plan of one blueprint as Terraform: valid HCL with the provider
// named in required_providers, the provider's resource types and
// attributes, and import blocks for what already exists.
func TestABlueprintsPlanExportsAsTerraform(t *testing.T) {
	t.Parallel()
	bp, err := ParseBlueprint([]byte("version: 1\nname: Search team\nexpires: 14d\nteams:\n  - slug: search\n    name: Search\n    projects: [api-gateway]\n    members:\n      - {email: leo.lund@acme.test, role: admin}\n  - slug: contractors-q1\n    members:\n      - {email: cody.cruz@acme.test}\n"))
	if err != nil {
		t.Fatal(err)
	}
	snap := planSnapshot()
	steps, err := Plan(snap, bp)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := BlueprintHCL(snap, bp, steps)
	if err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig(tf, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("terraform does not parse: %v\n%s", diags, tf)
	}
	counts := map[string]int{}
	var imports []string
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		switch b.Type {
		case "resource":
			counts[b.Labels[0]]++
		case "import":
			v, _ := b.Body.Attributes["id"].Expr.Value(nil)
			imports = append(imports, v.AsString())
		}
	}
	if counts["sentry_team"] != 2 || counts["sentry_project"] != 1 || counts["sentry_organization_member"] != 2 || counts["sentry_team_member"] != 2 {
		t.Errorf("resources = %v, want 2 teams, 1 project, 2 org members, 2 team members", counts)
	}
	wantImports := []string{"acme/contractors-q1", "acme/api-gateway", "acme/3", "acme/2", "acme/contractors-q1/2"}
	if strings.Join(imports, " ") != strings.Join(wantImports, " ") {
		t.Errorf("imports = %q, want %q (the new team search and leo's new membership are created, not imported)", imports, wantImports)
	}
	for _, want := range []string{`source = "jianyuan/sentry"`, "required_providers", `teams        = ["backend-eng", sentry_team.search.slug]`,
		`member_id    = sentry_organization_member.member_leo_lund.internal_id`, `role         = "admin"`, `platform     = "other"`, "Terraform has no expiry"} {
		if !strings.Contains(string(tf), want) {
			t.Errorf("terraform lacks %q:\n%s", want, tf)
		}
	}
}

func TestExports(t *testing.T) {
	t.Parallel()
	s := planSnapshot()
	y, err := ExportBlueprint(s)
	if err != nil {
		t.Fatal(err)
	}
	bp, err := ParseBlueprint(y)
	if err != nil {
		t.Fatalf("exported blueprint does not parse: %v\n%s", err, y)
	}
	if steps, err := Plan(s, bp); err != nil || len(steps) != 0 {
		t.Errorf("planning the export against its own snapshot = %v, %v; want no steps", describeAll(steps), err)
	}

	tf, err := ExportTerraform(s)
	if err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig(tf, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("terraform does not parse: %v\n%s", diags, tf)
	}
	counts := map[string]int{}
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "resource" {
			counts[b.Labels[0]]++
		}
	}
	if !strings.Contains(string(tf), `source = "jianyuan/sentry"`) {
		t.Errorf("terraform lacks the required_providers block:\n%s", tf)
	}
	if counts["sentry_team"] != 4 || counts["sentry_project"] != 5 || counts["sentry_team_member"] != 3 {
		t.Errorf("resources = %v, want 4 teams, 5 projects, 3 memberships", counts)
	}
	for _, want := range []string{`teams        = [sentry_team.payments.slug, sentry_team.backend_eng.slug]`, `role         = "admin"`, `member_id    = "2"`} {
		if !strings.Contains(string(tf), want) {
			t.Errorf("terraform lacks %q:\n%s", want, tf)
		}
	}
}

// laughs is a blueprint whose projects nest depth levels of ten aliases
// each: 10^(depth+1) strings once expanded.
func laughs(depth int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: x\nteams:\n  - slug: t0\n    projects: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "  - slug: t%d\n    projects: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 10), ","))
	}
	return b.String()
}
