package syncer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
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

// noMemberCounts is the real client as a server that leaves the teams'
// memberCount out.
type noMemberCounts struct{ *sentry.Client }

func (c noMemberCounts) Teams(ctx context.Context) iter.Seq2[sentry.Team, error] {
	return func(yield func(sentry.Team, error) bool) {
		for t, err := range c.Client.Teams(ctx) {
			t.MemberCount = nil
			if !yield(t, err) {
				return
			}
		}
	}
}

// TestFullSyncSkipsTheMemberListsOfEmptyTeams: a team whose memberCount
// is 0 has no member list to read; one with only a pending invite, or a
// server that sends no memberCount, gets its list read; the snapshot is
// the same either way.
func TestFullSyncSkipsTheMemberListsOfEmptyTeams(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 120, Teams: 12, Projects: 20, Seed: 5})
	const empty = 4
	for i := range empty {
		fx.Teams = append(fx.Teams, sentrysim.TeamFixture{ID: int64(9_000 + i), Slug: fmt.Sprintf("empty-%d", i), DateCreated: fx.Org.DateCreated})
	}
	fx.Teams = append(fx.Teams, sentrysim.TeamFixture{ID: 9_100, Slug: "invites-only", DateCreated: fx.Org.DateCreated})
	fx.Members = append(fx.Members, sentrysim.MemberFixture{ID: 9_200, Email: "invited@acme.test", Role: "member", Pending: true,
		DateCreated: fx.Org.DateCreated, Teams: []sentrysim.TeamMembership{{Team: "invites-only"}}})
	teamLists := func(e *env) int { return e.sim.Stats().Endpoints["GET /api/0/teams/{org}/{team}/members/"] }

	var snaps []string
	var lists []int
	for _, strip := range []bool{false, true} {
		for _, c := range []int{1, 4} {
			e := newEnv(t, fx, sentrysim.DemoOwnerToken, syncer.Options{})
			var src syncer.Source = e.client
			if strip {
				src = noMemberCounts{e.client}
			}
			if _, err := syncer.New(src, e.st, syncer.Options{Concurrency: c}).Full(context.Background()); err != nil {
				t.Fatalf("memberCount stripped %v, concurrency %d: %v", strip, c, err)
			}
			_, snap, err := e.st.CurrentSnapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			snaps = append(snaps, fmtSnapshot(snap))
			lists = append(lists, teamLists(e))
		}
	}
	for i, s := range snaps[1:] {
		if s != snaps[0] {
			t.Errorf("sync %d stored a different snapshot than the first", i+1)
		}
	}
	if want := len(fx.Teams) - empty; lists[0] != want || lists[1] != want {
		t.Errorf("with memberCount: %v team member lists read, want %d (every team but the %d empty ones)", lists[:2], want, empty)
	}
	if want := len(fx.Teams); lists[2] != want || lists[3] != want {
		t.Errorf("without memberCount: %v team member lists read, want %d (every team)", lists[2:], want)
	}
}
