package httpui_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/compliance"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
	"github.com/sentry-access/sentry-access/static"
)

// Demo users of the change tests: priya is a viewer and a Sentry member;
// maya and marco are approvers.
const (
	priya = "priya.patel@acme.test"
	maya  = "maya.manager@acme.test"
	marco = "marco.mendes@acme.test"
	paul  = "paul.payne@acme.test"
)

// asHeader picks the signed-in user from the X-Test-User header.
type asHeader map[string]samlauth.Identity

func (a asHeader) Authenticate(_ http.ResponseWriter, r *http.Request) (samlauth.Identity, error) {
	id, ok := a[r.Header.Get("X-Test-User")]
	if !ok {
		return samlauth.Identity{}, samlauth.ErrNoSession
	}
	return id, nil
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

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// changeData is the dashboard's adapter over the store, rebuilt here.
type changeData struct{ st *store.Store }

func (d changeData) Current(ctx context.Context) (*access.Snapshot, error) {
	_, s, err := d.st.CurrentSnapshot(ctx)
	return s, err
}
func (d changeData) AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error) {
	inv, err := d.st.LoadInventory(ctx)
	return inv.AccessRequests, err
}

// changesEnv is the demo org in the simulator, synced into a real store,
// with the real change service applying through the real Sentry client.
// Approved requests are applied inline, before the approval answers.
type changesEnv struct {
	url    string
	sim    *sentrysim.Server
	client *sentry.Client
	svc    *changes.Service
	ex     *explore.Service
	clock  *testClock
}

func newChangesEnv(t *testing.T) *changesEnv {
	t.Helper()
	clock := &testClock{t: sentrysim.DemoEpoch()}
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	client, err := sentry.New(sentry.Config{BaseURL: simSrv.URL, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken, MaxRetries: -1, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sy := syncer.New(client, st, syncer.Options{Now: clock.Now, SentryURL: simSrv.URL})
	if _, err := sy.Full(t.Context()); err != nil {
		t.Fatalf("sync the demo org: %v", err)
	}
	if _, err := syncer.FetchInventory(t.Context(), client, st, syncer.InventoryOptions{Now: clock.Now}); err != nil {
		t.Fatalf("read the inventory: %v", err)
	}
	data := changeData{st}
	svc := changes.New(changes.Config{
		Repo: changes.NewStoreRepo(st), Snapshots: data, AccessRequests: data, Previewer: changes.EnginePreviewer{},
		Executor: changes.SentryExecutor{API: client}, Now: clock.Now, Background: func(fn func()) { fn() },
		Resync: func(ctx context.Context, _ changes.Touched) error { _, err := sy.Full(ctx); return err },
	})
	ex := explore.New(st, explore.Options{})
	if err := ex.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	users := asHeader{
		priya: {Email: priya, Role: sentryaccess.RoleViewer},
		maya:  {Email: maya, Role: sentryaccess.RoleApprover},
		marco: {Email: marco, Role: sentryaccess.RoleApprover},
		paul:  {Email: paul, Role: sentryaccess.RoleViewer},
	}
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	base := "http://" + app.Listener.Addr().String()
	srv, err := httpui.New(httpui.Config{BaseURL: base}, httpui.Deps{
		Sessions: users, SAML: noSAML{}, Assets: assets, Now: clock.Now,
		Changes:    svc,
		Compliance: compliance.NewService(st, compliance.Options{SentryURL: "https://sentry.io", Now: clock.Now, Live: client}),
		Explore:    ex,
	})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = srv.Handler()
	app.Start()
	return &changesEnv{url: base, sim: sim, client: client, svc: svc, ex: ex, clock: clock}
}

type reply struct {
	status int
	header http.Header
	doc    *goquery.Document
	body   string
}

func (e *changesEnv) do(t *testing.T, method, path, user string, htmx bool, form url.Values) reply {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-User", user)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, doc: d, body: string(b)}
}

// memberIDOf finds a demo member's Sentry id.
func (e *changesEnv) memberIDOf(t *testing.T, email string) string {
	t.Helper()
	ms, err := e.client.ListMembers(t.Context(), sentry.MemberQuery{Email: email})
	if err != nil || len(ms) == 0 {
		t.Fatalf("member %s: %v", email, err)
	}
	return ms[0].ID
}

// onTeam reports whether the member is on the team in the simulator.
func (e *changesEnv) onTeam(t *testing.T, team, email string) bool {
	t.Helper()
	ms, err := e.client.ListTeamMembers(t.Context(), team)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ms, func(m sentry.TeamMember) bool { return strings.EqualFold(m.Email, email) })
}

// joinForm is the form asking for member to join team.
func joinForm(member, team, justification, expiry string) url.Values {
	return url.Values{"kind": {"team-add"}, "member": {member}, "team": {team}, "project": {""}, "role": {""},
		"justification": {justification}, "expiry": {expiry}}
}

func TestTheInboxIsAPageOrAFragment(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	for _, tc := range []struct {
		name     string
		htmx     bool
		wantHTML bool
	}{
		{"a normal request gets the page", false, true},
		{"an htmx request gets the fragment", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do(t, http.MethodGet, "/changes", maya, tc.htmx, nil)
			if got.status != http.StatusOK {
				t.Fatalf("status %d: %s", got.status, got.body)
			}
			if has := strings.Contains(got.body, "<html"); has != tc.wantHTML {
				t.Errorf("full document = %v, want %v", has, tc.wantHTML)
			}
			if got.doc.Find(`[data-testid="sentry-access-requests"] [data-testid="access-request"]`).Length() != 3 {
				t.Errorf("want Sentry's 3 demo access requests in the inbox")
			}
			if !strings.Contains(got.header.Get("Vary"), "HX-Request") {
				t.Errorf("Vary = %q", got.header.Get("Vary"))
			}
		})
	}
}

