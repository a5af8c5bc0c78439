package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// fixedClock returns a clock that starts at t and advances one second per call.
func fixedClock(t time.Time) func() time.Time {
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// mustOpen opens a store in a fresh temporary directory and closes it when
// the test ends.
func mustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "sentry-access.db"))
}

func mustOpenPath(tb testing.TB, path string) *store.Store {
	tb.Helper()
	s, err := store.Open(path, store.Options{Timeout: 100 * time.Millisecond, Now: fixedClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOpenTwiceSaysTheFileIsLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "locked.db")
	mustOpenPath(t, path)

	_, err := store.Open(path, store.Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("store %s is locked by another process", path)
	if err.Error() != want {
		t.Errorf("message: got %q, want %q", err.Error(), want)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reopen.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(ctx, "org", []byte("acme")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenPath(t, path)
	got, err := s.GetMeta(ctx, "org")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "acme" {
		t.Errorf("got %q, want acme", got)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 2 {
		t.Errorf("schema version: got %d, %v; want 2", v, err)
	}
}

func TestMeta(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)

	if _, err := s.GetMeta(ctx, "missing"); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("missing key: got %v, want ENOTFOUND", err)
	}
	if err := s.PutMeta(ctx, "", []byte("x")); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("empty key: got %v, want EINVALID", err)
	}
	for _, v := range []string{"one", "two"} {
		if err := s.PutMeta(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.GetMeta(ctx, "k"); string(got) != "two" {
		t.Errorf("overwritten key: got %q, want two", got)
	}
}

func TestBackupIsAStoreWithTheSameData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	saved, err := s.SaveSnapshot(ctx, store.SnapshotMeta{}, demoSnapshot(3))
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Fatalf("backup reported %d bytes, wrote %d", n, buf.Len())
	}
	copyPath := filepath.Join(t.TempDir(), "backup.db")
	if err := writeFile(copyPath, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	restored := mustOpenPath(t, copyPath)
	meta, snap, err := restored.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.ID != saved.ID || len(snap.Members) != 3 {
		t.Errorf("restored: got id %d with %d members, want id %d with 3", meta.ID, len(snap.Members), saved.ID)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ListSnapshots(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// demoSnapshot returns a snapshot with n members spread over a few teams.
func demoSnapshot(n int) *access.Snapshot {
	snap := &access.Snapshot{
		Org: access.Org{ID: "1", Slug: "acme", Name: "Acme", OpenMembership: true},
		Teams: []access.Team{
			{ID: "10", Slug: "payments", Name: "Payments", DateCreated: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)},
			{ID: "11", Slug: "platform", Name: "Platform", DateCreated: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC)},
		},
		Projects: []access.Project{
			{ID: "100", Slug: "payment-api", Name: "Payment API", Platform: "go", Teams: []string{"payments"}},
		},
		Integrations: []access.Integration{{Slug: "deploy-bot", Name: "Deploy bot", UUID: "u-1", Status: "internal", Scopes: []string{"project:read"}}},
	}
	for i := range n {
		m := access.Member{
			ID:          fmt.Sprint(1000 + i),
			Email:       fmt.Sprintf("user%d@acme.test", i),
			Name:        fmt.Sprintf("User %d", i),
			UserID:      fmt.Sprint(5000 + i),
			OrgRole:     "member",
			State:       access.StateActive,
			Flags:       access.MemberFlags{SSOLinked: i%3 == 0},
			Has2FA:      i%2 == 0,
			Teams:       []access.Membership{{Team: "payments"}},
			DateCreated: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		}
		if i%4 == 0 {
			m.Teams = append(m.Teams, access.Membership{Team: "platform", Role: "admin"})
		}
		snap.Members = append(snap.Members, m)
	}
	return snap
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	want := demoSnapshot(25)
	saved, err := s.SaveSnapshot(ctx, store.SnapshotMeta{
		Kind: store.KindFull, SentryURL: "https://sentry.example", Duration: 3 * time.Second, Requests: 12,
	}, want)
	if err != nil {
		t.Fatal(err)
	}
	if saved.ID == 0 || saved.Created.IsZero() {
		t.Errorf("saved meta lacks id or time: %+v", saved)
	}
	counts := [4]int{saved.Members, saved.Teams, saved.Projects, saved.Integrations}
	if counts != [4]int{25, 2, 1, 1} {
		t.Errorf("counts: got %v, want [25 2 1 1]", counts)
	}
	if saved.Org != "acme" {
		t.Errorf("org: got %q, want acme", saved.Org)
	}

	for name, get := range map[string]func() (store.SnapshotMeta, *access.Snapshot, error){
		"current": func() (store.SnapshotMeta, *access.Snapshot, error) { return s.CurrentSnapshot(ctx) },
		"by id":   func() (store.SnapshotMeta, *access.Snapshot, error) { return s.Snapshot(ctx, saved.ID) },
	} {
		t.Run(name, func(t *testing.T) {
			meta, got, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(meta, saved) {
				t.Errorf("meta: got %+v, want %+v", meta, saved)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("snapshot differs after round trip")
			}
		})
	}
}

func TestNoSnapshotYetIsNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if _, _, err := s.CurrentSnapshot(ctx); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("current: got %v, want ENOTFOUND", err)
	}
	if _, _, err := s.Snapshot(ctx, 7); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("by id: got %v, want ENOTFOUND", err)
	}
	got, err := s.ListSnapshots(ctx)
	if err != nil || len(got) != 0 {
		t.Errorf("list: got %v, %v; want empty", got, err)
	}
}

func TestSaveSnapshotRejectsNil(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	if _, err := s.SaveSnapshot(context.Background(), store.SnapshotMeta{}, nil); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("got %v, want EINVALID", err)
	}
}

