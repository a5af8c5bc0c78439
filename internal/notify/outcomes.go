package notify

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
)

// RequestPayload is the data of the change-request.applied, .denied and
// .failed events: the request with its justification, every decision,
// every step with Sentry's answer, and links into the dashboard.
type RequestPayload struct {
	ID            string            `json:"id"`
	Title         string            `json:"title"`
	State         changes.State     `json:"state"`
	Requester     string            `json:"requester"`
	Justification string            `json:"justification"`
	Source        changes.Source    `json:"source"`
	ExpiresAt     *time.Time        `json:"expiresAt,omitempty"`
	Decisions     []DecisionPayload `json:"decisions"`
	Steps         []StepPayload     `json:"steps"`
	Links         map[string]string `json:"links"`
}

// DecisionPayload is one approval or denial.
type DecisionPayload struct {
	Actor   string    `json:"actor"`
	Approve bool      `json:"approve"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// StepPayload is one step and how Sentry answered it.
type StepPayload struct {
	Step         int    `json:"step"` // from 1
	Kind         string `json:"kind"`
	Description  string `json:"description"`
	State        string `json:"state"`
	SentryStatus int    `json:"sentryStatus,omitempty"`
	SentryError  string `json:"sentryError,omitempty"`
}

// RequestFinished announces a change request that ended: applied,
// denied, or failed (in part or whole). Wire it to changes.Config.Finished.
// Other states announce nothing.
func (n *Notifier) RequestFinished(ctx context.Context, r *changes.Request) error {
	var kind EventKind
	var verb string
	switch r.State {
	case changes.StateApplied:
		kind, verb = EventRequestApplied, "was applied"
	case changes.StateDenied:
		kind, verb = EventRequestDenied, "was denied"
	case changes.StateFailed:
		kind, verb = EventRequestFailed, "failed"
	case changes.StatePartiallyFailed:
		kind, verb = EventRequestFailed, "partially failed"
	default:
		return nil
	}
	p := RequestPayload{ID: r.ID, Title: r.Title, State: r.State, Requester: r.Requester, Justification: r.Justification,
		Source: r.Source, ExpiresAt: r.ExpiresAt, Decisions: []DecisionPayload{}, Steps: []StepPayload{},
		Links: map[string]string{"request": n.link("/changes/" + url.PathEscape(r.ID))}}
	var lines []string
	for _, d := range r.Approvals {
		p.Decisions = append(p.Decisions, DecisionPayload{Actor: d.Actor, Approve: d.Approve, Comment: d.Comment, At: d.At})
		if !d.Approve {
			lines = append(lines, fmt.Sprintf("Denied by %s: %s", d.Actor, d.Comment))
		}
	}
	for _, st := range r.Steps {
		p.Steps = append(p.Steps, StepPayload{Step: st.Index + 1, Kind: string(st.Kind), Description: st.Describe(),
			State: string(st.State), SentryStatus: st.SentryStatus, SentryError: st.SentryError})
		if st.State == changes.StepFailed {
			lines = append(lines, fmt.Sprintf("Step %d (%s) failed: %s", st.Index+1, st.Describe(), st.SentryError))
		}
	}
	text := fmt.Sprintf("Requested by %s. Justification: %s", r.Requester, r.Justification)
	if len(lines) > 0 {
		text += "\n" + strings.Join(lines, "\n")
	}
	_, err := n.Publish(ctx, Event{
		Kind: kind, ID: r.ID, At: r.UpdatedAt,
		Title: fmt.Sprintf("Change request #%s %s: %s", r.ID, verb, r.Title),
		Text:  text, Link: p.Links["request"], Data: p,
	})
	return err
}

// UnapprovedPayload is the data of the access.unapproved event: the access
// changes one sync found that no change request sentry-access applied
// explains, with who made them as Sentry's audit log says.
type UnapprovedPayload struct {
	Snapshot uint64             `json:"snapshot"`
	Previous uint64             `json:"previous"`
	Changes  []UnapprovedChange `json:"changes"`
	Links    map[string]string  `json:"links"`
}

// UnapprovedChange is one change made outside sentry-access (the
// dashboard fills it from internal/unapproved's finding; the links are the
// notifier's).
type UnapprovedChange struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Member      string `json:"member,omitempty"` // email
	Team        string `json:"team,omitempty"`
	Project     string `json:"project,omitempty"`
	Setting     string `json:"setting,omitempty"`
	From        string `json:"from,omitempty"`
	To          string `json:"to,omitempty"`
	// Verdict is "unexplained", or "partial" with Remainder saying what the
	// requests of Requests (ids; ExplainedBy their links) leave unexplained.
	Verdict     string   `json:"verdict"`
	Remainder   string   `json:"remainder,omitempty"`
	Requests    []string `json:"-"`
	ExplainedBy []string `json:"explainedBy,omitempty"`
	// Audit is Sentry's audit entry for the change (nil when none is
	// visible); AuditText says it, or why there is none, in words.
	Audit     *AuditPayload `json:"audit"`
	AuditText string        `json:"auditText"`
	Link      string        `json:"link"`
}

// AuditPayload is a Sentry audit-log entry as a webhook cites it.
type AuditPayload struct {
	ID    string    `json:"id"`
	Event string    `json:"event"`
	Actor string    `json:"actor"`
	IP    string    `json:"ip,omitempty"`
	At    time.Time `json:"at"`
}

// UnapprovedChanges announces, in one event per snapshot, the changes made
// outside sentry-access that detection found in snapshot (compared with
// previous).
func (n *Notifier) UnapprovedChanges(ctx context.Context, snapshot, previous uint64, cs []UnapprovedChange) error {
	if len(cs) == 0 {
		return nil
	}
	p := UnapprovedPayload{Snapshot: snapshot, Previous: previous, Changes: make([]UnapprovedChange, 0, len(cs)),
		Links: map[string]string{"findings": n.link("/outside"), "diff": n.link(fmt.Sprintf("/snapshots/diff?from=%d&to=%d", previous, snapshot))}}
	var lines []string
	for _, c := range cs {
		c.Link = n.link("/outside/" + url.PathEscape(c.ID))
		c.ExplainedBy = nil
		for _, id := range c.Requests {
			c.ExplainedBy = append(c.ExplainedBy, n.link("/changes/"+url.PathEscape(id)))
		}
		p.Changes = append(p.Changes, c)
		if len(lines) < maxFindingLines {
			lines = append(lines, fmt.Sprintf("%s (%s)", c.Description, c.AuditText))
		}
	}
	if len(cs) > maxFindingLines {
		lines = append(lines, fmt.Sprintf("and %d more on the dashboard", len(cs)-maxFindingLines))
	}
	_, err := n.Publish(ctx, Event{
		Kind: EventUnapproved, ID: strconv.FormatUint(snapshot, 10),
		Title: fmt.Sprintf("%d access change(s) made outside sentry-access (snapshot %d)", len(cs), snapshot),
		Text:  strings.Join(lines, "\n"), Link: p.Links["findings"], Data: p,
	})
	return err
}
