// Package explore is the dashboard's read model: it holds the current
// snapshot with its access.Engine and answers the read pages' questions
// ("who can reach what, and why") with view-ready structs. Filtering,
// sorting and pagination happen here, over indexes built once per snapshot
// (per-member reach, team and project rows), so a page over 10,000 members,
// 1,000 teams and 3,000 projects is a scan of precomputed rows, never a
// recomputation of access.
//
// The package does no HTTP and no rendering; errors are sentryaccess.Errors
// (a code and a message safe to show), which the HTTP layer maps to a
// status.
package explore

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// PageSize is the number of rows on a list page.
const PageSize = 50

// Source is what the read model reads: the store (*store.Store).
type Source interface {
	// CurrentSnapshot returns the newest snapshot; ENOTFOUND when none.
	CurrentSnapshot(ctx context.Context) (store.SnapshotMeta, *access.Snapshot, error)
	// Snapshot returns one snapshot; ENOTFOUND when it is unknown.
	Snapshot(ctx context.Context, id uint64) (store.SnapshotMeta, *access.Snapshot, error)
	// ListSnapshots returns every snapshot's meta, newest first.
	ListSnapshots(ctx context.Context) ([]store.SnapshotMeta, error)
	// LastSyncStatus returns the last sync run; ENOTFOUND when none.
	LastSyncStatus(ctx context.Context) (store.SyncStatus, error)
}

func invalid(format string, args ...any) error {
	return sentryaccess.Errorf(sentryaccess.EINVALID, format, args...)
}

func notFound(format string, args ...any) error {
	return sentryaccess.Errorf(sentryaccess.ENOTFOUND, format, args...)
}

// noSnapshot is the error of pages that need data before the first sync.
func noSnapshot() error {
	return sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "No snapshot yet: run a sync with Sentry first.")
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Connection describes the configured Sentry connection (Connection page).
	Connection ConnectionConfig
}

// Service is the read model. Build it with New, call Reload after each
// saved snapshot; it is safe for concurrent use (readers see one immutable
// state through an atomic pointer).
type Service struct {
	src      Source
	opts     Options
	log      *slog.Logger
	cur      atomic.Pointer[state]
	reloadMu sync.Mutex
}

// New returns a Service over src. It holds no snapshot until Reload.
func New(src Source, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{src: src, opts: opts, log: opts.Logger}
}

// Reload reads the current snapshot (and the one before it, for "what
// changed") and rebuilds the indexes. Without any snapshot it leaves the
// service empty and returns nil. Readers keep the old state until the new
// one is complete.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	meta, snap, err := s.src.CurrentSnapshot(ctx)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		s.cur.Store(nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if old := s.cur.Load(); old != nil && old.meta.ID == meta.ID {
		return nil
	}
	st := build(meta, access.New(snap))
	metas, err := s.src.ListSnapshots(ctx)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	for _, m := range metas {
		if m.ID < meta.ID {
			pm, prev, err := s.src.Snapshot(ctx, m.ID)
			if err != nil {
				return fmt.Errorf("reload: previous snapshot: %w", err)
			}
			d := access.Diff(prev, snap)
			st.prev, st.diff = &pm, &d
			break
		}
	}
	s.cur.Store(st)
	return nil
}

// Show makes meta, whose engine is eng, the current snapshot, with the
// snapshot before it (prev, nil for the first) and the diff between them
// for "what changed": what a sync hands on, so the read model neither reads
// nor diffs the pair again. An older snapshot than the one shown is
// ignored.
func (s *Service) Show(meta store.SnapshotMeta, eng *access.Engine, prev *store.SnapshotMeta, diff *access.SnapshotDiff) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if old := s.cur.Load(); old != nil && old.meta.ID >= meta.ID {
		return
	}
	st := build(meta, eng)
	st.prev, st.diff = prev, diff
	s.cur.Store(st)
}

// state is one snapshot with its indexes. It is never mutated once stored.
type state struct {
	meta store.SnapshotMeta
	snap *access.Snapshot
	eng  *access.Engine
	prev *store.SnapshotMeta  // the snapshot before, if any
	diff *access.SnapshotDiff // prev → current, if prev

	roleRank map[string]int // org role id → priority (unknown: -1)
	members  []memberRow    // sorted by email
	byID     map[string]int
	byEmail  map[string]int // lowercased email → member index
	byRole   []int          // member indexes: highest role first, then email
	byReach  []int          // member indexes: most projects first, then email
	// byRoleAsc and byReachAsc are the other way round, ties still by email.
	byRoleAsc, byReachAsc []int
	// inEmailOrder is 0..n-1 (the members' own order), inEmailOrderDesc reversed.
	inEmailOrder, inEmailOrderDesc []int
	// memberText, teamText and projectText index the rows' search texts.
	memberText, teamText, projectText textIndex

	teams      []teamRow // sorted by slug
	teamBySlug map[string]int
	teamSlugs  []string // in slug order, for the lists' team filters (shared)
	teamSeats  [][]int  // team index → member indexes (by email)

	projects      []projectRow // sorted by slug
	projectBySlug map[string]int
}

