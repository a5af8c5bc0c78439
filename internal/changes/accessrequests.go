package changes

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// AccessRequestLister lists Sentry's pending team access requests (members
// asking to join a team under closed membership). The dashboard serves
// them from the last synced inventory; *sentry.Client reads them live.
type AccessRequestLister interface {
	AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error)
}

// RequestAccessDecision opens a change request that approves (or denies)
// one of Sentry's pending team access requests, id as Sentry numbers it. It
// goes through approval like any other request. An approval with an
// expiry is time-bound: at expiresAt the member is removed from the team
// again (a denial cannot be time-bound: EINVALID). An access request that
// is not pending (as last synced) is ENOTFOUND.
func (s *Service) RequestAccessDecision(ctx context.Context, actor sentryaccess.Actor, id string, approve bool, expiresAt *time.Time) (*Request, error) {
	if s.accessReqs == nil {
		return nil, fmt.Errorf("sentry access request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	ars, err := s.accessReqs.AccessRequests(ctx)
	if err != nil {
		return nil, fmt.Errorf("sentry access request %s: %w", id, err)
	}
	i := slices.IndexFunc(ars, func(ar sentry.AccessRequest) bool { return ar.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("sentry access request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	ar := ars[i]
	kind, verb := KindAccessRequestApprove, "Approve"
	if !approve {
		kind, verb = KindAccessRequestDeny, "Deny"
	}
	return s.Create(ctx, actor, NewRequest{
		Title:         fmt.Sprintf("%s Sentry access request: %s joins team %s", verb, ar.Member.Email, ar.Team.Slug),
		Justification: "Sentry team access request " + ar.ID,
		Steps: []Step{{Kind: kind, Params: Params{AccessRequest: ar.ID, Member: ar.Member.ID,
			Email: ar.Member.Email, Team: ar.Team.Slug}}},
		Source: SourceAccessRequest, ExpiresAt: expiresAt,
	})
}
