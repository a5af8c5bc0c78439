package gosentry

import (
	"net/http"
	"slices"
	"testing"

	"github.com/jianyuan/go-sentry/v2/sentry"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// teamSlugs lists a go-sentry team list's slugs.
func teamSlugs(ts []*sentry.Team) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, str(t.Slug))
	}
	return out
}

// TestTeamsListReachesEveryTeam pages Teams.List over 120 teams with
// go-sentry's cursor: every team once, in two pages
// (organization_teams.py, get: OffsetPaginator ordered by slug).
func TestTeamsListReachesEveryTeam(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 10, Teams: 120, Projects: 5, Seed: 3})
	c := start(t, fx, sentrysim.Options{}).owner()
	teams, pages := listAll(t, "Teams.List", func(p *sentry.ListCursorParams) ([]*sentry.Team, *sentry.Response, error) {
		return c.Teams.List(ctx, org, p)
	})
	if pages != 2 {
		t.Errorf("Teams.List: %d pages, want 2", pages)
	}
	var want []string
	for _, tm := range fx.Teams {
		want = append(want, tm.Slug)
	}
	if got := teamSlugs(teams); !slices.Equal(got, sorted(want)) {
		t.Errorf("Teams.List = %d teams %v…, want %d", len(got), got[:min(3, len(got))], len(want))
	}
}

// TestTeamCreateGetUpdateDelete runs go-sentry's team calls as the
// Terraform provider's sentry_team resource does.
func TestTeamCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	s := demo(t)
	c := s.owner()

	created, resp, err := c.Teams.Create(ctx, org, &sentry.CreateTeamParams{Name: sentry.String("Terraform"), Slug: sentry.String("terraform")})
	must(t, "Teams.Create", err)
	// The creating member joins the team (organization_teams.py, post).
	if resp.StatusCode != http.StatusCreated || str(created.Slug) != "terraform" || str(created.Name) != "Terraform" ||
		created.ID == nil || created.IsMember == nil || !*created.IsMember || created.MemberCount == nil || *created.MemberCount != 1 {
		t.Errorf("Teams.Create = %d slug %s name %s isMember %v memberCount %v", resp.StatusCode, str(created.Slug), str(created.Name), created.IsMember, created.MemberCount)
	}
	_, _, err = c.Teams.Create(ctx, org, &sentry.CreateTeamParams{Name: sentry.String("Terraform"), Slug: sentry.String("terraform")})
	refused(t, "Teams.Create(again)", err, http.StatusConflict, "A team with this slug already exists.", true)

	got, _, err := c.Teams.Get(ctx, org, "terraform")
	must(t, "Teams.Get", err)
	if str(got.ID) != str(created.ID) || str(got.Slug) != "terraform" || got.HasAccess == nil || !*got.HasAccess {
		t.Errorf("Teams.Get = id %s slug %s hasAccess %v, want id %s", str(got.ID), str(got.Slug), got.HasAccess, str(created.ID))
	}

	upd, _, err := c.Teams.Update(ctx, org, "terraform", &sentry.UpdateTeamParams{Name: sentry.String("Terraform Managed"), Slug: sentry.String("tf-managed")})
	must(t, "Teams.Update", err)
	if str(upd.ID) != str(created.ID) || str(upd.Slug) != "tf-managed" || str(upd.Name) != "Terraform Managed" {
		t.Errorf("Teams.Update = id %s slug %s name %s", str(upd.ID), str(upd.Slug), str(upd.Name))
	}
	_, _, err = c.Teams.Get(ctx, org, "terraform")
	refused(t, "Teams.Get(old slug)", err, http.StatusNotFound, "The requested resource does not exist", false)

	teams, _ := listAll(t, "Teams.List", func(p *sentry.ListCursorParams) ([]*sentry.Team, *sentry.Response, error) {
		return c.Teams.List(ctx, org, p)
	})
	if !slices.Contains(teamSlugs(teams), "tf-managed") {
		t.Errorf("Teams.List = %v, want tf-managed in it", teamSlugs(teams))
	}

	resp, err = c.Teams.Delete(ctx, org, "tf-managed")
	must(t, "Teams.Delete", err)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("Teams.Delete = %d, want 204", resp.StatusCode)
	}
	_, _, err = c.Teams.Get(ctx, org, "tf-managed")
	refused(t, "Teams.Get(deleted)", err, http.StatusNotFound, "The requested resource does not exist", false)
	teams, _ = listAll(t, "Teams.List", func(p *sentry.ListCursorParams) ([]*sentry.Team, *sentry.Response, error) {
		return c.Teams.List(ctx, org, p)
	})
	if slices.Contains(teamSlugs(teams), "tf-managed") {
		t.Errorf("Teams.List after Delete still has tf-managed")
	}
}

