package changes

import (
	"context"
	"slices"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// StoreRepo is the Repo over the bbolt store: requests, grants and the
// trail as the store's own records (store.ChangeRequest, store.ChangeGrant,
// store.TrailEntry), mapped here, so a change to the types of this package
// cannot change the file format.
type StoreRepo struct {
	records *store.ChangeRecords
}

// NewStoreRepo returns the Repo over st.
func NewStoreRepo(st *store.Store) *StoreRepo { return &StoreRepo{records: st.Changes()} }

var _ Repo = (*StoreRepo)(nil)

// CreateRequest implements Repo.
func (r *StoreRepo) CreateRequest(ctx context.Context, req *Request, trail []TrailRecord) error {
	rec := requestRecord(req)
	if err := r.records.CreateRequest(ctx, &rec, trailEntries(trail)); err != nil {
		return err
	}
	req.ID = rec.ID
	for i := range trail {
		trail[i].RequestID = rec.ID
	}
	return nil
}

// Request implements Repo.
func (r *StoreRepo) Request(ctx context.Context, id string) (*Request, error) {
	rec, err := r.records.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	req := fromRequestRecord(rec)
	return &req, nil
}

// UpdateRequest implements Repo.
func (r *StoreRepo) UpdateRequest(ctx context.Context, id string, fn func(*Request) ([]TrailRecord, error)) (*Request, error) {
	rec, err := r.records.UpdateRequest(ctx, id, func(rec *store.ChangeRequest) ([]store.TrailEntry, error) {
		req := fromRequestRecord(rec)
		trail, err := fn(&req)
		if err != nil {
			return nil, err
		}
		*rec = requestRecord(&req)
		return trailEntries(trail), nil
	})
	if err != nil {
		return nil, err
	}
	req := fromRequestRecord(rec)
	return &req, nil
}

// ListRequests implements Repo.
func (r *StoreRepo) ListRequests(ctx context.Context, f RequestFilter) ([]Request, error) {
	recs, err := r.records.ListRequests(ctx, func(rec *store.ChangeRequest) bool {
		req := fromRequestRecord(rec)
		return f.Match(&req)
	}, f.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]Request, len(recs))
	for i := range recs {
		out[i] = fromRequestRecord(&recs[i])
	}
	return out, nil
}

// CreateGrant implements Repo; a grant whose id exists is ECONFLICT.
func (r *StoreRepo) CreateGrant(ctx context.Context, g *Grant, trail []TrailRecord) error {
	rec := grantRecord(g)
	return r.records.CreateGrant(ctx, &rec, trailEntries(trail))
}

// UpdateGrant implements Repo.
func (r *StoreRepo) UpdateGrant(ctx context.Context, id string, fn func(*Grant) ([]TrailRecord, error)) (*Grant, error) {
	rec, err := r.records.UpdateGrant(ctx, id, func(rec *store.ChangeGrant) ([]store.TrailEntry, error) {
		g := fromGrantRecord(rec)
		trail, err := fn(&g)
		if err != nil {
			return nil, err
		}
		*rec = grantRecord(&g)
		return trailEntries(trail), nil
	})
	if err != nil {
		return nil, err
	}
	g := fromGrantRecord(rec)
	return &g, nil
}

// ListGrants implements Repo.
func (r *StoreRepo) ListGrants(ctx context.Context, f GrantFilter) ([]Grant, error) {
	recs, err := r.records.ListGrants(ctx, func(rec *store.ChangeGrant) bool {
		g := fromGrantRecord(rec)
		return f.Match(&g)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Grant, len(recs))
	for i := range recs {
		out[i] = fromGrantRecord(&recs[i])
	}
	return out, nil
}

// AppendTrail implements Repo.
func (r *StoreRepo) AppendTrail(ctx context.Context, recs ...TrailRecord) error {
	return r.records.AppendTrail(ctx, trailEntries(recs)...)
}

// Trail implements Repo.
func (r *StoreRepo) Trail(ctx context.Context, f TrailFilter) ([]TrailRecord, error) {
	es, err := r.records.Trail(ctx, func(e *store.TrailEntry) bool {
		rec := fromTrailEntry(*e)
		return f.Match(&rec)
	}, f.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]TrailRecord, len(es))
	for i, e := range es {
		out[i] = fromTrailEntry(e)
	}
	return out, nil
}

