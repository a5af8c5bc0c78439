package explore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// memSource is an in-memory Source: snapshots by id, the last is current.
type memSource struct {
	snaps []*access.Snapshot
	last  *store.SyncStatus
}

func (m *memSource) meta(i int) store.SnapshotMeta {
	return store.SnapshotMeta{ID: uint64(i + 1), Created: time.Date(2026, 6, 1, 9, i, 0, 0, time.UTC), Kind: store.KindFull, Members: len(m.snaps[i].Members)}
}

func (m *memSource) CurrentSnapshot(context.Context) (store.SnapshotMeta, *access.Snapshot, error) {
	if len(m.snaps) == 0 {
		return store.SnapshotMeta{}, nil, sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
	}
	return m.meta(len(m.snaps) - 1), m.snaps[len(m.snaps)-1], nil
}

func (m *memSource) Snapshot(_ context.Context, id uint64) (store.SnapshotMeta, *access.Snapshot, error) {
	if id == 0 || int(id) > len(m.snaps) {
		return store.SnapshotMeta{}, nil, sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
	}
	return m.meta(int(id) - 1), m.snaps[id-1], nil
}

func (m *memSource) ListSnapshots(context.Context) ([]store.SnapshotMeta, error) {
	var out []store.SnapshotMeta
	for i := len(m.snaps) - 1; i >= 0; i-- {
		out = append(out, m.meta(i))
	}
	return out, nil
}

func (m *memSource) LastSyncStatus(context.Context) (store.SyncStatus, error) {
	if m.last == nil {
		return store.SyncStatus{}, sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
	}
	return *m.last, nil
}

// org: closed membership; ana (owner, global), bob (member on payments as
// admin), cat (member on payments and web), dan (pending invite), eve
// (billing on payments: holds no team roles), fay (member on no team, SSO
// linked, SCIM). Projects: payment-api (payments), checkout (payments,
// web), site (web), orphan (no team).
func org() *access.Snapshot {
	return &access.Snapshot{
		Org: access.Org{Slug: "acme", HasAuthProvider: true, EventsMemberAdmin: true, AlertsMemberWrite: true},
		Members: []access.Member{
			{ID: "1", Email: "ana@acme.test", Name: "Ana", OrgRole: "owner", State: access.StateActive, Has2FA: true},
			{ID: "2", Email: "bob@acme.test", Name: "Bob", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments", Role: "admin"}}},
			{ID: "3", Email: "cat@acme.test", Name: "Cat", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments"}, {Team: "web"}}},
			{ID: "4", Email: "dan@acme.test", Name: "Dan", OrgRole: "member", State: access.StatePending, Teams: []access.Membership{{Team: "web"}}},
			{ID: "5", Email: "eve@acme.test", Name: "Eve", OrgRole: "billing", State: access.StateActive, Teams: []access.Membership{{Team: "payments"}}},
			{ID: "6", Email: "fay@acme.test", Name: "Fay", OrgRole: "member", State: access.StateActive, Flags: access.MemberFlags{SSOLinked: true, IDPProvisioned: true}},
		},
		Teams: []access.Team{{ID: "10", Slug: "web"}, {ID: "11", Slug: "payments", IDPProvisioned: true}, {ID: "12", Slug: "empty"}},
		Projects: []access.Project{
			{ID: "20", Slug: "payment-api", Teams: []string{"payments"}},
			{ID: "21", Slug: "checkout", Teams: []string{"payments", "web"}},
			{ID: "22", Slug: "site", Teams: []string{"web"}},
			{ID: "23", Slug: "orphan"},
		},
	}
}

func newService(t *testing.T, snaps ...*access.Snapshot) *explore.Service {
	t.Helper()
	svc := explore.New(&memSource{snaps: snaps}, explore.Options{})
	if err := svc.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func emails(rows []explore.MemberRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Email)
	}
	return out
}

func TestMembersFilterAndSort(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	tests := []struct {
		name string
		q    explore.MemberQuery
		want []string
	}{
		{"everyone by email", explore.MemberQuery{}, []string{"ana@acme.test", "bob@acme.test", "cat@acme.test", "dan@acme.test", "eve@acme.test", "fay@acme.test"}},
		{"search matches name case-insensitively", explore.MemberQuery{Q: "CAT"}, []string{"cat@acme.test"}},
		{"role filter", explore.MemberQuery{Role: "owner"}, []string{"ana@acme.test"}},
		{"team filter", explore.MemberQuery{Team: "web"}, []string{"cat@acme.test", "dan@acme.test"}},
		{"on no team", explore.MemberQuery{NoTeam: true, State: "active"}, []string{"ana@acme.test", "fay@acme.test"}},
		{"pending or expired", explore.MemberQuery{State: "invited"}, []string{"dan@acme.test"}},
		{"SSO unlinked and active", explore.MemberQuery{SSO: "unlinked", State: "active"}, []string{"ana@acme.test", "bob@acme.test", "cat@acme.test", "eve@acme.test"}},
		{"2FA on", explore.MemberQuery{TwoFA: "on"}, []string{"ana@acme.test"}},
		{"SCIM provisioned", explore.MemberQuery{SCIM: "yes"}, []string{"fay@acme.test"}},
		{"most reach first, ties by email", explore.MemberQuery{Sort: "reach"}, []string{"ana@acme.test", "cat@acme.test", "bob@acme.test", "eve@acme.test", "dan@acme.test", "fay@acme.test"}},
		{"highest role first", explore.MemberQuery{Sort: "role", State: "active"}, []string{"ana@acme.test", "bob@acme.test", "cat@acme.test", "fay@acme.test", "eve@acme.test"}},
		{"reverse email", explore.MemberQuery{Sort: "-email", Role: "member", State: "active"}, []string{"fay@acme.test", "cat@acme.test", "bob@acme.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := svc.Members(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(emails(got.Rows), tt.want) {
				t.Errorf("got %v, want %v", emails(got.Rows), tt.want)
			}
		})
	}
}

