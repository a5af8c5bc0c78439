package httpui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/web"
)

// AuditLog is the audit-log explorer (*auditlog.Service).
type AuditLog interface {
	Query(ctx context.Context, f store.AuditFilter) (auditlog.Page, error)
	Events(ctx context.Context) ([]string, error)
	Entry(ctx context.Context, id string) (sentry.AuditLogEntry, error)
	EmptyReason(ctx context.Context) (auditlog.Emptiness, error)
	Export(ctx context.Context, w io.Writer, format auditlog.Format, f store.AuditFilter) (auditlog.Summary, error)
}

// auditPageSize is the explorer's page size.
const auditPageSize = 50

func (s *Server) audit() (AuditLog, error) {
	if s.deps.Audit == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "The audit log is not configured.")
	}
	return s.deps.Audit, nil
}

// auditFilter reads the filter form. Dates are whole UTC days: "to"
// includes its whole day.
// auditFilterParams are the query parameters of the audit log's filter.
func auditFilterParams() []string { return []string{"event", "actor", "target", "from", "to"} }

func auditFilter(c echo.Context) (web.AuditFilterView, store.AuditFilter, error) {
	v := web.AuditFilterView{
		Event: strings.TrimSpace(c.QueryParam("event")), Actor: strings.TrimSpace(c.QueryParam("actor")),
		Target: strings.TrimSpace(c.QueryParam("target")), From: strings.TrimSpace(c.QueryParam("from")),
		To: strings.TrimSpace(c.QueryParam("to")),
	}
	f := store.AuditFilter{Event: v.Event, Actor: v.Actor, Target: v.Target, Cursor: c.QueryParam("cursor"), Limit: auditPageSize}
	if v.From != "" {
		t, err := time.Parse(time.DateOnly, v.From)
		if err != nil {
			return v, f, sentryaccess.Errorf(sentryaccess.EINVALID, "The start date must look like 2026-01-31.")
		}
		f.From = t
	}
	if v.To != "" {
		t, err := time.Parse(time.DateOnly, v.To)
		if err != nil {
			return v, f, sentryaccess.Errorf(sentryaccess.EINVALID, "The end date must look like 2026-01-31.")
		}
		f.To = t.Add(24*time.Hour - time.Nanosecond)
	}
	return v, f, nil
}

func (s *Server) handleAudit(c echo.Context) error {
	svc, err := s.audit()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	fv, f, err := auditFilter(c)
	if err != nil {
		return err
	}
	page, err := svc.Query(ctx, f)
	if err != nil {
		return err
	}
	events, err := svc.Events(ctx)
	if err != nil {
		return err
	}
	v := web.AuditView{Filter: fv, Events: events, Entries: page.Entries, Next: page.Next}
	from, to := auditlog.QuarterRange(s.deps.Now())
	v.QuarterFrom, v.QuarterTo = from.Format(time.DateOnly), to.Format(time.DateOnly)
	if len(page.Entries) == 0 && f.Cursor == "" {
		why, err := svc.EmptyReason(ctx)
		if err != nil {
			return err
		}
		v.Empty = why.Message
	}
	return s.page(c, http.StatusOK, "Audit log", web.NavAuditLog, web.AuditPage(v))
}

// handleAuditRows answers "load more" with the next page's rows.
func (s *Server) handleAuditRows(c echo.Context) error {
	if !wantsFragment(c.Request()) {
		return toPage(c, "/audit", auditFilterParams()...)
	}
	svc, err := s.audit()
	if err != nil {
		return err
	}
	fv, f, err := auditFilter(c)
	if err != nil {
		return err
	}
	page, err := svc.Query(c.Request().Context(), f)
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusOK, web.AuditRows(web.AuditView{Filter: fv, Entries: page.Entries, Next: page.Next}))
}

func (s *Server) handleAuditEntry(c echo.Context) error {
	svc, err := s.audit()
	if err != nil {
		return err
	}
	e, err := svc.Entry(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Audit entry", web.NavAuditLog, web.AuditEntryPage(e))
}

// handleAuditExport streams the export. The row count and SHA-256 are
// only known at the end, so they travel as HTTP trailers
// (X-Export-Rows, X-Export-SHA256; X-Export-Error if it failed midway); the page shows them through the
// summary endpoint, which computes them the same way.
func (s *Server) handleAuditExport(format auditlog.Format) echo.HandlerFunc {
	return func(c echo.Context) error {
		svc, err := s.audit()
		if err != nil {
			return err
		}
		_, f, err := auditFilter(c)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, format.ContentType())
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", auditlog.Filename(format, f, s.deps.Now())))
		h.Set("Cache-Control", "no-store")
		h.Set("Trailer", "X-Export-Rows, X-Export-SHA256, X-Export-Error")
		c.Response().WriteHeader(http.StatusOK)
		sum, err := svc.Export(c.Request().Context(), c.Response(), format, f)
		if err != nil {
			// The body has started: the trailers say the file is
			// incomplete, and the error handler logs the cause.
			h.Set("X-Export-Error", "the export failed before the end; the file is incomplete")
			return fmt.Errorf("audit export: %w", err)
		}
		h.Set("X-Export-Rows", strconv.Itoa(sum.Rows))
		h.Set("X-Export-SHA256", sum.SHA256)
		return nil
	}
}

// handleAuditExportSummary computes an export's row count and SHA-256
// without sending it, for the page.
func (s *Server) handleAuditExportSummary(c echo.Context) error {
	if !wantsFragment(c.Request()) {
		return toPage(c, "/audit", auditFilterParams()...)
	}
	svc, err := s.audit()
	if err != nil {
		return err
	}
	_, f, err := auditFilter(c)
	if err != nil {
		return err
	}
	format := auditlog.Format(c.QueryParam("format"))
	if !format.Valid() {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "Pick an export format: CSV, JSON or the quarterly review's JSON.")
	}
	sum, err := svc.Export(c.Request().Context(), io.Discard, format, f)
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusOK, web.AuditExportSummaryFragment(web.AuditExportSummary{
		Format: string(format), Filename: auditlog.Filename(format, f, s.deps.Now()), Rows: sum.Rows, Bytes: sum.Bytes, SHA256: sum.SHA256}))
}