// TestTeamRefusals: a member without team:admin on a team may not delete
// it, and an IdP-provisioned team is changed only through SCIM
// (team_details.py; can_modify_idp_team).
func TestTeamRefusals(t *testing.T) {
	t.Parallel()
	s := demo(t)
	_, err := s.client(sentrysim.DemoMemberToken).Teams.Delete(ctx, org, "mobile")
	refused(t, "Teams.Delete(mobile) by a member", err, http.StatusForbidden, "You do not have permission to perform this action.", false)
	_, _, err = s.owner().Teams.Update(ctx, org, "identity", &sentry.UpdateTeamParams{Name: sentry.String("Identity & Access")})
	refused(t, "Teams.Update(identity, IdP-provisioned)", err, http.StatusForbidden,
		"This team is managed through your organization's identity provider.", false)
}

// TestTeamMembers runs go-sentry's TeamMembers calls: Create adds a member
// to a team (201 with the team; 204 without a body when already on it),
// Update sets the team role, Delete removes the member (200 with the
// team), each seen on the member's own detail
// (organization_member/team_details.py).
func TestTeamMembers(t *testing.T) {
	t.Parallel()
	s := demo(t)
	c := s.owner()
	memberTeams := func() []string {
		t.Helper()
		m, _, err := c.OrganizationMembers.Get(ctx, org, gusGrant)
		must(t, "OrganizationMembers.Get", err)
		return teamRoles(m.TeamRoles)
	}
	before, _, err := c.Teams.Get(ctx, org, "mobile")
	must(t, "Teams.Get(mobile)", err)

	tm, resp, err := c.TeamMembers.Create(ctx, org, gusGrant, "mobile")
	must(t, "TeamMembers.Create", err)
	if resp.StatusCode != http.StatusCreated || str(tm.Slug) != "mobile" || str(tm.ID) != str(before.ID) ||
		tm.MemberCount == nil || *tm.MemberCount != *before.MemberCount+1 {
		t.Errorf("TeamMembers.Create = %d slug %s id %s memberCount %v, want 201 mobile %s %d",
			resp.StatusCode, str(tm.Slug), str(tm.ID), tm.MemberCount, str(before.ID), *before.MemberCount+1)
	}
	if got, want := memberTeams(), []string{"backend-eng:null", "mobile:null", "platform:null"}; !slices.Equal(got, want) {
		t.Errorf("after TeamMembers.Create: teamRoles %v, want %v", got, want)
	}
	again, resp, err := c.TeamMembers.Create(ctx, org, gusGrant, "mobile")
	must(t, "TeamMembers.Create(again)", err)
	if resp.StatusCode != http.StatusNoContent || again.Slug != nil {
		t.Errorf("TeamMembers.Create(again) = %d slug %s, want 204 without a body", resp.StatusCode, str(again.Slug))
	}

	role, _, err := c.TeamMembers.Update(ctx, org, gusGrant, "mobile", &sentry.UpdateTeamMemberParams{TeamRole: sentry.String(sentry.TeamRoleAdmin)})
	must(t, "TeamMembers.Update", err)
	if role.IsActive == nil || !*role.IsActive || str(role.TeamRole) != "admin" {
		t.Errorf("TeamMembers.Update = isActive %v teamRole %s, want true admin", role.IsActive, str(role.TeamRole))
	}
	if got, want := memberTeams(), []string{"backend-eng:null", "mobile:admin", "platform:null"}; !slices.Equal(got, want) {
		t.Errorf("after TeamMembers.Update: teamRoles %v, want %v", got, want)
	}

	left, resp, err := c.TeamMembers.Delete(ctx, org, gusGrant, "mobile")
	must(t, "TeamMembers.Delete", err)
	if resp.StatusCode != http.StatusOK || str(left.Slug) != "mobile" || *left.MemberCount != *before.MemberCount {
		t.Errorf("TeamMembers.Delete = %d slug %s memberCount %v, want 200 mobile %d", resp.StatusCode, str(left.Slug), left.MemberCount, *before.MemberCount)
	}
	if got, want := memberTeams(), []string{"backend-eng:null", "platform:null"}; !slices.Equal(got, want) {
		t.Errorf("after TeamMembers.Delete: teamRoles %v, want %v", got, want)
	}
}

