// Package accessdiff holds a differential test of the two implementations
// of Sentry's access rules: the pure engine (internal/access), which the
// product shows, and the simulator (internal/sentrysim), which answers API
// callers. The package has no code of its own; see accessdiff_test.go.
//
// For generated organizations (several seeds, every combination of
// openMembership, eventsMemberAdmin and alertsMemberWrite, every org role
// including billing and the retired admin, stored team roles null,
// contributor and admin, pending and expired invites, SCIM-provisioned
// teams, a project without teams) the test syncs the simulator through the
// real client and syncer into a bbolt store, builds the engine from the
// stored snapshot, and then asks the simulator, as each active member with
// an all-scopes user token, for GET /organizations/{org}/projects/ and
// GET /organizations/{org}/teams/. It compares:
//
//   - projects: hasAccess ⇔ the engine's Member(id).Projects holds the
//     project; isMember ⇔ the engine reaches it by a team path.
//   - project scopes: what the two report means different things, so the
//     test compares what is comparable (see below).
//   - teams: isMember ⇔ the engine lists the membership; hasAccess ⇔
//     isMember or the engine's GlobalAccess; teamRole (members only) = the
//     engine's EffectiveRole; access = the raw scopes of that role, or of
//     the org role's minimum team role on teams the member is not on.
//
// Project scopes. Sentry's project serializer "access" field
// (get_access_by_project in src/sentry/api/serializers/models/project.py)
// is the union of the caller's team-membership scopes on the project's
// teams (OrganizationMemberTeam.get_scopes: the effective team role through
// Organization.get_scopes) and the raw scopes of the minimum team role of
// the caller's org role; it holds no org-role scopes and is not bounded by
// the token. The engine's ProjectReach.Scopes are what the member holds on
// the project for permission checks (docs/sentry-access-model.md#effective-access step 5,
// has_any_project_scope): the org scopes after Organization.get_scopes plus
// the same team-membership scopes. With O the engine's OrgScopes and M the
// raw scopes of the org role's minimum team role, both describe the same
// team part T exactly when
//
//	O ∪ access == ProjectReach.Scopes ∪ M
//
// which is what the test checks, together with M ⊆ access.
//
// Billing members are left out of the team and project comparisons: their
// only scope is org:billing, so the list endpoints (org:read) refuse them
// (checked: 403), and Sentry refuses to put them on a team (403 from the
// member-team POST, 400 from the member PUT), so the generated orgs keep
// them off teams. Were a billing membership to exist anyway (old data),
// Sentry's access.py grants it: is_team_roles_allowed gates only the
// assignment, and OrganizationMemberTeam.get_team_role gives it the
// minimum team role, contributor. The engine does the same, and its
// reason says the membership should be removed.
//
// Org scopes: the org detail's "access" is the caller's scopes (the role's
// after Organization.get_scopes, ∩ the token's); with an all-scopes token
// it equals the engine's OrgScopes minus the SaaS-only org:billing, which
// no token can carry.
//
// Enforcement: GET /projects/{org}/{project}/teams/ as the member is
// allowed exactly when the engine's scopes on the project hold
// project:read, project:write or project:admin (has_any_project_scope).
//
// The serializers answer for the token's user, not the token: a member's
// answers are the same with a token limited to org:read (checked too).
// Pending and expired invites have no user: their tokens are refused (401)
// and the engine gives them nothing.
package accessdiff
