package explore

import (
	"context"
	"fmt"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// SyncRun returns the last sync run as recorded in the store, as the pages
// show it; Running is also true when running says so (a sync started from
// the dashboard whose steps after it are still under way). Before any sync
// it returns nil, or a starting run while running.
func (s *Service) SyncRun(ctx context.Context, running bool) (*SyncRun, error) {
	last, err := s.src.LastSyncStatus(ctx)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		if running {
			return &SyncRun{Running: true, Stage: "start"}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync status: %w", err)
	}
	var meta *store.SnapshotMeta
	if st := s.cur.Load(); st != nil {
		meta = &st.meta
	}
	sr := syncRun(last, meta)
	sr.Running = sr.Running || running
	return sr, nil
}

// Syncs is the background sync runner (*syncer.Runner).
type Syncs interface {
	// Start starts a sync (full, or incremental when full is false and a
	// full one ran already) and returns at once; an ECONFLICT error while
	// one runs.
	Start(ctx context.Context, full bool) error
	// Running reports whether a sync started with Start is under way.
	Running() bool
}

// SyncControl is the dashboard's sync button and status: syncs go through
// the one runner (so they prune and run the steps after a sync like
// scheduled ones), and their status is read as the pages show it.
type SyncControl struct {
	Syncs Syncs
	Read  *Service
}

// Start starts an on-demand sync; ECONFLICT while one runs.
func (c SyncControl) Start(ctx context.Context) error { return c.Syncs.Start(ctx, false) }

// Status returns the last run (nil before the first).
func (c SyncControl) Status(ctx context.Context) (*SyncRun, error) {
	return c.Read.SyncRun(ctx, c.Syncs.Running())
}
