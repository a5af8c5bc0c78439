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

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/config"
	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/errreport"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/metrics"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// samlConfig turns the SAML settings into the SP's configuration.
func samlConfig(c config.Config) (samlauth.Config, error) {
	certPEM, err := os.ReadFile(c.SPCertFile)
	if err != nil {
		return samlauth.Config{}, fmt.Errorf("SAML_SP_CERT_FILE: %w", err)
	}
	keyPEM, err := os.ReadFile(c.SPKeyFile)
	if err != nil {
		return samlauth.Config{}, fmt.Errorf("SAML_SP_KEY_FILE: %w", err)
	}
	key, cert, err := dashboard.KeyPair(certPEM, keyPEM)
	if err != nil {
		return samlauth.Config{}, err
	}
	preset := samlauth.Preset(c.AttributePreset)
	if c.AttributePreset == "custom" {
		preset = samlauth.PresetGeneric // overridden by the custom names
	}
	role := sentryaccess.Role(c.DefaultRole)
	if c.DefaultRole == "none" {
		role = sentryaccess.RoleNone
	}
	return samlauth.Config{
		Key: key, Certificate: cert,
		IDPMetadataURL: c.IDPMetadataURL, IDPMetadataFile: c.IDPMetadataFile,
		AllowIDPInitiated: c.AllowIDPInitiated,
		ClockSkew:         c.ClockSkew,
		Preset:            preset,
		Attributes:        customAttributes(c),
		Roles: samlauth.RoleGroups{
			Viewer: []string{c.ViewerGroup}, Approver: []string{c.ApproverGroup}, Admin: []string{c.AdminGroup},
			Default: role,
		},
	}, nil
}

func customAttributes(c config.Config) samlauth.AttributeNames {
	var a samlauth.AttributeNames
	if c.EmailAttribute != "" {
		a.Email = []string{c.EmailAttribute}
	}
	if c.NameAttribute != "" {
		a.Name = []string{c.NameAttribute}
	}
	if c.GroupsAttribute != "" {
		a.Groups = []string{c.GroupsAttribute}
	}
	return a
}

// newOps builds the metrics registry and, when SENTRY_DSN is set, the
// error reporter; flush sends pending error reports at shutdown.
func newOps(c config.Config, logger *slog.Logger) (dashboard.Ops, func(), error) {
	ops := dashboard.Ops{Metrics: metrics.New(metrics.Options{Token: c.MetricsToken, Logger: logger, ProcessCollectors: true})}
	if c.DSN == "" {
		return ops, func() {}, nil
	}
	rep, err := errreport.New(errreport.Options{
		DSN: c.DSN, Release: "sentry-access@" + version, Logger: logger,
		Secrets: []string{c.SentryToken, c.SCIMToken, c.SessionKey, c.MetricsToken},
	})
	if err != nil {
		return ops, nil, fmt.Errorf("SENTRY_DSN: %w", err)
	}
	ops.ErrorReporter = rep
	return ops, func() { rep.Flush(5 * time.Second) }, nil
}

// approvalPolicy is the default policy with the configured numbers of
// approvers.
func approvalPolicy(c config.Config) changes.Policy {
	p := changes.DefaultPolicy()
	p.DefaultApprovals, p.SensitiveApprovals, p.SensitiveGrants = c.Approvals, c.SensitiveApprovals, c.SensitiveGrants
	return p
}

