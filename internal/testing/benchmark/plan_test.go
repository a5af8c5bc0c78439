package benchmark

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// TestMakeChangesPicksChangesSentryAllows makes the bench's changes
// against the simulator for several seeds and sizes (3,000/300/900 with
// seed 1 used to remove a member from an IdP-provisioned team, a 403):
// every change must be one Sentry accepts.
func TestMakeChangesPicksChangesSentryAllows(t *testing.T) {
	t.Parallel()
	sizes := []sentrysim.GenOptions{{Members: 3000, Teams: 300, Projects: 900}, {Members: 400, Teams: 100, Projects: 120}}
	for _, size := range sizes {
		for seed := int64(1); seed <= 4; seed++ {
			o := size
			o.Seed = seed
			t.Run(fmt.Sprintf("%d-%d-%d/seed-%d", o.Members, o.Teams, o.Projects, seed), func(t *testing.T) {
				t.Parallel()
				fx := sentrysim.Generate(o)
				sim, err := sentrysim.New(fx, sentrysim.Options{})
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(sim.Handler())
				t.Cleanup(func() { srv.Close(); sim.Close() })
				creds := sim.Tokens()
				c, err := sentry.New(sentry.Config{BaseURL: srv.URL, Org: creds.Org, Token: creds.OwnerToken})
				if err != nil {
					t.Fatal(err)
				}
				if err := makeChanges(context.Background(), c, fx); err != nil {
					t.Fatalf("a change Sentry refuses: %v", err)
				}
			})
		}
	}
}
