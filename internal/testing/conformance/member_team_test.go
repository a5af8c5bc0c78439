package conformance

import (
	"encoding/json"
	"testing"
)

const (
	srcMemberTeam = "src/sentry/core/endpoints/organization_member_team_details.py"
	tMemberTeam   = "tests/sentry/core/endpoints/test_organization_member_team_details.py"
)

// memberTeam is the member↔team path of a person and a team slug.
func memberTeam(name, team string) string {
	return "/api/0/organizations/{org}/members/{m:" + name + "}/teams/" + team + "/"
}

func onTeam(name, team string, want bool) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		_, got := w.teamRole(t, name, team)
		equal(t, name+" on "+team, got, want)
	}
}

func requests(want ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		equal(t, "access requests", w.accessRequests(t), want)
	}
}

func storedTeamRole(name, team, want string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		got, _ := w.teamRole(t, name, team)
		equal(t, name+"'s stored role on "+team, got, want)
	}
}

func TestMemberTeamAdd(t *testing.T) {
	t.Parallel()
	closed := opts{closed: true}
	post := "POST"
	var rules []rule
	// CreateOrganizationMemberTeamTest runs under open membership and again
	// under closed membership (CreateWithClosedMembershipTest).
	for _, o := range []struct {
		opts opts
		tag  string
	}{{opts{}, "open"}, {closed, "closed"}} {
		rules = append(rules,
			rule{name: o.tag + ": a manager may join a team", sentry: tMemberTeam + "::test_manager_can_join_team",
				opts: o.opts, as: "manager", method: post, path: memberTeam("manager", "team"), status: 201, then: onTeam("manager", "team", true)},
			rule{name: o.tag + ": an owner may join a team", sentry: tMemberTeam + "::test_owner_can_join_team",
				opts: o.opts, as: "owner", method: post, path: memberTeam("owner", "team"), status: 201, then: onTeam("owner", "team", true)},
			rule{name: o.tag + ": an admin on the team may add members", sentry: tMemberTeam + "::test_admin_on_team_can_add_members_to_team",
				opts: o.opts, as: "admin_on_team", method: post, path: memberTeam("member", "team"), status: 201, then: onTeam("member", "team", true)},
			rule{name: o.tag + ": a manager may add members", sentry: tMemberTeam + "::test_manager_can_add_members_to_team",
				opts: o.opts, as: "manager", method: post, path: memberTeam("owner", "team"), status: 201, then: onTeam("owner", "team", true)},
			rule{name: o.tag + ": an owner may add members", sentry: tMemberTeam + "::test_owner_can_add_members_to_team",
				opts: o.opts, as: "owner", method: post, path: memberTeam("manager", "team"), status: 201, then: onTeam("manager", "team", true)},
			rule{name: o.tag + ": a role without team roles cannot be put on a team", sentry: tMemberTeam + "::test_cannot_add_to_team_when_team_roles_disabled",
				opts: o.opts, as: "manager", method: post, path: memberTeam("billing", "team"), status: 403,
				want: `{"detail":"The user with a 'billing' role cannot have team-level permissions."}`},
			rule{name: o.tag + ": a team admin may add members", sentry: tMemberTeam + "::test_team_admin_can_add_member",
				opts: o.opts, as: "team_admin", method: post, path: memberTeam("member", "team"), status: 201, then: onTeam("member", "team", true)},
		)
	}
	rules = append(rules,
		rule{name: "open: a member may join a team", sentry: tMemberTeam + "::CreateWithOpenMembershipTest::test_member_can_join_team",
			as: "member", method: post, path: memberTeam("member", "team"), status: 201, then: onTeam("member", "team", true)},
		rule{name: "open: an admin may join a team", sentry: tMemberTeam + "::test_admin_can_join_team",
			as: "admin", method: post, path: memberTeam("admin", "team"), status: 201},
		rule{name: "open: nobody joins an IdP-provisioned team", sentry: tMemberTeam + "::test_cannot_join_idp_team",
			as: "member", method: post, path: memberTeam("member", "idp-team"), status: 403,
			want: `{"detail":"This team is managed through your organization's identity provider."}`, then: onTeam("member", "idp-team", false)},
		rule{name: "open: a member may add another member to a team", sentry: tMemberTeam + "::test_member_can_add_member_to_team",
			as: "member", method: post, path: memberTeam("other_member", "team"), status: 201,
			then: both(onTeam("other_member", "team", true), requests())},
		rule{name: "open: an admin may add a member to a team", sentry: tMemberTeam + "::test_admin_can_add_member_to_team",
			as: "admin", method: post, path: memberTeam("member", "team"), status: 201},
		rule{name: "open: nobody adds others to an IdP-provisioned team", sentry: tMemberTeam + "::test_cannot_add_to_idp_team",
			as: "admin", method: post, path: memberTeam("member", "idp-team"), status: 403},
		rule{name: "a member already on the team is 204", sentry: srcMemberTeam + ": post (OrganizationMemberTeam exists: 204)",
			as: "owner", method: post, path: memberTeam("member_on_team", "team"), status: 204},
		rule{name: "closed: a member must request access to join", sentry: tMemberTeam + "::test_member_must_request_access_to_join_team",
			opts: closed, as: "member", method: post, path: memberTeam("member", "team"), status: 202,
			then: both(onTeam("member", "team", false), requests("member>team"))},
		rule{name: "closed: an admin must request access to join", sentry: tMemberTeam + "::test_admin_must_request_access_to_join_team",
			opts: closed, as: "admin", method: post, path: memberTeam("admin", "team"), status: 202,
			then: both(onTeam("admin", "team", false), requests("admin>team"))},
		rule{name: "closed: a member on the team asks on another's behalf", sentry: tMemberTeam + "::test_member_on_team_must_request_access_to_add_member_to_team",
			opts: closed, as: "member_on_team", method: post, path: memberTeam("member", "team"), status: 202,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "owner", "GET", "/api/0/organizations/{org}/access-requests/", nil)
				var ars []struct {
					Requester *struct{ Email string } `json:"requester"`
				}
				if err := json.Unmarshal(a.body, &ars); err != nil || len(ars) != 1 || ars[0].Requester == nil {
					t.Fatalf("access requests = %s", a.body)
				}
				equal(t, "requester", ars[0].Requester.Email, emailOf("member_on_team"))
			}},
		rule{name: "closed: an admin off the team must request access to add a member", sentry: tMemberTeam + "::test_admin_must_request_access_to_add_member_to_team",
			opts: closed, as: "admin", method: post, path: memberTeam("member", "team"), status: 202, then: requests("member>team")},
		rule{name: "closed: a team admin's token needs org:read and team:write", sentry: tMemberTeam + "::test_team_admin_can_add_member_using_user_token",
			opts: closed, as: "team_admin[org:read team:write]", method: post, path: memberTeam("member", "team"), status: 201},
		rule{name: "closed: an integration token with only org:read makes an access request", sentry: tMemberTeam + "::test_integration_token_needs_elevated_permissions",
			opts: closed, as: "integration[org:read]", method: post, path: memberTeam("member", "team"), status: 202,
			then: both(onTeam("member", "team", false), requests("member>team"))},
		rule{name: "closed: an integration token with team:write adds", sentry: srcMemberTeam + ": _can_create_team_member (_has_elevated_scope)",
			opts: closed, as: "integration[org:read team:write]", method: post, path: memberTeam("member", "team"), status: 201},
		rule{name: "open: an integration token with only org:read adds", sentry: srcMemberTeam + ": _can_create_team_member (has_global_access)",
			as: "integration[org:read]", method: post, path: memberTeam("member", "team"), status: 201},
		rule{name: "the same access request is made once", sentry: tMemberTeam + "::test_multiple_of_the_same_access_request",
			opts: closed, as: "member", method: post, path: memberTeam("admin", "team"), status: 202,
			then: func(t *testing.T, w *world) {
				w.do(t, "member_on_team", "POST", memberTeam("admin", "team"), nil)
				equal(t, "access requests", w.accessRequests(t), []string{"admin>team"})
			}},
	)
	runRules(t, rules)
}

