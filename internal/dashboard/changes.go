package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// expiryInterval is how often the grant-expiry scheduler looks for
// time-bound access that has run out.
const expiryInterval = time.Minute

// storeSnapshots serves the change-request service the current snapshot and
// Sentry's pending access requests as last synced.
type storeSnapshots struct {
	st *store.Store
	// shown is the read model: its snapshot, decoded once and shared, is
	// handed out while it is the store's current one (every page that
	// offers a change asks, and a copy from the store costs more than the
	// page).
	shown interface {
		Current() (store.SnapshotMeta, *access.Engine, bool)
	}
}

// Current returns the latest synced snapshot (changes.Snapshots), shared
// and read-only.
func (s storeSnapshots) Current(ctx context.Context) (*access.Snapshot, error) {
	id, err := s.st.CurrentSnapshotID(ctx)
	if err != nil {
		return nil, fmt.Errorf("current snapshot: %w", err)
	}
	if s.shown != nil {
		if meta, eng, ok := s.shown.Current(); ok && id != 0 && meta.ID == id {
			return eng.Snapshot(), nil
		}
	}
	_, snap, err := s.st.CurrentSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("current snapshot: %w", err)
	}
	return snap, nil
}

// AccessRequests returns Sentry's pending team access requests from the
// last inventory (changes.AccessRequestLister); ENOTFOUND before the first.
func (s storeSnapshots) AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error) {
	return s.st.LoadAccessRequests(ctx)
}

// knownApprovers is changes.ApproverDirectory over the dashboard's record
// of sign-ins: the users whose last sign-in gave an approver or admin role.
type knownApprovers struct{ st *store.Store }

// KnownApprovers implements changes.ApproverDirectory.
func (k knownApprovers) KnownApprovers(ctx context.Context) ([]changes.KnownApprover, error) {
	us, err := k.st.DashboardUsers().List(ctx)
	if err != nil {
		return nil, err
	}
	var out []changes.KnownApprover
	for _, u := range us {
		if u.Role == sentryaccess.RoleApprover || u.Role == sentryaccess.RoleAdmin {
			out = append(out, changes.KnownApprover{Email: u.Email, Name: u.Name, Role: u.Role, LastSeen: u.LastLogin})
		}
	}
	return out, nil
}

// newChanges builds the change-request service: requests in the store,
// steps carried out with the Sentry client, and a sync through the runner
// after each apply so the pages show the result. created and finished are
// told of requests awaiting approval and of requests that ended.
func newChanges(o Options, runner *syncer.Runner, ex *explore.Service, log *slog.Logger, created, finished func(context.Context, *changes.Request)) *changes.Service {
	snaps := storeSnapshots{st: o.Store, shown: ex}
	return changes.New(changes.Config{
		Created:        created,
		Finished:       finished,
		Policy:         o.Policy,
		Repo:           changes.NewStoreRepo(o.Store),
		Snapshots:      snaps,
		AccessRequests: snaps,
		Previewer:      changes.EnginePreviewer{},
		Executor:       changes.SentryExecutor{API: o.Sentry},
		Approvers:      knownApprovers{o.Store},
		Now:            o.Now,
		Logger:         log,
		MaxAttempts:    o.ApplyRetry.MaxAttempts,
		Backoff:        o.ApplyRetry.Backoff,
		Sleep:          o.ApplyRetry.Sleep,
		Resync: func(ctx context.Context, t changes.Touched) error {
			return resync(ctx, runner, syncer.Touched{Members: t.Members, Emails: t.Emails, Teams: t.Teams,
				TeamList: t.TeamList, Projects: len(t.Projects) > 0})
		},
	})
}

// resync runs an incremental sync that re-reads what an apply touched,
// waiting for a running one to finish first (a sync that started before
// the apply may have missed it).
func resync(ctx context.Context, r *syncer.Runner, t syncer.Touched) error {
	for range 60 {
		_, err := r.RunTouched(ctx, t)
		if !errors.Is(err, syncer.ErrBusy) {
			return err
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return fmt.Errorf("resync after apply: %w", syncer.ErrBusy)
}

// ExpireGrants revokes the time-bound access that has expired by the
// server's clock now, as the scheduler does every minute (tests call it
// after moving the clock).
func (s *Server) ExpireGrants(ctx context.Context) error {
	return s.expiry.Tick(ctx, s.opts.Now())
}

// runChanges finishes what a crash interrupted, then revokes expired
// grants every expiryInterval until ctx ends.
func (s *Server) runChanges(ctx context.Context) error {
	if err := s.changes.Recover(ctx); err != nil {
		s.log.ErrorContext(ctx, "recover change requests", "err", err)
	}
	s.expiry.Run(ctx, expiryInterval)
	return nil
}
