package conformance

import (
	"testing"
)

// Sentry's files the member cases come from.
const (
	srcMemberDetails = "src/sentry/core/endpoints/organization_member_details.py"
	srcMemberIndex   = "src/sentry/core/endpoints/organization_member_index.py"
	srcMemberUtils   = "src/sentry/core/endpoints/organization_member_utils.py"
	tMemberDetails   = "tests/sentry/core/endpoints/test_organization_member_details.py"
)

const members = "/api/0/organizations/{org}/members/"

func teamRoles(pairs ...any) []map[string]any {
	var out []map[string]any
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]any{"teamSlug": pairs[i], "role": pairs[i+1]})
	}
	return out
}

func teamsAre(name string, want ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		equal(t, name+"'s teams", w.teams(t, name), want)
	}
}

func roleIs(name, want string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		equal(t, name+"'s org role", w.member(t, name).OrgRole, want)
	}
}

func isGone(name string, want bool) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		equal(t, name+" removed", w.gone(t, name), want)
	}
}

func both(checks ...func(*testing.T, *world)) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		for _, c := range checks {
			c(t, w)
		}
	}
}

func TestMemberDetails(t *testing.T) {
	t.Parallel()
	runRules(t, []rule{
		{name: "GET me is the caller's own membership", sentry: tMemberDetails + "::test_me",
			as: "owner", method: "GET", path: members + "me/", status: 200,
			want: `{"role":"owner","orgRole":"owner","email":"owner@example.com"}`},
		{name: "GET a garbage id is 404", sentry: tMemberDetails + "::test_get_by_garbage",
			as: "owner", method: "GET", path: members + "trash/", status: 404},
		{name: "GET a join request is 404 (approved members only)", sentry: tMemberDetails + "::test_cannot_get_unapproved_invite",
			as: "owner", method: "GET", path: members + "{m:join_request}/", status: 404},
		{name: "GET lists teams and teamRoles with a null stored role", sentry: tMemberDetails + "::test_get_member_list_teams",
			as: "owner", method: "GET", path: members + "{m:member_on_team}/", status: 200,
			want: `{"teams":["team"],"teamRoles":[{"teamSlug":"team","role":null}]}`},
		{name: "GET lists the team roles contributor and admin", sentry: tMemberDetails + "::test_lists_team_roles",
			as: "owner", method: "GET", path: members + "me/", status: 200,
			want: `{"teamRoleList":[{"id":"contributor"},{"id":"admin"}]}`},
	})
}

