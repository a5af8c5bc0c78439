package httpui

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// bindTrailQuery reads the trail search.
func bindTrailQuery(c echo.Context) (web.TrailQuery, changes.TrailFilter, error) {
	q := web.TrailQuery{Actor: trimmed(c.QueryParam("actor")), Kind: trimmed(c.QueryParam("kind")),
		Request: trimmed(c.QueryParam("request")), From: c.QueryParam("from"), To: c.QueryParam("to")}
	f := changes.TrailFilter{Actor: q.Actor, Kind: changes.TrailKind(q.Kind), RequestID: q.Request}
	if q.From != "" {
		t, err := time.Parse("2006-01-02", q.From)
		if err != nil {
			return q, f, sentryaccess.Errorf(sentryaccess.EINVALID, "from must be a date (YYYY-MM-DD).")
		}
		f.From = t
	}
	if q.To != "" {
		t, err := time.Parse("2006-01-02", q.To)
		if err != nil {
			return q, f, sentryaccess.Errorf(sentryaccess.EINVALID, "to must be a date (YYYY-MM-DD).")
		}
		f.To = t.Add(24 * time.Hour)
	}
	return q, f, nil
}

func trimmed(s string) string { return strings.TrimSpace(s) }

// handleTrail is the trail search, newest first, with the chain's status.
func (s *Server) handleTrail(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	q, f, err := bindTrailQuery(c)
	if err != nil {
		return err
	}
	res, err := svc.SearchTrail(c.Request().Context(), f)
	if err != nil {
		return err
	}
	slices.Reverse(res.Records) // newest first
	v := web.TrailView{TrailSearch: res, Query: q}
	return s.listPage(c, "Audit trail", web.NavTrail, web.TrailPage(v), "trail-results", web.TrailResults(v))
}

// handleTrailExport streams the searched trail as CSV or JSON, in append
// order with hashes, so an export can be verified offline.
func (s *Server) handleTrailExport(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	_, f, err := bindTrailQuery(c)
	if err != nil {
		return err
	}
	recs, err := svc.Trail(c.Request().Context(), f)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	w := c.Response()
	if strings.HasSuffix(c.Path(), ".csv") {
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="sentry-access-trail.csv"`)
		w.WriteHeader(http.StatusOK)
		return changes.WriteTrailCSV(w, recs)
	}
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set("Content-Disposition", `attachment; filename="sentry-access-trail.json"`)
	w.WriteHeader(http.StatusOK)
	return changes.WriteTrailJSON(w, recs)
}
