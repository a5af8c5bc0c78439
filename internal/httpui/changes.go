package httpui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// Changes is the change-request service (*changes.Service): the change,
// blueprint and trail pages are views of it. It decides every rule (who may
// request, see, decide, cancel or extend what) and starts the apply after
// the last approval itself. Its errors are sentryaccess.Errors: ENOTFOUND
// (404), EFORBIDDEN (403), EINVALID (422), ECONFLICT (409).
type Changes interface {
	Inbox(ctx context.Context, actor sentryaccess.Actor, now time.Time) (changes.Inbox, error)
	Choices(ctx context.Context, actor sentryaccess.Actor) (changes.Choices, error)
	PreviewDraft(ctx context.Context, actor sentryaccess.Actor, steps []changes.Step) (changes.Draft, error)
	Create(ctx context.Context, actor sentryaccess.Actor, in changes.NewRequest) (*changes.Request, error)
	Detail(ctx context.Context, actor sentryaccess.Actor, id string) (changes.Detail, error)
	Approve(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*changes.Request, error)
	Deny(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*changes.Request, error)
	Cancel(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*changes.Request, error)
	ExtendGrant(ctx context.Context, actor sentryaccess.Actor, grantID string, by time.Duration, justification string) (*changes.Request, error)
	Revoke(ctx context.Context, actor sentryaccess.Actor, grantID, justification string) (*changes.Request, error)
	RequestAccessDecision(ctx context.Context, actor sentryaccess.Actor, id string, approve bool, expiresAt *time.Time) (*changes.Request, error)
	MayRequest(ctx context.Context, actor sentryaccess.Actor, proposals ...[]changes.Step) ([]bool, error)
	TimeBoundMemberships(ctx context.Context, member string) ([]changes.TimeBoundMembership, error)
	PlanBlueprint(ctx context.Context, actor sentryaccess.Actor, bp *changes.Blueprint) (changes.Draft, error)
	CreateFromBlueprint(ctx context.Context, actor sentryaccess.Actor, bp *changes.Blueprint, justification string) (*changes.Request, error)
	BlueprintTerraform(ctx context.Context, actor sentryaccess.Actor, bp *changes.Blueprint) ([]byte, error)
	Export(ctx context.Context, format changes.ExportFormat) ([]byte, error)
	SearchTrail(ctx context.Context, f changes.TrailFilter) (changes.TrailSearch, error)
	Trail(ctx context.Context, f changes.TrailFilter) ([]changes.TrailRecord, error)
}

// changesSvc returns the service or a 503 when none is wired.
func (s *Server) changesSvc() (Changes, error) {
	if s.deps.Changes == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Change requests are not configured.")
	}
	return s.deps.Changes, nil
}

// actor is the signed-in user as the services see them.
func actor(c echo.Context) sentryaccess.Actor {
	id, _ := IdentityFromContext(c.Request().Context())
	return id.Actor()
}

// redirectToChange answers a POST that filed or moved request r.
func redirectToChange(c echo.Context, r *changes.Request) error {
	return redirectAfterPost(c, "/changes/"+url.PathEscape(r.ID))
}

func (s *Server) handleChanges(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	in, err := svc.Inbox(c.Request().Context(), actor(c), s.deps.Now())
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Change requests", web.NavChanges, web.ChangesInbox(web.ChangesInboxView{Inbox: in}))
}

// formView is the change form for the signed-in user's choices, without
// rows.
func (s *Server) formView(ctx context.Context, ch changes.Choices, self string) web.ChangeFormView {
	return web.ChangeFormView{Options: s.stepOptions.of(ctx, ch), SelfEmail: self, SelfID: ch.SelfID, Viewer: ch.SelfServiceOnly}
}

// stepOptionsCache holds the step rows' options of the last Choices asked
// for, with their option tags prepared. The change service builds
// Choices once per snapshot, so the same Members slice means the same
// snapshot; only the kinds depend on the user.
type stepOptionsCache struct {
	mu      sync.Mutex
	members []changes.MemberChoice
	o       web.StepOptions
}

// of returns ch's step options, prepared once per snapshot; when they
// cannot be prepared, built for this request (the selects render their
// options one by one).
func (c *stepOptionsCache) of(ctx context.Context, ch changes.Choices) web.StepOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(ch.Members) == 0 || len(c.members) != len(ch.Members) || &c.members[0] != &ch.Members[0] {
		o := web.NewStepOptions(ch)
		p, err := web.PrepareStepOptions(ctx, o)
		if err != nil || len(ch.Members) == 0 {
			return o
		}
		c.members, c.o = ch.Members, p
	}
	return c.o.WithKinds(ch)
}

