package httpui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// Changes is the change-request service (*changes.Service). Its errors are
// sentryaccess.Errors: ENOTFOUND (404), EFORBIDDEN (403), EINVALID (422)
// and ECONFLICT (409).
type Changes interface {
	Create(ctx context.Context, actor sentryaccess.Actor, in changes.NewRequest) (*changes.Request, error)
	Get(ctx context.Context, id string) (*changes.Request, error)
	List(ctx context.Context, f changes.RequestFilter) ([]changes.Request, error)
	PreviewNow(ctx context.Context, r *changes.Request) (*changes.Preview, error)
	Approve(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*changes.Request, error)
	Deny(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*changes.Request, error)
	Cancel(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*changes.Request, error)
	// Apply carries out an approved request; the server calls it in the
	// background once the last approval arrives.
	Apply(ctx context.Context, id string) (*changes.Request, error)
	Upcoming(ctx context.Context, now time.Time, d time.Duration) ([]changes.Grant, error)
	Grants(ctx context.Context, f changes.GrantFilter) ([]changes.Grant, error)
	RequestExtension(ctx context.Context, actor sentryaccess.Actor, grantID string, until time.Time, justification string) (*changes.Request, error)
	Trail(ctx context.Context, f changes.TrailFilter) ([]changes.TrailRecord, error)
	VerifyTrail(ctx context.Context) error
	PlanBlueprint(ctx context.Context, actor sentryaccess.Actor, bp *changes.Blueprint) ([]changes.Step, *changes.Preview, error)
	CreateFromBlueprint(ctx context.Context, actor sentryaccess.Actor, bp *changes.Blueprint, justification string) (*changes.Request, error)
	Policy() changes.Policy
}

// ChangeData is what the change pages read besides requests: the current
// snapshot (form choices, exports), Sentry's pending team access requests
// and a preview of steps not yet submitted.
type ChangeData interface {
	// Snapshot returns the current access snapshot.
	Snapshot(ctx context.Context) (*access.Snapshot, error)
	// AccessRequests returns Sentry's pending team access requests as last
	// synced; an error wrapping ENOTFOUND before the first sync.
	AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error)
	// Preview previews steps on the current snapshot for requester.
	Preview(ctx context.Context, steps []changes.Step, requester string) (changes.Preview, error)
}

// upcomingWindow is how far ahead the inbox lists expiring access.
const upcomingWindow = 14 * 24 * time.Hour

// changeRoutes registers the change-request, blueprint and trail pages.
func (s *Server) changeRoutes(app *echo.Group, approve roleRoutes) {
	app.GET("/changes", s.handleChanges)
	app.GET("/changes/new", s.handleChangeForm)
	app.GET("/changes/new/step", s.handleChangeStepRow)
	app.POST("/changes/preview", s.handleChangePreview)
	app.POST("/changes", s.handleChangeCreate)
	app.GET("/changes/:id", s.handleChange)
	app.POST("/changes/:id/cancel", s.handleChangeCancel)
	app.POST("/grants/:id/extend", s.handleGrantExtend)
	approve.POST("/changes/:id/approve", s.handleChangeApprove)
	approve.POST("/changes/:id/deny", s.handleChangeDeny)
	approve.POST("/access-requests/:id/:decision", s.handleAccessRequest)

	app.GET("/blueprints", s.handleBlueprints)
	app.POST("/blueprints/plan", s.handleBlueprintPlan)
	approve.POST("/blueprints/request", s.handleBlueprintRequest)
	app.GET("/blueprints/export.yaml", s.handleBlueprintExport)
	app.GET("/blueprints/export.tf", s.handleTerraformExport)

	// The trail holds every request's justification and Sentry's answers:
	// approvers and admins only.
	approve.GET("/trail", s.handleTrail)
	approve.GET("/trail/export.csv", s.handleTrailExport)
	approve.GET("/trail/export.json", s.handleTrailExport)
}

// changesSvc returns the services or a 503 when none is wired.
func (s *Server) changesSvc() (Changes, ChangeData, error) {
	if s.deps.Changes == nil || s.deps.ChangeData == nil {
		return nil, nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Change requests are not configured.")
	}
	return s.deps.Changes, s.deps.ChangeData, nil
}

