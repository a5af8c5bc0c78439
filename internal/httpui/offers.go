package httpui

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// mayRequestLink reports whether the signed-in user may submit the change
// request that href (a prefilled /changes/new?kind=&member=… link) would
// open. Approvers and admins may request anything; a viewer only what the
// policy lets her ask for herself. Without this, the lookup and the
// troubleshooting page offered a viewer "Request adding paul to team X",
// and the form silently swapped paul for the viewer.
func (s *Server) mayRequestLink(c echo.Context, href string) bool {
	a, id := actor(c)
	if id.Role.AtLeast(sentryaccess.RoleApprover) {
		return true
	}
	svc, data, err := s.changesSvc()
	if err != nil {
		return false
	}
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	q := u.Query()
	step := changes.Step{Kind: changes.Kind(q.Get("kind")), Params: changes.Params{Member: q.Get("member"), Team: q.Get("team"), Project: q.Get("project")}}
	snap, err := data.Snapshot(c.Request().Context())
	if err != nil {
		return false
	}
	return svc.Policy().CanRequest(a, selfMember(snap, a.Email), []changes.Step{step}) == nil
}

// askAnApprover is said where a viewer is not offered a change request.
const askAnApprover = "Only approvers can request this change; ask one (viewers may only request their own team changes)."
