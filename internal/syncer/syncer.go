// Package syncer reads an organization's members, teams, projects, roles
// and integrations from Sentry, turns them into an access.Snapshot and saves
// it in the store. A full sync reads everything; an incremental sync reads
// the audit log since the last snapshot and refetches only what it names.
// Every run is recorded as a store.SyncStatus; a failed or interrupted run
// names the stage it failed in and leaves the previous snapshot current.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Source is the part of the Sentry client (*sentry.Client) a sync reads.
// Methods fail with errors matching sentry.ErrForbidden, sentry.ErrNotFound,
// sentry.ErrRateLimited and the other sentry sentinels, or ctx's error.
type Source interface {
	// Organization returns the org settings and its role lists.
	Organization(ctx context.Context) (*sentry.Organization, error)
	// APIIndex returns who the token authenticates as (GET /api/0/).
	APIIndex(ctx context.Context) (*sentry.APIIndex, error)
	// Members iterates over the approved members (active and pending).
	Members(ctx context.Context, q sentry.MemberQuery) iter.Seq2[sentry.Member, error]
	// Member returns one member; sentry.ErrNotFound when it is gone.
	Member(ctx context.Context, id string) (*sentry.Member, error)
	// ListTeams returns every team.
	ListTeams(ctx context.Context) ([]sentry.Team, error)
	// Teams iterates over every team, page by page.
	Teams(ctx context.Context) iter.Seq2[sentry.Team, error]
	// ListTeamMembers returns a team's members with their stored team
	// roles; sentry.ErrNotFound when the team is gone.
	ListTeamMembers(ctx context.Context, teamSlug string) ([]sentry.TeamMember, error)
	// Projects returns every project with its teams.
	Projects(ctx context.Context) ([]sentry.Project, error)
	// SentryApps returns the org's Sentry Apps.
	SentryApps(ctx context.Context) ([]sentry.SentryApp, error)
	// AuthProvider returns the SSO provider, nil when none.
	AuthProvider(ctx context.Context) (*sentry.AuthProvider, error)
	// ListAuditLogs returns the audit-log rows since q.Since, newest
	// first; sentry.ErrForbidden without org:write.
	ListAuditLogs(ctx context.Context, q sentry.AuditQuery) (*sentry.AuditLogPage, error)
	// Requests returns the number of HTTP requests made so far.
	Requests() int64
}

// Sync stages, as named in Progress and in a failed SyncStatus.
const (
	StageStart        = "start"
	StageAuditLog     = "audit-log"
	StageOrganization = "organization"
	StageAuthProvider = "auth-provider"
	StageMembers      = "members"
	StageTeams        = "teams"
	StageTeamMembers  = "team-members"
	StageProjects     = "projects"
	StageIntegrations = "integrations"
	// StageCaller reads who the token acts as (GET /api/0/); a failure
	// there is recorded in the snapshot's Caller, not a failed sync.
	StageCaller = "caller"
	StageSave   = "save"
	StageDone   = "done"
)

// Defaults applied by New.
const (
	DefaultConcurrency  = 4
	DefaultAuditOverlap = 5 * time.Minute
)

// ErrBusy reports that a sync is already running in this Syncer.
var ErrBusy = errors.New("a sync is already running")

// Options configure a Syncer.
type Options struct {
	// Concurrency bounds the requests a full sync has in flight at once
	// (1 reads one thing after another), and an incremental sync's
	// parallel per-team member lists; DefaultConcurrency when zero.
	Concurrency int
	// Logger receives one line per finished run; discarded when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// SentryURL is recorded in each snapshot's meta.
	SentryURL string
	// AuditOverlap is how far before the last snapshot's newest audit
	// entry an incremental sync starts reading; DefaultAuditOverlap when 0.
	AuditOverlap time.Duration
	// Progress, when set, is called (never concurrently) as a run moves
	// through its stages and items.
	Progress func(Progress)
}

