package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/testing/loadtest"
)

// runLoadtest runs the bounded load test (make bench): the demo with a
// synthetic org, real SAML logins, then concurrent users over the main
// pages, searches and lookups, all on loopback.
func runLoadtest(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o loadtest.Options
	fs.IntVar(&o.Members, "members", 10000, "members in the synthetic org")
	fs.IntVar(&o.Teams, "teams", 1000, "teams in the synthetic org")
	fs.IntVar(&o.Projects, "projects", 3000, "projects in the synthetic org")
	fs.IntVar(&o.Sessions, "sessions", 200, "signed-in sessions, each from a real SAML login")
	users := fs.String("users", "1,50,200", "concurrent virtual users of each phase, run one after another")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long each phase runs")
	fs.BoolVar(&o.OpenMembership, "open-membership", false, "turn open membership on (every member reaches every project: the worst case)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the phases to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a profile of the memory allocated during the phases to this file (go tool pprof -sample_index=alloc_space)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	for _, f := range strings.Split(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return usageError{fmt.Errorf("loadtest: --users %q: want positive numbers separated by commas", *users)}
		}
		o.Phases = append(o.Phases, n)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		defer f.Close()
		o.CPUProfile = f
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		defer f.Close()
		o.MemProfile = f
	}
	fmt.Fprintf(e.stderr, "loadtest: %d members, %d sessions, phases of %s users for %s each on loopback…\n", o.Members, o.Sessions, *users, o.Duration)
	rep, err := loadtest.Run(ctx, o, e.stdout)
	if err != nil {
		return err
	}
	for _, p := range rep.Phases {
		if p.Errors > 0 {
			return fmt.Errorf("loadtest: %d requests failed with %d users", p.Errors, p.Users)
		}
	}
	return nil
}
