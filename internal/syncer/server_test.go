package syncer

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

func decodeOrg(t *testing.T, body string) *sentry.Organization {
	t.Helper()
	var o sentry.Organization
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

// A setting the server left out takes Sentry's default; it is never read
// as "off", which for eventsMemberAdmin and alertsMemberWrite would strip
// members of event:admin and alerts:write.
func TestMissingSettingsTakeSentrysDefaultsNeverOff(t *testing.T) {
	t.Parallel()
	o := decodeOrg(t, `{"id":"1","slug":"acme","openMembership":false,"require2FA":true,"allowJoinRequests":false,"access":[],"role":"owner"}`)
	org, orgRoles, teamRoles, fields := mapOrg(o, nil)
	if !org.EventsMemberAdmin || !org.AlertsMemberWrite || !org.AllowMemberInvite || !org.AllowMemberProjectCreation {
		t.Errorf("org = %+v, want Sentry's defaults (on) for the settings left out", org)
	}
	if org.OpenMembership || !org.Require2FA || org.AllowJoinRequests {
		t.Errorf("org = %+v, want the settings sent kept", org)
	}
	if orgRoles != nil || teamRoles != nil {
		t.Errorf("roles = %v %v, want none: the engine uses Sentry's built-in roles", orgRoles, teamRoles)
	}
	snap := &access.Snapshot{Org: org, Members: []access.Member{{ID: "1", Email: "ana@acme.test", OrgRole: "member", State: access.StateActive,
		Teams: []access.Membership{{Team: "web"}}}}, Teams: []access.Team{{Slug: "web"}}, Projects: []access.Project{{Slug: "api", Teams: []string{"web"}}}}
	m, err := access.New(snap).Member("1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.OrgScopes, "event:admin") || !slices.Contains(m.OrgScopes, "alerts:write") {
		t.Errorf("member scopes = %v, want event:admin and alerts:write (Sentry's defaults)", m.OrgScopes)
	}
	want := map[string]access.Provenance{
		"eventsMemberAdmin": access.Assumed, "alertsMemberWrite": access.Assumed, "allowMemberInvite": access.Assumed,
		"allowMemberProjectCreation": access.Assumed, "orgRoleList": access.Assumed, "teamRoleList": access.Assumed,
		"openMembership": access.Detected, "require2FA": access.Detected, "allowJoinRequests": access.Detected,
		"hasAuthProvider": access.Detected, "requiresSso": access.Detected,
	}
	for f, p := range want {
		if got, ok := (access.Server{Fields: fields}).Field(f); !ok || got.Provenance != p || got.Value == "" {
			t.Errorf("%s: %+v, want %s with a value", f, got, p)
		}
	}
	if !slices.IsSortedFunc(fields, func(a, b access.FieldSource) int { return strings.Compare(a.Field, b.Field) }) {
		t.Errorf("fields not in API-name order: %v", fields)
	}
}

func TestRequiresSSOComesFromTheAuthProviderWhenTheDetailLacksIt(t *testing.T) {
	t.Parallel()
	o := decodeOrg(t, `{"id":"1","slug":"acme"}`)
	org, _, _, fields := mapOrg(o, &sentry.AuthProvider{ProviderName: "okta", RequireLink: true, SCIMEnabled: true})
	if !org.RequiresSSO || !org.HasAuthProvider || !org.SCIMEnabled {
		t.Errorf("org = %+v", org)
	}
	if fs, _ := (access.Server{Fields: fields}).Field("requiresSso"); fs.Provenance != access.Detected || fs.Note == "" {
		t.Errorf("requiresSso = %+v, want detected with the endpoint named", fs)
	}
}

// Role entries without isTeamRolesAllowed (or with is_global in snake case)
// take the built-in role's values: a member is never told it "may not hold
// team roles" because a field was missing.
func TestRoleEntriesWithoutFieldsTakeTheBuiltInRolesValues(t *testing.T) {
	t.Parallel()
	o := decodeOrg(t, `{"id":"1","slug":"acme","orgRoleList":[
		{"id":"member","name":"Member","scopes":["org:read"],"is_global":false},
		{"id":"manager","name":"Manager","scopes":["org:write"]},
		{"id":"custom","name":"Custom","scopes":["org:read"]}]}`)
	_, roles, _, fields := mapOrg(o, nil)
	byID := map[string]access.OrgRole{}
	for _, r := range roles {
		byID[r.ID] = r
	}
	if !byID["member"].IsTeamRolesAllowed || !byID["manager"].IsTeamRolesAllowed || !byID["custom"].IsTeamRolesAllowed {
		t.Errorf("isTeamRolesAllowed: %+v", roles)
	}
	if !byID["manager"].IsGlobal || byID["member"].IsGlobal || byID["custom"].IsGlobal {
		t.Errorf("isGlobal: %+v", roles)
	}
	srv := access.Server{Fields: fields}
	for _, f := range []string{"orgRoleList.isTeamRolesAllowed", "orgRoleList.isGlobal", "orgRoleList.minimumTeamRole"} {
		if fs, _ := srv.Field(f); fs.Provenance != access.Assumed {
			t.Errorf("%s = %+v, want assumed", f, fs)
		}
	}
	if fs, _ := srv.Field("orgRoleList"); fs.Provenance != access.Detected {
		t.Errorf("orgRoleList = %+v, want detected", fs)
	}
}

func TestServerInfoTellsSaaSFromSelfHosted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		url         string
		links       *sentry.OrganizationLinks
		wantHosting string
		wantRegion  string
	}{
		{"a region host", "https://us.sentry.io", nil, access.HostingSaaS, "us"},
		{"sentry.io with a de region URL", "https://sentry.io", &sentry.OrganizationLinks{RegionURL: "https://de.sentry.io"}, access.HostingSaaS, "de"},
		{"an org subdomain", "https://acme.sentry.io", &sentry.OrganizationLinks{RegionURL: "https://us.sentry.io"}, access.HostingSaaS, "us"},
		{"a look-alike host", "https://sentry.io.example.com", nil, access.HostingSelfHosted, ""},
		{"self-hosted", "https://sentry.acme.internal", &sentry.OrganizationLinks{RegionURL: "https://sentry.acme.internal"}, access.HostingSelfHosted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := serverInfo(tt.url, &sentry.Organization{Links: tt.links}, "", nil)
			if got.Hosting != tt.wantHosting || got.Region != tt.wantRegion || got.HostingWhy == "" {
				t.Errorf("got %+v, want %s region %q", got, tt.wantHosting, tt.wantRegion)
			}
		})
	}
}

