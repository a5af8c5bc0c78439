package sentrysim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// harness is a simulator behind a real HTTP server.
type harness struct {
	t   *testing.T
	srv *Server
	url string
}

func newHarness(t *testing.T, fx *Fixture, opts Options) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return DemoEpoch() }
	}
	srv, err := New(fx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return &harness{t: t, srv: srv, url: ts.URL}
}

func demoHarness(t *testing.T) *harness { return newHarness(t, DemoFixture(), Options{}) }

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(method, path, token string, body any) reply {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatalf("request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// decode unmarshals the body into v, failing the test on error.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// want fails unless the status is want.
func (r reply) want(t *testing.T, want int) reply {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// detail returns the body's "detail" as raw JSON text.
func (r reply) detail(t *testing.T) string {
	t.Helper()
	var v struct {
		Detail json.RawMessage `json:"detail"`
	}
	r.decode(t, &v)
	return string(v.Detail)
}

const org = "/api/0/organizations/" + DemoOrgSlug
