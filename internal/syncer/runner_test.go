package syncer_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

func TestRunnerStartsOneSyncAtATimeAndReportsSnapshots(t *testing.T) {
	t.Parallel()
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{Faults: sentrysim.Faults{Latency: 20 * time.Millisecond}})
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
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	saved := make(chan syncer.Result, 4)
	r := syncer.NewRunner(syncer.New(client, st, syncer.Options{}), st, syncer.RunnerOptions{
		Retain: 1,
		AfterSync: syncer.Pipeline{Steps: []syncer.Step{{Name: "record", When: syncer.AfterNewSnapshot,
			Run: func(_ context.Context, s *syncer.Synced) error { saved <- s.Result; return nil }}}},
	})
	ctx := context.Background()
	if err := r.Start(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, false); !errors.Is(err, syncer.ErrBusy) || sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("a second Start while the first runs: got %v, want ErrBusy, an ECONFLICT", err)
	}
	if !r.Running() {
		t.Error("Running is false while a started sync runs")
	}
	r.Wait()
	res := <-saved
	if res.Kind != store.KindFull {
		t.Errorf("the first run in a process is full, got %s", res.Kind)
	}
	status, err := r.Status(ctx)
	if err != nil || !status.OK || status.Running() {
		t.Fatalf("status after the run: %+v, %v", status, err)
	}

	// A second run saves another snapshot; Retain 1 prunes the first.
	if _, err := r.RunOnce(ctx, true); err != nil {
		t.Fatal(err)
	}
	<-saved
	list, err := st.ListSnapshots(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("after pruning to 1: %d snapshots, %v", len(list), err)
	}
}