// TrailHead implements Repo.
func (r *StoreRepo) TrailHead(ctx context.Context) (TrailHead, error) {
	h, err := r.records.TrailHead(ctx)
	return TrailHead(h), err
}

// The mappings between this package's types and the store's records.

func requestRecord(r *Request) store.ChangeRequest {
	rec := store.ChangeRequest{ID: r.ID, Title: r.Title, Requester: r.Requester, RequesterRole: string(r.RequesterRole),
		Justification: r.Justification, Steps: stepRecords(r.Steps), ExpiresAt: r.ExpiresAt, ExtendsGrant: r.ExtendsGrant,
		RevokesGrant: r.RevokesGrant, GrantID: r.GrantID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, State: string(r.State),
		Source: string(r.Source), Required: r.Required}
	for _, d := range r.Approvals {
		rec.Approvals = append(rec.Approvals, store.ChangeDecision{Actor: d.Actor, Role: string(d.Role), Approve: d.Approve, Comment: d.Comment, At: d.At})
	}
	if p := r.Preview; p != nil {
		pr := &store.ChangePreview{ComputedAt: p.ComputedAt}
		for _, v := range p.Violations {
			pr.Violations = append(pr.Violations, store.ChangeViolation(v))
		}
		for _, d := range p.Deltas {
			pr.Deltas = append(pr.Deltas, store.ChangeDelta{Member: d.Member, Email: d.Email, Project: d.Project, GainsAccess: d.GainsAccess,
				LosesAccess: d.LosesAccess, Gained: slices.Clone(d.Gained), Lost: slices.Clone(d.Lost), Via: d.Via})
		}
		pr.ActingAs = p.ActingAs
		for _, a := range p.Affected {
			pr.Affected = append(pr.Affected, store.ChangeAffected(a))
		}
		for _, t := range p.TeamRoles {
			tr := store.ChangeTeamRole{Step: t.Step, Member: t.Member, Email: t.Email, Team: t.Team, Stored: t.Stored, Reset: t.Reset,
				EffectiveBefore: t.EffectiveBefore, EffectiveAfter: t.EffectiveAfter}
			if t.Restore != nil {
				tr.Restore = &stepRecords([]Step{*t.Restore})[0]
			}
			pr.TeamRoles = append(pr.TeamRoles, tr)
		}
		rec.Preview = pr
	}
	return rec
}

func fromRequestRecord(rec *store.ChangeRequest) Request {
	r := Request{ID: rec.ID, Title: rec.Title, Requester: rec.Requester, RequesterRole: sentryaccess.Role(rec.RequesterRole),
		Justification: rec.Justification, Steps: fromStepRecords(rec.Steps), ExpiresAt: rec.ExpiresAt, ExtendsGrant: rec.ExtendsGrant,
		RevokesGrant: rec.RevokesGrant, GrantID: rec.GrantID, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt, State: State(rec.State),
		Source: Source(rec.Source), Required: rec.Required}
	for _, d := range rec.Approvals {
		r.Approvals = append(r.Approvals, Decision{Actor: d.Actor, Role: sentryaccess.Role(d.Role), Approve: d.Approve, Comment: d.Comment, At: d.At})
	}
	if p := rec.Preview; p != nil {
		pv := &Preview{ComputedAt: p.ComputedAt}
		for _, v := range p.Violations {
			pv.Violations = append(pv.Violations, Violation(v))
		}
		for _, d := range p.Deltas {
			pv.Deltas = append(pv.Deltas, AccessDelta{Member: d.Member, Email: d.Email, Project: d.Project, GainsAccess: d.GainsAccess,
				LosesAccess: d.LosesAccess, Gained: slices.Clone(d.Gained), Lost: slices.Clone(d.Lost), Via: d.Via})
		}
		pv.ActingAs = p.ActingAs
		for _, a := range p.Affected {
			pv.Affected = append(pv.Affected, AffectedMember(a))
		}
		for _, t := range p.TeamRoles {
			tr := TeamRoleEffect{Step: t.Step, Member: t.Member, Email: t.Email, Team: t.Team, Stored: t.Stored, Reset: t.Reset,
				EffectiveBefore: t.EffectiveBefore, EffectiveAfter: t.EffectiveAfter}
			if t.Restore != nil {
				tr.Restore = &fromStepRecords([]store.ChangeStep{*t.Restore})[0]
			}
			pv.TeamRoles = append(pv.TeamRoles, tr)
		}
		r.Preview = pv
	}
	return r
}

