package changes

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// simWorld is the demo organization in the Sentry simulator, reached
// through the real client, with one clock shared by the simulator and every
// wait: sleeping advances time, so rate-limit windows pass without real
// waiting.
type simWorld struct {
	sim    *sentrysim.Server
	client *sentry.Client
	mu     sync.Mutex
	now    time.Time
}

func (w *simWorld) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *simWorld) Sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
	return nil
}

func newSimWorld(t *testing.T) *simWorld {
	t.Helper()
	w := &simWorld{now: sentrysim.DemoEpoch()}
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{Now: w.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); srv.Close() })
	creds := sim.Tokens()
	client, err := sentry.New(sentry.Config{BaseURL: srv.URL, Org: creds.Org, Token: creds.OwnerToken,
		SCIMToken: creds.SCIMToken, Now: w.Now, Sleep: w.Sleep, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.sim, w.client = sim, client
	return w
}

func (w *simWorld) memberID(t *testing.T, email string) string {
	t.Helper()
	ms, err := w.client.ListMembers(context.Background(), sentry.MemberQuery{Email: email})
	if err != nil || len(ms) != 1 {
		t.Fatalf("member %s: %v (%d found)", email, err, len(ms))
	}
	return ms[0].ID
}

// auditCount counts the simulator's audit-log rows of event.
func (w *simWorld) auditCount(t *testing.T, event string) int {
	t.Helper()
	n := 0
	for page, err := range w.client.AuditLogs(context.Background(), sentry.AuditQuery{Event: event}) {
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Rows)
	}
	return n
}

// simSteps creates team "search", links search-indexer to it, adds Dana to
// it as team admin and removes Bo from payments.
func simSteps(t *testing.T, w *simWorld) []Step {
	dana := w.memberID(t, "dana.doyle@acme.test")
	bo := w.memberID(t, "bo.brandt@acme.test")
	return []Step{
		{Kind: KindTeamCreate, Params: Params{Team: "search", Name: "Search"}},
		{Kind: KindProjectLink, Params: Params{Team: "search", Project: "search-indexer"}},
		{Kind: KindTeamAdd, Params: Params{Team: "search", Member: dana}},
		{Kind: KindTeamRole, Params: Params{Team: "search", Member: dana, Role: "admin"}},
		{Kind: KindTeamRemove, Params: Params{Team: "payments", Member: bo}},
	}
}

// checkAppliedOnce checks the simulator's state and audit log: every step
// in effect, each exactly once.
func checkAppliedOnce(t *testing.T, w *simWorld, steps []Step, base map[string]int) {
	t.Helper()
	x := SentryExecutor{API: w.client}
	for _, st := range steps {
		ok, err := x.Verify(context.Background(), st)
		if err != nil || !ok {
			t.Errorf("step %s not in effect in the simulator (err %v)", st.Describe(), err)
		}
	}
	for ev, n := range auditCounts(t, w) {
		want := 1
		if ev == "member.join-team" {
			want = 2 // Sentry adds a team's creator to it (organization_teams.py, post)
		}
		if n-base[ev] != want {
			t.Errorf("simulator audit log gained %d %s rows, want exactly %d", n-base[ev], ev, want)
		}
	}
}

// auditCounts counts the audit events the sim steps cause.
func auditCounts(t *testing.T, w *simWorld) map[string]int {
	out := map[string]int{}
	for _, ev := range []string{"team.create", "project-team.add", "member.join-team", "member.leave-team"} {
		out[ev] = w.auditCount(t, ev)
	}
	return out
}

func simService(w *simWorld, repo Repo) *Service {
	return New(Config{Repo: repo, Snapshots: fakeSnapshots{demoSnapshot()}, Previewer: fakePreviewer{},
		Executor: SentryExecutor{API: w.client}, Now: w.Now, Sleep: w.Sleep, Backoff: time.Second, MaxAttempts: 6,
		Background: applyExplicitly})
}