func TestMemberReach(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	got, err := svc.Members(t.Context(), explore.MemberQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"ana@acme.test": 4, // owner is global: every project
		"bob@acme.test": 2, // payments: payment-api, checkout
		"cat@acme.test": 3, // payments + web, checkout counted once
		"dan@acme.test": 0, // pending invite reaches nothing
		"eve@acme.test": 2, // billing may not join teams, but an existing membership still grants (access.py)
		"fay@acme.test": 0, // on no team
	}
	for _, r := range got.Rows {
		if r.Reach != want[r.Email] {
			t.Errorf("%s reach = %d, want %d", r.Email, r.Reach, want[r.Email])
		}
		if r.Global != (r.Email == "ana@acme.test") {
			t.Errorf("%s global = %v", r.Email, r.Global)
		}
	}
	projects, err := svc.Projects(t.Context(), explore.ProjectQuery{Sort: "reach"})
	if err != nil {
		t.Fatal(err)
	}
	gotReach := map[string]int{}
	for _, p := range projects.Rows {
		gotReach[p.Slug] = p.Reach
	}
	wantReach := map[string]int{"checkout": 4, "payment-api": 4, "site": 2, "orphan": 1}
	for slug, n := range wantReach {
		if gotReach[slug] != n {
			t.Errorf("project %s reached by %d, want %d", slug, gotReach[slug], n)
		}
	}
}

func TestMembersPaging(t *testing.T) {
	t.Parallel()
	s := org()
	for i := range 120 {
		s.Members = append(s.Members, access.Member{ID: fmt.Sprint(100 + i), Email: fmt.Sprintf("u%03d@acme.test", i), OrgRole: "member", State: access.StateActive})
	}
	svc := newService(t, s)
	tests := []struct {
		page, wantPage, wantRows, wantFirst int
	}{
		{1, 1, 50, 1},
		{3, 3, 26, 101},
		{9, 3, 26, 101}, // past the end: the last page
		{0, 1, 50, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("page ", tt.page), func(t *testing.T) {
			got, err := svc.Members(t.Context(), explore.MemberQuery{Page: tt.page})
			if err != nil {
				t.Fatal(err)
			}
			if got.Page.Number != tt.wantPage || len(got.Rows) != tt.wantRows || got.Page.First() != tt.wantFirst || got.Page.Total != 126 {
				t.Errorf("got page %d with %d rows from %d of %d, want page %d with %d rows from %d of 126",
					got.Page.Number, len(got.Rows), got.Page.First(), got.Page.Total, tt.wantPage, tt.wantRows, tt.wantFirst)
			}
		})
	}
}

