package access

import (
	"slices"
)

// Org role and team role ids the engine knows by name. Sentry names them in
// src/sentry/conf/server.py (SENTRY_ROLES, SENTRY_TEAM_ROLES); the billing
// role is SaaS-only and appears in the OpenAPI examples' orgRoleList.
const (
	RoleBilling = "billing"
	RoleMember  = "member"
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleOwner   = "owner"

	TeamRoleContributor = "contributor"
	TeamRoleAdmin       = "admin"
)

// Settings that change access, as named by the organization details API
// (docs/sentry-access-model.md#organization-settings-that-change-access). They are the Setting values of an org-setting Change.
const (
	SettingOpenMembership             = "openMembership"
	SettingEventsMemberAdmin          = "eventsMemberAdmin"
	SettingAlertsMemberWrite          = "alertsMemberWrite"
	SettingAllowMemberInvite          = "allowMemberInvite"
	SettingAllowMemberProjectCreation = "allowMemberProjectCreation"
	SettingAllowJoinRequests          = "allowJoinRequests"
	SettingRequire2FA                 = "require2FA"
)

// nonMemberScopes is Sentry's NON_MEMBER_SCOPES: a role holding any of them
// keeps event:admin and alerts:write whatever the org options say
// (Organization.get_scopes in src/sentry/models/organization.py).
func nonMemberScopes() []string { return []string{"org:write", "project:write", "team:write"} }

// AllScopes returns Sentry's SENTRY_SCOPES (src/sentry/conf/server.py) plus
// the SaaS-only org:billing, sorted.
func AllScopes() []string {
	s := []string{
		"org:read", "org:write", "org:admin", "org:integrations", "org:ci", "org:billing",
		"member:invite", "member:read", "member:write", "member:admin",
		"team:read", "team:write", "team:admin",
		"project:read", "project:write", "project:admin", "project:releases", "project:distribution",
		"event:read", "event:write", "event:admin",
		"alerts:read", "alerts:write",
		"openid", "profile", "email",
	}
	slices.Sort(s)
	return s
}

// DefaultOrgRoles returns Sentry's organization roles, lowest priority first:
// the SaaS billing role (orgRoleList in the OpenAPI examples), then OSS
// SENTRY_ROLES from src/sentry/conf/server.py: member, the retired admin,
// and the global manager and owner. Owner also carries org:billing as it
// does on SaaS. MinimumTeamRole is filled as src/sentry/roles/manager.py
// computes it (billing and member: contributor; admin, manager, owner: admin).
func DefaultOrgRoles() []OrgRole {
	roles := []OrgRole{
		{
			ID: RoleBilling, Name: "Billing",
			Scopes: []string{"org:billing"},
		},
		{
			ID: RoleMember, Name: "Member", IsTeamRolesAllowed: true,
			Scopes: []string{
				"event:read", "event:write", "event:admin", "project:releases", "project:read",
				"org:read", "member:invite", "member:read", "team:read", "alerts:read", "alerts:write",
			},
		},
		{
			ID: RoleAdmin, Name: "Admin", IsRetired: true, IsTeamRolesAllowed: true,
			Scopes: []string{
				"event:read", "event:write", "event:admin", "org:read", "org:integrations",
				"member:invite", "member:read", "project:read", "project:write", "project:admin",
				"project:releases", "team:read", "team:write", "team:admin", "alerts:read", "alerts:write",
			},
		},
		{
			ID: RoleManager, Name: "Manager", IsGlobal: true, IsTeamRolesAllowed: true,
			Scopes: []string{
				"event:read", "event:write", "event:admin",
				"member:invite", "member:read", "member:write", "member:admin",
				"project:read", "project:write", "project:admin", "project:releases",
				"team:read", "team:write", "team:admin",
				"org:read", "org:write", "org:integrations", "alerts:read", "alerts:write",
			},
		},
		{
			ID: RoleOwner, Name: "Owner", IsGlobal: true, IsTeamRolesAllowed: true,
			Scopes: []string{
				"org:read", "org:write", "org:admin", "org:integrations", "org:billing",
				"member:invite", "member:read", "member:write", "member:admin",
				"team:read", "team:write", "team:admin",
				"project:read", "project:write", "project:admin", "project:releases",
				"event:read", "event:write", "event:admin", "alerts:read", "alerts:write",
			},
		},
	}
	teams := DefaultTeamRoles()
	for i := range roles {
		slices.Sort(roles[i].Scopes)
		roles[i].MinimumTeamRole = teams[minimumTeamRole(roles, teams, i)].ID
	}
	return roles
}

