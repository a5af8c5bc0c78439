// Package sentrysim is a stateful, in-memory simulator of the parts of
// Sentry's REST API (/api/0) that sentry-access uses: organization, members,
// teams, projects, access requests, tokens, integrations, the audit log,
// the auth provider and SCIM v2. It enforces Sentry's scope maps, role rules,
// pagination and error bodies as described in
// docs/sentry-access-model.md, and can inject faults and rate limits.
package sentrysim

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// Options configure a Server.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Faults are injected into every request (see SetFaults).
	Faults Faults
	// RateLimit, when PerWindow > 0, limits each caller per endpoint.
	RateLimit RateLimit
	// Legacy imitates an older self-hosted Sentry (see legacy.go): the
	// projects list ignores all_projects and comes in pages, the audit
	// log is a bare list, the organization detail lacks the fields added
	// with team roles (orgRoleList, teamRoleList, eventsMemberAdmin,
	// alertsMemberWrite, …), and no rate-limit headers are sent.
	Legacy bool
	// RegionURL is the organization's links.regionUrl (sentry.io answers
	// https://us.sentry.io or https://de.sentry.io); when empty the
	// simulator answers its own URL, as self-hosted Sentry does.
	RegionURL string
}

// Faults are failures injected before a request is served. Rates are
// probabilities in [0,1], drawn from a generator seeded with Seed so a run
// is reproducible.
type Faults struct {
	// Latency delays every request.
	Latency time.Duration
	// ErrorRate answers a 5xx (500, 502 or 503) with this probability.
	ErrorRate float64
	// FailNth answers 500 on these request numbers (1-based, counted over
	// all requests since the last SetFaults).
	FailNth []int
	// TimeoutRate hangs the request until the client gives up or the
	// server is closed, with this probability.
	TimeoutRate float64
	// DropRate closes the connection without an answer, with this
	// probability.
	DropRate float64
	// Seed seeds the fault generator.
	Seed int64
}

// RateLimit is a fixed-window limit per caller and endpoint, as Sentry's
// rate-limit middleware applies (src/sentry/middleware/ratelimit.py).
type RateLimit struct {
	// PerWindow is the number of requests allowed per window; 0 disables.
	PerWindow int
	// Window is the window length (default one second).
	Window time.Duration
	// Headers emits X-Sentry-Rate-Limit-* headers, as sentry.io does;
	// false imitates self-hosted Sentry, which sends none.
	Headers bool
}

// Stats counts requests received, per endpoint pattern (for example
// "GET /api/0/organizations/{org}/members/").
type Stats struct {
	Total     int
	Endpoints map[string]int
}

// Credentials are ready-to-use credentials for the simulated organization.
type Credentials struct {
	// Org is the organization slug.
	Org string
	// OwnerEmail is the email of the member owning OwnerToken.
	OwnerEmail string
	// OwnerToken is a user auth token of an owner with every scope the
	// dashboard needs (empty when the fixture has none).
	OwnerToken string
	// SCIMToken is the SCIM bearer token (empty without SCIM).
	SCIMToken string
	// IntegrationToken is a token of the first internal integration.
	IntegrationToken string
}

// Server is a simulated Sentry. It is safe for concurrent use.
type Server struct {
	now       func() time.Time
	logger    *slog.Logger
	legacy    bool
	regionURL string

	mu sync.Mutex
	st *state

	faultMu   sync.Mutex
	faults    Faults
	rng       *rand.Rand
	reqCount  int
	stats     map[string]int
	limit     RateLimit
	windows   map[string]*window
	closed    chan struct{}
	closeOnce sync.Once

	sessions map[string]int64 // session cookie value → user id (SignIn); under mu

	mux *http.ServeMux
}

type window struct {
	start time.Time
	count int
}

// New builds a Server from a fixture. The fixture is copied into the
// server's state; later changes to fx have no effect.
func New(fx *Fixture, opts Options) (*Server, error) {
	if fx == nil {
		return nil, fmt.Errorf("new simulator: nil fixture")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := newState(fx, now())
	if err != nil {
		return nil, fmt.Errorf("new simulator: %w", err)
	}
	s := &Server{now: now, logger: logger, st: st, stats: map[string]int{}, windows: map[string]*window{},
		closed: make(chan struct{}), legacy: opts.Legacy, regionURL: opts.RegionURL}
	if s.legacy {
		s.legacyState()
	}
	s.SetFaults(opts.Faults)
	s.SetRateLimit(opts.RateLimit)
	s.mux = s.routes()
	return s, nil
}

// Handler returns the HTTP handler serving /api/0/.
func (s *Server) Handler() http.Handler { return s.mux }

// Close releases requests hung by Faults.TimeoutRate.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// SetFaults replaces the injected faults and restarts the request count
// used by FailNth.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
	s.faults.FailNth = slices.Clone(f.FailNth)
	s.rng = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)^0x9e3779b97f4a7c15))
	s.reqCount = 0
}

