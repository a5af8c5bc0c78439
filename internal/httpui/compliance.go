package httpui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/compliance"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/web"
)

// Compliance is the service behind the token, SCIM, SSO, posture and
// troubleshooting pages (*compliance.Service). Errors are
// sentryaccess.Errors: EINVALID (422), EUNAVAILABLE (503).
type Compliance interface {
	Tokens(ctx context.Context) (compliance.TokensView, error)
	RecordIntent(ctx context.Context, in compliance.IntentInput) (compliance.Suggestion, store.TokenIntent, error)
	SCIM(ctx context.Context) (compliance.SCIMView, error)
	SSO(ctx context.Context, acs, audience string) (compliance.SSOView, error)
	Posture(ctx context.Context) ([]compliance.PostureCheck, error)
	Troubleshoot(ctx context.Context) (compliance.TroubleshootView, error)
	CheckLive(ctx context.Context) (compliance.LiveCheck, error)
	DiagnoseProject(ctx context.Context, member, project string) (compliance.Diagnosis, error)
	Diagnose403(ctx context.Context, endpoint, scopes string) (compliance.Diagnosis, error)
}

// complianceSvc returns the compliance service or a 503 when none is wired.
func (s *Server) complianceSvc() (Compliance, error) {
	if s.deps.Compliance == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "The compliance pages are not configured.")
	}
	return s.deps.Compliance, nil
}

func (s *Server) handleTokens(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	v, err := svc.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	id, _ := IdentityFromContext(c.Request().Context())
	pv := web.TokensPageView{TokensView: v, CanRecord: id.Role.AtLeast(sentryaccess.RoleApprover)}
	return s.page(c, http.StatusOK, "Tokens", web.NavTokens, web.TokensPage(pv, web.IntentForm{}))
}

// handleRecordIntent records a token intent (approver and up). htmx gets
// the suggestion fragment (or the form with a 422); a plain form post is
// redirected back to the token page.
func (s *Server) handleRecordIntent(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, _ := IdentityFromContext(ctx)
	form := web.IntentForm{Purpose: c.FormValue("purpose"), Environment: c.FormValue("environment"),
		Note: c.FormValue("note"), Expires: strings.TrimSpace(c.FormValue("expires"))}
	in := compliance.IntentInput{Purpose: form.Purpose, Environment: form.Environment, Note: form.Note, RecordedBy: id.Email}
	if form.Expires != "" {
		t, perr := time.Parse("2006-01-02", form.Expires)
		if perr != nil {
			return s.intentInvalid(c, svc, form, "The expiry must be a date (YYYY-MM-DD).")
		}
		in.ExpiresAt = &t
	}
	sug, _, err := svc.RecordIntent(ctx, in)
	if sentryaccess.ErrorCode(err) == sentryaccess.EINVALID {
		return s.intentInvalid(c, svc, form, sentryaccess.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	if !isHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/tokens")
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusOK, web.IntentRecorded(sug))
}

func (s *Server) intentInvalid(c echo.Context, svc Compliance, form web.IntentForm, msg string) error {
	if !isHTMX(c.Request()) {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "%s", msg)
	}
	v, err := svc.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	form.Error = msg
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusUnprocessableEntity, web.IntentFormView(v, form))
}

func (s *Server) handleSCIM(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	var pages [3]int // members, findings, groups
	for i, name := range []string{"page", "findings", "groups"} {
		if pages[i], err = intParam(c, name); err != nil {
			return err
		}
	}
	v, err := svc.SCIM(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "SCIM", web.NavSCIM, web.SCIMPage(web.SCIMPages(v, pages[0], pages[1], pages[2])))
}

func (s *Server) handleSSO(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	v, err := svc.SSO(c.Request().Context(), strings.TrimSpace(c.QueryParam("acs")), strings.TrimSpace(c.QueryParam("audience")))
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "SSO", web.NavSSO, web.SSOPage(v))
}

// handleSSOCheck runs the SAML checker: the results fragment for htmx,
// the whole SSO page otherwise.
func (s *Server) handleSSOCheck(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	v, err := svc.SSO(c.Request().Context(), strings.TrimSpace(c.QueryParam("acs")), strings.TrimSpace(c.QueryParam("audience")))
	if err != nil {
		return err
	}
	return s.fragmentOr(c, "SSO", web.NavSSO, web.SSOChecks(v.Checks), web.SSOPage(v))
}

