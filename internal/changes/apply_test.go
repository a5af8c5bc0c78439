package changes

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func threeSteps() []Step {
	return []Step{
		{Kind: KindTeamCreate, Params: Params{Team: "search"}},
		{Kind: KindProjectLink, Params: Params{Team: "search", Project: "payment-api"}},
		addStep("3", "search"),
	}
}

func TestApplyCarriesOutStepsInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r := h.approved(t, NewRequest{Justification: "test", Steps: threeSteps()})
	got, err := h.svc.Apply(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateApplied {
		t.Errorf("state = %s, want applied", got.State)
	}
	for _, st := range got.Steps {
		if st.State != StepApplied || st.Attempts != 1 || st.SentryStatus != 201 || st.StartedAt == nil || st.FinishedAt == nil {
			t.Errorf("step %d = %+v, want applied on the first attempt with status 201", st.Index, st)
		}
		if n := h.sentry.effectCount(st); n != 1 {
			t.Errorf("step %d took effect %d times, want 1", st.Index, n)
		}
	}
	if len(h.resync) != 1 || !slices.Equal(h.resync[0].Teams, []string{"search"}) || !slices.Equal(h.resync[0].Members, []string{"3"}) {
		t.Errorf("resync = %+v, want one call touching team search and member 3", h.resync)
	}
	again, err := h.svc.Apply(ctx, r.ID)
	if err != nil || again.State != StateApplied || h.sentry.calls != 3 {
		t.Errorf("second Apply: state %v err %v calls %d; want a no-op", again.State, err, h.sentry.calls)
	}
	if err := h.svc.VerifyTrail(ctx); err != nil {
		t.Error(err)
	}
}

func TestApplyRetriesAndFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rateLimited := &ExecError{Status: 429, Message: "You are attempting to use this endpoint too frequently.", Retryable: true}
	unavailable := &ExecError{Status: 503, Message: "unavailable", Retryable: true}
	forbidden := &ExecError{Status: 403, Message: "This team is managed through your organization's identity provider."}
	tests := []struct {
		name       string
		faults     []fault
		wantState  State
		wantSteps  []StepState
		wantStatus int // of the last attempted step
		wantSleeps []time.Duration
		wantCalls  int
	}{
		{"a 429 is retried with backoff and then succeeds",
			[]fault{{err: rateLimited}, {err: rateLimited}}, StateApplied,
			[]StepState{StepApplied, StepApplied, StepApplied}, 201, []time.Duration{time.Second, 2 * time.Second}, 5},
		{"a 429 storm fails the first step after four attempts and leaves the rest untried",
			[]fault{{err: rateLimited}, {err: rateLimited}, {err: rateLimited}, {err: rateLimited}}, StateFailed,
			[]StepState{StepFailed, StepApproved, StepApproved}, 429, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, 4},
		{"a 403 is not retried, and earlier steps stay applied",
			[]fault{{}, {err: forbidden}}, StatePartiallyFailed,
			[]StepState{StepApplied, StepFailed, StepApproved}, 403, nil, 2},
		{"a 503 whose effect happened is read back, not repeated",
			[]fault{{err: unavailable, applied: true}}, StateApplied,
			[]StepState{StepApplied, StepApplied, StepApplied}, 201, []time.Duration{time.Second}, 3},
		{"a dropped connection is retried",
			[]fault{{}, {err: fmt.Errorf("post: %w", context.DeadlineExceeded)}}, StateApplied,
			[]StepState{StepApplied, StepApplied, StepApplied}, 201, []time.Duration{time.Second}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.sentry.faults = tt.faults
			r := h.approved(t, NewRequest{Justification: "test", Steps: threeSteps()})
			got, err := h.svc.Apply(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.wantState {
				t.Errorf("state = %s, want %s", got.State, tt.wantState)
			}
			if !equalStates(stepStates(got), tt.wantSteps) {
				t.Errorf("steps = %v, want %v", stepStates(got), tt.wantSteps)
			}
			last := got.Steps[0]
			for _, st := range got.Steps {
				if st.Attempts > 0 {
					last = st
				}
			}
			if last.SentryStatus != tt.wantStatus {
				t.Errorf("last attempted step status = %d, want %d", last.SentryStatus, tt.wantStatus)
			}
			if last.State == StepFailed && last.SentryError == "" {
				t.Error("failed step shows no Sentry error")
			}
			if !slices.Equal(h.sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", h.sleeps, tt.wantSleeps)
			}
			if h.sentry.calls != tt.wantCalls {
				t.Errorf("Sentry calls = %d, want %d", h.sentry.calls, tt.wantCalls)
			}
			for _, st := range got.Steps {
				if n := h.sentry.effectCount(st); n > 1 {
					t.Errorf("step %d took effect %d times", st.Index, n)
				}
			}
		})
	}
}

func TestApplyRefusesUnapproved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: threeSteps()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Apply(ctx, r.ID); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Fatalf("Apply of a pending request: error = %v, want ECONFLICT", err)
	}
	if h.sentry.calls != 0 {
		t.Errorf("Sentry calls = %d, want 0", h.sentry.calls)
	}
}

