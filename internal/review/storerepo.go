package review

import (
	"context"
	"maps"
	"slices"

	"github.com/sentry-access/sentry-access/internal/store"
)

// StoreRepo is the Repo over the bbolt store: campaigns and items as the
// store's own records (store.ReviewCampaign, store.ReviewItem), mapped
// here, so a change to the types of this package cannot change the file
// format.
type StoreRepo struct {
	records *store.ReviewRecords
}

// NewStoreRepo returns the Repo over st.
func NewStoreRepo(st *store.Store) *StoreRepo { return &StoreRepo{records: st.Reviews()} }

var _ Repo = (*StoreRepo)(nil)

// CreateCampaign implements Repo.
func (r *StoreRepo) CreateCampaign(ctx context.Context, c *Campaign, items []Item) error {
	rec := campaignRecord(c)
	if err := r.records.CreateCampaign(ctx, &rec, itemRecords(items)); err != nil {
		return err
	}
	c.ID = rec.ID
	return nil
}

// Campaign implements Repo.
func (r *StoreRepo) Campaign(ctx context.Context, id string) (*Campaign, error) {
	rec, err := r.records.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	c := fromCampaignRecord(rec)
	return &c, nil
}

// Campaigns implements Repo.
func (r *StoreRepo) Campaigns(ctx context.Context) ([]Campaign, error) {
	recs, err := r.records.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Campaign, len(recs))
	for i := range recs {
		out[i] = fromCampaignRecord(&recs[i])
	}
	return out, nil
}

// Items implements Repo.
func (r *StoreRepo) Items(ctx context.Context, id string) ([]Item, error) {
	recs, err := r.records.Items(ctx, id)
	if err != nil {
		return nil, err
	}
	return fromItemRecords(recs), nil
}

// UpdateCampaign implements Repo.
func (r *StoreRepo) UpdateCampaign(ctx context.Context, id string, fn func(c *Campaign, items []Item) error) (*Campaign, []Item, error) {
	rec, recs, err := r.records.UpdateCampaign(ctx, id, func(rec *store.ReviewCampaign, recs []store.ReviewItem) error {
		c, items := fromCampaignRecord(rec), fromItemRecords(recs)
		if err := fn(&c, items); err != nil {
			return err
		}
		*rec = campaignRecord(&c)
		copy(recs, itemRecords(items))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	c := fromCampaignRecord(rec)
	return &c, fromItemRecords(recs), nil
}

// PutEvidence implements Repo.
func (r *StoreRepo) PutEvidence(ctx context.Context, id string, zip []byte) error {
	return r.records.PutEvidence(ctx, id, zip)
}

// Evidence implements Repo.
func (r *StoreRepo) Evidence(ctx context.Context, id string) ([]byte, error) {
	return r.records.Evidence(ctx, id)
}

func campaignRecord(c *Campaign) store.ReviewCampaign {
	return store.ReviewCampaign{ID: c.ID, Name: c.Name, Scope: string(c.Scope), Org: c.Org, SnapshotID: c.SnapshotID, Due: c.Due,
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, State: string(c.State), TeamAdmins: maps.Clone(c.TeamAdmins),
		ClosedBy: c.ClosedBy, ClosedAt: c.ClosedAt, ChangeRequestID: c.ChangeRequestID, ManualFollowUp: slices.Clone(c.ManualFollowUp),
		OutsideChanges: convertOutside[store.ReviewOutsideChange](c.OutsideChanges)}
}

func fromCampaignRecord(rec *store.ReviewCampaign) Campaign {
	return Campaign{ID: rec.ID, Name: rec.Name, Scope: Scope(rec.Scope), Org: rec.Org, SnapshotID: rec.SnapshotID, Due: rec.Due,
		CreatedBy: rec.CreatedBy, CreatedAt: rec.CreatedAt, State: State(rec.State), TeamAdmins: maps.Clone(rec.TeamAdmins),
		ClosedBy: rec.ClosedBy, ClosedAt: rec.ClosedAt, ChangeRequestID: rec.ChangeRequestID, ManualFollowUp: slices.Clone(rec.ManualFollowUp),
		OutsideChanges: convertOutside[OutsideChange](rec.OutsideChanges)}
}

func itemRecords(items []Item) []store.ReviewItem {
	out := make([]store.ReviewItem, len(items))
	for i, it := range items {
		out[i] = store.ReviewItem{ID: it.ID, Kind: string(it.Kind), MemberID: it.MemberID, MemberEmail: it.MemberEmail,
			MemberName: it.MemberName, OrgRole: it.OrgRole, Team: it.Team, TeamRole: it.TeamRole, Integration: it.Integration,
			Scopes: slices.Clone(it.Scopes), Context: store.ReviewItemContext{MemberState: it.Context.MemberState,
				LastLogin: it.Context.LastLogin, LastActive: it.Context.LastActive, Projects: it.Context.Projects, Global: it.Context.Global,
				SSOLinked: it.Context.SSOLinked, SSOInvalid: it.Context.SSOInvalid, SCIMProvisioned: it.Context.SCIMProvisioned,
				Has2FA: it.Context.Has2FA, Risks: slices.Clone(it.Context.Risks)},
			Decision: string(it.Decision), Comment: it.Comment, Reviewer: it.Reviewer, DecidedAt: it.DecidedAt}
	}
	return out
}

func fromItemRecords(recs []store.ReviewItem) []Item {
	if recs == nil {
		return nil
	}
	out := make([]Item, len(recs))
	for i, it := range recs {
		out[i] = Item{ID: it.ID, Kind: ItemKind(it.Kind), MemberID: it.MemberID, MemberEmail: it.MemberEmail,
			MemberName: it.MemberName, OrgRole: it.OrgRole, Team: it.Team, TeamRole: it.TeamRole, Integration: it.Integration,
			Scopes: slices.Clone(it.Scopes), Context: ItemContext{MemberState: it.Context.MemberState,
				LastLogin: it.Context.LastLogin, LastActive: it.Context.LastActive, Projects: it.Context.Projects, Global: it.Context.Global,
				SSOLinked: it.Context.SSOLinked, SSOInvalid: it.Context.SSOInvalid, SCIMProvisioned: it.Context.SCIMProvisioned,
				Has2FA: it.Context.Has2FA, Risks: slices.Clone(it.Context.Risks)},
			Decision: Decision(it.Decision), Comment: it.Comment, Reviewer: it.Reviewer, DecidedAt: it.DecidedAt}
	}
	return out
}

// convertOutside converts between OutsideChange and its record, which have
// the same fields.
func convertOutside[T OutsideChange | store.ReviewOutsideChange, F OutsideChange | store.ReviewOutsideChange](in []F) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, x := range in {
		out[i] = T(x)
	}
	return out
}
