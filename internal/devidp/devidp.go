// Package devidp runs crewjam's samlidp as an embedded SAML identity
// provider for the demo and tests. It listens on 127.0.0.1 only, has one
// demo user per dashboard role (plus a second approver) with random
// passwords made at start, sends each user's role as a group
// (eduPersonAffiliation), and registers the dashboard SP in-process.
//
// It is not for production: its admin API is disabled, users live in
// memory and passwords are printed by the demo.
package devidp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Group names the demo users carry; RoleGroups maps them to roles.
const (
	GroupViewers   = "sentry-access-viewers"
	GroupApprovers = "sentry-access-approvers"
	GroupAdmins    = "sentry-access-admins"
)

// RoleGroups returns the dashboard role mapping for the demo groups, with
// no default role (a user outside the groups is refused).
func RoleGroups() samlauth.RoleGroups {
	return samlauth.RoleGroups{
		Viewer:   []string{GroupViewers},
		Approver: []string{GroupApprovers},
		Admin:    []string{GroupAdmins},
	}
}

// User is a demo user. Password is generated at start.
type User struct {
	Username  string // what to type in the IdP's login form
	Password  string
	Email     string
	Name      string
	GivenName string
	Surname   string
	Role      sentryaccess.Role
}

// demoUsers are members of the simulator's demo org "acme" (see
// internal/sentrysim demo fixture): an owner as dashboard admin, two
// managers as approvers and a member as viewer.
func demoUsers() []User {
	return []User{
		{Username: "olivia", Email: "olivia.owner@acme.test", GivenName: "Olivia", Surname: "Owner", Role: sentryaccess.RoleAdmin},
		{Username: "maya", Email: "maya.manager@acme.test", GivenName: "Maya", Surname: "Manager", Role: sentryaccess.RoleApprover},
		{Username: "marco", Email: "marco.mendes@acme.test", GivenName: "Marco", Surname: "Mendes", Role: sentryaccess.RoleApprover},
		{Username: "priya", Email: "priya.patel@acme.test", GivenName: "Priya", Surname: "Patel", Role: sentryaccess.RoleViewer},
	}
}

// loginForm is samlidp's login form (same fields) with a heading, labels
// and a note naming the users and where their passwords were printed.
func loginForm(users []User) *template.Template {
	var names []string
	for _, u := range users {
		names = append(names, u.Username+" ("+string(u.Role)+")")
	}
	note := "This is the built-in development IdP of the sentry-access demo. Its users are " + strings.Join(names, ", ") +
		"; their passwords were printed in the terminal where you started sentry-access demo (make demo), and change at every start."
	return template.Must(template.New("devidp-login").Parse(`<!DOCTYPE html>` +
		`<html lang="en"><head><meta charset="utf-8"><title>Sign in · sentry-access dev IdP</title></head>` +
		`<body><main><h1>Sign in to the sentry-access demo</h1>` +
		`<p data-testid="idp-logins-note">` + template.HTMLEscapeString(note) + `</p>` +
		`{{if .Toast}}<p role="alert">{{.Toast}}</p>{{end}}` +
		`<form method="post" action="{{.URL}}">` +
		`<p><label>Username <input type="text" name="user" autocomplete="username" value="" /></label></p>` +
		`<p><label>Password <input type="password" name="password" autocomplete="current-password" value="" /></label></p>` +
		`<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}" />` +
		`<input type="hidden" name="RelayState" value="{{.RelayState}}" />` +
		`<input type="submit" value="Sign in" />` +
		`</form></main></body></html>`))
}

func groupFor(r sentryaccess.Role) string {
	switch r {
	case sentryaccess.RoleAdmin:
		return GroupAdmins
	case sentryaccess.RoleApprover:
		return GroupApprovers
	}
	return GroupViewers
}

// Config configures the dev IdP.
type Config struct {
	// Addr is the listen address; it must be a loopback IP. "" means
	// 127.0.0.1:0 (an ephemeral port).
	Addr   string
	Now    func() time.Time
	Logger *slog.Logger
}

// IdP is a running dev identity provider.
type IdP struct {
	url   url.URL
	srv   *samlidp.Server
	http  *http.Server
	ln    net.Listener
	users []User
	done  chan error

	closeOnce sync.Once
	closeErr  error
}

