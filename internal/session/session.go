// Package session keeps the dashboard's login session in a signed and
// encrypted gorilla/sessions cookie ("sa_session"). It implements
// samlauth.Sessions, so a SAML login ends in this cookie, and enforces an
// idle and an absolute timeout on the server from timestamps stored in the
// session (the cookie's own Max-Age is only a hint to the browser).
package session

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/sessions"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// CookieName is the name of the dashboard session cookie over http.
const CookieName = "sa_session"

// SecureCookieName is its name over https: the __Host- prefix makes the
// browser refuse the cookie unless it is Secure, has Path=/ and no Domain,
// so a sibling subdomain cannot plant or overwrite it.
const SecureCookieName = "__Host-" + CookieName

// Session value keys.
const (
	keyIdentity = "id"
	keyCreated  = "created"
	keySeen     = "seen"
	keySID      = "sid"
)

// ErrExpired is returned (wrapped, and matching samlauth.ErrNoSession) when a
// session exceeded its idle or absolute timeout.
var ErrExpired = errors.New("session expired")

// Config configures the session cookie. Keys are secrets: they are never
// logged and Config has no String method that would print them.
type Config struct {
	// BaseURL decides the Secure flag: https → Secure.
	BaseURL string
	// HashKey authenticates the cookie (HMAC-SHA256): 32 or 64 bytes.
	HashKey []byte
	// BlockKey encrypts it (AES-256): 32 bytes.
	BlockKey []byte
	// IdleTimeout ends a session not used for this long (default 30 min).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after login (default 12 h).
	AbsoluteTimeout time.Duration
	// Revocations keeps the sessions ended by logout until their absolute
	// timeout; the dashboard passes the store's (store.SessionRevocations),
	// so a logout survives a restart. Nil keeps them in memory, which a
	// restart forgets (tests).
	Revocations Revocations
	// Logins, when set, is told of every sign-in (Begin) before the
	// session starts: the dashboard records who signed in with which role
	// (store.DashboardUsers), all it knows of its approvers.
	Logins Logins
}

// Logins records sign-ins.
type Logins interface {
	RecordLogin(ctx context.Context, email, name string, role sentryaccess.Role, at time.Time) error
}

// Revocations remembers ended sessions. Revoke records session id as
// ended until until (when its cookie would expire anyway); Revoked reports
// whether id is still recorded as ended. Both are safe for concurrent use.
type Revocations interface {
	Revoke(ctx context.Context, id string, until time.Time) error
	Revoked(ctx context.Context, id string) (bool, error)
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		errs = append(errs, fmt.Errorf("session: base URL %q must be an absolute http(s) URL", c.BaseURL))
	}
	if n := len(c.HashKey); n != 32 && n != 64 {
		errs = append(errs, fmt.Errorf("session: hash key must be 32 or 64 bytes, got %d", n))
	}
	if n := len(c.BlockKey); n != 32 {
		errs = append(errs, fmt.Errorf("session: block key must be 32 bytes, got %d", n))
	}
	if c.IdleTimeout < 0 || c.AbsoluteTimeout < 0 {
		errs = append(errs, errors.New("session: timeouts must not be negative"))
	}
	idle, abs := c.timeouts()
	if idle > abs {
		errs = append(errs, fmt.Errorf("session: idle timeout %s exceeds absolute timeout %s", idle, abs))
	}
	return errors.Join(errs...)
}

func (c Config) timeouts() (idle, abs time.Duration) {
	idle, abs = c.IdleTimeout, c.AbsoluteTimeout
	if idle == 0 {
		idle = 30 * time.Minute
	}
	if abs == 0 {
		abs = 12 * time.Hour
	}
	return idle, abs
}

// Manager reads and writes the session cookie. It implements
// samlauth.Sessions and is safe for concurrent use.
//
// A signed cookie stays valid until it expires, so End also records the
// ended session's id (Config.Revocations) until its absolute timeout: a
// copy of the cookie taken before logout (another tab, a proxy log, a
// stolen cookie) no longer authenticates, also after a restart when the
// record is the store's. When the record cannot be read a session is
// refused (fail closed).
type Manager struct {
	store   *sessions.CookieStore
	now     func() time.Time
	idle    time.Duration
	abs     time.Duration
	secure  bool
	revoked Revocations
	decoded decodedCookies
	logins  Logins
}

