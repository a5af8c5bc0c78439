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
	"runtime/pprof"
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
	Members  int // synthetic org size [10000]
	Teams    int // [Members/50]
	Projects int // [Members/25]
	Sessions int // signed-in sessions made by real logins [200]
	// Phases are the concurrent virtual users of each phase, run one
	// after another on the same server [1, 50, 200].
	Phases []int
	// Duration is how long each phase runs [30s].
	Duration time.Duration
	// MaxRequests bounds each phase's request count [Duration in s × 5,000].
	MaxRequests int64
	// LoginConcurrency bounds parallel logins [16].
	LoginConcurrency int
	// OpenMembership turns the org's open membership on: every member
	// reaches every project, the worst case for project and member pages.
	OpenMembership bool
	// CPUProfile, when set, receives a CPU profile of the phases.
	CPUProfile io.Writer
	// MemProfile, when set, receives the allocation profile (pprof's
	// "allocs") after the phases. Allocations made before the phases
	// (the org, the first sync, the logins) are in it too; compare it
	// with the one -duration 1ms gives to see the phases' share.
	MemProfile io.Writer
	Logger     *slog.Logger
}

// DefaultPhases are the concurrent users of the targets.
var DefaultPhases = []int{1, 50, 200}

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
	if len(o.Phases) == 0 {
		o.Phases = DefaultPhases
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = int64(max(o.Duration/time.Second, 1)) * 5000
	}
	if o.LoginConcurrency <= 0 {
		o.LoginConcurrency = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// TargetP99 is the page latency target for a number of concurrent
// users: p99 ≤ 20 ms one user at a time, ≤ 50 ms with up to 50 users,
// ≤ 150 ms beyond.
func TargetP99(users int) time.Duration {
	switch {
	case users <= 1:
		return 20 * time.Millisecond
	case users <= 50:
		return 50 * time.Millisecond
	}
	return 150 * time.Millisecond
}

// TargetRSS is the bound on the dashboard's peak resident set.
const TargetRSS = 300 << 20

// Report is the outcome of a run.
type Report struct {
	Members, Teams, Projects, Sessions int
	// OpenMembership reports whether the org had open membership on.
	OpenMembership     bool
	LoginP50, LoginP99 time.Duration
	Phases             []Phase
	// Memory: PeakRSSBytes is the process's peak resident set (VmHWM), 0
	// when unknown; the demo and the load generator run in this process.
	// SimulatorHeapBytes is the Go heap a second simulator of the same
	// org holds; GeneratorHeapBytes the heap the load generator's
	// clients, sessions and users hold at the busiest phase's
	// concurrency, measured against an empty handler before the demo
	// starts. DashboardRSSBytes is PeakRSSBytes less both.
	PeakRSSBytes, SimulatorHeapBytes, GeneratorHeapBytes, DashboardRSSBytes int64
}

// Phase is what one phase measured.
type Phase struct {
	Users            int
	Duration         time.Duration // the users' wall time
	Requests, Errors int64
	// FirstErrors are up to five error descriptions, for diagnosis.
	FirstErrors   []string
	P50, P99, Max time.Duration
	// RequestsPerSecond is Requests / Duration.
	RequestsPerSecond float64
	// CPUPerRequest is the process's CPU time (user and system, all
	// threads: dashboard, simulator and load generator) over the phase,
	// divided by Requests.
	CPUPerRequest time.Duration
	// Target is TargetP99(Users).
	Target time.Duration
	// Routes are the per-route latencies, slowest p99 first.
	Routes []RouteStats
}

// Met reports whether every route's p99 is within the target, with no
// error.
func (p Phase) Met() bool {
	if p.Errors > 0 || p.Requests == 0 {
		return false
	}
	for _, r := range p.Routes {
		if r.P99 > p.Target {
			return false
		}
	}
	return true
}

// RouteStats is the latency of one route (a path pattern such as
// "/members/:id" or "/members?q") over a phase. CPUPerRequest is the
// process's CPU time per request of the route, measured only when one
// user sends one request at a time (0 otherwise).
type RouteStats struct {
	Route            string
	Requests, Errors int64
	P50, P99, Max    time.Duration
	CPUPerRequest    time.Duration
	// BytesPerRequest is the mean size of the route's response bodies.
	BytesPerRequest int64
}

// WriteTo writes the report as readable text with the targets beside the
// measured figures.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	open := "off"
	if r.OpenMembership {
		open = "on"
	}
	fmt.Fprintf(&b, "load test: %d members, %d teams, %d projects (open membership %s), %d sessions\n", r.Members, r.Teams, r.Projects, open, r.Sessions)
	fmt.Fprintf(&b, "  logins:   p50 %s  p99 %s\n", ms(r.LoginP50), ms(r.LoginP99))
	fmt.Fprintf(&b, "  peak RSS: %s whole process (target for the dashboard ≤ %s): dashboard ≈ %s %s, simulator heap %s, load generator heap %s\n",
		mib(r.PeakRSSBytes), mib(TargetRSS), mib(r.DashboardRSSBytes), mark(r.DashboardRSSBytes > 0 && r.DashboardRSSBytes <= TargetRSS),
		mib(r.SimulatorHeapBytes), mib(r.GeneratorHeapBytes))
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "\n  %d concurrent users for %s: %d requests (%.0f/s), errors %d (target 0) %s; CPU %s per request\n",
			p.Users, p.Duration.Round(time.Millisecond), p.Requests, p.RequestsPerSecond, p.Errors, mark(p.Errors == 0), us(p.CPUPerRequest))
		fmt.Fprintf(&b, "  latency p50 %s  p99 %s  max %s; every page p99 ≤ %s %s\n", ms(p.P50), ms(p.P99), ms(p.Max), ms(p.Target), mark(p.Met()))
		cpu := p.Users == 1
		fmt.Fprintf(&b, "  %-26s %8s %6s %9s %9s %9s", "route", "requests", "errors", "p50", "p99", "max")
		if cpu {
			fmt.Fprintf(&b, " %10s %9s", "CPU/req", "size")
		}
		b.WriteString("\n")
		for _, rs := range p.Routes {
			fmt.Fprintf(&b, "  %-26s %8d %6d %9s %9s %9s", rs.Route, rs.Requests, rs.Errors, ms(rs.P50), ms(rs.P99), ms(rs.Max))
			if cpu {
				fmt.Fprintf(&b, " %10s %9s", us(rs.CPUPerRequest), kib(rs.BytesPerRequest))
			}
			fmt.Fprintf(&b, " %s\n", mark(rs.P99 <= p.Target && rs.Errors == 0))
		}
		for _, e := range p.FirstErrors {
			fmt.Fprintf(&b, "  error: %s\n", e)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func kib(n int64) string { return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10)) }

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// Run starts the demo with a synthetic org, signs in o.Sessions sessions,
// runs each phase's users until o.Duration passes, o.MaxRequests are sent
// or ctx ends, writes the report to w and returns it.
func Run(ctx context.Context, o Options, w io.Writer) (Report, error) {
	o.defaults()
	rep := Report{Members: o.Members, Teams: o.Teams, Projects: o.Projects, Sessions: o.Sessions, OpenMembership: o.OpenMembership}
	busiest := slices.Max(o.Phases)
	gen, err := generatorHeap(ctx, o.Sessions, busiest)
	if err != nil {
		return rep, err
	}
	rep.GeneratorHeapBytes = gen

	fx := sentrysim.Generate(sentrysim.GenOptions{Members: o.Members, Teams: o.Teams, Projects: o.Projects, Seed: 1})
	if o.OpenMembership {
		open := true
		fx.Org.OpenMembership = &open
	}
	if rep.SimulatorHeapBytes, err = simulatorHeap(fx); err != nil {
		return rep, err
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
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return rep, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, users := range o.Phases {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		rep.Phases = append(rep.Phases, runPhase(ctx, o, demo.URL, clients, paths, users))
	}
	if o.MemProfile != nil {
		if err := pprof.Lookup("allocs").WriteTo(o.MemProfile, 0); err != nil {
			return rep, fmt.Errorf("memory profile: %w", err)
		}
	}
	rep.PeakRSSBytes = peakRSS()
	if rep.PeakRSSBytes > 0 {
		rep.DashboardRSSBytes = rep.PeakRSSBytes - rep.SimulatorHeapBytes - rep.GeneratorHeapBytes
	}
	if w != nil {
		if _, err := rep.WriteTo(w); err != nil {
			return rep, fmt.Errorf("write the report: %w", err)
		}
	}
	return rep, nil
}

// runPhase runs users virtual users over paths for o.Duration (or
// o.MaxRequests requests).
func runPhase(ctx context.Context, o Options, base string, clients []*http.Client, paths []target, users int) Phase {
	ph := Phase{Users: users, Target: TargetP99(users)}
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var sent, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	routes := map[string]*routeSamples{}
	var firstErrors []string
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			c := clients[u%len(clients)]
			local := make([]time.Duration, 0, 1024)
			perRoute := map[string]*routeSamples{}
			for i := u; runCtx.Err() == nil; i++ {
				if sent.Add(1) > o.MaxRequests {
					break
				}
				p := paths[i%len(paths)]
				var c0 time.Duration
				if users == 1 {
					c0 = cpuTime()
				}
				t0 := time.Now()
				status, size, err := fetch(runCtx, c, base+p.path)
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
				rs.bytes += size
				if users == 1 {
					rs.cpu += cpuTime() - c0
				}
				if err != nil || status >= 400 {
					rs.errors++
					errs.Add(1)
					mu.Lock()
					if len(firstErrors) < 5 {
						firstErrors = append(firstErrors, describe(p.path, status, err))
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
				all.bytes += v.bytes
				all.errors += v.errors
				all.cpu += v.cpu
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	ph.Duration = time.Since(start)
	cpu := cpuTime() - cpu0
	slices.Sort(lat)
	ph.Requests, ph.Errors, ph.FirstErrors = int64(len(lat)), errs.Load(), firstErrors
	ph.P50, ph.P99 = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		ph.Max = lat[len(lat)-1]
		ph.CPUPerRequest = cpu / time.Duration(len(lat))
	}
	if s := ph.Duration.Seconds(); s > 0 {
		ph.RequestsPerSecond = float64(ph.Requests) / s
	}
	ph.Routes = routeStats(routes)
	return ph
}

func describe(p string, status int, err error) string {
	if err != nil {
		return fmt.Sprintf("GET %s: %v", p, err)
	}
	return fmt.Sprintf("GET %s: status %d", p, status)
}

// routeSamples are one route's latencies, error count, CPU time and
// response bytes.
type routeSamples struct {
	lat    []time.Duration
	errors int64
	cpu    time.Duration
	bytes  int64
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
			st.CPUPerRequest = rs.cpu / time.Duration(len(rs.lat))
			st.BytesPerRequest = rs.bytes / int64(len(rs.lat))
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
// compliance pages, the graph, and the pages every dashboard role may
// open about changes (change requests, the change form, reviews,
// blueprints; not "my access": the synthetic org does not hold the
// dashboard's users).
func workload(fx *sentrysim.Fixture) []target {
	var out []target
	add := func(route, path string) { out = append(out, target{path: path, route: route}) }
	for _, p := range []string{"/", "/members", "/teams", "/projects", "/sync", "/connection", "/snapshots",
		"/graph", "/tokens", "/scim", "/sso", "/posture", "/troubleshoot",
		"/changes", "/changes/new", "/reviews", "/blueprints"} {
		add(p, p)
	}
	// Team and project pages come before the per-member ones, so that a
	// short run with one user (which walks the list in order) reaches
	// every kind of page.
	for i := 0; i < 5 && i < len(fx.Teams); i++ {
		add("/teams/:slug", "/teams/"+fx.Teams[i].Slug)
	}
	for i := 0; i < 5 && i < len(fx.Projects); i++ {
		add("/projects/:slug", "/projects/"+fx.Projects[i].Slug)
		add("/projects/:slug/access", "/projects/"+fx.Projects[i].Slug+"/access")
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
