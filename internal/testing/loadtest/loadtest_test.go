package loadtest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/testing/loadtest"
)

func TestASmallBoundedRunSignsInAndServesEveryPageWithoutErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	var out bytes.Buffer
	rep, err := loadtest.Run(context.Background(), loadtest.Options{
		Members: 300, Sessions: 10, Users: 10, Duration: 2 * time.Second, MaxRequests: 2000,
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Requests > 2000 {
		t.Errorf("requests = %d, want between 1 and the bound 2000", rep.Requests)
	}
	if rep.Errors != 0 {
		t.Errorf("errors = %d: %v", rep.Errors, rep.FirstErrors)
	}
	if rep.P50 <= 0 || rep.P99 < rep.P50 || rep.Max < rep.P99 {
		t.Errorf("percentiles p50 %s p99 %s max %s are not ordered", rep.P50, rep.P99, rep.Max)
	}
	if rep.LoginP50 <= 0 {
		t.Errorf("login p50 = %s, want the measured login time", rep.LoginP50)
	}
	routes := map[string]loadtest.RouteStats{}
	for _, rs := range rep.Routes {
		routes[rs.Route] = rs
	}
	for _, want := range []string{"/members", "/members/:id", "/projects/:slug", "/teams/:slug", "/lookup"} {
		if rs := routes[want]; rs.Requests == 0 || rs.P99 < rs.P50 || rs.Max < rs.P99 {
			t.Errorf("route %s: %+v, want requests with ordered percentiles", want, rs)
		}
	}
	for _, want := range []string{"/members/:id", "/projects/:slug", "10 sessions", "10 virtual users", "p50", "p99", "errors 0", "peak RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTheRequestBoundStopsTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	rep, err := loadtest.Run(context.Background(), loadtest.Options{
		Members: 100, Sessions: 3, Users: 3, Duration: time.Minute, MaxRequests: 30,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 30 {
		t.Errorf("requests = %d, want exactly the bound 30", rep.Requests)
	}
}
