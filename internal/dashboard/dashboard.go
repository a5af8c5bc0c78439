// Package dashboard assembles the sentry-access server from its parts: the
// store, the Sentry client, the syncer, the read model, the workflows, SAML
// login, sessions and the HTTP UI. cmd/sentry-access turns configuration
// into Options; the browser tests build the same server in-process.
package dashboard

import (
	"context"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/compliance"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/session"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
	"github.com/sentry-access/sentry-access/internal/unapproved"
	"github.com/sentry-access/sentry-access/static"
)

// Options are everything the server needs. Store and Sentry are owned by
// the caller, who closes them after Run returns.
type Options struct {
	// BaseURL is the dashboard's public URL (SAML entity ID and ACS derive
	// from it; https turns on Secure cookies and HSTS).
	BaseURL string
	Logger  *slog.Logger
	// Now is the clock of everything time-based; time.Now when nil.
	Now func() time.Time

	Store  *store.Store
	Sentry *sentry.Client
	// Connection describes the Sentry connection for the Connection page
	// (never the token itself).
	Connection explore.ConnectionConfig

	// SessionKey is the secret the session cookie keys are derived from
	// (at least 32 bytes).
	SessionKey      []byte
	SessionIdle     time.Duration
	SessionAbsolute time.Duration

	// SAML configures the service provider; BaseURL is filled in.
	SAML samlauth.Config

	// Ops are metrics and error reporting (optional).
	Ops Ops

	SyncConcurrency int
	SyncInterval    time.Duration
	SnapshotRetain  int

	// WebhookAllow lists the internal addresses webhooks may be posted to
	// (notify.Config.Allow).
	WebhookAllow []netip.Prefix

	// Policy is the change-request approval policy; the zero value is
	// changes.DefaultPolicy.
	Policy changes.Policy
	// ApplyRetry bounds the retries of a change step that Sentry answers
	// with 429, 5xx or not at all; zero fields take changes' defaults
	// (4 attempts, 1 s doubling backoff, a timer).
	ApplyRetry ApplyRetry
}

