package httpui_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/compliance"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
	"github.com/sentry-access/sentry-access/static"
)

// complianceEnv is the demo org synced (snapshot and inventory) from the
// simulator into a real store, served with a signed-in user of role.
type complianceEnv struct {
	url string
}

type complianceOpts struct {
	role      sentryaccess.Role
	scimToken string // "" leaves SCIM unconfigured
	noFetch   bool   // skip the inventory fetch
}

func newComplianceEnv(t *testing.T, o complianceOpts) *complianceEnv {
	t.Helper()
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{Now: sentrysim.DemoEpoch})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	client, err := sentry.New(sentry.Config{BaseURL: simSrv.URL, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken,
		SCIMToken: o.scimToken, MaxRetries: -1, Now: sentrysim.DemoEpoch})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{Now: sentrysim.DemoEpoch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := syncer.New(client, st, syncer.Options{Now: sentrysim.DemoEpoch}).Full(t.Context()); err != nil {
		t.Fatalf("sync the demo org: %v", err)
	}
	if !o.noFetch {
		if _, err := syncer.FetchInventory(t.Context(), client, st, syncer.InventoryOptions{SCIMConfigured: o.scimToken != "", Now: sentrysim.DemoEpoch}); err != nil {
			t.Fatal(err)
		}
	}
	svc := compliance.NewService(st, compliance.Options{SentryURL: "https://sentry.io", Now: sentrysim.DemoEpoch})
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	base := "http://" + app.Listener.Addr().String()
	srv, err := httpui.New(httpui.Config{BaseURL: base}, httpui.Deps{
		Sessions: fixedUser{samlauth.Identity{Email: "rita@acme.test", Role: o.role}},
		SAML:     noSAML{}, Assets: assets, Compliance: svc,
		// The changes service decides which change requests the pages offer.
		Changes: changes.New(changes.Config{Repo: changes.NewStoreRepo(st), Snapshots: changeData{st}, Previewer: changes.EnginePreviewer{},
			Executor: changes.SentryExecutor{API: client}, Now: sentrysim.DemoEpoch}),
	})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = srv.Handler()
	app.Start()
	return &complianceEnv{url: base}
}

func (e *complianceEnv) get(t *testing.T, path string, htmx bool) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return send(t, req)
}

func (e *complianceEnv) post(t *testing.T, path string, form url.Values, htmx bool) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return send(t, req)
}

func TestCompliancePagesAreFullPagesOrFragments(t *testing.T) {
	t.Parallel()
	e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleViewer, scimToken: sentrysim.DemoSCIMToken})
	pages := []struct{ path, title, want string }{
		{"/tokens", "Tokens", "tokens"},
		{"/scim", "SCIM and SSO drift", "scim-users"},
		{"/sso", "SSO", "saml-endpoints"},
		{"/posture", "Security posture", "posture"},
		{"/troubleshoot", "Troubleshoot", "ts-project-form"},
	}
	for _, p := range pages {
		for _, htmx := range []bool{false, true} {
			t.Run(p.path+map[bool]string{false: " page", true: " fragment"}[htmx], func(t *testing.T) {
				t.Parallel()
				a := e.get(t, p.path, htmx)
				if a.status != http.StatusOK {
					t.Fatalf("status %d: %.300s", a.status, a.body)
				}
				if got := a.doc.Find("nav.sidebar").Length() == 1; got == htmx {
					t.Errorf("layout present = %v for htmx = %v", got, htmx)
				}
				if got := a.text("page-title"); got != p.title {
					t.Errorf("title = %q, want %q", got, p.title)
				}
				if a.count(p.want) != 1 {
					t.Errorf("no %s", p.want)
				}
				if !strings.Contains(strings.Join(a.header.Values("Vary"), ","), "HX-Request") {
					t.Errorf("Vary = %v", a.header.Values("Vary"))
				}
			})
		}
	}
}