func TestThePreviewShowsTheDiffOrA422(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	self := e.memberIDOf(t, priya)
	other := e.memberIDOf(t, maya)
	for _, tc := range []struct {
		name       string
		user       string
		form       url.Values
		wantStatus int
		wantText   string
	}{
		{"joining a team shows the projects gained", priya, joinForm(self, "platform", "", ""), http.StatusOK, "k8s-operator"},
		{"an untouched new form gets the hint, not an error", priya, url.Values{"kind": {"team-add"}, "member": {""}, "team": {""}}, http.StatusOK, "once a step names"},
		{"a form without a step is invalid", maya, url.Values{"kind": {""}, "member": {other}}, http.StatusUnprocessableEntity, "at least one step"},
		{"a viewer's own member alone is not input: the hint", priya, url.Values{"kind": {"team-add"}, "member": {self}, "team": {""}}, http.StatusOK, "once a step names"},
		{"a step missing its team is invalid", maya, joinForm(other, "", "", ""), http.StatusUnprocessableEntity, "needs a team and a member"},
		{"a viewer may not ask for someone else", priya, joinForm(other, "platform", "", ""), http.StatusUnprocessableEntity, "request changes only for yourself"},
		{"an IdP-provisioned team blocks the request", maya, joinForm(other, "identity", "", ""), http.StatusOK, "Sentry would refuse this"},
		{"a bad expiry is invalid", maya, joinForm(other, "platform", "", "3y"), http.StatusUnprocessableEntity, "Pick an expiry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do(t, http.MethodPost, "/changes/preview", tc.user, true, tc.form)
			if got.status != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", got.status, tc.wantStatus, got.body)
			}
			if !strings.Contains(got.body, tc.wantText) {
				t.Errorf("preview lacks %q:\n%s", tc.wantText, got.body)
			}
		})
	}
}

func TestCreatingARequestRedirectsOrExplains(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	self := e.memberIDOf(t, priya)
	other := e.memberIDOf(t, maya)

	got := e.do(t, http.MethodPost, "/changes", priya, true, joinForm(self, "platform", "", "1w"))
	if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, "justification is required") {
		t.Errorf("no justification: status %d, body %s", got.status, got.body)
	}
	got = e.do(t, http.MethodPost, "/changes", priya, true, joinForm(other, "platform", "on call", ""))
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "request changes only for yourself") {
		t.Errorf("viewer for someone else: status %d, body %s", got.status, got.body)
	}
	got = e.do(t, http.MethodPost, "/changes", priya, true, joinForm(self, "platform", "on call", "1w"))
	if got.status != http.StatusNoContent || got.header.Get("HX-Redirect") != "/changes/1" {
		t.Fatalf("create: status %d, HX-Redirect %q, body %s", got.status, got.header.Get("HX-Redirect"), got.body)
	}
	got = e.do(t, http.MethodPost, "/changes", priya, false, joinForm(self, "platform", "on call", ""))
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/changes/2" {
		t.Errorf("plain form post: status %d, Location %q", got.status, got.header.Get("Location"))
	}
}

