package store_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// testdata/schema2-store.json is every bucket of a store file written by
// the store of commit f5f7201 (schema 2, the format before the store had
// its own record types), through its public API: two snapshots, a sync run,
// an audit entry, the inventory and a token intent, an applied time-bound
// change request with its grant and trail, a closed review campaign with
// items and evidence, a webhook subscription with a delivered and a pending
// delivery, a publish mark and a SAML replay entry. writeDump rebuilds that
// file byte for byte.
func writeDump(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/schema2-store.json")
	if err != nil {
		t.Fatal(err)
	}
	var dump []struct {
		Bucket   string `json:"bucket"`
		Sequence uint64 `json:"sequence"`
		Pairs    []struct {
			Key     string `json:"key"`
			Value   string `json:"value"`
			Value64 string `json:"value64"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(raw, &dump); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, d := range dump {
			b, err := tx.CreateBucket([]byte(d.Bucket))
			if err != nil {
				return err
			}
			if err := b.SetSequence(d.Sequence); err != nil {
				return err
			}
			for _, p := range d.Pairs {
				k, err := hex.DecodeString(p.Key)
				if err != nil {
					return err
				}
				v := []byte(p.Value)
				if p.Value64 != "" || p.Value == "" {
					if v, err = base64.StdEncoding.DecodeString(p.Value64); err != nil {
						return err
					}
				}
				if err := b.Put(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A store written before the store had its own record types opens, and
// everything in it reads back as it was written, through the services'
// repositories; the trail's hash chain still verifies, and new records go
// on after the old ones.
func TestAStoreOfSchema2OpensAndReadsAsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "schema2.db")
	writeDump(t, path)
	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	s, err := store.Open(path, store.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Snapshots, syncs, the audit archive, the inventory and intents.
	meta, snap, err := s.CurrentSnapshot(ctx)
	if err != nil || meta.ID != 2 || meta.Kind != store.KindIncremental || len(snap.Members) != 2 || snap.Members[1].Teams[0].Team != "payments" {
		t.Errorf("current snapshot = %+v, %v", meta, err)
	}
	if last, err := s.LastSyncStatus(ctx); err != nil || !last.OK || last.SnapshotID != 1 {
		t.Errorf("last sync = %+v, %v", last, err)
	}
	if e, err := s.AuditEntry(ctx, "a1"); err != nil || e.Event != "member.add" || e.Actor.Email != "ana@acme.test" {
		t.Errorf("audit entry = %+v, %v", e, err)
	}
	inv, err := s.LoadInventory(ctx)
	switch {
	case err != nil:
		t.Errorf("inventory: %v", err)
	case len(inv.OrgAuthTokens) != 1 || inv.OrgAuthTokens[0].TokenLastCharacters != "abcd" || *inv.OrgAuthTokens[0].ProjectLastUsedID != "31":
		t.Errorf("org auth tokens = %+v", inv.OrgAuthTokens)
	case len(inv.SentryApps) != 1 || inv.SentryApps[0].Owner.Slug != "acme" || *inv.SentryApps[0].WebhookURL != "https://ci.example/hook":
		t.Errorf("sentry apps = %+v", inv.SentryApps)
	case inv.AuthProvider == nil || inv.AuthProvider.ProviderName != "Okta" || !inv.AuthProvider.SCIMEnabled:
		t.Errorf("auth provider = %+v", inv.AuthProvider)
	case len(inv.SCIMUsers) != 1 || inv.SCIMUsers[0].Emails[0].Value != "bo@acme.test" || !*inv.SCIMUsers[0].Active:
		t.Errorf("SCIM users = %+v", inv.SCIMUsers)
	case len(inv.SCIMGroups) != 1 || inv.SCIMGroups[0].Members[0].Value != "12":
		t.Errorf("SCIM groups = %+v", inv.SCIMGroups)
	case len(inv.AccessRequests) != 1 || inv.AccessRequests[0].Member.Email != "bo@acme.test" || inv.AccessRequests[0].Team.Slug != "payments" ||
		inv.AccessRequests[0].Requester.Email != "ana@acme.test":
		t.Errorf("access requests = %+v", inv.AccessRequests)
	case inv.Hidden["org-auth-tokens"] == "":
		t.Errorf("hidden parts = %v", inv.Hidden)
	}
	if ti, err := s.TokenIntents(ctx); err != nil || len(ti) != 1 || ti[0].Name != "ci-prod" || ti[0].ExpiresAt == nil {
		t.Errorf("token intents = %+v, %v", ti, err)
	}

	// Change requests, grants, the trail.
	cr := changes.NewStoreRepo(s)
	req, err := cr.Request(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	if req.State != changes.StateApplied || req.RequesterRole != sentryaccess.RoleApprover || req.GrantID != "1" || *req.ExpiresAt != at.Add(7*24*time.Hour) ||
		len(req.Steps) != 2 || req.Steps[1].Params.PreviousRole != "contributor" || req.Steps[0].StartedAt == nil ||
		len(req.Approvals) != 1 || req.Approvals[0].Role != sentryaccess.RoleAdmin ||
		req.Preview == nil || !req.Preview.Deltas[0].GainsAccess || req.Preview.Violations[0].Message != "heads up" {
		t.Errorf("request = %+v", req)
	}
	gs, err := cr.ListGrants(ctx, changes.GrantFilter{States: []changes.GrantState{changes.GrantActive}})
	if err != nil || len(gs) != 1 || gs[0].Revert[0].Kind != changes.KindTeamRemove || gs[0].Extensions[0] != "7" {
		t.Errorf("grants = %+v, %v", gs, err)
	}
	svc := changes.New(changes.Config{Repo: cr})
	if err := svc.VerifyTrail(ctx); err != nil {
		t.Errorf("the schema-2 trail does not verify: %v", err)
	}
	if err := cr.AppendTrail(ctx, changes.TrailRecord{At: at.Add(time.Hour), Actor: "carl@acme.test", Kind: changes.TrailRequestCancelled, RequestID: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.VerifyTrail(ctx); err != nil {
		t.Errorf("the trail does not verify after a new record on the old ones: %v", err)
	}

	// Reviews.
	rr := review.NewStoreRepo(s)
	c, err := rr.Campaign(ctx, "1")
	if err != nil || c.State != review.StateClosed || c.TeamAdmins["payments"][0] != "ana@acme.test" || c.ManualFollowUp[0] != "ci-bot" {
		t.Errorf("campaign = %+v, %v", c, err)
	}
	items, err := rr.Items(ctx, "1")
	if err != nil || len(items) != 2 || items[0].Decision != review.DecisionRevoke || items[0].Context.Risks[0] != "no-2fa" || !items[1].Context.Global {
		t.Errorf("items = %+v, %v", items, err)
	}
	if ev, err := rr.Evidence(ctx, "1"); err != nil || string(ev) != "PK\x03\x04 evidence" {
		t.Errorf("evidence = %q, %v", ev, err)
	}

	// Notifications.
	nr := notify.NewStoreRepo(s)
	sub, err := nr.Subscription(ctx, "1")
	if err != nil || sub.Secret != "s3cret" || sub.Format != notify.FormatSlack || sub.Events[0] != notify.EventAccessChanged {
		t.Errorf("subscription = %+v, %v", sub, err)
	}
	due, err := nr.Due(ctx, at.Add(2*time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].EventID != "2-3" || due[0].LastError == "" || string(due[0].Body) != `{"text":"y"}` {
		t.Errorf("due deliveries = %+v, %v", due, err)
	}
	if first, err := nr.MarkOnce(ctx, "grant-expiring:1", at); err != nil || first {
		t.Errorf("a mark of schema 2 is forgotten: first = %v, %v", first, err)
	}
	if err := s.ReplayCache().Consume("assertion-1", at.Add(time.Hour)); err == nil {
		t.Error("the replay cache of schema 2 forgot a consumed assertion")
	}

	// New records go on after the old ones.
	next := &changes.Request{Title: "next", Requester: "ana@acme.test", State: changes.StatePendingApproval, CreatedAt: at}
	if err := cr.CreateRequest(ctx, next, nil); err != nil || next.ID != "2" {
		t.Errorf("a new request after the old one: id %q, %v", next.ID, err)
	}
}
