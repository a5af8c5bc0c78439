package changes

import (
	"context"
	"fmt"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// AccessRequestLister lists Sentry's own pending access requests (team join
// requests under closed membership). *sentry.Client implements it.
type AccessRequestLister interface {
	AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error)
}

// SentryRequestPrefix starts the inbox id of a Sentry access request.
const SentryRequestPrefix = "sentry:"

// SentryAccessRequests lists Sentry's pending access requests as inbox
// entries: unsaved requests (ID "sentry:<id>", source
// "sentry-access-request", one approver) whose single step approves the
// request. Decide on them with DecideSentryAccessRequest.
func (s *Service) SentryAccessRequests(ctx context.Context) ([]Request, error) {
	if s.accessReqs == nil {
		return nil, nil
	}
	ars, err := s.accessReqs.AccessRequests(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sentry access requests: %w", err)
	}
	out := make([]Request, 0, len(ars))
	for _, ar := range ars {
		out = append(out, *s.fromAccessRequest(ar, true))
	}
	return out, nil
}

func (s *Service) fromAccessRequest(ar sentry.AccessRequest, approve bool) *Request {
	kind := KindAccessRequestApprove
	if !approve {
		kind = KindAccessRequestDeny
	}
	requester := ar.Member.Email
	if ar.Requester != nil && ar.Requester.Email != "" {
		requester = ar.Requester.Email
	}
	now := s.now().UTC()
	return &Request{
		ID:        SentryRequestPrefix + ar.ID,
		Title:     fmt.Sprintf("%s asks to join team %s", ar.Member.Email, ar.Team.Slug),
		Requester: requester, RequesterRole: sentryaccess.RoleViewer,
		Steps: []Step{{Kind: kind, State: StepPending, Params: Params{
			AccessRequest: ar.ID, Member: ar.Member.ID, Email: ar.Member.Email, Team: ar.Team.Slug}}},
		CreatedAt: now, UpdatedAt: now, State: StatePendingApproval,
		Source: SourceAccessRequest, Required: 1,
	}
}

// DecideSentryAccessRequest approves or denies one of Sentry's access
// requests through the same flow as any change: the decision is recorded
// (a comment is required to deny), the request is stored with its preview,
// and the step is applied in Sentry. id is the Sentry access request id,
// with or without the "sentry:" prefix. Errors are ENOTFOUND (no such
// pending request), EFORBIDDEN or EINVALID.
func (s *Service) DecideSentryAccessRequest(ctx context.Context, actor sentryaccess.Actor, id string, approve bool, comment string) (*Request, error) {
	id = strings.TrimPrefix(id, SentryRequestPrefix)
	if !approve && strings.TrimSpace(comment) == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "A denial needs a comment")
	}
	if s.accessReqs == nil {
		return nil, fmt.Errorf("sentry access request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	ars, err := s.accessReqs.AccessRequests(ctx)
	if err != nil {
		return nil, fmt.Errorf("decide sentry access request %s: %w", id, err)
	}
	var r *Request
	for _, ar := range ars {
		if ar.ID == id {
			r = s.fromAccessRequest(ar, approve)
		}
	}
	if r == nil {
		return nil, fmt.Errorf("sentry access request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	r.ID = ""
	if err := s.policy.CanDecide(actor, r); err != nil {
		return nil, err
	}
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("decide sentry access request %s: snapshot: %w", id, err)
	}
	if self, ok := memberByEmail(snap, actor.Email); ok && targetsMember(r.Steps, self.ID) >= 0 {
		return nil, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody decides on their own access request")
	}
	pv, err := s.preview.Preview(snap, r.Steps, r.Requester)
	if err != nil {
		return nil, fmt.Errorf("decide sentry access request %s: preview: %w", id, err)
	}
	now := s.now().UTC()
	pv.ComputedAt = now
	if b := pv.Blocking(); approve && len(b) > 0 {
		return nil, blockingError(b)
	}
	r.Preview = &pv
	r.State = StateApproved
	r.Steps[0].State = StepApproved
	r.Approvals = []Decision{{Actor: actor.Email, Role: actor.Role, Approve: approve, Comment: comment, At: now}}
	kind := TrailRequestApproved
	if !approve {
		kind = TrailRequestDenied
	}
	trail := []TrailRecord{
		{At: now, Actor: r.Requester, Kind: TrailRequestCreated, After: summarize(r), Comment: "Sentry access request " + id},
		{At: now, Actor: actor.Email, Kind: kind, Before: string(StatePendingApproval), After: string(StateApproved), Comment: comment},
	}
	if err := s.repo.CreateRequest(ctx, r, trail); err != nil {
		return nil, fmt.Errorf("decide sentry access request %s: %w", id, err)
	}
	return s.Apply(ctx, r.ID)
}
