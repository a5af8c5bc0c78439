package gosentry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jianyuan/go-sentry/v2/sentry"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

const org = sentrysim.DemoOrgSlug

// bearer is the transport the Terraform provider gives go-sentry: every
// request carries the auth token.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// sim is one running simulator and a go-sentry client per token.
type sim struct {
	t   *testing.T
	srv *sentrysim.Server
	url string
}

func start(t *testing.T, fx *sentrysim.Fixture, o sentrysim.Options) *sim {
	t.Helper()
	o.Now = sentrysim.DemoEpoch
	srv, err := sentrysim.New(fx, o)
	if err != nil {
		t.Fatalf("sentrysim.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return &sim{t: t, srv: srv, url: ts.URL}
}

// demo is the demo organization (sentrysim.DemoFixture).
func demo(t *testing.T) *sim { return start(t, sentrysim.DemoFixture(), sentrysim.Options{}) }

// client is go-sentry as the Terraform provider builds it for a
// self-hosted base URL: NewOnPremiseClient appends /api/.
func (s *sim) client(token string) *sentry.Client {
	s.t.Helper()
	c, err := sentry.NewOnPremiseClient(s.url, &http.Client{Transport: bearer{token}})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *sim) owner() *sentry.Client { return s.client(sentrysim.DemoOwnerToken) }

var ctx = context.Background()

// must fails the test when go-sentry returned an error: a status outside
// 2xx or an answer it could not decode.
func must(t *testing.T, call string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
}

// refused checks that go-sentry returned its *sentry.ErrorResponse for
// status with Sentry's message. go-sentry reads a body {"detail": m} as
// m and any other JSON body as Go's %v of it, so detail is matched
// exactly when the body is Sentry's {"detail"} and as a substring
// otherwise (contains).
func refused(t *testing.T, call string, err error, status int, detail string, contains bool) {
	t.Helper()
	var er *sentry.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("%s: err = %v (%T), want *sentry.ErrorResponse %d", call, err, err, status)
	}
	if er.Response.StatusCode != status {
		t.Errorf("%s: status %d, want %d (%s)", call, er.Response.StatusCode, status, er.Detail)
	}
	if contains && !strings.Contains(er.Detail, detail) || !contains && er.Detail != detail {
		t.Errorf("%s: detail %q, want %q", call, er.Detail, detail)
	}
}

// listAll pages a go-sentry List call the way its callers do: the next
// call carries Response.Cursor until it is empty. It returns every item
// and the number of pages.
func listAll[T any](t *testing.T, what string, list func(*sentry.ListCursorParams) ([]T, *sentry.Response, error)) ([]T, int) {
	t.Helper()
	var all []T
	params := &sentry.ListCursorParams{}
	for pages := 1; ; pages++ {
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", what)
		}
		items, resp, err := list(params)
		must(t, what, err)
		all = append(all, items...)
		if resp.Cursor == "" {
			return all, pages
		}
		params = &sentry.ListCursorParams{Cursor: resp.Cursor}
	}
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
