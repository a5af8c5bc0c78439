package sentry

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
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

// TestConcurrentCallersShareTheWindow runs several goroutines against one
// rate-limited endpoint of a server that keeps a real fixed window (10
// requests per 100 ms, Reset as fractional epoch seconds). The callers
// share what each response says is left of the window, so none of them
// earns a 429 and the server sees exactly one request per call.
func TestConcurrentCallersShareTheWindow(t *testing.T) {
	t.Parallel()
	const (
		limit   = 10
		window  = 100 * time.Millisecond
		workers = 3
		calls   = 20 // per worker: 60 requests, at least 6 windows
	)
	var (
		mu        sync.Mutex
		winStart  time.Time
		count     int
		hits, got int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		now := time.Now()
		if start := now.Truncate(window); !start.Equal(winStart) {
			winStart, count = start, 0
		}
		count++
		hits++
		remaining, reset := max(0, limit-count), winStart.Add(window)
		over := count > limit
		if over {
			got++
		}
		mu.Unlock()
		w.Header().Set("X-Sentry-Rate-Limit-Limit", strconv.Itoa(limit))
		w.Header().Set("X-Sentry-Rate-Limit-Remaining", strconv.Itoa(remaining))
		w.Header().Set("X-Sentry-Rate-Limit-Reset", fmt.Sprintf("%d.%03d", reset.Unix(), reset.Nanosecond()/1e6))
		if over {
			writeJSON(w, http.StatusTooManyRequests, `{"detail":"You are attempting to use this endpoint too frequently. Limit is 10 requests in 1 seconds"}`)
			return
		}
		writeJSON(w, http.StatusOK, `[]`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Org: "acme", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for range workers {
		wg.Go(func() {
			for range calls {
				if _, err := c.Projects(t.Context()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got != 0 {
		t.Errorf("server answered 429 %d times, want none", got)
	}
	if want := workers * calls; hits != want {
		t.Errorf("server saw %d requests, want %d (one per call)", hits, want)
	}
}
