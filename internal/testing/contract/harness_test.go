package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// sim is a simulator behind a real HTTP server, with the demo clock.
type sim struct {
	srv *sentrysim.Server
	url string
}

// newSim serves fx (the demo fixture when nil) on an httptest server whose
// clock stands still at the demo epoch.
func newSim(t *testing.T, fx *sentrysim.Fixture, opts sentrysim.Options) *sim {
	t.Helper()
	if fx == nil {
		fx = sentrysim.DemoFixture()
	}
	if opts.Now == nil {
		opts.Now = sentrysim.DemoEpoch
	}
	srv, err := sentrysim.New(fx, opts)
	if err != nil {
		t.Fatalf("sentrysim.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return &sim{srv: srv, url: ts.URL}
}

// sleeps records the waits a client asked for instead of sleeping, so no
// test depends on the wall clock.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// clientOpts tweak newClient.
type clientOpts struct {
	transport http.RoundTripper
	scimToken string
	now       func() time.Time
	sleeps    *sleeps
	retries   int
}

// newClient returns a client of the demo org at baseURL with token.
func newClient(t *testing.T, baseURL, token string, o clientOpts) *sentry.Client {
	t.Helper()
	if o.now == nil {
		o.now = sentrysim.DemoEpoch
	}
	if o.sleeps == nil {
		o.sleeps = &sleeps{}
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if o.transport != nil {
		hc.Transport = o.transport
	}
	c, err := sentry.New(sentry.Config{
		BaseURL: baseURL, Org: sentrysim.DemoOrgSlug, Token: token, SCIMToken: o.scimToken,
		HTTPClient: hc, Now: o.now, Sleep: o.sleeps.sleep, MaxRetries: o.retries,
	})
	if err != nil {
		t.Fatalf("sentry.New: %v", err)
	}
	return c
}

// raw is a plain HTTP answer.
type raw struct {
	status int
	header http.Header
	body   []byte
}

// do sends one raw request to the simulator, bypassing the client.
func (s *sim) do(t *testing.T, method, path, token string, body any) raw {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return raw{status: resp.StatusCode, header: resp.Header, body: b}
}

// want fails the test unless the status is want.
func (r raw) want(t *testing.T, want int) raw {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// decode unmarshals the body into v.
func (r raw) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// orgPath is the demo organization's API path prefix.
const orgPath = "/api/0/organizations/" + sentrysim.DemoOrgSlug