// TestRecoverAfterCrashAtEveryWrite kills the "process" at each repository
// write of an apply in turn (the write is lost), starts a new one over what
// was committed, and runs Recover: every step must end applied, each having
// taken effect in Sentry exactly once.
func TestRecoverAfterCrashAtEveryWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Count the writes of an uninterrupted apply.
	h := newHarness(t)
	r := h.approved(t, NewRequest{Justification: "test", Steps: threeSteps()})
	counter := &crashRepo{memRepo: h.repo}
	if _, err := h.service(counter).Apply(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	total := counter.writes
	if total < 8 {
		t.Fatalf("an apply of 3 steps made %d writes, want at least 8", total)
	}

	for failAt := 1; failAt <= total; failAt++ {
		t.Run(fmt.Sprintf("crash at write %d of %d", failAt, total), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			r := h.approved(t, NewRequest{Justification: "test", Steps: threeSteps()})
			crashing := &crashRepo{memRepo: h.repo, failAt: failAt}
			if _, err := h.service(crashing).Apply(ctx, r.ID); !errors.Is(err, errCrash) {
				t.Fatalf("Apply error = %v, want the crash", err)
			}
			restarted := h.service(h.repo)
			if err := restarted.Recover(ctx); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			got, err := restarted.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != StateApplied {
				t.Errorf("state = %s, want applied", got.State)
			}
			for _, st := range got.Steps {
				if st.State != StepApplied {
					t.Errorf("step %d = %s, want applied", st.Index, st.State)
				}
				if n := h.sentry.effectCount(st); n != 1 {
					t.Errorf("step %d took effect %d times, want exactly 1", st.Index, n)
				}
			}
			if h.sentry.calls > 3 {
				t.Errorf("Sentry calls = %d, want at most 3 (no step re-executed)", h.sentry.calls)
			}
			if err := restarted.VerifyTrail(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRecoverMarksUnverifiableStepFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r := h.approved(t, NewRequest{Justification: "test", Steps: threeSteps()})
	// Crash on the write after the first Sentry call: step 0 stays applying.
	crashing := &crashRepo{memRepo: h.repo, failAt: 3}
	if _, err := h.service(crashing).Apply(ctx, r.ID); !errors.Is(err, errCrash) {
		t.Fatalf("Apply error = %v, want the crash", err)
	}
	h.sentry.verifyErr = &ExecError{Status: 500, Message: "boom", Retryable: true}
	restarted := h.service(h.repo)
	if err := restarted.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := restarted.Get(ctx, r.ID)
	if got.State != StateFailed || got.Steps[0].State != StepFailed || got.Steps[0].SentryStatus != 500 {
		t.Fatalf("got state %s, step 0 %+v; want failed with Sentry's 500 shown", got.State, got.Steps[0])
	}
	if h.sentry.calls != 1 {
		t.Errorf("Sentry calls = %d, want 1: an unverifiable step is never executed again", h.sentry.calls)
	}
}

// After every apply the objects it touched are re-read, SCIM ones
// included: a member just provisioned by email, a group by name, the
// members a group gained. Without this the next request could not name
// them until a manual sync.
func TestEveryApplyReReadsWhatItTouched(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		step Step
		want Touched
	}{
		{"a SCIM user provisioned by email", Step{Kind: KindSCIMUserCreate, Params: Params{Email: "new.hire@acme.test"}},
			Touched{Emails: []string{"new.hire@acme.test"}}},
		{"an invite", Step{Kind: KindMemberInvite, Params: Params{Email: "guest@acme.test", Role: "member"}},
			Touched{Emails: []string{"guest@acme.test"}}},
		{"a SCIM deactivation", Step{Kind: KindSCIMUserDeactivate, Params: Params{Member: "4"}},
			Touched{Members: []string{"4"}}},
		{"a SCIM group created by name", Step{Kind: KindSCIMGroupCreate, Params: Params{Name: "SRE"}},
			Touched{TeamList: true}},
		{"a SCIM group's members", Step{Kind: KindSCIMGroupMembers, Params: Params{TeamID: "11", Add: []string{"3"}, Remove: []string{"4"}}},
			Touched{Members: []string{"3", "4"}, TeamList: true}},
		{"a Sentry access request approved", Step{Kind: KindAccessRequestApprove, Params: Params{AccessRequest: "9", Member: "3", Team: "identity"}},
			Touched{Teams: []string{"identity"}, Members: []string{"3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			r := h.approved(t, NewRequest{Steps: []Step{tt.step}, Justification: "because"})
			if _, err := h.svc.Apply(context.Background(), r.ID); err != nil {
				t.Fatal(err)
			}
			if len(h.resync) != 1 || !reflect.DeepEqual(h.resync[0], tt.want) {
				t.Errorf("resync = %+v, want one call touching %+v", h.resync, tt.want)
			}
		})
	}
}
