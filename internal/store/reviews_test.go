package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func TestReviewCampaignsRoundTripAndUpdateOnlyWhatFnChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	repo := review.NewStoreRepo(s)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	items := []review.Item{
		{ID: "1", Kind: review.KindTeamMembership, MemberID: "7", MemberEmail: "ana@acme.test", Team: "payments"},
		{ID: "2", Kind: review.KindOrgRole, MemberID: "8", MemberEmail: "bo@acme.test", OrgRole: "owner"},
	}
	for i := range 2 {
		c := &review.Campaign{Name: "Q1", Scope: review.ScopeOrg, CreatedAt: at, Due: at.Add(time.Hour), State: review.StateOpen}
		if err := repo.CreateCampaign(ctx, c, items); err != nil {
			t.Fatal(err)
		}
		if want := []string{"1", "2"}[i]; c.ID != want {
			t.Errorf("campaign %d id = %q, want %q", i, c.ID, want)
		}
	}
	list, err := repo.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "2" {
		t.Fatalf("campaigns = %+v, want 2 newest first", list)
	}
	_, _, err = repo.UpdateCampaign(ctx, "1", func(c *review.Campaign, its []review.Item) error {
		its[1].Decision, its[1].Reviewer = review.DecisionRevoke, "cy@acme.test"
		c.Name = "Q1 renamed"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.Items(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Decision != review.DecisionRevoke || got[0].Decision != review.DecisionNone {
		t.Errorf("items after update = %+v", got)
	}
	c, err := repo.Campaign(ctx, "1")
	if err != nil || c.Name != "Q1 renamed" {
		t.Errorf("campaign = %+v, %v", c, err)
	}
	other, _ := repo.Items(ctx, "2")
	if other[1].Decision != review.DecisionNone {
		t.Errorf("campaign 2 changed by an update of campaign 1: %+v", other[1])
	}
}

func TestReviewUpdateErrorChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := review.NewStoreRepo(mustOpen(t))
	c := &review.Campaign{Name: "Q1", State: review.StateOpen}
	if err := repo.CreateCampaign(ctx, c, []review.Item{{ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	_, _, err := repo.UpdateCampaign(ctx, c.ID, func(c *review.Campaign, its []review.Item) error {
		its[0].Decision = review.DecisionCertify
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "closed")
	})
	if sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Fatalf("err = %v, want fn's ECONFLICT", err)
	}
	its, _ := repo.Items(ctx, c.ID)
	if its[0].Decision != review.DecisionNone {
		t.Errorf("item was written despite fn's error: %+v", its[0])
	}
}

func TestReviewMissingThingsAreNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := review.NewStoreRepo(mustOpen(t))
	tests := []struct {
		name string
		call func() error
	}{
		{"campaign", func() error { _, err := repo.Campaign(ctx, "9"); return err }},
		{"malformed id", func() error { _, err := repo.Campaign(ctx, "x"); return err }},
		{"items", func() error { _, err := repo.Items(ctx, "9"); return err }},
		{"evidence", func() error { _, err := repo.Evidence(ctx, "9"); return err }},
		{"update", func() error {
			_, _, err := repo.UpdateCampaign(ctx, "9", func(*review.Campaign, []review.Item) error { return nil })
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
				t.Errorf("err = %v, want ENOTFOUND", err)
			}
		})
	}
}

func TestReviewEvidenceIsStoredAsIs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := review.NewStoreRepo(mustOpen(t))
	c := &review.Campaign{Name: "Q1"}
	if err := repo.CreateCampaign(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	want := []byte("PK\x03\x04 zip bytes")
	if err := repo.PutEvidence(ctx, c.ID, want); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Evidence(ctx, c.ID)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("evidence = %q, %v; want %q", got, err, want)
	}
}

func TestNotifyOutboxDueUpdateAndLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := notify.NewStoreRepo(mustOpen(t))
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ds := []notify.Delivery{
		{SubscriptionID: "1", State: notify.DeliveryPending, NextAttempt: t0},
		{SubscriptionID: "1", State: notify.DeliveryPending, NextAttempt: t0.Add(time.Minute)},
	}
	if err := repo.Enqueue(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if ds[0].ID != "1" || ds[1].ID != "2" {
		t.Fatalf("ids = %q %q", ds[0].ID, ds[1].ID)
	}
	due := func(at time.Time) []string {
		t.Helper()
		got, err := repo.Due(ctx, at, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := due(t0); len(got) != 1 || got[0] != "1" {
		t.Errorf("due at t0 = %v, want [1]", got)
	}
	ds[0].State = notify.DeliveryDelivered
	if err := repo.UpdateDelivery(ctx, ds[0]); err != nil {
		t.Fatal(err)
	}
	if got := due(t0.Add(time.Hour)); len(got) != 1 || got[0] != "2" {
		t.Errorf("due after delivering 1 = %v, want [2]", got)
	}
	log, err := repo.Deliveries(ctx, 10)
	if err != nil || len(log) != 2 || log[0].ID != "2" || log[1].State != notify.DeliveryDelivered {
		t.Errorf("log = %+v, %v", log, err)
	}
}

func TestNotifySubscriptionsAndMarks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := notify.NewStoreRepo(mustOpen(t))
	sub := &notify.Subscription{Name: "ops", URL: "http://127.0.0.1/hook", Format: notify.FormatSlack, Secret: "s3cret"}
	if err := repo.PutSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Subscription(ctx, sub.ID)
	if err != nil || got.Secret != "s3cret" || got.Format != notify.FormatSlack {
		t.Errorf("subscription = %+v, %v", got, err)
	}
	if err := repo.DeleteSubscription(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Subscription(ctx, sub.ID); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("after delete: %v, want ENOTFOUND", err)
	}
	for i, want := range []bool{true, false} {
		first, err := repo.MarkOnce(ctx, "access.changed:1-2", time.Now())
		if err != nil || first != want {
			t.Errorf("mark #%d = %v, %v; want %v", i+1, first, err, want)
		}
	}
}

func TestAuditEntryByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := s.AppendAuditEntries(ctx, []sentry.AuditLogEntry{{ID: "42", Event: "member.edit", DateCreated: at}}); err != nil {
		t.Fatal(err)
	}
	e, err := s.AuditEntry(ctx, "42")
	if err != nil || e.Event != "member.edit" || !e.DateCreated.Equal(at) {
		t.Errorf("entry = %+v, %v", e, err)
	}
	if _, err := s.AuditEntry(ctx, "43"); err == nil {
		t.Error("unknown id: want an error")
	}
}