// Progress reports how far a run got: Done of Total items (Total 0 when
// unknown) in Stage.
type Progress struct {
	Kind  store.SnapshotKind
	Stage string
	Done  int
	Total int
}

// Result describes a finished run.
type Result struct {
	// Snapshot is the meta of the saved snapshot (of the current one when
	// an incremental run found nothing new, see Unchanged).
	Snapshot store.SnapshotMeta
	// Kind is what the run did: full, or incremental.
	Kind store.SnapshotKind
	// Fallback says why an incremental run did a full sync instead.
	Fallback string
	// Unchanged reports whether an incremental run found no change and
	// saved no new snapshot.
	Unchanged bool
	// Requests is the number of Sentry API requests the run made.
	Requests int64
	// Duration is the run's wall time.
	Duration time.Duration
	// AuditRead and AuditAdded count the audit entries read and newly
	// archived.
	AuditRead, AuditAdded int
	// AuditError says why the audit log could not be read during a full
	// sync (the snapshot does not need it), e.g. a 403 without org:write.
	AuditError string
	// Status is the recorded run.
	Status store.SyncStatus
}

// Syncer runs syncs from one Source into one Store. It runs one sync at a
// time.
type Syncer struct {
	src   Source
	st    *store.Store
	opts  Options
	log   *slog.Logger
	now   func() time.Time
	runMu sync.Mutex
}

// New returns a Syncer.
func New(src Source, st *store.Store, opts Options) *Syncer {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.AuditOverlap <= 0 {
		opts.AuditOverlap = DefaultAuditOverlap
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Syncer{src: src, st: st, opts: opts, log: opts.Logger, now: opts.Now}
}

// Full reads everything from Sentry and saves a new current snapshot. It
// also archives the audit entries since the newest archived one. It fails
// with ErrBusy when another sync is running.
func (s *Syncer) Full(ctx context.Context) (Result, error) {
	if !s.runMu.TryLock() {
		return Result{}, ErrBusy
	}
	defer s.runMu.Unlock()
	return s.run(ctx, store.KindFull, func(r *run) (*access.Snapshot, error) { return s.full(r) })
}

// run records the start and the end of a run around build, and saves the
// snapshot build returns (nil: nothing new to save).
func (s *Syncer) run(ctx context.Context, kind store.SnapshotKind, build func(r *run) (*access.Snapshot, error)) (Result, error) {
	r := &run{s: s, ctx: ctx, started: s.now(), requests0: s.src.Requests(), kind: kind}
	// Status writes must happen even when ctx is cancelled.
	bg := context.WithoutCancel(ctx)
	status, err := s.st.RecordSyncStatus(bg, store.SyncStatus{Kind: kind, Started: r.started, Stage: StageStart})
	if err != nil {
		return Result{}, fmt.Errorf("sync: %w", err)
	}
	r.status = status

	snap, err := build(r)
	if err == nil && snap != nil {
		r.setStage(StageSave, 0)
		r.res.Snapshot, err = s.st.SaveSnapshot(ctx, store.SnapshotMeta{
			Kind: r.res.Kind, BaseID: r.baseID, SentryURL: s.opts.SentryURL,
			Duration: s.now().Sub(r.started), Requests: s.src.Requests() - r.requests0,
			AuditHighWater: r.highWater,
		}, snap)
		if err != nil {
			err = fmt.Errorf("save snapshot: %w", err)
		}
	}
	r.res.Requests = s.src.Requests() - r.requests0
	r.res.Duration = s.now().Sub(r.started)
	if r.res.Kind == "" {
		r.res.Kind = kind
	}

	r.mu.Lock()
	st := r.status
	r.mu.Unlock()
	st.Kind, st.Finished, st.Requests, st.Fallback = r.res.Kind, s.now(), r.res.Requests, r.res.Fallback
	st.SnapshotID = r.res.Snapshot.ID
	if err != nil {
		st.OK, st.Error = false, failureText(err)
	} else {
		st.OK, st.Stage = true, StageDone
	}
	recorded, err2 := s.st.RecordSyncStatus(bg, st)
	if err2 != nil && err == nil {
		err = fmt.Errorf("sync: %w", err2)
	}
	r.res.Status = recorded
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "sync failed", slog.String("kind", string(st.Kind)), slog.String("stage", st.Stage),
			slog.Int64("requests", st.Requests), slog.String("error", err.Error()))
		return r.res, fmt.Errorf("%s sync failed at stage %s: %w", r.res.Kind, st.Stage, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "sync finished", slog.String("kind", string(r.res.Kind)),
		slog.Uint64("snapshot", r.res.Snapshot.ID), slog.Int64("requests", r.res.Requests),
		slog.Duration("duration", r.res.Duration), slog.String("fallback", r.res.Fallback), slog.Bool("unchanged", r.res.Unchanged))
	return r.res, nil
}

