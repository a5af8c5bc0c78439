package sentry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testToken     = "sntryu_s3cr3t-token-value"
	testSCIMToken = "scim-s3cr3t-token-value"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness records what the client did besides HTTP: its waits and its
// per-attempt observations. The fake clock advances by every sleep.
type harness struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	infos   []RequestInfo
	logs    bytes.Buffer
	srvHits atomic.Int64
}

func (h *harness) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) Sleep(ctx context.Context, d time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sleeps = append(h.sleeps, d)
	h.now = h.now.Add(d)
	return ctx.Err()
}

func (h *harness) Observe(i RequestInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.infos = append(h.infos, i)
}

func (h *harness) Sleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

// newTestClient starts an httptest server with handler and a client bound
// to org "acme" with a fake clock, recorded sleeps and a debug logger.
func newTestClient(t *testing.T, handler http.HandlerFunc, mod ...func(*Config)) (*Client, *harness) {
	t.Helper()
	h := &harness{now: t0}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.srvHits.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := Config{
		BaseURL:    srv.URL,
		Org:        "acme",
		Token:      testToken,
		SCIMToken:  testSCIMToken,
		UserAgent:  "sentry-access/test",
		Timeout:    5 * time.Second,
		MaxRetries: 3,
		Logger:     slog.New(slog.NewTextHandler(&syncWriter{w: &h.logs, mu: &h.mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        h.Now,
		Sleep:      h.Sleep,
		Observe:    h.Observe,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.jitter = func(n int64) int64 { return n - 1 } // deterministic: the top of the jitter range
	return c, h
}

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestNewValidatesEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	_, err := New(Config{BaseURL: "ftp://x", Timeout: -1})
	if err == nil {
		t.Fatal("New accepted an invalid config")
	}
	for _, want := range []string{"BaseURL", "Org is required", "Token and SCIMToken", "Timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNewAppendsAPIPrefixOnce(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://sentry.example", "https://sentry.example/", "https://sentry.example/api/0", "https://sentry.example/api/0/"} {
		c, err := New(Config{BaseURL: base, Org: "acme", Token: "t"})
		if err != nil {
			t.Fatalf("New(%q): %v", base, err)
		}
		if got, want := c.base.String(), "https://sentry.example/api/0"; got != want {
			t.Errorf("New(%q).base = %q, want %q", base, got, want)
		}
	}
}

func TestRequestsCarryBearerUserAgentAndEscapedPath(t *testing.T) {
	t.Parallel()
	var gotAuth, gotUA, gotPath string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotUA, gotPath = r.Header.Get("Authorization"), r.Header.Get("User-Agent"), r.URL.EscapedPath()
		writeJSON(w, 200, `{"id":"7","email":"ana@acme.com","orgRole":"member"}`)
	})
	m, err := c.Member(t.Context(), "7/../x")
	if err != nil {
		t.Fatal(err)
	}
	if m.Email != "ana@acme.com" {
		t.Errorf("email = %q", m.Email)
	}
	if want := "Bearer " + testToken; gotAuth != want {
		t.Errorf("Authorization = %q, want %q", gotAuth, want)
	}
	if gotUA != "sentry-access/test" {
		t.Errorf("User-Agent = %q", gotUA)
	}
	if want := "/api/0/organizations/acme/members/7%2F..%2Fx/"; gotPath != want {
		t.Errorf("path = %q, want %q", gotPath, want)
	}
	if got := c.Requests(); got != 1 {
		t.Errorf("Requests() = %d, want 1", got)
	}
}

// TestRequestsCountsEveryRequestTheServerReceived holds Requests to what
// the server received, a redirect followed by the HTTP client included:
// the count is taken at the transport, not per call.
func TestRequestsCountsEveryRequestTheServerReceived(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/0/organizations/acme/" {
			http.Redirect(w, r, "/api/0/organizations/acme-renamed/", http.StatusFound)
			return
		}
		writeJSON(w, 200, `{"id":"1","slug":"acme-renamed","name":"Acme"}`)
	})
	if _, err := c.Organization(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Requests(), h.srvHits.Load(); got != want || want != 2 {
		t.Errorf("Requests() = %d, the server received %d (want 2: the redirect and its target)", got, want)
	}
}

