package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// simFlags are the simulator's flags, shared by sim, demo and bench.
type simFlags struct {
	fixture    string
	members    int
	teams      int
	projects   int
	seed       int64
	latency    time.Duration
	rateLimit  int
	rlHeaders  bool
	errorRate  float64
	legacy     bool
	listenAddr string
}

func (f *simFlags) register(fs *flag.FlagSet, defaultAddr string) {
	fs.StringVar(&f.fixture, "fixture", "", "YAML fixture file (default: the built-in demo org)")
	fs.IntVar(&f.members, "members", 0, "generate a synthetic org with this many members instead of the demo org")
	fs.IntVar(&f.teams, "teams", 1000, "teams of the synthetic org (with --members)")
	fs.IntVar(&f.projects, "projects", 3000, "projects of the synthetic org (with --members)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the synthetic org (with --members)")
	fs.DurationVar(&f.latency, "latency", 0, "latency added to every simulated request")
	fs.IntVar(&f.rateLimit, "rate-limit", 0, "requests per second per caller and endpoint (0: unlimited)")
	fs.BoolVar(&f.rlHeaders, "rate-limit-headers", true, "send X-Sentry-Rate-Limit-* headers (false imitates self-hosted)")
	fs.Float64Var(&f.errorRate, "error-rate", 0, "probability of an injected 5xx")
	fs.BoolVar(&f.legacy, "legacy", false, "answer as an older self-hosted Sentry: paged projects, a bare-list audit log, an organization detail without the team-role-era fields, no rate-limit headers")
	fs.StringVar(&f.listenAddr, "listen", defaultAddr, "simulator listen address")
}

func (f *simFlags) fixtureData() (*sentrysim.Fixture, error) {
	switch {
	case f.fixture != "" && f.members > 0:
		return nil, usageError{errors.New("--fixture and --members exclude each other")}
	case f.fixture != "":
		r, err := os.Open(f.fixture)
		if err != nil {
			return nil, usageError{fmt.Errorf("fixture: %w", err)}
		}
		defer r.Close()
		fx, err := sentrysim.LoadFixture(r)
		if err != nil {
			// The decoder quotes the offending source lines after the
			// first; the first line names the position and the problem.
			first, _, _ := strings.Cut(err.Error(), "\n")
			return nil, usageError{fmt.Errorf("fixture %s: %s", f.fixture, first)}
		}
		return fx, nil
	case f.members > 0:
		return sentrysim.Generate(sentrysim.GenOptions{Members: f.members, Teams: f.teams, Projects: f.projects, Seed: f.seed}), nil
	default:
		return sentrysim.DemoFixtureAt(time.Now()), nil
	}
}

func (f *simFlags) server(logger *slog.Logger) (*sentrysim.Server, error) {
	fx, err := f.fixtureData()
	if err != nil {
		return nil, err
	}
	opts := sentrysim.Options{Logger: logger, Faults: sentrysim.Faults{Latency: f.latency, ErrorRate: f.errorRate}, Legacy: f.legacy}
	if f.rateLimit > 0 {
		opts.RateLimit = sentrysim.RateLimit{PerWindow: f.rateLimit, Window: time.Second, Headers: f.rlHeaders}
	}
	return sentrysim.New(fx, opts)
}

// serveBackground serves h on addr until ctx ends; it returns the base URL.
func serveBackground(ctx context.Context, addr string, h http.Handler) (string, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), done, nil
}

func runSim(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f simFlags
	f.register(fs, "127.0.0.1:9000")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	logger := newLogger(e.stderr, "text", slog.LevelWarn)
	sim, err := f.server(logger)
	if err != nil {
		return err
	}
	defer sim.Close()
	url, done, err := serveBackground(ctx, f.listenAddr, sim.Handler())
	if err != nil {
		return err
	}
	creds := sim.Tokens()
	fmt.Fprintf(e.stdout, "Sentry simulator listening on %s (organization %q)\n\n", url, creds.Org)
	fmt.Fprintln(e.stdout, "Point sentry-access, sentry-cli or curl at it:")
	fmt.Fprintf(e.stdout, "\n    SENTRY_URL=%s SENTRY_ORG=%s SENTRY_AUTH_TOKEN=%s\n\n", url, creds.Org, creds.OwnerToken)
	fmt.Fprintf(e.stdout, "The token is a user auth token of the owner %s.\n", creds.OwnerEmail)
	if creds.SCIMToken != "" {
		fmt.Fprintf(e.stdout, "SCIM token:        SENTRY_SCIM_TOKEN=%s\n", creds.SCIMToken)
	}
	if creds.IntegrationToken != "" {
		fmt.Fprintf(e.stdout, "Integration token: %s\n", creds.IntegrationToken)
	}
	fmt.Fprintf(e.stdout, "\nTry: curl -H 'Authorization: Bearer %s' '%s/api/0/organizations/%s/members/?per_page=10'\n", creds.OwnerToken, url, creds.Org)
	fmt.Fprintln(e.stdout, "These credentials only work against this simulator. Ctrl-C stops it.")
	select {
	case <-ctx.Done():
		return <-done
	case err := <-done:
		return err
	}
}
