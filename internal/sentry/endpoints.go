package sentry

import "net/http"

// Endpoint path templates, relative to /api/0. They name requests in
// errors, logs and metrics (never the concrete URL), and key the scope
// table below. {org} is filled from Config.Org, the other placeholders from
// the method's arguments, in order.
const (
	epAPIIndex       = "/"
	epOrganization   = "/organizations/{org}/"
	epMembers        = "/organizations/{org}/members/"
	epMember         = "/organizations/{org}/members/{member_id}/"
	epMemberTeam     = "/organizations/{org}/members/{member_id}/teams/{team}/"
	epTeams          = "/organizations/{org}/teams/"
	epTeam           = "/teams/{org}/{team}/"
	epTeamMembers    = "/teams/{org}/{team}/members/"
	epProjects       = "/organizations/{org}/projects/"
	epProjectTeams   = "/projects/{org}/{project}/teams/"
	epProjectTeam    = "/projects/{org}/{project}/teams/{team}/"
	epAccessRequests = "/organizations/{org}/access-requests/"
	epAccessRequest  = "/organizations/{org}/access-requests/{request_id}/"
	epOrgAuthTokens  = "/organizations/{org}/org-auth-tokens/"
	epSentryApps     = "/organizations/{org}/sentry-apps/"
	epAuthProvider   = "/organizations/{org}/auth-provider/"
	epAuditLogs      = "/organizations/{org}/audit-logs/"
	epAPITokens      = "/api-tokens/"
	epSCIMUsers      = "/organizations/{org}/scim/v2/Users"
	epSCIMUser       = "/organizations/{org}/scim/v2/Users/{member_id}"
	epSCIMGroups     = "/organizations/{org}/scim/v2/Groups"
	epSCIMGroup      = "/organizations/{org}/scim/v2/Groups/{team_id}"
)

// requiredScopes returns the scope_map entry (any-of) of an endpoint and
// method, as read from Sentry's permission classes (docs/sentry-access-model.md#endpoints):
// OrganizationPermission, MemberAndStaffPermission, TeamPermission,
// ProjectPermission, OrganizationAuditPermission, OrgAuthTokenPermission,
// OrganizationAuthProviderPermission and src/sentry/scim/endpoints/utils.py.
// It returns nil when the table has no entry.
func requiredScopes(method, endpoint string) []string {
	const (
		get, post, put, del, patch = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch
	)
	orgRead := []string{"org:read", "org:write", "org:admin"}
	orgWrite := []string{"org:write", "org:admin"}
	memberRead := []string{"member:read", "member:write", "member:admin"}
	memberWrite := []string{"member:write", "member:admin"}
	teamRead := []string{"team:read", "team:write", "team:admin"}
	teamWrite := []string{"team:write", "team:admin"}
	projectRead := []string{"project:read", "project:write", "project:admin"}
	projectWrite := []string{"project:write", "project:admin"}
	join := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	table := map[string]map[string][]string{
		epOrganization:   {get: orgRead, put: orgWrite},
		epMembers:        {get: memberRead, post: {"member:write", "member:admin", "member:invite"}},
		epMember:         {get: memberRead, put: {"member:invite", "member:write", "member:admin"}, del: memberRead},
		epMemberTeam:     {get: join(orgRead, memberRead), post: {"org:read", "org:write", "team:write"}, put: join(orgRead, memberRead), del: join(orgRead, []string{"team:admin"})},
		epTeams:          {get: orgRead, post: {"org:write", "org:admin", "team:write"}},
		epTeam:           {get: teamRead, put: teamWrite, del: {"team:admin"}},
		epTeamMembers:    {get: teamRead},
		epProjects:       {get: orgRead},
		epProjectTeams:   {get: projectRead},
		epProjectTeam:    {post: projectWrite, del: projectWrite},
		epAccessRequests: {get: join(orgRead, teamRead, memberRead)},
		epAccessRequest:  {put: join(orgWrite, memberWrite, teamWrite)},
		epOrgAuthTokens:  {get: orgRead},
		epAuthProvider:   {get: {"org:read"}},
		epAuditLogs:      {get: {"org:write"}},
		epSCIMUsers:      {get: memberRead, post: memberWrite},
		epSCIMUser:       {get: memberRead, put: memberWrite, patch: memberWrite, del: {"member:admin"}},
		epSCIMGroups:     {get: teamRead, post: teamWrite},
		epSCIMGroup:      {get: teamRead, patch: teamWrite, del: {"team:admin"}},
	}
	return table[endpoint][method]
}