// run is the state of one sync run.
type run struct {
	s         *Syncer
	ctx       context.Context
	started   time.Time
	requests0 int64
	kind      store.SnapshotKind
	baseID    uint64
	highWater time.Time
	// auditLog is the audit log's shape (access.AuditLogRows or
	// AuditLogBareList), "" when it was not read.
	auditLog string
	res      Result

	mu     sync.Mutex // guards status and progress callbacks
	status store.SyncStatus
}

// setStage enters a stage with total items (0 when unknown), records it and
// reports progress.
func (r *run) setStage(stage string, total int) {
	r.mu.Lock()
	r.status.Stage, r.status.Progress = stage, store.SyncProgress{Total: total}
	st := r.status
	r.report()
	r.mu.Unlock()
	if _, err := r.s.st.RecordSyncStatus(context.WithoutCancel(r.ctx), st); err != nil {
		r.s.log.Warn("record sync progress", slog.String("error", err.Error()))
	}
}

// step marks n more items done in the current stage.
func (r *run) step(n int) {
	r.mu.Lock()
	r.status.Progress.Done += n
	r.report()
	r.mu.Unlock()
}

// report calls the Progress callback; r.mu is held.
func (r *run) report() {
	if f := r.s.opts.Progress; f != nil {
		f(Progress{Kind: r.kind, Stage: r.status.Stage, Done: r.status.Progress.Done, Total: r.status.Progress.Total})
	}
}

