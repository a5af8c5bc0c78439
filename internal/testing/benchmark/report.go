package benchmark

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Markdown renders the report as a markdown table with the targets.
func (r Report) Markdown() string {
	o := r.Options
	var b strings.Builder
	fmt.Fprintf(&b, "Synthetic org: %d members, %d teams, %d projects (seed %d); simulator latency %s per request, rate limit %s; sync concurrency %d.\n\n",
		o.Members, o.Teams, o.Projects, o.Seed, o.Latency, rateText(o.RateLimit), o.Concurrency)
	b.WriteString("| Measure | Value | Target / reference |\n|---|---|---|\n")
	row := func(name, value, target string) { fmt.Fprintf(&b, "| %s | %s | %s |\n", name, value, target) }
	row("Full sync, wall time", dur(r.FullDuration),
		fmt.Sprintf("floor %s; ratio %.2f× (target ≤ %.1f×) %s", dur(r.Floor), r.SyncRatio(), TargetSyncRatio, mark(r.SyncRatio() <= TargetSyncRatio)))
	row("Floor: sequential chain", fmt.Sprintf("%d pages × %s = %s", r.ChainPages, o.Latency, dur(time.Duration(r.ChainPages)*o.Latency)),
		"audit-log pages, then the longer of the member pages and team pages + one team's members")
	if o.RateLimit > 0 {
		row("Floor: busiest rate-limited endpoint", fmt.Sprintf("%s: %d requests ÷ %d/s = %s", r.BusiestEndpoint, r.BusiestRequests, o.RateLimit,
			dur(time.Duration(float64(r.BusiestRequests)/float64(o.RateLimit)*float64(time.Second)))), "")
	}
	row("Full sync, requests", fmt.Sprint(r.FullRequests), fmt.Sprintf("minimum %d %s", r.MinRequests, mark(r.FullRequests == int64(r.MinRequests))))
	// A sync that also reads each project's teams (GET
	// /projects/{org}/{project}/teams/) instead of taking them from the
	// project list makes one more request per project.
	perProject := r.FullRequests + int64(o.Projects)
	row("Against a sync per team and per project", fmt.Sprintf("%d requests: %.1f× fewer", perProject, float64(perProject)/float64(max(1, r.FullRequests))),
		fmt.Sprintf("target ≥ %.0f× %s (Sentry lists other members' team roles only per team: docs/sentry-access-model.md#the-fewest-requests-for-team-roles)",
			TargetFewerRequests, mark(float64(perProject) >= TargetFewerRequests*float64(r.FullRequests))))
	row(fmt.Sprintf("Incremental sync after %d changes, wall time", Changes), dur(r.IncrementalDuration),
		fmt.Sprintf("%.0f%% of the full sync%s", 100*ratio(r.IncrementalDuration, r.FullDuration), fallbackText(r.IncrementalFallback)))
	row("Incremental sync, requests", fmt.Sprint(r.IncrementalRequests),
		fmt.Sprintf("%.1f%% of the full sync", 100*float64(r.IncrementalRequests)/float64(max(1, r.FullRequests))))
	row("Peak RSS (VmHWM, whole process incl. simulator)", mib(r.PeakRSS), fmt.Sprintf("≤ %s %s", mib(TargetRSS), mark(r.PeakRSS > 0 && r.PeakRSS <= TargetRSS)))
	row("Go heap in use after GC: sync + engine alone", mib(r.HeapSyncEngine), fmt.Sprintf("whole process %s", mib(r.HeapTotal)))
	row("Engine build (index the snapshot)", dur(r.EngineBuild), "")
	row("Member access p50 / p99", dur(r.MemberAccessP50)+" / "+dur(r.MemberAccessP99), lookupTarget(r.MemberAccessP99))
	row("Who can access (project) p50 / p99", dur(r.WhoCanAccessP50)+" / "+dur(r.WhoCanAccessP99), lookupTarget(r.WhoCanAccessP99))
	row("Explain p99", dur(r.ExplainP99), lookupTarget(r.ExplainP99))
	row("Full effective-access matrix", dur(r.Matrix), fmt.Sprintf("every member's access (%d members)", o.Members))
	row("Snapshot diff (full vs incremental)", dur(r.Diff), fmt.Sprintf("%d members' access changed", r.DiffChanges))
	b.WriteString("\nRequests per endpoint during the full sync:")
	names := make([]string, 0, len(r.EndpointRequests))
	for k := range r.EndpointRequests {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, " %s %d;", strings.TrimPrefix(k, "GET /api/0"), r.EndpointRequests[k])
	}
	b.WriteString("\n")
	return b.String()
}

func rateText(n int) string {
	if n <= 0 {
		return "none"
	}
	return fmt.Sprintf("%d req/s per endpoint (fixed 1 s windows, Sentry headers)", n)
}

func fallbackText(f string) string {
	if f == "" {
		return ""
	}
	return "; fell back to a full sync: " + f
}

func lookupTarget(p99 time.Duration) string {
	return fmt.Sprintf("p99 ≤ %s %s", TargetLookupP99, mark(p99 <= TargetLookupP99))
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
