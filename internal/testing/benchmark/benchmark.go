// Package benchmark measures sentry-access at scale (make bench): a full
// and an incremental sync of a generated organization from the Sentry
// simulator, served on loopback with added latency and Sentry's rate-limit
// headers, through the real client, syncer and store; then the access
// engine's lookups on the synced snapshot. It prints a markdown table.
package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// Defaults of the scale run.
const (
	DefaultMembers  = 10_000
	DefaultTeams    = 1_000
	DefaultProjects = 3_000
	DefaultSeed     = 1
	DefaultLatency  = 50 * time.Millisecond
	// DefaultRateLimit is requests per second per caller and endpoint.
	// Sentry documents "a default rate limit of 40 requests per second"
	// per caller and endpoint, in fixed windows, with per-endpoint
	// exceptions (docs/api/ratelimits.mdx); the OSS default of 470
	// (src/sentry/ratelimits/config.py) is not what sentry.io applies, so
	// the documented SaaS default is the realistic bound.
	DefaultRateLimit   = 40
	DefaultConcurrency = 8
	DefaultLookups     = 2_000
	// Changes is the number of changes made before the incremental sync.
	Changes = 20
	// perPage is Sentry's page size (and maximum) for paginated lists.
	perPage = 100
)

// Targets from the issue.
const (
	TargetSyncRatio = 1.3
	// TargetFewerRequests is how many times fewer requests than a sync
	// per team and per project the issue aimed at; Sentry's API allows
	// 3.7× at 10,000 members (README, Scale).
	TargetFewerRequests = 5.0
	TargetLookupP99     = 5 * time.Millisecond
	TargetRSS           = 300 << 20
)

// Options size and shape a run; zero fields take the defaults above
// (RateLimit < 0 disables the rate limit).
type Options struct {
	Members, Teams, Projects int
	Seed                     int64
	// Latency is added to every simulator request.
	Latency time.Duration
	// RateLimit is the per-endpoint, per-caller limit in requests per
	// one-second fixed window, announced in X-Sentry-Rate-Limit-* headers.
	RateLimit int
	// Concurrency is the syncer's bound on requests in flight.
	Concurrency int
	// Lookups is the number of timed lookups of each kind.
	Lookups int
	// Dir holds the store file; a temporary directory when empty.
	Dir string
}

func (o Options) withDefaults() Options {
	o.Members = cmpOr(o.Members, DefaultMembers)
	o.Teams = cmpOr(o.Teams, DefaultTeams)
	o.Projects = cmpOr(o.Projects, DefaultProjects)
	o.Seed = cmpOr(o.Seed, DefaultSeed)
	o.Latency = cmpOr(o.Latency, DefaultLatency)
	o.RateLimit = cmpOr(o.RateLimit, DefaultRateLimit)
	o.Concurrency = cmpOr(o.Concurrency, DefaultConcurrency)
	o.Lookups = cmpOr(o.Lookups, DefaultLookups)
	return o
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Report holds what a run measured.
type Report struct {
	Options Options

	// Full sync.
	FullDuration time.Duration
	FullRequests int64
	// MinRequests is the fewest requests a full sync can make: one per
	// page of each list at 100 per page, plus the single objects.
	MinRequests int
	// ChainPages is the longest sequence of requests that must follow one
	// another (the audit-log pages, which come first, then the member
	// pages or the team pages plus one team's member list, whichever is
	// longer).
	ChainPages int
	// BusiestEndpoint and BusiestRequests name the rate-limited endpoint
	// with the most requests in the minimum plan.
	BusiestEndpoint string
	BusiestRequests int
	// Floor is the longer of ChainPages × Latency and BusiestRequests ÷
	// RateLimit seconds.
	Floor time.Duration
	// EndpointRequests counts what the simulator received per endpoint
	// during the full sync.
	EndpointRequests map[string]int

	// Incremental sync after Changes changes.
	IncrementalDuration time.Duration
	IncrementalRequests int64
	IncrementalKind     string
	IncrementalFallback string

	// Memory.
	PeakRSS int64 // VmHWM of the whole process (simulator included)
	// HeapSyncEngine is the Go heap in use after a GC with the synced
	// snapshots and the engine alive, less the same measure taken before
	// the sync (simulator and generated fixture only).
	HeapSyncEngine int64
	HeapTotal      int64

	// Engine on the synced snapshot.
	EngineBuild                      time.Duration
	MemberAccessP50, MemberAccessP99 time.Duration
	WhoCanAccessP50, WhoCanAccessP99 time.Duration
	ExplainP99                       time.Duration
	Matrix                           time.Duration
	Diff                             time.Duration
	DiffChanges                      int
}

// SyncRatio is the full sync's wall time over the floor.
func (r Report) SyncRatio() float64 {
	if r.Floor <= 0 {
		return 0
	}
	return float64(r.FullDuration) / float64(r.Floor)
}

// Run runs the benchmark and writes its table to w.
func Run(ctx context.Context, opts Options, w io.Writer) (Report, error) {
	o := opts.withDefaults()
	rep := Report{Options: o}

	fx := sentrysim.Generate(sentrysim.GenOptions{Members: o.Members, Teams: o.Teams, Projects: o.Projects, Seed: o.Seed})
	simOpts := sentrysim.Options{Faults: sentrysim.Faults{Latency: o.Latency}}
	if o.RateLimit > 0 {
		simOpts.RateLimit = sentrysim.RateLimit{PerWindow: o.RateLimit, Window: time.Second, Headers: true}
	}
	sim, err := sentrysim.New(fx, simOpts)
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	defer sim.Close()
	creds := sim.Tokens()
	client, err := sentry.New(sentry.Config{BaseURL: srv.URL, Org: creds.Org, Token: creds.OwnerToken, UserAgent: "sentry-access/bench"})
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}

	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sentry-access-bench-"); err != nil {
			return rep, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	st, err := store.Open(filepath.Join(dir, "bench.db"), store.Options{})
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	defer st.Close()

	heapBefore := heapInUse()
	plan := minimumPlan(fx)
	rep.MinRequests, rep.ChainPages = plan.total, plan.chain
	rep.BusiestEndpoint, rep.BusiestRequests = plan.busiest()
	rep.Floor = time.Duration(rep.ChainPages) * o.Latency
	if o.RateLimit > 0 {
		rep.Floor = max(rep.Floor, time.Duration(float64(rep.BusiestRequests)/float64(o.RateLimit)*float64(time.Second)))
	}

	sy := syncer.New(client, st, syncer.Options{Concurrency: o.Concurrency, SentryURL: srv.URL})
	stats0 := sim.Stats()
	full, err := sy.Full(ctx)
	if err != nil {
		return rep, fmt.Errorf("bench: full sync: %w", err)
	}
	rep.FullDuration, rep.FullRequests = full.Duration, full.Requests
	rep.EndpointRequests = statsDelta(stats0, sim.Stats())

	if err := makeChanges(ctx, client, fx); err != nil {
		return rep, fmt.Errorf("bench: changes: %w", err)
	}
	inc, err := sy.Incremental(ctx)
	if err != nil {
		return rep, fmt.Errorf("bench: incremental sync: %w", err)
	}
	rep.IncrementalDuration, rep.IncrementalRequests = inc.Duration, inc.Requests
	rep.IncrementalKind, rep.IncrementalFallback = string(inc.Kind), inc.Fallback

	_, fullSnap, err := st.Snapshot(ctx, full.Snapshot.ID)
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	_, incSnap, err := st.CurrentSnapshot(ctx)
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	eng, err := measureEngine(&rep, fullSnap, incSnap, o)
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}

	heapAfter := heapInUse()
	runtime.KeepAlive(eng)
	runtime.KeepAlive(fullSnap)
	runtime.KeepAlive(incSnap)
	rep.HeapTotal, rep.HeapSyncEngine = heapAfter, heapAfter-heapBefore
	rep.PeakRSS, _ = peakRSS()

	if w != nil {
		if _, err := io.WriteString(w, rep.Markdown()); err != nil {
			return rep, fmt.Errorf("bench: write report: %w", err)
		}
	}
	return rep, nil
}

