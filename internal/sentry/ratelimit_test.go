package sentry

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		headers     map[string]string
		want        RateLimit
		wantPresent bool
	}{
		{"SaaS headers", map[string]string{
			"X-Sentry-Rate-Limit-Limit": "40", "X-Sentry-Rate-Limit-Remaining": "0", "X-Sentry-Rate-Limit-Reset": "1772366405",
			"X-Sentry-Rate-Limit-ConcurrentLimit": "25", "X-Sentry-Rate-Limit-ConcurrentRemaining": "24",
		}, RateLimit{Limit: 40, Remaining: 0, Reset: time.Unix(1772366405, 0).UTC(), ConcurrentLimit: 25, ConcurrentRemaining: 24}, true},
		{"self-hosted sends none", nil, RateLimit{Limit: -1, Remaining: -1, ConcurrentLimit: -1, ConcurrentRemaining: -1}, false},
		{"garbage is ignored", map[string]string{"X-Sentry-Rate-Limit-Remaining": "lots", "X-Sentry-Rate-Limit-Reset": "soon"},
			RateLimit{Limit: -1, Remaining: -1, ConcurrentLimit: -1, ConcurrentRemaining: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			got := ParseRateLimit(h)
			if got != tt.want || got.Present() != tt.wantPresent {
				t.Errorf("ParseRateLimit = %+v (present %v), want %+v (present %v)", got, got.Present(), tt.want, tt.wantPresent)
			}
		})
	}
}

func TestResetWaitIsCappedAgainstSkewedClocks(t *testing.T) {
	t.Parallel()
	rl := RateLimit{Reset: t0.Add(24 * time.Hour)}
	if got, ok := rl.waitUntilReset(t0); !ok || got != maxRateLimitWait {
		t.Errorf("wait = %v, %v; want %v", got, ok, maxRateLimitWait)
	}
	if _, ok := (RateLimit{Reset: t0.Add(-time.Second)}).waitUntilReset(t0); ok {
		t.Error("a past Reset asked for a wait")
	}
}

func TestBackoffGrowsWithinJitterBoundsAndIsCapped(t *testing.T) {
	t.Parallel()
	low := func(int64) int64 { return 0 }
	high := func(n int64) int64 { return n - 1 }
	for attempt, full := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second} {
		if got := backoff(attempt, low); got != full/2 {
			t.Errorf("backoff(%d) lowest = %v, want %v", attempt, got, full/2)
		}
		if got := backoff(attempt, high); got != full {
			t.Errorf("backoff(%d) highest = %v, want %v", attempt, got, full)
		}
	}
	if got := backoff(40, high); got != backoffMax {
		t.Errorf("backoff(40) = %v, want the cap %v", got, backoffMax)
	}
}
