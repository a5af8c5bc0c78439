package sentrysim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

const smallYAML = `
org:
  slug: tiny
  openMembership: false
teams:
  - slug: core
projects:
  - slug: api
    teams: [core]
members:
  - email: owner@tiny.test
    role: owner
    flags: [sso:linked]
    teams:
      - team: core
        role: admin
  - email: dev@tiny.test
    role: member
    teams:
      - team: core
userTokens:
  - token: tiny-owner
    member: owner@tiny.test
    scopes: [org:read, member:read]
`

func TestLoadFixture(t *testing.T) {
	t.Parallel()
	fx, err := LoadFixture(strings.NewReader(smallYAML))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fx, Options{})
	var ms []sentry.Member
	h.do("GET", "/api/0/organizations/tiny/members/", "tiny-owner", nil).want(t, 200).decode(t, &ms)
	if len(ms) != 2 || !ms[0].Flags.SSOLinked {
		t.Errorf("members = %+v", ms)
	}
	var o sentry.Organization
	h.do("GET", "/api/0/organizations/tiny/", "tiny-owner", nil).want(t, 200).decode(t, &o)
	if o.OpenMembership || !o.AllowMemberInvite || !o.EventsMemberAdmin {
		t.Errorf("settings = %+v, want closed membership and Sentry's defaults", o)
	}
}

func TestLoadFixtureRejectsMalformedInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "org:\n  slug: x\n  colour: red\n", "colour"},
		{"unknown team reference", "org: {slug: x}\nmembers:\n  - {email: a@x, role: member, teams: [{team: nope}]}\n", `unknown team "nope"`},
		{"unknown role", "org: {slug: x}\nmembers:\n  - {email: a@x, role: boss}\n", `unknown role "boss"`},
		{"missing slug", "teams: []\n", "org.slug is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadFixture(strings.NewReader(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	opts := GenOptions{Members: 200, Teams: 30, Projects: 50, Seed: 9}
	a, b := Generate(opts), Generate(opts)
	if !reflect.DeepEqual(a, b) {
		t.Error("same options gave different fixtures")
	}
	if c := Generate(GenOptions{Members: 200, Teams: 30, Projects: 50, Seed: 10}); reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same fixture")
	}
}

func TestGenerateLargeOrgIsServed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large org")
	}
	fx := Generate(GenOptions{Members: 10000, Teams: 1000, Projects: 3000, Seed: 1})
	h := newHarness(t, fx, Options{})
	var ms []sentry.Member
	h.do("GET", org+"/members/?per_page=100&cursor=100:99:0", DemoOwnerToken, nil).want(t, 200).decode(t, &ms)
	if len(ms) != 100 {
		t.Errorf("last member page = %d", len(ms))
	}
	var ps []sentry.Project
	h.do("GET", org+"/projects/?all_projects=1", DemoOwnerToken, nil).want(t, 200).decode(t, &ps)
	if len(ps) != 3000 || len(ps[0].Teams) != 2 {
		t.Errorf("projects = %d, first has %d teams", len(ps), len(ps[0].Teams))
	}
	teams := 0
	for _, m := range fx.Members {
		teams += len(m.Teams)
	}
	if avg := float64(teams) / float64(len(fx.Members)); avg < 2.5 || avg > 3.5 {
		t.Errorf("average teams per member = %.2f, want about 3", avg)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenOptions{Members: 10000, Teams: 1000, Projects: 3000, Seed: 1})
	}
}

func BenchmarkNewLargeOrg(b *testing.B) {
	fx := Generate(GenOptions{Members: 10000, Teams: 1000, Projects: 3000, Seed: 1})
	for b.Loop() {
		if _, err := New(fx, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
