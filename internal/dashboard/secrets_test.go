package dashboard_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/metrics"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/testing/loadtest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoSecretReachesALogLineOrAPage runs the whole demo with debug logs,
// signs in as each role, fetches every page (and provokes errors: bad
// parameters, unknown pages, Sentry 5xx and 429 during syncs), and scans
// every log line and every answer for the Sentry tokens, the SCIM token,
// the session key and the SP private key.
func TestNoSecretReachesALogLineOrAPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := metrics.New(metrics.Options{})
	d, err := dashboard.StartDemo(ctx, dashboard.DemoOptions{Logger: logger, Ops: dashboard.Ops{Metrics: m}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	secrets := d.Secrets()
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}

	var pages []string // every answer body, labelled
	fetch := func(c *http.Client, method, path string, form url.Values) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequestWithContext(ctx, method, d.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", d.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var hdr strings.Builder
		resp.Header.Write(&hdr)
		pages = append(pages, method+" "+path+" "+strconv.Itoa(resp.StatusCode)+"\n"+hdr.String()+"\n"+string(b))
	}

	paths := []string{
		"/", "/members", "/members?q=a", "/members?role=owner", "/teams", "/projects", "/lookup",
		"/snapshots", "/graph", "/connection", "/sync", "/tokens", "/scim", "/sso", "/sso/check", "/posture",
		"/troubleshoot", "/troubleshoot/project", "/troubleshoot/forbidden", "/audit", "/reviews",
		"/settings/notifications", "/changes", "/blueprints", "/trail", "/grants",
		"/healthz", "/readyz", "/metrics", "/saml/metadata", "/signed-out",
		// Errors: bad parameters, unknown things, unknown pages.
		"/members?page=-1", "/members?sort=%00", "/members/999999999", "/teams/no-such-team", "/projects/no-such-project",
		"/lookup?member=nobody@example.com&project=nope", "/snapshots/diff?from=x&to=y", "/audit/zzz", "/reviews/999",
		"/no-such-page", "/static/no-such-asset.js",
	}
	for _, p := range []string{"/members", "/teams", "/projects"} {
		paths = append(paths, p+"?q="+url.QueryEscape(d.Credentials.OwnerEmail))
	}
	for _, u := range d.Users {
		c := loadtest.NewClient(30 * time.Second)
		if err := loadtest.Login(ctx, c, d.URL, u); err != nil {
			t.Fatalf("login as %s: %v", u.Username, err)
		}
		for _, p := range paths {
			fetch(c, http.MethodGet, p, nil)
		}
		if u.Role.AtLeast(sentryaccess.RoleApprover) {
			fetch(c, http.MethodPost, "/sync", url.Values{})
		}
	}
	anon := loadtest.NewClient(30 * time.Second)
	for _, p := range []string{"/", "/members", "/login", "/metrics"} {
		fetch(anon, http.MethodGet, p, nil)
	}
	fetch(anon, http.MethodPost, "/saml/acs", url.Values{"SAMLResponse": {"bm90IHNhbWw="}, "RelayState": {"//evil.example"}})

	// Sentry misbehaves during syncs: 5xx on every request, then a 429.
	d.Sim.SetFaults(sentrysim.Faults{ErrorRate: 1, Seed: 1})
	if _, err := d.Server.SyncNow(ctx); err == nil {
		t.Error("a sync against a failing Sentry succeeded")
	}
	d.Sim.SetFaults(sentrysim.Faults{})
	d.Sim.SetRateLimit(sentrysim.RateLimit{PerWindow: 2, Window: time.Second, Headers: true})
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	_, _ = d.Server.SyncNow(sctx)
	scancel()
	mc := loadtest.NewClient(10 * time.Second)
	fetch(mc, http.MethodGet, "/metrics", nil)

	logText := logs.String()
	if !strings.Contains(logText, `"msg":"http request"`) {
		t.Fatalf("the logs have no access lines; is the logger wired? %.500s", logText)
	}
	for _, s := range secrets {
		label := s
		if len(label) > 12 {
			label = label[:6] + "…"
		}
		for _, line := range strings.Split(logText, "\n") {
			if strings.Contains(line, s) {
				t.Errorf("secret %q appears in a log line: %.300s", label, line)
				break
			}
		}
		for _, p := range pages {
			if strings.Contains(p, s) {
				t.Errorf("secret %q appears in the answer to %s", label, strings.SplitN(p, "\n", 2)[0])
				break
			}
		}
	}
}
