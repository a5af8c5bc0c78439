package compliance

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// liveWorld is the demo org in the simulator, asked with the given
// tokens.
func liveWorld(t *testing.T, token, scimToken string) (*sentrysim.Server, *sentry.Client, time.Time) {
	t.Helper()
	var mu sync.Mutex
	now := sentrysim.DemoEpoch()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	// Waiting for a rate-limit window moves the clock, not the test.
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
		return nil
	}
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); srv.Close() })
	c, err := sentry.New(sentry.Config{BaseURL: srv.URL, Org: sentrysim.DemoOrgSlug, Token: token, SCIMToken: scimToken,
		MaxRetries: -1, Now: clock, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, clock()
}

func joined(d Diagnosis) string { return strings.Join(d.Lines, " ") + " " + d.Fix }

// The troubleshooting rows for SCIM 401, an empty audit log and 429s ask
// the configured Sentry and say what it answered: which kind of token,
// which scope or role, which endpoint and when its window resets.
func TestTheLiveChecksSayWhatSentryAnswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("everything answers", func(t *testing.T) {
		t.Parallel()
		_, c, now := liveWorld(t, sentrysim.DemoOwnerToken, sentrysim.DemoSCIMToken)
		lc := runLiveChecks(ctx, c, now)
		for _, d := range []Diagnosis{lc.SCIM, lc.AuditLog, lc.RateLimit} {
			if d.Problem {
				t.Errorf("%s: problem: %s", d.Title, joined(d))
			}
		}
		if !strings.Contains(joined(lc.AuditLog), "the latest entry is") {
			t.Errorf("audit log: %s", joined(lc.AuditLog))
		}
	})
	t.Run("a SCIM token Sentry does not know is a 401 that says so", func(t *testing.T) {
		t.Parallel()
		_, c, now := liveWorld(t, sentrysim.DemoOwnerToken, "sntryu_revoked_0000000000000000000000000000000000000000000000000")
		d := runLiveChecks(ctx, c, now).SCIM
		if !d.Problem || !strings.Contains(joined(d), "401") || !strings.Contains(joined(d), "a user auth token (sntryu_") || !strings.Contains(joined(d), "rejected") {
			t.Errorf("SCIM: %s", joined(d))
		}
		if strings.Contains(joined(d), "revoked_000") {
			t.Error("the diagnosis shows the token's secret part")
		}
	})
	t.Run("an org auth token as the SCIM token is the wrong kind", func(t *testing.T) {
		t.Parallel()
		_, c, now := liveWorld(t, sentrysim.DemoOwnerToken, sentrysim.DemoCIToken)
		d := runLiveChecks(ctx, c, now).SCIM
		if !d.Problem || !strings.Contains(joined(d), "an org auth token (sntrys_") || !strings.Contains(joined(d), "org:ci") {
			t.Errorf("SCIM: %s", joined(d))
		}
	})
	t.Run("a member's token lists org:write but her role bounds it", func(t *testing.T) {
		t.Parallel()
		_, c, now := liveWorld(t, sentrysim.DemoMemberToken, "")
		lc := runLiveChecks(ctx, c, now)
		if d := lc.AuditLog; !d.Problem || !strings.Contains(joined(d), "403") || !strings.Contains(joined(d), "org role is below manager") {
			t.Errorf("audit log: %s", joined(d))
		}
		if d := lc.SCIM; d.Problem || !strings.Contains(joined(d), "No SCIM token is configured") {
			t.Errorf("SCIM without a token: %s", joined(d))
		}
	})
	t.Run("a CI token lacks org:write", func(t *testing.T) {
		t.Parallel()
		_, c, now := liveWorld(t, sentrysim.DemoCIToken, "")
		d := runLiveChecks(ctx, c, now).AuditLog
		if !d.Problem || !(strings.Contains(joined(d), "lack org:write") || strings.Contains(joined(d), "401")) {
			t.Errorf("audit log: %s", joined(d))
		}
	})
	t.Run("a 429 names its endpoint and when its window resets", func(t *testing.T) {
		t.Parallel()
		sim, c, now := liveWorld(t, sentrysim.DemoOwnerToken, "")
		sim.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: 30 * time.Second, Headers: true})
		// Requests sent together before any answer told the client the
		// window's size: all but one get 429.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { _, _ = c.ListTeams(ctx) })
		}
		wg.Wait()
		d := runLiveChecks(ctx, c, now).RateLimit
		if !d.Problem || !strings.Contains(joined(d), "GET /organizations/{org}/teams/ answered 429") || !strings.Contains(joined(d), "resets at") {
			t.Errorf("rate limits: %s", joined(d))
		}
	})
}

// The checks run on demand only; the page shows the last result.
func TestTheLiveCheckIsKeptUntilTheNextRun(t *testing.T) {
	t.Parallel()
	_, c, _ := liveWorld(t, sentrysim.DemoOwnerToken, sentrysim.DemoSCIMToken)
	s := NewService(nil, Options{Live: c})
	if got := s.live.Load(); got != nil {
		t.Fatal("a check ran before anyone asked")
	}
	lc, err := s.CheckLive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.live.Load() == nil || s.live.Load().At != lc.At {
		t.Error("the result is not kept")
	}
	if _, err := NewService(nil, Options{}).CheckLive(context.Background()); err == nil {
		t.Error("without a Sentry the check should be unavailable")
	}
}
