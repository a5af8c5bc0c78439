package httpui

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/unapproved"
	"github.com/sentry-access/sentry-access/web"
)

// Explorer is the read model behind the read pages (*explore.Service).
// Errors are sentryaccess.Errors: EINVALID (a bad query value, 422),
// ENOTFOUND (unknown member/team/project/snapshot, 404), EUNAVAILABLE (no
// snapshot yet, 503).
type Explorer interface {
	Overview(ctx context.Context) (explore.Overview, error)
	Members(ctx context.Context, q explore.MemberQuery) (explore.MemberList, error)
	Member(ctx context.Context, ref string, projectPage int) (explore.MemberDetail, error)
	Teams(ctx context.Context, q explore.TeamQuery) (explore.TeamList, error)
	Team(ctx context.Context, slug string, page int) (explore.TeamDetail, error)
	Projects(ctx context.Context, q explore.ProjectQuery) (explore.ProjectList, error)
	Project(ctx context.Context, slug string) (explore.ProjectDetail, error)
	ProjectRow(ctx context.Context, slug string) (explore.ProjectRow, error)
	Lookup(ctx context.Context, member, project, scope string) (explore.Lookup, error)
	Suggest(ctx context.Context, kind, q string) ([]explore.Suggestion, error)
	Search(ctx context.Context, q string, limit int) (explore.SearchResults, error)
	Snapshots(ctx context.Context) (explore.SnapshotList, error)
	Diff(ctx context.Context, from, to uint64) (explore.SnapshotDiff, error)
	Graph(ctx context.Context, q explore.GraphQuery) (explore.Graph, error)
	Connection(ctx context.Context) (explore.Connection, error)
}

// SyncRunner starts background syncs (*explore.Runner).
type SyncRunner interface {
	// Start starts a sync and returns at once; an ECONFLICT error when one
	// is already running.
	Start(ctx context.Context) error
	// Status returns the last run (nil before the first).
	Status(ctx context.Context) (*explore.SyncRun, error)
}

// syncBanner feeds the layout's sync banner from a SyncRunner.
type syncBanner struct{ r SyncRunner }

// SyncStatus maps the last run to the banner: failed runs show their reason.
func (b syncBanner) SyncStatus(ctx context.Context) (web.SyncStatus, error) {
	run, err := b.r.Status(ctx)
	switch {
	case err != nil:
		return web.SyncStatus{}, err
	case run == nil:
		return web.SyncStatus{State: web.SyncNever}, nil
	case run.Running:
		return web.SyncStatus{State: web.SyncRunning, At: run.Started}, nil
	case !run.OK:
		msg := "while " + run.StageText + ": " + run.Error
		return web.SyncStatus{State: web.SyncFailed, Message: msg, At: run.Finished}, nil
	}
	return web.SyncStatus{State: web.SyncOK, At: run.Finished}, nil
}

// intParam reads an optional positive integer query parameter.
func intParam(c echo.Context, name string) (int, error) {
	v := strings.TrimSpace(c.QueryParam(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, sentryaccess.Errorf(sentryaccess.EINVALID, "%s must be a whole number of 1 or more (got %q).", name, v)
	}
	return n, nil
}

func boolParam(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "0", "false":
		return false, nil
	case "1", "true", "on":
		return true, nil
	}
	return false, sentryaccess.Errorf(sentryaccess.EINVALID, "%s must be 1 or 0 (got %q).", name, c.QueryParam(name))
}

// explorer returns the read model or a 503 when none is wired.
func (s *Server) explorer() (Explorer, error) {
	if s.deps.Explore == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "The read model is not configured.")
	}
	return s.deps.Explore, nil
}

// listPage renders a list page: the whole content for a page load, or
// only the results fragment when htmx targets it.
func (s *Server) listPage(c echo.Context, title string, nav web.NavKey, full templ.Component, resultsID string, results templ.Component) error {
	if wantsFragment(c.Request()) && c.Request().Header.Get("HX-Target") == resultsID {
		c.Response().Header().Add("Vary", "HX-Request")
		return s.render(c, http.StatusOK, results)
	}
	return s.page(c, http.StatusOK, title, nav, full)
}

