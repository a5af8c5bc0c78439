package accessdiff_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// settings is one combination of the org settings that change access
// (docs/sentry-access-model.md#organization-settings-that-change-access).
type settings struct {
	openMembership, eventsMemberAdmin, alertsMemberWrite bool
}

func (s settings) String() string {
	return fmt.Sprintf("open=%v eventsMemberAdmin=%v alertsMemberWrite=%v", s.openMembership, s.eventsMemberAdmin, s.alertsMemberWrite)
}

// allSettings returns every combination of the three settings.
func allSettings() []settings {
	var out []settings
	for _, open := range []bool{false, true} {
		for _, events := range []bool{true, false} {
			for _, alerts := range []bool{true, false} {
				out = append(out, settings{open, events, alerts})
			}
		}
	}
	return out
}

// allTokenScopes is every scope a user token may carry (SENTRY_SCOPES; the
// SaaS-only org:billing is not a token scope).
func allTokenScopes() []string {
	return slices.DeleteFunc(access.AllScopes(), func(s string) bool { return s == "org:billing" })
}

func allScopesToken(m sentrysim.MemberFixture) string { return fmt.Sprintf("sntryu_diff_all_%d", m.ID) }
func readOnlyToken(m sentrysim.MemberFixture) string  { return fmt.Sprintf("sntryu_diff_read_%d", m.ID) }

// fixture generates a small organization for seed and bends it so that it
// holds every case the rules distinguish: every org role (billing and the
// retired admin included), stored team roles null, contributor and admin,
// a pending and an expired invite, a SCIM-provisioned team, a team with
// nobody and a project with no team. Every member gets an all-scopes user
// token and an org:read-only one.
func fixture(seed int64, s settings) *sentrysim.Fixture {
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 24, Teams: 6, Projects: 8, Seed: seed})
	fx.Org.OpenMembership = &s.openMembership
	fx.Org.EventsMemberAdmin = &s.eventsMemberAdmin
	fx.Org.AlertsMemberWrite = &s.alertsMemberWrite
	fx.Teams[int(seed)%len(fx.Teams)].IDPProvisioned = true
	fx.Teams = append(fx.Teams, sentrysim.TeamFixture{ID: 1_999_999, Slug: "team-nobody", DateCreated: fx.Org.DateCreated})
	fx.Projects = append(fx.Projects, sentrysim.ProjectFixture{ID: 2_999_999, Slug: "project-orphan", DateCreated: fx.Org.DateCreated})
	roles := map[int]string{1: access.RoleBilling, 2: access.RoleAdmin, 3: access.RoleManager, 4: access.RoleOwner,
		5: access.RoleMember, 8: access.RoleAdmin, 9: access.RoleManager}
	storedRoles := []string{"", access.TeamRoleContributor, access.TeamRoleAdmin}
	for i := range fx.Members {
		m := &fx.Members[i]
		if r, ok := roles[i]; ok {
			m.Role = r
		}
		switch i {
		case 6:
			m.Pending, m.LastLogin = true, nil
		case 7:
			m.Pending, m.Expired, m.LastLogin = true, true, nil
		case 9, 10:
			// Over the plan's member limit: a manager (global) and a
			// member on teams (docs/sentry-access-model.md#members-over-the-member-limit).
			m.Flags = append(m.Flags, "member-limit:restricted")
		}
		if m.Role == access.RoleBilling {
			// Sentry refuses team-level permissions for roles with
			// isTeamRolesAllowed off (docs/sentry-access-model.md#members).
			m.Teams = nil
		}
		if len(m.Teams) == 0 && m.Role != access.RoleBilling {
			m.Teams = []sentrysim.TeamMembership{{Team: fx.Teams[i%len(fx.Teams)].Slug}}
		}
		for j := range m.Teams {
			m.Teams[j].Role = storedRoles[(i+j+int(seed))%len(storedRoles)]
		}
		fx.UserTokens = append(fx.UserTokens,
			sentrysim.UserTokenFixture{Name: "diff-all", Token: allScopesToken(*m), Member: m.Email, Scopes: allTokenScopes()},
			sentrysim.UserTokenFixture{Name: "diff-read", Token: readOnlyToken(*m), Member: m.Email, Scopes: []string{"org:read"}})
	}
	return fx
}

