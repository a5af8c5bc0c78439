package dashboard

import (
	"encoding/json"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// The change service reads the read model's snapshot, shared with every
// page, instead of a copy from the store per page view; it reads it
// without changing it, and a read model that lags behind the store is not
// used.
func TestTheChangeServiceSharesTheReadModelsSnapshotAndLeavesItAlone(t *testing.T) {
	ctx := t.Context()
	s := startDemo(t).Server
	snaps := storeSnapshots{st: s.opts.Store, shown: s.explore}
	_, eng, ok := s.explore.Current()
	if !ok {
		t.Fatal("the read model shows no snapshot after the demo's first sync")
	}
	got, err := snaps.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != eng.Snapshot() {
		t.Error("the change service got a copy of the snapshot, not the read model's")
	}

	before := encode(t, got)
	admin := sentryaccess.Actor{Email: "ana.admin@acme.test", Role: sentryaccess.RoleAdmin}
	viewer := sentryaccess.Actor{Email: "paul.payne@acme.test", Role: sentryaccess.RoleViewer}
	steps := []changes.Step{{Kind: changes.KindTeamAdd, Params: changes.Params{Member: got.Members[0].ID, Team: got.Teams[0].Slug}}}
	for _, a := range []sentryaccess.Actor{admin, viewer} {
		if _, err := s.changes.Choices(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.changes.MayRequest(ctx, a, steps); err != nil {
			t.Fatal(err)
		}
		if _, err := s.changes.PreviewDraft(ctx, a, steps); err != nil && a.Role != sentryaccess.RoleViewer {
			t.Fatal(err)
		}
	}
	if after := encode(t, got); after != before {
		t.Error("the change service modified the shared snapshot")
	}

	// A snapshot the read model does not show yet: the store's is used.
	if _, err := s.opts.Store.SaveSnapshot(ctx, store.SnapshotMeta{}, got); err != nil {
		t.Fatal(err)
	}
	newer, err := snaps.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newer == eng.Snapshot() {
		t.Error("the read model's older snapshot was handed out while the store holds a newer one")
	}
}

// startDemo starts the demo with its first sync done, closed at the end
// of the test.
func startDemo(t *testing.T) *Demo {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the demo")
	}
	d, err := StartDemo(t.Context(), DemoOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func encode(t *testing.T, s *access.Snapshot) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
