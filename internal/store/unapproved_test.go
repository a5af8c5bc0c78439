package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

func TestUnapprovedChangesAreRecordedOncePerSnapshotAndListedNewestFirst(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx := context.Background()
	rec := func(kind, member string) store.UnapprovedChange {
		return store.UnapprovedChange{Change: store.UnapprovedSubject{Kind: kind, Member: member}, State: "open", Verdict: "unexplained"}
	}
	three := []store.UnapprovedChange{rec("team-joined", "1"), rec("org-role", "2")}
	ok, err := s.Unapproved().Record(ctx, 3, three)
	if err != nil || !ok {
		t.Fatalf("record snapshot 3: %v, %v", ok, err)
	}
	if three[0].ID != "3-1" || three[1].ID != "3-2" {
		t.Errorf("ids = %s, %s; want 3-1, 3-2", three[0].ID, three[1].ID)
	}
	if ok, err := s.Unapproved().Record(ctx, 3, []store.UnapprovedChange{rec("setting", "")}); err != nil || ok {
		t.Errorf("recording snapshot 3 again: %v, %v; want nothing stored", ok, err)
	}
	if _, err := s.Unapproved().Record(ctx, 10, []store.UnapprovedChange{rec("team-left", "3")}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Unapproved().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	if want := []string{"10-1", "3-1", "3-2"}; !slices.Equal(ids, want) {
		t.Errorf("order = %v, want %v (newest snapshot first, then in order)", ids, want)
	}
}

func TestUpdatingAnUnapprovedChangeAppendsItsTrailInTheSameTransaction(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	ctx := context.Background()
	if _, err := s.Unapproved().Record(ctx, 4, []store.UnapprovedChange{{State: "open"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	got, err := s.Unapproved().Update(ctx, "4-1", func(c *store.UnapprovedChange) ([]store.TrailEntry, error) {
		c.State = "accepted"
		c.Accepted = &store.UnapprovedDecision{By: "anna@acme.test", Note: "ok", At: at}
		return []store.TrailEntry{{At: at, Actor: "anna@acme.test", Kind: "unapproved.accepted", Comment: "ok"}}, nil
	})
	if err != nil || got.State != "accepted" {
		t.Fatalf("update: %+v, %v", got, err)
	}
	trail, err := s.Changes().Trail(ctx, nil, 0)
	if err != nil || len(trail) != 1 || trail[0].Comment != "ok" {
		t.Fatalf("trail = %+v, %v", trail, err)
	}
	// fn's error writes nothing: neither the record nor the trail.
	refuse := errors.New("refused")
	_, err = s.Unapproved().Update(ctx, "4-1", func(c *store.UnapprovedChange) ([]store.TrailEntry, error) {
		c.State = "open"
		return nil, refuse
	})
	if !errors.Is(err, refuse) {
		t.Errorf("err = %v, want fn's", err)
	}
	all, _ := s.Unapproved().All(ctx)
	if all[0].State != "accepted" {
		t.Errorf("state = %s after a refused update", all[0].State)
	}
	for _, id := range []string{"4-2", "5-1", "x", "4-0"} {
		if _, err := s.Unapproved().Update(ctx, id, func(*store.UnapprovedChange) ([]store.TrailEntry, error) { return nil, nil }); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
			t.Errorf("update %q: %v, want ENOTFOUND", id, err)
		}
	}
}
