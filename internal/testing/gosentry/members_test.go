package gosentry

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/jianyuan/go-sentry/v2/sentry"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// teamRoles renders go-sentry's TeamRoles sorted, "slug:role" with
// "slug:null" for a stored null role.
func teamRoles(rs []sentry.TeamRole) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		role := "null"
		if r.Role != nil {
			role = *r.Role
		}
		out = append(out, r.TeamSlug+":"+role)
	}
	return sorted(out)
}

// fixtureTeams renders a fixture member's teams as teamRoles does.
func fixtureTeams(ms []sentrysim.TeamMembership) (slugs, roles []string) {
	for _, tm := range ms {
		role := tm.Role
		if role == "" {
			role = "null"
		}
		slugs = append(slugs, tm.Team)
		roles = append(roles, tm.Team+":"+role)
	}
	return sorted(slugs), sorted(roles)
}

// TestMembersListReachesEveryMember pages OrganizationMembers.List over an
// organization of 230 members with go-sentry's own cursor handling: every
// approved member comes back once, in three pages of at most 100, with the
// org role, invite state and flags the organization holds
// (organization_member/index.py: invite_status approved, OffsetPaginator,
// OrganizationMemberSerializer, which carries no teams). Get of each member
// (OrganizationMemberWithRolesSerializer) carries its teams and team roles
// (checked on every fifth member, to keep the suite fast).
func TestMembersListReachesEveryMember(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 230, Teams: 40, Projects: 5, Seed: 7})
	s := start(t, fx, sentrysim.Options{})
	c := s.owner()
	members, pages := listAll(t, "OrganizationMembers.List", func(p *sentry.ListCursorParams) ([]*sentry.OrganizationMember, *sentry.Response, error) {
		return c.OrganizationMembers.List(ctx, org, p)
	})
	if pages != 3 {
		t.Errorf("OrganizationMembers.List: %d pages, want 3 (230 members, 100 a page)", pages)
	}
	got := map[string]*sentry.OrganizationMember{}
	for _, m := range members {
		if got[m.Email] != nil {
			t.Errorf("OrganizationMembers.List: %s twice", m.Email)
		}
		got[m.Email] = m
	}
	if len(got) != len(fx.Members) {
		t.Errorf("OrganizationMembers.List: %d members, want %d", len(got), len(fx.Members))
	}
	for i, want := range fx.Members {
		m := got[want.Email]
		if m == nil {
			t.Errorf("OrganizationMembers.List: %s missing", want.Email)
			continue
		}
		if m.ID != fmt.Sprint(want.ID) || m.OrgRole != want.Role || m.Pending != want.Pending ||
			!m.DateCreated.Equal(want.DateCreated) || m.InviteStatus != "approved" {
			t.Errorf("OrganizationMembers.List: %s = id %s orgRole %s pending %t dateCreated %v inviteStatus %s, want id %d orgRole %s pending %t dateCreated %v approved",
				want.Email, m.ID, m.OrgRole, m.Pending, m.DateCreated, m.InviteStatus, want.ID, want.Role, want.Pending, want.DateCreated)
		}
		if linked := slices.Contains(want.Flags, "sso:linked"); m.Flags["sso:linked"] != linked {
			t.Errorf("OrganizationMembers.List: %s flags[sso:linked] = %t, want %t", want.Email, m.Flags["sso:linked"], linked)
		}
		if !want.Pending && m.User.Email != want.Email {
			t.Errorf("OrganizationMembers.List: %s user.email = %q", want.Email, m.User.Email)
		}
		if i%5 != 0 {
			continue
		}
		d, _, err := c.OrganizationMembers.Get(ctx, org, m.ID)
		must(t, "OrganizationMembers.Get("+m.ID+")", err)
		slugs, roles := fixtureTeams(want.Teams)
		if d.OrgRole != want.Role || !slices.Equal(sorted(d.Teams), slugs) || !slices.Equal(teamRoles(d.TeamRoles), roles) {
			t.Errorf("OrganizationMembers.Get(%s) = orgRole %s teams %v teamRoles %v, want %s %v %v",
				want.Email, d.OrgRole, d.Teams, teamRoles(d.TeamRoles), want.Role, slugs, roles)
		}
	}
}

// Demo members the lifecycle tests act on (sentrysim.DemoFixture).
const (
	gusGrant = "1029" // member on platform and backend-eng, no IdP flags
)