// ApplyRetry configures how change steps are retried.
type ApplyRetry struct {
	MaxAttempts int
	Backoff     time.Duration
	// Sleep waits between attempts (tests pass one that does not wait).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Server is an assembled dashboard.
type Server struct {
	opts       Options
	log        *slog.Logger
	handler    http.Handler
	sp         *samlauth.SP
	runner     *syncer.Runner
	explore    *explore.Service
	changes    *changes.Service
	expiry     *changes.Scheduler
	audit      *auditlog.Service
	notify     *notify.Notifier
	compliance *compliance.Service
	unapproved *unapproved.Service
}

// New builds the server. It loads the current snapshot, if any, into the
// read model but does not sync; call Run for the background work.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("dashboard: a store is required"))
	}
	if o.Sentry == nil {
		errs = append(errs, errors.New("dashboard: a Sentry client is required"))
	}
	if len(o.SessionKey) < 32 {
		errs = append(errs, errors.New("dashboard: the session key must be at least 32 bytes"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	hashKey, blockKey, err := sessionKeys(o.SessionKey)
	if err != nil {
		return nil, err
	}
	sessions, err := session.New(session.Config{
		BaseURL: o.BaseURL, HashKey: hashKey, BlockKey: blockKey,
		IdleTimeout: o.SessionIdle, AbsoluteTimeout: o.SessionAbsolute,
		// Logouts are refused until the session's absolute expiry, across
		// restarts.
		Revocations: o.Store.SessionRevocations(),
		// Who signed in with which role: all the dashboard knows of its
		// approvers (a request says when none of them can approve it).
		Logins: o.Store.DashboardUsers(),
	}, o.Now)
	if err != nil {
		return nil, err
	}
	assets, err := static.New()
	if err != nil {
		return nil, err
	}
	samlCfg := o.SAML
	samlCfg.BaseURL = o.BaseURL
	if samlCfg.ReplayCache == nil {
		// Assertion IDs are refused until they expire, across restarts.
		samlCfg.ReplayCache = o.Store.ReplayCache()
	}
	sp, err := samlauth.New(ctx, samlCfg, samlauth.Deps{
		Sessions: sessions, Logger: o.Logger, Now: o.Now,
		RenderFailure: httpui.SAMLFailureRenderer(assets), RequestID: httpui.RequestID,
		SignedOutPath: "/signed-out",
	})
	if err != nil {
		return nil, err
	}

	conn := o.Connection
	conn.Scopes = (&scopeCache{sentry: o.Sentry, now: o.Now, ttl: ScopesTTL}).get
	ex := explore.New(o.Store, explore.Options{Logger: o.Logger, Connection: conn})
	if err := ex.Reload(ctx); err != nil {
		return nil, fmt.Errorf("load the current snapshot: %w", err)
	}
	sy := syncer.New(o.Sentry, o.Store, syncer.Options{
		Concurrency: o.SyncConcurrency, Logger: o.Logger, Now: o.Now, SentryURL: o.Connection.SentryURL,
	})
	s := &Server{opts: o, log: o.Logger, sp: sp, explore: ex}
	s.runner = syncer.NewRunner(sy, o.Store, syncer.RunnerOptions{
		Interval: o.SyncInterval, Retain: o.SnapshotRetain, Logger: o.Logger, Now: o.Now,
		OnRun:     o.Ops.onRun(),
		AfterSync: s.afterSync(),
	})
	s.notify = notify.New(notify.Config{Repo: notify.NewStoreRepo(o.Store), Now: o.Now, BaseURL: o.BaseURL, Logger: o.Logger, Allow: o.WebhookAllow})
	s.changes = newChanges(o, s.runner, ex, o.Logger, func(ctx context.Context, r *changes.Request) {
		if err := s.notify.RequestAwaitingApproval(ctx, r); err != nil {
			s.log.Error("publish a change request awaiting approval", "err", err)
		}
	}, func(ctx context.Context, r *changes.Request) {
		if err := s.notify.RequestFinished(ctx, r); err != nil {
			s.log.Error("publish a change request that ended", "request", r.ID, "err", err)
		}
	})
	s.expiry = &changes.Scheduler{Service: s.changes}
	s.unapproved = unapproved.New(unapproved.Config{
		Repo: unapproved.StoreRepo{Records: o.Store.Unapproved()}, Requests: s.changes, Archive: o.Store,
		Current: storeSnapshots{st: o.Store, shown: ex}.Current, Announce: announceUnapproved{s.notify}, Now: o.Now, Logger: o.Logger,
	})
	copts := compliance.Options{SentryURL: o.Connection.SentryURL, Now: o.Now, Logger: o.Logger}
	if o.Sentry != nil {
		copts.Live = o.Sentry
	}
	s.compliance = compliance.NewService(o.Store, copts)
	if err := s.compliance.Prepare(ctx); err != nil {
		// The first page view prepares them then.
		s.log.Error("prepare the compliance pages", "err", err)
	}
	s.audit = auditlog.New(o.Store, o.Now)
	reviews := review.New(review.Config{
		Repo: review.NewStoreRepo(o.Store), Changes: s.changes, Now: o.Now, Logger: o.Logger, Outside: reviewOutside(s.unapproved),
		Snapshots: reviewSnapshots{o.Store},
	})

	o.Ops.watchChanges(s.changes, o.Now)
	ui, err := httpui.New(httpui.Config{BaseURL: o.BaseURL}, httpui.Deps{
		Logger: o.Logger, Now: o.Now, Sessions: sessions, SAML: sp, Assets: assets,
		Ready:      s.ready,
		Explore:    ex,
		Changes:    s.changes,
		SyncRunner: explore.SyncControl{Syncs: s.runner, Read: ex},
		Compliance: s.compliance,
		Audit:      s.audit,
		Reviews:    reviews,
		Notify:     s.notify,
		Unapproved: s.unapproved,

		HTTPMetrics:   o.Ops.httpMetrics(),
		Metrics:       o.Ops.metricsHandler(),
		ErrorReporter: o.Ops.errorReporter(),
	})
	if err != nil {
		return nil, err
	}
	s.handler = ui.Handler()
	return s, nil
}

// sessionKeys derives the cookie's HMAC and AES keys from one secret with
// HKDF-SHA256, so operators manage a single SENTRY_ACCESS_SESSION_KEY.
func sessionKeys(secret []byte) (hashKey, blockKey []byte, err error) {
	hashKey, err = hkdf.Key(sha256.New, secret, nil, "sentry-access session hash key", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive session keys: %w", err)
	}
	blockKey, err = hkdf.Key(sha256.New, secret, nil, "sentry-access session block key", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive session keys: %w", err)
	}
	return hashKey, blockKey, nil
}

// ready reports whether the server can serve users: the IdP metadata is
// loaded.
func (s *Server) ready(context.Context) error {
	if !s.sp.Ready() {
		return errors.New("IdP metadata not loaded yet")
	}
	return nil
}

// Handler returns the HTTP handler of the dashboard.
func (s *Server) Handler() http.Handler { return s.handler }

// SyncNow runs a full sync and waits for it (the demo's first sync).
func (s *Server) SyncNow(ctx context.Context) (syncer.Result, error) {
	return s.runner.RunOnce(ctx, true)
}

// Run does the background work until ctx is done: scheduled syncs and the
// IdP metadata refresh.
func (s *Server) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.runner.Run(ctx) })
	g.Go(func() error { return s.sp.Run(ctx) })
	g.Go(func() error { return s.runChanges(ctx) })
	g.Go(func() error { return s.remindExpiries(ctx) })
	g.Go(func() error { s.notify.Run(ctx); return nil })
	return g.Wait()
}