func TestMemberTeamRemove(t *testing.T) {
	t.Parallel()
	del := "DELETE"
	const refused = `{"detail":"You do not have permission to edit that user's membership."}`
	runRules(t, []rule{
		{name: "a member may leave a team", sentry: tMemberTeam + "::test_member_can_leave",
			as: "member_on_team", method: del, path: memberTeam("member_on_team", "team"), status: 200,
			want: `{"isMember":false}`, then: onTeam("member_on_team", "team", false)},
		{name: "leaving a team one is not on is 200", sentry: tMemberTeam + "::test_member_can_leave_without_membership",
			as: "member", method: del, path: memberTeam("member", "team"), status: 200},
		{name: "a member cannot remove another member (400)", sentry: tMemberTeam + "::test_member_cannot_remove_member",
			as: "member_on_team", method: del, path: memberTeam("member_on_team2", "team"), status: 400,
			want: refused, then: onTeam("member_on_team2", "team", true)},
		{name: "an admin off the team cannot remove members", sentry: tMemberTeam + "::test_admin_cannot_remove_member",
			as: "admin", method: del, path: memberTeam("member_on_team", "team"), status: 400, want: refused},
		{name: "an admin off the team cannot remove members with a team:admin token", sentry: tMemberTeam + "::test_admin_cannot_remove_member_using_user_token",
			as: "admin[team:admin]", method: del, path: memberTeam("member_on_team", "team"), status: 400, want: refused},
		{name: "an admin on the team may remove an owner from it", sentry: tMemberTeam + "::test_admin_on_team_can_remove_members",
			as: "admin_on_team", method: del, path: memberTeam("owner_on_team", "team"), status: 200, then: onTeam("owner_on_team", "team", false)},
		{name: "an admin on the team may remove members with a team:admin token", sentry: tMemberTeam + "::test_admin_on_team_can_remove_members_using_user_token",
			as: "admin_on_team[team:admin]", method: del, path: memberTeam("member_on_team", "team"), status: 200},
		{name: "a manager on the team may remove an owner", sentry: tMemberTeam + "::test_manager_can_remove_members",
			as: "manager_on_team", method: del, path: memberTeam("owner_on_team", "team"), status: 200},
		{name: "a manager off the team may remove members with an org:write token", sentry: tMemberTeam + "::test_manager_can_remove_members_using_user_token",
			as: "manager[org:write]", method: del, path: memberTeam("owner_on_team", "team"), status: 200},
		{name: "a manager off the team may remove members with a team:admin token", sentry: tMemberTeam + "::test_manager_can_remove_members_using_user_token",
			as: "manager[team:admin]", method: del, path: memberTeam("member_on_team", "team"), status: 200},
		{name: "an owner may remove members with an org:admin token", sentry: tMemberTeam + "::test_owner_can_remove_members_using_user_token",
			as: "owner[org:admin]", method: del, path: memberTeam("manager_on_team", "team"), status: 200},
		{name: "nobody leaves an IdP-provisioned team", sentry: tMemberTeam + "::test_cannot_leave_idp_provisioned_team",
			opts: opts{closed: true}, as: "on_idp_team", method: del, path: memberTeam("on_idp_team", "idp-team"), status: 403,
			then: onTeam("on_idp_team", "idp-team", true)},
		{name: "leaving the team ends the access it gave", sentry: tMemberTeam + "::test_access_revoked_after_leaving_team",
			opts: opts{closed: true}, as: "member_on_team", method: del, path: memberTeam("member_on_team", "team"), status: 200,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "member_on_team", "GET", "/api/0/organizations/{org}/projects/?all_projects=1", nil)
				var ps []struct {
					Slug      string
					HasAccess bool `json:"hasAccess"`
				}
				_ = json.Unmarshal(a.body, &ps)
				for _, p := range ps {
					if p.Slug == "project" && p.HasAccess {
						t.Errorf("project still reachable after leaving the team")
					}
				}
			}},
	})
}

