package httpui_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

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

// fixedUser authenticates every request as the given identity.
type fixedUser struct{ id samlauth.Identity }

func (s fixedUser) Authenticate(http.ResponseWriter, *http.Request) (samlauth.Identity, error) {
	return s.id, nil
}

// noSAML is never reached by signed-in page tests.
type noSAML struct{}

func (noSAML) ServeHTTP(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }
func (noSAML) StartLogin(w http.ResponseWriter, _ *http.Request, _ string) {
	w.WriteHeader(http.StatusTeapot)
}
func (noSAML) Logout(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// pagesEnv is the demo org synced from the simulator into a real store,
// served by the real server with a signed-in approver.
type pagesEnv struct {
	url    string
	svc    *explore.Service
	runner *syncer.Runner
	st     *store.Store
}

func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	return newPagesEnvAs(t, "rita@acme.test")
}

// newPagesEnvAs is newPagesEnv with the signed-in user's email.
func newPagesEnvAs(t *testing.T, email string) *pagesEnv {
	t.Helper()
	return newPagesEnvFor(t, samlauth.Identity{Email: email, Role: sentryaccess.RoleApprover})
}

// newPagesEnvFor is newPagesEnv with the signed-in identity.
func newPagesEnvFor(t *testing.T, id samlauth.Identity) *pagesEnv {
	t.Helper()
	return newPagesEnvSim(t, id, sentrysim.Options{})
}

// newPagesEnvSim is newPagesEnvFor with simulator options (its clock is
// the demo epoch).
func newPagesEnvSim(t *testing.T, id samlauth.Identity, simOpts sentrysim.Options) *pagesEnv {
	t.Helper()
	simOpts.Now = sentrysim.DemoEpoch
	sim, err := sentrysim.New(sentrysim.DemoFixture(), simOpts)
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	client, err := sentry.New(sentry.Config{BaseURL: simSrv.URL, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken, MaxRetries: -1, Now: sentrysim.DemoEpoch})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{Now: sentrysim.DemoEpoch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sy := syncer.New(client, st, syncer.Options{Now: sentrysim.DemoEpoch, SentryURL: simSrv.URL})
	if _, err := sy.Full(t.Context()); err != nil {
		t.Fatalf("sync the demo org: %v", err)
	}
	svc := explore.New(st, explore.Options{Connection: explore.ConnectionConfig{
		SentryURL: simSrv.URL, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken,
		Scopes: func(ctx context.Context) ([]string, error) {
			o, err := client.Organization(ctx)
			if err != nil {
				return nil, err
			}
			return o.Access, nil
		},
	}})
	if err := svc.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	// As the dashboard wires it: one runner, whose pipeline shows each new
	// snapshot in the read model.
	runner := syncer.NewRunner(sy, st, syncer.RunnerOptions{Now: sentrysim.DemoEpoch, AfterSync: syncer.Pipeline{Steps: []syncer.Step{{
		Name: "show the new snapshot in the read model", When: syncer.AfterNewSnapshot,
		Run: func(_ context.Context, s *syncer.Synced) error {
			svc.Show(s.Result.Snapshot, s.Current, s.Previous, s.Diff)
			return nil
		},
	}}}})
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	base := "http://" + app.Listener.Addr().String()
	srv, err := httpui.New(httpui.Config{BaseURL: base}, httpui.Deps{
		Sessions: fixedUser{id},
		SAML:     noSAML{}, Assets: assets, Explore: svc, SyncRunner: explore.SyncControl{Syncs: runner, Read: svc},
	})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = srv.Handler()
	app.Start()
	return &pagesEnv{url: base, svc: svc, runner: runner, st: st}
}

type answer struct {
	status int
	header http.Header
	doc    *goquery.Document
	body   string
}

func (e *pagesEnv) get(t *testing.T, path string, htmx bool, target string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
		if target != "" {
			req.Header.Set("HX-Target", target)
		}
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, doc: d, body: string(b)}
}

