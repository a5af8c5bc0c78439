package unapproved

import (
	"context"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// StoreRepo is Repo on the store: it maps findings to and from the
// store's own record type, so a change of Finding cannot change the file
// format unnoticed.
type StoreRepo struct{ Records *store.UnapprovedRecords }

var _ Repo = StoreRepo{}

// Record implements Repo.
func (r StoreRepo) Record(ctx context.Context, snapshot uint64, fs []Finding) (bool, error) {
	recs := make([]store.UnapprovedChange, len(fs))
	for i := range fs {
		recs[i] = toRecord(&fs[i])
	}
	ok, err := r.Records.Record(ctx, snapshot, recs)
	for i := range fs {
		fs[i].ID, fs[i].Snapshot = recs[i].ID, recs[i].Snapshot
	}
	return ok, err
}

// Findings implements Repo.
func (r StoreRepo) Findings(ctx context.Context) ([]Finding, error) {
	recs, err := r.Records.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, len(recs))
	for i := range recs {
		out[i] = fromRecord(&recs[i])
	}
	return out, nil
}

// Update implements Repo.
func (r StoreRepo) Update(ctx context.Context, id string, fn func(*Finding) ([]changes.TrailRecord, error)) (*Finding, error) {
	rec, err := r.Records.Update(ctx, id, func(rec *store.UnapprovedChange) ([]store.TrailEntry, error) {
		f := fromRecord(rec)
		trail, err := fn(&f)
		if err != nil {
			return nil, err
		}
		*rec = toRecord(&f)
		return changes.TrailEntries(trail), nil
	})
	if err != nil {
		return nil, err
	}
	f := fromRecord(rec)
	return &f, nil
}

func toRecord(f *Finding) store.UnapprovedChange {
	c := f.Change
	rec := store.UnapprovedChange{
		ID: f.ID, Snapshot: f.Snapshot, Previous: f.Previous, From: f.From, To: f.To, DetectedAt: f.DetectedAt,
		Change: store.UnapprovedSubject{Kind: string(c.Kind), Member: c.Member, Email: c.Email, UserID: c.UserID,
			Team: c.Team, Project: c.Project, Setting: c.Setting, From: c.From, To: c.To, Members: c.Members, Projects: c.Projects},
		Verdict: string(f.Verdict), Remainder: f.Remainder, Approved: f.Approved,
		AuditStatus: f.AuditStatus, AuditReason: f.AuditReason,
		State: string(f.State), RevertRequest: f.RevertRequest, RevertedAt: f.RevertedAt, UpdatedAt: f.UpdatedAt,
	}
	if c.Undone != nil {
		rec.Change.Undone = &store.UnapprovedStep{Request: c.Undone.Request, Step: c.Undone.Step}
	}
	for _, b := range f.By {
		rec.By = append(rec.By, store.UnapprovedStep{Request: b.Request, Step: b.Step})
	}
	if a := f.Audit; a != nil {
		rec.Audit = &store.UnapprovedAudit{ID: a.ID, Event: a.Event, Actor: a.Actor, IP: a.IP, At: a.At, Note: a.Note}
	}
	if d := f.Accepted; d != nil {
		rec.Accepted = &store.UnapprovedDecision{By: d.By, Role: string(d.Role), Note: d.Note, At: d.At}
	}
	return rec
}

func fromRecord(rec *store.UnapprovedChange) Finding {
	c := rec.Change
	f := Finding{
		ID: rec.ID, Snapshot: rec.Snapshot, Previous: rec.Previous, From: rec.From, To: rec.To, DetectedAt: rec.DetectedAt,
		Change: Change{Kind: Kind(c.Kind), Member: c.Member, Email: c.Email, UserID: c.UserID, Team: c.Team,
			Project: c.Project, Setting: c.Setting, From: c.From, To: c.To, Members: c.Members, Projects: c.Projects},
		Verdict: Verdict(rec.Verdict), Remainder: rec.Remainder, Approved: rec.Approved,
		AuditStatus: rec.AuditStatus, AuditReason: rec.AuditReason,
		State: State(rec.State), RevertRequest: rec.RevertRequest, RevertedAt: rec.RevertedAt, UpdatedAt: rec.UpdatedAt,
	}
	if u := c.Undone; u != nil {
		f.Change.Undone = &StepRef{Request: u.Request, Step: u.Step}
	}
	for _, b := range rec.By {
		f.By = append(f.By, StepRef{Request: b.Request, Step: b.Step})
	}
	if a := rec.Audit; a != nil {
		f.Audit = &AuditEntry{ID: a.ID, Event: a.Event, Actor: a.Actor, IP: a.IP, At: a.At, Note: a.Note}
	}
	if d := rec.Accepted; d != nil {
		f.Accepted = &Decision{By: d.By, Role: sentryaccess.Role(d.Role), Note: d.Note, At: d.At}
	}
	return f
}