// org is one simulated organization, synced into a store, with the engine
// built from the stored snapshot.
type org struct {
	fx     *sentrysim.Fixture
	sim    *sentrysim.Server
	url    string
	now    func() time.Time
	snap   *access.Snapshot
	engine *access.Engine
}

// syncOrg serves fx from the simulator, runs a full sync through the real
// client into a real bbolt store and builds the engine from the snapshot.
func syncOrg(t *testing.T, fx *sentrysim.Fixture) *org {
	t.Helper()
	now := func() time.Time { return sentrysim.DemoEpoch() }
	sim, err := sentrysim.New(fx, sentrysim.Options{Now: now})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); srv.Close() })
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	o := &org{fx: fx, sim: sim, url: srv.URL, now: now}
	owner := o.client(t, sentrysim.DemoOwnerToken)
	if _, err := syncer.New(owner, st, syncer.Options{Now: now, SentryURL: srv.URL}).Full(context.Background()); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	_, snap, err := st.CurrentSnapshot(context.Background())
	if err != nil {
		t.Fatalf("current snapshot: %v", err)
	}
	o.snap, o.engine = snap, access.New(snap)
	return o
}

// withSeat is the engine over the snapshot with member id's
// member-limit:restricted flag cleared: what the member would reach with a
// seat, which is what its user auth tokens reach.
func (o *org) withSeat(id string) *access.Engine {
	s := *o.snap
	s.Members = slices.Clone(o.snap.Members)
	for i := range s.Members {
		if s.Members[i].ID == id {
			s.Members[i].Flags.MemberLimitRestricted = false
		}
	}
	return access.New(&s)
}

