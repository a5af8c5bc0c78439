package benchmark_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/testing/benchmark"
)

// TestRunOnASmallOrg runs the whole benchmark on a small org with a rate
// limit low enough to bind. Timing is logged, never asserted: the
// request count must be the minimum and every measure must be filled.
func TestRunOnASmallOrg(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	rep, err := benchmark.Run(context.Background(), benchmark.Options{
		Members: 300, Teams: 60, Projects: 90, Seed: 7,
		Latency: 5 * time.Millisecond, RateLimit: 20, Concurrency: 4, Lookups: 200, Dir: t.TempDir(),
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("full sync %s, floor %s, ratio %.2f\n%s", rep.FullDuration, rep.Floor, rep.SyncRatio(), out.String())

	if rep.FullRequests != int64(rep.MinRequests) {
		t.Errorf("full sync made %d requests, want the minimum %d (per endpoint: %v)", rep.FullRequests, rep.MinRequests, rep.EndpointRequests)
	}
	if rep.BusiestEndpoint != "team members" || rep.BusiestRequests != 60 {
		t.Errorf("busiest endpoint %s with %d, want team members with 60 (one list per team)", rep.BusiestEndpoint, rep.BusiestRequests)
	}
	if rep.IncrementalKind != "incremental" || rep.IncrementalFallback != "" {
		t.Errorf("incremental run was %q (fallback %q), want a true incremental", rep.IncrementalKind, rep.IncrementalFallback)
	}
	if rep.IncrementalRequests <= 0 || rep.IncrementalRequests >= rep.FullRequests {
		t.Errorf("incremental made %d requests, want some and fewer than the full sync's %d", rep.IncrementalRequests, rep.FullRequests)
	}
	if rep.DiffChanges == 0 {
		t.Error("the diff of the full and incremental snapshots found no access change after 20 changes")
	}
	for name, d := range map[string]time.Duration{
		"full": rep.FullDuration, "floor": rep.Floor, "incremental": rep.IncrementalDuration, "engine build": rep.EngineBuild,
		"member p50": rep.MemberAccessP50, "member p99": rep.MemberAccessP99, "who p50": rep.WhoCanAccessP50,
		"who p99": rep.WhoCanAccessP99, "explain p99": rep.ExplainP99, "matrix": rep.Matrix, "diff": rep.Diff,
	} {
		if d <= 0 {
			t.Errorf("%s is not measured", name)
		}
	}
	if rep.PeakRSS <= 0 || rep.HeapTotal <= 0 {
		t.Errorf("memory not measured: rss %d, heap %d", rep.PeakRSS, rep.HeapTotal)
	}
	for _, want := range []string{"| Full sync, wall time |", "| Explain p99 |", "| Snapshot diff (full vs incremental) |", "minimum"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}