// applyExplicitly drops the apply Approve starts: these tests call Apply
// themselves, with faults injected in between.
func applyExplicitly(func()) {}

func approveAll(t *testing.T, svc *Service, steps []Step) *Request {
	t.Helper()
	ctx := context.Background()
	r, err := svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []sentryaccess.Actor{approver, second}[:r.Required] {
		if r, err = svc.Approve(ctx, a, r.ID, "ok"); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestApplyAgainstSimulatorWithFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(w *simWorld)
	}{
		{"no faults", func(*simWorld) {}},
		{"a 429 storm", func(w *simWorld) {
			w.sim.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: 10 * time.Second, Headers: true})
		}},
		{"server errors on writes", func(w *simWorld) {
			w.sim.SetFaults(sentrysim.Faults{FailNth: []int{1, 2, 4, 7, 9}})
		}},
		{"dropped connections", func(w *simWorld) {
			w.sim.SetFaults(sentrysim.Faults{DropRate: 0.3, Seed: 7})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newSimWorld(t)
			steps := simSteps(t, w)
			base := auditCounts(t, w)
			svc := simService(w, newMemRepo())
			r := approveAll(t, svc, steps)
			tt.setup(w)
			got, err := svc.Apply(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			w.sim.SetFaults(sentrysim.Faults{})
			w.sim.SetRateLimit(sentrysim.RateLimit{})
			if got.State != StateApplied {
				for _, st := range got.Steps {
					t.Logf("step %d %s: %s attempts %d status %d %s", st.Index, st.Kind, st.State, st.Attempts, st.SentryStatus, st.SentryError)
				}
				t.Fatalf("state = %s, want applied", got.State)
			}
			checkAppliedOnce(t, w, steps, base)
		})
	}
}

func TestApplyAgainstSimulatorSurvivesCrashes(t *testing.T) {
	t.Parallel()
	for failAt := 1; failAt <= 12; failAt++ {
		t.Run(fmt.Sprintf("crash at write %d", failAt), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newSimWorld(t)
			steps := simSteps(t, w)
			base := auditCounts(t, w)
			repo := newMemRepo()
			r := approveAll(t, simService(w, repo), steps)
			crashing := &crashRepo{memRepo: repo, failAt: failAt}
			if _, err := simService(w, crashing).Apply(ctx, r.ID); !errors.Is(err, errCrash) {
				t.Fatalf("Apply error = %v, want the crash", err)
			}
			restarted := simService(w, repo)
			if err := restarted.Recover(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := restarted.Get(ctx, r.ID)
			if got.State != StateApplied {
				t.Fatalf("state = %s, want applied", got.State)
			}
			checkAppliedOnce(t, w, steps, base)
		})
	}
}

func TestApplyAgainstSimulatorShowsSentryRefusal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSimWorld(t)
	ivan := w.memberID(t, "ivan.ivanov@acme.test")
	svc := simService(w, newMemRepo())
	// identity is IdP-provisioned: Sentry refuses team changes with 403.
	r := approveAll(t, svc, []Step{
		{Kind: KindTeamCreate, Params: Params{Team: "search"}},
		{Kind: KindTeamRemove, Params: Params{Team: "identity", Member: ivan}},
		{Kind: KindProjectLink, Params: Params{Team: "search", Project: "search-indexer"}},
	})
	got, err := svc.Apply(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StatePartiallyFailed {
		t.Errorf("state = %s, want partially-failed", got.State)
	}
	want := []StepState{StepApplied, StepFailed, StepApproved}
	if !equalStates(stepStates(got), want) {
		t.Errorf("steps = %v, want %v", stepStates(got), want)
	}
	if st := got.Steps[1]; st.SentryStatus != 403 || st.SentryError == "" || st.Attempts != 1 {
		t.Errorf("failed step = %+v, want Sentry's 403 and message after one attempt", st)
	}
}

