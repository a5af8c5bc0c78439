package dashboard

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

func TestTheConnectionPageReusesTheScopesForAMinute(t *testing.T) {
	t.Parallel()
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	creds := sim.Tokens()
	client, err := sentry.New(sentry.Config{BaseURL: srv.URL, Org: creds.Org, Token: creds.OwnerToken})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	c := &scopeCache{sentry: client, now: func() time.Time { return now }, ttl: ScopesTTL}
	for range 3 {
		scopes, err := c.get(t.Context())
		if err != nil || len(scopes) == 0 {
			t.Fatalf("scopes %v, %v", scopes, err)
		}
	}
	if got := client.Requests(); got != 1 {
		t.Errorf("three views within a minute made %d requests to Sentry, want 1", got)
	}
	now = now.Add(ScopesTTL)
	if _, err := c.get(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := client.Requests(); got != 2 {
		t.Errorf("after the TTL: %d requests, want 2", got)
	}
}
