package changes

import (
	"context"
	"fmt"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Detail is one change request as one actor sees it: its preview, what she
// may do with it and the time-bound grant it made or extends.
type Detail struct {
	Request *Request
	// Preview is recomputed on the current snapshot while the request
	// waits for approval (PreviewLive), else the one stored at creation.
	Preview     *Preview
	PreviewLive bool
	// CanDecide reports whether the actor may approve or deny now;
	// otherwise DecideReason says why not (empty when the request is no
	// longer pending).
	CanDecide    bool
	DecideReason string
	// CanCancel reports whether the actor may withdraw it (Policy.CanCancel).
	CanCancel bool
	// Grant is the time-bound access the request created or extends;
	// CanExtend reports whether the actor may ask to prolong it
	// (Policy.CanExtend).
	Grant     *Grant
	CanExtend bool
}

// Detail returns request id as actor sees it. A request the actor may not
// see (Policy.CanView) is ENOTFOUND, as one that does not exist.
func (s *Service) Detail(ctx context.Context, actor sentryaccess.Actor, id string) (Detail, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	if !s.policy.CanView(actor, r) {
		// Not found, not forbidden: a viewer learns nothing of requests
		// that are not hers.
		return Detail{}, fmt.Errorf("request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	d := Detail{Request: r, Preview: r.Preview, CanCancel: s.policy.CanCancel(actor, r) == nil}
	if r.State == StatePendingApproval {
		pv, err := s.PreviewNow(ctx, r)
		if err != nil {
			return d, err
		}
		d.Preview, d.PreviewLive = pv, true
		switch err := s.policy.CanDecide(actor, r); {
		case err != nil:
			d.DecideReason = sentryaccess.ErrorMessage(err)
		case len(pv.Blocking()) > 0:
			d.DecideReason = "The preview has blocking violations: Sentry would refuse this request."
		default:
			d.CanDecide = true
		}
	}
	grantID := r.GrantID
	if grantID == "" {
		grantID = r.ExtendsGrant
	}
	if grantID == "" {
		return d, nil
	}
	g, err := s.grant(ctx, grantID)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	d.Grant, d.CanExtend = g, s.policy.CanExtend(actor, g) == nil
	return d, nil
}

// grant returns the grant with id (ENOTFOUND when there is none).
func (s *Service) grant(ctx context.Context, id string) (*Grant, error) {
	gs, err := s.repo.ListGrants(ctx, GrantFilter{})
	if err != nil {
		return nil, fmt.Errorf("grant %s: %w", id, err)
	}
	for i := range gs {
		if gs[i].ID == id {
			return &gs[i], nil
		}
	}
	return nil, fmt.Errorf("grant %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
}
