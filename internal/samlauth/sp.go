package samlauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// Paths served by SP.ServeHTTP.
const (
	MetadataPath = "/saml/metadata"
	ACSPath      = "/saml/acs"
	SLOPath      = "/saml/slo"
)

// Tracking-cookie name prefixes. They differ from samlsp's defaults
// ("saml_", "token") because cookies ignore ports: an IdP or another app on
// the same host must not collide with ours.
const (
	trackingCookiePrefix       = "sa_saml_"
	logoutTrackingCookiePrefix = "sa_samlslo_"
)

// ErrNoSession is returned (possibly wrapped) by Sessions.Current when the
// request carries no valid dashboard session, including an expired one.
var ErrNoSession = errors.New("no dashboard session")

// Sessions keeps the dashboard session that a SAML login starts.
// internal/session implements it with a gorilla/sessions cookie.
type Sessions interface {
	// Begin starts a session for id, replacing any session the request had.
	Begin(w http.ResponseWriter, r *http.Request, id Identity) error
	// End ends the request's session. Having no session is not an error.
	End(w http.ResponseWriter, r *http.Request) error
	// Current returns the request's identity, or an error matching
	// ErrNoSession when there is no valid session.
	Current(r *http.Request) (Identity, error)
}

// Failure is what the user is shown when a SAML step fails: a safe title
// and message, and for a missing attribute the names that did arrive. The
// private reason is logged, never shown.
type Failure struct {
	Status  int
	Title   string
	Message string
	Arrived []string
}

// Deps are the SP's collaborators.
type Deps struct {
	Sessions Sessions
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient fetches IdP metadata; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// RenderFailure writes the error page; nil writes plain text.
	RenderFailure func(w http.ResponseWriter, r *http.Request, f Failure)
	// RequestID returns the request's ID for log lines; may be nil.
	RequestID func(r *http.Request) string
	// SignedOutPath is where the browser lands after logout; "" means "/".
	SignedOutPath string
}

// SP is the dashboard's SAML service provider. Build it with New. It is
// safe for concurrent use; Refresh swaps in new IdP metadata atomically.
type SP struct {
	cfg    Config
	deps   Deps
	base   *url.URL
	names  AttributeNames
	replay ReplayCache
	mw     atomic.Pointer[samlsp.Middleware]
}