// Sentry's own team access requests are decided through a change request
// like any other: one approver opens it, another approves it, and the
// applier answers Sentry.
func TestSentryAccessRequestsAreDecidedThroughChangeRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSimWorld(t)
	svc := New(Config{Repo: newMemRepo(), Snapshots: fakeSnapshots{demoSnapshot()}, Previewer: fakePreviewer{},
		Executor: SentryExecutor{API: w.client}, Now: w.Now, Sleep: w.Sleep, AccessRequests: w.client,
		Background: func(fn func()) { fn() }})
	inbox, err := svc.Inbox(ctx, approver, w.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !inbox.AccessRequestsRead {
		t.Fatal("the inbox did not read Sentry's access requests")
	}
	byMember := map[string]PendingAccessRequest{}
	for _, ar := range inbox.AccessRequests {
		byMember[ar.Member] = ar
	}
	dana, cody, noah := byMember["dana.doyle@acme.test"], byMember["cody.cruz@acme.test"], byMember["noah.nash@acme.test"]
	if dana.ID == "" || cody.ID == "" || noah.ID == "" {
		t.Fatalf("inbox = %+v, want Dana's, Cody's and Noah's requests", inbox.AccessRequests)
	}
	if cody.Requester != "carla.contreras@acme.test" {
		t.Errorf("Cody's request shows requester %q, want Carla who asked for him", cody.Requester)
	}

	forCody, err := svc.RequestAccessDecision(ctx, approver, cody.ID, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if forCody.Source != SourceAccessRequest || forCody.State != StatePendingApproval || forCody.Required != 1 {
		t.Errorf("request for Cody = %s %s needing %d, want a pending sentry-access-request needing one approval",
			forCody.Source, forCody.State, forCody.Required)
	}
	if in, _ := svc.Inbox(ctx, second, w.Now()); !slices.ContainsFunc(in.AccessRequests, func(ar PendingAccessRequest) bool {
		return ar.ID == cody.ID && ar.OpenRequest == forCody.ID
	}) {
		t.Errorf("the inbox does not link Cody's access request to request %s", forCody.ID)
	}
	if _, err := svc.Approve(ctx, approver, forCody.ID, ""); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Errorf("the approver who opened it approving it: error = %v, want EFORBIDDEN", err)
	}
	cody1 := sentryaccess.Actor{Email: "cody.cruz@acme.test", Role: sentryaccess.RoleApprover}
	if _, err := svc.Approve(ctx, cody1, forCody.ID, ""); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Errorf("Cody approving his own access: error = %v, want EFORBIDDEN", err)
	}

	forDana, err := svc.RequestAccessDecision(ctx, approver, dana.ID, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Approve(ctx, second, forDana.ID, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ = svc.Get(ctx, got.ID); got.State != StateApplied {
		t.Errorf("Dana's request after its approval = %s, want applied", got.State)
	}
	againstNoah, err := svc.RequestAccessDecision(ctx, approver, noah.ID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, second, againstNoah.ID, "platform is full"); err != nil {
		t.Fatal(err)
	}
	x := SentryExecutor{API: w.client}
	if on, _ := x.Verify(ctx, Step{Kind: KindTeamAdd, Params: Params{Member: dana.MemberID, Team: "payments"}}); !on {
		t.Error("Dana is not on payments after approval")
	}
	if on, _ := x.Verify(ctx, Step{Kind: KindTeamAdd, Params: Params{Member: noah.MemberID, Team: "platform"}}); on {
		t.Error("Noah is on platform after denial")
	}
	left, _ := svc.Inbox(ctx, approver, w.Now())
	if len(left.AccessRequests) != len(inbox.AccessRequests)-2 {
		t.Errorf("inbox has %d access requests after deciding two of %d", len(left.AccessRequests), len(inbox.AccessRequests))
	}
	if _, err := svc.RequestAccessDecision(ctx, approver, dana.ID, true, nil); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("deciding a resolved access request: error = %v, want ENOTFOUND", err)
	}
}