func saveN(t *testing.T, s *store.Store, n int) []store.SnapshotMeta {
	t.Helper()
	var out []store.SnapshotMeta
	for i := range n {
		m, err := s.SaveSnapshot(context.Background(), store.SnapshotMeta{}, demoSnapshot(i+1))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestListSnapshotsNewestFirstAndNewestIsCurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	saved := saveN(t, s, 3)

	list, err := s.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, m := range list {
		got = append(got, m.ID)
	}
	want := []uint64{saved[2].ID, saved[1].ID, saved[0].ID}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order: got %v, want %v", got, want)
	}
	cur, snap, err := s.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID != saved[2].ID || len(snap.Members) != 3 {
		t.Errorf("current: got id %d with %d members, want id %d with 3", cur.ID, len(snap.Members), saved[2].ID)
	}
}

func TestPruneSnapshots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		saved, keep int
		wantDeleted int
		wantLeft    int
	}{
		{"keeps the newest keep", 5, 2, 3, 2},
		{"keeping more than exist deletes nothing", 2, 10, 0, 2},
		{"keep zero still keeps the current snapshot", 3, 0, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := mustOpen(t)
			saved := saveN(t, s, tt.saved)
			deleted, err := s.PruneSnapshots(ctx, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if deleted != tt.wantDeleted {
				t.Errorf("deleted: got %d, want %d", deleted, tt.wantDeleted)
			}
			list, _ := s.ListSnapshots(ctx)
			if len(list) != tt.wantLeft {
				t.Errorf("left: got %d, want %d", len(list), tt.wantLeft)
			}
			cur, _, err := s.CurrentSnapshot(ctx)
			if err != nil || cur.ID != saved[len(saved)-1].ID {
				t.Errorf("current after prune: got %d, %v; want %d", cur.ID, err, saved[len(saved)-1].ID)
			}
			if _, _, err := s.Snapshot(ctx, saved[0].ID); tt.wantDeleted > 0 && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
				t.Errorf("oldest after prune: got %v, want ENOTFOUND", err)
			}
		})
	}
}

func TestSnapshotOf10kMembersIsCompact(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large snapshot")
	}
	s := mustOpen(t)
	meta, err := s.SaveSnapshot(context.Background(), store.SnapshotMeta{}, demoSnapshot(10_000))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10k members: %d bytes JSON, %d bytes stored (%.1f%%)", meta.RawSize, meta.Size, 100*float64(meta.Size)/float64(meta.RawSize))
	if meta.Size*5 > meta.RawSize {
		t.Errorf("stored %d bytes for %d of JSON; want at least 5x compression", meta.Size, meta.RawSize)
	}
}

func TestSyncStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.LastSyncStatus(ctx); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("no runs yet: got %v, want ENOTFOUND", err)
	}

	good, err := s.RecordSyncStatus(ctx, store.SyncStatus{Kind: store.KindFull, Stage: "members"})
	if err != nil {
		t.Fatal(err)
	}
	if good.ID == 0 || good.Started.IsZero() || !good.Running() {
		t.Fatalf("started run: got %+v, want an id, a start time and running", good)
	}
	good.Progress = store.SyncProgress{Done: 40, Total: 100}
	if _, err := s.RecordSyncStatus(ctx, good); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LastSyncStatus(ctx); got.Progress != good.Progress || got.ID != good.ID {
		t.Errorf("progress update: got %+v, want %+v", got, good)
	}
	good.Finished, good.OK, good.SnapshotID = good.Started.Add(time.Minute), true, 1
	if _, err := s.RecordSyncStatus(ctx, good); err != nil {
		t.Fatal(err)
	}
	failed, err := s.RecordSyncStatus(ctx, store.SyncStatus{
		Kind: store.KindIncremental, Started: good.Finished, Finished: good.Finished.Add(time.Second),
		Stage: "teams", Error: "list teams: 500", Fallback: "audit log: 403",
	})
	if err != nil {
		t.Fatal(err)
	}

	got, err := s.LastSyncStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, failed) {
		t.Errorf("last: got %+v, want %+v", got, failed)
	}
	history, err := s.SyncHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || !reflect.DeepEqual(history[1], good) {
		t.Errorf("history: got %+v, want [failed, good]", history)
	}
}

func TestSyncHistoryIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	var last store.SyncStatus
	for range 510 {
		var err error
		if last, err = s.RecordSyncStatus(ctx, store.SyncStatus{Kind: store.KindFull}); err != nil {
			t.Fatal(err)
		}
	}
	history, err := s.SyncHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 500 || history[0].ID != last.ID {
		t.Errorf("got %d runs, newest %d; want 500, newest %d", len(history), history[0].ID, last.ID)
	}
}

func TestErrorsNameWhatFailed(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	_, _, err := s.Snapshot(context.Background(), 42)
	if !strings.Contains(err.Error(), "snapshot 42") {
		t.Errorf("got %q, want it to name snapshot 42", err)
	}
}

func TestRepeatedReadsOfASnapshotAreEqualAndChangingOneLeavesTheStoredOneAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	want := demoSnapshot(25)
	first, err := s.SaveSnapshot(ctx, store.SnapshotMeta{Kind: store.KindFull}, want)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		meta, got, err := s.CurrentSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if meta.ID != first.ID || !reflect.DeepEqual(got, want) {
			t.Fatalf("read %d: got snapshot %d, equal %v; want %d, equal", i, meta.ID, reflect.DeepEqual(got, want), first.ID)
		}
		// A caller changes its copy (as a what-if would without Clone).
		got.Members[0].Email = "changed@acme.test"
		got.Members[0].Teams = append(got.Members[0].Teams[:0], access.Membership{Team: "other"})
		got.Projects[0].Teams[0] = "other"
	}
	_, byID, err := s.Snapshot(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byID, want) {
		t.Errorf("by id after callers changed their copies: the stored snapshot changed")
	}

	// A newer snapshot is read as itself, and the older one by id still is.
	newer := demoSnapshot(30)
	second, err := s.SaveSnapshot(ctx, store.SnapshotMeta{Kind: store.KindFull}, newer)
	if err != nil {
		t.Fatal(err)
	}
	meta, got, err := s.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.ID != second.ID || !reflect.DeepEqual(got, newer) {
		t.Errorf("current after a new save: got %d with %d members, want %d with 30", meta.ID, len(got.Members), second.ID)
	}
	if _, old, err := s.Snapshot(ctx, first.ID); err != nil || !reflect.DeepEqual(old, want) {
		t.Errorf("older snapshot by id: err %v, equal %v", err, reflect.DeepEqual(old, want))
	}
}
