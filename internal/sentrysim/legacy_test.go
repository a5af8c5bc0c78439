package sentrysim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

func TestAPIIndexAnswersWhoTheCredentialIs(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct {
		name      string
		token     string
		wantUser  string // email, or username when the user has no email
		wantAuth  bool
		wantScope string
	}{
		{"user token: its user", DemoOwnerToken, DemoOwnerEmail, true, "member:admin"},
		{"integration token: the app's proxy user", DemoIntegrationToken, "access-sync", true, "org:read"},
		{"org auth token: no user", DemoCIToken, "", true, "org:ci"},
		{"anonymous: neither", "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var idx struct {
				Version string               `json:"version"`
				Auth    *sentry.APIIndexAuth `json:"auth"`
				User    *sentry.User         `json:"user"`
			}
			h.do(http.MethodGet, "/api/0/", tt.token, nil).want(t, http.StatusOK).decode(t, &idx)
			if idx.Version != "0" {
				t.Errorf("version = %q", idx.Version)
			}
			got := ""
			if idx.User != nil {
				got = idx.User.Email
				if got == "" {
					got = idx.User.Username
				}
			}
			if got != tt.wantUser {
				t.Errorf("user = %q, want %q", got, tt.wantUser)
			}
			if (idx.Auth != nil) != tt.wantAuth || tt.wantAuth && !slices.Contains(idx.Auth.Scopes, tt.wantScope) {
				t.Errorf("auth = %+v, want scopes with %q", idx.Auth, tt.wantScope)
			}
		})
	}
}

func TestAPIIndexRefusesABadToken(t *testing.T) {
	t.Parallel()
	demoHarness(t).do(http.MethodGet, "/api/0/", "sntryu_nope", nil).want(t, http.StatusUnauthorized)
}

func TestOrganizationsListTheCallersOrganizations(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct {
		name   string
		token  string
		status int
		want   []string
	}{
		{"a member's user token", DemoOwnerToken, http.StatusOK, []string{DemoOrgSlug}},
		{"an integration's proxy user is a member of none", DemoIntegrationToken, http.StatusOK, []string{}},
		{"an org auth token lacks org:read", DemoCIToken, http.StatusForbidden, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(http.MethodGet, "/api/0/organizations/", tt.token, nil).want(t, tt.status)
			if tt.status != http.StatusOK {
				return
			}
			var orgs []map[string]any
			r.decode(t, &orgs)
			got := []string{}
			for _, o := range orgs {
				got = append(got, o["slug"].(string))
				for _, f := range []string{"id", "status", "links", "hasAuthProvider", "allowMemberInvite", "avatar", "dateCreated"} {
					if _, ok := o[f]; !ok {
						t.Errorf("organization lacks %q", f)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("orgs = %v, want %v", got, tt.want)
			}
			if !strings.Contains(r.header.Get("Link"), `rel="next"; results="false"`) {
				t.Errorf("Link = %q, want Sentry's pagination header", r.header.Get("Link"))
			}
		})
	}
}

func TestOrganizationDetailCarriesLinks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, DemoFixture(), Options{RegionURL: "https://us.sentry.io"})
	var o sentry.Organization
	h.do(http.MethodGet, org+"/", DemoOwnerToken, nil).want(t, http.StatusOK).decode(t, &o)
	if o.Links == nil || o.Links.RegionURL != "https://us.sentry.io" {
		t.Errorf("links = %+v", o.Links)
	}
	if len(o.Absent) != 0 || o.Role != "owner" || o.OrgRole != "owner" {
		t.Errorf("absent %v, role %q, orgRole %q", o.Absent, o.Role, o.OrgRole)
	}
}

func legacyHarness(t *testing.T) *harness {
	return newHarness(t, DemoFixture(), Options{Legacy: true, RateLimit: RateLimit{PerWindow: 1000, Headers: true}})
}

func TestLegacyOrganizationDetailLeavesOutTheTeamRoleEraFields(t *testing.T) {
	t.Parallel()
	r := legacyHarness(t).do(http.MethodGet, org+"/", DemoOwnerToken, nil).want(t, http.StatusOK)
	var body map[string]json.RawMessage
	r.decode(t, &body)
	for _, f := range []string{"orgRoleList", "teamRoleList", "eventsMemberAdmin", "alertsMemberWrite", "allowMemberInvite",
		"allowMemberProjectCreation", "requiresSso", "hasAuthProvider", "links", "orgRole"} {
		if _, ok := body[f]; ok {
			t.Errorf("legacy detail has %q", f)
		}
	}
	for _, f := range []string{"openMembership", "require2FA", "allowJoinRequests", "access", "role", "availableRoles"} {
		if _, ok := body[f]; !ok {
			t.Errorf("legacy detail lacks %q", f)
		}
	}
	if string(body["role"]) != `"owner"` {
		t.Errorf("role = %s", body["role"])
	}
	if r.header.Get("X-Sentry-Rate-Limit-Limit") != "" {
		t.Error("legacy server sent rate-limit headers")
	}
}

func TestLegacyPutOrganizationIgnoresSettingsItDoesNotKnow(t *testing.T) {
	t.Parallel()
	h := legacyHarness(t)
	h.do(http.MethodPut, org+"/", DemoOwnerToken, map[string]any{"eventsMemberAdmin": false, "openMembership": false}).want(t, http.StatusOK)
	if h.srv.st.org.eventsMemberAdmin != true || h.srv.st.org.openMembership {
		t.Errorf("eventsMemberAdmin %v openMembership %v, want true false", h.srv.st.org.eventsMemberAdmin, h.srv.st.org.openMembership)
	}
}

func TestLegacyProjectsIgnoreAllProjects(t *testing.T) {
	t.Parallel()
	fx := Generate(GenOptions{Members: 20, Teams: 5, Projects: 250, Seed: 1})
	legacy := newHarness(t, fx, Options{Legacy: true})
	modern := newHarness(t, fx, Options{})
	var ps []sentry.Project
	r := legacy.do(http.MethodGet, org+"/projects/?all_projects=1", ownerTokenOf(t, legacy), nil).want(t, http.StatusOK)
	r.decode(t, &ps)
	if len(ps) != 100 || !strings.Contains(r.header.Get("Link"), `rel="next"; results="true"`) {
		t.Errorf("legacy: %d projects, Link %q; want a first page of 100 with a next link", len(ps), r.header.Get("Link"))
	}
	modern.do(http.MethodGet, org+"/projects/?all_projects=1", ownerTokenOf(t, modern), nil).want(t, http.StatusOK).decode(t, &ps)
	if len(ps) != 250 {
		t.Errorf("modern: %d projects, want all 250", len(ps))
	}
}

func TestLegacyAuditLogIsABareList(t *testing.T) {
	t.Parallel()
	r := legacyHarness(t).do(http.MethodGet, org+"/audit-logs/", DemoOwnerToken, nil).want(t, http.StatusOK)
	var rows []sentry.AuditLogEntry
	r.decode(t, &rows)
	if len(rows) == 0 {
		t.Error("no rows")
	}
	if r.header.Get("Link") == "" {
		t.Error("no Link header")
	}
}

// ownerTokenOf returns the owner token of the harness's fixture.
func ownerTokenOf(t *testing.T, h *harness) string {
	t.Helper()
	tok := h.srv.Tokens().OwnerToken
	if tok == "" {
		t.Fatal("fixture has no owner token")
	}
	return tok
}