// DefaultTeamRoles returns Sentry's SENTRY_TEAM_ROLES (src/sentry/conf/server.py),
// lowest priority first. Contributor lacks event:admin and alerts:write: Sentry
// leaves those to the eventsMemberAdmin and alertsMemberWrite org options.
func DefaultTeamRoles() []TeamRole {
	roles := []TeamRole{
		{
			ID: TeamRoleContributor, Name: "Contributor",
			Scopes: []string{
				"event:read", "event:write", "project:releases", "project:read",
				"org:read", "member:read", "team:read", "alerts:read",
			},
		},
		{
			ID: TeamRoleAdmin, Name: "Team Admin", IsMinimumRoleFor: RoleAdmin,
			Scopes: []string{
				"event:read", "event:write", "event:admin", "org:read", "member:read",
				"project:read", "project:write", "project:admin", "project:releases",
				"team:read", "team:write", "team:admin", "org:integrations", "alerts:read", "alerts:write",
			},
		},
	}
	for i := range roles {
		slices.Sort(roles[i].Scopes)
	}
	return roles
}

// MinimumTeamRole returns the team role a member with orgRole holds on every
// team she belongs to at least (the effective role of a membership whose
// stored team role is empty), from the snapshot's roles or Sentry's
// defaults, as src/sentry/roles/manager.py computes it
// (docs/sentry-access-model.md#team-roles-and-the-minimum-team-role). An
// org role the snapshot does not know gets the default (lowest) team role;
// a nil snapshot means Sentry's default roles.
func MinimumTeamRole(s *Snapshot, orgRole string) string {
	if s == nil {
		s = &Snapshot{}
	}
	orgRoles, teamRoles := resolveRoles(s)
	for _, r := range orgRoles {
		if r.ID == orgRole {
			return r.MinimumTeamRole
		}
	}
	if len(teamRoles) == 0 {
		return ""
	}
	return teamRoles[0].ID
}

// minimumTeamRole returns the index of the minimum team role of orgRoles[i]
// as src/sentry/roles/manager.py computes it: the top org role gets the top
// team role; otherwise the highest team role whose IsMinimumRoleFor names an
// org role of priority at or below this one; otherwise the default (first)
// team role. An explicit MinimumTeamRole on the org role wins when known.
func minimumTeamRole(orgRoles []OrgRole, teamRoles []TeamRole, i int) int {
	if len(teamRoles) == 0 {
		return -1
	}
	if id := orgRoles[i].MinimumTeamRole; id != "" {
		for j, t := range teamRoles {
			if t.ID == id {
				return j
			}
		}
	}
	if i == len(orgRoles)-1 {
		return len(teamRoles) - 1
	}
	for j := len(teamRoles) - 1; j >= 0; j-- {
		minFor := teamRoles[j].IsMinimumRoleFor
		if minFor == "" {
			continue
		}
		for k := 0; k <= i; k++ {
			if orgRoles[k].ID == minFor {
				return j
			}
		}
	}
	return 0
}

// filterScopes is Organization.get_scopes (src/sentry/models/organization.py,
// docs/sentry-access-model.md#effective-access): a role holding none of org:write, project:write and
// team:write loses event:admin when eventsMemberAdmin is off and alerts:write
// when alertsMemberWrite is off. "Scopes for team-roles are filtered through
// this method too." The result is a new sorted slice with len == cap.
func filterScopes(org Org, scopes []string) []string {
	out := slices.Clone(scopes)
	slices.Sort(out)
	out = slices.Compact(out)
	if holdsAny(out, nonMemberScopes()) {
		return slices.Clip(out)
	}
	out = slices.DeleteFunc(out, func(s string) bool {
		return (s == "event:admin" && !org.EventsMemberAdmin) || (s == "alerts:write" && !org.AlertsMemberWrite)
	})
	return slices.Clip(out)
}

// removedBySetting names the org option that filterScopes used to drop scope
// from a role's raw scopes, or "" when the scope was not dropped.
func removedBySetting(org Org, raw []string, scope string) string {
	if !slices.Contains(raw, scope) || holdsAny(raw, nonMemberScopes()) {
		return ""
	}
	switch {
	case scope == "event:admin" && !org.EventsMemberAdmin:
		return SettingEventsMemberAdmin
	case scope == "alerts:write" && !org.AlertsMemberWrite:
		return SettingAlertsMemberWrite
	}
	return ""
}

func holdsAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// unionSorted merges two sorted, duplicate-free slices into a new one.
func unionSorted(a, b []string) []string {
	if len(b) == 0 {
		return slices.Clip(slices.Clone(a))
	}
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	out = append(out, b[j:]...)
	return slices.Clip(out)
}