type memberRow struct {
	m        *access.Member
	search   string // lowercased email and name
	teams    []string
	reach    int
	global   bool
	globalBy string // why the member has global access
	// restricted reports whether the member is over the plan's member
	// limit: Sentry refuses it, so it reaches nothing.
	restricted bool
}

type teamRow struct {
	t        *access.Team
	search   string // lowercased slug and name
	members  int
	projects []string
}

type projectRow struct {
	p      *access.Project
	search string // lowercased slug and name
	filter string // lowercased slug, name and platform (the list's search)
	reach  int    // active members who reach it
}

func build(meta store.SnapshotMeta, eng *access.Engine) *state {
	snap := eng.Snapshot()
	st := &state{meta: meta, snap: snap, eng: eng, roleRank: map[string]int{}}
	roles := eng.OrgRoles()
	for i, r := range roles {
		st.roleRank[r.ID] = i
	}
	reach := map[string]access.MemberReach{}
	for _, r := range eng.Stats().Reach {
		reach[r.ID] = r
	}

	st.teams = make([]teamRow, len(snap.Teams))
	st.teamBySlug = make(map[string]int, len(snap.Teams))
	order := make([]int, len(snap.Teams))
	for i := range snap.Teams {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(snap.Teams[a].Slug, snap.Teams[b].Slug) })
	for pos, i := range order {
		st.teams[pos] = teamRow{t: &snap.Teams[i], search: strings.ToLower(snap.Teams[i].Slug + " " + snap.Teams[i].Name)}
		st.teamSlugs = append(st.teamSlugs, snap.Teams[i].Slug)
		st.teamBySlug[snap.Teams[i].Slug] = pos
	}

	st.projects = make([]projectRow, len(snap.Projects))
	st.projectBySlug = make(map[string]int, len(snap.Projects))
	porder := make([]int, len(snap.Projects))
	for i := range snap.Projects {
		porder[i] = i
	}
	slices.SortFunc(porder, func(a, b int) int { return strings.Compare(snap.Projects[a].Slug, snap.Projects[b].Slug) })
	for pos, i := range porder {
		p := &snap.Projects[i]
		st.projects[pos] = projectRow{p: p, search: strings.ToLower(p.Slug + " " + p.Name),
			filter: strings.ToLower(p.Slug + " " + p.Name + " " + p.Platform)}
		st.projectBySlug[p.Slug] = pos
		for _, t := range p.Teams {
			if ti, ok := st.teamBySlug[t]; ok {
				st.teams[ti].projects = append(st.teams[ti].projects, p.Slug)
			}
		}
	}

	st.members = make([]memberRow, 0, len(snap.Members))
	morder := make([]int, len(snap.Members))
	for i := range snap.Members {
		morder[i] = i
	}
	slices.SortFunc(morder, func(a, b int) int {
		ma, mb := &snap.Members[a], &snap.Members[b]
		return cmpStrings(strings.ToLower(ma.Email), strings.ToLower(mb.Email), ma.ID, mb.ID)
	})
	st.byID = make(map[string]int, len(snap.Members))
	st.byEmail = make(map[string]int, len(snap.Members))
	st.teamSeats = make([][]int, len(st.teams))
	globalCount := 0
	for _, i := range morder {
		m := &snap.Members[i]
		row := memberRow{m: m, search: strings.ToLower(m.Email + " " + m.Name)}
		for _, ms := range m.Teams {
			row.teams = append(row.teams, ms.Team)
		}
		slices.Sort(row.teams)
		row.teams = slices.Compact(row.teams)
		if r, ok := reach[m.ID]; ok {
			row.reach, row.global, row.restricted = r.Projects, r.Global, r.Restricted
		}
		if row.global {
			globalCount++
			row.globalBy = globalBy(snap.Org, roles, m.OrgRole)
		}
		idx := len(st.members)
		st.byID[m.ID] = idx
		if m.Email != "" {
			st.byEmail[strings.ToLower(m.Email)] = idx
		}
		for _, t := range row.teams {
			if ti, ok := st.teamBySlug[t]; ok {
				st.teamSeats[ti] = append(st.teamSeats[ti], idx)
				st.teams[ti].members++
			}
		}
		st.members = append(st.members, row)
	}

	// Project reach: every member with global access reaches every
	// project; any other active member reaches the projects linked to its
	// teams. When a member's teams link more projects than the engine says
	// it reaches (a membership that grants nothing, e.g. the billing role
	// holds no team roles), the engine's own answer is used.
	stamp := make([]int, len(st.projects))
	var reached []int
	for mi := range st.members {
		row := &st.members[mi]
		if row.global || row.reach == 0 {
			continue
		}
		reached = reached[:0]
		for _, t := range row.teams {
			ti, ok := st.teamBySlug[t]
			if !ok {
				continue
			}
			for _, ps := range st.teams[ti].projects {
				if pi := st.projectBySlug[ps]; stamp[pi] != mi+1 {
					stamp[pi] = mi + 1
					reached = append(reached, pi)
				}
			}
		}
		if len(reached) != row.reach {
			reached = reached[:0]
			if ma, err := eng.Member(row.m.ID); err == nil {
				for _, pr := range ma.Projects {
					reached = append(reached, st.projectBySlug[pr.Slug])
				}
			}
		}
		for _, pi := range reached {
			st.projects[pi].reach++
		}
	}
	for i := range st.projects {
		st.projects[i].reach += globalCount
	}

	st.byRole = make([]int, len(st.members))
	st.byReach = make([]int, len(st.members))
	for i := range st.members {
		st.byRole[i], st.byReach[i] = i, i
	}
	st.byRoleAsc, st.byReachAsc = slices.Clone(st.byRole), slices.Clone(st.byReach)
	slices.SortStableFunc(st.byRole, func(a, b int) int { return st.rank(b) - st.rank(a) })
	slices.SortStableFunc(st.byReach, func(a, b int) int { return st.members[b].reach - st.members[a].reach })
	slices.SortStableFunc(st.byRoleAsc, func(a, b int) int { return st.rank(a) - st.rank(b) })
	slices.SortStableFunc(st.byReachAsc, func(a, b int) int { return st.members[a].reach - st.members[b].reach })
	st.inEmailOrder = identity(len(st.members))
	st.inEmailOrderDesc = slices.Clone(st.inEmailOrder)
	slices.Reverse(st.inEmailOrderDesc)
	st.memberText = newTextIndex(len(st.members), func(i int) string { return st.members[i].search })
	st.teamText = newTextIndex(len(st.teams), func(i int) string { return st.teams[i].search })
	st.projectText = newTextIndex(len(st.projects), func(i int) string { return st.projects[i].search })
	return st
}

