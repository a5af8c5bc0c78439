package dashboard

import (
	"context"
	"time"

	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/unapproved"
)

// announceUnapproved tells the webhooks of the changes made outside
// sentry-access that detection found (unapproved.Announcer).
type announceUnapproved struct{ n *notify.Notifier }

// UnapprovedChanges publishes one access.unapproved event for the
// findings of one snapshot.
func (a announceUnapproved) UnapprovedChanges(ctx context.Context, fs []unapproved.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	cs := make([]notify.UnapprovedChange, len(fs))
	for i, f := range fs {
		c := f.Change
		cs[i] = notify.UnapprovedChange{ID: f.ID, Kind: string(c.Kind), Description: c.Describe(), Member: c.Email,
			Team: c.Team, Project: c.Project, Setting: c.Setting, From: c.From, To: c.To,
			Verdict: string(f.Verdict), Remainder: f.Remainder, AuditText: f.AuditText()}
		for _, b := range f.By {
			cs[i].Requests = append(cs[i].Requests, b.Request)
		}
		if e := f.Audit; e != nil {
			cs[i].Audit = &notify.AuditPayload{ID: e.ID, Event: e.Event, Actor: e.Actor, IP: e.IP, At: e.At}
		}
	}
	return a.n.UnapprovedChanges(ctx, fs[0].Snapshot, fs[0].Previous, cs)
}

// reviewOutside is what a closing access review records of the changes
// made outside sentry-access (review.Config.Outside).
func reviewOutside(u *unapproved.Service) func(ctx context.Context, at time.Time) ([]review.OutsideChange, error) {
	return func(ctx context.Context, at time.Time) ([]review.OutsideChange, error) {
		fs, err := u.ForReview(ctx, at)
		if err != nil {
			return nil, err
		}
		out := make([]review.OutsideChange, len(fs))
		for i, f := range fs {
			out[i] = review.OutsideChange{ID: f.ID, Snapshot: f.Snapshot, DetectedAt: f.DetectedAt.UTC(), Change: f.Change.Describe(),
				Member: f.Change.Email, Verdict: f.VerdictText(), Audit: f.AuditText(), State: f.State.Text(), Answer: f.AnswerText()}
		}
		return out, nil
	}
}