var _ samlauth.Sessions = (*Manager)(nil)

// maxDecoded bounds the decoded cookies remembered (then they are
// forgotten all at once).
const maxDecoded = 4096

// decodedCookies remembers the values of cookies that were authenticated
// (HMAC) and decrypted, by their exact value: decoding a session (AES and
// gob) costs more than rendering most pages, and every page view needs
// it. Only cookie values this Manager verified are remembered; every
// other check (revocation, idle and absolute timeout) runs on each
// request.
type decodedCookies struct {
	mu sync.Mutex
	m  map[string]map[any]any
}

func (d *decodedCookies) get(value string) (map[any]any, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[value]
	return v, ok
}

func (d *decodedCookies) put(value string, values map[any]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= maxDecoded {
		d.m = make(map[string]map[any]any)
	}
	d.m[value] = values
}

// New returns a Manager. now is the clock (nil: time.Now).
func New(cfg Config, now func() time.Time) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	u, _ := url.Parse(cfg.BaseURL)
	idle, abs := cfg.timeouts()
	store := sessions.NewCookieStore(cfg.HashKey, cfg.BlockKey)
	// MaxAge sets the codecs' timestamp check too; our own checks below use
	// the injected clock and are the ones that matter.
	store.MaxAge(int(abs.Seconds()))
	// gorilla/sessions 1.4 defaults to Secure, SameSite=None, not HttpOnly:
	// set every option explicitly.
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(abs.Seconds()),
		HttpOnly: true,
		Secure:   u.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
	rev := cfg.Revocations
	if rev == nil {
		rev = &memoryRevocations{now: now, until: map[string]time.Time{}}
	}
	return &Manager{store: store, now: now, idle: idle, abs: abs, secure: u.Scheme == "https", revoked: rev, logins: cfg.Logins}, nil
}

// cookieName is the session cookie's name for this base URL.
func (m *Manager) cookieName() string {
	if m.secure {
		return SecureCookieName
	}
	return CookieName
}

// Begin starts a new session for id, replacing any previous one.
func (m *Manager) Begin(w http.ResponseWriter, r *http.Request, id samlauth.Identity) error {
	s := sessions.NewSession(m.store, m.cookieName())
	opts := *m.store.Options
	s.Options = &opts
	s.IsNew = true
	b, err := json.Marshal(id)
	if err != nil {
		return fmt.Errorf("encode identity: %w", err)
	}
	if m.logins != nil {
		if err := m.logins.RecordLogin(r.Context(), id.Email, id.Name, id.Role, m.now()); err != nil {
			return fmt.Errorf("record the sign-in: %w", err)
		}
	}
	now := m.now().Unix()
	s.Values[keySID] = rand.Text()
	s.Values[keyIdentity] = string(b)
	s.Values[keyCreated] = now
	s.Values[keySeen] = now
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// End revokes the request's session, so the same cookie value is refused
// from now on, and deletes the cookie. The revocation is recorded before
// the cookie is deleted; when it cannot be, End returns the error.
func (m *Manager) End(w http.ResponseWriter, r *http.Request) error {
	if s, err := m.store.New(r, m.cookieName()); err == nil && !s.IsNew {
		if sid, _ := s.Values[keySID].(string); sid != "" {
			created, _ := s.Values[keyCreated].(int64)
			if err := m.revoked.Revoke(r.Context(), sid, time.Unix(created, 0).Add(m.abs)); err != nil {
				return fmt.Errorf("end session: %w", err)
			}
		}
	}
	opts := *m.store.Options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(m.cookieName(), "", &opts))
	return nil
}

// Current returns the identity of a valid session, or an error matching
// samlauth.ErrNoSession: no cookie, a cookie that fails authentication, or
// (also matching ErrExpired) an idle or absolute timeout passed.
func (m *Manager) Current(r *http.Request) (samlauth.Identity, error) {
	id, _, err := m.load(r)
	return id, err
}

