package changes

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Config.Finished hears of every request that ends applied, failed,
// partially failed or denied, once, with its stored state; a request still
// pending or only approved is not finished.
func TestFinishedIsToldOfEveryRequestThatEndsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	var told []string
	svc := New(Config{Repo: h.repo, Snapshots: fakeSnapshots{demoSnapshot()}, Previewer: fakePreviewer{}, Executor: h.sentry,
		Now: h.clock.Now, Background: h.hold, Sleep: func(context.Context, time.Duration) error { return nil },
		Finished: func(_ context.Context, r *Request) { told = append(told, r.ID+" "+string(r.State)) }})
	h.svc = svc

	applied := h.approved(t, NewRequest{Justification: "j", Steps: []Step{addStep("3", "payments")}})
	if len(told) != 0 {
		t.Fatalf("told %v before anything ended", told)
	}
	if _, err := svc.Apply(ctx, applied.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(ctx, applied.ID); err != nil { // finished already: not told again
		t.Fatal(err)
	}

	h.sentry.faults = []fault{{err: &ExecError{Status: 403, Message: "no"}}}
	failed := h.approved(t, NewRequest{Justification: "j", Steps: []Step{addStep("4", "payments")}})
	if _, err := svc.Apply(ctx, failed.ID); err != nil {
		t.Fatal(err)
	}

	denied, err := svc.Create(ctx, owner, NewRequest{Justification: "j", Steps: []Step{addStep("5", "payments")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Deny(ctx, approver, denied.ID, "not needed"); err != nil {
		t.Fatal(err)
	}
	want := []string{applied.ID + " applied", failed.ID + " failed", denied.ID + " denied"}
	if !slices.Equal(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
}
