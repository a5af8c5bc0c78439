package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// Environment of the child process the kill tests start from this test
// binary.
const (
	envChild     = "FAULTTEST_CHILD" // "apply" or "recover"
	envStore     = "FAULTTEST_STORE"
	envSentry    = "FAULTTEST_SENTRY"
	envOrg       = "FAULTTEST_ORG"
	envToken     = "FAULTTEST_TOKEN"
	envRequest   = "FAULTTEST_REQUEST"
	envPauseStep = "FAULTTEST_PAUSE_AFTER_STEP" // 1-based
	pausedLine   = "paused between steps"
)

// TestMain runs the child process of the kill tests when envChild is set,
// and the tests otherwise.
func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child is the sentry-access change applier as a process of its own: it
// opens the store and applies a request ("apply") or recovers whatever a
// crash interrupted ("recover", as the dashboard does at start), through
// the real Sentry client.
func child(mode string) int {
	ctx := context.Background()
	st, err := store.Open(os.Getenv(envStore), store.Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer st.Close()
	client, err := sentry.New(sentry.Config{BaseURL: os.Getenv(envSentry), Org: os.Getenv(envOrg),
		Token: os.Getenv(envToken), Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var repo changes.Repo = changes.NewStoreRepo(st)
	if k, err := strconv.Atoi(os.Getenv(envPauseStep)); err == nil {
		repo = &pausingRepo{Repo: repo, step: k - 1}
	}
	svc := changes.New(changes.Config{Repo: repo, Snapshots: snapshots{st}, Previewer: changes.EnginePreviewer{},
		Executor: changes.SentryExecutor{API: client}, Backoff: 10 * time.Millisecond})
	switch mode {
	case "apply":
		_, err = svc.Apply(ctx, os.Getenv(envRequest))
	case "recover":
		err = svc.Recover(ctx)
	default:
		err = fmt.Errorf("unknown child mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// pausingRepo stops the process for good once step is recorded applied,
// after saying so on stdout, so the parent can kill it between two steps.
type pausingRepo struct {
	changes.Repo
	step int
}

func (p *pausingRepo) UpdateRequest(ctx context.Context, id string, fn func(*changes.Request) ([]changes.TrailRecord, error)) (*changes.Request, error) {
	r, err := p.Repo.UpdateRequest(ctx, id, fn)
	if err == nil && p.step < len(r.Steps) && r.Steps[p.step].State == changes.StepApplied {
		fmt.Println(pausedLine)
		time.Sleep(time.Hour)
	}
	return r, err
}

// snapshots serves the store's current snapshot to the change service.
type snapshots struct{ st *store.Store }

func (s snapshots) Current(ctx context.Context) (*access.Snapshot, error) {
	_, snap, err := s.st.CurrentSnapshot(ctx)
	return snap, err
}

// gate stands between the child and the simulator. It counts the writes
// that reached the simulator per path, and can hold the nth write until
// the child dies: before the simulator sees it, or after the simulator
// performed it (the answer is then never sent).
type gate struct {
	next http.Handler

	mu       sync.Mutex
	hold     string // "", "before" or "after"
	nth      int
	writes   int
	effected map[string]int
	arrived  chan string // the path of the held write, once it is held
}

func newGate(next http.Handler) *gate {
	return &gate{next: next, effected: map[string]int{}, arrived: make(chan string, 1)}
}

func (g *gate) set(hold string, nth int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold, g.nth, g.writes = hold, nth, 0
}

func (g *gate) effects() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]int{}
	for k, v := range g.effected {
		out[k] = v
	}
	return out
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		g.next.ServeHTTP(w, r)
		return
	}
	key := r.Method + " " + r.URL.Path
	g.mu.Lock()
	g.writes++
	hold := ""
	if g.writes == g.nth {
		hold = g.hold
	}
	if hold != "before" {
		g.effected[key]++
	}
	g.mu.Unlock()
	switch hold {
	case "before":
		g.arrived <- key
		<-r.Context().Done()
	case "after":
		g.next.ServeHTTP(httptest.NewRecorder(), r)
		g.arrived <- key
		<-r.Context().Done()
	default:
		g.next.ServeHTTP(w, r)
	}
}

// killWorld is a store on disk with one approved three-step request and
// the simulator it targets, served by this process so that Sentry's state
// outlives the children.
type killWorld struct {
	dir    string
	sim    *sentrysim.Server
	simURL string
	gate   *gate
	id     string
	rb     *sentry.Client
	base   map[string]int
}

func newKillWorld(t *testing.T) *killWorld {
	t.Helper()
	ctx := context.Background()
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	k := &killWorld{dir: t.TempDir(), sim: sim, simURL: srv.URL, gate: g}
	k.rb = readBack(t, sim, srv.URL)
	k.base = map[string]int{}
	for _, ev := range applyEvents {
		k.base[ev] = auditCount(t, k.rb, ev)
	}

	st, err := store.Open(k.path(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := syncer.New(k.rb, st, syncer.Options{}).Full(ctx); err != nil {
		t.Fatal(err)
	}
	svc := changes.New(changes.Config{Repo: changes.NewStoreRepo(st), Snapshots: snapshots{st}, Previewer: changes.EnginePreviewer{},
		Executor: changes.SentryExecutor{API: k.rb}})
	dana := memberID(t, k.rb, "dana.doyle@acme.test")
	r, err := svc.Create(ctx, sentryaccess.Actor{Email: "olivia.owner@acme.test", Role: sentryaccess.RoleAdmin}, changes.NewRequest{
		Justification: "search needs its own team",
		Steps: []changes.Step{
			{Kind: changes.KindTeamCreate, Params: changes.Params{Team: "search", Name: "Search"}},
			{Kind: changes.KindProjectLink, Params: changes.Params{Team: "search", Project: "search-indexer"}},
			{Kind: changes.KindTeamAdd, Params: changes.Params{Team: "search", Member: dana}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = svc.Approve(ctx, sentryaccess.Actor{Email: "maya.manager@acme.test", Role: sentryaccess.RoleApprover}, r.ID, "ok"); err != nil || r.State != changes.StateApproved {
		t.Fatalf("approve: %v (state %v)", err, r)
	}
	k.id = r.ID
	return k
}

func (k *killWorld) path() string { return filepath.Join(k.dir, "sentry-access.db") }

// start runs the child in mode; its stdout lines arrive on the channel.
func (k *killWorld) start(t *testing.T, mode string, extraEnv ...string) (*exec.Cmd, <-chan string, *bytes.Buffer) {
	t.Helper()
	creds := k.sim.Tokens()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+mode, envStore+"="+k.path(), envSentry+"="+k.simURL,
		envOrg+"="+creds.Org, envToken+"="+creds.OwnerToken, envRequest+"="+k.id)
	cmd.Env = append(cmd.Env, extraEnv...)
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines, stderr
}

// request reads the request from the store (no child may be running).
func (k *killWorld) request(t *testing.T) *changes.Request {
	t.Helper()
	st, err := store.Open(k.path(), store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := changes.NewStoreRepo(st).Request(context.Background(), k.id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestKill9MidApplyThenRestart kills (SIGKILL) a process applying an
// approved request at three points — while a step's write is on its way
// to Sentry, after Sentry performed it but before the answer arrived, and
// between two steps — then starts a new process on the same store that
// recovers, as the dashboard does at start. Every step must end applied
// exactly once in Sentry, the request applied, the trail intact, and a
// write Sentry already performed must not be sent again.
func TestKill9MidApplyThenRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// hold is the gate mode for write nth; pause kills between steps
		// instead (after step pause is recorded applied).
		hold  string
		nth   int
		pause int
		// wantLeft is the state of each step the killed process left.
		wantLeft []changes.StepState
		// wantReadBack is the step found already in effect at restart.
		wantReadBack int
	}{
		{name: "killed before Sentry performed step 2", hold: "before", nth: 2,
			wantLeft: []changes.StepState{changes.StepApplied, changes.StepApplying, changes.StepApproved}},
		{name: "killed after Sentry performed step 2, before its answer", hold: "after", nth: 2,
			wantLeft:     []changes.StepState{changes.StepApplied, changes.StepApplying, changes.StepApproved},
			wantReadBack: 2},
		{name: "killed between steps 1 and 2", pause: 1,
			wantLeft: []changes.StepState{changes.StepApplied, changes.StepApproved, changes.StepApproved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKillWorld(t)
			var env []string
			if tt.pause > 0 {
				env = append(env, envPauseStep+"="+strconv.Itoa(tt.pause))
			} else {
				k.gate.set(tt.hold, tt.nth)
			}
			cmd, lines, stderr := k.start(t, "apply", env...)
			// Wait for the kill point (bounded, so a broken child fails
			// the test instead of hanging it).
			select {
			case <-k.gate.arrived:
			case l := <-lines:
				if l != pausedLine {
					t.Fatalf("child said %q before the kill point; stderr: %s", l, stderr)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("the child never reached the kill point; stderr: %s", stderr)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if cmd.ProcessState.Success() {
				t.Fatal("the child exited normally instead of being killed")
			}
			k.gate.set("", 0)

			left := k.request(t)
			if left.State != changes.StateApplying {
				t.Errorf("the killed process left the request %s, want applying", left.State)
			}
			for i, want := range tt.wantLeft {
				if left.Steps[i].State != want {
					t.Errorf("the killed process left step %d %s, want %s", i+1, left.Steps[i].State, want)
				}
			}

			before := k.gate.effects()
			cmd, _, stderr = k.start(t, "recover")
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("recover: %v; stderr: %s", err, stderr)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("recover did not finish; stderr: %s", stderr)
			}

			got := k.request(t)
			if got.State != changes.StateApplied {
				t.Errorf("after restart the request is %s, want applied", got.State)
			}
			for i, st := range got.Steps {
				if st.State != changes.StepApplied {
					t.Errorf("step %d is %s, want applied", i+1, st.State)
				}
				if i+1 == tt.wantReadBack && !strings.Contains(st.Result, "already in effect") {
					t.Errorf("step %d result %q, want it read back from Sentry, not sent again", i+1, st.Result)
				}
			}
			for _, ev := range applyEvents {
				want := 1
				if ev == "member.join-team" {
					want = 2 // the team's creator joins it too (organization_teams.py, post)
				}
				if n := auditCount(t, k.rb, ev) - k.base[ev]; n != want {
					t.Errorf("Sentry's audit log gained %d %s rows, want exactly %d", n, ev, want)
				}
			}
			after := k.gate.effects()
			if len(after) != 3 {
				t.Errorf("writes that reached Sentry: %v, want one per step", after)
			}
			for path, n := range after {
				if n != 1 {
					t.Errorf("%s reached Sentry %d times (%d before the restart), want once", path, n, before[path])
				}
			}
			st, err := store.Open(k.path(), store.Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc := changes.New(changes.Config{Repo: changes.NewStoreRepo(st), Snapshots: snapshots{st}, Previewer: changes.EnginePreviewer{},
				Executor: changes.SentryExecutor{API: k.rb}})
			if err := svc.VerifyTrail(context.Background()); err != nil {
				t.Errorf("the audit trail does not verify after the kill: %v", err)
			}
		})
	}
}
