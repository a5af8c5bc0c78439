package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Interval between scheduled syncs; 0 disables the schedule (syncs
	// then run only on demand).
	Interval time.Duration
	// FullEvery makes every scheduled sync older than this since the last
	// full one a full sync; the others are incremental (changes Sentry does
	// not write to the audit log, such as 2FA enrolment, only show up in a
	// full sync). DefaultFullEvery when zero.
	FullEvery time.Duration
	// Retain is how many snapshots to keep; 0 keeps all.
	Retain int
	// OnRun, when set, is called after every run, failed ones included
	// (metrics hook).
	OnRun func(ctx context.Context, run RunInfo)
	// AfterSync is what happens after every successful run, once old
	// snapshots are pruned: the dashboard's pipeline reloads the read
	// model, refreshes the inventory and announces what changed
	// (dashboard.afterSync). Its steps get the snapshot pair and their diff
	// from one read (NewSynced).
	AfterSync Pipeline
	// Logger receives one line per failed run.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// RunInfo describes a finished sync run for RunnerOptions.OnRun.
type RunInfo struct {
	// Kind is what ran (or was asked for, when the run failed early).
	Kind     store.SnapshotKind
	Result   Result
	Err      error
	Duration time.Duration
	Finished time.Time
}

// DefaultFullEvery is how often scheduled syncs are full ones.
const DefaultFullEvery = 24 * time.Hour

// Runner runs syncs in the background, on demand and on a schedule, one at
// a time. Its progress and outcome are recorded in the store by the
// Syncer, where the dashboard reads them.
type Runner struct {
	s    *Syncer
	st   *store.Store
	opts RunnerOptions
	log  *slog.Logger
	now  func() time.Time

	busy     atomic.Bool // a Start-ed run is under way
	mu       sync.Mutex
	lastFull time.Time
	wg       sync.WaitGroup
}

// NewRunner returns a Runner around s.
func NewRunner(s *Syncer, st *store.Store, opts RunnerOptions) *Runner {
	if opts.FullEvery <= 0 {
		opts.FullEvery = DefaultFullEvery
	}
	r := &Runner{s: s, st: st, opts: opts, log: opts.Logger, now: opts.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Start begins a sync in the background and returns at once: a full sync
// when full is true or no full sync ran yet in this process, else an
// incremental one. While another Start-ed sync runs (its pipeline
// included) it fails with an error matching ErrBusy that is also an
// ECONFLICT sentryaccess.Error. The run is bound to ctx's values but not
// its cancellation, so it outlives the HTTP request that started it; Wait
// waits for it.
func (r *Runner) Start(ctx context.Context, full bool) error {
	if !r.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: %w", ErrBusy, sentryaccess.Errorf(sentryaccess.ECONFLICT, "A sync is already running."))
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.busy.Store(false)
		_, _ = r.RunOnce(context.WithoutCancel(ctx), full)
	}()
	return nil
}

// Running reports whether a sync started with Start is still under way,
// the steps after it included.
func (r *Runner) Running() bool { return r.busy.Load() }

// RunOnce runs one sync now and waits for it. After a successful run it
// prunes old snapshots and runs the AfterSync pipeline.
func (r *Runner) RunOnce(ctx context.Context, full bool) (Result, error) {
	return r.runOnce(ctx, full, Touched{})
}

// RunTouched is RunOnce for an incremental sync that also re-reads what t
// names (Syncer.IncrementalTouched): what a change made through
// sentry-access touched. It is a full sync when one is due.
func (r *Runner) RunTouched(ctx context.Context, t Touched) (Result, error) {
	return r.runOnce(ctx, false, t)
}

func (r *Runner) runOnce(ctx context.Context, full bool, t Touched) (Result, error) {
	r.mu.Lock()
	if r.lastFull.IsZero() || r.now().Sub(r.lastFull) >= r.opts.FullEvery {
		full = true
	}
	r.mu.Unlock()
	run := func(ctx context.Context) (Result, error) { return r.s.IncrementalTouched(ctx, t) }
	if full {
		run = r.s.Full
	}
	start := r.now()
	res, err := run(ctx)
	if r.opts.OnRun != nil {
		info := RunInfo{Kind: res.Kind, Result: res, Err: err, Duration: res.Duration, Finished: r.now()}
		if info.Kind == "" {
			info.Kind = store.KindIncremental
			if full {
				info.Kind = store.KindFull
			}
		}
		if info.Duration <= 0 {
			info.Duration = info.Finished.Sub(start)
		}
		r.opts.OnRun(ctx, info)
	}
	if err != nil {
		if !errors.Is(err, ErrBusy) {
			r.log.ErrorContext(ctx, "sync failed; the previous snapshot stays current", "err", err)
		}
		return res, err
	}
	if res.Kind == store.KindFull {
		r.mu.Lock()
		r.lastFull = r.now()
		r.mu.Unlock()
	}
	if r.opts.Retain > 0 {
		if _, err := r.st.PruneSnapshots(ctx, r.opts.Retain); err != nil {
			r.log.Error("prune snapshots", "err", err)
		}
	}
	if len(r.opts.AfterSync.Steps) > 0 {
		synced, err := NewSynced(ctx, r.st, res)
		if err != nil {
			// The steps that need the new snapshot cannot run; the others
			// (the inventory) still do.
			r.log.Error("read the snapshots for the steps after the sync", "err", err)
			synced = &Synced{Result: res}
		}
		r.opts.AfterSync.Run(ctx, synced)
	}
	return res, nil
}

// Run syncs on the schedule until ctx is done, then waits for a sync
// started by Start to finish. With no Interval it only waits for ctx.
func (r *Runner) Run(ctx context.Context) error {
	defer r.wg.Wait()
	if r.opts.Interval <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_, _ = r.RunOnce(ctx, false)
		}
	}
}

// Wait waits for syncs started by Start.
func (r *Runner) Wait() { r.wg.Wait() }

// Status returns the last recorded run (running or finished).
func (r *Runner) Status(ctx context.Context) (store.SyncStatus, error) {
	return r.st.LastSyncStatus(ctx)
}
