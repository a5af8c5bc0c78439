package gosentry

import (
	"net/http"
	"slices"
	"testing"

	"github.com/jianyuan/go-sentry/v2/sentry"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// TestOrganizations runs go-sentry's Organizations.List and .Get: the
// token's organization with its identity, its access settings and the
// caller's role and scopes, and the role lists go-sentry declares.
func TestOrganizations(t *testing.T) {
	t.Parallel()
	s := demo(t)
	fx := sentrysim.DemoFixture()
	c := s.owner()

	orgs, _ := listAll(t, "Organizations.List", func(p *sentry.ListCursorParams) ([]*sentry.Organization, *sentry.Response, error) {
		return c.Organizations.List(ctx, p)
	})
	if len(orgs) != 1 {
		t.Fatalf("Organizations.List = %d organizations, want 1", len(orgs))
	}
	o := orgs[0]
	if str(o.ID) != "1" || str(o.Slug) != org || str(o.Name) != fx.Org.Name || o.Status == nil || str(o.Status.ID) != "active" {
		t.Errorf("Organizations.List: id %s slug %s name %s status %+v", str(o.ID), str(o.Slug), str(o.Name), o.Status)
	}
	if o.DateCreated == nil || !o.DateCreated.Equal(fx.Org.DateCreated) {
		t.Errorf("Organizations.List: dateCreated %v, want %v", o.DateCreated, fx.Org.DateCreated)
	}
	if !slices.Contains(o.Features, "organizations:team-roles") {
		t.Errorf("Organizations.List: features %v lack organizations:team-roles", o.Features)
	}

	got, _, err := c.Organizations.Get(ctx, org)
	must(t, "Organizations.Get", err)
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"slug", str(got.Slug), org},
		{"name", str(got.Name), fx.Org.Name},
		{"openMembership", *got.OpenMembership, false},
		{"allowJoinRequests", *got.AllowJoinRequests, true},
		{"eventsMemberAdmin", *got.EventsMemberAdmin, true},
		{"alertsMemberWrite", *got.AlertsMemberWrite, true},
		{"require2FA", *got.Require2FA, false},
		{"defaultRole", str(got.DefaultRole), "member"},
		{"role", str(got.Role), "owner"},
		{"pendingAccessRequests", *got.PendingAccessRequests, len(fx.AccessRequests)},
		{"access has org:admin", slices.Contains(got.Access, "org:admin"), true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("Organizations.Get: %s = %v, want %v", ck.field, ck.got, ck.want)
		}
	}
	var orgRoles []string
	for _, r := range got.OrgRoleList {
		orgRoles = append(orgRoles, r.ID+"/"+r.MinimumTeamRole)
	}
	if want := []string{"billing/contributor", "member/contributor", "admin/admin", "manager/admin", "owner/admin"}; !slices.Equal(orgRoles, want) {
		t.Errorf("Organizations.Get: orgRoleList (id/minimumTeamRole) = %v, want %v", orgRoles, want)
	}
	var teamRoles []string
	for _, r := range got.TeamRoleList {
		teamRoles = append(teamRoles, r.ID+"/"+str(r.IsMinimumRoleFor))
	}
	// Only Team Admin names the org role it is the minimum for
	// (SENTRY_TEAM_ROLES in src/sentry/conf/server.py).
	if want := []string{"contributor/<nil>", "admin/admin"}; !slices.Equal(teamRoles, want) {
		t.Errorf("Organizations.Get: teamRoleList (id/isMinimumRoleFor) = %v, want %v", teamRoles, want)
	}
}

// TestOrganizationRefusals: an unknown organization and a rejected token
// come back as go-sentry's *sentry.ErrorResponse with Sentry's message
// (src/sentry/api/exceptions.py ResourceDoesNotExist,
// src/sentry/api/authentication.py).
func TestOrganizationRefusals(t *testing.T) {
	t.Parallel()
	s := demo(t)
	_, _, err := s.owner().Organizations.Get(ctx, "no-such-org")
	refused(t, "Organizations.Get(no-such-org)", err, http.StatusNotFound, "The requested resource does not exist", false)
	_, _, err = s.client("sntryu_not_a_token").Organizations.Get(ctx, org)
	refused(t, "Organizations.Get with a bad token", err, http.StatusUnauthorized, "Invalid token", false)
}