// TestMemberInviteGetUpdateDelete runs go-sentry's member calls in the
// order a Terraform apply makes them: Create (an invite, with teams), Get,
// Update of an accepted member's org role and team roles (go-sentry sends
// the full teamRoles with "role": null for a null role), and Delete.
func TestMemberInviteGetUpdateDelete(t *testing.T) {
	t.Parallel()
	s := demo(t)
	c := s.owner()

	inv, resp, err := c.OrganizationMembers.Create(ctx, org, &sentry.CreateOrganizationMemberParams{
		Email: "tf@acme.test", Role: sentry.OrganizationRoleMember, Teams: []string{"payments", "mobile"}})
	must(t, "OrganizationMembers.Create", err)
	if resp.StatusCode != http.StatusCreated || inv.Email != "tf@acme.test" || inv.OrgRole != "member" || !inv.Pending ||
		inv.Expired || inv.InviteStatus != "approved" {
		t.Errorf("OrganizationMembers.Create = %d %+v", resp.StatusCode, inv)
	}
	got, _, err := c.OrganizationMembers.Get(ctx, org, inv.ID)
	must(t, "OrganizationMembers.Get(invite)", err)
	// Sentry joins an invite's teams with a null team role
	// (organization_member/index.py, post; save_team_assignments).
	if !slices.Equal(sorted(got.Teams), []string{"mobile", "payments"}) ||
		!slices.Equal(teamRoles(got.TeamRoles), []string{"mobile:null", "payments:null"}) || str(got.InviterName) != "Olivia Owner" {
		t.Errorf("OrganizationMembers.Get(invite): teams %v teamRoles %v inviterName %s", got.Teams, teamRoles(got.TeamRoles), str(got.InviterName))
	}
	_, _, err = c.OrganizationMembers.Create(ctx, org, &sentry.CreateOrganizationMemberParams{Email: "tf@acme.test", Role: "member"})
	// An email already invited is 400 on "email"
	// (organization_member/index.py, OrganizationMemberRequestSerializer.validate_email).
	refused(t, "OrganizationMembers.Create(again)", err, http.StatusBadRequest, "The user tf@acme.test has already been invited", true)

	admin := sentry.TeamRoleAdmin
	upd, _, err := c.OrganizationMembers.Update(ctx, org, gusGrant, &sentry.UpdateOrganizationMemberParams{
		OrganizationRole: sentry.OrganizationRoleMember,
		TeamRoles:        []sentry.TeamRole{{TeamSlug: "platform", Role: &admin}, {TeamSlug: "mobile", Role: nil}}})
	must(t, "OrganizationMembers.Update(team roles)", err)
	// teamRoles is the whole set: backend-eng, left out, is left.
	if upd.OrgRole != "member" || !slices.Equal(sorted(upd.Teams), []string{"mobile", "platform"}) ||
		!slices.Equal(teamRoles(upd.TeamRoles), []string{"mobile:null", "platform:admin"}) {
		t.Errorf("OrganizationMembers.Update(team roles) = orgRole %s teams %v teamRoles %v", upd.OrgRole, upd.Teams, teamRoles(upd.TeamRoles))
	}
	upd, _, err = c.OrganizationMembers.Update(ctx, org, gusGrant, &sentry.UpdateOrganizationMemberParams{
		OrganizationRole: sentry.OrganizationRoleManager, TeamRoles: upd.TeamRoles})
	must(t, "OrganizationMembers.Update(org role)", err)
	if upd.OrgRole != "manager" || !slices.Equal(sorted(upd.Teams), []string{"mobile", "platform"}) {
		t.Errorf("OrganizationMembers.Update(org role) = orgRole %s teams %v", upd.OrgRole, upd.Teams)
	}
	got, _, err = c.OrganizationMembers.Get(ctx, org, gusGrant)
	must(t, "OrganizationMembers.Get(updated)", err)
	if got.OrgRole != "manager" || !slices.Equal(teamRoles(got.TeamRoles), teamRoles(upd.TeamRoles)) {
		t.Errorf("OrganizationMembers.Get(updated) = orgRole %s teamRoles %v, want manager %v", got.OrgRole, teamRoles(got.TeamRoles), teamRoles(upd.TeamRoles))
	}

	for _, id := range []string{gusGrant, inv.ID} {
		resp, err := c.OrganizationMembers.Delete(ctx, org, id)
		must(t, "OrganizationMembers.Delete("+id+")", err)
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("OrganizationMembers.Delete(%s) = %d, want 204", id, resp.StatusCode)
		}
		_, _, err = c.OrganizationMembers.Get(ctx, org, id)
		refused(t, "OrganizationMembers.Get(deleted "+id+")", err, http.StatusNotFound, "The requested resource does not exist", false)
	}
}

// TestMemberRefusals: what Sentry refuses comes back as go-sentry's
// *sentry.ErrorResponse with Sentry's status and message.
func TestMemberRefusals(t *testing.T) {
	t.Parallel()
	s := demo(t)
	manager := s.client(sentrysim.DemoManagerToken)
	member := s.client(sentrysim.DemoMemberToken)

	// A manager may not give the owner role
	// (organization_member/details.py, put: 400 on orgRole).
	_, _, err := manager.OrganizationMembers.Update(ctx, org, gusGrant, &sentry.UpdateOrganizationMemberParams{
		OrganizationRole: sentry.OrganizationRoleOwner, TeamRoles: []sentry.TeamRole{{TeamSlug: "platform"}}})
	refused(t, "OrganizationMembers.Update(owner) by a manager", err, http.StatusBadRequest,
		"You do not have permission to set that org-level role", true)

	// A plain member holds no member:write (the scope_map of
	// OrganizationMemberPermission for PUT).
	_, _, err = member.OrganizationMembers.Update(ctx, org, gusGrant, &sentry.UpdateOrganizationMemberParams{
		OrganizationRole: sentry.OrganizationRoleMember, TeamRoles: []sentry.TeamRole{}})
	refused(t, "OrganizationMembers.Update by a member", err, http.StatusBadRequest,
		"You do not have permission to set that org-level role", true)

	// Nor may a plain member remove another member
	// (organization_member/details.py, delete: ERR_INSUFFICIENT_SCOPE).
	_, err = member.OrganizationMembers.Delete(ctx, org, gusGrant)
	refused(t, "OrganizationMembers.Delete by a member", err, http.StatusBadRequest,
		"You are missing the member:admin scope.", false)

	_, _, err = manager.OrganizationMembers.Get(ctx, org, "999999")
	refused(t, "OrganizationMembers.Get(unknown)", err, http.StatusNotFound, "The requested resource does not exist", false)

	// A manager may not invite an owner.
	_, _, err = manager.OrganizationMembers.Create(ctx, org, &sentry.CreateOrganizationMemberParams{Email: "boss@acme.test", Role: "owner"})
	refused(t, "OrganizationMembers.Create(owner) by a manager", err, http.StatusBadRequest, "You do not have permission to set that org-level role", true)
}