func TestTheTokenPageShowsTheDemoTokensFindingsAndWhatCannotBeSeen(t *testing.T) {
	t.Parallel()
	e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleViewer, scimToken: sentrysim.DemoSCIMToken})
	a := e.get(t, "/tokens", false)
	if got := a.doc.Find(`[data-testid="token"][data-kind="org-auth-token"]`).Length(); got != 3 {
		t.Errorf("org auth tokens = %d, want 3", got)
	}
	if got := a.doc.Find(`[data-testid="token"][data-kind="internal-integration"]`).Length(); got < 3 {
		t.Errorf("integrations = %d, want the demo's three (and the SCIM integration)", got)
	}
	if !strings.Contains(a.text("blind-spots"), "Personal (user) auth tokens") {
		t.Errorf("blind spots = %q", a.text("blind-spots"))
	}
	for _, rule := range []compliance.Rule{compliance.RuleTokenBroadScopes, compliance.RuleTokenUnused, compliance.RuleTokenNaming} {
		if a.doc.Find(`[data-testid="finding"][data-rule="`+string(rule)+`"]`).Length() == 0 {
			t.Errorf("no %s finding for the demo org", rule)
		}
	}
	if a.count("ledger-entry") == 0 {
		t.Errorf("empty ledger; the demo audit log has token events")
	}
	if a.count("helper-readonly") != 1 || a.count("intent-form") != 0 {
		t.Errorf("a viewer should not get the intent form")
	}
}

func TestDataThatIsNotVisibleSaysSo(t *testing.T) {
	t.Parallel()
	t.Run("no SCIM token", func(t *testing.T) {
		t.Parallel()
		e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleViewer})
		a := e.get(t, "/scim", false)
		if got := a.text("not-visible"); !strings.Contains(got, "no SCIM token is configured") {
			t.Errorf("not-visible = %q", got)
		}
		found := false
		a.doc.Find(`[data-testid="finding"][data-rule="not-visible"]`).Each(func(int, *goquery.Selection) { found = true })
		if !found {
			t.Errorf("no not-visible finding: drift must not look clean when SCIM is unreadable")
		}
		if a.doc.Find(`[data-testid="finding"][data-rule="scim-deprovisioned-member"]`).Length() != 0 {
			t.Errorf("members called deprovisioned without SCIM data")
		}
	})
	t.Run("no inventory fetched yet", func(t *testing.T) {
		t.Parallel()
		e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleViewer, noFetch: true})
		a := e.get(t, "/tokens", false)
		if got := a.text("blind-spots"); !strings.Contains(got, "Org auth tokens: not read yet") {
			t.Errorf("blind spots = %q", got)
		}
		p := e.get(t, "/posture", false)
		if got := p.doc.Find(`[data-check="integration-scopes"]`).AttrOr("data-status", ""); got != "unknown" {
			t.Errorf("integration-scopes = %q, want unknown", got)
		}
	})
}

func TestRecordingATokenIntent(t *testing.T) {
	t.Parallel()
	t.Run("an approver gets the name and minimal scopes, and the intent is listed", func(t *testing.T) {
		t.Parallel()
		e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleApprover, scimToken: sentrysim.DemoSCIMToken})
		a := e.post(t, "/tokens/intents", url.Values{"purpose": {"ci"}, "environment": {"prod"}, "expires": {"2027-01-01"}}, true)
		if a.status != http.StatusOK {
			t.Fatalf("status %d: %.300s", a.status, a.body)
		}
		if got := a.text("suggested-name"); got != "ci-prod" {
			t.Errorf("name = %q", got)
		}
		if got := a.doc.Find(`[data-testid="suggested-scopes"] code`).Map(func(_ int, s *goquery.Selection) string { return s.Text() }); strings.Join(got, " ") != "org:read project:releases" {
			t.Errorf("scopes = %q", got)
		}
		page := e.get(t, "/tokens", false)
		if page.doc.Find(`[data-testid="token"][data-kind="recorded-intent"]`).Length() != 1 {
			t.Errorf("recorded intent not listed")
		}
	})
	t.Run("a bad environment is a 422 form fragment", func(t *testing.T) {
		t.Parallel()
		e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleApprover, noFetch: true})
		a := e.post(t, "/tokens/intents", url.Values{"purpose": {"ci"}, "environment": {"moon"}}, true)
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.text("intent-error"), "unknown environment") {
			t.Errorf("status %d error %q", a.status, a.text("intent-error"))
		}
	})
	t.Run("a plain form post is redirected back", func(t *testing.T) {
		t.Parallel()
		e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleAdmin, noFetch: true})
		req, _ := http.NewRequest(http.MethodPost, e.url+"/tokens/intents", strings.NewReader("purpose=dashboard&environment=dev"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tokens" {
			t.Errorf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("a viewer may not record", func(t *testing.T) {
		t.Parallel()
		e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleViewer, noFetch: true})
		a := e.post(t, "/tokens/intents", url.Values{"purpose": {"ci"}, "environment": {"prod"}}, true)
		if a.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", a.status)
		}
	})
}

