package httpui

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/web"
)

// recoverPanics turns a handler panic into a 500 through the error handler.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic serving %s: %v", c.Request().URL.Path, p)
			}
		}()
		return next(c)
	}
}

// handleFavicon answers the browser's /favicon.ico guess on pages without
// our layout (the SAML form pages) with the SVG icon's cacheable path.
func (s *Server) handleFavicon(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Redirect(http.StatusMovedPermanently, s.deps.Assets.Path("favicon.svg"))
}

func (s *Server) handleHealthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

func (s *Server) handleReadyz(c echo.Context) error {
	if s.deps.Ready != nil {
		if err := s.deps.Ready(c.Request().Context()); err != nil {
			s.deps.Logger.WarnContext(c.Request().Context(), "not ready", "err", err)
			return c.String(http.StatusServiceUnavailable, "not ready")
		}
	}
	return c.String(http.StatusOK, "ready")
}

// handleLogin starts SP-initiated login; a user who is already signed in
// goes straight to the return path.
func (s *Server) handleLogin(c echo.Context) error {
	r := c.Request()
	returnTo, ok := samlauth.SafeReturnPath(c.QueryParam("return_to"))
	if !ok {
		returnTo = "/"
	}
	if _, err := s.deps.Sessions.Authenticate(c.Response(), r); err == nil {
		return c.Redirect(http.StatusSeeOther, returnTo)
	}
	s.deps.SAML.StartLogin(c.Response(), r, returnTo)
	return nil
}

func (s *Server) handleLogout(c echo.Context) error {
	s.deps.SAML.Logout(c.Response(), c.Request())
	return nil
}

func (s *Server) handleSignedOut(c echo.Context) error {
	return s.bare(c, http.StatusOK, "Signed out", web.SignedOut())
}
