package changes

import (
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// FuzzParseBlueprint feeds arbitrary YAML to the blueprint parser and the
// planner: a blueprint is either refused with sentryaccess.EINVALID or planned against
// a snapshot without a panic, and every planned step names its kind.
func FuzzParseBlueprint(f *testing.F) {
	entries, err := sampleFS.ReadDir("blueprints")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := sampleFS.ReadFile("blueprints/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("teams:\n  - slug: payments\n    projects: [payment-api]\n    members:\n      - email: ana@acme.test\n        role: admin\n"))
	f.Add([]byte("teams: [{slug: x, colour: blue}]"))
	f.Add([]byte("prune: true\nteams: []\n"))
	f.Add([]byte("&a [*a, *a]"))
	snap := &access.Snapshot{
		Org:      access.Org{Slug: "acme"},
		Teams:    []access.Team{{ID: "1", Slug: "payments"}, {ID: "2", Slug: "identity", IDPProvisioned: true}},
		Projects: []access.Project{{ID: "10", Slug: "payment-api", Teams: []string{"payments"}}},
		Members: []access.Member{
			{ID: "100", Email: "ana@acme.test", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments"}}},
		},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bp, err := ParseBlueprint(data)
		if err != nil {
			if sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
				t.Fatalf("parse error %v is not EINVALID", err)
			}
			return
		}
		steps, err := Plan(snap, bp)
		if err != nil {
			return
		}
		for _, s := range steps {
			if s.Kind == "" {
				t.Fatalf("a planned step has no kind: %+v", s)
			}
		}
	})
}
