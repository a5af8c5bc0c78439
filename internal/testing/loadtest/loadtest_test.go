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
	// Six seconds a phase (or 2,000 requests, whichever comes first): the
	// one-user phase walks every kind of page in order, and under -race on
	// a loaded two-core machine two seconds did not reach them all.
	rep, err := loadtest.Run(context.Background(), loadtest.Options{
		Members: 300, Sessions: 10, Phases: []int{1, 10}, Duration: 6 * time.Second, MaxRequests: 2000,
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 {
		t.Fatalf("phases = %d, want 2", len(rep.Phases))
	}
	for _, ph := range rep.Phases {
		if ph.Requests == 0 || ph.Requests > 2000 {
			t.Errorf("%d users: requests = %d, want between 1 and the bound 2000", ph.Users, ph.Requests)
		}
		if ph.Errors != 0 {
			t.Errorf("%d users: errors = %d: %v", ph.Users, ph.Errors, ph.FirstErrors)
		}
		if ph.P50 <= 0 || ph.P99 < ph.P50 || ph.Max < ph.P99 {
			t.Errorf("%d users: percentiles p50 %s p99 %s max %s are not ordered", ph.Users, ph.P50, ph.P99, ph.Max)
		}
		if ph.CPUPerRequest <= 0 {
			t.Errorf("%d users: CPU per request not measured", ph.Users)
		}
		routes := map[string]loadtest.RouteStats{}
		for _, rs := range ph.Routes {
			routes[rs.Route] = rs
		}
		for _, want := range []string{"/members", "/members/:id", "/projects/:slug", "/teams/:slug", "/lookup"} {
			if rs := routes[want]; rs.Requests == 0 || rs.P99 < rs.P50 || rs.Max < rs.P99 {
				t.Errorf("%d users: route %s: %+v, want requests with ordered percentiles", ph.Users, want, rs)
			}
		}
	}
	if rep.LoginP50 <= 0 {
		t.Errorf("login p50 = %s, want the measured login time", rep.LoginP50)
	}
	if rep.PeakRSSBytes <= 0 || rep.SimulatorHeapBytes <= 0 || rep.GeneratorHeapBytes <= 0 {
		t.Errorf("memory not measured: peak %d, simulator %d, generator %d", rep.PeakRSSBytes, rep.SimulatorHeapBytes, rep.GeneratorHeapBytes)
	}
	for _, want := range []string{"/members/:id", "/projects/:slug", "10 sessions", "1 concurrent users", "10 concurrent users", "p50", "p99", "errors 0", "peak RSS", "CPU/req", "≤ 20.00 ms", "≤ 50.00 ms"} {
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
		Members: 100, Sessions: 3, Phases: []int{3}, Duration: time.Minute, MaxRequests: 30,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Phases[0].Requests != 30 {
		t.Errorf("requests = %d, want exactly the bound 30", rep.Phases[0].Requests)
	}
}