func (s *Server) handleDashboard(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	ov, err := ex.Overview(c.Request().Context())
	if err != nil {
		return err
	}
	sp, err := s.syncPanel(c)
	if err != nil {
		return err
	}
	if f, ok, err := s.outsideFinding(c.Request().Context()); err != nil {
		return err
	} else if ok {
		ov.Findings = append([]explore.Finding{f}, ov.Findings...)
	}
	return s.page(c, http.StatusOK, "Overview", web.NavOverview, web.Dashboard(ov, sp))
}

func (s *Server) syncPanel(c echo.Context) (web.SyncPanelView, error) {
	var v web.SyncPanelView
	if s.deps.SyncRunner == nil {
		return v, nil
	}
	run, err := s.deps.SyncRunner.Status(c.Request().Context())
	if err != nil {
		return v, err
	}
	v.Run = run
	if id, ok := IdentityFromContext(c.Request().Context()); ok {
		v.CanSync = id.Role.AtLeast(sentryaccess.RoleApprover)
	}
	return v, nil
}

func (s *Server) handleMembers(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	page, err := intParam(c, "page")
	if err != nil {
		return err
	}
	noTeam, err := boolParam(c, "noteam")
	if err != nil {
		return err
	}
	q := explore.MemberQuery{
		Q: c.QueryParam("q"), Role: c.QueryParam("role"), Team: c.QueryParam("team"), NoTeam: noTeam,
		SSO: c.QueryParam("sso"), TwoFA: c.QueryParam("2fa"), State: c.QueryParam("state"), SCIM: c.QueryParam("scim"),
		Sort: c.QueryParam("sort"), Page: page,
	}
	l, err := ex.Members(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return s.listPage(c, "Members", web.NavMembers, web.MembersPage(l, s.teamOptions.of(c.Request().Context(), l.Teams)), "member-results", web.MemberResults(l))
}

func (s *Server) handleMember(c echo.Context) error {
	return s.memberPage(c, c.Param("id"), "", web.NavMembers)
}

// memberPage renders the member ref (id or email) with its time-bound
// grants; an empty title is the member's email.
func (s *Server) memberPage(c echo.Context, ref, title string, nav web.NavKey) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	page, err := intParam(c, "page")
	if err != nil {
		return err
	}
	d, err := ex.Member(c.Request().Context(), ref, page) // ?page= pages the reached projects
	if err != nil {
		return err
	}
	gs, err := s.memberGrants(c.Request().Context(), d.Row.ID)
	if err != nil {
		return err
	}
	if title == "" {
		title = d.Row.Email
	}
	out, err := s.outside(c, unapproved.Filter{Member: d.Row.ID})
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, title, nav, web.MemberPage(d, gs, actor(c).Role.AtLeast(sentryaccess.RoleApprover), out))
}

// handleMyAccess shows the signed-in user's own Sentry access: the member
// whose email matches the SAML email attribute.
func (s *Server) handleMyAccess(c echo.Context) error {
	id, _ := IdentityFromContext(c.Request().Context())
	err := s.memberPage(c, id.Email, "My access", web.NavMyAccess)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "No member of the Sentry organization has your email address (%s) in the current snapshot. "+
			"If you were invited recently, sync again; otherwise check that the IdP sends the same email Sentry knows you by.", id.Email)
	}
	return err
}

func (s *Server) handleTeams(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	page, err := intParam(c, "page")
	if err != nil {
		return err
	}
	noProject, err := boolParam(c, "noproject")
	if err != nil {
		return err
	}
	l, err := ex.Teams(c.Request().Context(), explore.TeamQuery{Q: c.QueryParam("q"), NoProject: noProject, SCIM: c.QueryParam("scim"), Page: page})
	if err != nil {
		return err
	}
	return s.listPage(c, "Teams", web.NavTeams, web.TeamsPage(l), "team-results", web.TeamResults(l))
}

