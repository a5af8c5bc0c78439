package httpui

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/web"
)

// handleProjectAccess is /projects/:slug/access, the "give a member access
// to this project" entry: a member (viewers: only themselves) and one of
// the project's linked teams, then the change form with that team-add step
// prefilled. SCIM-managed teams are listed but not offered: Sentry refuses
// direct membership changes on them (docs/sentry-access-model.md#scim).
func (s *Server) handleProjectAccess(c echo.Context) error {
	ex, err := s.explorer()
	if err != nil {
		return err
	}
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	row, err := ex.ProjectRow(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	a := actor(c)
	ch, err := svc.Choices(ctx, a)
	if err != nil {
		return err
	}
	v := web.ProjectAccessView{Project: row.Slug, Viewer: ch.SelfServiceOnly, SelfID: ch.SelfID, SelfEmail: a.Email,
		Member: c.QueryParam("member"), Teams: projectAccessTeams(ch, row.Teams)}
	if m, ok := ch.Member(v.Member); ok {
		v.Member = m.Email // a link may name the member by id
	}
	return s.page(c, http.StatusOK, "Give access to "+row.Slug, web.NavProjects, web.ProjectAccessForm(v))
}

// projectAccessTeams are the project's teams in slug order, SCIM-managed
// ones marked.
func projectAccessTeams(ch changes.Choices, slugs []string) []web.ProjectAccessTeam {
	out := make([]web.ProjectAccessTeam, 0, len(slugs))
	for _, slug := range slugs {
		out = append(out, web.ProjectAccessTeam{Slug: slug, SCIM: slices.Contains(ch.SCIMTeams, slug)})
	}
	slices.SortFunc(out, func(a, b web.ProjectAccessTeam) int { return strings.Compare(a.Slug, b.Slug) })
	return out
}

// preparedOptionsCache holds the option tags of the last list of values
// asked for; the read model shares one team list per snapshot.
type preparedOptionsCache struct {
	mu sync.Mutex
	p  web.PreparedOptions
}

// of returns values' prepared option tags; when they cannot be rendered,
// the zero value (the page renders them itself).
func (c *preparedOptionsCache) of(ctx context.Context, values []string) web.PreparedOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.p.For(values) && len(values) > 0 {
		if p, err := web.PrepareOptions(ctx, values); err == nil {
			c.p = p
		}
	}
	return c.p
}

// memberGrants are the member's time-bound team memberships; without a
// change service there are none.
func (s *Server) memberGrants(ctx context.Context, memberID string) ([]web.MemberGrant, error) {
	if s.deps.Changes == nil {
		return nil, nil
	}
	return s.deps.Changes.TimeBoundMemberships(ctx, memberID)
}
