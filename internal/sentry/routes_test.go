package sentry

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func TestEachMethodCallsSentrysEndpoint(t *testing.T) {
	t.Parallel()
	open := true
	tests := []struct {
		name     string
		call     func(context.Context, *Client) error
		method   string
		path     string
		wantBody string
		status   int
		respBody string
	}{
		{"UpdateOrganization sends only set fields", func(ctx context.Context, c *Client) error {
			o, err := c.UpdateOrganization(ctx, OrganizationUpdate{OpenMembership: &open})
			if err == nil && !o.OpenMembership {
				t.Error("openMembership not decoded")
			}
			return err
		}, "PUT", "/organizations/acme/", `{"openMembership":true}`, 200, `{"slug":"acme","openMembership":true}`},
		{"DeleteMember", func(ctx context.Context, c *Client) error { return c.DeleteMember(ctx, "7") },
			"DELETE", "/organizations/acme/members/7/", "", 204, ""},
		{"AccessRequests", func(ctx context.Context, c *Client) error {
			rs, err := c.AccessRequests(ctx)
			if err == nil && (len(rs) != 1 || rs[0].Team.Slug != "web" || rs[0].Member.ID != "7") {
				t.Errorf("requests = %+v", rs)
			}
			return err
		}, "GET", "/organizations/acme/access-requests/", "", 200, `[{"id":"1","member":{"id":"7"},"team":{"slug":"web"},"requester":null}]`},
		{"ProjectTeams", func(ctx context.Context, c *Client) error { _, err := c.ProjectTeams(ctx, "api"); return err },
			"GET", "/projects/acme/api/teams/", "", 200, `[{"slug":"web"}]`},
		{"AddProjectTeam", func(ctx context.Context, c *Client) error { _, err := c.AddProjectTeam(ctx, "api", "web"); return err },
			"POST", "/projects/acme/api/teams/web/", "", 201, `{"slug":"api"}`},
		{"ListTeamMembers", func(ctx context.Context, c *Client) error {
			ms, err := c.ListTeamMembers(ctx, "web")
			if err == nil && (len(ms) != 1 || ms[0].TeamRole != nil || ms[0].Email != "a@acme.com") {
				t.Errorf("team members = %+v", ms)
			}
			return err
		}, "GET", "/teams/acme/web/members/", "", 200, `[{"id":"1","email":"a@acme.com","teamRole":null,"teamSlug":"web"}]`},
		{"RemoveMemberFromTeam", func(ctx context.Context, c *Client) error { return c.RemoveMemberFromTeam(ctx, "7", "web") },
			"DELETE", "/organizations/acme/members/7/teams/web/", "", 200, `{"slug":"web"}`},
		{"CreateTeam", func(ctx context.Context, c *Client) error { _, err := c.CreateTeam(ctx, "web", "Web"); return err },
			"POST", "/organizations/acme/teams/", `{"slug":"web","name":"Web"}`, 201, `{"slug":"web"}`},
		{"InviteMember", func(ctx context.Context, c *Client) error {
			_, err := c.InviteMember(ctx, Invite{Email: "a@acme.com", OrgRole: "member", TeamRoles: []MemberTeamRole{{TeamSlug: "web", Role: ptr("contributor")}}, SendInvite: true})
			return err
		}, "POST", "/organizations/acme/members/", `{"email":"a@acme.com","orgRole":"member","teamRoles":[{"teamSlug":"web","role":"contributor"}],"sendInvite":true}`, 201, `{"id":"9"}`},
		{"OrgAuthTokens", func(ctx context.Context, c *Client) error { _, err := c.OrgAuthTokens(ctx); return err },
			"GET", "/organizations/acme/org-auth-tokens/", "", 200, `[{"id":"1","scopes":["org:ci"]}]`},
		{"SentryApps", func(ctx context.Context, c *Client) error { _, err := c.SentryApps(ctx); return err },
			"GET", "/organizations/acme/sentry-apps/", "", 200, `[{"slug":"ci","status":"internal","scopes":["org:read"]}]`},
		{"SCIMGroup by numeric id", func(ctx context.Context, c *Client) error { _, err := c.SCIMGroup(ctx, "3"); return err },
			"GET", "/organizations/acme/scim/v2/Groups/3", "", 200, `{"id":"3","displayName":"Web"}`},
		{"CreateSCIMGroup", func(ctx context.Context, c *Client) error { _, err := c.CreateSCIMGroup(ctx, "Web"); return err },
			"POST", "/organizations/acme/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Web","members":[]}`, 201, `{"id":"3"}`},
		{"DeleteSCIMGroup", func(ctx context.Context, c *Client) error { return c.DeleteSCIMGroup(ctx, "3") },
			"DELETE", "/organizations/acme/scim/v2/Groups/3", "", 204, ""},
		{"DeleteSCIMUser", func(ctx context.Context, c *Client) error { return c.DeleteSCIMUser(ctx, "12") },
			"DELETE", "/organizations/acme/scim/v2/Users/12", "", 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gotMethod, gotPath, gotBody string
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotMethod, gotPath, gotBody = r.Method, r.URL.Path, string(b)
				if tt.respBody == "" {
					w.WriteHeader(tt.status)
					return
				}
				writeJSON(w, tt.status, tt.respBody)
			})
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			if gotMethod != tt.method || gotPath != "/api/0"+tt.path || gotBody != tt.wantBody {
				t.Errorf("sent %s %s %s\nwant %s /api/0%s %s", gotMethod, gotPath, gotBody, tt.method, tt.path, tt.wantBody)
			}
		})
	}
}
