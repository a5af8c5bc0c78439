package sentrysim

import (
	"slices"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// Role tables follow SENTRY_ROLES and SENTRY_TEAM_ROLES in
// src/sentry/conf/server.py, plus the SaaS-only billing role as the OpenAPI
// member-detail example lists it (lowest priority, scopes ["org:billing"]).
// See docs/sentry-access-model.md#organization-roles and
// #team-roles-and-the-minimum-team-role.

// orgRoleDef is one organization role, in priority order.
type orgRoleDef struct {
	id, name, desc   string
	scopes           []string
	retired, global  bool
	teamRolesAllowed bool
	minimumTeamRole  string
	priority         int
}

// teamRoleDef is one team role, in priority order.
type teamRoleDef struct {
	id, name, desc string
	scopes         []string
	minimumRoleFor string
	priority       int
}

// roleTable holds the role definitions of the simulated Sentry. It is built
// by newRoleTable and never mutated.
type roleTable struct {
	org  []orgRoleDef
	team []teamRoleDef
}

func newRoleTable() roleTable {
	member := []string{"event:read", "event:write", "event:admin", "project:releases", "project:read",
		"org:read", "member:invite", "member:read", "team:read", "alerts:read", "alerts:write"}
	admin := append(slices.Clone(member), "project:write", "project:admin", "team:write", "team:admin", "org:integrations")
	manager := []string{"event:read", "event:write", "event:admin", "member:invite", "member:read", "member:write",
		"member:admin", "project:read", "project:write", "project:admin", "project:releases", "team:read",
		"team:write", "team:admin", "org:read", "org:write", "org:integrations", "alerts:read", "alerts:write"}
	owner := append(slices.Clone(manager), "org:admin", "org:billing")
	return roleTable{
		org: []orgRoleDef{
			{id: "billing", name: "Billing", desc: "Can manage subscription and billing details.",
				scopes: []string{"org:billing"}, minimumTeamRole: "contributor", priority: 0},
			{id: "member", name: "Member", desc: "Members can view and act on events, as well as view most other data within the organization.",
				scopes: member, teamRolesAllowed: true, minimumTeamRole: "contributor", priority: 1},
			{id: "admin", name: "Admin", desc: "Admin privileges on any teams of which they're a member. This role can no longer be assigned in Business and Enterprise plans.",
				scopes: admin, retired: true, teamRolesAllowed: true, minimumTeamRole: "admin", priority: 2},
			{id: "manager", name: "Manager", desc: "Gains admin access on all teams as well as the ability to add and remove members.",
				scopes: manager, global: true, teamRolesAllowed: true, minimumTeamRole: "admin", priority: 3},
			{id: "owner", name: "Owner", desc: "Unrestricted access to the organization, its data, and its settings.",
				scopes: owner, global: true, teamRolesAllowed: true, minimumTeamRole: "admin", priority: 4},
		},
		team: []teamRoleDef{
			{id: "contributor", name: "Contributor", desc: "Contributors can view and act on events, as well as view most other data within the team's projects.",
				scopes: []string{"event:read", "event:write", "project:releases", "project:read", "org:read",
					"member:read", "team:read", "alerts:read"}, priority: 0},
			{id: "admin", name: "Team Admin", desc: "Admin privileges on the team.",
				scopes: []string{"event:read", "event:write", "event:admin", "org:read", "member:read",
					"project:read", "project:write", "project:admin", "project:releases", "team:read",
					"team:write", "team:admin", "org:integrations", "alerts:read", "alerts:write"},
				minimumRoleFor: "admin", priority: 1},
		},
	}
}

// orgRole returns the org role with id, and whether it exists.
func (rt roleTable) orgRole(id string) (orgRoleDef, bool) {
	for _, r := range rt.org {
		if r.id == id {
			return r, true
		}
	}
	return orgRoleDef{}, false
}

// teamRole returns the team role with id, and whether it exists.
func (rt roleTable) teamRole(id string) (teamRoleDef, bool) {
	for _, r := range rt.team {
		if r.id == id {
			return r, true
		}
	}
	return teamRoleDef{}, false
}

// filterScopes is Organization.get_scopes (src/sentry/models/organization.py):
// roles without any of org:write, project:write, team:write lose event:admin
// when eventsMemberAdmin is off and alerts:write when alertsMemberWrite is off.
func filterScopes(scopes []string, eventsMemberAdmin, alertsMemberWrite bool) []string {
	for _, s := range []string{"org:write", "project:write", "team:write"} {
		if slices.Contains(scopes, s) {
			return slices.Clone(scopes)
		}
	}
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if (s == "event:admin" && !eventsMemberAdmin) || (s == "alerts:write" && !alertsMemberWrite) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// intersect returns the scopes of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	out := make([]string, 0, len(a))
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// hasAny reports whether scopes holds any of want (Sentry's any-of scope_map).
func hasAny(scopes []string, want ...string) bool {
	for _, w := range want {
		if slices.Contains(scopes, w) {
			return true
		}
	}
	return false
}

// apiOrgRoles renders orgRoleList; allowed is relative to the caller's
// assignable roles (those at or below the caller's own priority, when the
// caller holds member:admin).
func (rt roleTable) apiOrgRoles(callerPriority int) []sentry.OrgRole {
	out := make([]sentry.OrgRole, 0, len(rt.org))
	for _, r := range rt.org {
		allowed := r.priority <= callerPriority
		out = append(out, sentry.OrgRole{ID: r.id, Name: r.name, Desc: r.desc, Scopes: slices.Clone(r.scopes),
			Allowed: allowed, IsAllowed: allowed, IsRetired: r.retired, IsGlobal: r.global,
			IsTeamRolesAllowed: r.teamRolesAllowed, MinimumTeamRole: r.minimumTeamRole})
	}
	return out
}

// apiTeamRoles renders teamRoleList.
func (rt roleTable) apiTeamRoles(allowed bool) []sentry.TeamRole {
	out := make([]sentry.TeamRole, 0, len(rt.team))
	for _, r := range rt.team {
		var minFor *string
		if r.minimumRoleFor != "" {
			v := r.minimumRoleFor
			minFor = &v
		}
		out = append(out, sentry.TeamRole{ID: r.id, Name: r.name, Desc: r.desc, Scopes: slices.Clone(r.scopes),
			Allowed: allowed, IsAllowed: allowed, IsMinimumRoleFor: minFor})
	}
	return out
}

// withImpliedScopes adds the scopes SENTRY_SCOPE_HIERARCHY_MAPPING
// (src/sentry/conf/server.py) says each listed scope implies, as Sentry
// does when it saves a token (the enforce_scope_hierarchy pre_save
// receiver; tests/sentry/models/test_apitoken.py::test_enforces_scope_hierarchy;
// docs/sentry-access-model.md#scopes). The result is sorted.
func withImpliedScopes(scopes []string) []string {
	implied := map[string][]string{
		"org:write":     {"org:read"},
		"org:admin":     {"org:read", "org:write", "org:integrations"},
		"member:invite": {"member:read"},
		"member:write":  {"member:read", "member:invite"},
		"member:admin":  {"member:read", "member:invite", "member:write"},
		"team:write":    {"team:read"},
		"team:admin":    {"team:read", "team:write"},
		"project:write": {"project:read"},
		"project:admin": {"project:read", "project:write"},
		"event:write":   {"event:read"},
		"event:admin":   {"event:read", "event:write"},
		"alerts:write":  {"alerts:read"},
	}
	out := slices.Clone(scopes)
	for _, s := range scopes {
		out = append(out, implied[s]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// allScopes is SENTRY_SCOPES (src/sentry/conf/server.py).
func allScopes() []string {
	return []string{"org:read", "org:write", "org:admin", "org:integrations", "org:ci", "member:invite",
		"member:read", "member:write", "member:admin", "team:read", "team:write", "team:admin",
		"project:read", "project:write", "project:admin", "project:releases", "project:distribution",
		"event:read", "event:write", "event:admin", "alerts:read", "alerts:write", "openid", "profile", "email"}
}

// auditEventNames is the OSS audit-log registry (src/sentry/audit_log/register.py),
// served as the "options" of the audit-log endpoint.
func auditEventNames() []string {
	return []string{"member.invite", "member.add", "member.accept-invite", "member.edit", "member.remove",
		"member.join-team", "member.leave-team", "member.pending", "member.reinvite", "org.create", "org.edit",
		"org.remove", "org.restore", "team.create", "team.edit", "team.remove", "project.create",
		"project.create-with-origin", "project.edit", "project.change-performance-issue-detection",
		"project.remove", "project.remove-with-origin", "project.request-transfer", "project.accept-transfer",
		"project.enable", "project.disable", "project.ownership-rule.edit", "project-team.add",
		"project-team.remove", "tagkey.remove", "projectkey.create", "projectkey.edit", "projectkey.remove",
		"projectkey.change", "sso.enable", "sso.disable", "sso.edit", "sso-identity.link", "api-key.create",
		"api-key.edit", "api-key.remove", "rule.create", "rule.edit", "rule.remove", "rule.mute",
		"rule.disable", "servicehook.create", "servicehook.edit", "servicehook.remove", "integration.disable",
		"integration.upgrade", "integration.add", "integration.edit", "integration.remove", "sentry-app.add",
		"sentry-app.remove", "sentry-app.install", "sentry-app.uninstall", "integration.rotate-client-secret",
		"monitor.add", "monitor.edit", "monitor.remove", "monitor.environment.remove",
		"monitor.environment.edit", "internal-integration.create", "internal-integration.disable",
		"internal-integration.add-token", "internal-integration.remove-token", "invite-request.create",
		"invite-request.remove", "alertrule.create", "alertrule.edit", "alertrule.remove", "alertrule.mute",
		"sampling_priority.enabled", "sampling_priority.disabled", "notification_action.create",
		"notification_action.edit", "notification_action.remove", "team-and-project.created",
		"org-auth-token.create", "org-auth-token.remove", "metric.block", "metric.tags.block",
		"metric.unblock", "metric.tags.unblock", "issue.delete", "span_extraction_rule_config.create",
		"span_extraction_rule_config.update", "span_extraction_rule_config.delete", "project_template.create",
		"uptime_monitor.add", "uptime_monitor.edit", "uptime_monitor.remove", "detector.add", "detector.edit",
		"detector.remove", "workflow.add", "workflow.edit", "workflow.remove", "detector_workflow.add",
		"detector_workflow.remove", "playstation-client-id.create", "playstation-client-id.remove"}
}