func (s *Server) handlePosture(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	v, err := svc.Posture(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Security posture", web.NavPosture, web.PosturePage(v))
}

func (s *Server) handleTroubleshoot(c echo.Context) error {
	return s.troubleshootPage(c, http.StatusOK, web.TroubleshootAnswers{})
}

// troubleshootPage renders the troubleshooting page with a's forms and
// answers.
func (s *Server) troubleshootPage(c echo.Context, status int, a web.TroubleshootAnswers) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	v, err := svc.Troubleshoot(c.Request().Context())
	if err != nil {
		return err
	}
	// Asking Sentry is for approvers and admins (routes.go).
	v.CanCheckLive = v.CanCheckLive && actor(c).Role.AtLeast(sentryaccess.RoleApprover)
	return s.page(c, status, "Troubleshoot", web.NavTroubleshoot, web.TroubleshootPage(v, a))
}

// handleTroubleshootLive runs the checks against the configured Sentry
// (on demand only: page views show the last result) and answers the
// results fragment, or, without htmx, the page.
func (s *Server) handleTroubleshootLive(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	lc, err := svc.CheckLive(c.Request().Context())
	if err != nil {
		return err
	}
	if !wantsFragment(c.Request()) {
		return redirectAfterPost(c, "/troubleshoot#ts-live")
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusOK, web.LiveCheckView(&lc, true))
}

// diagnosisAnswer answers a troubleshooting form: the diagnosis fragment
// for htmx; opened directly, the troubleshooting page with the form as
// asked and its answer (or why it could not be answered) in place, and
// just the page when nothing was asked.
func (s *Server) diagnosisAnswer(c echo.Context, a web.TroubleshootAnswers, asked bool, d compliance.Diagnosis, err error, set func(*web.TroubleshootAnswers, templ.Component)) error {
	if wantsFragment(c.Request()) {
		if err != nil {
			return err
		}
		c.Response().Header().Add("Vary", "HX-Request")
		return s.render(c, http.StatusOK, web.DiagnosisView(d))
	}
	if !asked {
		return s.troubleshootPage(c, http.StatusOK, a)
	}
	if err != nil {
		status, msg := classify(err)
		if status != http.StatusUnprocessableEntity {
			return err
		}
		set(&a, web.Flash(web.FlashError, msg, RequestID(c.Request())))
		return s.troubleshootPage(c, status, a)
	}
	set(&a, web.DiagnosisView(d))
	return s.troubleshootPage(c, http.StatusOK, a)
}

// handleDiagnoseProject answers "a user cannot see a project".
func (s *Server) handleDiagnoseProject(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	a := web.TroubleshootAnswers{Member: strings.TrimSpace(c.QueryParam("member")), Project: strings.TrimSpace(c.QueryParam("project"))}
	asked := a.Member != "" || a.Project != ""
	d, err := svc.DiagnoseProject(c.Request().Context(), a.Member, a.Project)
	if err == nil && d.ChangeURL != "" {
		may, merr := s.mayRequest(c, d.ChangeSteps)
		if merr != nil {
			return merr
		}
		if !may[0] {
			d.ChangeURL, d.ChangeSteps = "", nil
			d.Fix += " " + askAnApprover
		}
	}
	return s.diagnosisAnswer(c, a, asked, d, err, func(a *web.TroubleshootAnswers, r templ.Component) { a.ProjectResult = r })
}

// handleDiagnose403 answers "a 403 on a team or member endpoint".
func (s *Server) handleDiagnose403(c echo.Context) error {
	svc, err := s.complianceSvc()
	if err != nil {
		return err
	}
	a := web.TroubleshootAnswers{Endpoint: c.QueryParam("endpoint"), Scopes: c.QueryParam("scopes")}
	d, err := svc.Diagnose403(c.Request().Context(), a.Endpoint, a.Scopes)
	return s.diagnosisAnswer(c, a, a.Endpoint != "", d, err, func(a *web.TroubleshootAnswers, r templ.Component) { a.ForbiddenResult = r })
}

// fragmentOr renders fragment for an htmx fragment request and page
// inside the layout otherwise.
func (s *Server) fragmentOr(c echo.Context, title string, nav web.NavKey, fragment, page templ.Component) error {
	if wantsFragment(c.Request()) {
		c.Response().Header().Add("Vary", "HX-Request")
		return s.render(c, http.StatusOK, fragment)
	}
	return s.page(c, http.StatusOK, title, nav, page)
}