func (s *Server) handleTeam(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	page, err := intParam(c, "page")
	if err != nil {
		return err
	}
	d, err := ex.Team(c.Request().Context(), c.Param("slug"), page)
	if err != nil {
		return err
	}
	out, err := s.outside(c, unapproved.Filter{Team: d.Row.Slug})
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Team "+d.Row.Slug, web.NavTeams, web.TeamPage(d, out))
}

func (s *Server) handleProjects(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	page, err := intParam(c, "page")
	if err != nil {
		return err
	}
	noTeam, err := boolParam(c, "noteam")
	if err != nil {
		return err
	}
	q := explore.ProjectQuery{Q: c.QueryParam("q"), Team: c.QueryParam("team"), NoTeam: noTeam, Sort: c.QueryParam("sort"), Page: page}
	l, err := ex.Projects(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return s.listPage(c, "Projects", web.NavProjects, web.ProjectsPage(l, s.teamOptions.of(c.Request().Context(), l.Teams)), "project-results", web.ProjectResults(l))
}

func (s *Server) handleProject(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	d, err := ex.Project(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	out, err := s.outside(c, unapproved.Filter{Project: d.Row.Slug})
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Project "+d.Row.Slug, web.NavProjects, web.ProjectPage(d, out))
}

func (s *Server) handleLookup(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	member := c.QueryParam("member")
	if member == "" {
		member = c.QueryParam("q") // the top bar's search box
	}
	l, err := ex.Lookup(c.Request().Context(), member, c.QueryParam("project"), c.QueryParam("scope"))
	if err != nil {
		// A reloaded or shared lookup URL naming an unknown member or
		// project keeps the form, filled in, with the message under it.
		// An htmx submit of the form gets the same, as the form's panel.
		if status, msg := classify(err); status == http.StatusUnprocessableEntity {
			flash := web.Flash(web.FlashError, msg, RequestID(c.Request()))
			switch {
			case !wantsFragment(c.Request()):
				return s.page(c, status, "Permission lookup", web.NavLookup, web.LookupPage(l, flash))
			case c.Request().Header.Get("HX-Target") == "lookup":
				c.Response().Header().Add("Vary", "HX-Request")
				return s.render(c, status, web.LookupPanel(l, flash))
			}
		}
		return err
	}
	proposals := make([][]changes.Step, len(l.Fixes))
	for i, f := range l.Fixes {
		proposals[i] = []changes.Step{{Kind: changes.KindTeamAdd, Params: changes.Params{Member: f.Member, Team: f.Team}}}
	}
	may, err := s.mayRequest(c, proposals...)
	if err != nil {
		return err
	}
	fixes := l.Fixes[:0:0]
	for i, f := range l.Fixes {
		if may[i] {
			fixes = append(fixes, f)
		}
	}
	l.Fixes = fixes
	return s.listPage(c, "Permission lookup", web.NavLookup, web.LookupPage(l, nil), "lookup", web.LookupPanel(l, nil))
}

func (s *Server) handleSuggest(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	kind := c.QueryParam("kind")
	if !wantsFragment(c.Request()) {
		return toPage(c, "/lookup", "member", "project")
	}
	list, err := ex.Suggest(c.Request().Context(), kind, c.QueryParam(kind))
	if err != nil {
		return err
	}
	// list names the datalist the answer replaces (the lookup's by
	// default; the troubleshooter has its own).
	id := kind + "-suggestions"
	switch l := c.QueryParam("list"); l {
	case "":
	case "ts-members", "ts-projects":
		id = l
	default:
		return s.invalid(c, "list must be ts-members or ts-projects.")
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusOK, web.Suggestions(id, list))
}

func (s *Server) handleSnapshots(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	l, err := ex.Snapshots(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Snapshots", web.NavSnapshots, web.SnapshotsPage(l))
}

func (s *Server) handleDiff(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	from, err := intParam(c, "from")
	if err != nil {
		return err
	}
	to, err := intParam(c, "to")
	if err != nil {
		return err
	}
	d, err := ex.Diff(c.Request().Context(), uint64(from), uint64(to))
	if err != nil {
		return err
	}
	marks, err := s.outsideMarks(c, d)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Snapshot diff", web.NavSnapshots, web.DiffPage(d, marks))
}

func (s *Server) handleGraph(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	q, err := explore.ParseGraphQuery(c.QueryParams())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	g, err := ex.Graph(ctx, q)
	if status, msg := classify(err); err != nil && q.Focus != "" && !wantsFragment(c.Request()) &&
		(status == http.StatusNotFound || status == http.StatusUnprocessableEntity) {
		// A focus that names nothing keeps the page: the unfocused graph,
		// the focus as typed, and why under the form.
		unfocused := q
		unfocused.Focus = ""
		if g, err = ex.Graph(ctx, unfocused); err != nil {
			return err
		}
		g.Query.Focus = q.Focus
		flash := web.Flash(web.FlashError, msg, RequestID(c.Request()))
		return s.page(c, status, "Graph", web.NavGraph, web.GraphPage(g, flash, s.teamOptions.of(c.Request().Context(), g.Teams)))
	}
	if err != nil {
		return err
	}
	return s.listPage(c, "Graph", web.NavGraph, web.GraphPage(g, nil, s.teamOptions.of(c.Request().Context(), g.Teams)), "graph", web.GraphView(g))
}

func (s *Server) handleConnection(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	conn, err := ex.Connection(c.Request().Context())
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Connection", web.NavConnection, web.ConnectionPage(conn))
}

// handleSyncStatus answers the sync panel (polled while a sync runs).
// When a poll finds the run over, the page around the panel (counts,
// "what changed") shows the previous snapshot, so htmx is told to reload
// the page (HX-Refresh) rather than swap in only the finished panel.
func (s *Server) handleSyncStatus(c echo.Context) error {
	if !wantsFragment(c.Request()) {
		return toPage(c, "/") // the panel is on the overview
	}
	v, err := s.syncPanel(c)
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	if wantsFragment(c.Request()) && (v.Run == nil || !v.Run.Running) {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return s.page(c, http.StatusOK, "Sync", web.NavOverview, web.SyncPanel(v))
}

// handleSyncStart starts a sync (approver+; cross-origin protected by the
// server's middleware). htmx gets the running panel; a plain form post is
// sent back to the overview.
func (s *Server) handleSyncStart(c echo.Context) error {
	if s.deps.SyncRunner == nil {
		return sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Syncing is not configured.")
	}
	if err := s.deps.SyncRunner.Start(c.Request().Context()); err != nil {
		if sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
			return err
		}
		// Already running: show the running panel.
	}
	if !isHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	v, err := s.syncPanel(c)
	if err != nil {
		return err
	}
	if v.Run == nil || !v.Run.Running {
		// The run may not have recorded itself yet: poll until it does.
		v.Run = &explore.SyncRun{Running: true, Stage: "start"}
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusAccepted, web.SyncPanel(v))
}

// SearchPageLimit is how many hits of each kind the /search page lists.
const SearchPageLimit = 50

// handleSearch is the top bar's search: its short list under the box when
// the box asks (htmx, target search-results), else the search page.
func (s *Server) handleSearch(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	ctx, q := c.Request().Context(), c.QueryParam("q")
	if wantsFragment(c.Request()) && c.Request().Header.Get("HX-Target") == "search-results" {
		r, err := ex.Search(ctx, q, explore.SearchLimit)
		if err != nil {
			return err
		}
		c.Response().Header().Add("Vary", "HX-Request")
		return s.render(c, http.StatusOK, web.SearchDropdown(r))
	}
	r, err := ex.Search(ctx, q, SearchPageLimit)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Search", web.NavNone, web.SearchPage(r))
}