// full reads everything and builds the snapshot.
//
// The audit log is read first: whatever it names is then reflected in the
// state read after it, so an incremental run may start from its newest
// entry. The state is then read in independent chains: the organization
// and its auth provider; the member pages; the team pages, each team's
// member list fetched as soon as its page arrives; the projects (one
// unpaginated request); the Sentry Apps. With Concurrency 1 the chains run
// one after another in that order; otherwise they run at once, with at
// most Concurrency requests in flight (a paged chain holds one slot while
// it pages). No request is made per member.
//
// Progress reports the chains as if they ran in that order (see tracker).
// A failed run records the stage of the chain that failed; a cancelled one
// the stage its progress had reached.
func (s *Syncer) full(r *run) (*access.Snapshot, error) {
	ctx := r.ctx
	r.res.Kind = store.KindFull

	r.setStage(StageAuditLog, 0)
	since, err := s.st.LatestAuditTime(ctx)
	if err != nil {
		return nil, err
	}
	r.highWater = since
	if !since.IsZero() {
		since = since.Add(-s.opts.AuditOverlap)
	}
	if _, err := s.readAudit(r, since); errors.Is(err, sentry.ErrForbidden) {
		r.res.AuditError = err.Error()
		s.log.Warn("audit log not readable; incremental syncs will fall back to full syncs", slog.String("error", err.Error()))
	} else if err != nil {
		return nil, err
	}

	var (
		o         *sentry.Organization
		ap        *sentry.AuthProvider
		members   = map[string]*access.Member{}
		teams     []access.Team
		listsMu   sync.Mutex
		lists     = map[string][]sentry.TeamMember{}
		projects  []access.Project
		apps      []sentry.SentryApp
		idx       *sentry.APIIndex
		idxErr    error
		sem       = make(chan struct{}, s.opts.Concurrency)
		sequenced = s.opts.Concurrency == 1
	)
	// slot takes one of the Concurrency request slots; release it with
	// the returned function.
	slot := func(ctx context.Context) (func(), error) {
		select {
		case sem <- struct{}{}:
			return func() { <-sem }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// one runs a single request in a slot.
	one := func(ctx context.Context, f func(context.Context) error) error {
		release, err := slot(ctx)
		if err != nil {
			return err
		}
		defer release()
		return f(ctx)
	}
	tr := newTracker(r, StageOrganization, StageAuthProvider, StageMembers, StageTeams, StageTeamMembers, StageProjects, StageIntegrations, StageCaller)
	tr.total(StageOrganization, 1)
	tr.total(StageAuthProvider, 1)
	tr.total(StageProjects, 1)
	tr.total(StageIntegrations, 1)
	tr.total(StageCaller, 1)

	chains := []struct {
		stage string
		run   func(ctx context.Context) error
	}{
		{StageOrganization, func(ctx context.Context) error {
			return one(ctx, func(ctx context.Context) (err error) {
				if o, err = s.src.Organization(ctx); err == nil {
					tr.step(StageOrganization, 1)
				}
				return err
			})
		}},
		{StageAuthProvider, func(ctx context.Context) error {
			return one(ctx, func(ctx context.Context) (err error) {
				if ap, err = s.src.AuthProvider(ctx); err == nil {
					tr.step(StageAuthProvider, 1)
				}
				return err
			})
		}},
		{StageMembers, func(ctx context.Context) error {
			return one(ctx, func(ctx context.Context) error {
				for m, err := range s.src.Members(ctx, sentry.MemberQuery{}) {
					if err != nil {
						return err
					}
					mm := mapMember(m)
					members[mm.ID] = &mm
					tr.step(StageMembers, 1)
				}
				return nil
			})
		}},
		{StageTeams, func(ctx context.Context) error {
			// Team member lists are fetched as their teams arrive; the
			// stage of a failed list is team-members.
			fan, fctx := errgroup.WithContext(ctx)
			fetch := func(slug string) {
				fan.Go(func() error {
					return one(fctx, func(ctx context.Context) error {
						list, err := s.src.ListTeamMembers(ctx, slug)
						if err != nil {
							return stageError{StageTeamMembers, err}
						}
						listsMu.Lock()
						lists[slug] = list
						listsMu.Unlock()
						tr.step(StageTeamMembers, 1)
						return nil
					})
				})
			}
			var later []string // the lists to read after the team pages (sequenced)
			err := one(fctx, func(ctx context.Context) error {
				for t, err := range s.src.Teams(ctx) {
					if err != nil {
						return err
					}
					teams = append(teams, mapTeam(t))
					tr.step(StageTeams, 1)
					if noMembers(t) {
						continue
					}
					tr.total(StageTeamMembers, 1)
					if sequenced {
						later = append(later, t.Slug)
					} else {
						fetch(t.Slug)
					}
				}
				return nil
			})
			if err == nil {
				tr.finish(StageTeams)
				for _, slug := range later {
					fetch(slug)
				}
			} else {
				err = stageError{StageTeams, err}
			}
			if ferr := fan.Wait(); err == nil {
				err = ferr
			}
			if err == nil {
				tr.finish(StageTeamMembers)
			}
			return err
		}},
		{StageProjects, func(ctx context.Context) error {
			return one(ctx, func(ctx context.Context) error {
				ps, err := s.src.Projects(ctx)
				if err != nil {
					return err
				}
				projects = make([]access.Project, 0, len(ps))
				for _, p := range ps {
					projects = append(projects, mapProject(p))
				}
				tr.step(StageProjects, 1)
				return nil
			})
		}},
		{StageIntegrations, func(ctx context.Context) error {
			return one(ctx, func(ctx context.Context) (err error) {
				if apps, err = s.src.SentryApps(ctx); err == nil {
					tr.step(StageIntegrations, 1)
				}
				return err
			})
		}},
		{StageCaller, func(ctx context.Context) error {
			return one(ctx, func(ctx context.Context) error {
				idx, idxErr = s.readCaller(ctx)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				tr.step(StageCaller, 1)
				return nil
			})
		}},
	}
	// run runs a chain and marks its stage finished (the teams chain
	// finishes its two stages itself); an error names the chain's stage
	// unless it names its own.
	run := func(ctx context.Context, stage string, f func(context.Context) error) error {
		if err := f(ctx); err != nil {
			var se stageError
			if !errors.As(err, &se) {
				err = stageError{stage, err}
			}
			return err
		}
		if stage != StageTeams {
			tr.finish(stage)
		}
		return nil
	}
	if sequenced {
		for _, c := range chains {
			if err = run(ctx, c.stage, c.run); err != nil {
				break
			}
		}
	} else {
		g, gctx := errgroup.WithContext(ctx)
		for _, c := range chains {
			g.Go(func() error { return run(gctx, c.stage, c.run) })
		}
		err = g.Wait()
	}
	if err == nil {
		err = ctx.Err() // cancelled after the last request
	}
	if err != nil {
		var se stageError
		if errors.As(err, &se) {
			err = se.err
			if ctx.Err() == nil {
				tr.failed(se.stage)
			}
		}
		return nil, err
	}

	org, orgRoles, teamRoles, fields := mapOrg(o, ap)
	for _, t := range teams {
		// Team member lists name only approved members, which the member
		// list holds; a stranger means the org changed mid-sync.
		var unknown []string
		for _, tm := range lists[t.Slug] {
			m := members[tm.ID]
			if m == nil {
				unknown = append(unknown, tm.ID)
				continue
			}
			m.Teams = append(m.Teams, access.Membership{Team: t.Slug, Role: derefString(tm.TeamRole)})
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("team %s lists members %v missing from the member list (the org changed during the sync; retry)", t.Slug, unknown)
		}
	}
	snap := assemble(org, orgRoles, teamRoles, members, teams, projects, mapIntegrations(apps))
	snap.Server = serverInfo(s.opts.SentryURL, o, r.auditLog, fields)
	snap.Caller = actingIdentity(idx, idxErr, o, snap.Members, snap.Integrations)
	return snap, nil
}

// noMembers reports whether a team's member list is known to be empty
// without reading it: the team list's memberCount counts the team's
// approved memberships, a superset of what the team's member list returns
// (approved members with an active user or no user yet), in every version
// read (get_member_totals in src/sentry/api/serializers/models/team.py;
// TeamMembersEndpoint in src/sentry/core/endpoints/team_members.py). A
// server that leaves memberCount out gets its list read
// (docs/sentry-access-model.md#the-fewest-requests-for-team-roles).
func noMembers(t sentry.Team) bool { return t.MemberCount != nil && *t.MemberCount == 0 }

// readCaller reads GET /api/0/. Its failure is logged and returned for the
// snapshot to record: the snapshot does not need it.
func (s *Syncer) readCaller(ctx context.Context) (*sentry.APIIndex, error) {
	idx, err := s.src.APIIndex(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("could not read who the token acts as", slog.String("error", err.Error()))
	}
	return idx, err
}

// derefString returns *p, or "" for nil (Sentry's null team role).
func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// stageError names the stage a full sync's chain failed in.
type stageError struct {
	stage string
	err   error
}

func (e stageError) Error() string { return e.err.Error() }
func (e stageError) Unwrap() error { return e.err }

// tracker reports the progress of a full sync's stages, which may run at
// the same time, as if they ran one after another in a fixed order: the
// stage reported (and recorded in the run's SyncStatus) is the first one
// not finished yet, with its own count. When it finishes, the next one is
// entered and reported, even if it finished earlier, so Progress sees every
// stage once, in order, and the slowest chain holds the display. A
// cancelled run stops advancing. All methods are safe for concurrent use.
type tracker struct {
	r     *run
	order []string
	at    int
	prog  map[string]*store.SyncProgress
	done  map[string]bool
}

// newTracker enters the first stage.
func newTracker(r *run, order ...string) *tracker {
	t := &tracker{r: r, order: order, prog: map[string]*store.SyncProgress{}, done: map[string]bool{}}
	for _, st := range order {
		t.prog[st] = &store.SyncProgress{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.enter()
	return t
}

// total adds n items to a stage's total.
func (t *tracker) total(stage string, n int) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.prog[stage].Total += n
	t.show(stage)
}

// step marks n more items of a stage done.
func (t *tracker) step(stage string, n int) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.prog[stage].Done += n
	t.show(stage)
}

// finish marks a stage finished and moves past every finished stage.
func (t *tracker) finish(stage string) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.done[stage] = true
	for t.at < len(t.order) && t.done[t.order[t.at]] && t.r.ctx.Err() == nil {
		t.at++
		if t.at < len(t.order) {
			t.enter()
		}
	}
}

// failed makes the run's status name the stage that failed.
func (t *tracker) failed(stage string) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.r.status.Stage, t.r.status.Progress = stage, *t.prog[stage]
}

