package httpui

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// HTTPMetrics records dashboard requests (*metrics.Metrics implements it).
type HTTPMetrics interface {
	ObserveHTTP(method, route string, status int, d time.Duration)
}

// ErrorReporter reports the dashboard's own server errors (5xx answers,
// panics) to an error tracker (*errreport.Reporter implements it).
type ErrorReporter interface {
	ReportError(r *http.Request, requestID, route string, err error)
}

// accessLog writes one line per request, records its metrics and reports
// server errors. It runs the error handler itself so that the status it
// logs is the one sent.
//
// A line carries request_id, method, route (the route template, e.g.
// "/members/:id", not the raw path), status, duration_ms and bytes. It
// deliberately omits the query string (search terms, emails) and the user:
// people's emails are personal data, and the SAML sign-in line already
// ties an email to a request ID once per login.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // the one error handler; marks the response committed
		}
		r := c.Request()
		status := c.Response().Status
		d := time.Since(start)
		route := c.Path()
		if s.deps.HTTPMetrics != nil {
			s.deps.HTTPMetrics.ObserveHTTP(r.Method, route, status, d)
		}
		if err != nil && status >= 500 && s.deps.ErrorReporter != nil {
			s.deps.ErrorReporter.ReportError(r, RequestID(r), route, err)
		}
		level := slog.LevelInfo
		if route == "/healthz" || route == "/readyz" || route == "/metrics" || route == "/static/*" {
			level = slog.LevelDebug
		}
		s.deps.Logger.LogAttrs(r.Context(), level, "http request",
			slog.String("request_id", RequestID(r)),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", c.Response().Size))
		return nil
	}
}

// LogHandler wraps h so that every record logged with a request's context
// (logger.InfoContext(ctx, …)) carries that request's request_id, unless
// the record or the logger already has one. cmd/sentry-access wraps its
// JSON handler with it, so service logs line up with access log lines.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{next: h} }

type requestIDHandler struct {
	next slog.Handler
	has  bool // a request_id attribute was added with WithAttrs
}

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if !h.has && ctx != nil {
		if id, ok := ctx.Value(ctxRequestID).(string); ok && id != "" {
			present := false
			rec.Attrs(func(a slog.Attr) bool {
				present = a.Key == "request_id"
				return !present
			})
			if !present {
				rec = rec.Clone()
				rec.AddAttrs(slog.String("request_id", id))
			}
		}
	}
	return h.next.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := h.has
	for _, a := range attrs {
		if a.Key == "request_id" {
			has = true
		}
	}
	return requestIDHandler{next: h.next.WithAttrs(attrs), has: has}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{next: h.next.WithGroup(name), has: h.has}
}
