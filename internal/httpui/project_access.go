package httpui

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/access"
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
	_, data, err := s.changesSvc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := ex.Project(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	snap, err := data.Snapshot(ctx)
	if err != nil {
		return err
	}
	base, _, err := s.formBase(c, data)
	if err != nil {
		return err
	}
	v := web.ProjectAccessView{Project: d.Row.Slug, Viewer: base.Viewer, SelfID: base.SelfID, SelfEmail: base.SelfEmail,
		Member: c.QueryParam("member"), Teams: projectAccessTeams(snap, d.Row.Teams)}
	if !v.Viewer {
		v.Members = memberChoices(snap)
	}
	return s.page(c, http.StatusOK, "Give access to "+d.Row.Slug, web.NavProjects, web.ProjectAccessForm(v))
}

// projectAccessTeams are the project's teams in slug order, SCIM-managed
// ones marked.
func projectAccessTeams(snap *access.Snapshot, slugs []string) []web.ProjectAccessTeam {
	out := make([]web.ProjectAccessTeam, 0, len(slugs))
	for _, slug := range slugs {
		t := web.ProjectAccessTeam{Slug: slug}
		if snap != nil {
			if i := slices.IndexFunc(snap.Teams, func(x access.Team) bool { return x.Slug == slug }); i >= 0 {
				t.SCIM = snap.Teams[i].IDPProvisioned
			}
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b web.ProjectAccessTeam) int { return strings.Compare(a.Slug, b.Slug) })
	return out
}

// memberChoices are the members by email, each not yet active marked
// with its state.
func memberChoices(snap *access.Snapshot) []web.Option {
	if snap == nil {
		return nil
	}
	out := make([]web.Option, 0, len(snap.Members))
	for _, m := range snap.Members {
		label := m.Email
		if m.State != "" && m.State != access.StateActive {
			label += " (" + string(m.State) + ")"
		}
		out = append(out, web.Option{Value: m.ID, Label: label})
	}
	slices.SortFunc(out, func(a, b web.Option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// memberGrants are the member's active time-bound team memberships: the
// team-add steps of active grants, which their expiry undoes. Without a
// change service there are none.
func (s *Server) memberGrants(ctx context.Context, memberID string) ([]web.MemberGrant, error) {
	if s.deps.Changes == nil {
		return nil, nil
	}
	gs, err := s.deps.Changes.Grants(ctx, changes.GrantFilter{States: []changes.GrantState{changes.GrantActive}})
	if err != nil {
		return nil, err
	}
	var out []web.MemberGrant
	for _, g := range gs {
		for _, st := range g.Revert {
			if st.Kind == changes.KindTeamRemove && st.Params.Member == memberID {
				out = append(out, web.MemberGrant{Team: st.Params.Team, ExpiresAt: g.ExpiresAt, RequestID: g.RequestID})
			}
		}
	}
	return out, nil
}
