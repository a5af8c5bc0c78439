package changes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// ApproverDirectory is what the dashboard knows of the people who may
// decide requests. Dashboard roles come from the IdP at each sign-in, so
// the dashboard knows only those who have signed in, with the role of
// their last sign-in; nobody else in the IdP's approver group is known.
type ApproverDirectory interface {
	// KnownApprovers returns every known user whose last sign-in gave a
	// role that decides requests, in email order.
	KnownApprovers(ctx context.Context) ([]KnownApprover, error)
}

// KnownApprover is one person the dashboard knows may approve: the role
// of their last sign-in and when it was.
type KnownApprover struct {
	Email    string
	Name     string
	Role     sentryaccess.Role
	LastSeen time.Time
}

// Eligibility is who could still approve a request pending approval, as
// far as the dashboard knows: Needed approvals remain, Eligible known
// approvers may give them, Excluded may not (and why). Stuck reports that
// fewer known approvers may approve than approvals remain. Known is false
// when the dashboard keeps no record of its approvers (then nothing is
// said).
type Eligibility struct {
	Needed   int
	Eligible []KnownApprover
	Excluded []Ineligible
	Stuck    bool
	Known    bool
}

// Ineligible is a known approver who may not approve a request, and why.
type Ineligible struct {
	KnownApprover
	Why string
}

// Summary says who could approve, for the request page and the inbox.
func (e Eligibility) Summary() string {
	if !e.Known || e.Needed <= 0 {
		return ""
	}
	var who []string
	for _, a := range e.Eligible {
		who = append(who, a.Email)
	}
	switch {
	case !e.Stuck:
		return fmt.Sprintf("%s still needed; %s may give %s.", approvalsCount(e.Needed), strings.Join(who, ", "), pronoun(len(who)))
	case len(who) == 0:
		return fmt.Sprintf("No approver the dashboard knows of can approve this request, which needs %s more. The dashboard knows the approvers who have signed in; someone else in the IdP's approver or admin group, once signed in, could approve it.", approvalsCount(e.Needed))
	}
	return fmt.Sprintf("Only %s can still approve this request, which needs %s more. The dashboard knows the approvers who have signed in; someone else in the IdP's approver or admin group, once signed in, could give the rest.", strings.Join(who, ", "), approvalsCount(e.Needed))
}

func approvalsCount(n int) string {
	if n == 1 {
		return "1 approval"
	}
	return fmt.Sprintf("%d approvals", n)
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// eligibility works out who of the known approvers could still approve r,
// with live its preview on the current snapshot (nil: the stored one
// alone).
func (s *Service) eligibility(ctx context.Context, r *Request, live *Preview) (Eligibility, error) {
	if s.approvers == nil || r.State != StatePendingApproval {
		return Eligibility{}, nil
	}
	known, err := s.approvers.KnownApprovers(ctx)
	if err != nil {
		return Eligibility{}, fmt.Errorf("known approvers: %w", err)
	}
	return s.eligibilityAmong(known, r, live), nil
}

// eligibilityAmong is eligibility with the known approvers read.
func (s *Service) eligibilityAmong(known []KnownApprover, r *Request, live *Preview) Eligibility {
	required := max(r.Required, s.policy.Required(r.Steps, live))
	e := Eligibility{Known: true, Needed: required - len(r.Approvers())}
	for _, a := range known {
		actor := sentryaccess.Actor{Email: a.Email, Role: a.Role}
		if !s.policy.Decides(actor) {
			continue
		}
		if err := s.policy.CanDecide(actor, r, live); err != nil {
			e.Excluded = append(e.Excluded, Ineligible{KnownApprover: a, Why: sentryaccess.ErrorMessage(err)})
			continue
		}
		e.Eligible = append(e.Eligible, a)
	}
	slices.SortFunc(e.Eligible, func(a, b KnownApprover) int { return strings.Compare(a.Email, b.Email) })
	e.Stuck = len(e.Eligible) < e.Needed
	return e
}