// measureEngine times the engine on the synced snapshots and returns the
// engine (kept alive for the heap measure).
func measureEngine(rep *Report, fullSnap, incSnap *access.Snapshot, o Options) (*access.Engine, error) {
	start := time.Now()
	e := access.New(incSnap)
	rep.EngineBuild = time.Since(start)

	members := e.Members()
	projects := e.Projects()
	if len(members) == 0 || len(projects) == 0 {
		return nil, errors.New("engine: the synced snapshot has no members or projects")
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 99))
	var err error
	timeEach := func(n int, f func(i int) error) []time.Duration {
		durs := make([]time.Duration, 0, n)
		for i := range n {
			t := time.Now()
			if ferr := f(i); ferr != nil && err == nil {
				err = ferr
			}
			durs = append(durs, time.Since(t))
		}
		slices.Sort(durs)
		return durs
	}
	d := timeEach(o.Lookups, func(int) error {
		_, err := e.Member(members[rng.IntN(len(members))].ID)
		return err
	})
	rep.MemberAccessP50, rep.MemberAccessP99 = pct(d, 50), pct(d, 99)
	d = timeEach(o.Lookups, func(int) error {
		_, err := e.Project(projects[rng.IntN(len(projects))])
		return err
	})
	rep.WhoCanAccessP50, rep.WhoCanAccessP99 = pct(d, 50), pct(d, 99)
	d = timeEach(o.Lookups, func(int) error {
		_, err := e.Explain(members[rng.IntN(len(members))].ID, projects[rng.IntN(len(projects))], "project:write")
		return err
	})
	rep.ExplainP99 = pct(d, 99)
	if err != nil {
		return nil, fmt.Errorf("engine lookup: %w", err)
	}

	start = time.Now()
	for _, m := range members {
		if _, err := e.Member(m.ID); err != nil {
			return nil, fmt.Errorf("engine matrix: %w", err)
		}
	}
	rep.Matrix = time.Since(start)

	start = time.Now()
	diff := access.Diff(fullSnap, incSnap)
	rep.Diff = time.Since(start)
	rep.DiffChanges = len(diff.Access.Members)
	return e, nil
}

// pct returns the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// heapInUse returns the Go heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// peakRSS reads the process's peak resident set (VmHWM) from
// /proc/self/status; 0 and an error where there is none.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak rss: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("peak rss: no VmHWM in /proc/self/status")
}

func statsDelta(before, after sentrysim.Stats) map[string]int {
	out := map[string]int{}
	for k, v := range after.Endpoints {
		if d := v - before.Endpoints[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
