package compliance

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestTheAssembledInventoryIsReusedUntilSomethingChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := openStore(t)
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
		reused bool
	}{
		{"a new snapshot", func() {
			if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{}, snap); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a new inventory fetch", func() {
			if err := st.SaveInventory(ctx, store.Inventory{FetchedAt: now}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a recorded intent", func() {
			if _, _, err := svc.RecordIntent(ctx, IntentInput{Purpose: "ci", Environment: "prod", RecordedBy: "ana@acme.test"}); err != nil {
				t.Fatal(err)
			}
		}, false},
		// The inventory does not depend on the clock; the rules that do
		// run again (TestTheClocksRulesRunAgainAfterAMinute).
		{"a minute passing", func() { now = now.Add(memoTTL); svc.bg.Wait() }, true},
	}
	prev := first
	for _, s := range steps {
		s.change()
		got := load()
		if (got == prev) != s.reused {
			t.Errorf("after %s: inventory reused %v, want %v", s.what, got == prev, s.reused)
		}
		if load() != got {
			t.Errorf("after %s the inventory is not reused again", s.what)
		}
		prev = got
	}
}

// The rules that depend on the clock run again after memoTTL, in the
// background: the page view that notices keeps the prepared pages, the
// next ones get the new.
func TestTheClocksRulesRunAgainAfterAMinute(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := openStore(t)
	stale := time.Duration(DefaultSettings().InviteStaleDays) * 24 * time.Hour
	invited := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	snap := &access.Snapshot{Org: access.Org{Slug: "acme"}, Members: []access.Member{
		{ID: "1", Email: "new@acme.test", OrgRole: "member", State: access.StatePending, DateCreated: invited}}}
	if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{}, snap); err != nil {
		t.Fatal(err)
	}
	var now atomic.Pointer[time.Time]
	setNow := func(t time.Time) { now.Store(&t) }
	setNow(invited.Add(stale - 30*time.Second))
	svc := NewService(st, Options{Now: func() time.Time { return *now.Load() }})
	pendingFinding := func() bool {
		t.Helper()
		v, err := svc.SCIM(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(v.Findings, func(f Finding) bool { return f.Rule == RulePendingInvite })
	}
	if pendingFinding() {
		t.Fatal("an invite younger than InviteStaleDays is reported stale")
	}
	setNow(invited.Add(stale - 30*time.Second + memoTTL))
	if pendingFinding() {
		t.Error("the page view that noticed the minute waited for the rules to run again")
	}
	svc.bg.Wait()
	if !pendingFinding() {
		t.Error("a minute later the invite past InviteStaleDays is still not reported")
	}
}

// countingSource counts the inventory reads.
type countingSource struct {
	*store.Store
	loads atomic.Int64
}

func (c *countingSource) LoadInventory(ctx context.Context) (store.Inventory, error) {
	c.loads.Add(1)
	return c.Store.LoadInventory(ctx)
}

// Once prepared (by the after-sync pipeline), the compliance pages answer
// without reading or assembling anything again.
func TestPreparedPagesAnswerWithALookup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := openStore(t)
	snap := &access.Snapshot{Org: access.Org{Slug: "acme"}, Members: []access.Member{{ID: "1", Email: "ana@acme.test", OrgRole: "owner", State: access.StateActive}},
		Projects: []access.Project{{ID: "10", Slug: "api"}}}
	if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{}, snap); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveInventory(ctx, store.Inventory{FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	src := &countingSource{Store: st}
	svc := NewService(src, Options{})
	if err := svc.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	prepared := src.loads.Load()
	for range 3 {
		if _, err := svc.Tokens(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SCIM(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SSO(ctx, "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Posture(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Troubleshoot(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DiagnoseProject(ctx, "ana@acme.test", "api"); err != nil {
			t.Fatal(err)
		}
	}
	if n := src.loads.Load() - prepared; n != 0 {
		t.Errorf("the pages read the inventory %d more times after Prepare, want none", n)
	}
	if err := svc.Prepare(ctx); err != nil || src.loads.Load() != prepared {
		t.Errorf("Prepare with nothing changed read the inventory again (%v)", err)
	}
}