// show reports a stage's progress when it is the current one; r.mu is
// held.
func (t *tracker) show(stage string) {
	if t.at < len(t.order) && t.order[t.at] == stage {
		t.r.status.Progress = *t.prog[stage]
		t.r.report()
	}
}

// enter records and reports the current stage; r.mu is held (so that
// status records stay in order).
func (t *tracker) enter() {
	stage := t.order[t.at]
	t.r.status.Stage, t.r.status.Progress = stage, *t.prog[stage]
	t.r.report()
	if _, err := t.r.s.st.RecordSyncStatus(context.WithoutCancel(t.r.ctx), t.r.status); err != nil {
		t.r.s.log.Warn("record sync progress", slog.String("error", err.Error()))
	}
}

// teamMembers fetches the member lists of the given teams, at most
// Concurrency at a time.
func (s *Syncer) teamMembers(r *run, slugs []string) (map[string][]sentry.TeamMember, error) {
	r.setStage(StageTeamMembers, len(slugs))
	var mu sync.Mutex
	out := make(map[string][]sentry.TeamMember, len(slugs))
	g, ctx := errgroup.WithContext(r.ctx)
	g.SetLimit(s.opts.Concurrency)
	for _, slug := range slugs {
		g.Go(func() error {
			list, err := s.src.ListTeamMembers(ctx, slug)
			if err != nil {
				return err
			}
			mu.Lock()
			out[slug] = list
			mu.Unlock()
			r.step(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// readAudit reads the audit log since the given time, archives what it read
// and moves the run's high-water mark. It returns the rows, newest first.
func (s *Syncer) readAudit(r *run, since time.Time) ([]sentry.AuditLogEntry, error) {
	page, err := s.src.ListAuditLogs(r.ctx, sentry.AuditQuery{Since: since})
	if err != nil {
		return nil, err
	}
	r.step(len(page.Rows))
	r.auditLog = access.AuditLogRows
	if page.BareList {
		r.auditLog = access.AuditLogBareList
	}
	added, err := s.st.AppendAuditEntries(r.ctx, page.Rows)
	if err != nil {
		return nil, err
	}
	if len(page.Options) > 0 {
		if err := s.st.SetAuditOptions(r.ctx, page.Options); err != nil {
			return nil, err
		}
	}
	r.res.AuditRead += len(page.Rows)
	r.res.AuditAdded += added
	for _, e := range page.Rows {
		if e.DateCreated.After(r.highWater) {
			r.highWater = e.DateCreated
		}
	}
	return page.Rows, nil
}
