package unapproved

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Requests is the change-request service as detection and revert use it
// (*changes.Service).
type Requests interface {
	List(ctx context.Context, f changes.RequestFilter) ([]changes.Request, error)
	Get(ctx context.Context, id string) (*changes.Request, error)
	Create(ctx context.Context, actor sentryaccess.Actor, in changes.NewRequest) (*changes.Request, error)
	PreviewDraft(ctx context.Context, actor sentryaccess.Actor, steps []changes.Step) (changes.Draft, error)
}

// Archive is the archived Sentry audit log (*store.Store).
type Archive interface {
	AuditEntries(ctx context.Context, f store.AuditFilter) ([]sentry.AuditLogEntry, string, error)
}

// Announcer tells subscribers of new findings (the notifier); it must
// not block.
type Announcer interface {
	UnapprovedChanges(ctx context.Context, fs []Finding) error
}

// SourceRevert marks the change requests that revert a change made
// outside sentry-access.
const SourceRevert changes.Source = "unapproved-revert"

// AuditSkew widens a finding's time window when its audit entry is looked
// up: Sentry's clock and the dashboard's may differ.
const AuditSkew = 5 * time.Minute

// Config wires a Service. Repo, Requests and Archive are required.
type Config struct {
	Repo     Repo
	Requests Requests
	Archive  Archive
	// Current returns the current snapshot (revert steps are built
	// against it).
	Current  func(ctx context.Context) (*access.Snapshot, error)
	Announce Announcer
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service detects changes made outside sentry-access after each sync and
// records what approvers do about them. Its reads are served from a copy
// of the findings kept in memory, refreshed after every write.
type Service struct {
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	cache atomic.Pointer[[]Finding]
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{cfg: cfg, now: cfg.Now, log: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Sync is what one sync hands detection: the snapshot it saved and the
// one before it, their diff, and when each sync ran.
type Sync struct {
	Snapshot, Previous uint64
	// PreviousStarted is when the sync of Previous began; Started and
	// Ended bound this one. Changes between the two snapshots happened
	// after PreviousStarted and before Ended.
	PreviousStarted time.Time
	Started, Ended  time.Time
	Before, After   *access.Snapshot
	Diff            *access.SnapshotDiff
	// AuditError says why the sync could not read Sentry's audit log (""
	// when it could).
	AuditError string
}

// Detect matches the access changes of s against the change requests
// sentry-access carried out and records a finding for each change no
// request explains in whole, and for each applied step the new snapshot
// shows undone. It returns the new findings. The first snapshot
// (Previous 0) has nothing to compare: no findings. Detecting the same
// snapshot again records nothing. Findings detected before are then
// brought up to date: an audit entry archived since is attached, and a
// revert request that was applied (or ended without being applied)
// settles its finding.
func (s *Service) Detect(ctx context.Context, sy Sync) ([]Finding, error) {
	defer s.cache.Store(nil)
	var fresh []Finding
	if sy.Previous != 0 && sy.Diff != nil && sy.After != nil {
		var err error
		if fresh, err = s.detect(ctx, sy); err != nil {
			return nil, err
		}
	}
	if err := s.settle(ctx, sy); err != nil {
		return fresh, err
	}
	if len(fresh) > 0 && s.cfg.Announce != nil {
		if err := s.cfg.Announce.UnapprovedChanges(ctx, fresh); err != nil {
			return fresh, fmt.Errorf("announce changes made outside sentry-access: %w", err)
		}
	}
	return fresh, nil
}

func (s *Service) detect(ctx context.Context, sy Sync) ([]Finding, error) {
	cs := Changes(sy.Diff, sy.Before, sy.After)
	carried, applied, err := s.applied(ctx, sy)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, e := range Explain(cs, carried, Pair{Before: sy.Before, After: sy.After}) {
		if e.Flagged() {
			out = append(out, Finding{Change: e.Change, Verdict: e.Verdict, By: e.By, Remainder: e.Remainder, Approved: e.Approved})
		}
	}
	for _, c := range Undone(applied, sy.After, cs) {
		out = append(out, Finding{Change: c, Verdict: Unexplained, By: []StepRef{*c.Undone}})
	}
	if len(out) == 0 {
		return nil, nil
	}
	now := s.now().UTC()
	for i := range out {
		f := &out[i]
		f.Snapshot, f.Previous, f.From, f.To = sy.Snapshot, sy.Previous, sy.PreviousStarted.UTC(), sy.Ended.UTC()
		f.DetectedAt, f.UpdatedAt, f.State = now, now, StateOpen
		if sy.AuditError != "" {
			f.AuditStatus, f.AuditReason = AuditNotVisible, auditReason(sy.AuditError)
			continue
		}
		if err := s.cite(ctx, f); err != nil {
			return nil, err
		}
	}
	stored, err := s.cfg.Repo.Record(ctx, sy.Snapshot, out)
	if err != nil {
		return nil, fmt.Errorf("record changes made outside sentry-access: %w", err)
	}
	if !stored {
		return nil, nil
	}
	return out, nil
}

// applied returns the steps carried out between the two syncs (they may
// explain the diff), and of those the applied ones that finished before
// this sync began, in the order they finished (their effect must show).
func (s *Service) applied(ctx context.Context, sy Sync) (carried, applied []Applied, err error) {
	rs, err := s.cfg.Requests.List(ctx, changes.RequestFilter{States: []changes.State{
		changes.StateApplying, changes.StateApplied, changes.StatePartiallyFailed, changes.StateFailed}})
	if err != nil {
		return nil, nil, fmt.Errorf("list applied change requests: %w", err)
	}
	for _, r := range rs {
		for _, st := range r.Steps {
			if !Carried(st, sy.PreviousStarted, sy.Ended) {
				continue
			}
			a := Applied{Request: r.ID, Step: st}
			carried = append(carried, a)
			if st.State == changes.StepApplied && st.FinishedAt != nil && st.FinishedAt.Before(sy.Started) {
				applied = append(applied, a)
			}
		}
	}
	slices.SortStableFunc(applied, func(a, b Applied) int { return a.Step.FinishedAt.Compare(*b.Step.FinishedAt) })
	return carried, applied, nil
}

// cite looks up the archived audit entry that records f's change in its
// time window.
func (s *Service) cite(ctx context.Context, f *Finding) error {
	var entries []sentry.AuditLogEntry
	for _, ev := range AuditEvents(f.Change) {
		page, _, err := s.cfg.Archive.AuditEntries(ctx, store.AuditFilter{Event: ev,
			From: f.From.Add(-AuditSkew), To: f.To.Add(AuditSkew), Limit: 1000})
		if err != nil {
			return fmt.Errorf("audit entries for %s: %w", f.Change.Key(), err)
		}
		entries = append(entries, page...)
	}
	if e := AuditFor(f.Change, entries); e != nil {
		c := CiteAudit(*e)
		f.Audit, f.AuditStatus = &c, AuditFound
		return nil
	}
	f.AuditStatus = AuditNone
	return nil
}

// settle brings earlier findings up to date after a sync: audit entries
// archived since, and revert requests that ended.
func (s *Service) settle(ctx context.Context, sy Sync) error {
	all, err := s.cfg.Repo.Findings(ctx)
	if err != nil {
		return fmt.Errorf("read changes made outside sentry-access: %w", err)
	}
	var errs []error
	for _, f := range all {
		switch {
		case f.Snapshot == sy.Snapshot:
		case f.State == StateOpen && f.AuditStatus == AuditNone && sy.AuditError == "":
			c := f
			if err := s.cite(ctx, &c); err != nil {
				errs = append(errs, err)
				continue
			}
			if c.AuditStatus == AuditFound {
				_, err := s.cfg.Repo.Update(ctx, f.ID, func(g *Finding) ([]changes.TrailRecord, error) {
					g.Audit, g.AuditStatus = c.Audit, c.AuditStatus
					return nil, nil
				})
				errs = append(errs, err)
			}
		case f.State == StateReverting:
			errs = append(errs, s.settleRevert(ctx, f))
		}
	}
	return errors.Join(errs...)
}

// settleRevert marks a reverting finding reverted once its request is
// applied, and open again when the request ended otherwise.
func (s *Service) settleRevert(ctx context.Context, f Finding) error {
	r, err := s.cfg.Requests.Get(ctx, f.RevertRequest)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		r, err = &changes.Request{ID: f.RevertRequest, State: changes.StateCancelled}, nil
	}
	if err != nil {
		return fmt.Errorf("revert request of %s: %w", f.ID, err)
	}
	if !r.State.Final() {
		return nil
	}
	now := s.now().UTC()
	_, err = s.cfg.Repo.Update(ctx, f.ID, func(g *Finding) ([]changes.TrailRecord, error) {
		if g.State != StateReverting || g.RevertRequest != r.ID {
			return nil, nil
		}
		rec := changes.TrailRecord{At: now, Actor: changes.SystemActor, RequestID: r.ID, Before: g.subject()}
		if r.State == changes.StateApplied {
			g.State, g.RevertedAt, rec.Kind, rec.After = StateReverted, &now, TrailReverted, "reverted by change request #"+r.ID
		} else {
			g.State, rec.Kind, rec.After = StateOpen, TrailReopened, fmt.Sprintf("open again: revert request #%s is %s", r.ID, r.State)
		}
		g.UpdatedAt = now
		return []changes.TrailRecord{rec}, nil
	})
	return err
}

// subject is the finding as the trail names it.
func (f *Finding) subject() string {
	return fmt.Sprintf("change made outside sentry-access %s: %s", f.ID, f.Change.Describe())
}

// findings returns every finding, from memory when nothing was written
// since the last read.
func (s *Service) findings(ctx context.Context) ([]Finding, error) {
	if p := s.cache.Load(); p != nil {
		return *p, nil
	}
	all, err := s.cfg.Repo.Findings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read changes made outside sentry-access: %w", err)
	}
	s.cache.Store(&all)
	return all, nil
}

// Filter selects findings; the zero Filter selects the flagged ones.
type Filter struct {
	// All selects accepted and reverted findings too.
	All     bool
	Member  string // member id
	Team    string // team slug
	Project string // project slug
	// After and Upto select the findings of snapshots in (After, Upto];
	// zero Upto means no bound.
	After, Upto uint64
}

func (f Filter) match(x *Finding) bool {
	c := x.Change
	switch {
	case !f.All && !x.State.Flagged():
	case f.Member != "" && c.Member != f.Member:
	case f.Team != "" && c.Team != f.Team:
	case f.Project != "" && c.Project != f.Project && !slices.Contains(c.Projects, f.Project):
	case x.Snapshot <= f.After:
	case f.Upto != 0 && x.Snapshot > f.Upto:
	default:
		return true
	}
	return false
}

// List returns the findings f selects, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Finding, error) {
	all, err := s.findings(ctx)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for i := range all {
		if f.match(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// ReviewWindow is how far back an access review's evidence lists the
// changes made outside sentry-access: a quarter.
const ReviewWindow = 90 * 24 * time.Hour

// ForReview returns the findings a closing access review records: every
// one still flagged, and every one detected in the ReviewWindow before at
// whatever its state, newest first.
func (s *Service) ForReview(ctx context.Context, at time.Time) ([]Finding, error) {
	all, err := s.findings(ctx)
	if err != nil {
		return nil, err
	}
	since := at.Add(-ReviewWindow)
	var out []Finding
	for _, f := range all {
		if f.State.Flagged() || (!f.DetectedAt.Before(since) && !f.DetectedAt.After(at)) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Get returns finding id (ENOTFOUND when there is none).
func (s *Service) Get(ctx context.Context, id string) (*Finding, error) {
	all, err := s.findings(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			f := all[i]
			return &f, nil
		}
	}
	return nil, sentryaccess.Errorf(sentryaccess.ENOTFOUND, "No change made outside sentry-access has the id %q.", id)
}

// MaxNote bounds an acceptance note and a revert justification.
const MaxNote = 4000

// mayDecide checks that actor may answer finding f: an approver or admin,
// not about her own access, and not the person Sentry's audit log names
// as having made the change.
func mayDecide(actor sentryaccess.Actor, f *Finding) error {
	if !actor.Role.AtLeast(sentryaccess.RoleApprover) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Only approvers and admins answer changes made outside sentry-access.")
	}
	if actor.Email != "" && strings.EqualFold(actor.Email, f.Change.Email) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "This change is to your own access (%s): another approver answers it.", actor.Email)
	}
	if a := f.Audit; a != nil && actor.Email != "" && strings.Contains(strings.ToLower(a.Actor), strings.ToLower(actor.Email)) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Sentry's audit log says you made this change (%s): another approver answers it.", actor.Email)
	}
	return nil
}