// New builds the SP and loads the IdP metadata. A metadata file or XML that
// cannot be loaded is an error. A metadata URL that cannot be fetched is
// logged and retried by Run; until then Ready reports false and logins are
// answered 503.
func New(ctx context.Context, cfg Config, deps Deps) (*SP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Sessions == nil {
		return nil, errors.New("saml: Deps.Sessions is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if deps.SignedOutPath == "" {
		deps.SignedOutPath = "/"
	}
	if cfg.MetadataRefresh == 0 {
		cfg.MetadataRefresh = time.Hour
	}
	if cfg.ClockSkew > 0 && saml.MaxClockSkew != cfg.ClockSkew {
		saml.MaxClockSkew = cfg.ClockSkew // crewjam keeps it process-wide
	}
	base, _ := url.Parse(cfg.BaseURL) // checked by Validate
	s := &SP{cfg: cfg, deps: deps, base: base, names: cfg.attributeNames(), replay: cfg.ReplayCache}
	if cfg.AllowIDPInitiated && s.replay == nil {
		s.replay = NewMemoryReplayCache(10000, deps.Now)
	}
	if err := s.Refresh(ctx); err != nil {
		if cfg.IDPMetadataURL == "" {
			return nil, err
		}
		deps.Logger.WarnContext(ctx, "saml: IdP metadata not loaded yet; will retry", "url", cfg.IDPMetadataURL, "err", err)
	}
	return s, nil
}

// NewMemoryReplayCache returns an in-memory ReplayCache holding at most n
// assertion IDs, judged by the clock now (nil: real time).
func NewMemoryReplayCache(n int, now func() time.Time) ReplayCache {
	c := samlsp.NewMemoryReplayCache(n)
	c.Clock = DSigClock(now)
	return c
}

// Ready reports whether IdP metadata is loaded, so logins can work.
func (s *SP) Ready() bool { return s.mw.Load() != nil }

// EntityID returns the SP entity ID (the metadata URL unless configured).
func (s *SP) EntityID() string {
	if s.cfg.EntityID != "" {
		return s.cfg.EntityID
	}
	return s.base.ResolveReference(&url.URL{Path: MetadataPath}).String()
}

// Metadata returns the SP metadata, e.g. to register the SP with an
// in-process IdP. It is nil until IdP metadata is loaded.
func (s *SP) Metadata() *saml.EntityDescriptor {
	mw := s.mw.Load()
	if mw == nil {
		return nil
	}
	return mw.ServiceProvider.Metadata()
}

// Refresh loads the IdP metadata from its source and swaps in a new
// middleware built from it.
func (s *SP) Refresh(ctx context.Context) error {
	md, err := s.loadMetadata(ctx)
	if err != nil {
		return err
	}
	mw, err := s.build(md)
	if err != nil {
		return err
	}
	s.mw.Store(mw)
	return nil
}

// Run refreshes metadata fetched from a URL every MetadataRefresh (every
// 30 s while none is loaded) until ctx ends; it returns nil then. With a
// file or XML source it just waits for ctx.
func (s *SP) Run(ctx context.Context) error {
	if s.cfg.IDPMetadataURL == "" {
		<-ctx.Done()
		return nil
	}
	for {
		wait := s.cfg.MetadataRefresh
		if !s.Ready() {
			wait = min(wait, 30*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if err := s.Refresh(ctx); err != nil {
			s.deps.Logger.WarnContext(ctx, "saml: refresh IdP metadata", "url", s.cfg.IDPMetadataURL, "err", err)
		}
	}
}

func (s *SP) loadMetadata(ctx context.Context) (*saml.EntityDescriptor, error) {
	switch {
	case s.cfg.IDPMetadataURL != "":
		u, _ := url.Parse(s.cfg.IDPMetadataURL) // checked by Validate
		md, err := samlsp.FetchMetadata(ctx, s.deps.HTTPClient, *u)
		if err != nil {
			return nil, fmt.Errorf("fetch IdP metadata from %s: %w", s.cfg.IDPMetadataURL, err)
		}
		return md, nil
	case s.cfg.IDPMetadataFile != "":
		b, err := os.ReadFile(s.cfg.IDPMetadataFile)
		if err != nil {
			return nil, fmt.Errorf("read IdP metadata: %w", err)
		}
		md, err := samlsp.ParseMetadata(b)
		if err != nil {
			return nil, fmt.Errorf("parse IdP metadata %s: %w", s.cfg.IDPMetadataFile, err)
		}
		return md, nil
	default:
		md, err := samlsp.ParseMetadata(s.cfg.IDPMetadataXML)
		if err != nil {
			return nil, fmt.Errorf("parse IdP metadata: %w", err)
		}
		return md, nil
	}
}

// build makes the samlsp middleware for md. crewjam verifies response
// signatures against every signing certificate in the IdP metadata, so an
// IdP rolling its key over (two certificates listed) keeps working.
func (s *SP) build(md *saml.EntityDescriptor) (*samlsp.Middleware, error) {
	binding := saml.HTTPRedirectBinding
	if s.cfg.RequestBinding == "post" {
		binding = saml.HTTPPostBinding
	}
	mw, err := samlsp.New(samlsp.Options{
		Binding:           binding,
		EntityID:          s.cfg.EntityID,
		URL:               *s.base,
		Key:               s.cfg.Key,
		Certificate:       s.cfg.Certificate,
		HTTPClient:        s.deps.HTTPClient,
		AllowIDPInitiated: s.cfg.AllowIDPInitiated,
		IDPMetadata:       md,
		SignRequest:       true, // RSA-SHA256 (defaultSigningMethodForKey)
		SignLogout:        true,
		ReplayCache:       s.replay,
		Clock:             DSigClock(s.deps.Now),
		MetadataPath:      MetadataPath,
		AcsPath:           ACSPath,
		SloPath:           SLOPath,
	})
	if err != nil {
		return nil, fmt.Errorf("build SAML SP: %w", err)
	}
	// crewjam accepts SHA-1 signatures unless told otherwise.
	mw.ServiceProvider.RejectSHA1Signatures = !s.cfg.AllowSHA1Signatures
	mw.Session = sessionProvider{sp: s}
	mw.OnError = s.onError
	mw.RequirePOSTToStartLogout = true

	// The IdP posts the response cross-site: over https the tracking cookie
	// must be SameSite=None; Secure. Over plain http (dev, loopback) a None
	// cookie without Secure is dropped, so Lax, with IdP and SP on one host.
	sameSite := http.SameSiteLaxMode
	if s.base.Scheme == "https" {
		sameSite = http.SameSiteNoneMode
	}
	if rt, ok := mw.RequestTracker.(samlsp.CookieRequestTracker); ok {
		rt.NamePrefix, rt.SameSite = trackingCookiePrefix, sameSite
		mw.RequestTracker = rt
	}
	if rt, ok := mw.LogoutRequestTracker.(samlsp.CookieRequestTracker); ok {
		rt.NamePrefix, rt.SameSite = logoutTrackingCookiePrefix, sameSite
		mw.LogoutRequestTracker = rt
	}
	return mw, nil
}

func (s *SP) unavailable(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, Failure{Status: http.StatusServiceUnavailable, Title: "Sign-in is not available yet",
		Message: "The dashboard could not load its identity provider's metadata. Try again in a minute."})
}

// ServeHTTP serves /saml/metadata, /saml/acs and /saml/slo.
func (s *SP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = strictFormCSP(w)
	mw := s.mw.Load()
	if mw == nil {
		s.unavailable(w, r)
		return
	}
	switch r.URL.Path {
	case ACSPath:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		s.guardRelayState(mw, r)
		if err := screenResponse(r.PostForm.Get("SAMLResponse")); err != nil {
			s.onError(w, r, &saml.InvalidResponseError{PrivateErr: err, Now: s.deps.Now()})
			return
		}
		mw.ServeACS(w, r)
	case SLOPath:
		mw.ServeSLO(&signedOutRedirect{ResponseWriter: w, to: s.deps.SignedOutPath}, r)
	default:
		mw.ServeHTTP(w, r)
	}
}

// guardRelayState drops the RelayState of an unsolicited response unless it
// is a safe local path. (A solicited response's RelayState names a tracking
// cookie, whose stored return path was checked when login started.)
func (s *SP) guardRelayState(mw *samlsp.Middleware, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		return // ServeACS reports it
	}
	rs := r.Form.Get("RelayState")
	if rs == "" {
		return
	}
	if _, err := mw.RequestTracker.GetTrackedRequest(r, rs); err == nil {
		return
	}
	if _, ok := SafeReturnPath(rs); ok {
		return
	}
	s.deps.Logger.WarnContext(r.Context(), "saml: dropped off-site RelayState", "relay_state", rs, "request_id", s.requestID(r))
	r.Form.Del("RelayState")
	r.PostForm.Del("RelayState")
}

// StartLogin sends the browser to the IdP with a signed AuthnRequest. After
// login it returns to returnTo if that is a safe local path, else to "/".
func (s *SP) StartLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	mw := s.mw.Load()
	if mw == nil {
		s.unavailable(w, r)
		return
	}
	target, ok := SafeReturnPath(returnTo)
	if !ok {
		target = "/"
	}
	u, err := url.Parse(target)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	// samlsp records r.URL as the return address; give it the checked one.
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	r2.URL = u
	r2.RequestURI = target
	mw.HandleStartAuthFlow(strictFormCSP(w), r2)
}