func (a answer) count(testid string) int {
	return a.doc.Find(`[data-testid="` + testid + `"]`).Length()
}

func (a answer) text(testid string) string {
	return strings.Join(strings.Fields(a.doc.Find(`[data-testid="`+testid+`"]`).First().Text()), " ")
}

func TestPagesAreFullPagesOrFragments(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	pages := []struct {
		path, target, want string
	}{
		{"/", "", "overview-cards"},
		{"/members", "member-results", "member-table"},
		{"/members/1000", "", "member-teams"},
		{"/teams", "team-results", "team-table"},
		{"/teams/payments", "", "team-members"},
		{"/projects", "project-results", "project-table"},
		{"/projects/payment-api", "", "path-group"},
		{"/lookup?member=olivia.owner@acme.test&project=payment-api", "lookup", "decision"},
		{"/snapshots", "", "snapshot-table"},
		{"/graph", "graph", "graph-node"},
		{"/connection", "", "features"},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			full := e.get(t, p.path, false, "")
			if full.status != http.StatusOK || full.count("nav-overview") != 1 || full.count(p.want) == 0 {
				t.Fatalf("GET %s: status %d, nav %d, %s %d; want 200, a full page with %s\n%.800s", p.path, full.status, full.count("nav-overview"), p.want, full.count(p.want), p.want, full.body)
			}
			if !strings.Contains(full.header.Get("Vary"), "HX-Request") {
				t.Errorf("GET %s: Vary %q, want HX-Request", p.path, full.header.Get("Vary"))
			}
			frag := e.get(t, p.path, true, p.target)
			if frag.status != http.StatusOK || frag.count("nav-overview") != 0 || frag.count(p.want) == 0 {
				t.Errorf("htmx GET %s: status %d, nav %d, %s %d; want 200, a fragment with %s", p.path, frag.status, frag.count("nav-overview"), p.want, frag.count(p.want), p.want)
			}
			if p.target != "" && frag.count("page-title") != 0 {
				t.Errorf("htmx GET %s targeting #%s answered the whole content, want only the results", p.path, p.target)
			}
		})
	}
}

func TestMemberFiltersAndPaging(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	all := e.get(t, "/members", false, "")
	total := all.count("member-row")
	if total == 0 {
		t.Fatal("no member rows")
	}
	owners := e.get(t, "/members?role=owner", true, "member-results")
	owners.doc.Find(`[data-testid="member-row"] td:nth-child(3)`).Each(func(_ int, s *goquery.Selection) {
		if s.Text() != "owner" {
			t.Errorf("role=owner listed a %q", s.Text())
		}
	})
	if n := owners.count("member-row"); n == 0 || n >= total {
		t.Errorf("role=owner: %d rows of %d, want some but not all", n, total)
	}
	if owners.count("global-badge") != owners.count("member-row") {
		t.Errorf("every owner should carry the global badge: %d badges, %d rows", owners.count("global-badge"), owners.count("member-row"))
	}
	pending := e.get(t, "/members?state=pending", true, "member-results")
	if pending.count("member-row") == 0 || !strings.Contains(pending.text("member-results"), "pending") {
		t.Errorf("state=pending: %d rows, want the demo's pending invites", pending.count("member-row"))
	}
	none := e.get(t, "/members?q=nobody-by-that-name", true, "member-results")
	if none.count("member-row") != 0 || !strings.Contains(none.text("result-count"), "No member") {
		t.Errorf("a search with no hit: %d rows, count %q", none.count("member-row"), none.text("result-count"))
	}
	// Pagination: generate a bigger org? The demo has ~40 members, one page.
	if all.count("pager") != 0 && total > explore.PageSize {
		t.Errorf("one page of %d rows should not show a pager", total)
	}
}