func TestMemberUpdate(t *testing.T) {
	t.Parallel()
	put := "PUT"
	runRules(t, []rule{
		{name: "an owner may change a member's role", sentry: tMemberDetails + "::test_can_update_member_membership",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"role": "manager"}, status: 200,
			then: roleIs("member", "manager")},
		{name: "nobody may change their own role", sentry: tMemberDetails + "::test_cannot_update_own_membership",
			as: "owner", method: put, path: members + "{m:owner}/", body: map[string]any{"role": "manager"}, status: 400,
			want: `{"detail":"You cannot make changes to your own role."}`, then: roleIs("owner", "owner")},
		{name: "a member whose role is above the caller's cannot be changed (403)", sentry: tMemberDetails + "::test_cannot_lower_superior_role",
			as: "manager", method: put, path: members + "{m:owner}/", body: map[string]any{"role": "member"}, status: 403,
			want: `{"role":"You do not have permission to assign a role to the given user."}`, then: roleIs("owner", "owner")},
		{name: "a role the caller may not grant is 400 on orgRole", sentry: srcMemberIndex + ": OrganizationMemberRequestSerializer.validate_orgRole (PUT passes the caller's allowed roles)",
			as: "manager", method: put, path: members + "{m:member}/", body: map[string]any{"orgRole": "owner"}, status: 400,
			want: `{"orgRole":["You do not have permission to set that org-level role"]}`, then: roleIs("member", "member")},
		{name: "a role the caller may not grant is 400 on the deprecated role field", sentry: srcMemberIndex + ": OrganizationMemberRequestSerializer.validate_role",
			as: "manager", method: put, path: members + "{m:member}/", body: map[string]any{"role": "owner"}, status: 400,
			want: `{"role":["You do not have permission to set that org-level role"]}`},
		{name: "an integration token's role change is 400 (it has no assignable roles)", sentry: tMemberDetails + "::test_with_internal_integration",
			as: "integration[member:admin]", method: put, path: members + "{m:member}/", body: map[string]any{"role": "manager"}, status: 400,
			then: roleIs("member", "member")},
		{name: "an unknown role is 400", sentry: tMemberDetails + "::test_cannot_update_with_invalid_role",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"role": "invalid"}, status: 400,
			then: roleIs("member", "member")},
		{name: "the retired admin role cannot be newly assigned", sentry: tMemberDetails + "::test_cannot_update_to_retired_role_with_flag",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"role": "admin"}, status: 400,
			then: roleIs("member", "member")},
		{name: "a member may be moved off the retired admin role", sentry: tMemberDetails + "::test_can_update_from_retired_role_with_flag",
			as: "owner", method: put, path: members + "{m:admin}/", body: map[string]any{"role": "member"}, status: 200,
			then: roleIs("admin", "member")},
		{name: "teams replaces the member's team set", sentry: tMemberDetails + "::test_can_update_teams",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"teams": []string{"team", "other-team"}}, status: 200,
			then: teamsAre("member", "other-team", "team")},
		{name: "teamRoles with null roles sets the teams", sentry: tMemberDetails + "::test_can_update_teams_using_teamRoles",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"teamRoles": teamRoles("team", nil, "other-team", nil)}, status: 200,
			then: teamsAre("member", "other-team", "team")},
		{name: "teamRoles stores a team role above the minimum", sentry: tMemberDetails + "::test_can_update_team_role",
			as: "owner", method: put, path: members + "{m:member_on_team}/", body: map[string]any{"teamRoles": teamRoles("team", "admin")}, status: 200,
			then: func(t *testing.T, w *world) {
				role, _ := w.teamRole(t, "member_on_team", "team")
				equal(t, "stored team role", role, "admin")
			}},
		{name: "an unknown team is 400 and changes nothing", sentry: tMemberDetails + "::test_cannot_update_with_invalid_team",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"teams": []string{"invalid"}}, status: 400,
			want: `{"teams":["Invalid teams"]}`, then: teamsAre("member")},
		{name: "a teamRoles entry without role is a server error", sentry: srcMemberIndex + ": validate_teamRoles reads item[\"role\"] of every entry",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"teamRoles": []map[string]any{{"teamSlug": "team"}}}, status: 500,
			then: teamsAre("member")},
		{name: "an unknown team role is 400", sentry: srcMemberIndex + ": validate_teamRoles (Invalid team-role)",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"teamRoles": teamRoles("team", "poobah")}, status: 400,
			want: `{"teamRoles":["Invalid team-role"]}`},
		{name: "a body without teamRoles or teams removes every team membership", sentry: srcMemberDetails + ": put, save_team_assignments(member, None)",
			as: "owner", method: put, path: members + "{m:member_on_team}/", body: map[string]any{"orgRole": "manager"}, status: 200,
			then: both(teamsAre("member_on_team"), roleIs("member_on_team", "manager"))},
		{name: "an empty body removes every team membership too", sentry: srcMemberDetails + ": put, save_team_assignments(member, None)",
			as: "owner", method: put, path: members + "{m:team_admin}/", body: map[string]any{}, status: 200,
			then: teamsAre("team_admin")},
		{name: "team assignments are written before the role checks", sentry: srcMemberDetails + ": put (\"Set the team-role before org-role\"; the 403s come after save_team_assignments)",
			as: "manager", method: put, path: members + "{m:owner_on_team}/", body: map[string]any{"orgRole": "member", "teamRoles": teamRoles("other-team", nil)}, status: 403,
			then: both(teamsAre("owner_on_team", "other-team"), roleIs("owner_on_team", "owner"))},
		{name: "a partnership member cannot be modified", sentry: tMemberDetails + "::test_cannot_update_partnership_member",
			as: "owner", method: put, path: members + "{m:partner}/", body: map[string]any{}, status: 403},
		{name: "a role without team roles cannot keep teams", sentry: tMemberDetails + "::test_cannot_demote_team_member_to_role_where_team_roles_disabled",
			as: "owner", method: put, path: members + "{m:manager_on_team}/", body: map[string]any{"orgRole": "billing"}, status: 400,
			want: `{"detail":"The user with a 'billing' role cannot have team-level permissions."}`, then: roleIs("manager_on_team", "manager")},
		{name: "a role without team roles may be given with the teams removed", sentry: tMemberDetails + "::test_can_demote_team_member_to_role_where_team_roles_disabled_with_team_removed",
			as: "owner", method: put, path: members + "{m:manager_on_team}/", body: map[string]any{"orgRole": "billing", "teamRoles": []any{}}, status: 200,
			then: both(roleIs("manager_on_team", "billing"), teamsAre("manager_on_team"))},
		{name: "a role without team roles cannot be put on a team", sentry: tMemberDetails + "::test_cannot_add_to_team_when_team_roles_disabled",
			as: "owner", method: put, path: members + "{m:billing}/", body: map[string]any{"teamRoles": teamRoles("team", nil)}, status: 400,
			want: `{"detail":"The user with a 'billing' role cannot have team-level permissions."}`},
		{name: "a member may not edit another member", sentry: tMemberDetails + "::test_member_can_only_reinvite",
			as: "member", method: put, path: members + "{m:member_invite}/", body: map[string]any{"teams": []string{"team"}}, status: 403,
			want: `{"detail":"You do not have permission to perform this action."}`},
		{name: "a member may resend an invite they sent", sentry: tMemberDetails + "::test_member_reinvite_pending_member",
			as: "member", method: put, path: members + "{m:member_invite}/", body: map[string]any{"reinvite": true}, status: 200},
		{name: "a member may not resend someone else's invite", sentry: tMemberDetails + "::test_member_reinvite_pending_member",
			as: "member", method: put, path: members + "{m:invite}/", body: map[string]any{"reinvite": true}, status: 403,
			want: `{"detail":"You cannot modify invitations sent by someone else."}`},
		{name: "a member may not resend to a member who accepted", sentry: tMemberDetails + "::test_member_cannot_reinvite_non_pending_members",
			as: "member", method: put, path: members + "{m:other_member}/", body: map[string]any{"reinvite": true}, status: 403,
			want: `{"detail":"You do not have permission to perform this action."}`},
		{name: "members cannot resend invites when member invites are off", sentry: tMemberDetails + "::test_member_reinvite_pending_member",
			opts: opts{tweak: noMemberInvite}, as: "member", method: put, path: members + "{m:member_invite}/", body: map[string]any{"reinvite": true}, status: 403},
		{name: "a member may not regenerate an invite", sentry: tMemberDetails + "::test_member_cannot_regenerate_pending_invite",
			as: "member", method: put, path: members + "{m:member_invite}/", body: map[string]any{"reinvite": true, "regenerate": true}, status: 400,
			want: `{"detail":"You are missing the member:admin scope."}`},
		{name: "reinvite cannot be combined with edits", sentry: tMemberDetails + "::test_cannot_reinvite_and_modify_member",
			as: "owner", method: put, path: members + "{m:invite}/", body: map[string]any{"reinvite": true, "role": "manager"}, status: 403,
			want: `{"detail":"You cannot modify member details when resending an invitation. Separate requests are required."}`},
		{name: "reinvite of an accepted member without SSO link sends the SSO link email", sentry: tMemberDetails + "::test_reinvite_sso_link",
			as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"reinvite": true}, status: 200},
		{name: "reinvite of an accepted member without an auth provider is 400", sentry: tMemberDetails + "::test_cannot_reinvite_normal_member",
			opts: opts{tweak: noAuthProvider}, as: "owner", method: put, path: members + "{m:member}/", body: map[string]any{"reinvite": true}, status: 400},
	})
}

