package httpui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxIdentity
)

// RequestID returns the request's ID as set by the server's middleware, or
// "". Plug it into samlauth.Deps.RequestID so SAML log lines carry it.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(ctxRequestID).(string)
	return id
}

// IdentityFromContext returns the signed-in user of an authenticated
// request.
func IdentityFromContext(ctx context.Context) (samlauth.Identity, bool) {
	id, ok := ctx.Value(ctxIdentity).(samlauth.Identity)
	return id, ok
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// requestID takes a well-formed X-Request-Id from a proxy or makes one, and
// puts it in the response header and the request context.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), ctxRequestID, id)))
		return next(c)
	}
}

// contentSecurityPolicy allows only our own scripts and styles: no inline
// script, no inline style, no eval (htmx runs with allowEval=false and
// includeIndicatorStyles=false), no framing. form-action is left open
// because logout redirects the form post to the IdP.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// noCSPPaths are answered by crewjam/saml, which writes its own CSP (with a
// script hash) for its auto-submitting forms; a second, stricter policy
// would block them.
func noCSPPath(p string) bool {
	return p == "/login" || p == "/logout" || strings.HasPrefix(p, "/saml/")
}

// securityHeaders sets the headers every answer carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if !noCSPPath(c.Request().URL.Path) {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// crossOrigin refuses cross-site unsafe requests (Go's
// http.CrossOriginProtection, with only the SAML ACS/SLO exempt).
func (s *Server) crossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.cop.Check(c.Request()); err != nil {
			return fmt.Errorf("cross-origin protection (%v): %w", err, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "This request came from another site and was refused."))
		}
		return next(c)
	}
}

// isHTMX reports whether the request was made by htmx.
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// wantsFragment reports whether to answer with a fragment rather than a
// full page: an htmx request that is neither a history restore (which needs
// the whole page) nor a boosted navigation.
func wantsFragment(r *http.Request) bool {
	return isHTMX(r) && r.Header.Get("HX-History-Restore-Request") != "true" && r.Header.Get("HX-Boosted") != "true"
}

// returnPath is where to come back to after login: the page the browser is
// on (for htmx, HX-Current-URL on our host), else the request's own path
// for GET, else "/".
func returnPath(r *http.Request) string {
	if isHTMX(r) {
		if cu, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && cu.Host == r.Host {
			if p, ok := samlauth.SafeReturnPath(cu.RequestURI()); ok {
				return p
			}
		}
		return "/"
	}
	if r.Method == http.MethodGet {
		if p, ok := samlauth.SafeReturnPath(r.URL.RequestURI()); ok {
			return p
		}
	}
	return "/"
}

func loginURL(returnTo string) string {
	if returnTo == "" || returnTo == "/" {
		return "/login"
	}
	return "/login?" + url.Values{"return_to": {returnTo}}.Encode()
}

// requireAuth admits requests with a valid session. Without one, an htmx
// request gets 401 with HX-Redirect to the login (never a login page
// swapped into a fragment); a normal request is redirected to the login
// with a safe return path.
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id, err := s.deps.Sessions.Authenticate(c.Response(), r)
		if errors.Is(err, samlauth.ErrNoSession) {
			to := loginURL(returnPath(r))
			c.Response().Header().Add("Vary", "HX-Request")
			c.Response().Header().Set("Cache-Control", "no-store")
			if isHTMX(r) {
				c.Response().Header().Set("HX-Redirect", to)
				return c.NoContent(http.StatusUnauthorized)
			}
			return c.Redirect(http.StatusSeeOther, to)
		}
		if err != nil {
			return err
		}
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), ctxIdentity, id)))
		return next(c)
	}
}

// requireRole admits users whose dashboard role is at least min; it must
// run after requireAuth.
func requireRole(min sentryaccess.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, ok := IdentityFromContext(c.Request().Context())
			if !ok || !id.Role.AtLeast(min) {
				return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "This needs the %s role.", min)
			}
			return next(c)
		}
	}
}

// limitBody refuses bodies over MaxBodyBytes: 413 when Content-Length says
// so, and a read error (the form cannot be read) when a chunked body runs
// past it.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > MaxBodyBytes {
			return &echo.HTTPError{Code: http.StatusRequestEntityTooLarge, Message: "The request is too large."}
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxBodyBytes)
		}
		return next(c)
	}
}