// Logout ends the dashboard session and, if the IdP offers single logout,
// sends the browser to the IdP to end its session too. It expects POST.
// The browser finally lands on Deps.SignedOutPath.
func (s *SP) Logout(w http.ResponseWriter, r *http.Request) {
	mw := s.mw.Load()
	if mw == nil {
		if err := s.deps.Sessions.End(w, r); err != nil {
			s.onError(w, r, err)
			return
		}
		http.Redirect(w, r, s.deps.SignedOutPath, http.StatusSeeOther)
		return
	}
	mw.HandleStartLogout(&signedOutRedirect{ResponseWriter: strictFormCSP(w), to: s.deps.SignedOutPath}, r)
}

// signedOutRedirect rewrites samlsp's fixed post-logout redirect to "/"
// into the signed-out page, so the user is not sent straight back to login.
type signedOutRedirect struct {
	http.ResponseWriter
	to string
}

func (w *signedOutRedirect) WriteHeader(code int) {
	if code >= 300 && code < 400 && w.Header().Get("Location") == "/" {
		w.Header().Set("Location", w.to)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (s *SP) requestID(r *http.Request) string {
	if s.deps.RequestID == nil {
		return ""
	}
	return s.deps.RequestID(r)
}

// onError logs a failed SAML step once, with its private reason, and shows
// a safe page.
func (s *SP) onError(w http.ResponseWriter, r *http.Request, err error) {
	log := s.deps.Logger.With("request_id", s.requestID(r), "path", r.URL.Path)
	var mae *MissingAttributeError
	var ire *saml.InvalidResponseError
	switch {
	case errors.As(err, &mae):
		log.WarnContext(r.Context(), "saml: login refused: missing attribute", "field", mae.Field, "wanted", mae.Wanted, "arrived", mae.Arrived)
		s.fail(w, r, Failure{Status: http.StatusForbidden,
			Title:   "Your identity provider did not send an email address",
			Message: "The dashboard identifies people by email address, but the sign-in response had no email attribute.",
			Arrived: mae.Arrived})
	case errors.Is(err, ErrNoRole):
		log.WarnContext(r.Context(), "saml: login refused: no dashboard role", "err", err)
		s.fail(w, r, Failure{Status: http.StatusForbidden,
			Title:   "You have no access to this dashboard",
			Message: "You signed in, but none of your groups grants a dashboard role. Ask an administrator to add you to a viewer, approver or admin group."})
	case errors.As(err, &ire):
		log.WarnContext(r.Context(), "saml: response rejected", "reason", ire.PrivateErr)
		s.fail(w, r, Failure{Status: http.StatusForbidden,
			Title:   "The sign-in response could not be accepted",
			Message: "The identity provider's answer was not valid for this dashboard: it may have expired, been meant for another application, or been used before. Please sign in again."})
	default:
		log.ErrorContext(r.Context(), "saml: sign-in failed", "err", err)
		s.fail(w, r, Failure{Status: http.StatusForbidden,
			Title:   "Sign-in could not be completed",
			Message: "Something went wrong while signing you in. Please sign in again."})
	}
}

func (s *SP) fail(w http.ResponseWriter, r *http.Request, f Failure) {
	w.Header().Set("Cache-Control", "no-store")
	if s.deps.RenderFailure != nil {
		s.deps.RenderFailure(w, r, f)
		return
	}
	http.Error(w, f.Title+"\n\n"+f.Message, f.Status)
}

// sessionProvider is samlsp's SessionProvider backed by our Sessions: the
// SAML login ends in the dashboard's own session cookie.
type sessionProvider struct{ sp *SP }

// CreateSession maps the assertion to an Identity and begins a session.
func (p sessionProvider) CreateSession(w http.ResponseWriter, r *http.Request, a *saml.Assertion) error {
	attrs := NewAttributes()
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			vals := make([]string, 0, len(at.Values))
			for _, v := range at.Values {
				vals = append(vals, v.Value)
			}
			attrs.Add(at.Name, at.FriendlyName, vals...)
		}
	}
	var nameID, sessionIndex string
	if a.Subject != nil && a.Subject.NameID != nil {
		nameID = a.Subject.NameID.Value
	}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			sessionIndex = st.SessionIndex
			break
		}
	}
	id, err := MapIdentity(attrs, p.sp.names, p.sp.cfg.Roles, nameID, sessionIndex)
	if err != nil {
		return err
	}
	if err := p.sp.deps.Sessions.Begin(w, r, id); err != nil {
		return fmt.Errorf("begin session for %s: %w", id.Email, err)
	}
	p.sp.deps.Logger.InfoContext(r.Context(), "saml: signed in", "email", id.Email, "role", id.Role, "request_id", p.sp.requestID(r))
	return nil
}

// DeleteSession ends the dashboard session.
func (p sessionProvider) DeleteSession(w http.ResponseWriter, r *http.Request) error {
	return p.sp.deps.Sessions.End(w, r)
}

// GetSession returns the dashboard session as a samlsp session (for logout).
func (p sessionProvider) GetSession(r *http.Request) (samlsp.Session, error) {
	id, err := p.sp.deps.Sessions.Current(r)
	if errors.Is(err, ErrNoSession) {
		return nil, fmt.Errorf("%w: %w", samlsp.ErrNoSession, err)
	}
	if err != nil {
		return nil, err
	}
	return samlSession{id: id}, nil
}

// samlSession exposes an Identity to samlsp's logout code.
type samlSession struct{ id Identity }

// GetNameID returns the NameID the IdP issued.
func (s samlSession) GetNameID() string { return s.id.NameID }

// GetAttributes returns the SessionIndex, which logout sends to the IdP.
func (s samlSession) GetAttributes() samlsp.Attributes {
	if s.id.SessionIndex == "" {
		return samlsp.Attributes{}
	}
	return samlsp.Attributes{"SessionIndex": {s.id.SessionIndex}}
}