func TestMemberDelete(t *testing.T) {
	t.Parallel()
	del := "DELETE"
	runRules(t, []rule{
		{name: "an owner may remove a member", sentry: "tests/sentry/core/endpoints/test_organization_member_details.py::DeleteOrganizationMemberTest::test_simple",
			as: "owner", method: del, path: members + "{m:member}/", status: 204, then: isGone("member", true)},
		{name: "a member with more access cannot be removed (400)", sentry: tMemberDetails + "::test_cannot_delete_member_with_higher_access",
			as: "manager", method: del, path: members + "{m:owner}/", status: 400,
			want: `{"detail":"You cannot remove a member who has more access than you."}`, then: isGone("owner", false)},
		{name: "the only owner cannot be removed", sentry: tMemberDetails + "::test_cannot_delete_only_owner",
			opts: opts{only: []string{"owner", "member", "other_member"}}, as: "owner", method: del, path: members + "{m:owner}/", status: 403,
			want: `{"detail":"You cannot remove the only remaining owner or manager of the organization."}`, then: isGone("owner", false)},
		{name: "the only manager of an org without owners cannot be removed", sentry: tMemberDetails + "::test_cannot_delete_only_owner_or_manager",
			opts: opts{only: []string{"manager"}}, as: "manager", method: del, path: members + "{m:manager}/", status: 403,
			want: `{"detail":"You cannot remove the only remaining owner or manager of the organization."}`},
		{name: "an owner may leave when a manager remains", sentry: srcMemberDetails + ": delete (is_only_member_with_org_write counts owners and managers)",
			opts: opts{only: []string{"owner", "manager"}}, as: "owner", method: del, path: members + "{m:owner}/", status: 204},
		{name: "a member may remove themselves", sentry: tMemberDetails + "::test_can_delete_self",
			as: "member", method: del, path: members + "me/", status: 204, then: isGone("member", true)},
		{name: "a member cannot remove another member", sentry: tMemberDetails + "::test_missing_scope",
			as: "member", method: del, path: members + "{m:other_member}/", status: 400,
			want: `{"detail":"You are missing the member:admin scope."}`, then: isGone("other_member", false)},
		{name: "an IdP-provisioned member cannot be removed", sentry: tMemberDetails + "::test_cannot_delete_idp_provisioned_member",
			as: "owner", method: del, path: members + "{m:idp_member}/", status: 403,
			want: `{"detail":"This user is managed through your organization's identity provider."}`, then: isGone("idp_member", false)},
		{name: "a partnership member cannot be removed", sentry: tMemberDetails + "::test_cannot_delete_partnership_member",
			as: "owner", method: del, path: members + "{m:partner}/", status: 403},
		{name: "an owner may revoke a pending invite", sentry: tMemberDetails + "::test_can_delete_pending_invite",
			as: "owner", method: del, path: members + "{m:invite}/", status: 204},
		{name: "a member may revoke an invite they sent", sentry: tMemberDetails + "::test_member_delete_pending_invite",
			as: "member", method: del, path: members + "{m:member_invite}/", status: 204, then: isGone("member_invite", true)},
		{name: "a member may not revoke someone else's invite", sentry: tMemberDetails + "::test_member_delete_pending_invite",
			as: "member", method: del, path: members + "{m:invite}/", status: 400,
			want: `{"detail":"You cannot modify invitations sent by someone else."}`},
		{name: "members cannot revoke invites when member invites are off", sentry: tMemberDetails + "::test_member_delete_pending_invite",
			opts: opts{tweak: noMemberInvite}, as: "member", method: del, path: members + "{m:member_invite}/", status: 400},
		{name: "a join request cannot be removed here (404)", sentry: tMemberDetails + "::test_cannot_delete_unapproved_invite",
			as: "owner", method: del, path: members + "{m:join_request}/", status: 404},
		{name: "an integration token cannot remove members (no acting member)", sentry: srcMemberDetails + ": delete (acting member lookup of the app's proxy user fails: ERR_INSUFFICIENT_ROLE)",
			as: "integration[member:admin member:read]", method: del, path: members + "{m:member}/", status: 400,
			want: `{"detail":"You cannot remove a member who has more access than you."}`, then: isGone("member", false)},
	})
}

