package httpui

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/unapproved"
	"github.com/sentry-access/sentry-access/web"
)

// Unapproved is the detection of changes made outside sentry-access
// (*unapproved.Service). It decides who may accept or revert what; its
// errors are sentryaccess.Errors: ENOTFOUND (404), EFORBIDDEN (403),
// EINVALID (422), ECONFLICT (409).
type Unapproved interface {
	List(ctx context.Context, f unapproved.Filter) ([]unapproved.Finding, error)
	Get(ctx context.Context, id string) (*unapproved.Finding, error)
	Accept(ctx context.Context, actor sentryaccess.Actor, id, note string) (*unapproved.Finding, error)
	DraftRevert(ctx context.Context, actor sentryaccess.Actor, id string) (unapproved.RevertDraft, error)
	Revert(ctx context.Context, actor sentryaccess.Actor, id, title, justification string) (*changes.Request, error)
	RequestAudit(ctx context.Context, r *changes.Request) ([]unapproved.StepAudit, error)
}

// unapprovedSvc returns the service or a 503 when none is wired.
func (s *Server) unapprovedSvc() (Unapproved, error) {
	if s.deps.Unapproved == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Detection of changes made outside sentry-access is not configured.")
	}
	return s.deps.Unapproved, nil
}

// mayDecide reports whether the signed-in user is an approver or admin.
func mayDecide(c echo.Context) bool {
	return actor(c).Role.AtLeast(sentryaccess.RoleApprover)
}

// outside is the flagged findings f selects, for a member, team or project
// page; none when detection is not wired.
func (s *Server) outside(c echo.Context, f unapproved.Filter) (web.OutsideView, error) {
	v := web.OutsideView{CanDecide: mayDecide(c)}
	if s.deps.Unapproved == nil {
		return v, nil
	}
	fs, err := s.deps.Unapproved.List(c.Request().Context(), f)
	v.Findings = fs
	return v, err
}

// outsideFinding is the Overview's finding: the changes still flagged.
func (s *Server) outsideFinding(ctx context.Context) (explore.Finding, bool, error) {
	if s.deps.Unapproved == nil {
		return explore.Finding{}, false, nil
	}
	fs, err := s.deps.Unapproved.List(ctx, unapproved.Filter{})
	if err != nil {
		return explore.Finding{}, false, err
	}
	return explore.Finding{Kind: "unapproved", Label: "Changes made outside sentry-access", Count: len(fs),
		Href: "/outside", Warning: true}, true, nil
}

// outsideMarks are the findings of the snapshots a diff compares.
func (s *Server) outsideMarks(c echo.Context, d explore.SnapshotDiff) (web.OutsideMarks, error) {
	if s.deps.Unapproved == nil || d.From.ID >= d.To.ID {
		return web.NewOutsideMarks(nil, false), nil
	}
	fs, err := s.deps.Unapproved.List(c.Request().Context(), unapproved.Filter{All: true, After: d.From.ID, Upto: d.To.ID})
	return web.NewOutsideMarks(fs, mayDecide(c)), err
}

// requestAudit is the request page's Sentry audit entries.
func (s *Server) requestAudit(ctx context.Context, r *changes.Request) ([]unapproved.StepAudit, error) {
	if s.deps.Unapproved == nil {
		return nil, nil
	}
	return s.deps.Unapproved.RequestAudit(ctx, r)
}

// handleUnapprovedList is /outside (?all=1 also lists the answered ones).
func (s *Server) handleUnapprovedList(c echo.Context) error {
	svc, err := s.unapprovedSvc()
	if err != nil {
		return err
	}
	all, err := boolParam(c, "all")
	if err != nil {
		return err
	}
	fs, err := svc.List(c.Request().Context(), unapproved.Filter{All: all})
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Changes made outside sentry-access", web.NavOverview,
		web.OutsideList(web.OutsideListView{Findings: fs, All: all, CanDecide: mayDecide(c)}))
}

// handleUnapproved is /outside/:id.
func (s *Server) handleUnapproved(c echo.Context) error {
	svc, err := s.unapprovedSvc()
	if err != nil {
		return err
	}
	f, err := svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Made outside sentry-access", web.NavOverview,
		web.OutsideDetail(web.OutsideDetailView{Finding: *f, CanDecide: mayDecide(c)}))
}

// handleUnapprovedAccept accepts a finding with the posted note.
func (s *Server) handleUnapprovedAccept(c echo.Context) error {
	svc, err := s.unapprovedSvc()
	if err != nil {
		return err
	}
	f, err := svc.Accept(c.Request().Context(), actor(c), c.Param("id"), c.FormValue("note"))
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectAfterPost(c, "/outside/"+url.PathEscape(f.ID))
}

// handleUnapprovedRevertForm is the prefilled change request reverting a
// finding.
func (s *Server) handleUnapprovedRevertForm(c echo.Context) error {
	svc, err := s.unapprovedSvc()
	if err != nil {
		return err
	}
	d, err := svc.DraftRevert(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Revert a change made outside sentry-access", web.NavChanges,
		web.OutsideRevert(web.OutsideRevertView{RevertDraft: d}))
}

// handleUnapprovedRevert files the revert request: HX-Redirect to it, or
// a 422 fragment naming what is wrong.
func (s *Server) handleUnapprovedRevert(c echo.Context) error {
	svc, err := s.unapprovedSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := svc.Revert(ctx, actor(c), c.Param("id"), c.FormValue("title"), c.FormValue("justification"))
	if r != nil && err != nil {
		// Filed, but the finding could not be marked: the request is what
		// the approver must see; the next sync's detection explains the
		// inverse change by it.
		s.deps.Logger.ErrorContext(ctx, "mark a finding reverting", "request", r.ID, "err", err)
	} else if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}