// TestTeamMemberRefusals: under closed membership a member who is not a
// Team Admin gets an access request (202, no body) instead of adding
// someone, and may not remove another member (400 with Sentry's message);
// a Team Admin adds members to its team (organization_member/team_details.py).
func TestTeamMemberRefusals(t *testing.T) {
	t.Parallel()
	s := demo(t)
	priya := s.client(sentrysim.DemoMemberToken) // member, Team Admin of payments
	_, resp, err := priya.TeamMembers.Create(ctx, org, gusGrant, "mobile")
	must(t, "TeamMembers.Create(mobile) by a member", err)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("TeamMembers.Create(mobile) by a member = %d, want 202 (an access request)", resp.StatusCode)
	}
	tm, resp, err := priya.TeamMembers.Create(ctx, org, gusGrant, "payments")
	must(t, "TeamMembers.Create(payments) by its Team Admin", err)
	if resp.StatusCode != http.StatusCreated || str(tm.Slug) != "payments" {
		t.Errorf("TeamMembers.Create(payments) by its Team Admin = %d %s, want 201 payments", resp.StatusCode, str(tm.Slug))
	}
	_, _, err = priya.TeamMembers.Delete(ctx, org, gusGrant, "platform")
	refused(t, "TeamMembers.Delete(platform) by a member", err, http.StatusBadRequest,
		"You do not have permission to edit that user's membership.", false)
	m, _, err := s.owner().OrganizationMembers.Get(ctx, org, gusGrant)
	must(t, "OrganizationMembers.Get", err)
	if got, want := sorted(m.Teams), []string{"backend-eng", "payments", "platform"}; !slices.Equal(got, want) {
		t.Errorf("teams after the refusals = %v, want %v", got, want)
	}
}

// TestTeamMembersUnderOpenMembership: with open membership any member may
// add another member to any team, 201 with the team, not an access request
// (test_organization_member_team_details.py::test_member_can_add_member_to_team).
func TestTeamMembersUnderOpenMembership(t *testing.T) {
	t.Parallel()
	fx := sentrysim.DemoFixture()
	fx.Org.OpenMembership = sentry.Bool(true)
	s := start(t, fx, sentrysim.Options{})
	tm, resp, err := s.client(sentrysim.DemoMemberToken).TeamMembers.Create(ctx, org, gusGrant, "mobile")
	must(t, "TeamMembers.Create(mobile) by a member", err)
	if resp.StatusCode != http.StatusCreated || str(tm.Slug) != "mobile" {
		t.Errorf("TeamMembers.Create(mobile) by a member = %d %s, want 201 mobile", resp.StatusCode, str(tm.Slug))
	}
	m, _, err := s.owner().OrganizationMembers.Get(ctx, org, gusGrant)
	must(t, "OrganizationMembers.Get", err)
	if !slices.Contains(m.Teams, "mobile") {
		t.Errorf("teams after TeamMembers.Create = %v, want mobile in them", m.Teams)
	}
}
