package httpui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// codeStatus is the one table from a domain code (sentryaccess.Code) to an
// HTTP status; the message shown is the error's own (sentryaccess.Error's
// Message), or safeMessage's for the status when it has none:
//
//	EINVALID      → 422
//	ENOTFOUND     → 404 (also for things the caller may not see)
//	EFORBIDDEN    → 403
//	ECONFLICT     → 409
//	EUNAVAILABLE  → 503
//	anything else → 500, always with the generic message
func codeStatus(code sentryaccess.Code) int {
	switch code {
	case sentryaccess.EINVALID:
		return http.StatusUnprocessableEntity
	case sentryaccess.ENOTFOUND:
		return http.StatusNotFound
	case sentryaccess.EFORBIDDEN:
		return http.StatusForbidden
	case sentryaccess.ECONFLICT:
		return http.StatusConflict
	case sentryaccess.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// safeMessage is what a user reads for an error of status that carries no
// message of its own.
func safeMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "This page does not exist, or you cannot see it."
	case http.StatusForbidden:
		return "You do not have access to this."
	case http.StatusMethodNotAllowed:
		return "This action is not allowed here."
	case http.StatusUnprocessableEntity:
		return "Some of the values are not valid."
	case http.StatusServiceUnavailable:
		return "The service is temporarily unavailable. Try again shortly."
	case http.StatusGatewayTimeout:
		return "The request took too long."
	}
	if status >= 500 {
		return "Something went wrong on our side."
	}
	return statusText(status)
}

// classify maps an error to a status and a message safe to show: echo's
// own errors (no route, method not allowed, body too large) by their
// status, the services' by their code (codeStatus). Only a
// sentryaccess.Error's Message is ever shown; any other error text stays in
// the log.
func classify(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, _ := he.Message.(string)
		if msg == "" || msg == statusText(he.Code) || he.Code >= 500 {
			msg = safeMessage(he.Code)
		}
		return he.Code, msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout, safeMessage(http.StatusGatewayTimeout)
	}
	code := sentryaccess.ErrorCode(err)
	status := codeStatus(code)
	if msg := sentryaccess.ErrorMessage(err); msg != "" && code != sentryaccess.EINTERNAL {
		return status, msg
	}
	return status, safeMessage(status)
}

// handleError is the one place errors become answers (docs/architecture.md, "Errors"): it
// logs once, with the request ID, and shows a safe message: a flash
// fragment for htmx requests, a full error page otherwise.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	r := c.Request()
	status, msg := classify(err)
	reqID := RequestID(r)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if status != http.StatusNotFound || level == slog.LevelError {
		s.deps.Logger.Log(r.Context(), level, "request failed",
			"status", status, "method", r.Method, "path", r.URL.Path, "request_id", reqID, "err", err)
	}
	var rerr error
	switch {
	case r.Method == http.MethodHead:
		rerr = c.NoContent(status)
	case isHTMX(r):
		c.Response().Header().Add("Vary", "HX-Request")
		rerr = s.render(c, status, web.Flash(web.FlashError, msg, reqID))
	default:
		content := web.ErrorContent(status, msg, reqID)
		if _, ok := IdentityFromContext(r.Context()); ok {
			rerr = s.page(c, status, statusText(status), web.NavNone, content)
		} else {
			rerr = s.bare(c, status, statusText(status), content)
		}
	}
	if rerr != nil {
		s.deps.Logger.ErrorContext(r.Context(), "write error page", "err", rerr, "request_id", reqID)
	}
}

// SAMLFailureRenderer returns the function samlauth.Deps.RenderFailure
// should be: it shows the SAML error page (with the arrived attribute
// names, if any) in the dashboard's look.
func SAMLFailureRenderer(assets Assets) func(w http.ResponseWriter, r *http.Request, f samlauth.Failure) {
	return func(w http.ResponseWriter, r *http.Request, f samlauth.Failure) {
		ch := web.Chrome{Title: "Sign-in failed", Assets: assetPaths(assets), RequestID: RequestID(r)}
		content := web.SAMLError(web.SAMLFailure{Title: f.Title, Message: f.Message, Arrived: f.Arrived, RequestID: ch.RequestID})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.WriteHeader(f.Status)
		_ = web.Bare(ch, content).Render(r.Context(), w) // a failed write means the client went away
	}
}
