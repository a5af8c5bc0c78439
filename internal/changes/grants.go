package changes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// GrantState is where time-bound access is.
type GrantState string

// Grant states.
const (
	GrantActive   GrantState = "active"
	GrantRevoking GrantState = "revoking" // expiry passed, revocation under way
	GrantExpired  GrantState = "expired"  // revoked at its expiry
	GrantRevoked  GrantState = "revoked"  // revoked early on request
)

// Grant is time-bound access created by an applied request with an expiry.
// Revert holds the inverse steps that take it away again. Its ID is the id
// of the request that created it.
type Grant struct {
	ID        string     `json:"id"`
	RequestID string     `json:"requestId"`
	Requester string     `json:"requester"`
	Title     string     `json:"title"`
	Member    string     `json:"member,omitempty"` // first member the steps touch
	Revert    []Step     `json:"revert"`
	ExpiresAt time.Time  `json:"expiresAt"`
	CreatedAt time.Time  `json:"createdAt"`
	State     GrantState `json:"state"`
	// RevokeRequestID is the request that revokes the grant.
	RevokeRequestID string `json:"revokeRequestId,omitempty"`
	// Extensions are the applied requests that moved ExpiresAt.
	Extensions []string `json:"extensions,omitempty"`
}

func newGrant(r *Request, now time.Time) *Grant {
	g := &Grant{ID: r.ID, RequestID: r.ID, Requester: r.Requester, Title: r.Title,
		ExpiresAt: *r.ExpiresAt, CreatedAt: now, State: GrantActive}
	// Undo in reverse order: a link made after a team was created goes first.
	for i := len(r.Steps) - 1; i >= 0; i-- {
		inv, ok := r.Steps[i].Inverse()
		if !ok {
			continue
		}
		inv.Index = len(g.Revert)
		g.Revert = append(g.Revert, inv)
		if g.Member == "" {
			g.Member = r.Steps[i].Params.Member
		}
	}
	return g
}

// Upcoming lists active grants expiring within d of now, soonest first.
func (s *Service) Upcoming(ctx context.Context, now time.Time, d time.Duration) ([]Grant, error) {
	gs, err := s.repo.ListGrants(ctx, GrantFilter{States: []GrantState{GrantActive}, ExpiresBefore: now.Add(d)})
	if err != nil {
		return nil, fmt.Errorf("upcoming expiries: %w", err)
	}
	return gs, nil
}

