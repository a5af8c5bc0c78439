package faulttest

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/crewjam/saml"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/testing/loadtest"
)

// simClock is the simulator's and the Sentry client's clock: it only moves
// when the client sleeps (rate-limit waits, retry backoff), so rate-limit
// windows pass without real waiting and runs are reproducible.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(max(d, 0))
	return nil
}

// worldOptions tune the assembled dashboard.
type worldOptions struct {
	// Timeout is the Sentry client's per-request timeout (5 s when zero).
	Timeout time.Duration
	// Wrap wraps the simulator's handler (to lose answers, for example).
	Wrap func(http.Handler) http.Handler
}

// world is the dashboard as dashboard.New assembles it (store, real
// Sentry client, syncer, read model, change service, SAML login through
// the dev IdP, pages) over the simulator's demo organization. The
// dashboard runs on the real clock; the simulator and the client share a
// simClock. Syncs run one request at a time so that the simulator's
// seeded faults hit the same requests on every run.
type world struct {
	clock *simClock
	sim   *sentrysim.Server
	st    *store.Store
	srv   *dashboard.Server
	url   string
	idp   *devidp.IdP
	// simURL is the simulator's base URL.
	simURL string
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &world{clock: &simClock{t: sentrysim.DemoEpoch()}}
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = sim.Handler()
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	simSrv := httptest.NewServer(h)
	t.Cleanup(func() { sim.Close(); simSrv.Close() })
	w.sim, w.simURL = sim, simSrv.URL

	st, err := store.Open(filepath.Join(t.TempDir(), "sentry-access.db"), store.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	creds := sim.Tokens()
	client, err := sentry.New(sentry.Config{
		BaseURL: simSrv.URL, Org: creds.Org, Token: creds.OwnerToken, SCIMToken: creds.SCIMToken,
		Now: w.clock.Now, Sleep: w.clock.Sleep, Timeout: o.Timeout,
	})
	if err != nil {
		t.Fatal(err)
	}

	idp, err := devidp.Start(ctx, devidp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	w.idp = idp
	idpMD, err := idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	w.url = "http://" + app.Listener.Addr().String()
	key, cert, err := samlauth.GenerateKeyPair("faulttest SP", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dashboard.New(ctx, dashboard.Options{
		BaseURL: w.url, Store: st, Sentry: client,
		Connection: explore.ConnectionConfig{SentryURL: simSrv.URL, Org: creds.Org, SCIMConfigured: true},
		SessionKey: bytes.Repeat([]byte{7}, 32),
		SAML: samlauth.Config{Key: key, Certificate: cert, IDPMetadataXML: idpMD, RequestBinding: "post",
			Preset: samlauth.PresetGeneric, Roles: devidp.RoleGroups()},
		SyncConcurrency: 1,
		Policy:          changes.DefaultPolicy(),
		// Retries back off in the changes package's own terms, but need
		// not wait in real time here.
		ApplyRetry: dashboard.ApplyRetry{Backoff: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	app.Config.Handler = srv.Handler()
	app.Start()
	// The dev IdP trusts the SP by the metadata the dashboard serves.
	resp, err := http.Get(w.url + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	mdXML, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var md saml.EntityDescriptor
	if err := xml.Unmarshal(mdXML, &md); err != nil {
		t.Fatalf("SP metadata: %v", err)
	}
	if err := idp.Register(&md); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.SyncNow(ctx); err != nil {
		t.Fatalf("the fault-free first sync: %v", err)
	}
	return w
}

// login returns a browser signed in as the demo user with the role.
func (w *world) login(t *testing.T, role sentryaccess.Role) *browser {
	t.Helper()
	u, ok := w.idp.UserWithRole(role)
	if !ok {
		t.Fatalf("no demo user with role %s", role)
	}
	c := loadtest.NewClient(30 * time.Second)
	if err := loadtest.Login(t.Context(), c, w.url, u); err != nil {
		t.Fatalf("login as %s: %v", u.Username, err)
	}
	return &browser{c: c, base: w.url, email: u.Email}
}

// browser is a signed-in user agent.
type browser struct {
	c     *http.Client
	base  string
	email string
}

// page is a fetched answer.
type page struct {
	status int
	header http.Header
	doc    *goquery.Document
	body   string
}

// text returns the trimmed text of the elements with the data-testid.
func (p page) text(testid string) string {
	return strings.Join(strings.Fields(p.doc.Find(`[data-testid="`+testid+`"]`).Text()), " ")
}

func (b *browser) get(t *testing.T, path string) page {
	t.Helper()
	return b.do(t, http.MethodGet, path, nil)
}

func (b *browser) post(t *testing.T, path string, form url.Values) page {
	t.Helper()
	return b.do(t, http.MethodPost, path, form)
}

func (b *browser) do(t *testing.T, method, path string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, doc: doc, body: string(raw)}
}

// readBack returns a Sentry client on the simulator for reading back its
// state (call it with no fault injected).
func readBack(t *testing.T, sim *sentrysim.Server, baseURL string) *sentry.Client {
	t.Helper()
	creds := sim.Tokens()
	c, err := sentry.New(sentry.Config{BaseURL: baseURL, Org: creds.Org, Token: creds.OwnerToken, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// auditCount counts the simulator's audit-log rows of event.
func auditCount(t *testing.T, c *sentry.Client, event string) int {
	t.Helper()
	n := 0
	for pg, err := range c.AuditLogs(context.Background(), sentry.AuditQuery{Event: event}) {
		if err != nil {
			t.Fatal(err)
		}
		n += len(pg.Rows)
	}
	return n
}

// memberID finds a demo member's Sentry id.
func memberID(t *testing.T, c *sentry.Client, email string) string {
	t.Helper()
	ms, err := c.ListMembers(context.Background(), sentry.MemberQuery{Email: email})
	if err != nil || len(ms) != 1 {
		t.Fatalf("member %s: %v (%d found)", email, err, len(ms))
	}
	return ms[0].ID
}
