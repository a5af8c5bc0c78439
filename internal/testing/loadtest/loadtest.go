// Package loadtest runs a bounded load test of the dashboard against the
// in-process demo: the simulator serving a large synthetic organization,
// the dev IdP and the dashboard, all on loopback. It signs in a number of
// real sessions through the dev IdP (in parallel), then runs concurrent
// virtual users over the main pages, searches and lookups for a bounded
// time and request count, and reports latency percentiles, errors and the
// process's peak RSS.
//
// `make bench` calls Run; its traffic goes only to 127.0.0.1.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// Options configure Run. Zero values take the defaults in brackets.
type Options struct {
	Members  int           // synthetic org size [10000]
	Teams    int           // [Members/50]
	Projects int           // [Members/25]
	Sessions int           // signed-in sessions made by real logins [200]
	Users    int           // concurrent virtual users [200]
	Duration time.Duration // how long the users run [60s]
	// MaxRequests bounds the total request count [Users*Duration in s*50].
	MaxRequests int64
	// LoginConcurrency bounds parallel logins [16].
	LoginConcurrency int
	// OpenMembership turns the org's open membership on: every member
	// reaches every project, the worst case for project and member pages.
	OpenMembership bool
	Logger         *slog.Logger
}

func (o *Options) defaults() {
	if o.Members <= 0 {
		o.Members = 10000
	}
	if o.Teams <= 0 {
		o.Teams = max(o.Members/50, 1)
	}
	if o.Projects <= 0 {
		o.Projects = max(o.Members/25, 1)
	}
	if o.Sessions <= 0 {
		o.Sessions = 200
	}
	if o.Users <= 0 {
		o.Users = 200
	}
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = int64(o.Users) * int64(max(o.Duration/time.Second, 1)) * 50
	}
	if o.LoginConcurrency <= 0 {
		o.LoginConcurrency = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Report is the outcome of a run.
type Report struct {
	Members, Sessions, Users int
	Duration                 time.Duration // the users' wall time
	LoginP50, LoginP99       time.Duration
	Requests, Errors         int64
	// FirstErrors are up to five error descriptions, for diagnosis.
	FirstErrors   []string
	P50, P99, Max time.Duration
	// RequestsPerSecond is Requests / Duration.
	RequestsPerSecond float64
	// PeakRSSBytes is the process's peak resident set (VmHWM), 0 when
	// unknown. The demo runs in this process, so it is the dashboard's
	// plus the simulator's and the load generator's.
	PeakRSSBytes int64
	// OpenMembership reports whether the org had open membership on.
	OpenMembership bool
	// Routes are the per-route latencies, slowest p99 first.
	Routes []RouteStats
}

// RouteStats is the latency of one route (a path pattern such as
// "/members/:id" or "/members?q") over a run.
type RouteStats struct {
	Route            string
	Requests, Errors int64
	P50, P99, Max    time.Duration
}

// WriteTo writes the report as readable text.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	open := "off"
	if r.OpenMembership {
		open = "on"
	}
	fmt.Fprintf(&b, "load test: %d members (open membership %s), %d sessions, %d virtual users for %s\n", r.Members, open, r.Sessions, r.Users, r.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "  logins:   p50 %s  p99 %s\n", r.LoginP50.Round(time.Microsecond), r.LoginP99.Round(time.Microsecond))
	fmt.Fprintf(&b, "  requests: %d (%.1f/s), errors %d\n", r.Requests, r.RequestsPerSecond, r.Errors)
	fmt.Fprintf(&b, "  latency:  p50 %s  p99 %s  max %s\n", r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
	fmt.Fprintf(&b, "  peak RSS: %.1f MiB\n", float64(r.PeakRSSBytes)/(1<<20))
	if len(r.Routes) > 0 {
		fmt.Fprintf(&b, "  %-28s %8s %6s %10s %10s %10s\n", "route", "requests", "errors", "p50", "p99", "max")
		for _, rs := range r.Routes {
			fmt.Fprintf(&b, "  %-28s %8d %6d %10s %10s %10s\n", rs.Route, rs.Requests, rs.Errors,
				rs.P50.Round(time.Microsecond), rs.P99.Round(time.Microsecond), rs.Max.Round(time.Microsecond))
		}
	}
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Run starts the demo with a synthetic org, signs in o.Sessions sessions,
// runs o.Users virtual users until o.Duration passes, o.MaxRequests are
// sent or ctx ends, writes the report to w and returns it.
func Run(ctx context.Context, o Options, w io.Writer) (Report, error) {
	o.defaults()
	rep := Report{Members: o.Members, Sessions: o.Sessions, Users: o.Users, OpenMembership: o.OpenMembership}
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: o.Members, Teams: o.Teams, Projects: o.Projects, Seed: 1})
	if o.OpenMembership {
		open := true
		fx.Org.OpenMembership = &open
	}
	demo, err := dashboard.StartDemo(ctx, dashboard.DemoOptions{Listen: "127.0.0.1:0", Fixture: fx, Logger: o.Logger})
	if err != nil {
		return rep, fmt.Errorf("start the demo: %w", err)
	}
	defer demo.Close()
	if err := loopbackOnly(demo.URL); err != nil {
		return rep, err
	}

	// Sign in, in parallel, through the dev IdP.
	clients := make([]*http.Client, o.Sessions)
	loginTimes := make([]time.Duration, o.Sessions)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.LoginConcurrency)
	for i := range clients {
		g.Go(func() error {
			c := NewClient(30 * time.Second)
			start := time.Now()
			if err := Login(gctx, c, demo.URL, demo.Users[i%len(demo.Users)]); err != nil {
				return fmt.Errorf("session %d: %w", i, err)
			}
			loginTimes[i] = time.Since(start)
			clients[i] = c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return rep, fmt.Errorf("sign in: %w", err)
	}
	slices.Sort(loginTimes)
	rep.LoginP50, rep.LoginP99 = percentile(loginTimes, 50), percentile(loginTimes, 99)

	paths := workload(fx)
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var sent, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	routes := map[string]*routeSamples{}
	var firstErrors []string
	start := time.Now()
	var wg sync.WaitGroup
	for u := range o.Users {
		wg.Go(func() {
			c := clients[u%len(clients)]
			local := make([]time.Duration, 0, 1024)
			perRoute := map[string]*routeSamples{}
			for i := u; runCtx.Err() == nil; i++ {
				if sent.Add(1) > o.MaxRequests {
					break
				}
				p := paths[i%len(paths)]
				t0 := time.Now()
				resp, _, err := do(runCtx, c, http.MethodGet, demo.URL+p.path, nil)
				d := time.Since(t0)
				if runCtx.Err() != nil && err != nil {
					break // cut off by the deadline: not a server error
				}
				local = append(local, d)
				rs := perRoute[p.route]
				if rs == nil {
					rs = &routeSamples{}
					perRoute[p.route] = rs
				}
				rs.lat = append(rs.lat, d)
				if err != nil || resp.StatusCode >= 400 {
					rs.errors++
					errs.Add(1)
					mu.Lock()
					if len(firstErrors) < 5 {
						firstErrors = append(firstErrors, describe(p.path, resp, err))
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			for k, v := range perRoute {
				all := routes[k]
				if all == nil {
					all = &routeSamples{}
					routes[k] = all
				}
				all.lat = append(all.lat, v.lat...)
				all.errors += v.errors
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	rep.Duration = time.Since(start)
	slices.Sort(lat)
	rep.Requests, rep.Errors, rep.FirstErrors = int64(len(lat)), errs.Load(), firstErrors
	rep.P50, rep.P99 = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		rep.Max = lat[len(lat)-1]
	}
	if s := rep.Duration.Seconds(); s > 0 {
		rep.RequestsPerSecond = float64(rep.Requests) / s
	}
	rep.Routes = routeStats(routes)
	rep.PeakRSSBytes = peakRSS()
	if w != nil {
		if _, err := rep.WriteTo(w); err != nil {
			return rep, fmt.Errorf("write the report: %w", err)
		}
	}
	return rep, nil
}

func describe(p string, resp *http.Response, err error) string {
	if err != nil {
		return fmt.Sprintf("GET %s: %v", p, err)
	}
	return fmt.Sprintf("GET %s: status %d", p, resp.StatusCode)
}

// routeSamples are one route's latencies and error count.
type routeSamples struct {
	lat    []time.Duration
	errors int64
}

// routeStats sorts each route's samples and returns the routes, slowest
// p99 first (then by name).
func routeStats(routes map[string]*routeSamples) []RouteStats {
	out := make([]RouteStats, 0, len(routes))
	for name, rs := range routes {
		slices.Sort(rs.lat)
		st := RouteStats{Route: name, Requests: int64(len(rs.lat)), Errors: rs.errors,
			P50: percentile(rs.lat, 50), P99: percentile(rs.lat, 99)}
		if len(rs.lat) > 0 {
			st.Max = rs.lat[len(rs.lat)-1]
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b RouteStats) int {
		if a.P99 != b.P99 {
			return int(b.P99 - a.P99)
		}
		return strings.Compare(a.Route, b.Route)
	})
	return out
}

// target is one request of the workload: the path to get and the route
// it is reported under.
type target struct {
	path, route string
}

// workload is the mix of pages the virtual users cycle through: the main
// pages, member/team/project detail, searches and access lookups, the
// compliance pages and the graph.
func workload(fx *sentrysim.Fixture) []target {
	var out []target
	add := func(route, path string) { out = append(out, target{path: path, route: route}) }
	for _, p := range []string{"/", "/members", "/teams", "/projects", "/sync", "/connection", "/snapshots",
		"/graph", "/tokens", "/scim", "/sso", "/posture", "/troubleshoot"} {
		add(p, p)
	}
	for i := 0; i < 20 && i < len(fx.Members); i++ {
		m := fx.Members[(i*7919)%len(fx.Members)]
		id := strconv.FormatInt(m.ID, 10)
		add("/members/:id", "/members/"+id)
		add("/members?q", "/members?q="+url.QueryEscape(strings.SplitN(m.Email, "@", 2)[0]))
		add("/lookup/suggest", "/lookup/suggest?kind=member&member="+url.QueryEscape(m.Email[:min(3, len(m.Email))]))
		add("/search", "/search?q="+url.QueryEscape(m.Email[:min(5, len(m.Email))]))
		if len(fx.Projects) > 0 {
			p := fx.Projects[(i*31)%len(fx.Projects)]
			add("/lookup", "/lookup?"+url.Values{"member": {m.Email}, "project": {p.Slug}}.Encode())
		}
	}
	for i := 0; i < 5 && i < len(fx.Teams); i++ {
		add("/teams/:slug", "/teams/"+fx.Teams[i].Slug)
	}
	for i := 0; i < 5 && i < len(fx.Projects); i++ {
		add("/projects/:slug", "/projects/"+fx.Projects[i].Slug)
		add("/projects/:slug/access", "/projects/"+fx.Projects[i].Slug+"/access")
	}
	add("/members?role", "/members?role=owner")
	add("/members?sso", "/members?sso=unlinked")
	add("/members?sort=reach", "/members?sort=-reach")
	add("/projects?q", "/projects?q=a")
	add("/projects?sort=reach", "/projects?sort=reach")
	return out
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// loopbackOnly refuses to load anything but a loopback address.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("load test target %q: %w", raw, err)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return errors.New("load test target must be a loopback address")
	}
	return nil
}

// peakRSS reads VmHWM from /proc/self/status (Linux); 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