func TestActingIdentity(t *testing.T) {
	t.Parallel()
	members := []access.Member{
		{ID: "10", Email: "olivia@acme.test", UserID: "7", OrgRole: "owner"},
		{ID: "11", Email: "maya@acme.test", UserID: "8", OrgRole: "member"},
	}
	integrations := []access.Integration{{Slug: "access-sync", Name: "Access Sync"}}
	user := func(id, username, email string) *sentry.User {
		return &sentry.User{ID: id, Username: username, Email: email}
	}
	auth := &sentry.APIIndexAuth{Scopes: []string{"org:read", "member:admin"}}
	tests := []struct {
		name       string
		idx        *sentry.APIIndex
		err        error
		orgRole    string
		want       access.ActingIdentity
		wantReason bool
	}{
		{"a member's user token", &sentry.APIIndex{Auth: auth, User: user("7", "olivia", "olivia@acme.test")}, nil, "owner",
			access.ActingIdentity{Kind: access.CallerUser, UserID: "7", Username: "olivia", Email: "olivia@acme.test", MemberID: "10", OrgRole: "owner", TokenScopes: []string{"member:admin", "org:read"}}, false},
		{"the org detail's role wins over the member list's", &sentry.APIIndex{Auth: auth, User: user("8", "maya", "maya@acme.test")}, nil, "manager",
			access.ActingIdentity{Kind: access.CallerUser, UserID: "8", Username: "maya", Email: "maya@acme.test", MemberID: "11", OrgRole: "manager", TokenScopes: []string{"member:admin", "org:read"}}, false},
		{"a user who is no member", &sentry.APIIndex{Auth: auth, User: user("99", "root", "root@acme.test")}, nil, "",
			access.ActingIdentity{Kind: access.CallerUser, UserID: "99", Username: "root", Email: "root@acme.test", TokenScopes: []string{"member:admin", "org:read"}}, true},
		{"an internal integration's proxy user", &sentry.APIIndex{Auth: auth, User: user("9000000", "access-sync", "")}, nil, "",
			access.ActingIdentity{Kind: access.CallerIntegration, UserID: "9000000", Username: "access-sync", Integration: "access-sync", TokenScopes: []string{"member:admin", "org:read"}}, false},
		{"an org auth token", &sentry.APIIndex{Auth: &sentry.APIIndexAuth{Scopes: []string{"org:ci"}}}, nil, "",
			access.ActingIdentity{Kind: access.CallerOrgToken, TokenScopes: []string{"org:ci"}}, false},
		{"the index failed", nil, &sentry.APIError{Status: 404}, "owner",
			access.ActingIdentity{Kind: access.CallerUnknown, OrgRole: "owner"}, true},
		{"the index did not answer", nil, errors.New("dial tcp: refused"), "",
			access.ActingIdentity{Kind: access.CallerUnknown}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := actingIdentity(tt.idx, tt.err, &sentry.Organization{OrgRole: tt.orgRole}, members, integrations)
			if (got.Unknown != "") != tt.wantReason {
				t.Errorf("Unknown = %q, want a reason: %v", got.Unknown, tt.wantReason)
			}
			got.Unknown = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
