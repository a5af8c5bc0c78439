package main

import (
	"context"
	"flag"
	"fmt"
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
	fs.IntVar(&o.Users, "users", 200, "concurrent virtual users")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long the users run")
	fs.BoolVar(&o.OpenMembership, "open-membership", false, "turn open membership on (every member reaches every project: the worst case)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	fmt.Fprintf(e.stderr, "loadtest: %d members, %d sessions, %d users for %s on loopback…\n", o.Members, o.Sessions, o.Users, o.Duration)
	rep, err := loadtest.Run(ctx, o, e.stdout)
	if err != nil {
		return err
	}
	if rep.Errors > 0 {
		return fmt.Errorf("loadtest: %d requests failed", rep.Errors)
	}
	return nil
}