// handleChangeForm is /changes/new, prefilled from ?kind=&member=&team=&project=&expiry=.
func (s *Server) handleChangeForm(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	a := actor(c)
	ch, err := svc.Choices(c.Request().Context(), a)
	if err != nil {
		return err
	}
	v := s.formView(c.Request().Context(), ch, a.Email)
	row := web.StepRow{Member: c.QueryParam("member"), Team: c.QueryParam("team"), Project: c.QueryParam("project"), Role: c.QueryParam("role")}
	if m, ok := ch.Member(row.Member); ok {
		row.Member = m.ID // the give-access form sends the email it completed
	} else if row.Member != "" && !ch.SelfServiceOnly {
		v.UnknownMember, row.Member = row.Member, ""
	}
	switch k := changes.Kind(c.QueryParam("kind")); {
	case slices.Contains(changes.Kinds(), k):
		row.Kind = string(k)
	case row.Team != "" && row.Project != "":
		row.Kind = string(changes.KindProjectLink)
	default:
		row.Kind = string(changes.KindTeamAdd)
	}
	if v.Viewer {
		// A viewer may ask only for herself: a link naming someone else
		// gets her own member, and the form says so.
		v.MemberReplaced = row.Member != "" && row.Member != v.SelfID
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
	if !wantsFragment(c.Request()) {
		return toPage(c, "/changes/new")
	}
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	i, err := intParam(c, "i")
	if err != nil {
		return err
	}
	ch, err := svc.Choices(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	// A new row is empty; a row whose kind changed comes back with what
	// was typed in it (the kind picker sends its row's fields).
	row := stepRow(func(name string) string { return strings.TrimSpace(c.QueryParam(name)) })
	if ch.SelfServiceOnly {
		row.Member = ch.SelfID
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusOK, web.StepRowFields(i, row, s.stepOptions.of(c.Request().Context(), ch)))
}

// changeForm is the posted change form: what was typed (to show it again),
// the steps of the rows that have a kind, and the expiry.
type changeForm struct {
	view    web.ChangeFormView
	steps   []changes.Step
	expires *time.Time
}

// bindChangeForm reads the form's step rows (the fields repeat once per
// row; rows without a kind are skipped), title, justification and expiry.
// Whether the steps make sense is the service's to say.
func (s *Server) bindChangeForm(c echo.Context) (changeForm, error) {
	form, err := c.FormParams()
	if err != nil {
		return changeForm{}, sentryaccess.Errorf(sentryaccess.EINVALID, "The form could not be read.")
	}
	f := changeForm{view: web.ChangeFormView{Title: strings.TrimSpace(form.Get("title")), Justification: strings.TrimSpace(form.Get("justification")),
		Expiry: form.Get("expiry"), ExpiryDate: form.Get("expiry_date")}}
	at := func(name string, i int) string {
		if vs := form[name]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	for i := range form["kind"] {
		r := stepRow(func(name string) string { return at(name, i) })
		f.view.Rows = append(f.view.Rows, r)
		if r.Kind == "" {
			continue
		}
		f.steps = append(f.steps, changes.Step{Index: len(f.steps), Kind: changes.Kind(r.Kind), Params: changes.Params{
			Member: r.Member, Team: r.Team, Project: r.Project, Role: r.Role, Email: r.Email, Name: r.Name,
			TeamID: r.TeamID, AccessRequest: r.AccessRequest, Add: splitIDs(r.Add), Remove: splitIDs(r.Remove),
		}})
	}
	if len(f.steps) == 0 {
		return f, sentryaccess.Errorf(sentryaccess.EINVALID, "Add at least one step (pick its kind).")
	}
	for _, st := range f.steps {
		if err := st.Validate(); err != nil {
			return f, err
		}
	}
	f.expires, err = s.expiry(f.view.Expiry, f.view.ExpiryDate)
	return f, err
}

// stepRow reads one step row's fields with get: a new team's slug comes
// from its own field, the role from the org-role or the team-role picker
// as the kind says (a plain "role" field is read too, for links and
// older forms).
func stepRow(get func(name string) string) web.StepRow {
	r := web.StepRow{Kind: get("kind"), Member: get("member"), Team: get("team"), Project: get("project"),
		Email: get("email"), Name: get("name"), TeamID: get("team_id"),
		AccessRequest: get("access_request"), Add: get("add"), Remove: get("remove")}
	if r.Kind == string(changes.KindTeamCreate) {
		if slug := get("slug"); slug != "" || r.Team == "" {
			r.Team = slug
		}
	}
	switch {
	case r.Shows("team_role"):
		r.Role = get("team_role")
	case r.OrgRoleKind():
		r.Role = get("org_role")
	}
	if r.Role == "" {
		r.Role = get("role")
	}
	return r
}

// expiry turns the form's preset or date into an expiry time.
func (s *Server) expiry(preset, date string) (*time.Time, error) {
	now := s.deps.Now().UTC()
	var t time.Time
	switch preset {
	case "":
		return nil, nil
	case "1d", "1w", "2w":
		t = now.Add(extensions()[preset])
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

// extensions are the form's presets for an expiry or an extension.
func extensions() map[string]time.Duration {
	return map[string]time.Duration{"1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour}
}

func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// handleChangePreview is the live preview: 200 with the diff and blocking
// violations, 422 with the reason for input that cannot be previewed.
func (s *Server) handleChangePreview(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	f, err := s.bindChangeForm(c)
	if ch, cerr := svc.Choices(c.Request().Context(), actor(c)); cerr == nil && ch.SelfServiceOnly {
		// A viewer's own member is filled in for her: it is not input.
		f.view.Viewer, f.view.SelfID = true, ch.SelfID
	}
	if !f.view.Filled() {
		// Nothing chosen yet (a new form has a kind but no target): no
		// preview, and no error for what the user has not touched.
		return s.render(c, http.StatusOK, web.ChangePreview(web.PreviewView{Empty: true}))
	}
	var d changes.Draft
	if err == nil {
		d, err = svc.PreviewDraft(c.Request().Context(), actor(c), f.steps)
	}
	if msg := sentryaccess.ErrorMessage(err); msg != "" {
		return s.render(c, http.StatusUnprocessableEntity, web.ChangePreview(web.PreviewView{Error: msg}))
	}
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, web.ChangePreview(web.PreviewView{Draft: d, TimeBound: f.expires != nil, NextRow: len(f.view.Rows)}))
}

// handleChangeCreate submits the form: HX-Redirect to the new request, or
// a 422 fragment naming what is wrong.
func (s *Server) handleChangeCreate(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	f, err := s.bindChangeForm(c)
	if err != nil {
		return s.invalidOr(c, err)
	}
	r, err := svc.Create(c.Request().Context(), actor(c), changes.NewRequest{Title: f.view.Title, Justification: f.view.Justification,
		Steps: f.steps, ExpiresAt: f.expires, Source: changes.SourceForm})
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}

// handleChange is /changes/:id; htmx polling targets #change-status and
// gets only the status fragment.
func (s *Server) handleChange(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	d, err := svc.Detail(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	id, _ := IdentityFromContext(c.Request().Context())
	v := web.ChangeDetailView{Detail: d, Now: s.deps.Now(), CanSeeTrail: id.Role.AtLeast(sentryaccess.RoleApprover)}
	if wantsFragment(c.Request()) && c.Request().Header.Get("HX-Target") == "change-status" {
		c.Response().Header().Add("Vary", "HX-Request")
		return s.render(c, http.StatusOK, web.ChangeStatus(v))
	}
	if v.SentryAudit, err = s.requestAudit(c.Request().Context(), d.Request); err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Request "+d.Request.ID, web.NavChanges, web.ChangeDetail(v))
}

// handleChangeApprove records an approval; the last one starts the apply
// (the service does, in the background).
func (s *Server) handleChangeApprove(c echo.Context) error {
	return s.decideChange(c, Changes.Approve)
}

func (s *Server) handleChangeDeny(c echo.Context) error {
	return s.decideChange(c, Changes.Deny)
}

func (s *Server) handleChangeCancel(c echo.Context) error {
	return s.decideChange(c, Changes.Cancel)
}

// decideChange answers the decision posts (approve, deny, cancel): each is
// one service call with the form's comment.
func (s *Server) decideChange(c echo.Context, decide func(Changes, context.Context, sentryaccess.Actor, string, string) (*changes.Request, error)) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	r, err := decide(svc, c.Request().Context(), actor(c), c.Param("id"), strings.TrimSpace(c.FormValue("comment")))
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}

// handleGrantExtend asks to move a grant's expiry further out.
func (s *Server) handleGrantExtend(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	by := extensions()[c.FormValue("extend")]
	if by == 0 {
		return s.invalid(c, "Pick an extension of 1 day, 1 week or 2 weeks.")
	}
	r, err := svc.ExtendGrant(c.Request().Context(), actor(c), c.Param("id"), by, strings.TrimSpace(c.FormValue("justification")))
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}

// handleGrantRevoke takes time-bound access away now: the revocation is a
// change request the approver approves as she files it, applied in the
// background; the answer opens it.
func (s *Server) handleGrantRevoke(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	r, err := svc.Revoke(c.Request().Context(), actor(c), c.Param("id"), strings.TrimSpace(c.FormValue("justification")))
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}

// handleAccessRequest opens a change request that approves or denies one
// of Sentry's team access requests.
func (s *Server) handleAccessRequest(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	approve, ok := map[string]bool{"approve": true, "deny": false}[c.Param("decision")]
	if !ok {
		return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
	}
	expires, err := s.expiry(c.FormValue("expiry"), c.FormValue("expiry_date"))
	if err != nil {
		return s.invalidOr(c, err)
	}
	r, err := svc.RequestAccessDecision(c.Request().Context(), actor(c), c.Param("id"), approve, expires)
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}
