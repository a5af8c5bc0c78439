package dashboard

import (
	"context"

	"github.com/sentry-access/sentry-access/internal/compliance"
	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/syncer"
	"github.com/sentry-access/sentry-access/internal/unapproved"
)

// afterSync is what happens after every successful sync, in order (the
// runner prunes old snapshots first). Each step is handed the same
// syncer.Synced: the new snapshot, the one before it and their diff, read
// and computed once. To make something happen after a sync, add a step
// here; TestTheStepsAfterASync (aftersync_test.go) names them; docs/architecture.md,
// "The life of a snapshot", shows where they sit.
func (s *Server) afterSync() syncer.Pipeline {
	return syncer.Pipeline{Logger: s.log, Steps: []syncer.Step{
		{Name: "show the new snapshot in the read model", When: syncer.AfterNewSnapshot, Run: s.showSnapshot},
		{Name: "note the audit-log status", When: syncer.AfterFullSync, Run: s.noteAuditStatus},
		{Name: "refresh the token, SCIM and SSO inventory", When: syncer.AfterEverySync, Run: s.refreshInventory},
		{Name: "prepare the compliance pages", When: syncer.AfterEverySync, Run: s.prepareCompliance},
		{Name: "announce new drift findings", When: syncer.AfterEverySync, Run: s.announceDrift},
		{Name: "detect changes made outside sentry-access", When: syncer.AfterEverySync, Run: s.detectUnapproved},
		{Name: "announce risk findings and access changes", When: syncer.AfterNewSnapshot, Run: s.announceAccessChanges},
	}}
}

// showSnapshot makes the new snapshot the read model's, with "what
// changed" since the one before.
func (s *Server) showSnapshot(_ context.Context, sy *syncer.Synced) error {
	s.explore.Show(sy.Result.Snapshot, sy.Current, sy.Previous, sy.Diff)
	return nil
}

// noteAuditStatus lets the empty audit-log page say why Sentry's audit log
// could not be read (403 without org:write, the plan).
func (s *Server) noteAuditStatus(ctx context.Context, sy *syncer.Synced) error {
	return s.audit.NoteSync(ctx, sy.Result.AuditError)
}

// refreshInventory reads what the snapshot does not hold: tokens, Sentry
// Apps, the auth provider, SCIM users and groups, access requests. Parts
// Sentry refuses are recorded as not visible, not as empty.
func (s *Server) refreshInventory(ctx context.Context, _ *syncer.Synced) error {
	_, err := syncer.FetchInventory(ctx, s.opts.Sentry, s.opts.Store, syncer.InventoryOptions{
		SCIMConfigured: s.opts.Connection.SCIMConfigured, Now: s.opts.Now, Logger: s.log,
	})
	return err
}

// prepareCompliance runs the token, SCIM, SSO, posture and troubleshooting
// rules over the new inventory and snapshot once, so that the pages answer
// with a lookup.
func (s *Server) prepareCompliance(ctx context.Context, _ *syncer.Synced) error {
	return s.compliance.Prepare(ctx)
}

// announceDrift publishes the token-hygiene and SCIM/SSO drift findings not
// announced before.
func (s *Server) announceDrift(ctx context.Context, _ *syncer.Synced) error {
	var fs []notify.Finding
	add := func(link string, found []compliance.Finding) {
		for _, f := range found {
			fs = append(fs, notify.Finding{Key: string(f.Rule) + ":" + f.Subject, Title: f.Subject, Detail: f.Detail, Link: link})
		}
	}
	if tv, err := s.compliance.Tokens(ctx); err == nil {
		add("/tokens", tv.Findings)
	}
	if sv, err := s.compliance.SCIM(ctx); err == nil {
		add("/scim", sv.Findings)
	}
	return s.notify.DriftFindings(ctx, fs)
}

// announceAccessChanges publishes the new snapshot's new risk findings and
// the access changes since the one before. The first snapshot announces
// nothing: everything in it is new.
func (s *Server) announceAccessChanges(ctx context.Context, sy *syncer.Synced) error {
	if sy.Previous == nil {
		return nil
	}
	return s.notify.SnapshotChanged(ctx, sy.Previous.ID, sy.Result.Snapshot.ID, sy.BeforeEngine, sy.Current, sy.Diff)
}

// detectUnapproved matches the access changes of a new snapshot against
// the change requests sentry-access carried out and flags the rest as
// made outside sentry-access; after every sync it also attaches audit
// entries archived since and settles findings whose revert request ended.
// The first snapshot has nothing to compare.
func (s *Server) detectUnapproved(ctx context.Context, sy *syncer.Synced) error {
	in := unapproved.Sync{AuditError: sy.Result.AuditError}
	if sy.Saved && sy.Current != nil {
		m := sy.Result.Snapshot
		in.Snapshot, in.After, in.Started, in.Ended = m.ID, sy.Current.Snapshot(), m.Created.Add(-m.Duration), m.Created
		if p := sy.Previous; p != nil && sy.BeforeEngine != nil {
			in.Previous, in.PreviousStarted, in.Before, in.Diff = p.ID, p.Created.Add(-p.Duration), sy.BeforeEngine.Snapshot(), sy.Diff
		}
	}
	_, err := s.unapproved.Detect(ctx, in)
	return err
}
