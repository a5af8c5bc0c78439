package syncer_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// env is a simulated Sentry, a real client speaking HTTP to it, a store in
// a temporary directory and a syncer over them.
type env struct {
	now    func() time.Time
	sw     *switchable
	sim    *sentrysim.Server
	srv    *httptest.Server
	client *sentry.Client
	st     *store.Store
	syncer *syncer.Syncer
}

func clock() func() time.Time {
	var mu sync.Mutex
	t := sentrysim.DemoEpoch()
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// newEnv starts the simulator with fx and a syncer using token.
func newEnv(t *testing.T, fx *sentrysim.Fixture, token string, opts syncer.Options) *env {
	t.Helper()
	return newSimEnv(t, fx, sentrysim.Options{}, token, opts)
}

// newSimEnv is newEnv with simulator options (the clock is the env's).
func newSimEnv(t *testing.T, fx *sentrysim.Fixture, simOpts sentrysim.Options, token string, opts syncer.Options) *env {
	t.Helper()
	now := clock()
	simOpts.Now = now
	sim, err := sentrysim.New(fx, simOpts)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	sw := &switchable{h: sim.Handler()}
	srv := httptest.NewServer(sw)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	client, err := sentry.New(sentry.Config{BaseURL: srv.URL, Org: sentrysim.DemoOrgSlug, Token: token, MaxRetries: -1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	opts.Now = now
	opts.SentryURL = srv.URL
	return &env{now: now, sw: sw, sim: sim, srv: srv, client: client, st: st, syncer: syncer.New(client, st, opts)}
}

// switchable serves whichever simulator it was last given.
type switchable struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// becomes makes the environment's Sentry serve fx from now on, as if the
// organization had changed into it.
func (e *env) becomes(t *testing.T, fx *sentrysim.Fixture) {
	t.Helper()
	sim, err := sentrysim.New(fx, sentrysim.Options{Now: e.now})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	e.sw.mu.Lock()
	e.sim, e.sw.h = sim, sim.Handler()
	e.sw.mu.Unlock()
}

// wantFromFixture is what a snapshot of fx must say about members: the
// approved members (Sentry's member list leaves out invite and join
// requests) with their state, org role and — for accepted members, since
// team member lists leave out pending invites — their team memberships.
func wantFromFixture(fx *sentrysim.Fixture) map[string]access.Member {
	out := map[string]access.Member{}
	for _, m := range fx.Members {
		if m.InviteStatus != "" && m.InviteStatus != "approved" {
			continue
		}
		w := access.Member{ID: fmt.Sprint(m.ID), Email: m.Email, OrgRole: m.Role, State: access.StateActive, Teams: []access.Membership{}}
		switch {
		case m.Pending && m.Expired:
			w.State = access.StateExpired
		case m.Pending:
			w.State = access.StatePending
		default:
			for _, tm := range m.Teams {
				w.Teams = append(w.Teams, access.Membership{Team: tm.Team, Role: tm.Role})
			}
			slices.SortFunc(w.Teams, func(a, b access.Membership) int { return cmp.Compare(a.Team, b.Team) })
		}
		out[w.ID] = w
	}
	return out
}

func TestFullSyncStoresTheFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := sentrysim.DemoFixture()
	var stages []string
	e := newEnv(t, fx, sentrysim.DemoOwnerToken, syncer.Options{Concurrency: 3, Progress: func(p syncer.Progress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	}})

	res, err := e.syncer.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	meta, snap, err := e.st.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("result and meta", func(t *testing.T) {
		if res.Kind != store.KindFull || res.Fallback != "" || meta.ID != res.Snapshot.ID || meta.Kind != store.KindFull {
			t.Errorf("got result %+v, meta %+v", res, meta)
		}
		if got := int64(e.sim.Stats().Total); res.Requests != got || meta.Requests != got {
			t.Errorf("requests: result %d, meta %d; simulator saw %d", res.Requests, meta.Requests, got)
		}
		if meta.SentryURL != e.srv.URL || meta.Org != sentrysim.DemoOrgSlug {
			t.Errorf("meta names %q %q, want %q %q", meta.SentryURL, meta.Org, e.srv.URL, sentrysim.DemoOrgSlug)
		}
		if res.AuditRead != len(fx.AuditLog) || res.AuditAdded != len(fx.AuditLog) {
			t.Errorf("audit: read %d, added %d; fixture has %d", res.AuditRead, res.AuditAdded, len(fx.AuditLog))
		}
		if !res.Status.OK || res.Status.Stage != syncer.StageDone || res.Status.SnapshotID != meta.ID {
			t.Errorf("status: got %+v", res.Status)
		}
	})

	t.Run("org and roles", func(t *testing.T) {
		if snap.Org.Slug != "acme" || snap.Org.OpenMembership || !snap.Org.HasAuthProvider || !snap.Org.SCIMEnabled {
			t.Errorf("org: got %+v", snap.Org)
		}
		var roles []string
		for _, r := range snap.OrgRoles {
			roles = append(roles, r.ID)
		}
		if !slices.Contains(roles, "owner") || !slices.Contains(roles, "member") || len(snap.TeamRoles) < 2 {
			t.Errorf("roles: org %v, team %d", roles, len(snap.TeamRoles))
		}
	})

	t.Run("teams projects integrations", func(t *testing.T) {
		var teams []string
		for _, tm := range snap.Teams {
			teams = append(teams, tm.Slug)
		}
		var wantTeams []string
		for _, tm := range fx.Teams {
			wantTeams = append(wantTeams, tm.Slug)
		}
		slices.Sort(wantTeams)
		if !reflect.DeepEqual(teams, wantTeams) {
			t.Errorf("teams: got %v, want %v", teams, wantTeams)
		}
		if len(snap.Projects) != len(fx.Projects) {
			t.Errorf("projects: got %d, want %d", len(snap.Projects), len(fx.Projects))
		}
		for _, p := range fx.Projects {
			i := slices.IndexFunc(snap.Projects, func(sp access.Project) bool { return sp.Slug == p.Slug })
			if i < 0 {
				t.Errorf("project %s missing", p.Slug)
				continue
			}
			want := slices.Sorted(slices.Values(p.Teams))
			if got := snap.Projects[i].Teams; len(got)+len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("project %s teams: got %v, want %v", p.Slug, got, want)
			}
		}
		for _, in := range fx.Integrations {
			if !slices.ContainsFunc(snap.Integrations, func(i access.Integration) bool { return i.Slug == in.Slug && i.Status == "internal" }) {
				t.Errorf("integration %s missing", in.Slug)
			}
		}
	})

	t.Run("members and memberships", func(t *testing.T) {
		want := wantFromFixture(fx)
		if len(snap.Members) != len(want) {
			t.Errorf("members: got %d, want %d", len(snap.Members), len(want))
		}
		for _, m := range snap.Members {
			w, ok := want[m.ID]
			if !ok {
				t.Errorf("unexpected member %s %s", m.ID, m.Email)
				continue
			}
			got := access.Member{ID: m.ID, Email: m.Email, OrgRole: m.OrgRole, State: m.State, Teams: m.Teams}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("member %s:\n got %+v\nwant %+v", m.Email, got, w)
			}
		}
	})

	t.Run("stages in order", func(t *testing.T) {
		want := []string{syncer.StageStart, syncer.StageAuditLog, syncer.StageOrganization, syncer.StageAuthProvider,
			syncer.StageMembers, syncer.StageTeams, syncer.StageTeamMembers, syncer.StageProjects,
			syncer.StageIntegrations, syncer.StageCaller, syncer.StageSave}
		if stages[0] != syncer.StageStart {
			stages = append([]string{syncer.StageStart}, stages...)
		}
		if !reflect.DeepEqual(stages, want) {
			t.Errorf("got %v, want %v", stages, want)
		}
	})

	t.Run("audit archive", func(t *testing.T) {
		rows, _, err := e.st.AuditEntries(ctx, store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(fx.AuditLog) {
			t.Errorf("archived %d entries, want %d", len(rows), len(fx.AuditLog))
		}
		events, _ := e.st.AuditEvents(ctx)
		if !slices.Contains(events, "member.edit") {
			t.Errorf("audit events lack Sentry's options: %v", events)
		}
	})
}

func TestFailedSyncKeepsThePreviousSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{Concurrency: 1})
	first, err := e.syncer.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		failNth   int
		wantStage string
	}{
		{"the organization request fails", 2, syncer.StageOrganization},
		{"a member page fails", 4, syncer.StageMembers},
		{"a team member list fails", 7, syncer.StageTeamMembers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sim.SetFaults(sentrysim.Faults{FailNth: []int{tt.failNth}})
			_, err := e.syncer.Full(ctx)
			if err == nil || !strings.Contains(err.Error(), "stage "+tt.wantStage) {
				t.Fatalf("got %v, want a failure at stage %s", err, tt.wantStage)
			}
			cur, _, err := e.st.CurrentSnapshot(ctx)
			if err != nil || cur.ID != first.Snapshot.ID {
				t.Errorf("current: got %d, %v; want the first snapshot %d", cur.ID, err, first.Snapshot.ID)
			}
			last, err := e.st.LastSyncStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if last.OK || last.Stage != tt.wantStage || !strings.Contains(last.Error, "500") || last.Finished.IsZero() {
				t.Errorf("status: got %+v, want a finished failure at %s naming the 500", last, tt.wantStage)
			}
		})
	}
}

func TestCancelledSyncIsRecordedAsFailed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{Progress: func(p syncer.Progress) {
		if p.Stage == syncer.StageTeamMembers {
			cancel()
		}
	}})

	_, err := e.syncer.Full(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, _, err := e.st.CurrentSnapshot(context.Background()); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("current snapshot: got %v, want none", err)
	}
	last, err := e.st.LastSyncStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last.OK || last.Stage != syncer.StageTeamMembers {
		t.Errorf("status: got %+v, want failed at %s", last, syncer.StageTeamMembers)
	}
}
