package store_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

func openChanges(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newRequest(title string) *changes.Request {
	return &changes.Request{Title: title, Requester: "owner@acme.test", State: changes.StatePendingApproval,
		Steps:     []changes.Step{{Kind: changes.KindTeamAdd, Params: changes.Params{Member: "3", Team: "payments"}, State: changes.StepPending}},
		CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func TestChangesRepoRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := openChanges(t, path)
	repo := changes.NewStoreRepo(s)

	a, b := newRequest("first"), newRequest("second")
	for _, r := range []*changes.Request{a, b} {
		if err := repo.CreateRequest(ctx, r, []changes.TrailRecord{{Kind: changes.TrailRequestCreated, Actor: r.Requester}}); err != nil {
			t.Fatal(err)
		}
	}
	if a.ID != "1" || b.ID != "2" {
		t.Fatalf("ids = %q, %q; want 1, 2", a.ID, b.ID)
	}

	// fn's error leaves the request and the trail untouched.
	boom := errors.New("boom")
	if _, err := repo.UpdateRequest(ctx, a.ID, func(r *changes.Request) ([]changes.TrailRecord, error) {
		r.State = changes.StateApproved
		return []changes.TrailRecord{{Kind: changes.TrailRequestApproved}}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateRequest error = %v, want fn's error", err)
	}
	got, err := repo.Request(ctx, a.ID)
	if err != nil || got.State != changes.StatePendingApproval {
		t.Fatalf("after a failed update: %+v, %v; want it unchanged", got, err)
	}

	updated, err := repo.UpdateRequest(ctx, a.ID, func(r *changes.Request) ([]changes.TrailRecord, error) {
		r.State = changes.StateApproved
		r.Steps[0].State = changes.StepApproved
		return []changes.TrailRecord{{Kind: changes.TrailRequestApproved, Actor: "ana@acme.test"}}, nil
	})
	if err != nil || updated.State != changes.StateApproved {
		t.Fatalf("UpdateRequest = %+v, %v", updated, err)
	}
	if _, err := repo.Request(ctx, "99"); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("Request(99) error = %v, want ENOTFOUND", err)
	}
	if _, err := repo.UpdateRequest(ctx, "x", nil); sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		t.Errorf("UpdateRequest(x) error = %v, want ENOTFOUND", err)
	}

	tests := []struct {
		name string
		f    changes.RequestFilter
		want []string
	}{
		{"all, newest first", changes.RequestFilter{}, []string{"2", "1"}},
		{"by state", changes.RequestFilter{States: []changes.State{changes.StateApproved}}, []string{"1"}},
		{"limited", changes.RequestFilter{Limit: 1}, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := repo.ListRequests(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			if len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
				t.Errorf("ids = %v, want %v", ids, tt.want)
			}
		})
	}

	trail, _ := repo.Trail(ctx, changes.TrailFilter{})
	if len(trail) != 3 || trail[0].RequestID != "1" || trail[2].Actor != "ana@acme.test" || trail[2].RequestID != "1" {
		t.Errorf("trail = %+v, want 2 creations and the approval, with request ids", trail)
	}

	// Everything survives a reopen, and the chain verifies.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openChanges(t, path)
	defer s.Close()
	repo = changes.NewStoreRepo(s)
	got, err = repo.Request(ctx, a.ID)
	if err != nil || got.State != changes.StateApproved || got.Steps[0].State != changes.StepApproved {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	head, _ := repo.TrailHead(ctx)
	trail, _ = repo.Trail(ctx, changes.TrailFilter{})
	if err := changes.VerifyTrail(trail, head); err != nil || head.Seq != 3 {
		t.Errorf("VerifyTrail = %v (head %d), want a valid chain of 3", err, head.Seq)
	}
}

func TestChangesRepoGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openChanges(t, filepath.Join(t.TempDir(), "s.db"))
	defer s.Close()
	repo := changes.NewStoreRepo(s)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"7", "3"} {
		g := &changes.Grant{ID: id, RequestID: id, State: changes.GrantActive, ExpiresAt: t0.Add(time.Duration(2-i) * time.Hour)}
		if err := repo.CreateGrant(ctx, g, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := repo.CreateGrant(ctx, &changes.Grant{ID: "7"}, nil); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("second CreateGrant(7) error = %v, want ECONFLICT", err)
	}
	gs, _ := repo.ListGrants(ctx, changes.GrantFilter{})
	if len(gs) != 2 || gs[0].ID != "3" {
		t.Fatalf("grants = %+v, want 3 (sooner) then 7", gs)
	}
	if _, err := repo.UpdateGrant(ctx, "3", func(g *changes.Grant) ([]changes.TrailRecord, error) {
		g.State = changes.GrantExpired
		return []changes.TrailRecord{{Kind: changes.TrailGrantExpired}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	gs, _ = repo.ListGrants(ctx, changes.GrantFilter{States: []changes.GrantState{changes.GrantActive}, ExpiresBefore: t0.Add(3 * time.Hour)})
	if len(gs) != 1 || gs[0].ID != "7" {
		t.Errorf("active grants = %+v, want only 7", gs)
	}
	trail, _ := repo.Trail(ctx, changes.TrailFilter{Kind: changes.TrailGrantExpired})
	if len(trail) != 1 || trail[0].GrantID != "3" {
		t.Errorf("trail = %+v, want the expiry of grant 3", trail)
	}
}

// TestChangesTrailTamperingOnDisk edits and deletes records in the bbolt
// file behind the store's back; VerifyTrail must notice.
func TestChangesTrailTamperingOnDisk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(b *bolt.Bucket) error
	}{
		{"an edited record", func(b *bolt.Bucket) error {
			v := b.Get(seqKey(2))
			var rec map[string]any
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			rec["actor"] = "mallory@acme.test"
			nv, _ := json.Marshal(rec)
			return b.Put(seqKey(2), nv)
		}},
		{"a deleted record", func(b *bolt.Bucket) error { return b.Delete(seqKey(2)) }},
		{"the last record deleted", func(b *bolt.Bucket) error { return b.Delete(seqKey(3)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "s.db")
			s := openChanges(t, path)
			at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			for i := range 3 {
				if err := changes.NewStoreRepo(s).AppendTrail(ctx, changes.TrailRecord{At: at.Add(time.Duration(i) * time.Second), Actor: "ana@acme.test", Kind: changes.TrailRequestApproved}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error { return tt.tamper(tx.Bucket([]byte("change_trail"))) }); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s = openChanges(t, path)
			defer s.Close()
			head, _ := changes.NewStoreRepo(s).TrailHead(ctx)
			recs, err := changes.NewStoreRepo(s).Trail(ctx, changes.TrailFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if err := changes.VerifyTrail(recs, head); err == nil {
				t.Error("VerifyTrail = nil, want the tampering detected")
			}
		})
	}
}

func seqKey(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}