// Grants lists grants matching f.
func (s *Service) Grants(ctx context.Context, f GrantFilter) ([]Grant, error) {
	gs, err := s.repo.ListGrants(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return gs, nil
}

// TimeBoundMembership is a team membership an active grant gave, which its
// expiry takes away again.
type TimeBoundMembership struct {
	Team      string
	ExpiresAt time.Time
	RequestID string
}

// TimeBoundMemberships returns member's time-bound team memberships: the
// team-add steps of active grants (their revert removes the member again).
func (s *Service) TimeBoundMemberships(ctx context.Context, member string) ([]TimeBoundMembership, error) {
	gs, err := s.repo.ListGrants(ctx, GrantFilter{States: []GrantState{GrantActive}})
	if err != nil {
		return nil, fmt.Errorf("time-bound memberships: %w", err)
	}
	var out []TimeBoundMembership
	for _, g := range gs {
		for _, st := range g.Revert {
			if st.Kind == KindTeamRemove && st.Params.Member == member {
				out = append(out, TimeBoundMembership{Team: st.Params.Team, ExpiresAt: g.ExpiresAt, RequestID: g.RequestID})
			}
		}
	}
	return out, nil
}

// RequestExtension asks to move grant grantID's expiry to until: a new
// request (no steps) that goes through approval like any other.
func (s *Service) RequestExtension(ctx context.Context, actor sentryaccess.Actor, grantID string, until time.Time, justification string) (*Request, error) {
	return s.Create(ctx, actor, NewRequest{
		Title:         fmt.Sprintf("Extend grant %s until %s", grantID, until.UTC().Format("2006-01-02 15:04 MST")),
		Justification: justification, ExpiresAt: &until, ExtendsGrant: grantID, Source: SourceForm,
	})
}

func (s *Service) checkExtension(ctx context.Context, actor sentryaccess.Actor, grantID string, until time.Time) error {
	g, err := s.grant(ctx, grantID)
	if err != nil {
		return fmt.Errorf("extend grant: %w", err)
	}
	if err := s.policy.CanExtend(actor, g); err != nil {
		return err
	}
	if !until.After(g.ExpiresAt) {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "New expiry must be after the current one (%s)", g.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// ExtendGrant asks to prolong grant grantID by d past its current expiry
// (RequestExtension).
func (s *Service) ExtendGrant(ctx context.Context, actor sentryaccess.Actor, grantID string, d time.Duration, justification string) (*Request, error) {
	g, err := s.grant(ctx, grantID)
	if err != nil {
		return nil, fmt.Errorf("extend grant: %w", err)
	}
	return s.RequestExtension(ctx, actor, grantID, g.ExpiresAt.Add(d), justification)
}

// Scheduler revokes expired grants.
type Scheduler struct {
	Service *Service
}

// Tick revokes every active grant whose expiry is at or before now: it
// creates the inverse request (requester "system:expiry", auto-approved,
// recorded like any other) and applies it. It also finishes every grant a
// crash left revoking, whatever its expiry (an early revocation too). It
// is crash-safe and idempotent: a grant being revoked is linked to its
// revoke request, and a revocation that failed is retried with a fresh
// request on the next tick.
func (sc *Scheduler) Tick(ctx context.Context, now time.Time) error {
	s := sc.Service
	due, err := s.repo.ListGrants(ctx, GrantFilter{States: []GrantState{GrantActive}, ExpiresBefore: now})
	if err != nil {
		return fmt.Errorf("expiry tick: %w", err)
	}
	revoking, err := s.repo.ListGrants(ctx, GrantFilter{States: []GrantState{GrantRevoking}})
	if err != nil {
		return fmt.Errorf("expiry tick: %w", err)
	}
	var errs []error
	for _, g := range slices.Concat(due, revoking) {
		if err := s.revoke(ctx, g.ID, now, revocation{actor: sentryaccess.Actor{Email: SystemExpiry, Role: sentryaccess.RoleSystem}}); err != nil {
			errs = append(errs, fmt.Errorf("revoke grant %s: %w", g.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Run calls Tick every interval until ctx ends, logging failures.
func (sc *Scheduler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := sc.Tick(ctx, sc.Service.now()); err != nil {
				sc.Service.log.ErrorContext(ctx, "grant expiry", "err", err)
			}
		}
	}
}

// Revoke takes grant grantID away now, before its expiry, on an approver's
// or admin's word: the grant's revert steps become a change request that
// actor approves with justification as she files it (recorded in the
// trail like any decision), applied in the background (Config.Background)
// as an approval's apply is. It returns that request. Errors are
// EFORBIDDEN (a role that does not decide), EINVALID (no justification),
// ECONFLICT (the grant is no longer active) or ENOTFOUND.
func (s *Service) Revoke(ctx context.Context, actor sentryaccess.Actor, grantID, justification string) (*Request, error) {
	if !s.policy.Decides(actor) {
		return nil, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Revoking access early is for approvers and admins; ask one to revoke it.")
	}
	justification = strings.TrimSpace(justification)
	if justification == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Say why the access is revoked before its expiry (a justification is required).")
	}
	g, err := s.grant(ctx, grantID)
	if err != nil {
		return nil, err
	}
	if g.State != GrantActive {
		return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "This access was already %s: there is nothing left to revoke.", g.State)
	}
	rv := revocation{actor: actor, justification: justification, early: true}
	req, err := s.startRevoke(ctx, grantID, s.now().UTC(), rv)
	if err != nil {
		return nil, fmt.Errorf("revoke grant %s: %w", grantID, err)
	}
	if req == nil {
		return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "This access is no longer active: there is nothing left to revoke.")
	}
	bg := context.WithoutCancel(ctx)
	s.background(func() {
		ctx, cancel := context.WithTimeout(bg, ApplyTimeout)
		defer cancel()
		if err := s.finishRevoke(ctx, grantID, req.ID, s.now().UTC()); err != nil {
			s.log.ErrorContext(ctx, "revoke grant", "grant", grantID, "request", req.ID, "err", err)
		}
	})
	return req, nil
}

// revocation is who takes a grant away and why: the expiry (system) or
// an approver early, with her justification.
type revocation struct {
	actor         sentryaccess.Actor
	justification string
	early         bool
}

func (s *Service) revoke(ctx context.Context, grantID string, now time.Time, rv revocation) error {
	req, err := s.startRevoke(ctx, grantID, now, rv)
	if err != nil || req == nil {
		return err
	}
	return s.finishRevoke(ctx, grantID, req.ID, now)
}

// startRevoke marks the grant revoking and finds or creates its revoke
// request, approved. It returns nil when the grant is not being revoked
// (already closed).
func (s *Service) startRevoke(ctx context.Context, grantID string, now time.Time, rv revocation) (*Request, error) {
	now = now.UTC()
	// 1. Mark the grant revoking (so a crash leaves a trace).
	g, err := s.repo.UpdateGrant(ctx, grantID, func(g *Grant) ([]TrailRecord, error) {
		if g.State == GrantActive {
			g.State = GrantRevoking
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	if g.State != GrantRevoking {
		return nil, nil
	}
	// 2. Find or create its revoke request.
	var req *Request
	if g.RevokeRequestID != "" {
		if req, err = s.repo.Request(ctx, g.RevokeRequestID); err != nil {
			return nil, err
		}
		if req.State.Final() && req.State != StateApplied {
			req = nil // failed: try again with a fresh request
		}
	} else {
		rs, err := s.repo.ListRequests(ctx, RequestFilter{})
		if err != nil {
			return nil, err
		}
		for i := range rs {
			if rs[i].RevokesGrant == g.ID && !(rs[i].State.Final() && rs[i].State != StateApplied) {
				req = &rs[i]
				break
			}
		}
	}
	if req == nil {
		if req, err = s.createRevokeRequest(ctx, g, now, rv); err != nil {
			return nil, err
		}
	}
	if _, err := s.repo.UpdateGrant(ctx, g.ID, func(g *Grant) ([]TrailRecord, error) {
		g.RevokeRequestID = req.ID
		return nil, nil
	}); err != nil {
		return nil, err
	}
	return req, nil
}

// createRevokeRequest stores the approved request of g's revert steps:
// the expiry's (requester system:expiry), or an approver's early
// revocation, which she approves as she files it.
func (s *Service) createRevokeRequest(ctx context.Context, g *Grant, now time.Time, rv revocation) (*Request, error) {
	steps := make([]Step, len(g.Revert))
	for i, st := range g.Revert {
		steps[i] = Step{Index: i, Kind: st.Kind, Params: st.Params, State: StepApproved}
	}
	req := &Request{
		Title:     "Revoke: " + g.Title,
		Requester: SystemExpiry, RequesterRole: sentryaccess.RoleSystem, Steps: steps,
		Justification: fmt.Sprintf("The time-bound access ended at its expiry, %s.", g.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")),
		CreatedAt:     now, UpdatedAt: now, State: StateApproved, Source: SourceExpiry,
		RevokesGrant: g.ID, Required: 0,
		Approvals: []Decision{{Actor: SystemExpiry, Role: sentryaccess.RoleSystem, Approve: true, At: now,
			Comment: "automatic revocation of time-bound access"}},
	}
	trail := []TrailRecord{{At: now, Actor: SystemExpiry, Kind: TrailRequestCreated, GrantID: g.ID}}
	if rv.early {
		req.Title = "Revoke now: " + g.Title
		req.Requester, req.RequesterRole = rv.actor.Email, rv.actor.Role
		req.Justification, req.Source, req.Required = rv.justification, SourceRevoke, 1
		req.Approvals = []Decision{{Actor: rv.actor.Email, Role: rv.actor.Role, Approve: true, At: now, Comment: rv.justification}}
		trail = []TrailRecord{
			{At: now, Actor: rv.actor.Email, Kind: TrailRequestCreated, GrantID: g.ID},
			{At: now, Actor: rv.actor.Email, Kind: TrailRequestApproved, GrantID: g.ID, Before: string(StatePendingApproval),
				After: string(StateApproved), Comment: rv.justification},
		}
	}
	trail[0].After, trail[0].Comment = summarize(req), req.Justification
	if err := s.repo.CreateRequest(ctx, req, trail); err != nil {
		return nil, err
	}
	return req, nil
}

// finishRevoke applies grant grantID's revoke request reqID and closes the
// grant: revoked when an approver took it away early, expired otherwise.
func (s *Service) finishRevoke(ctx context.Context, grantID, reqID string, now time.Time) error {
	req, err := s.Apply(ctx, reqID)
	if err != nil {
		return err
	}
	if req.State != StateApplied {
		return fmt.Errorf("revoke request %s ended %s", req.ID, req.State)
	}
	final := GrantExpired
	if req.Source == SourceRevoke {
		final = GrantRevoked
	}
	_, err = s.repo.UpdateGrant(ctx, grantID, func(g *Grant) ([]TrailRecord, error) {
		if g.State != GrantRevoking {
			return nil, nil
		}
		g.State = final
		return []TrailRecord{{At: now.UTC(), Actor: req.Requester, Kind: TrailGrantExpired, RequestID: req.ID, GrantID: g.ID,
			Before: string(GrantRevoking), After: string(final)}}, nil
	})
	return err
}