func TestMemberTeamRead(t *testing.T) {
	t.Parallel()
	runRules(t, []rule{
		{name: "GET is the membership", sentry: tMemberTeam + "::ReadOrganizationMemberTeamTest::test_get",
			as: "owner", method: "GET", path: memberTeam("member_on_team", "team"), status: 200, want: `{"isActive":true,"teamRole":null}`},
		{name: "GET has the stored team role", sentry: tMemberTeam + "::test_get_role",
			as: "owner", method: "GET", path: memberTeam("team_admin", "team"), status: 200, want: `{"isActive":true,"teamRole":"admin"}`},
		{name: "GET of an unknown team is 404", sentry: tMemberTeam + "::test_not_found",
			as: "owner", method: "GET", path: memberTeam("team_admin", "bad_team"), status: 404},
		{name: "GET of a team the member is not on is 404", sentry: srcMemberTeam + ": convert_args (OrganizationMemberTeam.DoesNotExist)",
			as: "owner", method: "GET", path: memberTeam("member", "team"), status: 404},
	})
}

func TestMemberTeamRole(t *testing.T) {
	t.Parallel()
	put := "PUT"
	admin := map[string]any{"teamRole": "admin"}
	contributor := map[string]any{"teamRole": "contributor"}
	const refused = `{"detail":"You do not have permission to edit that user's membership."}`
	runRules(t, []rule{
		{name: "an unknown team role is 400", sentry: tMemberTeam + "::test_cannot_set_nonexistent_role",
			as: "owner", method: put, path: memberTeam("member_on_team", "team"), body: map[string]any{"teamRole": "poobah"}, status: 400},
		{name: "a member not on the team is 404", sentry: tMemberTeam + "::test_cannot_promote_nonmember",
			as: "owner", method: put, path: memberTeam("member", "team"), body: admin, status: 404},
		{name: "an owner may promote a member to Team Admin", sentry: tMemberTeam + "::test_owner_can_promote_member",
			as: "owner", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 200,
			want: `{"isActive":true,"teamRole":"admin"}`, then: storedTeamRole("member_on_team", "team", "admin")},
		{name: "a team admin may promote a member", sentry: tMemberTeam + "::test_team_admin_can_promote_member",
			as: "team_admin", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 200,
			then: storedTeamRole("member_on_team", "team", "admin")},
		{name: "an admin on the team may promote a member", sentry: tMemberTeam + "::test_admin_can_promote_member",
			as: "admin_on_team", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 200},
		{name: "a member cannot promote a member", sentry: tMemberTeam + "::test_member_cannot_promote_member",
			as: "member_on_team", method: put, path: memberTeam("member_on_team2", "team"), body: admin, status: 400,
			want: refused, then: storedTeamRole("member_on_team2", "team", "")},
		{name: "an org:write integration token may set team roles", sentry: tMemberTeam + "::test_org_write_scope_can_manage_team_roles",
			as: "integration[org:write]", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 200},
		{name: "a member:write integration token may set team roles", sentry: tMemberTeam + "::test_member_write_scope_can_manage_team_roles",
			as: "integration[member:write]", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 200},
		{name: "a team:write integration token may set team roles", sentry: tMemberTeam + "::test_team_write_scope_can_manage_team_roles",
			as: "integration[team:write]", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 200},
		{name: "an org:read integration token may not set team roles", sentry: tMemberTeam + "::test_org_read_scope_cannot_manage_team_roles",
			as: "integration[org:read]", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 400, want: refused},
		{name: "a member:read integration token may not set team roles", sentry: tMemberTeam + "::test_member_read_scope_cannot_manage_team_roles",
			as: "integration[member:read]", method: put, path: memberTeam("member_on_team", "team"), body: admin, status: 400, want: refused},
		{name: "a contributor cannot demote a Team Admin", sentry: tMemberTeam + "::test_team_contributor_cannot_downgrade_team_admin",
			as: "member", method: put, path: memberTeam("team_admin", "team"), body: contributor, status: 400,
			want: refused, then: storedTeamRole("team_admin", "team", "admin")},
		{name: "a contributor cannot demote an org admin whose team role is the minimum", sentry: tMemberTeam + "::test_member_cannot_downgrade_org_admin_without_explicit_team_role",
			as: "member_on_team", method: put, path: memberTeam("admin_on_team", "team"), body: contributor, status: 400, want: refused},
		{name: "a team role at or below the member's minimum is stored as null", sentry: srcMemberTeam + ": _change_team_member_role",
			as: "owner", method: put, path: memberTeam("manager_on_team", "team"), body: admin, status: 200,
			want: `{"teamRole":null}`, then: storedTeamRole("manager_on_team", "team", "")},
	})
}
