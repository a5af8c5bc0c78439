package syncer_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// recorder is a pipeline whose steps write down what they were handed.
type recorder struct {
	mu   sync.Mutex
	ran  []string
	seen map[string]*syncer.Synced
}

func (r *recorder) step(name string, when syncer.When, err error) syncer.Step {
	return syncer.Step{Name: name, When: when, Run: func(_ context.Context, s *syncer.Synced) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ran = append(r.ran, name)
		r.seen[name] = s
		return err
	}}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ran
	r.ran = nil
	return out
}

func TestTheStepsAfterASyncRunInOrderForTheirKindOfSyncWithTheDiffComputedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
	rec := &recorder{seen: map[string]*syncer.Synced{}}
	r := syncer.NewRunner(e.syncer, e.st, syncer.RunnerOptions{AfterSync: syncer.Pipeline{Steps: []syncer.Step{
		rec.step("read model", syncer.AfterNewSnapshot, nil),
		rec.step("audit status", syncer.AfterFullSync, nil),
		rec.step("inventory", syncer.AfterEverySync, errors.New("Sentry answered 503")),
		rec.step("announce", syncer.AfterNewSnapshot, nil),
	}}})

	// The first sync: every step runs, in order, a failing one included;
	// there is nothing before the first snapshot to diff with.
	first, err := r.RunOnce(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rec.take(), []string{"read model", "audit status", "inventory", "announce"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the first sync the steps ran %v, want %v (a failing step does not stop the next)", got, want)
	}
	s := rec.seen["read model"]
	if !s.Saved || s.Current == nil || s.Previous != nil || s.Diff != nil || s.Result.Snapshot.ID != first.Snapshot.ID {
		t.Errorf("first sync handed %+v, want snapshot %d with no previous one", s, first.Snapshot.ID)
	}

	// An incremental sync that finds nothing new saves no snapshot: only
	// the steps for every sync run.
	if res, err := r.RunOnce(ctx, false); err != nil || !res.Unchanged {
		t.Fatalf("incremental sync: %+v, %v; want unchanged", res, err)
	}
	if got, want := rec.take(), []string{"inventory"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after an unchanged incremental sync the steps ran %v, want %v", got, want)
	}

	// A change in Sentry: the next snapshot comes with the one before it
	// and their diff, the same every step sees.
	ms, err := e.client.ListMembers(ctx, sentry.MemberQuery{Email: "dana.doyle@acme.test"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("find dana: %v", err)
	}
	if _, err := e.client.AddMemberToTeam(ctx, ms[0].ID, "platform"); err != nil {
		t.Fatal(err)
	}
	second, err := r.RunOnce(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	rec.take()
	s, a := rec.seen["read model"], rec.seen["announce"]
	if s != a {
		t.Error("two steps of one sync were handed different snapshots: the pair was read twice")
	}
	if s.Previous == nil || s.Previous.ID != first.Snapshot.ID || s.Result.Snapshot.ID != second.Snapshot.ID || s.Diff == nil {
		t.Fatalf("second sync handed previous %v, diff %v; want snapshot %d → %d with its diff", s.Previous, s.Diff, first.Snapshot.ID, second.Snapshot.ID)
	}
	if want := access.Diff(s.BeforeEngine.Snapshot(), s.Current.Snapshot()); !reflect.DeepEqual(*s.Diff, want) {
		t.Errorf("the handed diff is not the pair's diff")
	}
	joined := false
	for _, j := range s.Diff.TeamsJoined {
		joined = joined || j.Team == "platform"
	}
	if !joined {
		t.Errorf("the diff %+v does not show dana joining platform", s.Diff.TeamsJoined)
	}
}
