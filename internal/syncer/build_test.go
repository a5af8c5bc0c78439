package syncer

import (
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

func TestMapMemberState(t *testing.T) {
	t.Parallel()
	user := &sentry.User{ID: "5", Email: "ana@acme.test", Has2FA: true}
	tests := []struct {
		name   string
		member sentry.Member
		want   access.MemberState
	}{
		{"an accepted invite is active", sentry.Member{ID: "1", User: user}, access.StateActive},
		{"an invite not yet accepted is pending", sentry.Member{ID: "2", Pending: true}, access.StatePending},
		{"a pending invite past its 30 days is expired", sentry.Member{ID: "3", Pending: true, Expired: true}, access.StateExpired},
		{"a member without a user is pending", sentry.Member{ID: "4"}, access.StatePending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mapMember(tt.member).State; got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMapMemberFieldsAndDeprecatedRole(t *testing.T) {
	t.Parallel()
	got := mapMember(sentry.Member{ID: "1", Role: "admin", User: &sentry.User{ID: "9", Email: "bo@acme.test", Has2FA: true},
		Flags: sentry.MemberFlags{SSOLinked: true, IDPProvisioned: true}})
	want := access.Member{ID: "1", Email: "bo@acme.test", UserID: "9", OrgRole: "admin", State: access.StateActive,
		Has2FA: true, Flags: access.MemberFlags{SSOLinked: true, IDPProvisioned: true}}
	if got.ID != want.ID || got.Email != want.Email || got.UserID != want.UserID || got.OrgRole != want.OrgRole ||
		got.State != want.State || got.Has2FA != want.Has2FA || got.Flags != want.Flags {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestStoredNullTeamRoleIsEmpty(t *testing.T) {
	t.Parallel()
	admin := "admin"
	members := map[string]*access.Member{"1": {ID: "1"}, "2": {ID: "2", Teams: []access.Membership{{Team: "old"}}}}
	unknown := setTeamMembers(members, "payments", []sentry.TeamMember{
		{Member: sentry.Member{ID: "1"}, TeamRole: nil},
		{Member: sentry.Member{ID: "2"}, TeamRole: &admin},
		{Member: sentry.Member{ID: "3"}},
	})
	if got := members["1"].Teams; len(got) != 1 || got[0] != (access.Membership{Team: "payments"}) {
		t.Errorf("null role: got %+v, want payments with role \"\"", got)
	}
	if got := members["2"].Teams; len(got) != 2 || got[1] != (access.Membership{Team: "payments", Role: "admin"}) {
		t.Errorf("stored role: got %+v", got)
	}
	if len(unknown) != 1 || unknown[0] != "3" {
		t.Errorf("unknown: got %v, want [3]", unknown)
	}
}

func TestOnlyInternalAppsAreIntegrations(t *testing.T) {
	t.Parallel()
	got := mapIntegrations([]sentry.SentryApp{
		{Slug: "zeta", Status: "internal", Scopes: []string{"org:read"}},
		{Slug: "public-app", Status: "published"},
		{Slug: "alpha", Status: "internal"},
	})
	if len(got) != 2 || got[0].Slug != "alpha" || got[1].Slug != "zeta" {
		t.Errorf("got %+v, want alpha and zeta in order", got)
	}
}