func TestMemberInvite(t *testing.T) {
	t.Parallel()
	post := "POST"
	runRules(t, []rule{
		{name: "an owner may invite with teams; team roles are not set on invite", sentry: srcMemberIndex + ": post (\"Do not set team-roles when inviting members\")",
			as: "owner", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "member", "teamRoles": teamRoles("team", "admin")}, status: 201,
			want: `{"email":"new@example.com","orgRole":"member","pending":true}`},
		{name: "a manager may not invite an owner", sentry: srcMemberIndex + ": validate_orgRole (allowed roles of the inviter)",
			as: "manager", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "owner"}, status: 400,
			want: `{"orgRole":["You do not have permission to set that org-level role"]}`},
		{name: "a member may invite only as member", sentry: srcMemberUtils + ": get_allowed_org_roles(creating_org_invite=True)",
			as: "member", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "manager"}, status: 400,
			want: `{"orgRole":["You do not have permission to set that org-level role"]}`},
		{name: "an integration token may invite only as member", sentry: srcMemberIndex + ": post (is_integration_token)",
			as: "integration[member:admin member:write]", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "manager"}, status: 400,
			want: `["Integration tokens are restricted to inviting new members with the member role only."]`},
		{name: "an integration token may invite a member", sentry: srcMemberIndex + ": post (is_integration_token)",
			as: "integration[member:admin member:write]", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "member"}, status: 201},
		{name: "the retired admin role cannot be invited in an org with team roles", sentry: srcMemberIndex + ": post (allow_retired_roles is off with organizations:team-roles)",
			as: "owner", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "admin"}, status: 400,
			want: `{"orgRole":["The role 'admin' is deprecated and may no longer be assigned."]}`},
		{name: "an existing member's email is 400", sentry: srcMemberIndex + ": validate_email",
			as: "owner", method: post, path: members, body: map[string]any{"email": emailOf("member"), "orgRole": "member"}, status: 400,
			want: `{"email":["The user member@example.com is already a member"]}`},
		{name: "an invited email is 400", sentry: srcMemberIndex + ": validate_email",
			as: "owner", method: post, path: members, body: map[string]any{"email": emailOf("invite"), "orgRole": "member"}, status: 400,
			want: `{"email":["The user invite@example.com has already been invited"]}`},
		{name: "under closed membership a member may invite only into their own teams", sentry: srcMemberIndex + ": post (members_can_only_invite_to_members_teams)",
			opts: opts{closed: true}, as: "member", method: post, path: members, body: map[string]any{"email": "new@example.com", "teams": []string{"team"}}, status: 400,
			want: `{"detail":"You cannot assign members to teams you are not a member of."}`},
		{name: "under closed membership a member on the team may invite into it", sentry: srcMemberIndex + ": post (members_can_only_invite_to_members_teams)",
			opts: opts{closed: true}, as: "member_on_team", method: post, path: members, body: map[string]any{"email": "new@example.com", "teams": []string{"team"}}, status: 201},
		{name: "a role without team roles cannot be invited with teams", sentry: srcMemberIndex + ": post (is_team_roles_allowed)",
			as: "owner", method: post, path: members, body: map[string]any{"email": "new@example.com", "orgRole": "billing", "teams": []string{"team"}}, status: 400,
			want: `{"email":"The user with a 'billing' role cannot have team-level permissions."}`},
	})
}

