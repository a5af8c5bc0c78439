package explore

import (
	"context"
	"fmt"
	"sync"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Runner starts syncs in the background, one at a time, and reloads the
// Service when one succeeds. Build it with NewRunner.
type Runner struct {
	svc *Service
	run func(ctx context.Context) error
	mu  sync.Mutex
	on  bool
	wg  sync.WaitGroup
}

// NewRunner returns a Runner that calls run (e.g. a syncer's Full or
// Incremental, adapted to return only its error) and then svc.Reload.
func NewRunner(svc *Service, run func(ctx context.Context) error) *Runner {
	return &Runner{svc: svc, run: run}
}

// Start starts a sync in the background and returns at once. The sync
// outlives ctx's cancellation (it keeps ctx's values). A sync already
// running is an ECONFLICT error.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "A sync is already running.")
	}
	r.on = true
	r.wg.Add(1)
	bg := context.WithoutCancel(ctx)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			r.on = false
			r.mu.Unlock()
		}()
		if err := r.run(bg); err != nil {
			r.svc.log.WarnContext(bg, "sync failed", "err", err)
			return
		}
		if err := r.svc.Reload(bg); err != nil {
			r.svc.log.ErrorContext(bg, "reload after sync", "err", err)
		}
	}()
	return nil
}

// Wait blocks until the running sync (if any) and its reload are done.
func (r *Runner) Wait() { r.wg.Wait() }

// Status returns the last sync run as recorded in the store; Running is
// also true while this Runner's sync or reload is still going. Before any
// sync it returns nil.
func (r *Runner) Status(ctx context.Context) (*SyncRun, error) {
	r.mu.Lock()
	on := r.on
	r.mu.Unlock()
	last, err := r.svc.src.LastSyncStatus(ctx)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		if on {
			return &SyncRun{Running: true, Stage: "start"}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sync status: %w", err)
	}
	var meta *store.SnapshotMeta
	if st := r.svc.cur.Load(); st != nil {
		meta = &st.meta
	}
	sr := syncRun(last, meta)
	sr.Running = sr.Running || on
	return sr, nil
}
