package session_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/session"
	"github.com/sentry-access/sentry-access/internal/store"
)

func newManager(t *testing.T, base string, now func() time.Time) *session.Manager {
	t.Helper()
	m, err := session.New(session.Config{BaseURL: base, HashKey: bytes.Repeat([]byte{7}, 64), BlockKey: bytes.Repeat([]byte{9}, 32),
		IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// begin starts a session and returns a request carrying its cookie.
func begin(t *testing.T, m *session.Manager, base string) (*http.Cookie, *http.Request) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := m.Begin(w, httptest.NewRequest(http.MethodGet, base+"/saml/acs", nil), samlauth.Identity{Email: "ana@acme.test", Role: sentryaccess.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %d, want 1", len(cookies))
	}
	r := httptest.NewRequest(http.MethodGet, base+"/", nil)
	r.AddCookie(cookies[0])
	return cookies[0], r
}

func TestCookieFlagsFollowTheBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base       string
		wantName   string
		wantSecure bool
	}{
		{"https://access.acme.test", "__Host-sa_session", true},
		{"http://127.0.0.1:8080", "sa_session", false},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			t.Parallel()
			c, _ := begin(t, newManager(t, tt.base, time.Now), tt.base)
			if c.Name != tt.wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tt.wantSecure || c.Path != "/" || c.Domain != "" {
				t.Errorf("cookie %s: HttpOnly %v SameSite %v Secure %v Path %q Domain %q; want %s, HttpOnly, Lax, Secure %v, /, no domain",
					c.Name, c.HttpOnly, c.SameSite, c.Secure, c.Path, c.Domain, tt.wantName, tt.wantSecure)
			}
		})
	}
}

func TestSessionsExpireOnTheServerByIdleAndAbsoluteTimeouts(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		elapsed time.Duration
		wantErr error
	}{
		{"fresh", 5 * time.Minute, nil},
		{"idle too long", 11 * time.Minute, session.ErrExpired},
		{"older than the absolute timeout", 61 * time.Minute, session.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := start
			m := newManager(t, "https://a.test", func() time.Time { return now })
			_, r := begin(t, m, "https://a.test")
			// The cookie was read before (its decoded values are reused):
			// the timeouts are still checked.
			if _, err := m.Current(r); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tt.elapsed)
			id, err := m.Current(r)
			if tt.wantErr == nil {
				if err != nil || id.Email != "ana@acme.test" || id.Role != sentryaccess.RoleAdmin {
					t.Errorf("Current() = %+v, %v; want ana@acme.test admin", id, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, samlauth.ErrNoSession) {
				t.Errorf("Current() err = %v, want %v and ErrNoSession", err, tt.wantErr)
			}
		})
	}
}

func TestATamperedCookieIsNoSession(t *testing.T) {
	t.Parallel()
	m := newManager(t, "https://a.test", time.Now)
	c, _ := begin(t, m, "https://a.test")
	r := httptest.NewRequest(http.MethodGet, "https://a.test/", nil)
	flip := byte('A')
	if c.Value[5] == 'A' {
		flip = 'B'
	}
	c.Value = c.Value[:5] + string(flip) + c.Value[6:]
	r.AddCookie(c)
	if _, err := m.Current(r); !errors.Is(err, samlauth.ErrNoSession) {
		t.Errorf("Current() err = %v, want ErrNoSession", err)
	}
}

func TestEndDeletesTheCookie(t *testing.T) {
	t.Parallel()
	m := newManager(t, "https://a.test", time.Now)
	w := httptest.NewRecorder()
	if err := m.End(w, httptest.NewRequest(http.MethodPost, "https://a.test/logout", nil)); err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != "__Host-sa_session" || c[0].MaxAge >= 0 {
		t.Errorf("cookies = %+v, want __Host-sa_session with a negative MaxAge", c)
	}
}

func TestConfigValidateReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	err := session.Config{BaseURL: "nope", HashKey: []byte("short"), BlockKey: []byte("x"), IdleTimeout: 2 * time.Hour, AbsoluteTimeout: time.Hour}.Validate()
	for _, want := range []string{"base URL", "hash key", "block key", "idle timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "short") {
		t.Error("Validate() prints the key")
	}
}

func TestACookieCopiedBeforeLogoutNoLongerAuthenticates(t *testing.T) {
	t.Parallel()
	m := newManager(t, "https://a.test", time.Now)
	_, ended := begin(t, m, "https://a.test")
	_, other := begin(t, m, "https://a.test")
	if _, err := m.Current(ended); err != nil {
		t.Fatalf("before logout: Current() err = %v", err)
	}
	logout := httptest.NewRequest(http.MethodPost, "https://a.test/logout", nil)
	for _, c := range ended.Cookies() {
		logout.AddCookie(c)
	}
	if err := m.End(httptest.NewRecorder(), logout); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Current(ended); !errors.Is(err, samlauth.ErrNoSession) {
		t.Errorf("the ended session's cookie: Current() err = %v, want ErrNoSession", err)
	}
	if id, err := m.Current(other); err != nil || id.Email != "ana@acme.test" {
		t.Errorf("another session of the same user: Current() = %+v, %v; want it still signed in", id, err)
	}
}

// A logout is kept in the store until the session's absolute expiry: a
// cookie copied before it is refused by the next process too.
func TestALogoutSurvivesARestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sentry-access.db")
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	open := func() (*store.Store, *session.Manager) {
		st, err := store.Open(path, store.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		m, err := session.New(session.Config{BaseURL: "https://a.test", HashKey: bytes.Repeat([]byte{7}, 64), BlockKey: bytes.Repeat([]byte{9}, 32),
			IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour, Revocations: st.SessionRevocations()}, now)
		if err != nil {
			t.Fatal(err)
		}
		return st, m
	}
	st, m := open()
	_, copied := begin(t, m, "https://a.test")
	_, kept := begin(t, m, "https://a.test")
	logout := httptest.NewRequest(http.MethodPost, "https://a.test/logout", nil)
	for _, c := range copied.Cookies() {
		logout.AddCookie(c)
	}
	if err := m.End(httptest.NewRecorder(), logout); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// The restarted dashboard, same keys, same store file.
	st, m = open()
	defer st.Close()
	if _, err := m.Current(copied); !errors.Is(err, samlauth.ErrNoSession) {
		t.Errorf("after a restart the ended session's cookie: Current() err = %v, want ErrNoSession", err)
	}
	if id, err := m.Current(kept); err != nil || id.Email != "ana@acme.test" {
		t.Errorf("after a restart another session: Current() = %+v, %v; want it still signed in", id, err)
	}
	if n, err := st.SessionRevocations().Len(t.Context()); err != nil || n != 1 {
		t.Errorf("revocations kept = %d, %v; want 1", n, err)
	}
	// Past the session's absolute expiry the entry is pruned at the next
	// logout: the cookie is refused by its own timeout from then on.
	clock = clock.Add(time.Hour + time.Minute)
	_, later := begin(t, m, "https://a.test")
	logout = httptest.NewRequest(http.MethodPost, "https://a.test/logout", nil)
	for _, c := range later.Cookies() {
		logout.AddCookie(c)
	}
	if err := m.End(httptest.NewRecorder(), logout); err != nil {
		t.Fatal(err)
	}
	if n, err := st.SessionRevocations().Len(t.Context()); err != nil || n != 1 {
		t.Errorf("revocations kept after the first one's expiry = %d, %v; want only the new one", n, err)
	}
	if _, err := m.Current(copied); !errors.Is(err, samlauth.ErrNoSession) {
		t.Errorf("past its expiry the ended session's cookie: Current() err = %v, want ErrNoSession", err)
	}
}