// actor is the signed-in user as the changes package sees them.
func actor(c echo.Context) (sentryaccess.Actor, samlauth.Identity) {
	id, _ := IdentityFromContext(c.Request().Context())
	return id.Actor(), id
}

// redirect answers a successful POST: HX-Redirect for htmx, 303 otherwise.
func redirect(c echo.Context, to string) error {
	if isHTMX(c.Request()) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// invalid answers a validation error: the 422 fragment for htmx, the error
// page otherwise.
func invalid(c echo.Context, msg string) error {
	if !isHTMX(c.Request()) {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "%s", msg)
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return render(c, http.StatusUnprocessableEntity, web.FormError(msg))
}

// invalidOr turns an EINVALID error into a 422 fragment for htmx forms;
// the rest (403 forbidden, 409 conflict, 404) go to the error handler,
// which shows their reason as a flash.
func invalidOr(c echo.Context, err error) error {
	if sentryaccess.ErrorCode(err) == sentryaccess.EINVALID && isHTMX(c.Request()) {
		_, msg := classify(err)
		return invalid(c, msg)
	}
	return err
}

func (s *Server) handleChanges(c echo.Context) error {
	svc, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, id := actor(c)
	now := s.deps.Now()
	v := web.ChangesInboxView{Me: a.Email, CanApprove: id.Role.AtLeast(sentryaccess.RoleApprover), Now: now}
	all, err := svc.List(ctx, changes.RequestFilter{})
	if err != nil {
		return err
	}
	policy := svc.Policy()
	for i := range all {
		r := &all[i]
		if r.State == changes.StatePendingApproval && v.CanApprove && policy.CanDecide(a, r) == nil {
			v.AwaitingMe = append(v.AwaitingMe, *r)
		}
		if strings.EqualFold(r.Requester, a.Email) {
			v.Mine = append(v.Mine, *r)
		}
	}
	for i := range all {
		if len(v.Recent) < 20 && policy.CanView(a, &all[i]) {
			v.Recent = append(v.Recent, all[i])
		}
	}
	gs, err := svc.Upcoming(ctx, now, upcomingWindow)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if v.CanApprove || strings.EqualFold(g.Requester, a.Email) {
			v.Expiring = append(v.Expiring, g)
		}
	}
	ars, err := data.AccessRequests(ctx)
	switch {
	case err != nil:
		s.deps.Logger.WarnContext(ctx, "read Sentry access requests", "err", err, "request_id", RequestID(c.Request()))
		v.AccessRequestsNote = "Sentry's access requests have not been read yet (they arrive with the next full sync)."
	case len(ars) == 0:
		v.AccessRequestsNote = "Sentry has no pending team access request."
	}
	open := map[string]string{}
	for _, r := range all {
		if r.Source != changes.SourceAccessRequest || r.State.Final() {
			continue
		}
		for _, st := range r.Steps {
			if st.Params.AccessRequest != "" {
				open[st.Params.AccessRequest] = r.ID
			}
		}
	}
	for _, ar := range ars {
		av := web.SentryAccessRequestView{ID: ar.ID, MemberID: ar.Member.ID, Member: ar.Member.Email, Team: ar.Team.Slug, OpenRequest: open[ar.ID]}
		if ar.Requester != nil {
			av.Requester = ar.Requester.Email
		}
		v.AccessRequests = append(v.AccessRequests, av)
	}
	return s.page(c, http.StatusOK, "Change requests", web.NavChanges, web.ChangesInbox(v))
}