// SetRateLimit replaces the rate limit and forgets the current windows.
func (s *Server) SetRateLimit(rl RateLimit) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if rl.Window <= 0 {
		rl.Window = time.Second
	}
	if s.legacy {
		rl.Headers = false // self-hosted Sentry sends none
	}
	s.limit = rl
	s.windows = map[string]*window{}
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	out := Stats{Endpoints: make(map[string]int, len(s.stats))}
	for k, v := range s.stats {
		out.Endpoints[k] = v
		out.Total += v
	}
	return out
}

// Tokens describes ready-to-use credentials: the owner user token with the
// most scopes, the SCIM token and an internal-integration token.
func (s *Server) Tokens() Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	c := Credentials{Org: st.org.slug, SCIMToken: st.scimToken}
	best := -1
	for _, ut := range st.userTokens {
		m := st.members[ut.memberID]
		if m == nil || m.role != "owner" || m.user == nil {
			continue
		}
		if n := len(ut.scopes); n > best || (n == best && ut.token < c.OwnerToken) {
			best, c.OwnerToken, c.OwnerEmail = n, ut.token, m.email
		}
	}
	for _, a := range st.apps {
		if a.scim {
			continue
		}
		var toks []string
		for v, ta := range st.appByToken {
			if ta == a {
				toks = append(toks, v)
			}
		}
		if len(toks) > 0 {
			slices.Sort(toks)
			c.IntegrationToken = toks[0]
			break
		}
	}
	return c
}

// call is one request being served, with its authenticated principal.
type call struct {
	s *Server
	w http.ResponseWriter
	r *http.Request
	p *principal
}

func (c *call) st() *state { return c.s.st }

// json writes v as a JSON body with status.
func (c *call) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	if err := json.NewEncoder(c.w).Encode(v); err != nil {
		c.s.logger.Warn("write response", "err", err)
	}
}

// detail writes Sentry's {"detail": msg} error body.
func (c *call) detail(status int, msg any) { c.json(status, map[string]any{"detail": msg}) }

// noContent answers 204.
func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// scimError writes a SCIM error body.
func (c *call) scimError(status int, msg string) {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	_ = json.NewEncoder(c.w).Encode(map[string]any{"schemas": []string{sentry.SCIMErrorSchema}, "detail": msg})
}

// decode reads a JSON body into v; false means a 400 has been written.
func (c *call) decode(v any) bool {
	if err := json.NewDecoder(c.r.Body).Decode(v); err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return false
	}
	return true
}

// Error texts copied from Sentry (src/sentry/api/authentication.py,
// src/sentry/api/exceptions.py and DRF defaults).
const (
	msgNoCredentials = "Authentication credentials were not provided."
	msgInvalidToken  = "Invalid token"
	msgTokenExpired  = "Token expired"
	msgForbidden     = "You do not have permission to perform this action."
	msgNotFound      = "The requested resource does not exist"
)

// endpoint describes one route: its scope_map (any-of) for the method and
// what kind of endpoint it is.
type endpoint struct {
	pattern string
	scopes  []string
	scim    bool
	session bool
	// limitExempt marks endpoints whose permission class lets a member over
	// the member limit through (RelaxedMemberPermission: the member may
	// remove itself).
	limitExempt bool
	// global endpoints have no {org} in their path.
	global bool
	// public endpoints answer anonymous requests too (c.p is nil then).
	public bool
	h      func(*call)
}

