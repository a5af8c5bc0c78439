package httpui

import (
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/samlauth"
)

// routes registers every route of the dashboard. It is the one place to
// look for what the server answers.
//
// Groups:
//   - public: health, static assets, SAML endpoints, login/logout pages;
//   - app (requireAuth): pages for any signed-in user (viewer and up);
//   - approve / admin (requireRole): mutating routes for those roles.
func (s *Server) routes() {
	e := s.e
	e.Use(requestID, s.securityHeaders, recoverPanics, s.crossOrigin)

	// Public.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/static/*", echo.WrapHandler(s.deps.Assets))
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
	app.GET("/teams", s.handleTeams)
	app.GET("/teams/:slug", s.handleTeam)
	app.GET("/projects", s.handleProjects)
	app.GET("/projects/:slug", s.handleProject)
	app.GET("/lookup", s.handleLookup)
	app.GET("/lookup/suggest", s.handleSuggest)
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

	// Mutating routes for approvers and admins go in these groups, e.g.
	//   approve.POST("/reviews/:id/approve", s.handleApprove)
	approve := app.Group("", requireRole(samlauth.RoleApprover))
	admin := app.Group("", requireRole(samlauth.RoleAdmin))
	approve.POST("/sync", s.handleSyncStart)
	approve.POST("/tokens/intents", s.handleRecordIntent)
	_ = admin
}