func stepRecords(steps []Step) []store.ChangeStep {
	if steps == nil {
		return nil
	}
	out := make([]store.ChangeStep, len(steps))
	for i, s := range steps {
		p := s.Params
		out[i] = store.ChangeStep{Index: s.Index, Kind: string(s.Kind), State: string(s.State), Attempts: s.Attempts,
			SentryStatus: s.SentryStatus, SentryError: s.SentryError, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, Result: s.Result,
			Params: store.ChangeParams{Member: p.Member, Email: p.Email, Team: p.Team, TeamID: p.TeamID, Project: p.Project, Role: p.Role,
				PreviousRole: p.PreviousRole, Name: p.Name, AccessRequest: p.AccessRequest, Add: slices.Clone(p.Add), Remove: slices.Clone(p.Remove)}}
	}
	return out
}

func fromStepRecords(recs []store.ChangeStep) []Step {
	if recs == nil {
		return nil
	}
	out := make([]Step, len(recs))
	for i, s := range recs {
		p := s.Params
		out[i] = Step{Index: s.Index, Kind: Kind(s.Kind), State: StepState(s.State), Attempts: s.Attempts,
			SentryStatus: s.SentryStatus, SentryError: s.SentryError, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, Result: s.Result,
			Params: Params{Member: p.Member, Email: p.Email, Team: p.Team, TeamID: p.TeamID, Project: p.Project, Role: p.Role,
				PreviousRole: p.PreviousRole, Name: p.Name, AccessRequest: p.AccessRequest, Add: slices.Clone(p.Add), Remove: slices.Clone(p.Remove)}}
	}
	return out
}

func grantRecord(g *Grant) store.ChangeGrant {
	return store.ChangeGrant{ID: g.ID, RequestID: g.RequestID, Requester: g.Requester, Title: g.Title, Member: g.Member,
		Revert: stepRecords(g.Revert), ExpiresAt: g.ExpiresAt, CreatedAt: g.CreatedAt, State: string(g.State),
		RevokeRequestID: g.RevokeRequestID, Extensions: slices.Clone(g.Extensions)}
}

func fromGrantRecord(rec *store.ChangeGrant) Grant {
	return Grant{ID: rec.ID, RequestID: rec.RequestID, Requester: rec.Requester, Title: rec.Title, Member: rec.Member,
		Revert: fromStepRecords(rec.Revert), ExpiresAt: rec.ExpiresAt, CreatedAt: rec.CreatedAt, State: GrantState(rec.State),
		RevokeRequestID: rec.RevokeRequestID, Extensions: slices.Clone(rec.Extensions)}
}

// TrailEntries are recs as the store keeps them, for a repository outside
// this package that appends to the trail in its own transaction
// (unapproved.StoreRepo).
func TrailEntries(recs []TrailRecord) []store.TrailEntry { return trailEntries(recs) }

func trailEntries(recs []TrailRecord) []store.TrailEntry {
	out := make([]store.TrailEntry, len(recs))
	for i, r := range recs {
		out[i] = trailEntry(r)
	}
	return out
}

func trailEntry(r TrailRecord) store.TrailEntry {
	return store.TrailEntry{Seq: r.Seq, At: r.At, Actor: r.Actor, Kind: string(r.Kind), RequestID: r.RequestID, GrantID: r.GrantID,
		Step: r.Step, Before: r.Before, After: r.After, SentryStatus: r.SentryStatus, SentryResponse: r.SentryResponse,
		Comment: r.Comment, PrevHash: r.PrevHash, Hash: r.Hash}
}

func fromTrailEntry(e store.TrailEntry) TrailRecord {
	return TrailRecord{Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: TrailKind(e.Kind), RequestID: e.RequestID, GrantID: e.GrantID,
		Step: e.Step, Before: e.Before, After: e.After, SentryStatus: e.SentryStatus, SentryResponse: e.SentryResponse,
		Comment: e.Comment, PrevHash: e.PrevHash, Hash: e.Hash}
}
