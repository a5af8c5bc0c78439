// Command sentry-access is a web console and CLI for Sentry's access
// control: who can reach which project, why, and changes through approvals.
//
// Usage: sentry-access <command> [flags]; run "sentry-access help".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var denied deniedError
		if !errors.As(err, &denied) { // explain already printed why
			fmt.Fprintln(os.Stderr, "sentry-access:", err)
		}
		os.Exit(exitCode(err))
	}
}

// env bundles a command's view of the outside world so tests can call run
// with their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "simulator + dev IdP + first sync + dashboard in one process, on loopback", runDemo},
		{"serve", "run the dashboard against SENTRY_URL / SENTRY_ORG", runServe},
		{"sim", "run the Sentry simulator (prints SENTRY_URL=… SENTRY_ORG=… SENTRY_AUTH_TOKEN=…)", runSim},
		{"sync", "pull a snapshot of the org into the store", runSync},
		{"access", "what a member can reach and why: --member EMAIL [--json]", runAccess},
		{"who", "who can reach a project and by which path: --project SLUG [--json]", runWho},
		{"explain", "allowed or denied, with the rule chain: --member EMAIL --project SLUG [--scope S] [--json]", runExplain},
		{"snapshots", "list stored snapshots", runSnapshots},
		{"diff", "what changed between two snapshots: [--from ID] [--to ID] [--json]", runDiff},
		{"config", "config check: report every configuration problem at once", runConfig},
		{"backup", "write a consistent copy of the store: --out FILE", runBackup},
		{"restore", "replace the store with a backup: --in FILE (server stopped)", runRestore},
		{"bench", "measure sync and engine at scale against the simulator", runBench},
		{"loadtest", "bounded load test of the dashboard on loopback (make bench)", runLoadtest},
		{"version", "print the version", func(_ context.Context, e env, _ []string) error {
			fmt.Fprintln(e.stdout, "sentry-access", version)
			return nil
		}},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return usageError{fmt.Errorf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sentry-access <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nConfiguration comes from the environment (SENTRY_URL, SENTRY_ORG, SENTRY_AUTH_TOKEN, …) and flags; see README.md.")
}
