package compliance

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/store"
)

func TestTheAssembledInventoryIsReusedUntilSomethingChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap := &access.Snapshot{Org: access.Org{Slug: "acme"}}
	if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{}, snap); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	svc := NewService(st, Options{Now: func() time.Time { return now }})
	load := func() *Inventory {
		t.Helper()
		inv, err := svc.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	first := load()
	if load() != first {
		t.Fatal("nothing changed, yet the inventory was assembled again")
	}
	steps := []struct {
		what   string
		change func()
	}{
		{"a new snapshot", func() {
			if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{}, snap); err != nil {
				t.Fatal(err)
			}
		}},
		{"a new inventory fetch", func() {
			if err := st.SaveInventory(ctx, store.Inventory{FetchedAt: now}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a recorded intent", func() {
			if _, _, err := svc.RecordIntent(ctx, IntentInput{Purpose: "ci", Environment: "prod", RecordedBy: "ana@acme.test"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a minute passing", func() { now = now.Add(memoTTL) }},
	}
	prev := first
	for _, s := range steps {
		s.change()
		got := load()
		if got == prev {
			t.Errorf("after %s the old inventory was reused", s.what)
		}
		if load() != got {
			t.Errorf("after %s the inventory is not reused again", s.what)
		}
		prev = got
	}
}
