package syncer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

func TestInventoryRecordsWhatEachCredentialCanAndCannotSee(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		token       string
		scimToken   string
		wantVisible []string
		wantHidden  map[string]string // part → substring of the reason
	}{
		{
			name:  "owner token with the SCIM token sees everything but personal tokens",
			token: sentrysim.DemoOwnerToken, scimToken: sentrysim.DemoSCIMToken,
			wantVisible: []string{syncer.PartOrgAuthTokens, syncer.PartSentryApps, syncer.PartAuthProvider, syncer.PartSCIMUsers, syncer.PartSCIMGroups, syncer.PartAuditLog},
			wantHidden:  map[string]string{syncer.PartUserTokens: "browser session"},
		},
		{
			name:        "without a SCIM token SCIM is not visible, and says why",
			token:       sentrysim.DemoOwnerToken,
			wantVisible: []string{syncer.PartOrgAuthTokens, syncer.PartAuthProvider},
			wantHidden:  map[string]string{syncer.PartSCIMUsers: "no SCIM token", syncer.PartSCIMGroups: "no SCIM token"},
		},
		{
			name:  "a wrong SCIM token is a 401 explained as the wrong token type",
			token: sentrysim.DemoOwnerToken, scimToken: "sntrys_not_the_scim_token",
			wantHidden: map[string]string{syncer.PartSCIMUsers: "SCIM Internal Integration"},
		},
		{
			name:       "a plain member cannot read the audit log",
			token:      sentrysim.DemoMemberToken,
			wantHidden: map[string]string{syncer.PartAuditLog: "org:write"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sentrysim.DemoFixture(), tt.token, syncer.Options{})
			client, err := sentry.New(sentry.Config{BaseURL: e.srv.URL, Org: sentrysim.DemoOrgSlug, Token: tt.token, SCIMToken: tt.scimToken, MaxRetries: -1, Now: e.now})
			if err != nil {
				t.Fatal(err)
			}
			inv, err := syncer.FetchInventory(context.Background(), client, e.st, syncer.InventoryOptions{SCIMConfigured: tt.scimToken != "", Now: e.now})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.wantVisible {
				if why, hidden := inv.Hidden[p]; hidden {
					t.Errorf("%s hidden: %s", p, why)
				}
			}
			for p, want := range tt.wantHidden {
				if got := inv.Hidden[p]; !strings.Contains(got, want) {
					t.Errorf("Hidden[%s] = %q, want it to mention %q", p, got, want)
				}
			}
			stored, err := e.st.LoadInventory(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(stored.Hidden) != len(inv.Hidden) || len(stored.OrgAuthTokens) != len(inv.OrgAuthTokens) {
				t.Errorf("stored inventory differs from the fetched one")
			}
		})
	}
}

func TestInventoryReadsTheDemoOrgsTokensSCIMAndProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
	client, err := sentry.New(sentry.Config{BaseURL: e.srv.URL, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken, SCIMToken: sentrysim.DemoSCIMToken, MaxRetries: -1, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := syncer.FetchInventory(context.Background(), client, e.st, syncer.InventoryOptions{SCIMConfigured: true, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(inv.OrgAuthTokens), 3; got != want {
		t.Errorf("org auth tokens = %d, want %d", got, want)
	}
	if inv.AuthProvider == nil || !inv.AuthProvider.SCIMEnabled {
		t.Errorf("auth provider = %+v, want SCIM enabled", inv.AuthProvider)
	}
	if len(inv.SCIMUsers) == 0 || len(inv.SCIMGroups) == 0 {
		t.Errorf("scim users %d, groups %d; want some", len(inv.SCIMUsers), len(inv.SCIMGroups))
	}
}
