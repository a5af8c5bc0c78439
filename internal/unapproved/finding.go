package unapproved

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// State is where a finding is in its life: open → accepted, or open →
// reverting → reverted (back to open when the revert request is denied,
// cancelled or fails).
type State string

// Finding states.
const (
	StateOpen      State = "open"
	StateAccepted  State = "accepted"
	StateReverting State = "reverting"
	StateReverted  State = "reverted"
)

// Flagged reports whether a finding in state s is still shown as made
// outside sentry-access (open, or its revert not yet applied).
func (s State) Flagged() bool { return s == StateOpen || s == StateReverting }

// Audit statuses: whether Sentry's audit log names who made a change.
const (
	// AuditFound: Audit is the entry.
	AuditFound = "found"
	// AuditNone: the archive holds no entry for it in its time window
	// (looked up again after later syncs, which may archive it).
	AuditNone = "none"
	// AuditNotVisible: Sentry refused the audit log; AuditReason says why.
	AuditNotVisible = "not-visible"
)

// Finding is a change made outside sentry-access, in whole or in part, as
// detected in snapshot Snapshot (compared with Previous), and what the
// approvers did about it.
type Finding struct {
	// ID is "<snapshot>-<n>", n counting the snapshot's findings from 1.
	ID       string `json:"id"`
	Snapshot uint64 `json:"snapshot"`
	Previous uint64 `json:"previous"`
	// From and To bound when the change happened: the previous snapshot's
	// sync began at From, this one's ended at To.
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	DetectedAt time.Time `json:"detectedAt"`
	Change     Change    `json:"change"`
	// Verdict is Unexplained or Partial; By are the steps that explain a
	// partial one in part, Remainder what they leave unexplained.
	Verdict   Verdict   `json:"verdict"`
	By        []StepRef `json:"by,omitempty"`
	Remainder string    `json:"remainder,omitempty"`
	// Approved is the role the explaining steps asked for (partial).
	Approved string `json:"approved,omitempty"`
	// AuditStatus says whether Audit names who made the change.
	AuditStatus string      `json:"auditStatus"`
	Audit       *AuditEntry `json:"audit,omitempty"`
	AuditReason string      `json:"auditReason,omitempty"`

	State State `json:"state"`
	// Accepted is the approver's acceptance, with her note.
	Accepted *Decision `json:"accepted,omitempty"`
	// RevertRequest is the change request filed to revert it; Reverted is
	// when it was seen applied.
	RevertRequest string     `json:"revertRequest,omitempty"`
	RevertedAt    *time.Time `json:"revertedAt,omitempty"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// Decision is an approver's answer to a finding.
type Decision struct {
	By   string            `json:"by"`
	Role sentryaccess.Role `json:"role"`
	Note string            `json:"note"`
	At   time.Time         `json:"at"`
}

// AuditText says who made the change in words: the audit entry's actor,
// time and IP, or why none is shown.
func (f *Finding) AuditText() string {
	switch f.AuditStatus {
	case AuditFound:
		if a := f.Audit; a != nil {
			s := fmt.Sprintf("%s by %s at %s", a.Event, a.Actor, a.At.Format("2006-01-02 15:04 UTC"))
			if a.IP != "" {
				s += " from " + a.IP
			}
			return s
		}
	case AuditNotVisible:
		return "no audit entry visible: " + f.AuditReason
	}
	return fmt.Sprintf("no entry in Sentry's audit log between %s and %s records it",
		f.From.UTC().Format("2006-01-02 15:04"), f.To.UTC().Format("2006-01-02 15:04 UTC"))
}

// auditReason says why Sentry refused the audit log, from the sync's
// error (Sentry's audit-log endpoint needs org:write,
// OrganizationAuditPermission; plans without audit logs are refused too).
func auditReason(syncErr string) string {
	low := strings.ToLower(syncErr)
	if strings.Contains(low, "feature") || strings.Contains(low, "plan") || strings.Contains(low, "subscription") {
		return "the organization's plan does not include Sentry's audit log"
	}
	if strings.Contains(low, "403") || strings.Contains(low, "forbidden") {
		return "the token lacks org:write, which Sentry's audit log needs"
	}
	return "Sentry's audit log could not be read during the sync"
}

// Repo persists findings. Every method is one transaction. Implemented on
// the store by StoreRepo.
type Repo interface {
	// Record stores the findings of snapshot id, assigning their IDs, and
	// reports false (storing nothing) when the snapshot's findings were
	// recorded before: detection runs once per snapshot.
	Record(ctx context.Context, snapshot uint64, fs []Finding) (bool, error)
	// Findings returns every finding, newest snapshot first.
	Findings(ctx context.Context) ([]Finding, error)
	// Update reads finding id, calls fn on it and, if fn returns no
	// error, writes it back and appends the trail records fn returned to
	// the dashboard's audit trail, in one transaction. Errors: ENOTFOUND,
	// or fn's error unchanged.
	Update(ctx context.Context, id string, fn func(*Finding) ([]changes.TrailRecord, error)) (*Finding, error)
}

// Trail kinds of the findings' records in the dashboard's audit trail.
const (
	TrailAccepted        changes.TrailKind = "unapproved.accepted"
	TrailRevertRequested changes.TrailKind = "unapproved.revert-requested"
	TrailReverted        changes.TrailKind = "unapproved.reverted"
	TrailReopened        changes.TrailKind = "unapproved.reopened"
)

// Text is the state in words.
func (s State) Text() string {
	switch s {
	case StateAccepted:
		return "accepted"
	case StateReverting:
		return "revert requested"
	case StateReverted:
		return "reverted"
	}
	return "open"
}

// AnswerText says how the approvers answered f, in words ("" while open).
func (f *Finding) AnswerText() string {
	switch f.State {
	case StateAccepted:
		if a := f.Accepted; a != nil {
			return fmt.Sprintf("accepted by %s at %s: %s", a.By, a.At.UTC().Format("2006-01-02 15:04 UTC"), a.Note)
		}
	case StateReverting:
		return "revert requested in change request #" + f.RevertRequest
	case StateReverted:
		return "reverted by change request #" + f.RevertRequest
	}
	return ""
}

// VerdictText says how much of the change was made outside sentry-access.
func (f *Finding) VerdictText() string {
	if f.Verdict == Partial {
		return "partly outside sentry-access"
	}
	return "made outside sentry-access"
}