func TestApprovalPolicyOnTheRequestPage(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	self := e.memberIDOf(t, priya)
	if got := e.do(t, http.MethodPost, "/changes", priya, true, joinForm(self, "platform", "on call for platform", "1w")); got.status != http.StatusNoContent {
		t.Fatalf("create: %d %s", got.status, got.body)
	}

	t.Run("the requester sees why she cannot approve", func(t *testing.T) {
		got := e.do(t, http.MethodGet, "/changes/1", priya, false, nil)
		if got.doc.Find(`[data-testid="approve"]`).Length() != 0 {
			t.Error("the requester is offered Approve")
		}
		if r := got.doc.Find(`[data-testid="decide-reason"]`).Text(); !strings.Contains(r, "may not approve") {
			t.Errorf("reason = %q", r)
		}
	})
	t.Run("a viewer's approval is refused with 403", func(t *testing.T) {
		got := e.do(t, http.MethodPost, "/changes/1/approve", priya, true, url.Values{"comment": {"me"}})
		if got.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", got.status)
		}
	})
	t.Run("an approver is offered Approve", func(t *testing.T) {
		got := e.do(t, http.MethodGet, "/changes/1", maya, false, nil)
		if got.doc.Find(`[data-testid="approve"]`).Length() != 1 {
			t.Error("no Approve button for maya")
		}
	})

	got := e.do(t, http.MethodPost, "/changes/1/approve", maya, true, url.Values{"comment": {"ok for a week"}})
	if got.status != http.StatusNoContent || got.header.Get("HX-Redirect") != "/changes/1" {
		t.Fatalf("approve: %d %q %s", got.status, got.header.Get("HX-Redirect"), got.body)
	}
	page := e.do(t, http.MethodGet, "/changes/1", marco, false, nil)
	if title := page.doc.Find(`[data-testid="page-title"]`).Text(); !strings.Contains(title, "add member "+priya+" to team platform") {
		t.Errorf("title %q does not name the member by email", title)
	}
	if s := page.doc.Find(`[data-testid="request-state"]`).Text(); s != "applied" {
		t.Errorf("state %q, want applied", s)
	}
	if s := page.doc.Find(`[data-testid="grant-state"]`).Text(); s != "active" {
		t.Errorf("grant %q, want active", s)
	}
	if !e.onTeam(t, "platform", priya) {
		t.Error("priya is not on platform in Sentry after apply")
	}
	if got := e.do(t, http.MethodPost, "/changes/1/approve", marco, true, nil); got.status != http.StatusConflict {
		t.Errorf("approving an applied request: %d, want 409", got.status)
	}
	status := e.do(t, http.MethodGet, "/changes/1", marco, true, nil)
	if status.doc.Find(`[data-testid="approvals"]`).Length() != 1 {
		t.Error("the htmx page fragment lacks the approvals")
	}
}

func TestTheRequesterCannotApproveTheirOwnRequest(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	other := e.memberIDOf(t, priya)
	if got := e.do(t, http.MethodPost, "/changes", maya, true, joinForm(other, "platform", "needs platform", "")); got.status != http.StatusNoContent {
		t.Fatalf("create: %d %s", got.status, got.body)
	}
	got := e.do(t, http.MethodPost, "/changes/1/approve", maya, true, url.Values{"comment": {"self"}})
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "own request") {
		t.Errorf("self approval: %d %s", got.status, got.body)
	}
	got = e.do(t, http.MethodPost, "/changes/1/deny", marco, true, url.Values{"comment": {""}})
	if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, "needs a comment") {
		t.Errorf("deny without comment: %d %s", got.status, got.body)
	}
}