func checkNote(note, what string) (string, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return "", sentryaccess.Errorf(sentryaccess.EINVALID, "%s needs a note saying why.", what)
	}
	if n := utf8.RuneCountInString(note); n > MaxNote {
		return "", sentryaccess.Errorf(sentryaccess.EINVALID, "The note has %d characters, at most %d are kept.", n, MaxNote)
	}
	return note, nil
}

// Accept records actor's acceptance of finding id with a note, in the
// dashboard's audit trail too: the change stops being flagged. Errors:
// EFORBIDDEN (not an approver; her own access; she made it), EINVALID
// (no note), ECONFLICT (not open: accepted, or a revert request filed),
// ENOTFOUND.
func (s *Service) Accept(ctx context.Context, actor sentryaccess.Actor, id, note string) (*Finding, error) {
	note, err := checkNote(note, "Accepting a change")
	if err != nil {
		return nil, err
	}
	defer s.cache.Store(nil)
	now := s.now().UTC()
	f, err := s.cfg.Repo.Update(ctx, id, func(f *Finding) ([]changes.TrailRecord, error) {
		if err := mayDecide(actor, f); err != nil {
			return nil, err
		}
		if f.State != StateOpen {
			return nil, notOpen(f)
		}
		f.State, f.UpdatedAt = StateAccepted, now
		f.Accepted = &Decision{By: actor.Email, Role: actor.Role, Note: note, At: now}
		return []changes.TrailRecord{{At: now, Actor: actor.Email, Kind: TrailAccepted, Before: f.subject(),
			After: "accepted", Comment: note}}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("accept %s: %w", id, err)
	}
	return f, nil
}

func notOpen(f *Finding) error {
	switch f.State {
	case StateAccepted:
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "This change was accepted by %s already.", f.Accepted.By)
	case StateReverting:
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Change request #%s reverts this change already: decide on it, or cancel it first.", f.RevertRequest)
	}
	return sentryaccess.Errorf(sentryaccess.ECONFLICT, "This change was reverted by change request #%s.", f.RevertRequest)
}