// Start listens on cfg.Addr (127.0.0.1 only) and serves the IdP until
// Close or ctx ends.
func Start(ctx context.Context, cfg Config) (*IdP, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("dev IdP address %q must be a loopback IP and port", cfg.Addr)
	}
	key, cert, err := samlauth.GenerateKeyPair("sentry-access dev IdP", cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("dev IdP key: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dev IdP listen: %w", err)
	}
	u := url.URL{Scheme: "http", Host: ln.Addr().String()}
	srv, err := samlidp.New(samlidp.Options{
		URL:         u,
		Key:         key,
		Signer:      key,
		Certificate: cert,
		Store:       &samlidp.MemoryStore{},
		Logger:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelInfo),
		Clock:       samlauth.DSigClock(cfg.Now),
		// The login form says where the demo's logins are: they are made
		// at every start and printed by the demo, never shown here.
		LoginFormTemplate: loginForm(demoUsers()),
		// The admin API (users, services, sessions) is not served: the SP
		// is registered in-process by Register.
		AdminMiddleware: func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "admin API disabled", http.StatusForbidden)
			})
		},
	})
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("dev IdP: %w", err)
	}
	idp := &IdP{url: u, srv: srv, ln: ln, done: make(chan error, 1)}
	for _, du := range demoUsers() {
		pw, err := randomPassword()
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("hash demo password: %w", err)
		}
		du.Password = pw
		du.Name = du.GivenName + " " + du.Surname
		if err := srv.Store.Put("/users/"+du.Username, samlidp.User{
			Name: du.Username, HashedPassword: hash, Email: du.Email, CommonName: du.Name,
			GivenName: du.GivenName, Surname: du.Surname, Groups: []string{groupFor(du.Role)},
		}); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("store demo user %s: %w", du.Username, err)
		}
		idp.users = append(idp.users, du)
	}
	idp.http = &http.Server{Handler: noFavicon(srv), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { idp.done <- idp.http.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = idp.http.Close()
	}()
	return idp, nil
}

// noFavicon answers the browser's /favicon.ico request with 204 No Content
// (cacheable for a day) instead of samlidp's 404, which Chromium logs as a
// console error on every sign-in.
func noFavicon(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.Header().Set("Cache-Control", "public, max-age=86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func randomPassword() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// URL returns the IdP's base URL, e.g. "http://127.0.0.1:41234".
func (i *IdP) URL() string { return i.url.String() }

// MetadataURL returns the URL of the IdP metadata.
func (i *IdP) MetadataURL() string { return i.url.String() + "/metadata" }

// MetadataXML returns the IdP metadata document.
func (i *IdP) MetadataXML() ([]byte, error) {
	b, err := xml.MarshalIndent(i.srv.IDP.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal dev IdP metadata: %w", err)
	}
	return b, nil
}

// Users returns the demo users with their generated passwords.
func (i *IdP) Users() []User { return append([]User(nil), i.users...) }

// UserWithRole returns the first demo user with role r.
func (i *IdP) UserWithRole(r sentryaccess.Role) (User, bool) {
	for _, u := range i.users {
		if u.Role == r {
			return u, true
		}
	}
	return User{}, false
}

// Register makes the IdP accept the SP described by md.
func (i *IdP) Register(md *saml.EntityDescriptor) error {
	if md == nil {
		return errors.New("register SP with dev IdP: no metadata")
	}
	b, err := xml.Marshal(md)
	if err != nil {
		return fmt.Errorf("marshal SP metadata: %w", err)
	}
	req := httptest.NewRequest(http.MethodPut, "/services/dashboard", bytes.NewReader(b))
	req.SetPathValue("id", "dashboard")
	rec := httptest.NewRecorder()
	i.srv.HandlePutService(rec, req)
	if rec.Code != http.StatusNoContent {
		return fmt.Errorf("register SP with dev IdP: status %d: %s", rec.Code, rec.Body.String())
	}
	return nil
}

// Close stops the IdP.
func (i *IdP) Close() error {
	i.closeOnce.Do(func() {
		err := i.http.Close()
		if serr := <-i.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = fmt.Errorf("dev IdP serve: %w", serr)
		}
		i.closeErr = err
	})
	return i.closeErr
}
