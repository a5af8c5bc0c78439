package httpui

import (
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// MaxBodyBytes is the largest request body the server reads (413 beyond):
// room for a blueprint (changes.MaxBlueprintBytes) form-encoded and for a
// SAML response. Without it a form post could be read up to 10 MB into
// memory, and a multipart one spooled to disk without bound.
const MaxBodyBytes = 1 << 20

// routes registers every route of the dashboard. It is the one place to
// look for what the server answers.
//
// Groups:
//   - public: health, static assets, SAML endpoints, login/logout pages;
//   - app (requireAuth): pages for any signed-in user (viewer and up);
//   - approve / admin (requireRole): mutating routes for those roles.
func (s *Server) routes() {
	e := s.e
	e.Use(requestID, s.accessLog, s.securityHeaders, recoverPanics, s.crossOrigin, limitBody)

	// Public.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	if s.deps.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(s.deps.Metrics))
	}
	e.GET("/static/*", echo.WrapHandler(s.deps.Assets))
	e.GET("/favicon.ico", s.handleFavicon)
	e.Any(samlauth.MetadataPath, echo.WrapHandler(s.deps.SAML))
	e.POST(samlauth.ACSPath, echo.WrapHandler(s.deps.SAML))
	e.Any(samlauth.SLOPath, echo.WrapHandler(s.deps.SAML))
	e.GET("/login", s.handleLogin)
	e.POST("/logout", s.handleLogout)
	e.GET("/signed-out", s.handleSignedOut)

	// Signed-in pages (viewer and up).
	app := e.Group("", s.requireAuth)
	app.GET("/", s.handleDashboard)
	app.GET("/members", s.handleMembers)
	app.GET("/members/:id", s.handleMember)
	app.GET("/me", s.handleMyAccess)
	app.GET("/teams", s.handleTeams)
	app.GET("/teams/:slug", s.handleTeam)
	app.GET("/projects", s.handleProjects)
	app.GET("/projects/:slug", s.handleProject)
	app.GET("/projects/:slug/access", s.handleProjectAccess)
	app.GET("/lookup", s.handleLookup)
	app.GET("/lookup/suggest", s.handleSuggest)
	app.GET("/search", s.handleSearch)
	app.GET("/snapshots", s.handleSnapshots)
	app.GET("/snapshots/diff", s.handleDiff)
	app.GET("/graph", s.handleGraph)
	app.GET("/connection", s.handleConnection)
	app.GET("/sync", s.handleSyncStatus)
	app.GET("/tokens", s.handleTokens)
	app.GET("/scim", s.handleSCIM)
	app.GET("/sso", s.handleSSO)
	app.GET("/sso/check", s.handleSSOCheck)
	app.GET("/posture", s.handlePosture)
	app.GET("/troubleshoot", s.handleTroubleshoot)
	app.GET("/troubleshoot/project", s.handleDiagnoseProject)
	app.GET("/troubleshoot/forbidden", s.handleDiagnose403)

	// Routes for approvers and admins only, e.g. every mutating route.
	approve := roleRoutes{app, requireRole(sentryaccess.RoleApprover)}
	admin := roleRoutes{app, requireRole(sentryaccess.RoleAdmin)}
	approve.POST("/sync", s.handleSyncStart)
	approve.POST("/troubleshoot/live", s.handleTroubleshootLive)
	approve.POST("/tokens/intents", s.handleRecordIntent)

	// Change requests (changes.go), blueprints (blueprints.go) and the
	// dashboard's own audit trail (trail.go). Deciding is for approvers;
	// who may decide, cancel or extend which request is the changes
	// service's to say.
	app.GET("/changes", s.handleChanges)
	app.GET("/changes/new", s.handleChangeForm)
	app.GET("/changes/new/step", s.handleChangeStepRow)
	app.POST("/changes/preview", s.handleChangePreview)
	app.POST("/changes", s.handleChangeCreate)
	app.GET("/changes/:id", s.handleChange)
	app.POST("/changes/:id/cancel", s.handleChangeCancel)
	app.POST("/grants/:id/extend", s.handleGrantExtend)
	approve.POST("/grants/:id/revoke", s.handleGrantRevoke)
	approve.POST("/changes/:id/approve", s.handleChangeApprove)
	approve.POST("/changes/:id/deny", s.handleChangeDeny)
	approve.POST("/access-requests/:id/:decision", s.handleAccessRequest)
	app.GET("/blueprints", s.handleBlueprints)
	app.POST("/blueprints/plan", s.handleBlueprintPlan)
	app.POST("/blueprints/plan.tf", s.handleBlueprintPlanTerraform)
	approve.POST("/blueprints/request", s.handleBlueprintRequest)
	app.GET("/blueprints/export.yaml", s.handleBlueprintExport)
	app.GET("/blueprints/export.tf", s.handleTerraformExport)
	// The trail holds every request's justification and Sentry's answers:
	// approvers and admins only.
	approve.GET("/trail", s.handleTrail)
	approve.GET("/trail/export.csv", s.handleTrailExport)
	approve.GET("/trail/export.json", s.handleTrailExport)

	// Changes made outside sentry-access (unapproved.go): anyone signed in
	// sees them (the IP addresses of their audit entries are for
	// approvers); approvers and admins accept or revert them, and the
	// service checks again who may answer which.
	app.GET("/outside", s.handleUnapprovedList)
	app.GET("/outside/:id", s.handleUnapproved)
	approve.POST("/outside/:id/accept", s.handleUnapprovedAccept)
	approve.GET("/outside/:id/revert", s.handleUnapprovedRevertForm)
	approve.POST("/outside/:id/revert", s.handleUnapprovedRevert)

	// Audit log (approver+: entries carry IP addresses), access reviews
	// (decisions are checked per item by the review service: team admins
	// may be viewers), notification settings (admin).
	approve.GET("/audit", s.handleAudit)
	approve.GET("/audit/rows", s.handleAuditRows)
	approve.GET("/audit/export.csv", s.handleAuditExport(auditlog.FormatCSV))
	approve.GET("/audit/export.json", s.handleAuditExport(auditlog.FormatJSON))
	approve.GET("/audit/export/review.json", s.handleAuditExport(auditlog.FormatReview))
	approve.GET("/audit/export/summary", s.handleAuditExportSummary)
	approve.GET("/audit/:id", s.handleAuditEntry)
	app.GET("/reviews", s.handleReviews)
	app.GET("/reviews/:id", s.handleReview)
	app.POST("/reviews/:id/decide", s.handleReviewDecide)
	approve.POST("/reviews", s.handleReviewCreate)
	approve.POST("/reviews/:id/close", s.handleReviewClose)
	approve.GET("/reviews/:id/evidence.zip", s.handleReviewEvidence)
	admin.GET("/settings/notifications", s.handleNotifications)
	admin.POST("/settings/notifications", s.handleNotificationSave)
	admin.POST("/settings/notifications/:id/test", s.handleNotificationTest)
	admin.POST("/settings/notifications/:id/delete", s.handleNotificationDelete)
}

// roleRoutes registers routes on g that also require a dashboard role. The
// check is added per route, not as group middleware: echo sends every
// unknown path under a group with middleware through that middleware, so a
// viewer asking for a page that does not exist would get 403, not 404.
type roleRoutes struct {
	g    *echo.Group
	role echo.MiddlewareFunc
}

// GET registers a GET route that requires the role.
func (r roleRoutes) GET(path string, h echo.HandlerFunc) { r.g.GET(path, h, r.role) }

// POST registers a POST route that requires the role.
func (r roleRoutes) POST(path string, h echo.HandlerFunc) { r.g.POST(path, h, r.role) }