// RevertDraft is the prefilled change request that reverts a finding:
// its steps with their preview, a title and a justification to edit.
type RevertDraft struct {
	Finding       *Finding
	Title         string
	Justification string
	Draft         changes.Draft
}

// DraftRevert prefills the change request reverting finding id for
// actor. Errors: as Revert, and EINVALID when no change request can
// revert it (the sentence says what to do instead).
func (s *Service) DraftRevert(ctx context.Context, actor sentryaccess.Actor, id string) (RevertDraft, error) {
	f, steps, err := s.revertSteps(ctx, actor, id)
	if err != nil {
		return RevertDraft{}, err
	}
	d, err := s.cfg.Requests.PreviewDraft(ctx, actor, steps)
	if err != nil {
		return RevertDraft{}, err
	}
	return RevertDraft{Finding: f, Title: revertTitle(f), Justification: revertJustification(f), Draft: d}, nil
}

func (s *Service) revertSteps(ctx context.Context, actor sentryaccess.Actor, id string) (*Finding, []changes.Step, error) {
	f, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := mayDecide(actor, f); err != nil {
		return nil, nil, err
	}
	if f.State != StateOpen {
		return nil, nil, notOpen(f)
	}
	if s.cfg.Current == nil {
		return nil, nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "No snapshot to build the revert against.")
	}
	cur, err := s.cfg.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	steps, err := RevertSteps(f, cur)
	if err != nil {
		return nil, nil, err
	}
	for i := range steps {
		steps[i].Index = i
	}
	return f, steps, nil
}