// Authenticate is Current plus a refresh of the idle timer: when the
// last-seen stamp is older than a minute (or a tenth of the idle timeout,
// whichever is shorter) the cookie is rewritten. Call it once per
// authenticated request.
func (m *Manager) Authenticate(w http.ResponseWriter, r *http.Request) (samlauth.Identity, error) {
	id, s, err := m.load(r)
	if err != nil {
		return id, err
	}
	now := m.now()
	seen, _ := s.Values[keySeen].(int64)
	if now.Sub(time.Unix(seen, 0)) >= min(time.Minute, m.idle/10) {
		s.Values[keySeen] = now.Unix()
		if err := s.Save(r, w); err != nil {
			return id, fmt.Errorf("refresh session: %w", err)
		}
	}
	return id, nil
}

func (m *Manager) load(r *http.Request) (samlauth.Identity, *sessions.Session, error) {
	var id samlauth.Identity
	s, err := m.open(r)
	if err != nil || s.IsNew {
		return id, nil, fmt.Errorf("read session cookie: %w", samlauth.ErrNoSession)
	}
	raw, _ := s.Values[keyIdentity].(string)
	sid, _ := s.Values[keySID].(string)
	created, ok1 := s.Values[keyCreated].(int64)
	seen, ok2 := s.Values[keySeen].(int64)
	if raw == "" || sid == "" || !ok1 || !ok2 {
		return id, nil, fmt.Errorf("session cookie incomplete: %w", samlauth.ErrNoSession)
	}
	switch ended, err := m.revoked.Revoked(r.Context(), sid); {
	case err != nil:
		return id, nil, fmt.Errorf("read ended sessions: %w: %w", err, samlauth.ErrNoSession)
	case ended:
		return id, nil, fmt.Errorf("session ended by logout: %w", samlauth.ErrNoSession)
	}
	now := m.now()
	if now.Sub(time.Unix(created, 0)) > m.abs {
		return id, nil, fmt.Errorf("absolute timeout %s passed: %w: %w", m.abs, ErrExpired, samlauth.ErrNoSession)
	}
	if now.Sub(time.Unix(seen, 0)) > m.idle {
		return id, nil, fmt.Errorf("idle timeout %s passed: %w: %w", m.idle, ErrExpired, samlauth.ErrNoSession)
	}
	if err := json.Unmarshal([]byte(raw), &id); err != nil {
		return id, nil, fmt.Errorf("decode identity: %w", samlauth.ErrNoSession)
	}
	return id, s, nil
}

// open returns the request's session as the cookie store decodes it, from
// the values of an identical cookie decoded before when there is one.
func (m *Manager) open(r *http.Request) (*sessions.Session, error) {
	c, err := r.Cookie(m.cookieName())
	if err == nil {
		if values, ok := m.decoded.get(c.Value); ok {
			s := sessions.NewSession(m.store, m.cookieName())
			opts := *m.store.Options
			s.Options = &opts
			s.Values = maps.Clone(values)
			return s, nil
		}
	}
	// Get (not New) would cache in the request's gorilla registry; New
	// decodes fresh each time.
	s, err := m.store.New(r, m.cookieName())
	if err == nil && !s.IsNew && c != nil {
		m.decoded.put(c.Value, maps.Clone(s.Values))
	}
	return s, err
}

// memoryRevocations keeps ended sessions in memory (Config.Revocations
// nil).
type memoryRevocations struct {
	now   func() time.Time
	mu    sync.Mutex
	until map[string]time.Time // session id → when it expires anyway
}

// Revoke remembers id as ended until until, and forgets ended sessions
// whose cookies have expired anyway.
func (m *memoryRevocations) Revoke(_ context.Context, id string, until time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, exp := range m.until {
		if now.After(exp) {
			delete(m.until, k)
		}
	}
	m.until[id] = until
	return nil
}

// Revoked reports whether id was ended.
func (m *memoryRevocations) Revoked(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.until[id]
	return ok, nil
}
