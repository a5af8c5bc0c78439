package samlauth_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

type attr struct {
	name, friendly string
	values         []string
}

func TestEachPresetMapsWhatItsIdPSends(t *testing.T) {
	t.Parallel()
	roles := samlauth.RoleGroups{Viewer: []string{"SA-Viewers"}, Approver: []string{"sa-approvers"}, Admin: []string{"sa-admins"}}
	tests := []struct {
		preset samlauth.Preset
		attrs  []attr
		want   samlauth.Identity
	}{
		{samlauth.PresetOkta, []attr{{"email", "", []string{"Ana@Acme.test"}}, {"firstName", "", []string{"Ana"}}, {"lastName", "", []string{"Ng"}}, {"groups", "", []string{"Everyone", "sa-approvers"}}},
			samlauth.Identity{Email: "ana@acme.test", Name: "Ana Ng", Groups: []string{"Everyone", "sa-approvers"}, Role: sentryaccess.RoleApprover}},
		{samlauth.PresetEntraID, []attr{
			{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "", []string{"ana@acme.test"}},
			{"http://schemas.microsoft.com/identity/claims/displayname", "", []string{"Ana Ng"}},
			{"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", "", []string{"sa-admins"}}},
			samlauth.Identity{Email: "ana@acme.test", Name: "Ana Ng", Groups: []string{"sa-admins"}, Role: sentryaccess.RoleAdmin}},
		{samlauth.PresetGoogle, []attr{{"email", "", []string{"ana@acme.test"}}, {"firstName", "", []string{"Ana"}}, {"groups", "", []string{"sa-viewers"}}},
			samlauth.Identity{Email: "ana@acme.test", Name: "Ana", Groups: []string{"sa-viewers"}, Role: sentryaccess.RoleViewer}},
		{samlauth.PresetADFS, []attr{
			{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "", []string{"ana@acme.test"}},
			{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "", []string{"Ana Ng"}},
			{"http://schemas.xmlsoap.org/claims/Group", "", []string{"sa-approvers", "sa-admins"}}},
			samlauth.Identity{Email: "ana@acme.test", Name: "Ana Ng", Groups: []string{"sa-approvers", "sa-admins"}, Role: sentryaccess.RoleAdmin}},
		{samlauth.PresetKeycloak, []attr{{"urn:oid:1.2.840.113549.1.9.1", "email", []string{"ana@acme.test"}}, {"firstName", "", []string{"Ana"}}, {"lastName", "", []string{"Ng"}}, {"Role", "", []string{"sa-approvers"}}},
			samlauth.Identity{Email: "ana@acme.test", Name: "Ana Ng", Groups: []string{"sa-approvers"}, Role: sentryaccess.RoleApprover}},
		{samlauth.PresetGeneric, []attr{{"urn:oid:0.9.2342.19200300.100.1.3", "mail", []string{"ana@acme.test"}}, {"urn:oid:2.5.4.3", "cn", []string{"Ana Ng"}}, {"eduPersonAffiliation", "", []string{"sa-viewers"}}},
			samlauth.Identity{Email: "ana@acme.test", Name: "Ana Ng", Groups: []string{"sa-viewers"}, Role: sentryaccess.RoleViewer}},
	}
	for _, tt := range tests {
		t.Run(string(tt.preset), func(t *testing.T) {
			t.Parallel()
			names, err := samlauth.PresetAttributes(tt.preset)
			if err != nil {
				t.Fatal(err)
			}
			attrs := samlauth.NewAttributes()
			for _, a := range tt.attrs {
				attrs.Add(a.name, a.friendly, a.values...)
			}
			got, err := samlauth.MapIdentity(attrs, names, roles, "nid", "idx")
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != tt.want.Email || got.Name != tt.want.Name || got.Role != tt.want.Role || !slices.Equal(got.Groups, tt.want.Groups) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRoleComesFromTheHighestGroupOrTheDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		groups []string
		def    sentryaccess.Role
		want   sentryaccess.Role
	}{
		{"admin group wins over approver", []string{"approvers", "admins"}, sentryaccess.RoleNone, sentryaccess.RoleAdmin},
		{"group names ignore case", []string{"APPROVERS"}, sentryaccess.RoleNone, sentryaccess.RoleApprover},
		{"no matching group gets the default", []string{"staff"}, sentryaccess.RoleViewer, sentryaccess.RoleViewer},
		{"no matching group and no default gets nothing", []string{"staff"}, sentryaccess.RoleNone, sentryaccess.RoleNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := samlauth.RoleGroups{Viewer: []string{"viewers"}, Approver: []string{"approvers"}, Admin: []string{"admins"}, Default: tt.def}
			if got := g.Resolve(tt.groups); got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.groups, got, tt.want)
			}
		})
	}
}

func TestAUserWithoutARoleIsRefused(t *testing.T) {
	t.Parallel()
	attrs := samlauth.NewAttributes()
	attrs.Add("mail", "", "ana@acme.test")
	names, _ := samlauth.PresetAttributes(samlauth.PresetGeneric)
	_, err := samlauth.MapIdentity(attrs, names, samlauth.RoleGroups{Admin: []string{"admins"}}, "", "")
	if !errors.Is(err, samlauth.ErrNoRole) {
		t.Errorf("err = %v, want ErrNoRole", err)
	}
}

func TestCustomNamesReplaceThePresets(t *testing.T) {
	t.Parallel()
	preset, _ := samlauth.PresetAttributes(samlauth.PresetOkta)
	names := preset.Merge(samlauth.AttributeNames{Email: []string{"workEmail"}})
	attrs := samlauth.NewAttributes()
	attrs.Add("email", "", "private@example.com")
	attrs.Add("workEmail", "", "ana@acme.test")
	got, err := samlauth.MapIdentity(attrs, names, samlauth.RoleGroups{Default: sentryaccess.RoleViewer}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "ana@acme.test" {
		t.Errorf("email = %q, want the custom attribute's ana@acme.test", got.Email)
	}
}

func TestSafeReturnPathAllowsOnlyLocalPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"/", true},
		{"/members?q=ana&page=2", true},
		{"/teams/payments#top", true},
		{"", false},
		{"members", false},
		{"//evil.example", false},
		{"///evil.example", false},
		{"/\\evil.example", false},
		{"\\\\evil.example", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
		{"/\t/evil.example", false},
		{"/%2F%2Fevil.example", false},
		{"/%2f%5cevil.example", false},
		{"%2F%2Fevil.example", false},
		{"/%252F%252Fevil.example", false},
		{"/%5C%5Cevil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := samlauth.SafeReturnPath(tt.in)
			if ok != tt.ok || (ok && got != tt.in) {
				t.Errorf("SafeReturnPath(%q) = %q, %v; want ok=%v", tt.in, got, ok, tt.ok)
			}
		})
	}
}
