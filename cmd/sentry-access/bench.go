package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sentry-access/sentry-access/internal/testing/benchmark"
)

// runBench measures a full and an incremental sync of a generated org from
// the simulator (latency and a Sentry-like rate limit added) and the access
// engine on the result, and prints a markdown table (make bench).
func runBench(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o benchmark.Options
	fs.IntVar(&o.Members, "members", benchmark.DefaultMembers, "members in the generated org")
	fs.IntVar(&o.Teams, "teams", benchmark.DefaultTeams, "teams in the generated org")
	fs.IntVar(&o.Projects, "projects", benchmark.DefaultProjects, "projects in the generated org")
	fs.Int64Var(&o.Seed, "seed", benchmark.DefaultSeed, "generator seed")
	fs.DurationVar(&o.Latency, "latency", benchmark.DefaultLatency, "latency added to every simulator request")
	fs.IntVar(&o.RateLimit, "rate-limit", benchmark.DefaultRateLimit, "requests per second per endpoint (negative: none)")
	fs.IntVar(&o.Concurrency, "concurrency", benchmark.DefaultConcurrency, "sync requests in flight at once")
	fs.IntVar(&o.Lookups, "lookups", benchmark.DefaultLookups, "timed engine lookups of each kind")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("bench: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintf(e.stderr, "bench: generating %d members, %d teams, %d projects and syncing them (this takes a minute)…\n", o.Members, o.Teams, o.Projects)
	_, err := benchmark.Run(ctx, o, e.stdout)
	return err
}