func TestBadQueryIs422Fragment(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	for _, path := range []string{"/members?sort=age", "/members?page=two", "/members?role=boss", "/projects?team=nope", "/lookup?member=x@y&project=payment-api", "/graph?focus=planet:mars"} {
		t.Run(path, func(t *testing.T) {
			got := e.get(t, path, true, "member-results")
			if got.status != http.StatusUnprocessableEntity || got.count("flash") != 1 || got.count("nav-overview") != 0 {
				t.Errorf("status %d, flash %d, nav %d; want 422 with a flash fragment\n%s", got.status, got.count("flash"), got.count("nav-overview"), got.body)
			}
			if msg := got.text("flash"); msg == "" || strings.Contains(msg, "Some of the values") {
				t.Errorf("flash %q, want a message naming the bad value", msg)
			}
		})
	}
}

func TestUnknownObjectsAre404Pages(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	for _, path := range []string{"/members/999999", "/teams/nope", "/projects/nope", "/graph?focus=member:999999", "/snapshots/diff?from=1&to=99"} {
		got := e.get(t, path, false, "")
		if got.status != http.StatusNotFound || got.count("nav-overview") != 1 {
			t.Errorf("GET %s: status %d, full page %v; want a 404 page", path, got.status, got.count("nav-overview") == 1)
		}
	}
}

func TestMemberPageExplains(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	got := e.get(t, "/members/"+memberID(t, e, "Payments"), false, "")
	if got.status != http.StatusOK {
		t.Fatalf("status %d", got.status)
	}
	href, _ := got.doc.Find(`[data-testid="request-change"]`).Attr("href")
	if !strings.HasPrefix(href, "/changes/new?member=") {
		t.Errorf("request-change links to %q, want /changes/new?member=…", href)
	}
	if got.count("org-scopes") != 1 || got.count("project-reach") == 0 {
		t.Errorf("want org scopes and reachable projects: %d, %d", got.count("org-scopes"), got.count("project-reach"))
	}
	if !strings.Contains(got.text("member-changes"), "no previous snapshot") {
		t.Errorf("changes after one sync: %q", got.text("member-changes"))
	}
}

// memberID finds, through the members page, a non-global active member on
// the team whose name contains team.
func memberID(t *testing.T, e *pagesEnv, team string) string {
	t.Helper()
	got := e.get(t, "/members?team="+strings.ToLower(team)+"&role=member&state=active", true, "member-results")
	id, ok := got.doc.Find(`[data-testid="member-row"]`).First().Attr("data-member-id")
	if !ok {
		t.Fatalf("no member on %s", team)
	}
	return id
}

func TestLookupAndSuggestions(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	got := e.get(t, "/lookup?member=olivia.owner@acme.test&project=payment-api&scope=project:admin", false, "")
	if v, _ := got.doc.Find(`[data-testid="decision"]`).Attr("data-allowed"); v != "yes" || got.count("reasons") != 1 {
		t.Errorf("owner project:admin on payment-api: allowed=%q; want yes with reasons", v)
	}
	sg := e.get(t, "/lookup/suggest?kind=project&project=pay", true, "")
	if n := sg.doc.Find("datalist#project-suggestions option").Length(); n == 0 || n > explore.SuggestLimit {
		t.Errorf("suggestions for pay: %d options", n)
	}
}

// The troubleshooter's inputs complete into their own datalists
// (TestTroubleshootCompletesMembersAndProjectsAsYouType); any other list
// id is refused.
func TestSuggestionsGoIntoTheListAsked(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	sg := e.get(t, "/lookup/suggest?kind=member&member=oli&list=ts-members", true, "")
	if n := sg.doc.Find("datalist#ts-members option").Length(); n == 0 {
		t.Errorf("suggestions into ts-members: none for oli")
	}
	if st := e.get(t, "/lookup/suggest?kind=member&member=oli&list=x%22onload", true, "").status; st != http.StatusUnprocessableEntity {
		t.Errorf("an unknown list: status %d, want 422", st)
	}
}