// formOptions builds the form's choices from the snapshot.
func formOptions(snap *access.Snapshot) web.StepOptions {
	o := web.StepOptions{Kinds: web.KindLabels()}
	if snap == nil {
		return o
	}
	for _, m := range snap.Members {
		o.Members = append(o.Members, web.Option{Value: m.ID, Label: m.Email})
	}
	sort.Slice(o.Members, func(i, j int) bool { return o.Members[i].Label < o.Members[j].Label })
	for _, t := range snap.Teams {
		o.Teams = append(o.Teams, web.Option{Value: t.Slug, Label: t.Slug})
	}
	sort.Slice(o.Teams, func(i, j int) bool { return o.Teams[i].Label < o.Teams[j].Label })
	for _, p := range snap.Projects {
		o.Projects = append(o.Projects, web.Option{Value: p.Slug, Label: p.Slug})
	}
	sort.Slice(o.Projects, func(i, j int) bool { return o.Projects[i].Label < o.Projects[j].Label })
	o.Roles = []web.Option{{Value: "contributor", Label: "team: contributor"}, {Value: "admin", Label: "team: admin"}}
	for _, r := range snap.OrgRoles {
		o.Roles = append(o.Roles, web.Option{Value: r.ID, Label: "org: " + r.ID})
	}
	return o
}

func selfMember(snap *access.Snapshot, email string) string {
	if snap == nil {
		return ""
	}
	for _, m := range snap.Members {
		if strings.EqualFold(m.Email, email) {
			return m.ID
		}
	}
	return ""
}

// formBase is the form view for the signed-in user, without rows.
func (s *Server) formBase(c echo.Context, data ChangeData) (web.ChangeFormView, *access.Snapshot, error) {
	snap, err := data.Snapshot(c.Request().Context())
	if err != nil {
		return web.ChangeFormView{}, nil, err
	}
	a, id := actor(c)
	v := web.ChangeFormView{Options: formOptions(snap), SelfEmail: a.Email, SelfID: selfMember(snap, a.Email),
		Viewer: !id.Role.AtLeast(sentryaccess.RoleApprover)}
	return v, snap, nil
}

// handleChangeForm is /changes/new, prefilled from ?member=&team=&project=.
func (s *Server) handleChangeForm(c echo.Context) error {
	_, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	v, _, err := s.formBase(c, data)
	if err != nil {
		return err
	}
	row := web.StepRow{Member: c.QueryParam("member"), Team: c.QueryParam("team"), Project: c.QueryParam("project")}
	switch k := changes.Kind(c.QueryParam("kind")); {
	case slices.Contains(changes.Kinds(), k):
		row.Kind = string(k)
	case row.Team != "" && row.Project != "":
		row.Kind = string(changes.KindProjectLink)
	default:
		row.Kind = string(changes.KindTeamAdd)
	}
	if v.Viewer {
		// The policy lets a viewer ask only for herself: a link naming
		// someone else gets her own member, and the form says so.
		if row.Member != "" && row.Member != v.SelfID {
			v.MemberReplaced = true
		}
		row.Member = v.SelfID
	}
	if e := c.QueryParam("expiry"); slices.Contains([]string{"1d", "1w", "2w"}, e) {
		v.Expiry = e
	}
	v.Rows = []web.StepRow{row}
	return s.page(c, http.StatusOK, "New change request", web.NavChanges, web.ChangeForm(v))
}