func (o *org) client(t *testing.T, token string) *sentry.Client {
	t.Helper()
	c, err := sentry.New(sentry.Config{BaseURL: o.url, Org: sentrysim.DemoOrgSlug, Token: token, MaxRetries: -1, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sessionClient is the real client sending the member's browser session
// cookie (sentrysim.SignIn) instead of a token, as Sentry's UI calls the API.
func (o *org) sessionClient(t *testing.T, email string) *sentry.Client {
	t.Helper()
	ck, err := o.sim.SignIn(email)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: sessionTransport{ck}}
	c, err := sentry.New(sentry.Config{BaseURL: o.url, Org: sentrysim.DemoOrgSlug, Token: "session", HTTPClient: hc, MaxRetries: -1, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sessionTransport replaces the client's Authorization header with a
// session cookie.
type sessionTransport struct{ cookie *http.Cookie }

func (s sessionTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	r.AddCookie(s.cookie)
	return http.DefaultTransport.RoundTrip(r)
}

// view is what the simulator tells one caller about every project and team.
type view struct {
	projects map[string]sentry.Project
	teams    map[string]sentry.Team
}

func (o *org) viewAs(ctx context.Context, t *testing.T, token string) (view, error) {
	t.Helper()
	return viewOf(ctx, o.client(t, token))
}

func viewOf(ctx context.Context, c *sentry.Client) (view, error) {
	ps, err := c.Projects(ctx)
	if err != nil {
		return view{}, err
	}
	ts, err := c.ListTeams(ctx)
	if err != nil {
		return view{}, err
	}
	v := view{projects: map[string]sentry.Project{}, teams: map[string]sentry.Team{}}
	for _, p := range ps {
		v.projects[p.Slug] = p
	}
	for _, tm := range ts {
		v.teams[tm.Slug] = tm
	}
	return v, nil
}

// TestEngineAgreesWithTheSimulator is the differential test: for every
// generated organization and every member, what the engine says the member
// reaches (and with which team roles and scopes) is what the simulator
// answers that member. See the package doc for what is compared and why.
func TestEngineAgreesWithTheSimulator(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		for _, s := range allSettings() {
			t.Run(fmt.Sprintf("seed=%d %s", seed, s), func(t *testing.T) {
				t.Parallel()
				o := syncOrg(t, fixture(seed, s))
				for _, m := range o.fx.Members {
					if slices.Contains(m.Flags, "member-limit:restricted") {
						checkRestricted(t, o, m)
						continue
					}
					checkMember(t, o, o.engine, m)
					if !m.Pending && m.Role != access.RoleBilling {
						checkSession(t, o, m)
					}
				}
			})
		}
	}
}

// checkRestricted checks a member over the member limit: its browser
// session is refused on the organization's endpoints (401
// member-disabled-over-limit) and the engine gives it nothing, while its
// user auth tokens reach what the engine gives the member with a seat, and
// the engine's Restriction says so
// (docs/sentry-access-model.md#members-over-the-member-limit).
func checkRestricted(t *testing.T, o *org, m sentrysim.MemberFixture) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprint(m.ID)
	who := fmt.Sprintf("%s (%s, over the member limit)", m.Email, m.Role)
	ma, err := o.engine.Member(id)
	if err != nil {
		t.Fatalf("%s: engine: %v", who, err)
	}
	if ma.GlobalAccess || len(ma.Projects) != 0 || len(ma.OrgScopes) != 0 || ma.Restriction == nil {
		t.Errorf("%s: engine global=%v projects=%d org scopes=%v restriction=%v; want nothing and the member limit",
			who, ma.GlobalAccess, len(ma.Projects), ma.OrgScopes, ma.Restriction)
	}
	sc := o.sessionClient(t, m.Email)
	_, errOrg := sc.Organization(ctx)
	_, errView := viewOf(ctx, sc)
	for _, err := range []error{errOrg, errView} {
		var apiErr *sentry.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != "member-disabled-over-limit" {
			t.Errorf("%s: the simulator answered the session with %v; want 401 member-disabled-over-limit", who, err)
		}
	}
	if _, err := sc.Member(ctx, id); err != nil {
		t.Errorf("%s: the member details endpoint (RelaxedMemberPermission) refused the session: %v", who, err)
	}
	seated := o.withSeat(id)
	free, err := seated.Member(id)
	if err != nil {
		t.Fatal(err)
	}
	if r := ma.Restriction; r != nil && (r.TokenProjects != len(free.Projects) || !slices.Equal(r.TokenOrgScopes, free.OrgScopes)) {
		t.Errorf("%s: restriction says tokens reach %d projects with %v; with a seat the engine gives %d with %v",
			who, r.TokenProjects, r.TokenOrgScopes, len(free.Projects), free.OrgScopes)
	}
	checkMember(t, o, seated, m)
}

// checkSession checks that a browser session of an unrestricted member is
// answered as its all-scopes token is: session authentication holds the
// member's role scopes, and the member limit gate lets it through.
func checkSession(t *testing.T, o *org, m sentrysim.MemberFixture) {
	t.Helper()
	ctx := context.Background()
	sv, err := viewOf(ctx, o.sessionClient(t, m.Email))
	if err != nil {
		t.Errorf("%s: the simulator refused the member's session: %v", m.Email, err)
		return
	}
	tv, err := o.viewAs(ctx, t, allScopesToken(m))
	if err != nil {
		t.Errorf("%s: token view: %v", m.Email, err)
		return
	}
	for slug, p := range tv.projects {
		q := sv.projects[slug]
		if p.HasAccess != q.HasAccess || p.IsMember != q.IsMember || !sameSet(p.Access, q.Access) {
			t.Errorf("%s: project %s: session sees hasAccess=%v isMember=%v access=%v; the token %v %v %v",
				m.Email, slug, q.HasAccess, q.IsMember, q.Access, p.HasAccess, p.IsMember, p.Access)
		}
	}
	if len(sv.teams) != len(tv.teams) {
		t.Errorf("%s: session sees %d teams, the token %d", m.Email, len(sv.teams), len(tv.teams))
	}
}

// checkMember compares engine e's answer for m with the simulator's.
func checkMember(t *testing.T, o *org, e *access.Engine, m sentrysim.MemberFixture) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprint(m.ID)
	ma, err := e.Member(id)
	if err != nil {
		t.Errorf("%s: engine: %v", m.Email, err)
		return
	}
	if m.Pending {
		// No user yet: Sentry builds no Access, and a token cannot exist.
		if len(ma.Projects) != 0 || ma.GlobalAccess {
			t.Errorf("%s (pending, expired=%v): engine reaches %d projects, global=%v; want nothing",
				m.Email, m.Expired, len(ma.Projects), ma.GlobalAccess)
		}
		for _, ta := range ma.Teams {
			if ta.EffectiveRole != "" {
				t.Errorf("%s (pending): engine gives team %s role %q; want none", m.Email, ta.Slug, ta.EffectiveRole)
			}
		}
		if _, err := o.viewAs(ctx, t, allScopesToken(m)); !errors.Is(err, sentry.ErrUnauthorized) {
			t.Errorf("%s (pending): simulator answered its token with %v; want 401", m.Email, err)
		}
		return
	}
	v, err := o.viewAs(ctx, t, allScopesToken(m))
	if m.Role == access.RoleBilling {
		// Billing's only scope is org:billing: the list endpoints need
		// org:read (docs/sentry-access-model.md#teams, #projects-and-teams), so Sentry tells a billing
		// member nothing to compare with.
		if !errors.Is(err, sentry.ErrForbidden) {
			t.Errorf("%s (billing): simulator answered the lists with %v; want 403", m.Email, err)
		}
		checkEnforcement(ctx, t, o, m.Email+" (billing)", m, ma)
		return
	}
	if err != nil {
		t.Errorf("%s: simulator: %v", m.Email, err)
		return
	}
	who := fmt.Sprintf("%s (%s)", m.Email, m.Role)
	// Org scopes: the org detail's "access" is the caller's scopes, the
	// role's after Organization.get_scopes ∩ the token's (docs/sentry-access-model.md#effective-access,
	// #organization-settings-that-change-access). The token holds every token scope, which leaves out
	// the SaaS-only org:billing that the engine lists for owners.
	if od, err := o.client(t, allScopesToken(m)).Organization(ctx); err != nil {
		t.Errorf("%s: organization: %v", who, err)
	} else if want := intersect(ma.OrgScopes, allTokenScopes()); !sameSet(od.Access, want) {
		t.Errorf("%s: simulator org access=%v, engine org scopes ∩ token=%v", who, union(od.Access, nil), want)
	}
	checkProjects(t, e, who, ma, v)
	checkTeams(t, e, who, ma, v)
	checkEnforcement(ctx, t, o, who, m, ma)

	// The serializers answer for the token's user, not for the token
	// (get_access_by_project(projects, user), TeamSerializer(user)).
	narrow, err := o.viewAs(ctx, t, readOnlyToken(m))
	if err != nil {
		t.Errorf("%s: simulator with an org:read token: %v", who, err)
		return
	}
	for slug, p := range v.projects {
		q := narrow.projects[slug]
		if p.HasAccess != q.HasAccess || p.IsMember != q.IsMember || !sameSet(p.Access, q.Access) {
			t.Errorf("%s: project %s: an org:read token sees hasAccess=%v isMember=%v access=%v; the all-scopes token %v %v %v",
				who, slug, q.HasAccess, q.IsMember, q.Access, p.HasAccess, p.IsMember, p.Access)
		}
	}
	for slug, tm := range v.teams {
		q := narrow.teams[slug]
		if tm.HasAccess != q.HasAccess || tm.IsMember != q.IsMember || deref(tm.TeamRole) != deref(q.TeamRole) || !sameSet(tm.Access, q.Access) {
			t.Errorf("%s: team %s: an org:read token sees a different answer than the all-scopes token", who, slug)
		}
	}
}

// checkProjects compares per-project hasAccess, isMember and access.
func checkProjects(t *testing.T, e *access.Engine, who string, ma access.MemberAccess, v view) {
	t.Helper()
	reach := map[string]access.ProjectReach{}
	for _, pr := range ma.Projects {
		reach[pr.Slug] = pr
	}
	if got, want := len(v.projects), len(e.Projects()); got != want {
		t.Errorf("%s: simulator lists %d projects, engine knows %d", who, got, want)
	}
	minScopes := minimumTeamRoleScopes(e, ma.Member.OrgRole)
	for _, slug := range slices.Sorted(maps.Keys(v.projects)) {
		p := v.projects[slug]
		pr, reached := reach[slug]
		if p.HasAccess != reached {
			t.Errorf("%s: project %s: simulator hasAccess=%v, engine reaches=%v (%s)", who, slug, p.HasAccess, reached, ma.GlobalReason)
			continue
		}
		viaTeam := slices.ContainsFunc(pr.Paths, func(pa access.Path) bool { return pa.Kind == access.PathTeam })
		if p.IsMember != viaTeam {
			t.Errorf("%s: project %s: simulator isMember=%v, engine team path=%v (paths %v)", who, slug, p.IsMember, viaTeam, pr.Paths)
		}
		if !reached {
			if len(p.Access) != 0 {
				t.Errorf("%s: project %s: no access but simulator access=%v", who, slug, p.Access)
			}
			continue
		}
		// O ∪ access == ProjectReach.Scopes ∪ M (see the package doc).
		got := union(ma.OrgScopes, p.Access)
		want := union(pr.Scopes, minScopes)
		if !slices.Equal(got, want) {
			t.Errorf("%s: project %s: org scopes ∪ simulator access = %v\nengine scopes ∪ minimum team role scopes = %v\nsimulator access %v, engine scopes %v, paths %v",
				who, slug, got, want, p.Access, pr.Scopes, pr.Paths)
		}
		if missing := minus(minScopes, p.Access); len(missing) > 0 {
			t.Errorf("%s: project %s: simulator access lacks %v of the minimum team role", who, slug, missing)
		}
	}
}

// checkEnforcement asks, as the member, for each project's teams: the
// simulator allows it when has_any_project_scope(project, project:read|
// write|admin) holds (docs/sentry-access-model.md#effective-access step 5), which is what the engine's
// scopes on the project say.
func checkEnforcement(ctx context.Context, t *testing.T, o *org, who string, m sentrysim.MemberFixture, ma access.MemberAccess) {
	t.Helper()
	scopes := map[string][]string{}
	for _, pr := range ma.Projects {
		scopes[pr.Slug] = pr.Scopes
	}
	c := o.client(t, allScopesToken(m))
	for _, slug := range o.engine.Projects() {
		want := slices.ContainsFunc(scopes[slug], func(s string) bool {
			return s == "project:read" || s == "project:write" || s == "project:admin"
		})
		_, err := c.ProjectTeams(ctx, slug)
		switch {
		case err != nil && !errors.Is(err, sentry.ErrForbidden):
			t.Errorf("%s: project %s teams: %v", who, slug, err)
		case (err == nil) != want:
			t.Errorf("%s: project %s teams: simulator allowed=%v, engine holds project:read|write|admin=%v (scopes %v)",
				who, slug, err == nil, want, scopes[slug])
		}
	}
}

// checkTeams compares per-team isMember, hasAccess, teamRole and access.
func checkTeams(t *testing.T, e *access.Engine, who string, ma access.MemberAccess, v view) {
	t.Helper()
	seats := map[string]access.TeamAccess{}
	for _, ta := range ma.Teams {
		seats[ta.Slug] = ta
	}
	minRole := minimumTeamRole(e, ma.Member.OrgRole)
	for _, slug := range slices.Sorted(maps.Keys(v.teams)) {
		tm := v.teams[slug]
		seat, isMember := seats[slug]
		if tm.IsMember != isMember {
			t.Errorf("%s: team %s: simulator isMember=%v, engine membership=%v", who, slug, tm.IsMember, isMember)
			continue
		}
		wantAccess := isMember || ma.GlobalAccess
		if tm.HasAccess != wantAccess {
			t.Errorf("%s: team %s: simulator hasAccess=%v, engine member=%v global=%v", who, slug, tm.HasAccess, isMember, ma.GlobalAccess)
			continue
		}
		wantRole := ""
		if isMember {
			wantRole = seat.EffectiveRole
		}
		if got := deref(tm.TeamRole); got != wantRole {
			t.Errorf("%s: team %s: simulator teamRole=%q, engine effective role=%q (%s)", who, slug, got, wantRole, seat.Reason)
		}
		if !tm.HasAccess {
			if len(tm.Access) != 0 {
				t.Errorf("%s: team %s: no access but simulator access=%v", who, slug, tm.Access)
			}
			continue
		}
		role := minRole
		if isMember {
			role = seat.EffectiveRole
		}
		if want := teamRoleScopes(e, role); !sameSet(tm.Access, want) {
			t.Errorf("%s: team %s: simulator access=%v, raw scopes of team role %q=%v", who, slug, tm.Access, role, want)
		}
	}
}

// minimumTeamRole is the engine's minimum team role of an org role.
func minimumTeamRole(e *access.Engine, orgRole string) string {
	for _, r := range e.OrgRoles() {
		if r.ID == orgRole {
			return r.MinimumTeamRole
		}
	}
	return ""
}

// teamRoleScopes are the raw scopes of a team role, as the engine has them.
func teamRoleScopes(e *access.Engine, id string) []string {
	for _, r := range e.TeamRoles() {
		if r.ID == id {
			return r.Scopes
		}
	}
	return nil
}

func minimumTeamRoleScopes(e *access.Engine, orgRole string) []string {
	return teamRoleScopes(e, minimumTeamRole(e, orgRole))
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func intersect(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(s string) bool { return !slices.Contains(b, s) })
}

func minus(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(s string) bool { return slices.Contains(b, s) })
}

func sameSet(a, b []string) bool { return slices.Equal(union(a, nil), union(b, nil)) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestFixtureHoldsEveryCase keeps the generated organizations honest: a
// differential test over fixtures without the interesting cases would pass
// vacuously.
func TestFixtureHoldsEveryCase(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		fx := fixture(seed, settings{})
		roles := map[string]bool{}
		stored := map[string]bool{}
		var pending, expired, idp, orphan, limited, limitedGlobal bool
		for _, m := range fx.Members {
			roles[m.Role] = true
			if slices.Contains(m.Flags, "member-limit:restricted") && !m.Pending {
				limited = limited || len(m.Teams) > 0
				limitedGlobal = limitedGlobal || m.Role == access.RoleManager || m.Role == access.RoleOwner
			}
			pending = pending || (m.Pending && !m.Expired)
			expired = expired || m.Expired
			if m.Pending {
				continue
			}
			for _, tm := range m.Teams {
				stored[m.Role+"/"+tm.Role] = true
			}
		}
		for _, tf := range fx.Teams {
			idp = idp || tf.IDPProvisioned
		}
		for _, p := range fx.Projects {
			orphan = orphan || len(p.Teams) == 0
		}
		var missing []string
		for _, r := range []string{access.RoleBilling, access.RoleMember, access.RoleAdmin, access.RoleManager, access.RoleOwner} {
			if !roles[r] {
				missing = append(missing, "org role "+r)
			}
		}
		for _, r := range []string{access.RoleMember, access.RoleAdmin, access.RoleManager, access.RoleOwner} {
			for _, tr := range []string{"", access.TeamRoleContributor, access.TeamRoleAdmin} {
				if !stored[r+"/"+tr] {
					missing = append(missing, fmt.Sprintf("%s with stored team role %q", r, tr))
				}
			}
		}
		for name, ok := range map[string]bool{"pending invite": pending, "expired invite": expired, "SCIM team": idp, "project without teams": orphan,
			"member over the member limit on a team": limited, "global member over the member limit": limitedGlobal} {
			if !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("seed %d: fixture lacks %s", seed, strings.Join(missing, ", "))
		}
	}
}
