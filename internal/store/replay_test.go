package store_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/sentry-access/sentry-access/internal/store"
)

// settableClock is a clock the test moves by hand.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func openReplay(t *testing.T, path string, clk *settableClock) *store.Store {
	t.Helper()
	s, err := store.Open(path, store.Options{Timeout: 100 * time.Millisecond, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReplayCacheRefusesASeenIDUntilItExpires(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clk := &settableClock{t: start}
	s := openReplay(t, filepath.Join(t.TempDir(), "db"), clk)
	t.Cleanup(func() { _ = s.Close() })
	rc := s.ReplayCache()
	exp := start.Add(5 * time.Minute)

	if err := rc.Consume("id-1", exp); err != nil {
		t.Fatalf("first consume: %v", err)
	}
	if err := rc.Consume("id-1", exp); !errors.Is(err, saml.ErrAssertionReplayed) {
		t.Fatalf("second consume = %v, want ErrAssertionReplayed", err)
	}
	if err := rc.Consume("id-2", exp); err != nil {
		t.Fatalf("another id: %v", err)
	}

	clk.Set(exp.Add(-time.Second))
	if err := rc.Consume("id-1", exp); !errors.Is(err, saml.ErrAssertionReplayed) {
		t.Fatalf("just before expiry = %v, want ErrAssertionReplayed", err)
	}

	clk.Set(exp.Add(time.Second))
	if err := rc.Consume("id-3", exp.Add(time.Hour)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	got, err := rc.Len()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1; got != want {
		t.Errorf("entries after the others expired = %d, want %d (expired ones pruned)", got, want)
	}
	if err := rc.Consume("id-1", exp.Add(time.Hour)); err != nil {
		t.Errorf("an expired, pruned id is accepted again (crewjam refuses the expired assertion itself): %v", err)
	}
}

func TestReplayCacheSurvivesARestart(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clk := &settableClock{t: start}
	path := filepath.Join(t.TempDir(), "db")
	s := openReplay(t, path, clk)
	if err := s.ReplayCache().Consume("id-1", start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openReplay(t, path, clk)
	t.Cleanup(func() { _ = s.Close() })
	if err := s.ReplayCache().Consume("id-1", start.Add(time.Minute)); !errors.Is(err, saml.ErrAssertionReplayed) {
		t.Errorf("after restart = %v, want ErrAssertionReplayed", err)
	}
}

func TestReplayCacheConsumesEachIDOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clk := &settableClock{t: start}
	s := openReplay(t, filepath.Join(t.TempDir(), "db"), clk)
	t.Cleanup(func() { _ = s.Close() })
	rc := s.ReplayCache()
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 8 {
		wg.Go(func() {
			if rc.Consume("same", start.Add(time.Minute)) == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("accepted %d times, want once", accepted)
	}
}