func TestTheCannotSeeAProjectDiagnosisLinksToAChangeRequest(t *testing.T) {
	t.Parallel()
	// An approver: a viewer is offered only requests for herself
	// (TestOnlyChangeRequestsTheUserMayMakeAreOffered).
	e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleApprover, noFetch: true})
	q := url.Values{"member": {"noah.nash@acme.test"}, "project": {"payment-api"}}
	a := e.get(t, "/troubleshoot/project?"+q.Encode(), true)
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %.300s", a.status, a.body)
	}
	if a.doc.Find("nav.sidebar").Length() != 0 {
		t.Errorf("htmx got the layout")
	}
	if !strings.Contains(a.text("diagnosis"), "denied") {
		t.Errorf("diagnosis = %q, want the engine's denial", a.text("diagnosis"))
	}
	href := a.doc.Find(`[data-testid="create-change-request"]`).AttrOr("href", "")
	for _, want := range []string{"/changes/new?", "kind=team-add", "team=", "member=1019", "project=payment-api"} {
		if !strings.Contains(href, want) {
			t.Errorf("change link %q lacks %q", href, want)
		}
	}
	bad := e.get(t, "/troubleshoot/project?member=nobody%40acme.test&project=payment-api", true)
	if bad.status != http.StatusUnprocessableEntity {
		t.Errorf("unknown member: status %d, want 422", bad.status)
	}
}

func TestTheSSOCheckerAnswersAFragment(t *testing.T) {
	t.Parallel()
	e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleViewer, scimToken: sentrysim.DemoSCIMToken})
	q := url.Values{"acs": {"https://sentry.io/saml/metadata/acme/"}, "audience": {"https://sentry.io/saml/metadata/acme/"}}
	a := e.get(t, "/sso/check?"+q.Encode(), true)
	if a.status != http.StatusOK || a.doc.Find("nav.sidebar").Length() != 0 {
		t.Fatalf("status %d, want a 200 fragment", a.status)
	}
	if got := a.doc.Find(`[data-testid="sso-check"][data-ok="no"]`).Length(); got != 1 {
		t.Errorf("mismatches = %d, want 1 (the ACS)", got)
	}
	if !strings.Contains(a.text("sso-checks"), "swapped") {
		t.Errorf("checks = %q, want the swap explained", a.text("sso-checks"))
	}
	page := e.get(t, "/sso", false)
	if page.count("copy-acs-url") != 1 || !strings.Contains(page.text("saml-endpoints"), "https://sentry.io/saml/acs/acme/") {
		t.Errorf("setup assistant lacks the ACS URL with its copy button")
	}
}

// The troubleshooter completes its inputs as the lookup does, each into
// its own datalist, instead of listing every member and project in the
// page (10,000 members made it over half a megabyte).
func TestTroubleshootCompletesMembersAndProjectsAsYouType(t *testing.T) {
	t.Parallel()
	e := newComplianceEnv(t, complianceOpts{role: sentryaccess.RoleApprover, noFetch: true})
	page := e.get(t, "/troubleshoot", false)
	if page.status != http.StatusOK {
		t.Fatalf("status %d", page.status)
	}
	for _, in := range []struct{ testid, list, kind string }{{"ts-member", "ts-members", "member"}, {"ts-project-input", "ts-projects", "project"}} {
		input := page.doc.Find(`[data-testid="` + in.testid + `"]`)
		if l, _ := input.Attr("list"); l != in.list {
			t.Errorf("%s list=%q, want %q", in.testid, l, in.list)
		}
		if u, _ := input.Attr("hx-get"); u != "/lookup/suggest?kind="+in.kind+"&list="+in.list {
			t.Errorf("%s hx-get=%q, want the suggestions for %s into %s", in.testid, u, in.kind, in.list)
		}
		if page.doc.Find("datalist#"+in.list).Length() != 1 || page.doc.Find("datalist#"+in.list+" option").Length() != 0 {
			t.Errorf("datalist %s: want one, empty until the user types", in.list)
		}
	}
}