func TestMembersList(t *testing.T) {
	t.Parallel()
	names := func(t *testing.T, w *world, q string) []string {
		t.Helper()
		a := w.do(t, "owner", "GET", members+q, nil)
		var ms []struct{ Name string }
		if err := jsonDecode(a.body, &ms); err != nil {
			t.Fatalf("members %s: %v", a.body, err)
		}
		out := []string{}
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	runRules(t, []rule{
		{name: "the list holds approved members and pending invites, not join requests, ordered by id", sentry: srcMemberIndex + ": get (invite_status=APPROVED, order_by id)",
			opts: opts{only: []string{"owner", "member", "invite", "join_request"}}, as: "owner", method: "GET", path: members, status: 200,
			want: `[{"email":"owner@example.com"},{"email":"member@example.com"},{"email":"invite@example.com","pending":true}]`},
		{name: "an unknown query key matches nothing", sentry: srcMemberIndex + ": get (queryset.none() for an unknown key)",
			as: "owner", method: "GET", path: members + "?query=bogus:1", status: 200, want: `[]`},
		{name: "isInvited:true lists pending invites", sentry: srcMemberIndex + ": get (isInvited)",
			as: "owner", method: "GET", path: members + "?query=isInvited:true", status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "invited", names(t, w, "?query=isInvited:true"), []string{"invite", "member_invite"})
			}},
		{name: "role: filters by org role", sentry: srcMemberIndex + ": get (role)",
			as: "owner", method: "GET", path: members + "?query=role:manager", status: 200,
			then: func(t *testing.T, w *world) {
				equal(t, "managers", names(t, w, "?query=role:manager"), []string{"manager", "manager_on_team"})
			}},
		{name: "reading members needs member:read", sentry: "src/sentry/api/bases/organizationmember.py: MemberAndStaffPermission",
			as: "owner[org:read]", method: "GET", path: members, status: 403},
	})
}
