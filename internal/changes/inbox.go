package changes

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// InboxWindow is how far ahead the inbox lists expiring access.
const InboxWindow = 14 * 24 * time.Hour

// InboxRecent is how many recent requests the inbox lists.
const InboxRecent = 20

// Inbox is what the change-request inbox shows one actor: the requests
// waiting for her decision, her own, the most recent she may see,
// time-bound access about to expire and Sentry's own pending team access
// requests.
type Inbox struct {
	Actor sentryaccess.Actor
	// CanApprove reports whether the actor's role decides requests.
	CanApprove bool
	// AwaitingMe are requests pending approval that the actor may decide
	// (Policy.CanDecide).
	AwaitingMe []Request
	// Mine are the requests the actor filed, newest first.
	Mine []Request
	// Recent are the newest InboxRecent requests the actor may see
	// (Policy.CanView).
	Recent []Request
	// Expiring are active grants expiring within InboxWindow: every one for
	// an approver, a viewer's own otherwise.
	Expiring []Grant
	// AccessRequests are Sentry's pending team access requests as last
	// synced; AccessRequestsRead is false when they could not be read (no
	// sync has read them yet).
	AccessRequests     []PendingAccessRequest
	AccessRequestsRead bool
	// Stuck maps the id of each listed request pending approval that no
	// remaining known approver can approve to who could (Eligibility).
	Stuck map[string]Eligibility
	Now   time.Time
}

// PendingAccessRequest is one of Sentry's team access requests (a member
// asking to join a team under closed membership), with the change request
// already opened to decide it, if any.
type PendingAccessRequest struct {
	ID       string
	MemberID string
	Member   string // the member's email
	Team     string
	// Requester is who asked, when someone asked on the member's behalf.
	Requester string
	// OpenRequest is the id of the change request deciding it ("" if none).
	OpenRequest string
}

// Inbox builds actor's inbox at now.
func (s *Service) Inbox(ctx context.Context, actor sentryaccess.Actor, now time.Time) (Inbox, error) {
	in := Inbox{Actor: actor, CanApprove: s.policy.Decides(actor), Now: now}
	all, err := s.repo.ListRequests(ctx, RequestFilter{})
	if err != nil {
		return in, fmt.Errorf("inbox: %w", err)
	}
	open := map[string]string{} // Sentry access request id → open change request
	for i := range all {
		r := &all[i]
		if r.State == StatePendingApproval && in.CanApprove && s.policy.CanDecide(actor, r, nil) == nil {
			in.AwaitingMe = append(in.AwaitingMe, *r)
		}
		if strings.EqualFold(r.Requester, actor.Email) {
			in.Mine = append(in.Mine, *r)
		}
		if len(in.Recent) < InboxRecent && s.policy.CanView(actor, r) {
			in.Recent = append(in.Recent, *r)
		}
		if r.Source == SourceAccessRequest && !r.State.Final() {
			for _, st := range r.Steps {
				if st.Params.AccessRequest != "" {
					open[st.Params.AccessRequest] = r.ID
				}
			}
		}
	}
	if err := s.markStuck(ctx, &in, all); err != nil {
		return in, fmt.Errorf("inbox: %w", err)
	}
	gs, err := s.Upcoming(ctx, now, InboxWindow)
	if err != nil {
		return in, fmt.Errorf("inbox: %w", err)
	}
	for _, g := range gs {
		if in.CanApprove || strings.EqualFold(g.Requester, actor.Email) {
			in.Expiring = append(in.Expiring, g)
		}
	}
	if s.accessReqs == nil {
		return in, nil
	}
	ars, err := s.accessReqs.AccessRequests(ctx)
	if err != nil {
		// Not read yet (before the first full sync), or unreadable: the
		// inbox says so instead of failing.
		s.log.WarnContext(ctx, "read Sentry's access requests", "err", err)
		return in, nil
	}
	in.AccessRequestsRead = true
	for _, ar := range ars {
		p := PendingAccessRequest{ID: ar.ID, MemberID: ar.Member.ID, Member: ar.Member.Email, Team: ar.Team.Slug, OpenRequest: open[ar.ID]}
		if ar.Requester != nil {
			p.Requester = ar.Requester.Email
		}
		in.AccessRequests = append(in.AccessRequests, p)
	}
	return in, nil
}

// markStuck fills in.Stuck for the listed requests pending approval, from
// their stored previews.
func (s *Service) markStuck(ctx context.Context, in *Inbox, all []Request) error {
	if s.approvers == nil {
		return nil
	}
	known, err := s.approvers.KnownApprovers(ctx)
	if err != nil {
		return fmt.Errorf("known approvers: %w", err)
	}
	listed := map[string]bool{}
	for _, rs := range [][]Request{in.AwaitingMe, in.Mine, in.Recent} {
		for _, r := range rs {
			listed[r.ID] = true
		}
	}
	for i := range all {
		r := &all[i]
		if !listed[r.ID] || r.State != StatePendingApproval || len(r.Preview.Blocking()) > 0 {
			continue
		}
		if e := s.eligibilityAmong(known, r, nil); e.Stuck {
			if in.Stuck == nil {
				in.Stuck = map[string]Eligibility{}
			}
			in.Stuck[r.ID] = e
		}
	}
	return nil
}