func TestRateLimit429WaitsUntilResetThenSucceeds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("X-Sentry-Rate-Limit-Limit", "40")
			w.Header().Set("X-Sentry-Rate-Limit-Remaining", "0")
			w.Header().Set("X-Sentry-Rate-Limit-Reset", fmt.Sprint(t0.Add(7*time.Second).Unix()))
			writeJSON(w, 429, `{"detail":"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"}`)
			return
		}
		writeJSON(w, 200, `[]`)
	})
	ps, err := c.Projects(t.Context())
	if err != nil {
		t.Fatalf("Projects: %v", err)
	}
	if len(ps) != 0 {
		t.Errorf("projects = %v", ps)
	}
	if got, want := h.Sleeps(), []time.Duration{7 * time.Second}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
	if got := c.Requests(); got != 2 {
		t.Errorf("Requests() = %d, want 2", got)
	}
	last := h.infos[len(h.infos)-1]
	if last.RateLimitWait != 7*time.Second || last.Status != 200 || last.Endpoint != epProjects {
		t.Errorf("last observation = %+v, want a 200 on %s after a 7s rate-limit wait", last, epProjects)
	}
}

func TestRateLimit429WithoutHeadersBacksOffExponentially(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			writeJSON(w, 429, `{"detail":"You are being rate limited for too many invitations."}`)
			return
		}
		writeJSON(w, 201, `{"id":"9","email":"bo@acme.com"}`)
	})
	// A 429 is rejected before any effect, so even a POST is retried.
	m, err := c.InviteMember(t.Context(), Invite{Email: "bo@acme.com", SendInvite: true})
	if err != nil {
		t.Fatalf("InviteMember: %v", err)
	}
	if m.ID != "9" {
		t.Errorf("id = %q", m.ID)
	}
	got := h.Sleeps()
	if len(got) != 2 {
		t.Fatalf("sleeps = %v, want 2 backoffs", got)
	}
	if !(got[0] > 0 && got[1] > got[0]) {
		t.Errorf("sleeps = %v, want growing backoff", got)
	}
}

func TestRateLimitPersistingReturnsErrRateLimited(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 429, `{"detail":"You are attempting to go above the allowed concurrency for this endpoint. Concurrency limit is 5"}`)
	}, func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.Organization(t.Context())
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if got := h.srvHits.Load(); got != 3 {
		t.Errorf("server saw %d requests, want 1 + 2 retries", got)
	}
}

func TestRemainingZeroWaitsProactivelyBeforeNextRequest(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Sentry-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Sentry-Rate-Limit-Reset", fmt.Sprint(h0Reset().Unix()))
		writeJSON(w, 200, `[]`)
	})
	if _, err := c.Projects(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := h.Sleeps(); len(got) != 0 {
		t.Fatalf("first request slept %v", got)
	}
	if _, err := c.Projects(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Sleeps(), []time.Duration{3 * time.Second}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps = %v, want %v (until Reset)", got, want)
	}
	if got := h.srvHits.Load(); got != 2 {
		t.Errorf("server hits = %d, want 2 (no 429 needed)", got)
	}
}

func h0Reset() time.Time { return t0.Add(3 * time.Second) }

func TestServerErrorsAreRetriedOnlyForIdempotentMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		call     func(context.Context, *Client) error
		wantHits int64
		wantOK   bool
	}{
		{"GET is retried and then succeeds", func(ctx context.Context, c *Client) error { _, err := c.Organization(ctx); return err }, 2, true},
		{"PUT is retried", func(ctx context.Context, c *Client) error { return c.ResolveAccessRequest(ctx, "5", true) }, 2, true},
		{"DELETE is retried", func(ctx context.Context, c *Client) error { return c.DeleteTeam(ctx, "web") }, 2, true},
		{"POST is not retried", func(ctx context.Context, c *Client) error { _, err := c.CreateTeam(ctx, "web", "Web"); return err }, 1, false},
		{"SCIM PATCH is not retried", func(ctx context.Context, c *Client) error { return c.DeactivateSCIMUser(ctx, "12") }, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					writeJSON(w, 502, `<html><body>Bad Gateway</body></html>`)
					return
				}
				switch r.Method {
				case http.MethodPut, http.MethodDelete:
					w.WriteHeader(204)
				default:
					writeJSON(w, 200, `{"id":"1","slug":"acme"}`)
				}
			})
			err := tt.call(t.Context(), c)
			if got := h.srvHits.Load(); got != tt.wantHits {
				t.Errorf("server hits = %d, want %d", got, tt.wantHits)
			}
			if (err == nil) != tt.wantOK {
				t.Errorf("err = %v, want ok=%v", err, tt.wantOK)
			}
			var apiErr *APIError
			if !tt.wantOK && (!errors.As(err, &apiErr) || apiErr.Status != 502 || apiErr.Detail != "<html><body>Bad Gateway</body></html>") {
				t.Errorf("err = %#v, want the 502 as *APIError with the body text", err)
			}
		})
	}
}