func revertTitle(f *Finding) string {
	t := "Revert: " + f.Change.Describe()
	if utf8.RuneCountInString(t) > changes.MaxTitle {
		t = string([]rune(t)[:changes.MaxTitle-1]) + "…"
	}
	return t
}

func revertJustification(f *Finding) string {
	return fmt.Sprintf("Revert a change made outside sentry-access (finding %s, snapshot %d): %s. %s.",
		f.ID, f.Snapshot, f.Change.Describe(), upperFirst(f.AuditText()))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// Revert files the change request that reverts finding id (the steps
// DraftRevert showed, built again against the current snapshot) with
// actor's title and justification, and marks the finding reverting: it
// stays flagged until the request is applied. The request goes through
// approval like any other. Errors: EFORBIDDEN (as Accept), EINVALID (no
// justification, or no request can revert it), ECONFLICT (not open),
// ENOTFOUND, and the change service's.
func (s *Service) Revert(ctx context.Context, actor sentryaccess.Actor, id, title, justification string) (*changes.Request, error) {
	justification, err := checkNote(justification, "A revert request")
	if err != nil {
		return nil, err
	}
	f, steps, err := s.revertSteps(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	r, err := s.cfg.Requests.Create(ctx, actor, changes.NewRequest{Title: cmp.Or(strings.TrimSpace(title), revertTitle(f)),
		Justification: justification, Steps: steps, Source: SourceRevert})
	if err != nil {
		return nil, err
	}
	defer s.cache.Store(nil)
	now := s.now().UTC()
	_, err = s.cfg.Repo.Update(ctx, id, func(f *Finding) ([]changes.TrailRecord, error) {
		f.State, f.RevertRequest, f.UpdatedAt = StateReverting, r.ID, now
		return []changes.TrailRecord{{At: now, Actor: actor.Email, Kind: TrailRevertRequested, RequestID: r.ID,
			Before: f.subject(), After: "revert requested", Comment: justification}}, nil
	})
	if err != nil {
		return r, fmt.Errorf("revert %s: request #%s filed, finding not marked: %w", id, r.ID, err)
	}
	return r, nil
}

// StepAudit is a step sentry-access carried out with the Sentry audit
// entry that records it, as the request page links them.
type StepAudit struct {
	Step int // index
	// Entry is the archived entry; nil when none is archived (yet).
	Entry *AuditEntry
	// Missing says why no entry is shown, in words.
	Missing string
}

// RequestAudit links the steps of request r that sentry-access sent to
// Sentry with the audit entries Sentry wrote for them: an entry of the
// step's event naming its member, team or project, between the step's
// start and finish (AuditSkew either side). Steps never sent, and kinds
// the audit log does not record as this package reads it, are left out.
func (s *Service) RequestAudit(ctx context.Context, r *changes.Request) ([]StepAudit, error) {
	var out []StepAudit
	for _, st := range r.Steps {
		if st.StartedAt == nil || st.Attempts == 0 {
			continue
		}
		c, ok := StepChange(st)
		if !ok {
			continue
		}
		end := *st.StartedAt
		if st.FinishedAt != nil {
			end = *st.FinishedAt
		}
		from, to := st.StartedAt.Add(-AuditSkew), end.Add(AuditSkew)
		var entries []sentry.AuditLogEntry
		for _, ev := range AuditEvents(c) {
			page, _, err := s.cfg.Archive.AuditEntries(ctx, store.AuditFilter{Event: ev, From: from, To: to, Limit: 1000})
			if err != nil {
				return nil, fmt.Errorf("audit entries of request %s: %w", r.ID, err)
			}
			entries = append(entries, page...)
		}
		sa := StepAudit{Step: st.Index}
		if e := AuditFor(c, entries); e != nil {
			cited := CiteAudit(*e)
			sa.Entry = &cited
		} else {
			sa.Missing = fmt.Sprintf("No entry between %s and %s in the archived audit log yet: the archive is read at each sync (and needs org:write).",
				from.UTC().Format("15:04"), to.UTC().Format("15:04 UTC"))
		}
		out = append(out, sa)
	}
	return out, nil
}
