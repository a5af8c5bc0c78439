package unapproved_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/unapproved"
)

// world is a store in t.TempDir, the real change-request service (its
// steps carried out by an executor that always succeeds) and detection
// over hand-built snapshots, on one clock.
type world struct {
	t        *testing.T
	st       *store.Store
	changes  *changes.Service
	svc      *unapproved.Service
	mu       sync.Mutex
	now      time.Time
	cur      *access.Snapshot
	snapID   uint64
	started  time.Time
	announce [][]unapproved.Finding
}

func (w *world) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) tick(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func (w *world) Current(context.Context) (*access.Snapshot, error) { return w.cur, nil }

func (w *world) UnapprovedChanges(_ context.Context, fs []unapproved.Finding) error {
	w.announce = append(w.announce, fs)
	return nil
}

type okExecutor struct{}

func (okExecutor) Execute(context.Context, changes.Step) (changes.Outcome, error) {
	return changes.Outcome{Status: 200, Result: "done"}, nil
}
func (okExecutor) Verify(context.Context, changes.Step) (bool, error) { return true, nil }

var (
	anna    = sentryaccess.Actor{Email: "anna.approver@acme.test", Role: sentryaccess.RoleApprover}
	alex    = sentryaccess.Actor{Email: "alex.admin@acme.test", Role: sentryaccess.RoleAdmin}
	vic     = sentryaccess.Actor{Email: "vic.viewer@acme.test", Role: sentryaccess.RoleViewer}
	base    = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	owenIP  = "203.0.113.7"
	ownerID = "9"
)

// org is the demo pair's first snapshot: paul on payments, the owner owen.
func org() *access.Snapshot {
	return &access.Snapshot{
		Members: []access.Member{
			{ID: "1", Email: "paul@acme.test", UserID: "11", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments"}}},
			{ID: "2", Email: "wendy@acme.test", UserID: "12", OrgRole: "member", State: access.StateActive},
			{ID: ownerID, Email: "owen@acme.test", UserID: "19", OrgRole: "owner", State: access.StateActive},
		},
		Teams:    []access.Team{{ID: "100", Slug: "payments"}, {ID: "101", Slug: "web"}},
		Projects: []access.Project{{Slug: "payment-api", Teams: []string{"payments"}}, {Slug: "website", Teams: []string{"web"}}},
		Caller:   access.ActingIdentity{Kind: access.CallerUser, MemberID: ownerID},
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, now: base, cur: org()}
	st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{Now: w.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w.st = st
	w.changes = changes.New(changes.Config{Repo: changes.NewStoreRepo(st), Snapshots: w, Previewer: changes.EnginePreviewer{},
		Executor: okExecutor{}, Now: w.Now, Background: func(fn func()) { fn() }})
	w.svc = unapproved.New(unapproved.Config{Repo: unapproved.StoreRepo{Records: st.Unapproved()}, Requests: w.changes,
		Archive: st, Current: w.Current, Announce: w, Now: w.Now})
	w.snapID = 1
	w.started = w.Now()
	return w
}

// sync takes the next snapshot, next, as a sync that runs for a minute
// would, and runs detection on it; auditErr is the sync's audit-log error.
func (w *world) sync(next *access.Snapshot, auditErr string) []unapproved.Finding {
	w.t.Helper()
	before := w.cur
	prevStarted := w.started
	w.started = w.Now()
	w.tick(time.Minute)
	d := access.Diff(before, next)
	w.snapID++
	w.cur = next
	fs, err := w.svc.Detect(context.Background(), unapproved.Sync{Snapshot: w.snapID, Previous: w.snapID - 1,
		PreviousStarted: prevStarted, Started: w.started, Ended: w.Now(), Before: before, After: next, Diff: &d, AuditError: auditErr})
	if err != nil {
		w.t.Fatalf("detect: %v", err)
	}
	w.tick(time.Minute)
	return fs
}

// archive puts audit entries of an owner-token change at the current time.
func (w *world) archive(id, event string, target int64, data map[string]any) {
	w.t.Helper()
	raw, _ := json.Marshal(data)
	_, err := w.st.AppendAuditEntries(context.Background(), []sentry.AuditLogEntry{{ID: id, Event: event, TargetObject: &target,
		Actor: &sentry.AuditActor{ID: "19", Name: "Owen Owner", Email: "owen@acme.test"}, IPAddress: owenIP,
		Data: raw, DateCreated: w.Now()}})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) flagged() []string {
	w.t.Helper()
	fs, err := w.svc.List(context.Background(), unapproved.Filter{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.Change.Describe())
	}
	return out
}

func with(s *access.Snapshot, edit func(s *access.Snapshot)) *access.Snapshot {
	b, _ := json.Marshal(s)
	var c access.Snapshot
	_ = json.Unmarshal(b, &c)
	edit(&c)
	return &c
}

func joinWeb(id string) func(s *access.Snapshot) {
	return func(s *access.Snapshot) {
		for i := range s.Members {
			if s.Members[i].ID == id {
				s.Members[i].Teams = append(s.Members[i].Teams, access.Membership{Team: "web"})
			}
		}
	}
}

func TestTheFirstSnapshotHasNothingToCompare(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fs, err := w.svc.Detect(context.Background(), unapproved.Sync{Snapshot: 1, After: org()})
	if err != nil || len(fs) != 0 {
		t.Fatalf("first snapshot: %v, %v; want no findings", fs, err)
	}
}

func TestAChangeMadeOutsideIsFlaggedWithItsAuditEntryOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.tick(10 * time.Minute)
	w.archive("a1", "member.join-team", 5001, map[string]any{"team_slug": "web", "email": "wendy@acme.test", "member_id": 2})
	next := with(w.cur, joinWeb("2"))
	fs := w.sync(next, "")
	if len(fs) != 1 {
		t.Fatalf("findings = %+v, want one", fs)
	}
	f := fs[0]
	if f.Change.Describe() != "wendy@acme.test joined team web" || f.Verdict != unapproved.Unexplained || f.State != unapproved.StateOpen {
		t.Errorf("finding = %+v", f)
	}
	if got := f.AuditText(); !strings.Contains(got, "member.join-team by Owen Owner <owen@acme.test>") || !strings.Contains(got, owenIP) {
		t.Errorf("audit = %q, want the actor and IP", got)
	}
	if len(w.announce) != 1 || len(w.announce[0]) != 1 {
		t.Errorf("announced %v, want the one finding once", w.announce)
	}
	// The same snapshot detected again (a pipeline run twice) records and
	// announces nothing more.
	d := access.Diff(org(), next)
	again, err := w.svc.Detect(context.Background(), unapproved.Sync{Snapshot: w.snapID, Previous: w.snapID - 1,
		PreviousStarted: base, Started: base, Ended: w.Now(), Before: org(), After: next, Diff: &d})
	if err != nil || len(again) != 0 || len(w.announce) != 1 {
		t.Errorf("second detection: %v, %v, %d announcements", again, err, len(w.announce))
	}
	if got := w.flagged(); !slices.Equal(got, []string{"wendy@acme.test joined team web"}) {
		t.Errorf("flagged = %q", got)
	}
}

func TestAChangeAnAppliedRequestMadeIsNotFlagged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	r, err := w.changes.Create(ctx, anna, changes.NewRequest{Justification: "on call", Steps: []changes.Step{
		{Kind: changes.KindTeamAdd, Params: changes.Params{Member: "2", Team: "web"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.changes.Approve(ctx, alex, r.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if got := w.sync(with(w.cur, joinWeb("2")), ""); len(got) != 0 {
		t.Errorf("findings = %+v, want none: request %s made the change", got, r.ID)
	}
}

func TestAChangeMadeAndRevertedOutsideBeforeTheSyncHasNothingToFlag(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.archive("a1", "member.join-team", 5001, map[string]any{"team_slug": "web", "email": "wendy@acme.test"})
	w.archive("a2", "member.leave-team", 5001, map[string]any{"team_slug": "web", "email": "wendy@acme.test"})
	if got := w.sync(with(w.cur, func(*access.Snapshot) {}), ""); len(got) != 0 {
		t.Errorf("findings = %+v, want none: the snapshots agree", got)
	}
}

func TestWithoutTheAuditLogAFindingSaysWhyNoEntryIsShown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fs := w.sync(with(w.cur, joinWeb("2")), "list audit log: sentry 403: You do not have permission to perform this action.")
	if len(fs) != 1 {
		t.Fatalf("findings = %+v", fs)
	}
	if got, want := fs[0].AuditText(), "no audit entry visible: the token lacks org:write"; !strings.HasPrefix(got, want) {
		t.Errorf("audit = %q, want it to start %q", got, want)
	}
}

func TestAnAuditEntryArchivedLaterIsAttachedAtTheNextSync(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fs := w.sync(with(w.cur, joinWeb("2")), "")
	if len(fs) != 1 || fs[0].AuditStatus != unapproved.AuditNone {
		t.Fatalf("findings = %+v, want one without an audit entry", fs)
	}
	// The entry of the change (made before the sync ended) arrives with
	// the next sync's read of the audit log.
	raw, _ := json.Marshal(map[string]any{"team_slug": "web", "email": "wendy@acme.test"})
	if _, err := w.st.AppendAuditEntries(context.Background(), []sentry.AuditLogEntry{{ID: "late", Event: "member.join-team",
		Actor: &sentry.AuditActor{Email: "owen@acme.test"}, IPAddress: owenIP, Data: raw, DateCreated: fs[0].To.Add(-30 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	w.sync(with(w.cur, func(*access.Snapshot) {}), "")
	got, err := w.svc.Get(context.Background(), fs[0].ID)
	if err != nil || got.AuditStatus != unapproved.AuditFound || got.Audit.ID != "late" {
		t.Errorf("finding after the next sync = %+v, %v; want the late entry attached", got, err)
	}
}

func TestAcceptingAChangeStopsFlaggingItAndIsInTheTrail(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	f := w.sync(with(w.cur, joinWeb("2")), "")[0]
	tests := []struct {
		name  string
		actor sentryaccess.Actor
		note  string
		code  sentryaccess.Code
	}{
		{"a viewer may not", vic, "fine", sentryaccess.EFORBIDDEN},
		{"a note is needed", anna, "  ", sentryaccess.EINVALID},
		{"nobody accepts a change to her own access", sentryaccess.Actor{Email: "Wendy@acme.test", Role: sentryaccess.RoleAdmin}, "mine", sentryaccess.EFORBIDDEN},
	}
	for _, tt := range tests {
		if _, err := w.svc.Accept(ctx, tt.actor, f.ID, tt.note); sentryaccess.ErrorCode(err) != tt.code {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
		}
	}
	got, err := w.svc.Accept(ctx, anna, f.ID, "Wendy covers web on-call this week (INC-42)")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != unapproved.StateAccepted || got.Accepted.By != anna.Email {
		t.Errorf("accepted = %+v", got)
	}
	if fl := w.flagged(); len(fl) != 0 {
		t.Errorf("flagged after accepting = %q, want none", fl)
	}
	if _, err := w.svc.Accept(ctx, alex, f.ID, "again"); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("accepting twice: %v, want ECONFLICT", err)
	}
	trail, err := w.changes.Trail(ctx, changes.TrailFilter{Kind: unapproved.TrailAccepted})
	if err != nil || len(trail) != 1 || trail[0].Actor != anna.Email || trail[0].Comment != "Wendy covers web on-call this week (INC-42)" ||
		!strings.Contains(trail[0].Before, "wendy@acme.test joined team web") {
		t.Fatalf("trail = %+v, %v", trail, err)
	}
	if err := w.changes.VerifyTrail(ctx); err != nil {
		t.Errorf("trail chain: %v", err)
	}
	if all, _ := w.svc.List(ctx, unapproved.Filter{All: true}); len(all) != 1 {
		t.Errorf("all findings = %d, want the accepted one kept", len(all))
	}
}

func TestRevertingFilesThePrefilledInverseRequestAndSettlesWhenApplied(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	f := w.sync(with(w.cur, joinWeb("2")), "")[0]
	d, err := w.svc.DraftRevert(ctx, anna, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Draft.Steps) != 1 || d.Draft.Steps[0].Kind != changes.KindTeamRemove || d.Draft.Steps[0].Params.Member != "2" ||
		d.Draft.Steps[0].Params.Team != "web" || !strings.Contains(d.Justification, "wendy@acme.test joined team web") {
		t.Fatalf("draft = %+v", d)
	}
	r, err := w.svc.Revert(ctx, anna, f.ID, d.Title, d.Justification)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != unapproved.SourceRevert || r.State != changes.StatePendingApproval {
		t.Errorf("request = %+v", r)
	}
	if fl := w.flagged(); len(fl) != 1 {
		t.Errorf("flagged while the revert awaits approval = %q, want it still flagged", fl)
	}
	if _, err := w.svc.Accept(ctx, alex, f.ID, "no"); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("accepting a change being reverted: %v, want ECONFLICT", err)
	}
	if _, err := w.changes.Approve(ctx, alex, r.ID, "revert it"); err != nil {
		t.Fatal(err)
	}
	// The next sync shows wendy off web again: the revert request made
	// that change, and the finding is settled.
	if got := w.sync(org(), ""); len(got) != 0 {
		t.Errorf("findings after the revert = %+v, want none", got)
	}
	got, err := w.svc.Get(ctx, f.ID)
	if err != nil || got.State != unapproved.StateReverted || got.RevertRequest != r.ID {
		t.Errorf("finding = %+v, %v; want reverted by %s", got, err, r.ID)
	}
	if fl := w.flagged(); len(fl) != 0 {
		t.Errorf("flagged = %q, want none", fl)
	}
}

func TestAStepUndoneOutsideBeforeTheSyncIsFlagged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	// A grant adds wendy to web; someone removes her again before any
	// sync sees her there: the snapshots agree, the step is undone.
	r, err := w.changes.Create(ctx, anna, changes.NewRequest{Justification: "on call", Steps: []changes.Step{
		{Kind: changes.KindTeamAdd, Params: changes.Params{Member: "2", Team: "web"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.changes.Approve(ctx, alex, r.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	w.tick(time.Minute)
	fs := w.sync(with(w.cur, func(*access.Snapshot) {}), "")
	if len(fs) != 1 || fs[0].Change.Kind != unapproved.KindUndone || !strings.Contains(fs[0].Change.Describe(), "wendy@acme.test is no longer on team web") {
		t.Fatalf("findings = %+v, want the undone team-add", fs)
	}
	d, err := w.svc.DraftRevert(ctx, anna, fs[0].ID)
	if err != nil || len(d.Draft.Steps) != 1 || d.Draft.Steps[0].Kind != changes.KindTeamAdd {
		t.Errorf("revert of an undone step = %+v, %v; want the step again", d.Draft.Steps, err)
	}
}

// An access review records the changes still flagged, whenever they were
// detected, and the answered ones of the quarter before its close, with
// their answer; an answered one older than that is left out.
func TestAReviewRecordsTheFlaggedChangesAndTheQuartersAnsweredOnes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	old := w.sync(with(w.cur, joinWeb("2")), "")[0]
	if _, err := w.svc.Accept(ctx, anna, old.ID, "Wendy covers web (INC-1)"); err != nil {
		t.Fatal(err)
	}
	stale := w.sync(with(w.cur, joinWeb("1")), "")[0] // still open
	w.tick(unapproved.ReviewWindow + time.Hour)
	recent := w.sync(with(w.cur, func(s *access.Snapshot) { s.Members[1].OrgRole = "manager" }), "")[0]
	if _, err := w.svc.Accept(ctx, anna, recent.ID, "Wendy runs the org while Owen is away (INC-2)"); err != nil {
		t.Fatal(err)
	}
	fs, err := w.svc.ForReview(ctx, w.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fs {
		got[f.ID] = f.State.Text() + ": " + f.AnswerText()
	}
	want := map[string]string{
		stale.ID:  "open: ",
		recent.ID: "accepted: accepted by anna.approver@acme.test at " + w.Now().Format("2006-01-02 15:04 UTC") + ": Wendy runs the org while Owen is away (INC-2)",
	}
	if len(got) != len(want) || got[stale.ID] != want[stale.ID] || got[recent.ID] != want[recent.ID] {
		t.Errorf("for the review = %q, want %q (not %s, accepted before the quarter)", got, want, old.ID)
	}
}
