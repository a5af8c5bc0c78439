package sentrysim

import "net/http"

// routes registers every endpoint with its org-level scope_map (any-of),
// see docs/sentry-access-model.md#endpoints. Team- and project-scoped
// endpoints without a scope list check has_team_scope / has_any_project_scope
// in the handler (TeamPermission, ProjectPermission).

func scopes(s ...string) []string { return s }

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	orgRead := scopes("org:read", "org:write", "org:admin")
	memberRead := scopes("member:read", "member:write", "member:admin")
	teamRead := scopes("team:read", "team:write", "team:admin")
	for _, e := range []endpoint{
		{pattern: "GET /api/0/{$}", global: true, public: true, h: s.apiIndex},
		{pattern: "GET /api/0/organizations/{$}", global: true, scopes: orgRead, h: s.listOrganizations},
		{pattern: "GET /api/0/organizations/{org}/{$}", scopes: orgRead, h: s.getOrg},
		{pattern: "PUT /api/0/organizations/{org}/{$}", scopes: scopes("org:write", "org:admin"), h: s.putOrg},

		{pattern: "GET /api/0/organizations/{org}/members/{$}", scopes: memberRead, h: s.listMembers},
		{pattern: "POST /api/0/organizations/{org}/members/{$}", scopes: scopes("member:write", "member:admin", "member:invite"), h: s.inviteMember},
		{pattern: "GET /api/0/organizations/{org}/members/{member}/{$}", limitExempt: true, scopes: memberRead, h: s.getMember},
		{pattern: "PUT /api/0/organizations/{org}/members/{member}/{$}", limitExempt: true, scopes: scopes("member:invite", "member:write", "member:admin"), h: s.putMember},
		{pattern: "DELETE /api/0/organizations/{org}/members/{member}/{$}", limitExempt: true, scopes: memberRead, h: s.deleteMember},

		{pattern: "POST /api/0/organizations/{org}/members/{member}/teams/{team}/{$}", scopes: scopes("org:read", "org:write", "team:write"), h: s.joinTeam},
		{pattern: "GET /api/0/organizations/{org}/members/{member}/teams/{team}/{$}", scopes: scopes("org:read", "org:write", "org:admin", "member:read", "member:write", "member:admin"), h: s.getTeamMembership},
		{pattern: "PUT /api/0/organizations/{org}/members/{member}/teams/{team}/{$}", scopes: scopes("org:read", "org:write", "org:admin", "member:read", "member:write", "member:admin", "team:admin", "team:write"), h: s.putTeamRole},
		{pattern: "DELETE /api/0/organizations/{org}/members/{member}/teams/{team}/{$}", scopes: scopes("org:read", "org:write", "org:admin", "team:admin"), h: s.leaveTeam},

		{pattern: "GET /api/0/organizations/{org}/teams/{$}", scopes: orgRead, h: s.listTeams},
		{pattern: "POST /api/0/organizations/{org}/teams/{$}", scopes: scopes("org:write", "org:admin", "team:write"), h: s.createTeam},
		{pattern: "GET /api/0/organizations/{org}/user-teams/{$}", scopes: orgRead, h: s.userTeams},
		{pattern: "GET /api/0/teams/{org}/{team}/{$}", scopes: teamRead, h: s.getTeam},
		{pattern: "PUT /api/0/teams/{org}/{team}/{$}", h: s.putTeam},
		{pattern: "DELETE /api/0/teams/{org}/{team}/{$}", h: s.deleteTeam},
		{pattern: "GET /api/0/teams/{org}/{team}/members/{$}", scopes: teamRead, h: s.teamMembers},

		{pattern: "GET /api/0/organizations/{org}/projects/{$}", scopes: orgRead, h: s.listProjects},
		{pattern: "GET /api/0/projects/{$}", global: true, h: s.listYourProjects},
		{pattern: "GET /api/0/projects/{org}/{project}/{$}", h: s.getProject},
		{pattern: "GET /api/0/projects/{org}/{project}/teams/{$}", h: s.projectTeams},
		{pattern: "POST /api/0/projects/{org}/{project}/teams/{team}/{$}", h: s.linkProjectTeam},
		{pattern: "DELETE /api/0/projects/{org}/{project}/teams/{team}/{$}", h: s.unlinkProjectTeam},

		{pattern: "GET /api/0/organizations/{org}/access-requests/{$}", scopes: scopes("org:read", "org:write", "org:admin", "team:read", "team:write", "team:admin", "member:read", "member:write", "member:admin"), h: s.listAccessRequests},
		{pattern: "PUT /api/0/organizations/{org}/access-requests/{request}/{$}", scopes: scopes("org:read", "org:write", "org:admin", "team:write", "team:admin", "member:write", "member:admin"), h: s.putAccessRequest},

		{pattern: "GET /api/0/organizations/{org}/org-auth-tokens/{$}", scopes: orgRead, h: s.listOrgTokens},
		{pattern: "POST /api/0/organizations/{org}/org-auth-tokens/{$}", scopes: orgRead, h: s.createOrgToken},
		{pattern: "DELETE /api/0/organizations/{org}/org-auth-tokens/{token}/{$}", scopes: scopes("org:write", "org:admin"), h: s.deleteOrgToken},
		{pattern: "GET /api/0/organizations/{org}/sentry-apps/{$}", scopes: orgRead, h: s.listApps},
		{pattern: "GET /api/0/organizations/{org}/auth-provider/{$}", scopes: orgRead, h: s.getAuthProvider},
		{pattern: "GET /api/0/organizations/{org}/audit-logs/{$}", scopes: scopes("org:write"), h: s.listAudit},
		{pattern: "GET /api/0/api-tokens/{$}", session: true},
		{pattern: "POST /api/0/api-tokens/{$}", session: true},
		{pattern: "DELETE /api/0/api-tokens/{$}", session: true},

		{pattern: "GET /api/0/organizations/{org}/scim/v2/Users", scim: true, scopes: memberRead, h: s.scimListUsers},
		{pattern: "POST /api/0/organizations/{org}/scim/v2/Users", scim: true, scopes: scopes("member:write", "member:admin"), h: s.scimCreateUser},
		{pattern: "GET /api/0/organizations/{org}/scim/v2/Users/{member}", scim: true, scopes: memberRead, h: s.scimGetUser},
		{pattern: "PATCH /api/0/organizations/{org}/scim/v2/Users/{member}", scim: true, scopes: scopes("member:write", "member:admin"), h: s.scimPatchUser},
		{pattern: "PUT /api/0/organizations/{org}/scim/v2/Users/{member}", scim: true, scopes: scopes("member:write", "member:admin"), h: s.scimPutUser},
		{pattern: "DELETE /api/0/organizations/{org}/scim/v2/Users/{member}", scim: true, scopes: scopes("member:admin"), h: s.scimDeleteUser},
		{pattern: "GET /api/0/organizations/{org}/scim/v2/Groups", scim: true, scopes: teamRead, h: s.scimListGroups},
		{pattern: "POST /api/0/organizations/{org}/scim/v2/Groups", scim: true, scopes: scopes("team:write", "team:admin"), h: s.scimCreateGroup},
		{pattern: "GET /api/0/organizations/{org}/scim/v2/Groups/{team}", scim: true, scopes: teamRead, h: s.scimGetGroup},
		{pattern: "PUT /api/0/organizations/{org}/scim/v2/Groups/{team}", scim: true, scopes: teamRead, h: s.scimPutGroup},
		{pattern: "PATCH /api/0/organizations/{org}/scim/v2/Groups/{team}", scim: true, scopes: scopes("team:write", "team:admin"), h: s.scimPatchGroup},
		{pattern: "DELETE /api/0/organizations/{org}/scim/v2/Groups/{team}", scim: true, scopes: scopes("team:admin"), h: s.scimDeleteGroup},
	} {
		if h := s.legacyHandler(e.pattern); h != nil {
			e.h = h
		}
		s.handle(mux, e)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r}
		c.detail(http.StatusNotFound, msgNotFound)
	})
	return mux
}
