// Package httpui is the dashboard's HTTP layer: an echo server with one
// routes.go, one error handler, templ rendering (full page, or a fragment
// for HTMX requests), SAML-backed authentication, role checks, cross-origin
// protection and security headers. echo types stop here: services take a
// context.Context and return view models or errors.
//
// Adding a page: write its content component in web/ (templ), a service
// interface in deps.go if it needs data, a handler file here that calls the
// service and s.page(...), and one line in routes.go.
package httpui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/web"
)

// Config configures the server.
type Config struct {
	// BaseURL is the dashboard's external root URL. https turns on HSTS.
	BaseURL string
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("http: base URL %q must be an absolute http(s) URL", c.BaseURL)
	}
	return nil
}

// SAML is the SAML service provider (samlauth.SP).
type SAML interface {
	// ServeHTTP serves /saml/metadata, /saml/acs and /saml/slo.
	http.Handler
	// StartLogin redirects to the IdP; after login the browser returns to
	// returnTo if it is a safe local path.
	StartLogin(w http.ResponseWriter, r *http.Request, returnTo string)
	// Logout ends the session (and the IdP's, if it offers SLO).
	Logout(w http.ResponseWriter, r *http.Request)
}

// Sessions authenticates requests (session.Manager).
type Sessions interface {
	// Authenticate returns the request's identity and refreshes the idle
	// timer; errors match samlauth.ErrNoSession when there is no valid
	// session (missing, tampered, idle or absolute timeout).
	Authenticate(w http.ResponseWriter, r *http.Request) (samlauth.Identity, error)
}

// Assets serves static files and names their cacheable paths (static.Assets).
type Assets interface {
	http.Handler
	Path(name string) string
}

// SyncStatusSource reports the state of the last Sentry sync for the
// banner shown on every page.
type SyncStatusSource interface {
	SyncStatus(ctx context.Context) (web.SyncStatus, error)
}

// Deps are the server's collaborators. Sessions, SAML and Assets are
// required; the rest may be nil (a nil Ready always reports ready, a nil
// Sync shows no banner, a nil service answers 503 on its pages).
type Deps struct {
	Logger   *slog.Logger
	Now      func() time.Time
	Sessions Sessions
	SAML     SAML
	Assets   Assets
	Ready    func(ctx context.Context) error
	Sync     SyncStatusSource
	// Explore is the read model of the read pages (members, teams,
	// projects, lookup, snapshots, graph, connection); nil answers 503.
	Explore Explorer
	// SyncRunner starts syncs (POST /sync). When Sync is nil, the banner
	// is fed from it.
	SyncRunner SyncRunner
	// Compliance serves the token, SCIM, SSO, posture and troubleshooting
	// pages (*compliance.Service); nil answers 503.
	Compliance Compliance
	// Audit is the audit-log explorer; Reviews runs access reviews;
	// Notify manages outgoing webhooks. Nil answers 503 on their pages.
	Audit   AuditLog
	Reviews Reviews
	Notify  Notifications
	// Changes serves the change-request, blueprint and trail pages
	// (*changes.Service); nil answers 503.
	Changes Changes
	// Unapproved serves the changes made outside sentry-access
	// (*unapproved.Service); nil answers 503 on its pages and shows none
	// on the others.
	Unapproved Unapproved
	// HTTPMetrics records every request; Metrics serves GET /metrics (it
	// does its own access control: bearer token or loopback only).
	// ErrorReporter receives 5xx errors and panics. All may be nil.
	HTTPMetrics   HTTPMetrics
	Metrics       http.Handler
	ErrorReporter ErrorReporter
}

// Server is the dashboard's HTTP server. Build it with New; serve
// Handler().
type Server struct {
	cfg   Config
	deps  Deps
	https bool
	e     *echo.Echo
	cop   *http.CrossOriginProtection
	// teamOptions are the list pages' team filter options, prepared once
	// per snapshot.
	teamOptions preparedOptionsCache
	// stepOptions are the change form's step options, prepared once per
	// snapshot.
	stepOptions stepOptionsCache
	// blueprintSamples are the shipped blueprints, parsed once (they are
	// embedded in the binary).
	blueprintSamples func() ([]changes.BlueprintSample, error)
	// buffers are rendered pages' buffers, reused (render).
	buffers sync.Pool
}

// New builds the server and registers every route.
func New(cfg Config, deps Deps) (*Server, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Sessions == nil {
		errs = append(errs, errors.New("http: Deps.Sessions is required"))
	}
	if deps.SAML == nil {
		errs = append(errs, errors.New("http: Deps.SAML is required"))
	}
	if deps.Assets == nil {
		errs = append(errs, errors.New("http: Deps.Assets is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Sync == nil && deps.SyncRunner != nil {
		deps.Sync = syncBanner{deps.SyncRunner}
	}
	u, _ := url.Parse(cfg.BaseURL)
	s := &Server{cfg: cfg, deps: deps, https: u.Scheme == "https", e: echo.New(), blueprintSamples: sync.OnceValues(changes.BlueprintSamples)}
	s.e.HideBanner, s.e.HidePort = true, true
	s.e.HTTPErrorHandler = s.handleError

	// Cross-origin protection (Sec-Fetch-Site / Origin) on every unsafe
	// method. Only the SAML endpoints the IdP posts to are exempt: the IdP
	// is another site by design, and those posts are authenticated by
	// their XML signatures.
	s.cop = http.NewCrossOriginProtection()
	s.cop.AddInsecureBypassPattern("POST " + samlauth.ACSPath)
	s.cop.AddInsecureBypassPattern(samlauth.SLOPath)
	s.routes()
	return s, nil
}

// Handler returns the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.e }