func TestDroppedConnectionIsRetriedOnGET(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		writeJSON(w, 200, `[{"id":"1","slug":"web"}]`)
	})
	ts, err := c.ListTeams(t.Context())
	if err != nil {
		t.Fatalf("ListTeams: %v", err)
	}
	if len(ts) != 1 || ts[0].Slug != "web" {
		t.Errorf("teams = %+v", ts)
	}
	if got := len(h.Sleeps()); got != 1 {
		t.Errorf("backoff sleeps = %d, want 1", got)
	}
	if h.infos[0].Err == nil || h.infos[0].Status != 0 {
		t.Errorf("first observation = %+v, want a transport error", h.infos[0])
	}
}

func TestDroppedConnectionIsNotRetriedOnPOST(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err := c.AddMemberToTeam(t.Context(), "1", "web")
	if err == nil {
		t.Fatal("AddMemberToTeam succeeded on a dropped connection")
	}
	if !strings.Contains(err.Error(), "the connection closed before Sentry answered") || !errors.Is(err, io.EOF) {
		t.Errorf("err = %q, want it to say the connection closed before an answer (and match io.EOF)", err)
	}
	if got := h.srvHits.Load(); got != 1 {
		t.Errorf("server hits = %d, want 1", got)
	}
}

func TestPerRequestTimeoutIsRetriedThenReported(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hang until the client gives up
	}, func(cfg *Config) { cfg.Timeout = 20 * time.Millisecond; cfg.MaxRetries = 1 })
	_, err := c.Organization(t.Context())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), "no answer within 20ms (timeout)") {
		t.Errorf("err = %q, want it to say Sentry gave no answer within the timeout", err)
	}
	if got := h.srvHits.Load(); got != 2 {
		t.Errorf("server hits = %d, want 2 (one retry)", got)
	}
}

func TestCancelledContextStopsRetries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		writeJSON(w, 503, `{"detail":"down"}`)
	})
	_, err := c.Organization(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := h.srvHits.Load(); got != 1 {
		t.Errorf("server hits = %d, want 1", got)
	}
}

func TestTokenNeverAppearsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(context.Context, *Client) error
	}{
		{"server echoes the Authorization header in a 401", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, fmt.Sprintf(`{"detail":"Invalid token %s"}`, r.Header.Get("Authorization")))
		}, func(ctx context.Context, c *Client) error { _, err := c.Organization(ctx); return err }},
		{"server echoes it in a field error", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, fmt.Sprintf(`{"email":["bad %s"]}`, r.Header.Get("Authorization")))
		}, func(ctx context.Context, c *Client) error {
			_, err := c.InviteMember(ctx, Invite{Email: "x@acme.com"})
			return err
		}},
		{"SCIM token echoed in plain text", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			io.WriteString(w, "denied for "+r.Header.Get("Authorization"))
		}, func(ctx context.Context, c *Client) error { _, err := c.SCIMUser(ctx, "3"); return err }},
		{"dropped connection", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, func(ctx context.Context, c *Client) error { _, err := c.Organization(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := newTestClient(t, tt.handler)
			err := tt.call(t.Context(), c)
			if err == nil {
				t.Fatal("call succeeded")
			}
			var apiErr *APIError
			msgs := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", apiErr)}
			if errors.As(err, &apiErr) {
				msgs = append(msgs, fmt.Sprintf("%+v", *apiErr))
			}
			h.mu.Lock()
			msgs = append(msgs, h.logs.String())
			h.mu.Unlock()
			for _, m := range msgs {
				if strings.Contains(m, testToken) || strings.Contains(m, testSCIMToken) {
					t.Errorf("a token leaked into %q", m)
				}
			}
		})
	}
}

func TestConfigFormattingHidesTokens(t *testing.T) {
	t.Parallel()
	cfg := Config{BaseURL: "https://x", Org: "acme", Token: testToken, SCIMToken: testSCIMToken}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logs.String()} {
		if strings.Contains(s, testToken) || strings.Contains(s, testSCIMToken) {
			t.Errorf("token leaked: %s", s)
		}
	}
}