func TestInvalidQueriesAndUnknownObjects(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	ctx := t.Context()
	code := func(err error) sentryaccess.Code { return sentryaccess.ErrorCode(err) }
	_, errSort := svc.Members(ctx, explore.MemberQuery{Sort: "age"})
	_, errRole := svc.Members(ctx, explore.MemberQuery{Role: "boss"})
	_, errTeam := svc.Projects(ctx, explore.ProjectQuery{Team: "nope"})
	_, errMember := svc.Member(ctx, "999", 1)
	_, errProject := svc.Project(ctx, "nope")
	_, errTeamDetail := svc.Team(ctx, "nope", 1)
	_, errLookup := svc.Lookup(ctx, "zed@acme.test", "site", "")
	_, errScope := svc.Lookup(ctx, "ana@acme.test", "site", "project:fly")
	_, errFocus := svc.Graph(ctx, explore.GraphQuery{Focus: "planet:x"})
	_, errDiff := svc.Diff(ctx, 1, 1)
	for _, tt := range []struct {
		name string
		err  error
		want sentryaccess.Code
	}{
		{"unknown sort", errSort, sentryaccess.EINVALID},
		{"unknown role", errRole, sentryaccess.EINVALID},
		{"unknown team filter", errTeam, sentryaccess.EINVALID},
		{"unknown member", errMember, sentryaccess.ENOTFOUND},
		{"unknown project", errProject, sentryaccess.ENOTFOUND},
		{"unknown team", errTeamDetail, sentryaccess.ENOTFOUND},
		{"lookup of an unknown member", errLookup, sentryaccess.EINVALID},
		{"lookup of an unknown scope", errScope, sentryaccess.EINVALID},
		{"bad graph focus", errFocus, sentryaccess.EINVALID},
		{"diff of a snapshot with itself", errDiff, sentryaccess.EINVALID},
	} {
		if got := code(tt.err); got != tt.want {
			t.Errorf("%s: code %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestNoSnapshot(t *testing.T) {
	t.Parallel()
	svc := explore.New(&memSource{}, explore.Options{})
	if err := svc.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Members(t.Context(), explore.MemberQuery{}); sentryaccess.ErrorCode(err) != sentryaccess.EUNAVAILABLE {
		t.Errorf("Members before any snapshot: %v, want the no-snapshot error", err)
	}
	ov, err := svc.Overview(t.Context())
	if err != nil || ov.HasSnapshot {
		t.Errorf("Overview before any snapshot = %+v, %v; want an empty overview", ov.HasSnapshot, err)
	}
}

func TestMemberChangesSincePreviousSnapshot(t *testing.T) {
	t.Parallel()
	before, after := org(), org()
	after.Members[2].OrgRole = "manager"                                                    // cat promoted: global
	after.Members[1].Teams = append(after.Members[1].Teams, access.Membership{Team: "web"}) // bob joins web
	svc := newService(t, before, after)
	cat, err := svc.Member(t.Context(), "3", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !cat.Changes.HasPrevious || cat.Changes.OrgRole == nil || cat.Changes.OrgRole.To != "manager" {
		t.Errorf("cat's changes = %+v, want the org role change to manager", cat.Changes)
	}
	gained := map[string]string{}
	for _, p := range cat.Changes.Projects {
		gained[p.Project] = p.Kind
	}
	// The global manager role reaches orphan, and adds manager scopes elsewhere.
	if gained["orphan"] != access.AccessGained || gained["site"] != access.AccessChanged {
		t.Errorf("cat's access changes = %v, want orphan gained and site changed", gained)
	}
	bob, err := svc.Member(t.Context(), "bob@acme.test", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(bob.Changes.TeamsJoined) != 1 || bob.Changes.TeamsJoined[0].Team != "web" {
		t.Errorf("bob's team changes = %+v, want web joined", bob.Changes.TeamsJoined)
	}
	ov, err := svc.Overview(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ov.Changes == nil || ov.Changes.FromID != 1 || ov.Changes.ToID != 2 || len(ov.Changes.Items) == 0 {
		t.Errorf("overview changes = %+v, want a summary of 1 → 2", ov.Changes)
	}
}

func TestLookupAndSuggest(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	tests := []struct {
		member, project, scope string
		want                   bool
	}{
		{"bob@acme.test", "payment-api", "project:admin", true}, // team admin on payments
		{"cat@acme.test", "payment-api", "project:admin", false},
		{"cat@acme.test", "site", "", true},
		{"bob@acme.test", "site", "", false}, // not on web, membership closed
		{"ana@acme.test", "orphan", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.member+" "+tt.project+" "+tt.scope, func(t *testing.T) {
			got, err := svc.Lookup(t.Context(), tt.member, tt.project, tt.scope)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Asked || got.Decision.Allowed != tt.want || len(got.Decision.Reasons) == 0 {
				t.Errorf("got %+v, want allowed=%v with reasons", got.Decision, tt.want)
			}
		})
	}
	sg, err := svc.Suggest(t.Context(), "member", "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(sg) == 0 || sg[0].Value != "ana@acme.test" {
		t.Errorf("suggestions for %q = %+v, want ana first (prefix match)", "a", sg)
	}
}

func TestGraphFocus(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	g, err := svc.Graph(t.Context(), explore.GraphQuery{Focus: "member:3"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range g.Nodes {
		got = append(got, n.Kind+":"+n.ID)
	}
	want := []string{"member:3", "team:payments", "team:web", "project:checkout", "project:payment-api", "project:site"}
	if !slices.Equal(got, want) {
		t.Errorf("nodes = %v, want %v", got, want)
	}
	// cat → payments, cat → web; payments → checkout, payment-api; web → checkout, site.
	if len(g.Edges) != 6 {
		t.Errorf("edges = %d, want 6", len(g.Edges))
	}
	eve, err := svc.Graph(t.Context(), explore.GraphQuery{Focus: "member:5"})
	if err != nil {
		t.Fatal(err)
	}
	// Sentry refuses to put a billing member on a team, but a membership
	// that exists still grants the minimum team role, so it is drawn.
	for _, e := range eve.Edges {
		if e.Label != "" && !e.Grants {
			t.Errorf("billing member's existing membership edge %+v is drawn as granting nothing", e)
		}
	}
}

func TestConnectionFeatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token    string
		scopes   []string
		wantKind string
		feature  string
		want     bool
	}{
		{"sntryu_abcdefghijkl1234", []string{"org:read", "org:write", "member:read", "member:invite", "member:admin", "team:read", "project:read"}, explore.TokenUser, "Change org roles", true},
		{"sntryu_abcdefghijkl1234", []string{"org:read", "member:read", "member:admin", "team:read", "project:read"}, explore.TokenUser, "Change org roles", false},
		{"integration_abcdefgh9999", []string{"org:read", "org:write", "member:invite", "member:admin"}, explore.TokenOther, "Change org roles", false},
		{"sntryu_abcdefghijkl1234", []string{"org:read"}, explore.TokenUser, "Audit log and incremental sync", false},
		{"sntrys_abcdefghijkl1234", []string{"org:ci"}, explore.TokenOrg, "Read members, teams and projects", false},
	}
	for _, tt := range tests {
		t.Run(tt.wantKind+" "+tt.feature, func(t *testing.T) {
			scopes := tt.scopes
			svc := explore.New(&memSource{}, explore.Options{Connection: explore.ConnectionConfig{
				Token: tt.token, Scopes: func(context.Context) ([]string, error) { return scopes, nil }}})
			c, err := svc.Connection(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if c.TokenKind != tt.wantKind || c.TokenHint != "…"+tt.token[len(tt.token)-4:] {
				t.Errorf("kind %q hint %q, want %q and the last 4 characters", c.TokenKind, c.TokenHint, tt.wantKind)
			}
			for _, f := range c.Features {
				if f.Name == tt.feature && f.Available != tt.want {
					t.Errorf("%s available = %v, want %v (%s)", f.Name, f.Available, tt.want, f.Why)
				}
			}
		})
	}
}

func TestLookupDenialOffersTheTeamsThatWouldGrantIt(t *testing.T) {
	t.Parallel()
	svc := newService(t, org())
	got, err := svc.Lookup(t.Context(), "bob@acme.test", "site", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fixes) == 0 {
		t.Fatal("a denied active member gets no fix")
	}
	for _, f := range got.Fixes {
		if !strings.Contains(f.Href, "/changes/new?") || !strings.Contains(f.Href, "kind=team-add") || !strings.Contains(f.Href, "project=site") {
			t.Errorf("fix %+v does not prefill a team-add change request for site", f)
		}
	}
	allowed, err := svc.Lookup(t.Context(), "cat@acme.test", "site", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed.Fixes) != 0 {
		t.Errorf("an allowed lookup offers fixes: %+v", allowed.Fixes)
	}
}

// Team-role labels never overlap: a member on several teams leaves each at
// its own port with its label just above it, and every label stays in the
// gap between the member and team columns.
func TestGraphEdgeLabelsNeverOverlap(t *testing.T) {
	t.Parallel()
	s := org()
	// Many members on payments, several of them also on web and empty.
	for i := range 12 {
		m := access.Member{ID: fmt.Sprint(100 + i), Email: fmt.Sprintf("m%02d@acme.test", i), OrgRole: "member", State: access.StateActive,
			Teams: []access.Membership{{Team: "payments", Role: []string{"", "admin", "contributor"}[i%3]}}}
		if i%2 == 0 {
			m.Teams = append(m.Teams, access.Membership{Team: "web"})
		}
		if i%4 == 0 {
			m.Teams = append(m.Teams, access.Membership{Team: "empty", Role: "admin"})
		}
		s.Members = append(s.Members, m)
	}
	svc := newService(t, s)
	type box struct{ x0, y0, x1, y1 int }
	for _, focus := range []string{"", "team:payments", "team:web", "project:checkout", "member:3"} {
		t.Run("focus "+focus, func(t *testing.T) {
			g, err := svc.Graph(t.Context(), explore.GraphQuery{Focus: focus})
			if err != nil {
				t.Fatal(err)
			}
			var boxes []box
			var labels []string
			for _, e := range g.Edges {
				if e.Label == "" {
					continue
				}
				b := box{e.LabelX, e.LabelY - explore.GraphLabelH, e.LabelX + explore.GraphLabelCharW*len([]rune(e.Label)), e.LabelY}
				if b.x0 <= e.X1 || b.x1 >= e.X2 {
					t.Errorf("label %q spans x %d..%d, outside the gap %d..%d", e.Label, b.x0, b.x1, e.X1, e.X2)
				}
				for i, o := range boxes {
					if b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 {
						t.Errorf("label %q at (%d,%d) overlaps %q at (%d,%d)", e.Label, e.LabelX, e.LabelY, labels[i], o.x0, o.y1)
					}
				}
				boxes, labels = append(boxes, b), append(labels, e.Label)
			}
			if len(boxes) == 0 {
				t.Fatal("no labelled edge drawn")
			}
			// Every edge leaves a member node from inside it.
			for _, e := range g.Edges {
				if e.Label == "" {
					continue
				}
				inside := slices.ContainsFunc(g.Nodes, func(n explore.GraphNode) bool {
					return n.Kind == "member" && e.X1 == n.X+n.W && e.Y1 > n.Y && e.Y1 < n.Y+n.H
				})
				if !inside {
					t.Errorf("edge %+v does not start inside a member node", e)
				}
			}
		})
	}
}

// TestASyncThatFoundNothingNewReportsItsOwnFigures: an incremental run
// that kept the current snapshot (saved by an earlier full sync) reports
// its own duration and request count, and that it found nothing new.
func TestASyncThatFoundNothingNewReportsItsOwnFigures(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	src := &memSource{snaps: []*access.Snapshot{org()}, last: &store.SyncStatus{ID: 2, Kind: store.KindIncremental,
		Started: started, Finished: started.Add(300 * time.Millisecond), OK: true, Stage: "done", SnapshotID: 1, Requests: 3}}
	svc := explore.New(src, explore.Options{})
	if err := svc.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	ov, err := svc.Overview(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := ov.LastSync
	if r == nil || r.Requests != 3 || r.Duration != 300*time.Millisecond || !r.Unchanged {
		t.Errorf("last sync = %+v, want its own 3 requests and 300ms, unchanged", r)
	}
}

// TestConnectionSaysTheTokenIsRejected: when Sentry rejects the token the
// Connection page says so, with the fix, instead of "did not tell the
// scopes", and no feature is available.
func TestConnectionSaysTheTokenIsRejected(t *testing.T) {
	t.Parallel()
	rejected := fmt.Errorf("%w: %w", explore.ErrTokenRejected,
		sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Sentry rejected the token (401): create a new one."))
	svc := explore.New(&memSource{}, explore.Options{Connection: explore.ConnectionConfig{
		Token: "sntryu_abcdefghijkl1234", Scopes: func(context.Context) ([]string, error) { return nil, rejected }}})
	c, err := svc.Connection(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !c.TokenRejected || c.ScopesErr != "Sentry rejected the token (401): create a new one." {
		t.Errorf("rejected=%v scopes error %q, want the token rejected with the fix", c.TokenRejected, c.ScopesErr)
	}
	for _, f := range c.Features {
		if f.Available && f.Name != "SCIM provisioning" {
			t.Errorf("%s is available with a rejected token", f.Name)
		}
	}
}
