package changes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// memRepo is an in-memory Repo with the same contract as store.ChangesRepo.
type memRepo struct {
	mu       sync.Mutex
	seq      int
	requests map[string]*Request
	grants   map[string]*Grant
	trail    []TrailRecord
	head     TrailHead
}

func newMemRepo() *memRepo {
	return &memRepo{requests: map[string]*Request{}, grants: map[string]*Grant{}}
}

func (m *memRepo) appendLocked(recs []TrailRecord) {
	for _, r := range recs {
		var sealed TrailRecord
		sealed, m.head = SealTrailRecord(m.head, r)
		m.trail = append(m.trail, sealed)
	}
}

func (m *memRepo) CreateRequest(_ context.Context, r *Request, trail []TrailRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	r.ID = strconv.Itoa(m.seq)
	for i := range trail {
		trail[i].RequestID = r.ID
	}
	m.requests[r.ID] = r.Clone()
	m.appendLocked(trail)
	return nil
}

func (m *memRepo) Request(_ context.Context, id string) (*Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.requests[id]
	if !ok {
		return nil, fmt.Errorf("request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	return r.Clone(), nil
}

func (m *memRepo) UpdateRequest(_ context.Context, id string, fn func(*Request) ([]TrailRecord, error)) (*Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.requests[id]
	if !ok {
		return nil, fmt.Errorf("request %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	c := r.Clone()
	recs, err := fn(c)
	if err != nil {
		return nil, err
	}
	m.requests[id] = c.Clone()
	m.appendLocked(recs)
	return c, nil
}

func (m *memRepo) ListRequests(_ context.Context, f RequestFilter) ([]Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Request
	for _, r := range m.requests {
		if f.Match(r) {
			out = append(out, *r.Clone())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i].ID)
		b, _ := strconv.Atoi(out[j].ID)
		return a > b
	})
	return out, nil
}

func (m *memRepo) CreateGrant(_ context.Context, g *Grant, trail []TrailRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.grants[g.ID]; ok {
		return fmt.Errorf("grant %s: %w", g.ID, sentryaccess.Errorf(sentryaccess.ECONFLICT, ""))
	}
	c := *g
	m.grants[g.ID] = &c
	m.appendLocked(trail)
	return nil
}

func (m *memRepo) UpdateGrant(_ context.Context, id string, fn func(*Grant) ([]TrailRecord, error)) (*Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.grants[id]
	if !ok {
		return nil, fmt.Errorf("grant %s: %w", id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	c := *g
	recs, err := fn(&c)
	if err != nil {
		return nil, err
	}
	stored := c
	m.grants[id] = &stored
	m.appendLocked(recs)
	return &c, nil
}

func (m *memRepo) ListGrants(_ context.Context, f GrantFilter) ([]Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Grant
	for _, g := range m.grants {
		if f.Match(g) {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	return out, nil
}

func (m *memRepo) AppendTrail(_ context.Context, recs ...TrailRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appendLocked(recs)
	return nil
}

func (m *memRepo) Trail(_ context.Context, f TrailFilter) ([]TrailRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TrailRecord
	for i := range m.trail {
		if f.Match(&m.trail[i]) {
			out = append(out, m.trail[i])
		}
	}
	return out, nil
}

func (m *memRepo) TrailHead(context.Context) (TrailHead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head, nil
}

var errCrash = errors.New("simulated crash")

// crashRepo forwards to a memRepo until its failAt-th write, which it
// refuses without committing, as does every call after it: the process
// "died" there.
type crashRepo struct {
	*memRepo
	failAt, writes int
	dead           bool
}

func (c *crashRepo) write() error {
	if c.dead {
		return errCrash
	}
	c.writes++
	if c.writes == c.failAt {
		c.dead = true
		return errCrash
	}
	return nil
}

func (c *crashRepo) CreateRequest(ctx context.Context, r *Request, t []TrailRecord) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.memRepo.CreateRequest(ctx, r, t)
}

func (c *crashRepo) UpdateRequest(ctx context.Context, id string, fn func(*Request) ([]TrailRecord, error)) (*Request, error) {
	if err := c.write(); err != nil {
		return nil, err
	}
	return c.memRepo.UpdateRequest(ctx, id, fn)
}

func (c *crashRepo) CreateGrant(ctx context.Context, g *Grant, t []TrailRecord) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.memRepo.CreateGrant(ctx, g, t)
}

func (c *crashRepo) UpdateGrant(ctx context.Context, id string, fn func(*Grant) ([]TrailRecord, error)) (*Grant, error) {
	if err := c.write(); err != nil {
		return nil, err
	}
	return c.memRepo.UpdateGrant(ctx, id, fn)
}

func (c *crashRepo) AppendTrail(ctx context.Context, recs ...TrailRecord) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.memRepo.AppendTrail(ctx, recs...)
}

// fakeSentry is an Executor over a tiny model of Sentry's state: facts
// keyed by what a step changes. It counts the calls that changed state.
type fakeSentry struct {
	mu    sync.Mutex
	facts map[string]string
	// effects counts state-changing Execute calls per fact key.
	effects map[string]int
	calls   int
	// faults are consumed one per Execute call, in order; a nil entry
	// means "succeed".
	faults []fault
	// verifyErr, when set, fails every Verify.
	verifyErr error
}

// fault is an injected failure: err is returned; if applied, the effect
// still happened (the response was lost).
type fault struct {
	err     error
	applied bool
}

func newFakeSentry() *fakeSentry {
	return &fakeSentry{facts: map[string]string{}, effects: map[string]int{}}
}

// factOf returns the fact a step sets (value "" means "absent").
func factOf(st Step) (key, value string) {
	p := st.Params
	switch st.Kind {
	case KindTeamAdd:
		return "member:" + p.Member + "@team:" + p.Team, "yes"
	case KindTeamRemove:
		return "member:" + p.Member + "@team:" + p.Team, ""
	case KindProjectLink:
		return "project:" + p.Project + "@team:" + p.Team, "yes"
	case KindProjectUnlink:
		return "project:" + p.Project + "@team:" + p.Team, ""
	case KindTeamCreate:
		return "team:" + p.Team, "yes"
	case KindTeamDelete:
		return "team:" + p.Team, ""
	case KindTeamRole:
		return "teamrole:" + p.Member + "@" + p.Team, p.Role
	case KindOrgRole:
		return "orgrole:" + p.Member, p.Role
	}
	return fmt.Sprintf("done:%s:%v", st.Kind, p), "yes"
}

func (f *fakeSentry) Execute(_ context.Context, st Step) (Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var ft fault
	if len(f.faults) > 0 {
		ft, f.faults = f.faults[0], f.faults[1:]
	}
	if ft.err != nil && !ft.applied {
		return Outcome{}, ft.err
	}
	k, v := factOf(st)
	if f.facts[k] != v {
		f.effects[k]++
		if v == "" {
			delete(f.facts, k)
		} else {
			f.facts[k] = v
		}
	} else if st.Kind == KindMemberInvite || st.Kind == KindTeamCreate {
		// Not idempotent in Sentry: a second call is a conflict.
		return Outcome{}, &ExecError{Status: 409, Message: "already exists"}
	}
	if ft.err != nil {
		return Outcome{}, ft.err
	}
	return Outcome{Status: 201, Result: "ok"}, nil
}

func (f *fakeSentry) Verify(_ context.Context, st Step) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.verifyErr != nil {
		return false, f.verifyErr
	}
	k, v := factOf(st)
	return f.facts[k] == v, nil
}

func (f *fakeSentry) effectCount(st Step) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, _ := factOf(st)
	return f.effects[k]
}

// fakeSnapshots returns a fixed snapshot.
type fakeSnapshots struct{ s *access.Snapshot }

func (f fakeSnapshots) Current(context.Context) (*access.Snapshot, error) { return f.s, nil }

// fakePreviewer blocks steps whose Params.Name is "blocked" and reports a
// delta per team-add.
type fakePreviewer struct{}

func (fakePreviewer) Preview(_ *access.Snapshot, steps []Step) (Preview, error) {
	var p Preview
	for _, st := range steps {
		if st.Params.Name == "blocked" {
			p.Violations = append(p.Violations, Violation{Step: st.Index, Code: "test", Message: "blocked by test", Blocking: true})
		}
		if st.Kind == KindTeamAdd {
			p.Deltas = append(p.Deltas, AccessDelta{Member: st.Params.Member, Project: "p-" + st.Params.Team, GainsAccess: true})
		}
	}
	return p, nil
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func demoSnapshot() *access.Snapshot {
	return &access.Snapshot{
		Org: access.Org{Slug: "acme"},
		// The configured token is the owner's.
		Caller: access.ActingIdentity{Kind: access.CallerUser, UserID: "u1", Email: "owner@acme.test", MemberID: "1", OrgRole: "owner"},
		Members: []access.Member{
			{ID: "1", Email: "owner@acme.test", OrgRole: "owner", State: access.StateActive},
			{ID: "2", Email: "ana@acme.test", OrgRole: "member", State: access.StateActive,
				Teams: []access.Membership{{Team: "payments", Role: "contributor"}}},
			{ID: "3", Email: "bob@acme.test", OrgRole: "member", State: access.StateActive},
			{ID: "4", Email: "vic@acme.test", OrgRole: "member", State: access.StateActive},
		},
		Teams: []access.Team{{ID: "10", Slug: "payments"}, {ID: "11", Slug: "identity"}},
		Projects: []access.Project{
			{ID: "100", Slug: "payment-api", Teams: []string{"payments"}},
			{ID: "101", Slug: "auth-service", Teams: []string{"identity"}},
		},
	}
}

// harness is a Service over fakes.
type harness struct {
	repo   *memRepo
	sentry *fakeSentry
	clock  *testClock
	sleeps []time.Duration
	resync []Touched
	svc    *Service

	mu   sync.Mutex
	held []func()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{repo: newMemRepo(), sentry: newFakeSentry(),
		clock: &testClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	h.svc = h.service(h.repo)
	return h
}

// service returns a fresh Service ("process") over repo and the shared
// fake Sentry.
func (h *harness) service(repo Repo) *Service {
	return New(Config{
		Repo: repo, Snapshots: fakeSnapshots{demoSnapshot()}, Previewer: fakePreviewer{},
		Executor: h.sentry, Now: h.clock.Now,
		Sleep: func(_ context.Context, d time.Duration) error {
			h.sleeps = append(h.sleeps, d)
			return nil
		},
		Resync: func(_ context.Context, t Touched) error {
			h.resync = append(h.resync, t)
			return nil
		},
		Backoff:    time.Second,
		Background: h.hold,
	})
}

// hold keeps the work Approve starts in the background (the apply after
// the last approval) for the test to run, or not: most tests apply
// explicitly, step by step.
func (h *harness) hold(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = append(h.held, fn)
}

// runHeld runs the held background work.
func (h *harness) runHeld() {
	h.mu.Lock()
	fns := h.held
	h.held = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

var (
	owner    = sentryaccess.Actor{Email: "owner@acme.test", Role: sentryaccess.RoleAdmin}
	approver = sentryaccess.Actor{Email: "ana@acme.test", Role: sentryaccess.RoleApprover}
	second   = sentryaccess.Actor{Email: "bob@acme.test", Role: sentryaccess.RoleApprover}
	viewer   = sentryaccess.Actor{Email: "vic@acme.test", Role: sentryaccess.RoleViewer}
)

// approved creates a request by owner and has it approved by enough
// approvers.
func (h *harness) approved(t *testing.T, in NewRequest) *Request {
	t.Helper()
	ctx := context.Background()
	r, err := h.svc.Create(ctx, owner, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, a := range []sentryaccess.Actor{approver, second}[:r.Required] {
		if r, err = h.svc.Approve(ctx, a, r.ID, "ok"); err != nil {
			t.Fatalf("Approve by %s: %v", a.Email, err)
		}
	}
	if r.State != StateApproved {
		t.Fatalf("state after approvals = %s, want approved", r.State)
	}
	return r
}

func stepStates(r *Request) []StepState {
	out := make([]StepState, len(r.Steps))
	for i, s := range r.Steps {
		out[i] = s.State
	}
	return out
}

func equalStates(a, b []StepState) bool { return slices.Equal(a, b) }