// handleChangeStepRow is the "Add step" fragment.
func (s *Server) handleChangeStepRow(c echo.Context) error {
	_, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	v, _, err := s.formBase(c, data)
	if err != nil {
		return err
	}
	i, err := intParam(c, "i")
	if err != nil {
		return err
	}
	row := web.StepRow{}
	if v.Viewer {
		row.Member = v.SelfID
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return render(c, http.StatusOK, web.StepRowFields(i, row, v.Options))
}

// parseForm reads the form's step rows (the fields repeat once per row;
// rows without a kind are skipped), justification and expiry.
func (s *Server) parseForm(c echo.Context) (web.ChangeFormView, []changes.Step, *time.Time, error) {
	form, err := c.FormParams()
	if err != nil {
		return web.ChangeFormView{}, nil, nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The form could not be read.")
	}
	v := web.ChangeFormView{Title: strings.TrimSpace(form.Get("title")), Justification: strings.TrimSpace(form.Get("justification")),
		Expiry: form.Get("expiry"), ExpiryDate: form.Get("expiry_date")}
	at := func(name string, i int) string {
		vs := form[name]
		if i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	var steps []changes.Step
	for i := range form["kind"] {
		r := web.StepRow{Kind: at("kind", i), Member: at("member", i), Team: at("team", i), Project: at("project", i),
			Role: at("role", i), Email: at("email", i), Name: at("name", i), TeamID: at("team_id", i),
			AccessRequest: at("access_request", i), Add: at("add", i), Remove: at("remove", i)}
		v.Rows = append(v.Rows, r)
		if r.Kind == "" {
			continue
		}
		steps = append(steps, changes.Step{Index: len(steps), Kind: changes.Kind(r.Kind), Params: changes.Params{
			Member: r.Member, Team: r.Team, Project: r.Project, Role: r.Role, Email: r.Email, Name: r.Name,
			TeamID: r.TeamID, AccessRequest: r.AccessRequest, Add: splitIDs(r.Add), Remove: splitIDs(r.Remove),
		}})
	}
	if len(steps) == 0 {
		return v, nil, nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Add at least one step (pick its kind).")
	}
	for _, st := range steps {
		if err := st.Validate(); err != nil {
			return v, nil, nil, err
		}
	}
	exp, err := s.expiry(v.Expiry, v.ExpiryDate)
	if err != nil {
		return v, nil, nil, err
	}
	return v, steps, exp, nil
}

// expiry turns the form's preset or date into an expiry time.
func (s *Server) expiry(preset, date string) (*time.Time, error) {
	now := s.deps.Now().UTC()
	var t time.Time
	switch preset {
	case "":
		return nil, nil
	case "1d":
		t = now.Add(24 * time.Hour)
	case "1w":
		t = now.Add(7 * 24 * time.Hour)
	case "2w":
		t = now.Add(14 * 24 * time.Hour)
	case "custom":
		d, err := time.Parse("2006-01-02", strings.TrimSpace(date))
		if err != nil {
			return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The expiry date must be a date (YYYY-MM-DD).")
		}
		if !d.After(now) {
			return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The expiry date must be in the future.")
		}
		t = d
	default:
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Pick an expiry of 1 day, 1 week, 2 weeks or a date.")
	}
	return &t, nil
}

// fillEmails names the members of steps by email, so that titles and the
// trail read "add member priya@… to team platform".
func fillEmails(snap *access.Snapshot, steps []changes.Step) {
	if snap == nil {
		return
	}
	for i := range steps {
		p := &steps[i].Params
		if p.Member == "" || p.Email != "" {
			continue
		}
		for _, m := range snap.Members {
			if m.ID == p.Member {
				p.Email = m.Email
			}
		}
	}
}

func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// publicText is the message of an error that explains itself, for the
// preview fragment.
func publicText(err error) (string, bool) {
	msg := sentryaccess.ErrorMessage(err)
	return msg, msg != ""
}

// handleChangePreview is the live preview: 200 with the diff and blocking
// violations, 422 with the reason for input that cannot be previewed.
func (s *Server) handleChangePreview(c echo.Context) error {
	svc, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	c.Response().Header().Add("Vary", "HX-Request")
	v, steps, _, err := s.parseForm(c)
	if !slices.ContainsFunc(v.Rows, web.StepRow.Filled) {
		// Nothing chosen yet (a new form has a kind but no target): no
		// preview, and no error for what the user has not touched.
		return render(c, http.StatusOK, web.ChangePreview(web.PreviewView{Empty: true}))
	}
	if err != nil {
		msg, ok := publicText(err)
		if !ok {
			return err
		}
		return render(c, http.StatusUnprocessableEntity, web.ChangePreview(web.PreviewView{Error: msg}))
	}
	a, _ := actor(c)
	snap, err := data.Snapshot(ctx)
	if err != nil {
		return err
	}
	fillEmails(snap, steps)
	policy := svc.Policy()
	if err := policy.CanRequest(a, selfMember(snap, a.Email), steps); err != nil {
		msg, _ := publicText(err)
		return render(c, http.StatusUnprocessableEntity, web.ChangePreview(web.PreviewView{Error: msg}))
	}
	pv, err := data.Preview(ctx, steps, a.Email)
	if err != nil {
		return err
	}
	pv.ComputedAt = s.deps.Now().UTC()
	return render(c, http.StatusOK, web.ChangePreview(web.PreviewView{Steps: steps, Preview: &pv, Required: policy.Required(steps)}))
}

// handleChangeCreate submits the form: HX-Redirect to the new request, or
// a 422 fragment naming what is wrong.
func (s *Server) handleChangeCreate(c echo.Context) error {
	svc, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	v, steps, exp, err := s.parseForm(c)
	if err != nil {
		if msg, ok := publicText(err); ok {
			return invalid(c, msg)
		}
		return err
	}
	if v.Justification == "" {
		return invalid(c, "A justification is required.")
	}
	snap, err := data.Snapshot(c.Request().Context())
	if err != nil {
		return err
	}
	fillEmails(snap, steps)
	a, _ := actor(c)
	r, err := svc.Create(c.Request().Context(), a, changes.NewRequest{Title: v.Title, Justification: v.Justification,
		Steps: steps, ExpiresAt: exp, Source: changes.SourceForm})
	if err != nil {
		return invalidOr(c, err)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

// detailView builds the request page's view model.
func (s *Server) detailView(c echo.Context, svc Changes, r *changes.Request) (web.ChangeDetailView, error) {
	ctx := c.Request().Context()
	a, id := actor(c)
	v := web.ChangeDetailView{Request: r, Preview: r.Preview, Now: s.deps.Now()}
	if r.State == changes.StatePendingApproval {
		pv, err := svc.PreviewNow(ctx, r)
		if err != nil {
			return v, err
		}
		v.Preview, v.PreviewLive = pv, true
		if err := svc.Policy().CanDecide(a, r); err != nil {
			msg, _ := publicText(err)
			v.DecideReason = msg
		} else if b := pv.Blocking(); len(b) > 0 {
			v.DecideReason = "The preview has blocking violations: Sentry would refuse this request."
		} else {
			v.CanDecide = true
		}
	}
	v.CanCancel = (r.State == changes.StatePendingApproval || r.State == changes.StateApproved) &&
		(strings.EqualFold(r.Requester, a.Email) || id.Role.AtLeast(sentryaccess.RoleAdmin))
	grantID := r.GrantID
	if grantID == "" && r.ExtendsGrant != "" {
		grantID = r.ExtendsGrant
	}
	if grantID != "" {
		gs, err := svc.Grants(ctx, changes.GrantFilter{})
		if err != nil {
			return v, err
		}
		if i := slices.IndexFunc(gs, func(g changes.Grant) bool { return g.ID == grantID }); i >= 0 {
			g := gs[i]
			v.Grant = &g
			v.CanExtend = g.State == changes.GrantActive &&
				(strings.EqualFold(g.Requester, a.Email) || id.Role.AtLeast(sentryaccess.RoleApprover))
		}
	}
	return v, nil
}

// handleChange is /changes/:id; htmx polling targets #change-status and
// gets only the status fragment.
func (s *Server) handleChange(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	r, err := svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if a, _ := actor(c); !svc.Policy().CanView(a, r) {
		// Not found, not forbidden: a viewer learns nothing of requests
		// that are not hers ("not found" for what the caller may not see:
		// docs/architecture.md, "Errors").
		return fmt.Errorf("request %s: %w", r.ID, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	v, err := s.detailView(c, svc, r)
	if err != nil {
		return err
	}
	if wantsFragment(c.Request()) && c.Request().Header.Get("HX-Target") == "change-status" {
		c.Response().Header().Add("Vary", "HX-Request")
		return render(c, http.StatusOK, web.ChangeStatus(v))
	}
	return s.page(c, http.StatusOK, "Request "+r.ID, web.NavChanges, web.ChangeDetail(v))
}

func (s *Server) handleChangeApprove(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	a, _ := actor(c)
	r, err := svc.Approve(c.Request().Context(), a, c.Param("id"), strings.TrimSpace(c.FormValue("comment")))
	if err != nil {
		return invalidOr(c, err)
	}
	if r.State == changes.StateApproved {
		s.startApply(c.Request().Context(), r.ID)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

func (s *Server) handleChangeDeny(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	a, _ := actor(c)
	r, err := svc.Deny(c.Request().Context(), a, c.Param("id"), strings.TrimSpace(c.FormValue("comment")))
	if err != nil {
		return invalidOr(c, err)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

func (s *Server) handleChangeCancel(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	a, _ := actor(c)
	r, err := svc.Cancel(c.Request().Context(), a, c.Param("id"), strings.TrimSpace(c.FormValue("comment")))
	if err != nil {
		return invalidOr(c, err)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

// startApply applies request id in the background (Deps.Background), on a
// context that outlives the HTTP request. A failure is logged; the request
// stays applying and Recover resumes it at the next start.
func (s *Server) startApply(ctx context.Context, id string) {
	run := s.deps.Background
	if run == nil {
		run = func(fn func()) { go fn() }
	}
	ctx = context.WithoutCancel(ctx)
	run(func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		if _, err := s.deps.Changes.Apply(ctx, id); err != nil {
			s.deps.Logger.ErrorContext(ctx, "apply change request", "request", id, "err", err)
		}
	})
}

// handleGrantExtend asks to move a grant's expiry further out.
func (s *Server) handleGrantExtend(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	gid := c.Param("id")
	gs, err := svc.Grants(ctx, changes.GrantFilter{})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(gs, func(g changes.Grant) bool { return g.ID == gid })
	if i < 0 {
		return fmt.Errorf("grant %s: %w", gid, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
	}
	by := map[string]time.Duration{"1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour}[c.FormValue("extend")]
	if by == 0 {
		return invalid(c, "Pick an extension of 1 day, 1 week or 2 weeks.")
	}
	just := strings.TrimSpace(c.FormValue("justification"))
	if just == "" {
		return invalid(c, "A justification is required.")
	}
	a, _ := actor(c)
	r, err := svc.RequestExtension(ctx, a, gid, gs[i].ExpiresAt.Add(by), just)
	if err != nil {
		return invalidOr(c, err)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

// handleAccessRequest opens a change request that approves or denies one
// of Sentry's team access requests.
func (s *Server) handleAccessRequest(c echo.Context) error {
	svc, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	kind := map[string]changes.Kind{"approve": changes.KindAccessRequestApprove, "deny": changes.KindAccessRequestDeny}[c.Param("decision")]
	if kind == "" {
		return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
	}
	ars, err := data.AccessRequests(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ars, func(ar sentry.AccessRequest) bool { return ar.ID == c.Param("id") })
	if i < 0 {
		return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
	}
	ar := ars[i]
	verb := "Approve"
	if kind == changes.KindAccessRequestDeny {
		verb = "Deny"
	}
	a, _ := actor(c)
	r, err := svc.Create(ctx, a, changes.NewRequest{
		Title:         fmt.Sprintf("%s Sentry access request: %s joins team %s", verb, ar.Member.Email, ar.Team.Slug),
		Justification: "Sentry team access request " + ar.ID,
		Steps: []changes.Step{{Kind: kind, Params: changes.Params{AccessRequest: ar.ID, Member: ar.Member.ID,
			Email: ar.Member.Email, Team: ar.Team.Slug}}},
		Source: changes.SourceAccessRequest,
	})
	if err != nil {
		return invalidOr(c, err)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

// handleBlueprints is /blueprints, with ?sample= loading a shipped one.
func (s *Server) handleBlueprints(c echo.Context) error {
	if _, _, err := s.changesSvc(); err != nil {
		return err
	}
	samples, err := changes.SampleBlueprints()
	if err != nil {
		return err
	}
	_, id := actor(c)
	v := web.BlueprintsView{CanRequest: id.Role.AtLeast(sentryaccess.RoleApprover)}
	names := make([]string, 0, len(samples))
	for name := range samples {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		bp := samples[name]
		v.Samples = append(v.Samples, web.BlueprintSample{File: name, Name: bp.Name, Description: bp.Description})
	}
	if name := c.QueryParam("sample"); name != "" {
		bp, ok := samples[name]
		if !ok {
			return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
		}
		raw, err := yaml.Marshal(bp)
		if err != nil {
			return fmt.Errorf("encode sample blueprint %s: %w", name, err)
		}
		v.YAML = string(raw)
	}
	return s.page(c, http.StatusOK, "Blueprints", web.NavBlueprints, web.BlueprintsPage(v))
}

// planView parses and plans the posted YAML.
func (s *Server) planView(c echo.Context, svc Changes) (web.BlueprintPlanView, *changes.Blueprint, error) {
	yml := c.FormValue("yaml")
	_, id := actor(c)
	v := web.BlueprintPlanView{YAML: yml, CanRequest: id.Role.AtLeast(sentryaccess.RoleApprover)}
	bp, err := changes.ParseBlueprint([]byte(yml))
	if err != nil {
		return v, nil, err
	}
	v.Name, v.Expires = bp.Name, bp.Expires
	a, _ := actor(c)
	steps, pv, err := svc.PlanBlueprint(c.Request().Context(), a, bp)
	if err != nil {
		return v, nil, err
	}
	v.Steps, v.Preview, v.Required = steps, pv, svc.Policy().Required(steps)
	return v, bp, nil
}

// handleBlueprintPlan plans posted YAML: the plan fragment, or 422 with
// the parse or plan error.
func (s *Server) handleBlueprintPlan(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	v, _, err := s.planView(c, svc)
	status := http.StatusOK
	if err != nil {
		msg, ok := publicText(err)
		if !ok {
			return err
		}
		v.Error, status = msg, http.StatusUnprocessableEntity
	}
	if !wantsFragment(c.Request()) {
		page := web.BlueprintsView{YAML: v.YAML, Plan: &v, CanRequest: v.CanRequest}
		return s.page(c, status, "Blueprints", web.NavBlueprints, web.BlueprintsPage(page))
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return render(c, status, web.BlueprintPlan(v))
}

// handleBlueprintRequest turns posted YAML into a change request.
func (s *Server) handleBlueprintRequest(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	just := strings.TrimSpace(c.FormValue("justification"))
	if just == "" {
		return invalid(c, "A justification is required.")
	}
	bp, err := changes.ParseBlueprint([]byte(c.FormValue("yaml")))
	if err != nil {
		return invalidOr(c, err)
	}
	a, _ := actor(c)
	r, err := svc.CreateFromBlueprint(c.Request().Context(), a, bp, just)
	if err != nil {
		return invalidOr(c, err)
	}
	return redirect(c, "/changes/"+url.PathEscape(r.ID))
}

func (s *Server) handleBlueprintExport(c echo.Context) error {
	return s.export(c, "blueprint.yaml", "application/yaml", changes.ExportBlueprint)
}

func (s *Server) handleTerraformExport(c echo.Context) error {
	return s.export(c, "sentry-access.tf", "text/plain; charset=utf-8", changes.ExportTerraform)
}

func (s *Server) export(c echo.Context, name, ctype string, fn func(*access.Snapshot) ([]byte, error)) error {
	_, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	snap, err := data.Snapshot(c.Request().Context())
	if err != nil {
		return err
	}
	b, err := fn(snap)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, b)
}

// trailQuery reads the trail search.
func trailQuery(c echo.Context) (web.TrailQuery, changes.TrailFilter, error) {
	q := web.TrailQuery{Actor: strings.TrimSpace(c.QueryParam("actor")), Kind: strings.TrimSpace(c.QueryParam("kind")),
		Request: strings.TrimSpace(c.QueryParam("request")), From: c.QueryParam("from"), To: c.QueryParam("to")}
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

func (s *Server) handleTrail(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	q, f, err := trailQuery(c)
	if err != nil {
		return err
	}
	recs, err := svc.Trail(ctx, f)
	if err != nil {
		return err
	}
	all, err := svc.Trail(ctx, changes.TrailFilter{})
	if err != nil {
		return err
	}
	v := web.TrailView{Records: recs, Query: q, Total: len(all)}
	if err := svc.VerifyTrail(ctx); err != nil {
		if v.VerifyError = sentryaccess.ErrorMessage(err); v.VerifyError == "" {
			return err
		}
	}
	slices.Reverse(v.Records) // newest first
	return s.listPage(c, "Audit trail", web.NavTrail, web.TrailPage(v), "trail-results", web.TrailResults(v))
}

// handleTrailExport streams the searched trail as CSV or JSON, in append
// order with hashes, so an export can be verified offline.
func (s *Server) handleTrailExport(c echo.Context) error {
	svc, _, err := s.changesSvc()
	if err != nil {
		return err
	}
	_, f, err := trailQuery(c)
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