func TestBlueprintPlanAndRequest(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	page := e.do(t, http.MethodGet, "/blueprints?sample=microservices-isolation.yaml", maya, false, nil)
	yml := page.doc.Find(`[data-testid="blueprint-yaml"]`).Text()
	if !strings.Contains(yml, "Microservices team isolation") {
		t.Fatalf("sample not loaded: %q", yml)
	}
	got := e.do(t, http.MethodPost, "/blueprints/plan", maya, true, url.Values{"yaml": {"version: 2\n"}})
	if got.status != http.StatusUnprocessableEntity {
		t.Errorf("bad blueprint: %d", got.status)
	}
	got = e.do(t, http.MethodPost, "/blueprints/plan", maya, true, url.Values{"yaml": {yml}})
	if got.status != http.StatusOK || !strings.Contains(got.body, "unlink project payment-api from team backend-eng") {
		t.Fatalf("plan: %d %s", got.status, got.body)
	}
	if got := e.do(t, http.MethodPost, "/blueprints/request", priya, true, url.Values{"yaml": {yml}, "justification": {"x"}}); got.status != http.StatusForbidden {
		t.Errorf("viewer turning a plan into a request: %d", got.status)
	}
	got = e.do(t, http.MethodPost, "/blueprints/request", maya, true, url.Values{"yaml": {yml}, "justification": {"isolate services"}})
	if got.status != http.StatusNoContent || got.header.Get("HX-Redirect") != "/changes/1" {
		t.Fatalf("request: %d %s", got.status, got.body)
	}
}

func TestTheTrailIsSearchableVerifiedAndExportable(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	self := e.memberIDOf(t, priya)
	e.do(t, http.MethodPost, "/changes", priya, true, joinForm(self, "platform", "on call", ""))
	e.do(t, http.MethodPost, "/changes/1/deny", maya, true, url.Values{"comment": {"not now"}})

	// The trail holds every justification and Sentry's answers: a viewer
	// may not read it, and may not read others' requests either.
	if got := e.do(t, http.MethodGet, "/trail", priya, false, nil); got.status != http.StatusForbidden {
		t.Errorf("viewer reading the trail: %d, want 403", got.status)
	}
	if got := e.do(t, http.MethodGet, "/trail/export.csv", priya, false, nil); got.status != http.StatusForbidden {
		t.Errorf("viewer exporting the trail: %d, want 403", got.status)
	}
	if got := e.do(t, http.MethodGet, "/changes/1", priya, false, nil); got.status != http.StatusOK {
		t.Errorf("the requester reading her own request: %d", got.status)
	}
	if got := e.do(t, http.MethodGet, "/changes/1", paul, false, nil); got.status != http.StatusNotFound {
		t.Errorf("another viewer reading priya's request: %d, want 404", got.status)
	}

	page := e.do(t, http.MethodGet, "/trail", maya, false, nil)
	if s := page.doc.Find(`[data-testid="chain-status"]`).Text(); !strings.Contains(s, "2 records") || !strings.Contains(s, "verified") {
		t.Errorf("chain status %q", s)
	}
	got := e.do(t, http.MethodGet, "/trail?actor="+url.QueryEscape(maya), maya, false, nil)
	if n := got.doc.Find(`[data-testid="trail-row"]`).Length(); n != 1 {
		t.Errorf("records by maya: %d, want 1", n)
	}
	if got := e.do(t, http.MethodGet, "/trail?from=yesterday", maya, false, nil); got.status != http.StatusUnprocessableEntity {
		t.Errorf("bad date: %d", got.status)
	}
	csv := e.do(t, http.MethodGet, "/trail/export.csv", maya, false, nil)
	if !strings.HasPrefix(csv.body, "seq,at,actor,kind") || strings.Count(csv.body, "\n") != 3 {
		t.Errorf("csv:\n%s", csv.body)
	}
	js := e.do(t, http.MethodGet, "/trail/export.json?kind=request.denied", maya, false, nil)
	if !strings.Contains(js.body, `"kind": "request.denied"`) || strings.Contains(js.body, "request.created") {
		t.Errorf("json:\n%s", js.body)
	}
}
