package dashboard

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
)

// DemoOptions configure a demo: the simulator with the demo org, the dev
// IdP and the dashboard in one process.
type DemoOptions struct {
	// Listen is the dashboard's address; 127.0.0.1:0 when empty. The dev
	// IdP always listens on 127.0.0.1 (the SAML tracking cookie needs the
	// IdP and the dashboard on the same host over plain http).
	Listen string
	// DataDir holds the store; a new temporary directory when empty.
	DataDir string
	// Fixture is the simulated org; the demo org when nil.
	Fixture *sentrysim.Fixture
	// Sim options (latency, faults, rate limits) for the simulator.
	Sim    sentrysim.Options
	Logger *slog.Logger
	// Now is the clock of the dashboard and the IdP; time.Now when nil.
	Now func() time.Time
	// SyncInterval schedules syncs after the first; 0: on demand only.
	SyncInterval time.Duration
	// Policy is the approval policy; changes.DefaultPolicy when zero.
	Policy changes.Policy
	// SCIMToken, when set, is the SCIM token the dashboard is configured
	// with instead of the simulator's own (a stale or wrong token, as a
	// misconfigured deployment has).
	SCIMToken string
	// Ops are metrics and error reporting; Ops.Metrics also observes the
	// Sentry client's requests.
	Ops Ops
}

// Demo is a running demo.
type Demo struct {
	// URL is the dashboard's URL.
	URL string
	// SentryURL is the simulator's URL.
	SentryURL string
	// Credentials are the simulator's ready-to-use tokens.
	Credentials sentrysim.Credentials
	// Users are the dev IdP's demo users, one per dashboard role, with
	// their passwords.
	Users []devidp.User
	// Sim is the simulator (tests change Sentry's state through it).
	Sim *sentrysim.Server
	// Server is the dashboard.
	Server *Server
	// Store is the dashboard's store.
	Store *store.Store

	closers    []func()
	done       chan error
	sessionKey []byte
	spKeyPEM   []byte
}

// StartDemo starts the simulator, the dev IdP and the dashboard, runs the
// first sync, and serves until ctx is done or Close is called.
func StartDemo(ctx context.Context, o DemoOptions) (d *Demo, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	demo := &Demo{done: make(chan error, 1)}
	d = demo
	defer func() {
		// d is nil on the error returns; close what was started.
		if err != nil {
			demo.Close()
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	d.closers = append(d.closers, cancel)

	// The simulated Sentry.
	fx := o.Fixture
	if fx == nil {
		fx = sentrysim.DemoFixtureAt(o.Now())
	}
	simOpts := o.Sim
	if simOpts.Now == nil {
		simOpts.Now = o.Now
	}
	sim, err := sentrysim.New(fx, simOpts)
	if err != nil {
		return nil, err
	}
	d.Sim = sim
	d.closers = append(d.closers, sim.Close)
	d.SentryURL, err = d.serve(ctx, "127.0.0.1:0", sim.Handler())
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	d.Credentials = sim.Tokens()

	// The dev IdP.
	idp, err := devidp.Start(ctx, devidp.Config{Now: o.Now, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { idp.Close() })
	d.Users = idp.Users()
	idpMD, err := idp.MetadataXML()
	if err != nil {
		return nil, err
	}

	// The store.
	dir := o.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sentry-access-demo-"); err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { os.RemoveAll(dir) })
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(filepath.Join(dir, "sentry-access.db"), store.Options{Timeout: 2 * time.Second, Now: o.Now})
	if err != nil {
		return nil, err
	}
	d.Store = st
	d.closers = append(d.closers, func() { st.Close() })

	client, err := sentry.New(sentry.Config{
		BaseURL: d.SentryURL, Org: d.Credentials.Org, Token: d.Credentials.OwnerToken,
		SCIMToken: cmp.Or(o.SCIMToken, d.Credentials.SCIMToken), UserAgent: "sentry-access/demo", Logger: o.Logger, Now: o.Now,
		Observe: o.Ops.observeSentry(),
	})
	if err != nil {
		return nil, err
	}

	// The dashboard: listen first to learn the URL the SP is named by.
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen %s: %w", o.Listen, err)
	}
	d.URL = "http://" + ln.Addr().String()
	key, cert, err := samlauth.GenerateKeyPair("sentry-access demo SP", o.Now())
	if err != nil {
		ln.Close()
		return nil, err
	}
	sessionKey := make([]byte, 32)
	rand.Read(sessionKey)
	d.sessionKey = sessionKey
	d.spKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	srv, err := New(ctx, Options{
		BaseURL: d.URL, Logger: o.Logger, Now: o.Now, Store: st, Sentry: client,
		Connection: explore.ConnectionConfig{SentryURL: d.SentryURL, Org: d.Credentials.Org, Token: d.Credentials.OwnerToken, SCIMConfigured: d.Credentials.SCIMToken != ""},
		SessionKey: sessionKey,
		Ops:        o.Ops,
		SAML: samlauth.Config{
			Key: key, Certificate: cert, IDPMetadataXML: idpMD,
			// The dev IdP re-posts the AuthnRequest from its login form,
			// which would drop a redirect-binding signature.
			RequestBinding: "post",
			Preset:         samlauth.PresetGeneric,
			Roles:          devidp.RoleGroups(),
		},
		SyncConcurrency: 4,
		SyncInterval:    o.SyncInterval,
		Policy:          o.Policy,
		SnapshotRetain:  50,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	d.Server = srv
	if err := idp.Register(srv.sp.Metadata()); err != nil {
		ln.Close()
		return nil, err
	}
	if _, err := srv.SyncNow(ctx); err != nil {
		ln.Close()
		return nil, fmt.Errorf("first sync: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		err := hs.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		d.done <- err
	}()
	d.closers = append(d.closers, func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		hs.Shutdown(sctx)
	})
	go srv.Run(ctx)
	return d, nil
}

// serve serves h on a new loopback listener until the demo closes.
func (d *Demo) serve(ctx context.Context, addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	d.closers = append(d.closers, func() { hs.Close() })
	return "http://" + ln.Addr().String(), nil
}

// Secrets returns every secret of the demo, in the forms they could leak
// in (raw, hex, base64, PEM, the PEM body): the Sentry tokens, the SCIM
// token, the session key and the SP private key. Tests scan logs and pages
// for them.
func (d *Demo) Secrets() []string {
	var out []string
	for _, s := range []string{d.Credentials.OwnerToken, d.Credentials.SCIMToken, d.Credentials.IntegrationToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(d.sessionKey) > 0 {
		out = append(out, string(d.sessionKey), hex.EncodeToString(d.sessionKey),
			base64.StdEncoding.EncodeToString(d.sessionKey), base64.RawURLEncoding.EncodeToString(d.sessionKey))
	}
	if len(d.spKeyPEM) > 0 {
		out = append(out, string(d.spKeyPEM))
		if blk, _ := pem.Decode(d.spKeyPEM); blk != nil {
			b64 := base64.StdEncoding.EncodeToString(blk.Bytes)
			out = append(out, b64[:64], b64[len(b64)/2:len(b64)/2+64]) // any line of the PEM body
		}
	}
	return out
}

// Done is closed with the dashboard server's error when it stops.
func (d *Demo) Done() <-chan error { return d.done }

// Close stops everything, in reverse order of start.
func (d *Demo) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}
