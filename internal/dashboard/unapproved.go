package dashboard

import (
	"context"

	"github.com/sentry-access/sentry-access/internal/notify"
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
