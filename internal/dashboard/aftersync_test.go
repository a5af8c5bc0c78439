package dashboard

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// After a sync the dashboard shows the new snapshot with what changed,
// refreshes the inventory and announces the access changes; after a sync
// that found nothing new it announces nothing.
func TestTheStepsAfterASync(t *testing.T) {
	ctx := t.Context()
	d := startDemo(t)
	s := d.Server
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	if _, _, err := s.notify.SaveSubscription(ctx, notify.SubscriptionInput{Name: "audit", URL: hook.URL, Format: notify.FormatGeneric,
		Events: []notify.EventKind{notify.EventAccessChanged}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	before, err := s.opts.Store.LoadInventory(ctx)
	if err != nil {
		t.Fatal(err)
	}

	client, err := sentry.New(sentry.Config{BaseURL: d.SentryURL, Org: d.Credentials.Org, Token: d.Credentials.OwnerToken})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := client.ListMembers(ctx, sentry.MemberQuery{Email: "dana.doyle@acme.test"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("find dana: %v", err)
	}
	if _, err := client.AddMemberToTeam(ctx, ms[0].ID, "platform"); err != nil {
		t.Fatal(err)
	}
	list, err := s.opts.Store.ListSnapshots(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("snapshots after the demo's first sync: %v, %v", list, err)
	}
	first := list[0].ID
	res, err := s.SyncNow(ctx)
	if err != nil {
		t.Fatal(err)
	}

	ov, err := s.explore.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Changes == nil || ov.Changes.FromID != first || ov.Changes.ToID != res.Snapshot.ID {
		t.Errorf("the overview's changes = %+v, want snapshot %d → %d", ov.Changes, first, res.Snapshot.ID)
	}
	after, err := s.opts.Store.LoadInventory(ctx)
	if err != nil || !after.FetchedAt.After(before.FetchedAt) {
		t.Errorf("inventory fetched at %v after the sync, %v before (%v): not refreshed", after.FetchedAt, before.FetchedAt, err)
	}
	announced := func() int {
		ds, err := s.notify.Deliveries(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, dl := range ds {
			if dl.Event == notify.EventAccessChanged {
				n++
			}
		}
		return n
	}
	if got := announced(); got != 1 {
		t.Errorf("access-changed deliveries after dana joined platform: %d, want 1", got)
	}

	if res, err := s.runner.RunOnce(ctx, false); err != nil || !res.Unchanged {
		t.Fatalf("incremental sync: %+v, %v; want unchanged", res, err)
	}
	if got := announced(); got != 1 {
		t.Errorf("access-changed deliveries after a sync that found nothing new: %d, want still 1", got)
	}
}