func TestGraphRefocus(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	got := e.get(t, "/graph?focus=team:payments", true, "graph")
	if got.text("graph-focus") != "payments" {
		t.Errorf("focus %q, want payments", got.text("graph-focus"))
	}
	teams := got.doc.Find(`[data-testid="graph-node"][data-kind="team"]`)
	if teams.Length() != 1 {
		t.Errorf("team nodes %d, want only the focused team", teams.Length())
	}
	href, _ := got.doc.Find(`[data-testid="graph-node"][data-kind="project"]`).First().Attr("hx-get")
	if !strings.HasPrefix(href, "/graph?focus=project%3A") {
		t.Errorf("project node refocuses with %q", href)
	}
}

func TestSyncNowAndBanner(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/sync", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	got := send(t, req)
	if got.status != http.StatusAccepted || got.count("sync-panel") != 1 {
		t.Fatalf("POST /sync: status %d, panel %d; want 202 with the sync panel\n%s", got.status, got.count("sync-panel"), got.body)
	}
	e.runner.Wait()
	list, err := e.svc.Snapshots(t.Context())
	if err != nil || len(list.Snapshots) != 2 || list.Current != list.Snapshots[0].ID {
		t.Fatalf("after Sync now: %d snapshots, current %d (%v); want 2 and the new one current", len(list.Snapshots), list.Current, err)
	}
	panel := e.get(t, "/sync", true, "")
	if v, _ := panel.doc.Find(`[data-testid="sync-panel"]`).Attr("data-running"); v != "no" || panel.doc.Find("[hx-trigger]").Length() != 0 {
		t.Errorf("finished sync: running=%q and %d polling elements; want no polling", v, panel.doc.Find("[hx-trigger]").Length())
	}
	if got := panel.header.Get("HX-Refresh"); got != "true" {
		t.Errorf("finished sync polled by htmx: HX-Refresh %q, want true (the page around the panel is stale)", got)
	}
	cross, _ := http.NewRequest(http.MethodPost, e.url+"/sync", nil)
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if got := send(t, cross); got.status != http.StatusForbidden {
		t.Errorf("cross-site POST /sync: status %d, want 403", got.status)
	}
	// A failed sync shows the banner with its reason on every page.
	_, err = e.st.RecordSyncStatus(t.Context(), store.SyncStatus{Kind: store.KindFull, Started: sentrysim.DemoEpoch(), Finished: sentrysim.DemoEpoch(), Stage: "members", Error: "Sentry answered 403"})
	if err != nil {
		t.Fatal(err)
	}
	page := e.get(t, "/teams", false, "")
	if b := page.text("sync-banner"); !strings.Contains(b, "failed") || !strings.Contains(b, "Sentry answered 403") {
		t.Errorf("banner %q, want the failure with its reason", b)
	}
}

func TestMyAccessIsTheSignedInUsersMemberPage(t *testing.T) {
	t.Parallel()
	t.Run("a user whose email matches a member sees that member", func(t *testing.T) {
		e := newPagesEnvAs(t, "Paul.Payne@acme.test") // emails match case-insensitively
		got := e.get(t, "/me", false, "")
		if got.status != http.StatusOK {
			t.Fatalf("status %d", got.status)
		}
		if txt := got.doc.Find(`[data-testid="member-projects"]`).Text(); !strings.Contains(txt, "payment-api") {
			t.Errorf("my access does not show paul's projects: %q", txt)
		}
	})
	t.Run("a user who is no member is told why", func(t *testing.T) {
		e := newPagesEnv(t)
		got := e.get(t, "/me", false, "")
		if got.status != http.StatusNotFound || !strings.Contains(got.body, "No member of the Sentry organization has your email address (rita@acme.test)") {
			t.Errorf("status %d, body lacks the reason", got.status)
		}
	})
}

func TestAnUnknownPageIsNotFoundForEveryRole(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t) // an approver; viewers pass the same route checks
	for _, path := range []string{"/no-such-page", "/settings/nope", "/changes/1/nonsense"} {
		if got := e.get(t, path, false, ""); got.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, got.status)
		}
	}
}