func (s *Server) handle(mux *http.ServeMux, e endpoint) {
	name := strings.TrimSuffix(e.pattern, "{$}")
	mux.HandleFunc(e.pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, name, e)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, name string, e endpoint) {
	if !s.injectFaults(w, r, name) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &call{s: s, w: w, r: r}
	if e.session {
		// SessionNoAuthTokenAuthentication: any request with a token is
		// unauthenticated. The simulator's sessions (SignIn) model only the
		// organization endpoints' gates, not these user endpoints.
		c.detail(http.StatusUnauthorized, msgNoCredentials)
		return
	}
	p, status, msg := s.authenticate(r)
	if p == nil && e.public && r.Header.Get("Authorization") == "" {
		e.h(c) // anonymous
		return
	}
	if p == nil {
		c.detail(status, msg)
		return
	}
	c.p = p
	st := s.st
	if org := r.PathValue("org"); !e.global && org != st.org.slug && org != fmt.Sprint(st.org.id) {
		c.detail(http.StatusNotFound, msgNotFound)
		return
	}
	if !c.memberLimitGate(e) {
		return
	}
	if !s.allowRate(w, p.key, name) {
		c.detail(http.StatusTooManyRequests, fmt.Sprintf(
			"You are attempting to use this endpoint too frequently. Limit is %d requests in %d seconds",
			s.limit.PerWindow, int(s.limit.Window.Seconds())))
		return
	}
	if e.scim {
		if st.authProvider == nil || !st.authProvider.scimEnabled {
			c.scimError(http.StatusForbidden, msgForbidden)
			return
		}
		if !hasAny(p.scopes, e.scopes...) {
			c.scimError(http.StatusForbidden, msgForbidden)
			return
		}
	} else if e.scopes != nil && !hasAny(p.scopes, e.scopes...) {
		// The SCIM token is an internal integration's token: REST
		// endpoints take it within its scopes (scim/utils.py adds nothing
		// that keeps it to SCIM; docs/sentry-access-model.md#scim).
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	if p.kind == kindOrgToken {
		now := s.now()
		if t := st.orgTokenByVal[tokenOf(r)]; t != nil {
			t.dateLastUsed = &now
		}
	}
	e.h(c)
}

func tokenOf(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, prefix := range []string{"Bearer ", "bearer ", "Token "} {
		if v, ok := strings.CutPrefix(h, prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// authenticate resolves the bearer token to a principal, or returns the
// status and detail of Sentry's authentication failure.
func (s *Server) authenticate(r *http.Request) (*principal, int, string) {
	st := s.st
	if r.Header.Get("Authorization") == "" {
		if p := s.sessionPrincipal(r); p != nil {
			return p, 0, ""
		}
		return nil, http.StatusUnauthorized, msgNoCredentials
	}
	tok := tokenOf(r)
	if tok == "" {
		return nil, http.StatusUnauthorized, msgInvalidToken
	}
	if ut := st.userTokens[tok]; ut != nil {
		if ut.expiresAt != nil && !s.now().Before(*ut.expiresAt) {
			return nil, http.StatusUnauthorized, msgTokenExpired
		}
		m := st.members[ut.memberID]
		if m == nil || m.user == nil {
			return nil, http.StatusUnauthorized, "User inactive or deleted"
		}
		return &principal{kind: kindUser, key: "user:" + fmt.Sprint(m.user.id), member: m,
			scopes: intersect(st.orgScopes(m.role), ut.scopes), upper: ut.scopes}, 0, ""
	}
	if tok == st.scimToken && tok != "" {
		var a *app
		for _, x := range st.apps {
			if x.scim {
				a = x
			}
		}
		return &principal{kind: kindSCIM, key: "scim", app: a, scopes: a.scopes, upper: a.scopes}, 0, ""
	}
	if a := st.appByToken[tok]; a != nil {
		return &principal{kind: kindIntegration, key: "app:" + a.uuid, app: a, scopes: a.scopes, upper: a.scopes}, 0, ""
	}
	if t := st.orgTokenByVal[tok]; t != nil {
		if !t.active {
			return nil, http.StatusUnauthorized, "Invalid org token"
		}
		return &principal{kind: kindOrgToken, key: "orgtoken:" + fmt.Sprint(t.id), scopes: []string{"org:ci"},
			upper: []string{"org:ci"}}, 0, ""
	}
	return nil, http.StatusUnauthorized, msgInvalidToken
}

// allowRate counts the request in its caller+endpoint fixed window and
// reports whether it is within the limit, setting Sentry's headers when
// configured.
func (s *Server) allowRate(w http.ResponseWriter, caller, endpoint string) bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	rl := s.limit
	if rl.PerWindow <= 0 {
		return true
	}
	now := s.now()
	start := now.Truncate(rl.Window)
	key := caller + " " + endpoint
	win := s.windows[key]
	if win == nil || !win.start.Equal(start) {
		win = &window{start: start}
		s.windows[key] = win
	}
	win.count++
	allowed := win.count <= rl.PerWindow
	if rl.Headers {
		h := w.Header()
		h.Set("X-Sentry-Rate-Limit-Limit", fmt.Sprint(rl.PerWindow))
		h.Set("X-Sentry-Rate-Limit-Remaining", fmt.Sprint(max(0, rl.PerWindow-win.count)))
		h.Set("X-Sentry-Rate-Limit-Reset", fmt.Sprint(start.Add(rl.Window).Unix()))
		h.Set("X-Sentry-Rate-Limit-ConcurrentLimit", "100")
		h.Set("X-Sentry-Rate-Limit-ConcurrentRemaining", "99")
	}
	return allowed
}

// injectFaults counts the request and applies the configured faults; false
// means the request has been answered (or dropped) by a fault.
func (s *Server) injectFaults(w http.ResponseWriter, r *http.Request, name string) bool {
	s.faultMu.Lock()
	s.reqCount++
	n := s.reqCount
	s.stats[name]++
	f := s.faults
	drop := f.DropRate > 0 && s.rng.Float64() < f.DropRate
	hang := f.TimeoutRate > 0 && s.rng.Float64() < f.TimeoutRate
	fail := slices.Contains(f.FailNth, n)
	status := 0
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		status = []int{500, 502, 503}[s.rng.IntN(3)]
	}
	s.faultMu.Unlock()

	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		case <-s.closed:
			t.Stop()
		}
	}
	switch {
	case drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return false
			}
		}
		panic(http.ErrAbortHandler)
	case hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		panic(http.ErrAbortHandler)
	case fail:
		status = http.StatusInternalServerError
	}
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": "Internal Error", "errorId": fmt.Sprintf("%032x", n)})
		return false
	}
	return true
}
