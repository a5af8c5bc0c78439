package httpui_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/static"
)

// headerUser signs in whoever the X-Test-Email / X-Test-Role headers name.
type headerUser struct{}

func (headerUser) Authenticate(_ http.ResponseWriter, r *http.Request) (samlauth.Identity, error) {
	return samlauth.Identity{Email: r.Header.Get("X-Test-Email"), Role: sentryaccess.Role(r.Header.Get("X-Test-Role"))}, nil
}

type user struct {
	email string
	role  sentryaccess.Role
}

var (
	rvAdmin    = user{"root@acme.test", sentryaccess.RoleAdmin}
	rvApprover = user{"bo@acme.test", sentryaccess.RoleApprover}
	rvTeamLead = user{"cy@acme.test", sentryaccess.RoleViewer}
	rvViewer   = user{"zed@acme.test", sentryaccess.RoleViewer}
)

// recordingChanges stands in for the change-request service.
type recordingChanges struct{ got []changes.NewRequest }

func (r *recordingChanges) Create(_ context.Context, _ sentryaccess.Actor, in changes.NewRequest) (*changes.Request, error) {
	r.got = append(r.got, in)
	return &changes.Request{ID: fmt.Sprint(len(r.got)), State: changes.StatePendingApproval}, nil
}

type rvEnv struct {
	url string
	st  *store.Store
	ch  *recordingChanges
}

var rvNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func rvSnapshot() *access.Snapshot {
	return &access.Snapshot{
		Org: access.Org{Slug: "acme"},
		Members: []access.Member{
			{ID: "1", Email: "ana@acme.test", OrgRole: "owner", State: access.StateActive},
			{ID: "3", Email: "cy@acme.test", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments", Role: "admin"}}},
			{ID: "4", Email: "dee@acme.test", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments"}}},
		},
		Teams:    []access.Team{{ID: "10", Slug: "payments"}},
		Projects: []access.Project{{ID: "20", Slug: "checkout", Teams: []string{"payments"}}},
	}
}

func newRvEnv(t *testing.T, entries int) *rvEnv {
	t.Helper()
	now := func() time.Time { return rvNow }
	st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{Org: "acme"}, rvSnapshot()); err != nil {
		t.Fatal(err)
	}
	var es []sentry.AuditLogEntry
	for i := 1; i <= entries; i++ {
		es = append(es, sentry.AuditLogEntry{ID: fmt.Sprint(i), Event: "member.edit", Actor: &sentry.AuditActor{Email: "ana@acme.test"},
			Note: fmt.Sprintf("edited member %d", i), DateCreated: rvNow.Add(-time.Duration(i) * time.Hour)})
	}
	if len(es) > 0 {
		if _, err := st.AppendAuditEntries(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	ch := &recordingChanges{}
	reviews := review.New(review.Config{Repo: review.NewStoreRepo(st), Changes: ch, Now: now,
		Snapshots: review.SnapshotFunc(func(ctx context.Context) (uint64, *access.Snapshot, error) {
			m, s, err := st.CurrentSnapshot(ctx)
			return m.ID, s, err
		})})
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	base := "http://" + app.Listener.Addr().String()
	srv, err := httpui.New(httpui.Config{BaseURL: base}, httpui.Deps{
		Now: now, Sessions: headerUser{}, SAML: noSAML{}, Assets: assets,
		Audit: auditlog.New(st, now), Reviews: reviews,
		// The test receivers listen on 127.0.0.1, refused unless allowed.
		Notify: notify.New(notify.Config{Repo: notify.NewStoreRepo(st), Now: now, MaxAttempts: 2,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = srv.Handler()
	app.Start()
	return &rvEnv{url: base, st: st, ch: ch}
}

// do sends a request as u (form != nil makes it a POST) without following
// redirects.
func (e *rvEnv) do(t *testing.T, u user, path string, form url.Values, htmx bool) (answer, *http.Response, []byte) {
	t.Helper()
	method, body := http.MethodGet, io.Reader(nil)
	if form != nil {
		method, body = http.MethodPost, strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	req.Header.Set("X-Test-Email", u.email)
	req.Header.Set("X-Test-Role", string(u.role))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	doc, _ := goquery.NewDocumentFromReader(bytes.NewReader(b))
	return answer{status: resp.StatusCode, header: resp.Header, doc: doc, body: string(b)}, resp, b
}

func TestAuditPagesAreForApproversAsPagesOrFragments(t *testing.T) {
	t.Parallel()
	e := newRvEnv(t, 3)
	tests := []struct {
		name       string
		u          user
		htmx       bool
		wantStatus int
		wantLayout bool
	}{
		{"approver gets the page", rvApprover, false, http.StatusOK, true},
		{"approver with htmx gets the fragment", rvApprover, true, http.StatusOK, false},
		{"viewer is refused", rvViewer, false, http.StatusForbidden, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := e.do(t, tt.u, "/audit", nil, tt.htmx)
			if a.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", a.status, tt.wantStatus)
			}
			if got := a.doc.Find("nav.sidebar").Length() == 1; got != tt.wantLayout {
				t.Errorf("layout = %v, want %v", got, tt.wantLayout)
			}
			if tt.wantStatus == http.StatusOK && a.count("audit-row") != 3 {
				t.Errorf("rows = %d, want 3", a.count("audit-row"))
			}
		})
	}
}

func TestAuditEmptyArchiveSaysWhy(t *testing.T) {
	t.Parallel()
	e := newRvEnv(t, 0)
	a, _, _ := e.do(t, rvApprover, "/audit", nil, false)
	if got := a.text("audit-empty"); !strings.Contains(got, "No sync with Sentry has run yet") {
		t.Errorf("empty notice = %q", got)
	}
}

func TestAuditPagingLoadsTheNextRows(t *testing.T) {
	t.Parallel()
	e := newRvEnv(t, 60)
	a, _, _ := e.do(t, rvApprover, "/audit", nil, false)
	next, ok := a.doc.Find(`[data-testid="audit-next"]`).Attr("hx-get")
	if a.count("audit-row") != 50 || !ok {
		t.Fatalf("first page: %d rows, next %q", a.count("audit-row"), next)
	}
	_, _, rows := e.do(t, rvApprover, next, nil, true)
	// The answer is bare table rows: parse them inside a table.
	b, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + string(rows) + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	if n, more := b.Find(`[data-testid="audit-row"]`).Length(), b.Find(`[data-testid="audit-next"]`).Length(); n != 10 || more != 0 {
		t.Errorf("second page: %d rows, %d next buttons; want 10 and none", n, more)
	}
	d, _, _ := e.do(t, rvApprover, "/audit/7", nil, false)
	if !strings.Contains(d.text("audit-entry"), "edited member 7") {
		t.Errorf("detail = %q", d.text("audit-entry"))
	}
	if nf, _, _ := e.do(t, rvApprover, "/audit/999", nil, false); nf.status != http.StatusNotFound {
		t.Errorf("unknown entry: %d, want 404", nf.status)
	}
}

func TestAuditExportCarriesItsHashInTrailersAndTheSummaryAgrees(t *testing.T) {
	t.Parallel()
	e := newRvEnv(t, 5)
	for _, tt := range []struct{ format, path, file string }{
		{"csv", "/audit/export.csv", "audit-log-2026-03-01-to-2026-03-02.csv"},
		{"json", "/audit/export.json", "audit-log-2026-03-01-to-2026-03-02.json"},
		{"review", "/audit/export/review.json", "audit-log-2026-03-01-to-2026-03-02-review.json"},
	} {
		format := tt.format
		t.Run(format, func(t *testing.T) {
			_, resp, body := e.do(t, rvApprover, tt.path+"?from=2026-03-01&to=2026-03-02", nil, false)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, tt.file) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			sum := sha256.Sum256(body)
			want := hex.EncodeToString(sum[:])
			if got := resp.Trailer.Get("X-Export-SHA256"); got != want {
				t.Errorf("trailer sha = %q, want %q", got, want)
			}
			if got := resp.Trailer.Get("X-Export-Rows"); got != "5" {
				t.Errorf("trailer rows = %q, want 5", got)
			}
			s, _, _ := e.do(t, rvApprover, "/audit/export/summary?format="+format+"&from=2026-03-01&to=2026-03-02", nil, true)
			if s.text("export-sha256") != want || s.text("export-rows") != "5" {
				t.Errorf("summary = %q", s.text("export-summary"))
			}
		})
	}
}

func TestReviewCampaignFromCreationToEvidence(t *testing.T) {
	t.Parallel()
	e := newRvEnv(t, 0)
	// Viewers may not start a campaign.
	if a, _, _ := e.do(t, rvViewer, "/reviews", url.Values{"name": {"x"}, "scope": {"org"}, "due": {"2026-03-20"}}, true); a.status != http.StatusForbidden {
		t.Fatalf("viewer create: %d, want 403", a.status)
	}
	a, resp, _ := e.do(t, rvApprover, "/reviews", url.Values{"name": {"Q1 payments"}, "scope": {"team:payments"}, "due": {"2026-03-20"}}, true)
	if a.status != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/reviews/1" {
		t.Fatalf("create: %d, HX-Redirect %q", a.status, resp.Header.Get("HX-Redirect"))
	}
	// The team admin (a dashboard viewer) sees a reminder and their item.
	list, _, _ := e.do(t, rvTeamLead, "/reviews", nil, false)
	if !strings.Contains(list.text("review-reminder"), "1 item(s) wait for your review") {
		t.Errorf("reminder = %q", list.text("review-reminder"))
	}
	page, _, _ := e.do(t, rvTeamLead, "/reviews/1?mine=1", nil, false)
	if page.count("review-item") != 1 || page.count("review-close") != 0 {
		t.Errorf("team lead sees %d items, %d close buttons; want 1 and none", page.count("review-item"), page.count("review-close"))
	}
	// Revoking without a reason re-renders the body with the problem.
	bad, _, _ := e.do(t, rvTeamLead, "/reviews/1/decide", url.Values{"item": {"2"}, "decision": {"revoke"}}, true)
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.text("review-message"), "needs a reason") {
		t.Errorf("revoke without comment: %d %q", bad.status, bad.text("review-message"))
	}
	// Nor may he decide on his own membership.
	own, _, _ := e.do(t, rvTeamLead, "/reviews/1/decide", url.Values{"item": {"1"}, "decision": {"certify"}}, true)
	if own.status != http.StatusForbidden {
		t.Errorf("own item: %d, want 403", own.status)
	}
	ok, _, _ := e.do(t, rvTeamLead, "/reviews/1/decide", url.Values{"item": {"2"}, "decision": {"revoke"}, "comment": {"moved on"}}, true)
	if ok.status != http.StatusOK || ok.text("review-progress") != "1 of 2 decided (50%)" {
		t.Errorf("decide: %d, progress %q", ok.status, ok.text("review-progress"))
	}
	// Evidence exists only after closing; closing is for approvers.
	if a, _, _ := e.do(t, rvApprover, "/reviews/1/evidence.zip", nil, false); a.status != http.StatusConflict {
		t.Errorf("evidence while open: %d, want 409", a.status)
	}
	if a, _, _ := e.do(t, rvTeamLead, "/reviews/1/close", url.Values{}, true); a.status != http.StatusForbidden {
		t.Errorf("viewer close: %d, want 403", a.status)
	}
	if a, resp, _ := e.do(t, rvApprover, "/reviews/1/close", url.Values{}, true); resp.Header.Get("HX-Redirect") != "/reviews/1" {
		t.Fatalf("close: %d %q", a.status, resp.Header.Get("HX-Redirect"))
	}
	if len(e.ch.got) != 1 || e.ch.got[0].Steps[0].Kind != changes.KindTeamRemove {
		t.Errorf("change requests = %+v", e.ch.got)
	}
	_, resp, zipped := e.do(t, rvApprover, "/reviews/1/evidence.zip", nil, false)
	sum := sha256.Sum256(zipped)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Evidence-SHA256") != hex.EncodeToString(sum[:]) {
		t.Fatalf("evidence: %d, sha header %q", resp.StatusCode, resp.Header.Get("X-Evidence-SHA256"))
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil || len(zr.File) != 4 {
		t.Fatalf("zip: %v, %d files", err, len(zr.File))
	}
	closed, _, _ := e.do(t, rvApprover, "/reviews/1", nil, false)
	if closed.text("review-state") != "closed" || closed.count("review-evidence") != 1 || closed.count("review-change-request") != 1 {
		t.Errorf("closed page: state %q, evidence links %d", closed.text("review-state"), closed.count("review-evidence"))
	}
	// The link opens the request the revocations became, not a blank form.
	if href, _ := closed.doc.Find(`[data-testid="review-change-request"]`).Attr("href"); href != "/changes/1" {
		t.Errorf("change request link = %q, want /changes/1", href)
	}
}

func TestNotificationSettingsAreForAdminsAndSendATest(t *testing.T) {
	t.Parallel()
	e := newRvEnv(t, 0)
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Header.Get("X-Sentry-Access-Event")+" "+string(b))
	}))
	defer rcv.Close()
	if a, _, _ := e.do(t, rvApprover, "/settings/notifications", nil, false); a.status != http.StatusForbidden {
		t.Errorf("approver: %d, want 403", a.status)
	}
	bad, _, _ := e.do(t, rvAdmin, "/settings/notifications", url.Values{"name": {"x"}, "url": {"ftp://x"}, "format": {"generic"}, "event": {"findings.new"}}, true)
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.text("notify-message"), "absolute http(s) URL") {
		t.Errorf("bad URL: %d %q", bad.status, bad.text("notify-message"))
	}
	saved, _, _ := e.do(t, rvAdmin, "/settings/notifications", url.Values{"name": {"ops"}, "url": {rcv.URL}, "format": {"slack"},
		"event": {"findings.new", "access.changed"}, "secret": {"generate"}}, true)
	secret := strings.TrimPrefix(saved.text("notify-secret"), "Signing secret (shown once; copy it now): ")
	if saved.status != http.StatusOK || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("save: %d, secret %q", saved.status, saved.text("notify-secret"))
	}
	page, _, _ := e.do(t, rvAdmin, "/settings/notifications", nil, false)
	if strings.Contains(page.body, secret) {
		t.Error("the settings page shows the secret again")
	}
	tested, _, _ := e.do(t, rvAdmin, "/settings/notifications/1/test", url.Values{}, true)
	if tested.text("notify-message") != "Test delivered." || len(got) != 1 || !strings.HasPrefix(got[0], `test {"text":"*Test message`) {
		t.Errorf("test: %q, receiver got %q", tested.text("notify-message"), got)
	}
	if tested.text("delivery-state") != "delivered" {
		t.Errorf("delivery log state = %q", tested.text("delivery-state"))
	}
	// A receiver on the cloud-metadata address is refused, and the page
	// says so in words.
	if meta, _, _ := e.do(t, rvAdmin, "/settings/notifications", url.Values{"name": {"meta"}, "url": {"http://169.254.169.254/latest/meta-data/"},
		"format": {"generic"}, "event": {"findings.new"}}, true); meta.status != http.StatusOK {
		t.Fatalf("save the metadata URL: %d", meta.status)
	}
	refused, _, _ := e.do(t, rvAdmin, "/settings/notifications/2/test", url.Values{}, true)
	if msg := refused.text("notify-message"); !strings.Contains(msg, "internal address") || !strings.Contains(msg, "SENTRY_ACCESS_WEBHOOK_ALLOW") {
		t.Errorf("test of an internal receiver: %q", msg)
	}
}