func (st *state) rank(i int) int {
	if r, ok := st.roleRank[st.members[i].m.OrgRole]; ok {
		return r
	}
	return -1
}

func cmpStrings(a, b, ta, tb string) int {
	if c := strings.Compare(a, b); c != 0 {
		return c
	}
	return strings.Compare(ta, tb)
}

// globalBy says why a member with this org role has global access:
// has_global_access = open membership OR is_global (src/sentry/auth/access.py).
func globalBy(org access.Org, roles []access.OrgRole, role string) string {
	for _, r := range roles {
		if r.ID == role && r.IsGlobal {
			return "org role " + r.Name + " is global"
		}
	}
	if org.OpenMembership {
		return "open membership is on"
	}
	return ""
}

// Current returns the snapshot the read model shows, with its engine; ok
// is false before the first snapshot. Both are shared with every page and
// must not be modified.
func (s *Service) Current() (meta store.SnapshotMeta, eng *access.Engine, ok bool) {
	st := s.cur.Load()
	if st == nil {
		return store.SnapshotMeta{}, nil, false
	}
	return st.meta, st.eng, true
}

// load returns the current state, or an EUNAVAILABLE error before the
// first snapshot.
func (s *Service) load() (*state, error) {
	st := s.cur.Load()
	if st == nil {
		return nil, noSnapshot()
	}
	return st, nil
}

// Page is a page of a paginated list: the 1-based page number, how many
// pages and rows there are in all.
type Page struct {
	Number int
	Pages  int
	Total  int
	Size   int
}

// First is the 1-based index of the first row on the page (0 when empty).
func (p Page) First() int {
	if p.Total == 0 {
		return 0
	}
	return (p.Number-1)*p.Size + 1
}

// Last is the 1-based index of the last row on the page.
func (p Page) Last() int { return min(p.Number*p.Size, p.Total) }

// paginate clamps page into range and returns the page and the bounds.
func paginate(total, page, size int) (Page, int, int) {
	pages := max(1, (total+size-1)/size)
	page = min(max(page, 1), pages)
	lo := (page - 1) * size
	hi := min(lo+size, total)
	return Page{Number: page, Pages: pages, Total: total, Size: size}, lo, hi
}

// SnapshotInfo describes the snapshot a page was answered from.
type SnapshotInfo struct {
	ID      uint64
	Created time.Time
	Org     string
	// Assumed are the organization fields that effective access depends
	// on which the server did not send, so that Sentry's default was used
	// (older and self-hosted servers); pages that show access say so.
	Assumed []access.FieldSource
}

// AccessFields are the organization fields effective access depends on
// (the engine's inputs besides members, teams and projects).
var AccessFields = []string{
	"openMembership", "eventsMemberAdmin", "alertsMemberWrite", "orgRoleList", "teamRoleList",
	"orgRoleList.isGlobal", "orgRoleList.isTeamRolesAllowed", "orgRoleList.minimumTeamRole",
}

func (st *state) info() SnapshotInfo {
	return SnapshotInfo{ID: st.meta.ID, Created: st.meta.Created, Org: st.snap.Org.Slug,
		Assumed: st.snap.Server.Assumed(AccessFields...)}
}
