package changes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"

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
	// Eligibility is who could still approve it, as far as the dashboard
	// knows (pending requests only).
	Eligibility Eligibility
	// CanCancel reports whether the actor may withdraw it (Policy.CanCancel).
	CanCancel bool
	// Grant is the time-bound access the request created or extends;
	// CanExtend reports whether the actor may ask to prolong it
	// (Policy.CanExtend).
	Grant     *Grant
	CanExtend bool
	// CanRevoke reports whether the actor may take the grant away now
	// (Service.Revoke: approvers and admins, while it is active).
	CanRevoke bool
	// LeftOnNoTeam are the members whom the revocation of time-bound
	// access (this request, or the one that revoked this request's grant)
	// left on no team: they reach no project through a team any more and
	// are candidates for removal from the organization.
	LeftOnNoTeam []MemberChoice
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
		switch err := s.policy.CanDecide(actor, r, pv); {
		case err != nil:
			d.DecideReason = sentryaccess.ErrorMessage(err)
		case len(pv.Blocking()) > 0:
			d.DecideReason = "The preview has blocking violations: Sentry would refuse this request."
		default:
			d.CanDecide = true
		}
		if len(pv.Blocking()) == 0 {
			if d.Eligibility, err = s.eligibility(ctx, r, pv); err != nil {
				return d, err
			}
		}
	}
	if r.RevokesGrant != "" {
		if d.LeftOnNoTeam, err = s.leftOnNoTeam(ctx, r); err != nil {
			return d, err
		}
	}
	grantID := r.GrantID
	if grantID == "" {
		grantID = r.ExtendsGrant
	}
	if grantID == "" {
		grantID = r.RevokesGrant
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
	d.CanRevoke = s.policy.Decides(actor) && g.State == GrantActive
	if r.RevokesGrant == "" && g.RevokeRequestID != "" {
		rev, err := s.repo.Request(ctx, g.RevokeRequestID)
		if err != nil && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
			return d, err
		}
		if rev != nil {
			if d.LeftOnNoTeam, err = s.leftOnNoTeam(ctx, rev); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

// leftOnNoTeam returns the members an applied revocation rev removed from
// teams who, on the current snapshot, are on no other team (the teams rev
// removed them from do not count, in case no sync has run since).
func (s *Service) leftOnNoTeam(ctx context.Context, rev *Request) ([]MemberChoice, error) {
	if rev.State != StateApplied {
		return nil, nil
	}
	removed := map[string][]string{}
	for _, st := range rev.Steps {
		if st.Kind == KindTeamRemove && st.State == StepApplied {
			removed[st.Params.Member] = append(removed[st.Params.Member], st.Params.Team)
		}
	}
	if len(removed) == 0 {
		return nil, nil
	}
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("members left on no team: %w", err)
	}
	var out []MemberChoice
	for _, m := range snap.Members {
		gone, ok := removed[m.ID]
		if !ok {
			continue
		}
		if !slices.ContainsFunc(m.Teams, func(ms access.Membership) bool { return !slices.Contains(gone, ms.Team) }) {
			out = append(out, MemberChoice{ID: m.ID, Email: m.Email, State: m.State})
		}
	}
	slices.SortFunc(out, func(a, b MemberChoice) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
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
