package httpui

import (
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
)

// mayRequest reports, for each proposal a page would offer (the steps of
// one change request), whether the signed-in user may file it; the
// changes service decides (Changes.MayRequest). Without a change service
// nothing is offered. Without this, the lookup and the troubleshooting page
// offered a viewer "Request adding paul to team X", and the form silently
// swapped paul for the viewer.
func (s *Server) mayRequest(c echo.Context, proposals ...[]changes.Step) ([]bool, error) {
	if s.deps.Changes == nil {
		return make([]bool, len(proposals)), nil
	}
	return s.deps.Changes.MayRequest(c.Request().Context(), actor(c), proposals...)
}

// askAnApprover is said where a viewer is not offered a change request.
const askAnApprover = "Only approvers can request this change; ask one (viewers may only request their own team changes)."