// ExpiryWarning is how long before a grant expires the webhooks hear
// about it.
const ExpiryWarning = 48 * time.Hour

// remindExpiries publishes grants about to expire, hourly (notify sends
// each grant's reminder once).
func (s *Server) remindExpiries(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if gs, err := s.changes.Upcoming(ctx, s.opts.Now(), ExpiryWarning); err != nil {
			s.log.Error("list expiring grants", "err", err)
		} else if len(gs) > 0 {
			if err := s.notify.GrantsExpiring(ctx, gs); err != nil {
				s.log.Error("publish expiring grants", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// KeyPair parses the SP's PEM certificate and key.
func KeyPair(certPEM, keyPEM []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	return samlauth.ParseKeyPair(certPEM, keyPEM)
}

// ScopesTTL is how long the Connection page reuses the credential's scopes
// before asking Sentry again: every page view would otherwise cost a
// request against Sentry's rate limit.
const ScopesTTL = time.Minute

// scopeCache remembers the credential's scopes (the org detail's "access")
// for ttl. Failures are not remembered.
type scopeCache struct {
	sentry *sentry.Client
	now    func() time.Time
	ttl    time.Duration

	mu     sync.Mutex
	scopes []string
	at     time.Time
}

func (c *scopeCache) get(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scopes != nil && c.now().Sub(c.at) < c.ttl {
		return slices.Clone(c.scopes), nil
	}
	org, err := c.sentry.Organization(ctx)
	if err != nil {
		return nil, scopesError(err)
	}
	c.scopes, c.at = slices.Clone(org.Access), c.now()
	if c.scopes == nil {
		c.scopes = []string{}
	}
	return slices.Clone(c.scopes), nil
}

// scopesError gives a failed scopes read the sentence the Connection page
// shows (sentry.Problem) and marks a rejected token (401).
func scopesError(err error) error {
	p := sentry.Problem(err)
	if p == "" {
		return err
	}
	shown := &sentryaccess.Error{Code: sentryaccess.EUNAVAILABLE, Message: p}
	if errors.Is(err, sentry.ErrUnauthorized) {
		return fmt.Errorf("%w: %w: %w", explore.ErrTokenRejected, shown, err)
	}
	return fmt.Errorf("%w: %w", shown, err)
}

// reviewSnapshots gives the review service the store's snapshots, and
// their ids without decoding them (review.SnapshotIDs).
type reviewSnapshots struct{ st *store.Store }

func (r reviewSnapshots) CurrentSnapshot(ctx context.Context) (uint64, *access.Snapshot, error) {
	m, snap, err := r.st.CurrentSnapshot(ctx)
	return m.ID, snap, err
}

func (r reviewSnapshots) CurrentSnapshotID(ctx context.Context) (uint64, error) {
	return r.st.CurrentSnapshotID(ctx)
}
