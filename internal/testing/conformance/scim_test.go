package conformance

import (
	"testing"
)

const (
	srcSCIMMembers = "src/sentry/core/endpoints/scim/members.py"
	srcSCIMTeams   = "src/sentry/core/endpoints/scim/teams.py"
	srcSCIMUtils   = "src/sentry/core/endpoints/scim/utils.py"
	tSCIMUser      = "tests/sentry/core/endpoints/scim/test_scim_user_details.py"
	tSCIMTeam      = "tests/sentry/core/endpoints/scim/test_scim_team_details.py"
	scimUsers      = "/api/0/organizations/{org}/scim/v2/Users"
	scimGroups     = "/api/0/organizations/{org}/scim/v2/Groups"
	patchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

func ops(list ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{patchOp}, "Operations": list}
}

func op(kind, path string, value any) map[string]any {
	o := map[string]any{"op": kind}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

func repeat(n int, o map[string]any) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = o
	}
	return out
}

func TestSCIMUsers(t *testing.T) {
	t.Parallel()
	patch := "PATCH"
	user := scimUsers + "/{m:member}"
	const scimErr = `"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"]`
	runRules(t, []rule{
		{name: "SCIM needs SCIM enabled on the auth provider", sentry: tSCIMUser + "::test_cant_use_scim_even_with_authprovider",
			opts: opts{tweak: noSCIM}, as: "owner", method: "GET", path: scimUsers, status: 403},
		{name: "a user resource has Sentry's shape", sentry: tSCIMUser + "::test_user_details_get",
			as: "scim", method: "GET", path: user, status: 200,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"member@example.com",
				"emails":[{"primary":true,"value":"member@example.com","type":"work"}],"name":{"familyName":"N/A","givenName":"N/A"},
				"active":true,"meta":{"resourceType":"User"},"sentryOrgRole":"member"}`},
		{name: "an unknown user is 404 in SCIM's error shape", sentry: tSCIMUser + "::test_user_details_get_404",
			as: "scim", method: "GET", path: scimUsers + "/99999999", status: 404,
			want: `{` + scimErr + `,"detail":"The requested resource does not exist"}`},
		{name: "PATCH of an unknown user is 404", sentry: tSCIMUser + "::test_user_details_patch_404",
			as: "scim", method: patch, path: scimUsers + "/99999999", body: ops(op("replace", "", map[string]any{"active": false})), status: 404},
		{name: "replace active=false deletes the member (op is case-insensitive)", sentry: tSCIMUser + "::test_user_details_set_inactive",
			as: "scim", method: patch, path: user, body: ops(op("Replace", "active", false)), status: 204, then: isGone("member", true)},
		{name: "Okta's form: replace with value {active: false}", sentry: tSCIMUser + "::test_user_details_set_inactive_dict",
			as: "scim", method: patch, path: user, body: ops(op("Replace", "", map[string]any{"active": false})), status: 204, then: isGone("member", true)},
		{name: "the string \"False\" is false", sentry: tSCIMUser + "::test_user_details_set_inactive_with_bool_string",
			as: "scim", method: patch, path: user, body: ops(op("Replace", "active", "False")), status: 204, then: isGone("member", true)},
		{name: "other keys beside active in the value are ignored", sentry: tSCIMUser + "::test_user_details_set_inactive_with_dict_bool_string",
			as: "scim", method: patch, path: user, body: ops(op("Replace", "", map[string]any{"id": "xxxx", "active": "False"})), status: 204, then: isGone("member", true)},
		{name: "the schemas key may be left out", sentry: tSCIMUser + "::test_patch_inactive_alternate_schema",
			as: "scim", method: patch, path: user, body: map[string]any{"Operations": []any{op("replace", "active", false)}}, status: 204},
		{name: "active=true is 400 (only deactivation is supported)", sentry: srcSCIMMembers + ": patch (any operation that does not delete is SCIM_400_INVALID_PATCH)",
			as: "scim", method: patch, path: user, body: ops(op("replace", "active", true)), status: 400,
			want: `{` + scimErr + `,"detail":"Invalid Patch Operation."}`, then: isGone("member", false)},
		{name: "an op other than replace is 400", sentry: tSCIMUser + "::test_invalid_patch_op",
			as: "scim", method: patch, path: user, body: ops(op("invalid", "", map[string]any{"active": false})), status: 400},
		{name: "a non-boolean active is 400", sentry: tSCIMUser + "::test_invalid_patch_op_value",
			as: "scim", method: patch, path: user, body: ops(op("REPLACE", "", map[string]any{"active": "invalid"})), status: 400},
		{name: "an unknown path is 400", sentry: tSCIMUser + "::test_patch_bad_schema",
			as: "scim", method: patch, path: user, body: map[string]any{"Operations": []any{op("replace", "blahblahbbalh", false)}}, status: 400,
			want: `{` + scimErr + `,"detail":"Invalid Patch Operation."}`},
		{name: "more than 100 operations is 400", sentry: tSCIMUser + "::test_member_detail_patch_too_many_ops",
			as: "scim", method: patch, path: user, body: map[string]any{"schemas": []string{patchOp}, "Operations": repeat(101, op("replace", "active", false))}, status: 400,
			want: `{` + scimErr + `,"detail":"{\"Operations\":[\"Ensure this field has no more than 100 elements.\"]}"}`},
		{name: "a partnership member cannot be deactivated", sentry: tSCIMUser + "::test_user_details_cannot_set_partnership_member_inactive",
			as: "scim", method: patch, path: scimUsers + "/{m:partner}", body: ops(op("replace", "active", false)), status: 403},
		{name: "DELETE removes the member", sentry: tSCIMUser + "::test_delete_route",
			as: "scim", method: "DELETE", path: user, status: 204, then: isGone("member", true)},
		{name: "DELETE of a partnership member is 403", sentry: tSCIMUser + "::test_cannot_delete_partnership_member",
			as: "scim", method: "DELETE", path: scimUsers + "/{m:partner}", status: 403},
		{name: "the only owner cannot be deleted", sentry: tSCIMUser + "::test_cant_delete_only_owner_route",
			opts: opts{only: []string{"owner", "member"}}, as: "scim", method: "DELETE", path: scimUsers + "/{m:owner}", status: 403},
		{name: "the only owner cannot be deactivated", sentry: tSCIMUser + "::test_cant_delete_only_owner_route_patch",
			opts: opts{only: []string{"owner", "member"}}, as: "scim", method: patch, path: scimUsers + "/{m:owner}", body: ops(op("replace", "", map[string]any{"active": false})), status: 403},
		{name: "PUT cannot change an owner's role but marks it provisioned", sentry: tSCIMUser + "::test_owner",
			as: "scim", method: "PUT", path: scimUsers + "/{m:owner_on_team}", body: map[string]any{"sentryOrgRole": "member"}, status: 200,
			want: `{"sentryOrgRole":"owner"}`, then: roleIs("owner_on_team", "owner")},
		{name: "PUT of an unknown role is 400", sentry: tSCIMUser + "::test_invalid_role",
			as: "scim", method: "PUT", path: user, body: map[string]any{"sentryOrgRole": "nonexistant"}, status: 400,
			want: `{` + scimErr + `,"detail":"Invalid organization role."}`},
		{name: "PUT cannot give a role with org:admin", sentry: tSCIMUser + "::test_invalid_role",
			as: "scim", method: "PUT", path: user, body: map[string]any{"sentryOrgRole": "owner"}, status: 400},
		{name: "PUT sets a new role and locks it to the IdP", sentry: tSCIMUser + "::test_set_to_new_role",
			as: "scim", method: "PUT", path: user, body: map[string]any{"sentryOrgRole": "admin"}, status: 200,
			want: `{"sentryOrgRole":"admin"}`, then: func(t *testing.T, w *world) {
				m := w.member(t, "member")
				equal(t, "role", m.OrgRole, "admin")
				equal(t, "idp:role-restricted", m.Flags.IDPRoleRestricted, true)
			}},
		{name: "PUT with a blank role keeps an unrestricted custom role", sentry: tSCIMUser + "::test_set_to_blank",
			as: "scim", method: "PUT", path: scimUsers + "/{m:manager}", body: map[string]any{"sentryOrgRole": ""}, status: 200,
			want: `{"sentryOrgRole":"manager"}`},
		{name: "PUT with a blank role returns a restricted member to the default role", sentry: tSCIMUser + "::test_set_to_blank",
			opts: opts{tweak: restrict("manager")}, as: "scim", method: "PUT", path: scimUsers + "/{m:manager}", body: map[string]any{"sentryOrgRole": ""}, status: 200,
			want: `{"sentryOrgRole":"member"}`, then: func(t *testing.T, w *world) {
				equal(t, "idp:role-restricted", w.member(t, "manager").Flags.IDPRoleRestricted, false)
			}},
		{name: "PUT of a partnership member is 403", sentry: tSCIMUser + "::test_cannot_set_partnership_member_role",
			as: "scim", method: "PUT", path: scimUsers + "/{m:partner}", body: map[string]any{"sentryOrgRole": "member"}, status: 403},
		{name: "POST of an existing member is 409", sentry: srcSCIMMembers + ": post (\"is already a member\" becomes SCIM_409_USER_EXISTS)",
			as: "scim", method: "POST", path: scimUsers, body: map[string]any{"userName": emailOf("member")}, status: 409,
			want: `{` + scimErr + `,"detail":"User already exists in the database."}`},
		{name: "POST of an already invited email is 400", sentry: srcSCIMMembers + ": post (\"has already been invited\" is a plain serializer error)",
			as: "scim", method: "POST", path: scimUsers, body: map[string]any{"userName": emailOf("invite")}, status: 400},
		{name: "POST cannot provision an owner", sentry: srcSCIMMembers + ": post (roles with org:admin are refused)",
			as: "scim", method: "POST", path: scimUsers, body: map[string]any{"userName": "new@example.com", "sentryOrgRole": "owner"}, status: 400,
			want: `{` + scimErr + `,"detail":"Invalid organization role."}`},
		{name: "POST provisions an invite flagged idp:provisioned and role-restricted", sentry: srcSCIMMembers + ": post",
			as: "scim", method: "POST", path: scimUsers, body: map[string]any{"userName": "new@example.com", "sentryOrgRole": "Manager"}, status: 201,
			want: `{"userName":"new@example.com","sentryOrgRole":"manager"}`},
		{name: "the list filters userName eq, case-insensitively", sentry: srcSCIMMembers + ": OrganizationSCIMMemberIndex.get (email__iexact)",
			as: "scim", method: "GET", path: scimUsers + "?filter=" + urlq(`userName eq "MEMBER@example.com"`), status: 200,
			want: `{"totalResults":1,"Resources":[{"userName":"member@example.com"}]}`},
		{name: "a filter Sentry cannot parse is 400 invalidFilter", sentry: srcSCIMUtils + ": parse_filter_conditions, SCIM_400_INVALID_FILTER",
			as: "scim", method: "GET", path: scimUsers + "?filter=" + urlq(`userName sw "m"`), status: 400,
			want: `{` + scimErr + `,"scimType":"invalidFilter"}`},
	})
}

func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	patch := "PATCH"
	group := scimGroups + "/{t:idp-team}"
	const scimErr = `"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"]`
	runRules(t, []rule{
		{name: "an unknown group is 404 Group not found", sentry: tSCIMTeam + "::test_team_details_404",
			as: "scim", method: "GET", path: scimGroups + "/2", status: 404,
			want: `{"detail":"Group not found.",` + scimErr + `}`},
		{name: "a group resource has Sentry's shape", sentry: tSCIMTeam + "::test_scim_team_details_basic",
			as: "scim", method: "GET", path: scimGroups + "/{t:other-team}", status: 200,
			want: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"102","displayName":"Other Team","members":[],"meta":{"resourceType":"Group"}}`},
		{name: "excludedAttributes=members leaves members out", sentry: tSCIMTeam + "::test_scim_team_details_excluded_attributes",
			as: "scim", method: "GET", path: scimGroups + "/{t:team}?excludedAttributes=members", status: 200,
			then: func(t *testing.T, w *world) {
				a := w.do(t, "scim", "GET", scimGroups+"/{t:team}?excludedAttributes=members", nil)
				var g map[string]any
				_ = jsonDecode(a.body, &g)
				if _, has := g["members"]; has {
					t.Errorf("members present: %s", a.body)
				}
			}},
		{name: "a group may be looked up by slug too", sentry: srcSCIMTeams + ": OrganizationSCIMTeamDetails._get_team (slug__id_or_slug)",
			as: "scim", method: "GET", path: scimGroups + "/team", status: 200, want: `{"id":"100"}`},
		{name: "PUT on a group is 403", sentry: tSCIMTeam + "::test_team_details_put_permission_denied",
			as: "scim", method: "PUT", path: scimGroups + "/{t:team}", body: map[string]any{}, status: 403},
		{name: "an invalid op is 400 naming it", sentry: tSCIMTeam + "::test_scim_team_details_invalid_patch_op",
			as: "scim", method: patch, path: group, body: ops(op("invalid", "", map[string]any{"displayName": "newName"})), status: 400},
		{name: "PATCH without schemas is 400", sentry: srcSCIMTeams + ": SCIMTeamPatchRequestSerializer (schemas required)",
			as: "scim", method: patch, path: group, body: map[string]any{"Operations": []any{op("add", "members", []any{map[string]any{"value": idOf("member")}})}}, status: 400,
			then: onTeam("member", "idp-team", false)},
		{name: "Okta's rename: replace with value.displayName", sentry: tSCIMTeam + "::test_scim_team_details_patch_rename_team",
			as: "scim", method: patch, path: group, body: ops(op("replace", "", map[string]any{"id": "101", "displayName": "newName"})), status: 204,
			then: func(t *testing.T, w *world) {
				w.do(t, "owner", "GET", "/api/0/teams/{org}/newname/", nil)
				a := w.do(t, "owner", "GET", "/api/0/teams/{org}/newname/", nil)
				equal(t, "GET the renamed team", a.status, 200)
			}},
		{name: "a rename to an all-numeric slug is 400 on slug", sentry: tSCIMTeam + "::test_scim_team_details_patch_rename_team_invalid_slug",
			as: "scim", method: patch, path: group, body: ops(op("replace", "", map[string]any{"id": "101", "displayName": "1234"})), status: 400,
			want: `{"slug":["Enter a valid slug consisting of lowercase letters, numbers, underscores or hyphens. It cannot be entirely numeric."]}`},
		{name: "add path=members adds", sentry: tSCIMTeam + "::test_scim_team_details_patch_add",
			as: "scim", method: patch, path: group, body: ops(op("add", "members", []any{map[string]any{"value": idOf("member")}})), status: 204,
			then: onTeam("member", "idp-team", true)},
		{name: "remove with a members[value eq] filter removes", sentry: tSCIMTeam + "::test_scim_team_details_patch_remove",
			as: "scim", method: patch, path: group, body: ops(op("remove", `members[value eq "`+idOf("on_idp_team")+`"]`, nil)), status: 204,
			then: onTeam("on_idp_team", "idp-team", false)},
		{name: "replace path=members replaces the whole set", sentry: tSCIMTeam + "::test_team_details_replace_members_list",
			as: "scim", method: patch, path: group, body: ops(op("replace", "members", []any{map[string]any{"value": idOf("member")}, map[string]any{"value": idOf("other_member")}})), status: 204,
			then: both(onTeam("on_idp_team", "idp-team", false), onTeam("member", "idp-team", true), onTeam("other_member", "idp-team", true))},
		{name: "adding an unknown member is 404 User not found", sentry: tSCIMTeam + "::test_team_member_doesnt_exist_add_to_team",
			as: "scim", method: patch, path: group, body: ops(op("add", "members", []any{map[string]any{"value": "100232"}})), status: 404,
			want: `{` + scimErr + `,"detail":"User not found."}`},
		{name: "more than 100 operations is 400", sentry: tSCIMTeam + "::test_team_details_patch_too_many_ops",
			as: "scim", method: patch, path: group, body: map[string]any{"schemas": []string{patchOp}, "Operations": repeat(101, map[string]any{"op": "replace"})}, status: 400,
			want: `{` + scimErr + `,"detail":"Too many patch ops sent, limit is 100."}`},
		{name: "a bad member filter is 400 invalidFilter", sentry: tSCIMTeam + "::test_team_details_invalid_filter_patch_route",
			as: "scim", method: patch, path: group, body: ops(op("remove", `members[value badop "1"]`, nil)), status: 400,
			want: `{` + scimErr + `,"scimType":"invalidFilter"}`},
		{name: "Azure's rename: Replace path=displayName", sentry: tSCIMTeam + "::test_rename_team_azure_request",
			as: "scim", method: patch, path: group, body: ops(op("Replace", "displayName", "theNewName")), status: 204,
			then: func(t *testing.T, w *world) {
				equal(t, "GET the renamed team", w.do(t, "owner", "GET", "/api/0/teams/{org}/thenewname/", nil).status, 200)
			}},
		{name: "Azure's remove: Remove path=members with a value list", sentry: tSCIMTeam + "::test_remove_member_azure",
			as: "scim", method: patch, path: group, body: ops(op("Remove", "members", []any{map[string]any{"value": idOf("on_idp_team")}})), status: 204,
			then: onTeam("on_idp_team", "idp-team", false)},
		{name: "removing a member not on the team is 204", sentry: tSCIMTeam + "::test_remove_member_not_on_team",
			as: "scim", method: patch, path: group, body: ops(op("Remove", "members", []any{map[string]any{"value": idOf("member")}})), status: 204},
		{name: "any PATCH makes the team IdP-provisioned", sentry: srcSCIMTeams + ": patch (team.idp_provisioned = True)",
			as: "scim", method: patch, path: scimGroups + "/{t:team}", body: ops(op("add", "members", []any{map[string]any{"value": idOf("member")}})), status: 204,
			then: func(t *testing.T, w *world) {
				equal(t, "REST add to the now provisioned team", w.do(t, "owner", "POST", memberTeam("other_member", "team"), nil).status, 403)
			}},
		{name: "DELETE removes the team", sentry: tSCIMTeam + "::test_delete_team",
			as: "scim", method: "DELETE", path: group, status: 204,
			then: func(t *testing.T, w *world) {
				equal(t, "GET the deleted team", w.do(t, "owner", "GET", "/api/0/teams/{org}/idp-team/", nil).status, 404)
			}},
		{name: "the group list filters displayName eq by slug", sentry: srcSCIMTeams + ": OrganizationSCIMTeamIndex.get (slug__iexact=slugify(filter))",
			as: "scim", method: "GET", path: scimGroups + "?filter=" + urlq(`displayName eq "Other Team"`), status: 200,
			want: `{"totalResults":1,"Resources":[{"id":"102"}]}`},
		{name: "the SCIM token works on REST endpoints within its scopes", sentry: srcSCIMUtils + ": OrganizationSCIMPermission (an OrganizationPermission plus scim_enabled; the token is an internal integration's)",
			as: "scim", method: "GET", path: members, status: 200},
	})
}
