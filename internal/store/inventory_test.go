package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

func TestInventoryIsEmptyBeforeTheFirstFetch(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	if _, err := s.LoadInventory(context.Background()); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Fatalf("LoadInventory: err = %v, want ENOTFOUND", err)
	}
}

func TestInventoryRoundTripsKeepsHiddenPartsAndNeverStoresTokenValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	in := store.Inventory{
		FetchedAt:     at,
		OrgAuthTokens: []sentry.OrgAuthToken{{ID: "300", Name: "ci-prod", Scopes: []string{"org:ci"}, TokenLastCharacters: "ab12", Token: "sntrys_secret"}},
		SentryApps:    []sentry.SentryApp{{Slug: "deploy-bot", Status: "internal", Scopes: []string{"org:read"}}},
		AuthProvider:  &sentry.AuthProvider{ProviderName: "saml2", SCIMEnabled: true},
		Hidden:        map[string]string{"scim-users": "not visible with this credential: no SCIM token is configured"},
	}
	if err := s.SaveInventory(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadInventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !got.FetchedAt.Equal(at) || len(got.OrgAuthTokens) != 1 || got.OrgAuthTokens[0].Name != "ci-prod" {
		t.Errorf("got %+v", got)
	}
	if got.OrgAuthTokens[0].Token != "" {
		t.Errorf("token value stored: %q", got.OrgAuthTokens[0].Token)
	}
	if in.OrgAuthTokens[0].Token == "" {
		t.Errorf("SaveInventory modified its argument")
	}
	if got.Hidden["scim-users"] == "" {
		t.Errorf("hidden part lost: %v", got.Hidden)
	}
	if got.AuthProvider == nil || !got.AuthProvider.SCIMEnabled {
		t.Errorf("auth provider = %+v", got.AuthProvider)
	}
}

func TestTokenIntentsAreRecordedInOrderWithAnIDAndTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	for _, name := range []string{"ci-prod", "dashboard-staging"} {
		if _, err := s.AddTokenIntent(ctx, store.TokenIntent{Name: name, Purpose: "ci", Scopes: []string{"org:read"}, RecordedBy: "ana@acme.test"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TokenIntents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "ci-prod" || got[1].Name != "dashboard-staging" {
		t.Fatalf("intents = %+v", got)
	}
	if got[0].ID == "" || got[0].ID == got[1].ID || got[0].RecordedAt.IsZero() {
		t.Errorf("ids/time not set: %+v", got)
	}
}

func TestATokenIntentNeedsANameAndARecorder(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	tests := []struct {
		name string
		in   store.TokenIntent
	}{
		{"no name", store.TokenIntent{RecordedBy: "ana@acme.test"}},
		{"no recorder", store.TokenIntent{Name: "ci-prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.AddTokenIntent(context.Background(), tt.in); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
		})
	}
}

func TestARepeatedInventoryLoadSeesTheLatestSaveAndCallersCannotChangeIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	save := func(name string) {
		t.Helper()
		if err := s.SaveInventory(ctx, store.Inventory{
			OrgAuthTokens: []sentry.OrgAuthToken{{ID: "1", Name: name}},
			AuthProvider:  &sentry.AuthProvider{ProviderName: "saml2"},
			Hidden:        map[string]string{"scim-users": "hidden"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	load := func() store.Inventory {
		t.Helper()
		inv, err := s.LoadInventory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	save("first")
	got := load()
	got.OrgAuthTokens[0].Name = "changed by a caller"
	got.AuthProvider.ProviderName = "changed"
	delete(got.Hidden, "scim-users")
	again := load()
	if again.OrgAuthTokens[0].Name != "first" || again.AuthProvider.ProviderName != "saml2" || again.Hidden["scim-users"] != "hidden" {
		t.Errorf("second load after a caller changed the first: %+v, %+v, %v", again.OrgAuthTokens, again.AuthProvider, again.Hidden)
	}
	save("second")
	if got := load().OrgAuthTokens[0].Name; got != "second" {
		t.Errorf("load after a new save: token %q, want second", got)
	}
}

// InventoryFetchedAt says when the stored inventory was fetched without
// decoding it: ENOTFOUND before the first fetch, then each fetch's time.
func TestInventoryFetchedAtFollowsEachSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.InventoryFetchedAt(ctx); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Fatalf("before the first fetch: err = %v, want ENOTFOUND", err)
	}
	for _, at := range []time.Time{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 9, 15, 0, 123, time.UTC)} {
		if err := s.SaveInventory(ctx, store.Inventory{FetchedAt: at}); err != nil {
			t.Fatal(err)
		}
		got, err := s.InventoryFetchedAt(ctx)
		if err != nil || !got.Equal(at) {
			t.Errorf("after saving the inventory fetched at %v: %v, %v", at, got, err)
		}
	}
}

// LoadAccessRequests is LoadInventory's AccessRequests: ENOTFOUND before
// the first inventory, then each save's, and a caller's changes stay its
// own.
func TestAccessRequestsAreTheLatestInventorys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.LoadAccessRequests(ctx); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Fatalf("before the first inventory: %v, want ENOTFOUND", err)
	}
	for _, id := range []string{"1", "2"} {
		if err := s.SaveInventory(ctx, store.Inventory{AccessRequests: []sentry.AccessRequest{{ID: id}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.LoadAccessRequests(ctx)
		if err != nil || len(got) != 1 || got[0].ID != id {
			t.Fatalf("after saving request %s: %+v, %v", id, got, err)
		}
		got[0].ID = "changed by a caller"
		if again, _ := s.LoadAccessRequests(ctx); again[0].ID != id {
			t.Errorf("a caller's change reached the store: %+v", again)
		}
	}
}
