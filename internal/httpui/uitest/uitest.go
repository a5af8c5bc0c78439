// Package uitest starts the whole web stack in-process for tests: the dev
// IdP, the SAML SP, the session manager and the HTTP server, on 127.0.0.1
// ephemeral ports, with an injectable clock. Handler tests and the browser
// tests (e2e/) use it; page tests can too.
package uitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/session"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/static"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Options tune the stack. Zero values are fine.
type Options struct {
	Now             func() time.Time // nil: time.Now
	Sync            httpui.SyncStatusSource
	Ready           func(context.Context) error
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// Attributes overrides the attribute names (e.g. to make the email
	// attribute "missing").
	Attributes        samlauth.AttributeNames
	AllowIDPInitiated bool
	// Routes, if set, is called to add extra routes (e.g. a test route)
	// before the server starts. It receives the server's handler and
	// returns the handler to serve.
	Wrap func(http.Handler) http.Handler
	// Deps, if set, changes the server's dependencies before it is built
	// (e.g. to add metrics or an error reporter).
	Deps func(*httpui.Deps)
}

// Env is a running stack.
type Env struct {
	URL      string // the dashboard's base URL, e.g. http://127.0.0.1:41234
	IdP      *devidp.IdP
	SP       *samlauth.SP
	Sessions *session.Manager
	Server   *httpui.Server
	Assets   *static.Assets
	logs     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logs returns everything logged so far (JSON lines).
func (e *Env) Logs() string { return e.logs.String() }

// Start starts the stack; everything is stopped by tb.Cleanup.
func Start(tb testing.TB, opts Options) *Env {
	tb.Helper()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)

	idp, err := devidp.Start(ctx, devidp.Config{Now: now, Logger: logger})
	if err != nil {
		tb.Fatalf("start dev IdP: %v", err)
	}
	tb.Cleanup(func() { _ = idp.Close() })
	idpMD, err := idp.MetadataXML()
	if err != nil {
		tb.Fatal(err)
	}

	app := httptest.NewUnstartedServer(nil)
	tb.Cleanup(app.Close)
	base := "http://" + app.Listener.Addr().String()

	assets, err := static.New()
	if err != nil {
		tb.Fatal(err)
	}
	sessions, err := session.New(session.Config{
		BaseURL: base, HashKey: bytes.Repeat([]byte{1}, 32), BlockKey: bytes.Repeat([]byte{2}, 32),
		IdleTimeout: opts.IdleTimeout, AbsoluteTimeout: opts.AbsoluteTimeout,
	}, now)
	if err != nil {
		tb.Fatal(err)
	}
	key, cert, err := samlauth.GenerateKeyPair("sentry-access test SP", now())
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := samlauth.New(ctx, samlauth.Config{
		BaseURL: base, Key: key, Certificate: cert, IDPMetadataXML: idpMD,
		RequestBinding: "post", Preset: samlauth.PresetGeneric, Attributes: opts.Attributes, Roles: devidp.RoleGroups(),
		AllowIDPInitiated: opts.AllowIDPInitiated,
	}, samlauth.Deps{
		Sessions: sessions, Logger: logger, Now: now,
		RenderFailure: httpui.SAMLFailureRenderer(assets), RequestID: httpui.RequestID,
		SignedOutPath: "/signed-out",
	})
	if err != nil {
		tb.Fatalf("build SP: %v", err)
	}
	if err := idp.Register(sp.Metadata()); err != nil {
		tb.Fatal(err)
	}
	// The read model as the dashboard wires it, over a store that has not
	// synced yet (Deps may replace it).
	st, err := store.Open(filepath.Join(tb.TempDir(), "store.db"), store.Options{Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	deps := httpui.Deps{
		Logger: logger, Now: now, Sessions: sessions, SAML: sp, Assets: assets,
		Ready: opts.Ready, Sync: opts.Sync, Explore: explore.New(st, explore.Options{Logger: logger}),
	}
	if opts.Deps != nil {
		opts.Deps(&deps)
	}
	srv, err := httpui.New(httpui.Config{BaseURL: base}, deps)
	if err != nil {
		tb.Fatal(err)
	}
	h := srv.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	app.Config.Handler = h
	app.Start()
	return &Env{URL: base, IdP: idp, SP: sp, Sessions: sessions, Server: srv, Assets: assets, logs: logs}
}

// Client returns an HTTP client with a cookie jar that does not follow
// redirects (tests look at each hop).
func (e *Env) Client(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// SAMLResponse walks the SP-initiated login up to the point where the IdP
// hands the browser its auto-submitting form: GET /login?return_to=…,
// follow to the IdP, post the user's credentials. It returns the form's
// action and fields (SAMLResponse, RelayState) without posting them.
func (e *Env) SAMLResponse(tb testing.TB, c *http.Client, u devidp.User, returnTo string) (string, url.Values) {
	tb.Helper()
	loginURL := e.URL + "/login"
	if returnTo != "" {
		loginURL += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	resp := do(tb, c, http.MethodGet, loginURL, nil)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /login: status %d, want 200 with the form that posts the AuthnRequest", resp.StatusCode)
	}
	ssoURL, req := form(tb, resp)
	if !strings.HasPrefix(ssoURL, e.IdP.URL()+"/sso") {
		tb.Fatalf("GET /login posts to %q, want the dev IdP's /sso", ssoURL)
	}
	// The IdP shows its login form.
	resp = do(tb, c, http.MethodPost, ssoURL, req)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET IdP /sso: status %d\nlogs: %s", resp.StatusCode, e.Logs())
	}
	action, fields := form(tb, resp)
	fields.Set("user", u.Username)
	fields.Set("password", u.Password)
	resp = do(tb, c, http.MethodPost, absolute(e.IdP.URL(), action), fields)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST IdP login: status %d\nlogs: %s", resp.StatusCode, e.Logs())
	}
	return form(tb, resp)
}

// Login performs the whole SP-initiated login as u and returns the ACS
// answer (a redirect to the return path on success).
func (e *Env) Login(tb testing.TB, c *http.Client, u devidp.User, returnTo string) *http.Response {
	tb.Helper()
	action, fields := e.SAMLResponse(tb, c, u, returnTo)
	return do(tb, c, http.MethodPost, action, fields)
}

func absolute(base, ref string) string {
	b, _ := url.Parse(base)
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

func do(tb testing.TB, c *http.Client, method, u string, form url.Values) *http.Response {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, u, err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// form returns the first form's action and its named input values.
func form(tb testing.TB, resp *http.Response) (string, url.Values) {
	tb.Helper()
	b, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	f := doc.Find("form").First()
	if f.Length() == 0 {
		tb.Fatalf("no form in %d answer from %s: %.500s", resp.StatusCode, resp.Request.URL, b)
	}
	action, _ := f.Attr("action")
	vals := url.Values{}
	f.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		vals.Set(name, val)
	})
	return action, vals
}

// String describes the env for failure messages.
func (e *Env) String() string { return fmt.Sprintf("app %s, IdP %s", e.URL, e.IdP.URL()) }