func runServe(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return usageError{fmt.Errorf("configuration problems (see sentry-access config check):\n%w", err)}
	}
	logger := slog.New(httpui.LogHandler(newLogger(e.stderr, c.LogFormat, slog.LevelInfo).Handler()))
	samlCfg, err := samlConfig(c)
	if err != nil {
		return usageError{err}
	}
	ops, flush, err := newOps(c, logger)
	if err != nil {
		return usageError{err}
	}
	defer flush()
	client, err := sentry.New(sentry.Config{
		BaseURL: c.SentryURL, Org: c.SentryOrg, Token: c.SentryToken, SCIMToken: c.SCIMToken,
		UserAgent: "sentry-access/" + version, Logger: logger, Observe: ops.Metrics.ObserveSentry,
	})
	if err != nil {
		return usageError{err}
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := dashboard.New(ctx, dashboard.Options{
		BaseURL: c.BaseURL, Logger: logger, Store: st, Sentry: client,
		Connection: explore.ConnectionConfig{SentryURL: c.SentryURL, Org: c.SentryOrg, Token: c.SentryToken, SCIMConfigured: c.SCIMToken != ""},
		SessionKey: []byte(c.SessionKey), SessionIdle: c.SessionIdle, SessionAbsolute: c.SessionAbsolute,
		SAML:            samlCfg,
		SyncConcurrency: c.SyncConcurrency, SyncInterval: c.SyncInterval, SnapshotRetain: c.SnapshotRetain,
		Policy:       approvalPolicy(c),
		WebhookAllow: c.WebhookAllow,
		Ops:          ops,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	logger.Info("sentry-access listening", "addr", ln.Addr().String(), "base_url", c.BaseURL, "version", version)
	return serveUntilDone(ctx, ln, srv, logger)
}

// serveUntilDone serves the dashboard and its background work until ctx is
// done, then shuts down gracefully.
func serveUntilDone(ctx context.Context, ln net.Listener, srv *dashboard.Server, logger *slog.Logger) error {
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	bg := make(chan error, 1)
	go func() { bg <- srv.Run(ctx) }()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if berr := <-bg; berr != nil && !errors.Is(berr, context.Canceled) {
		err = errors.Join(err, berr)
	}
	return err
}

func runDemo(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "dashboard address (loopback unless you say otherwise)")
	data := fs.String("data", "", "store directory (default: a fresh temporary one)")
	members := fs.Int("members", 0, "use a synthetic org with this many members instead of the demo org")
	teams := fs.Int("teams", 0, "teams of the synthetic org (default members/10)")
	projects := fs.Int("projects", 0, "projects of the synthetic org (default members*3/10)")
	seed := fs.Int64("seed", 1, "seed of the synthetic org")
	verbose := fs.Bool("verbose", false, "log requests and background work")
	legacy := fs.Bool("legacy", false, "the simulator answers as an older self-hosted Sentry (see sim --legacy)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = newLogger(e.stderr, "text", slog.LevelDebug)
	}
	var fx *sentrysim.Fixture
	if *members > 0 {
		if *teams <= 0 {
			*teams = max(*members/10, 1)
		}
		if *projects <= 0 {
			*projects = max(*members*3/10, 1)
		}
		fx = sentrysim.Generate(sentrysim.GenOptions{Members: *members, Teams: *teams, Projects: *projects, Seed: *seed})
	}
	fmt.Fprintln(e.stdout, "Starting the Sentry simulator, the dev IdP and the dashboard, and running the first sync…")
	ops := dashboard.Ops{Metrics: metrics.New(metrics.Options{Logger: logger, ProcessCollectors: true})}
	d, err := dashboard.StartDemo(ctx, dashboard.DemoOptions{Listen: *listen, DataDir: *data, Fixture: fx, Logger: logger, SyncInterval: 5 * time.Minute, Ops: ops,
		Sim: sentrysim.Options{Legacy: *legacy}})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(e.stdout, "\nsentry-access demo is ready: %s\n\n", d.URL)
	fmt.Fprintln(e.stdout, "Sign in through the built-in dev IdP with one of these users:")
	fmt.Fprintf(e.stdout, "\n  %-9s %-10s %-26s %s\n", "ROLE", "USERNAME", "EMAIL", "PASSWORD")
	for _, u := range d.Users {
		fmt.Fprintf(e.stdout, "  %-9s %-10s %-26s %s\n", u.Role, u.Username, u.Email, u.Password)
	}
	fmt.Fprintf(e.stdout, "\nThe simulated Sentry (org %q) answers the CLI and curl too:\n", d.Credentials.Org)
	fmt.Fprintf(e.stdout, "\n  SENTRY_URL=%s SENTRY_ORG=%s SENTRY_AUTH_TOKEN=%s\n", d.SentryURL, d.Credentials.Org, d.Credentials.OwnerToken)
	if !strings.HasPrefix(*listen, "127.") && !strings.HasPrefix(*listen, "localhost") && !strings.HasPrefix(*listen, "[::1]") {
		fmt.Fprintln(e.stdout, "\nWarning: the demo listens beyond loopback; its users and tokens are for trying the product only.")
	}
	fmt.Fprintln(e.stdout, "\nPasswords are new at every start. Ctrl-C stops the demo.")

	select {
	case <-ctx.Done():
		return nil
	case err := <-d.Done():
		return err
	}
}
