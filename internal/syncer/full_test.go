package syncer_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// failingProjects is the real client with a project list that fails.
type failingProjects struct{ *sentry.Client }

func (failingProjects) Projects(context.Context) ([]sentry.Project, error) {
	return nil, errors.New("projects are down")
}

func TestConcurrentFullSyncRecordsTheStageOfTheFailedChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
	s := syncer.New(failingProjects{e.client}, e.st, syncer.Options{Concurrency: 4})
	_, err := s.Full(context.Background())
	if err == nil || !strings.Contains(err.Error(), "stage "+syncer.StageProjects) || !strings.Contains(err.Error(), "projects are down") {
		t.Fatalf("got %v, want a failure at stage %s", err, syncer.StageProjects)
	}
	last, err := e.st.LastSyncStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last.OK || last.Stage != syncer.StageProjects {
		t.Errorf("status: got %+v, want failed at %s", last, syncer.StageProjects)
	}
}

func TestFullSyncMakesTheSameRequestsWhateverTheConcurrency(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 250, Teams: 30, Projects: 40, Seed: 3})
	var snaps []string
	var reqs []int64
	for _, c := range []int{1, 6} {
		e := newEnv(t, fx, sentrysim.DemoOwnerToken, syncer.Options{Concurrency: c})
		res, err := e.syncer.Full(context.Background())
		if err != nil {
			t.Fatalf("concurrency %d: %v", c, err)
		}
		_, snap, err := e.st.CurrentSnapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, fmtSnapshot(snap))
		reqs = append(reqs, res.Requests)
	}
	if snaps[0] != snaps[1] {
		t.Error("a concurrent full sync stored a different snapshot than a sequential one")
	}
	if reqs[0] != reqs[1] {
		t.Errorf("requests: sequential %d, concurrent %d; want the same", reqs[0], reqs[1])
	}
}

// fmtSnapshot renders a snapshot's content for comparison, without the
// region URL (each simulator answers its own).
func fmtSnapshot(s *access.Snapshot) string {
	c := *s
	c.Server.RegionURL = ""
	b, err := json.Marshal(c)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
