package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Synced is what one successful sync hands to the steps after it. The
// snapshot pair is read from the store, the engine built and the diff
// computed once, here, for every step.
type Synced struct {
	// Result is the run's outcome (kind, the saved snapshot's meta, the
	// audit-log status …).
	Result Result
	// Saved reports whether the run saved a new snapshot; an incremental
	// run that found nothing new did not (Result.Unchanged).
	Saved bool
	// Current is the saved snapshot with its engine; set when Saved.
	Current *access.Engine
	// Previous is the meta of the snapshot before it and BeforeEngine its
	// engine (BeforeEngine.Snapshot() is the snapshot); nil for the first
	// snapshot, or when not Saved.
	Previous     *store.SnapshotMeta
	BeforeEngine *access.Engine
	// Diff is Before → Current; nil without a previous snapshot.
	Diff *access.SnapshotDiff
}

// When says which syncs a Step runs after.
type When int

// Triggers of a step.
const (
	// AfterEverySync runs after every successful sync, with or without a
	// new snapshot (what Sentry holds outside the snapshot can change
	// without it: tokens, SCIM, the audit log).
	AfterEverySync When = iota
	// AfterNewSnapshot runs only when the sync saved a new snapshot.
	AfterNewSnapshot
	// AfterFullSync runs only after a full sync.
	AfterFullSync
)

// Step is one named thing done after a sync. A failing step is logged and
// the next one runs: a step never undoes the sync, whose snapshot is
// already saved.
type Step struct {
	Name string
	When When
	Run  func(ctx context.Context, s *Synced) error
}

// Pipeline is what happens after a sync, in order. Build it once (the
// dashboard does, in dashboard.New) and hand it to the Runner; adding a
// step is adding one Step to the list.
type Pipeline struct {
	Steps  []Step
	Logger *slog.Logger
}

// StepReport is how one step of a run went: skipped (not its kind of
// sync), or run for Duration with Err.
type StepReport struct {
	Name     string
	Skipped  bool
	Err      error
	Duration time.Duration
}

// Run runs every step that applies to s, in order, and reports each.
func (p Pipeline) Run(ctx context.Context, s *Synced) []StepReport {
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := make([]StepReport, 0, len(p.Steps))
	for _, st := range p.Steps {
		rep := StepReport{Name: st.Name}
		switch {
		case st.When == AfterNewSnapshot && !s.Saved, st.When == AfterFullSync && s.Result.Kind != store.KindFull:
			rep.Skipped = true
		default:
			start := time.Now()
			rep.Err = st.Run(ctx, s)
			rep.Duration = time.Since(start)
			if rep.Err != nil {
				log.ErrorContext(ctx, "after sync: "+st.Name, "snapshot", s.Result.Snapshot.ID, "err", rep.Err)
			}
		}
		out = append(out, rep)
	}
	return out
}

// NewSynced reads what the steps after run res need: when res saved a
// snapshot, it and the one before it from st, their engines and the diff.
func NewSynced(ctx context.Context, st *store.Store, res Result) (*Synced, error) {
	s := &Synced{Result: res, Saved: !res.Unchanged}
	if !s.Saved {
		return s, nil
	}
	_, snap, err := st.Snapshot(ctx, res.Snapshot.ID)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %d: %w", res.Snapshot.ID, err)
	}
	s.Current = access.New(snap)
	list, err := st.ListSnapshots(ctx)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	for _, m := range list {
		if m.ID >= res.Snapshot.ID {
			continue
		}
		_, before, err := st.Snapshot(ctx, m.ID)
		if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
			break // pruned meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read snapshot %d: %w", m.ID, err)
		}
		prev := m
		d := access.Diff(before, snap)
		s.Previous, s.BeforeEngine, s.Diff = &prev, access.New(before), &d
		break
	}
	return s, nil
}
