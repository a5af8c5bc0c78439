package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// writeV1File writes a store file the way schema 1 laid it out: no audit
// event index, and snapshot records without a kind.
func writeV1File(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range bucketsV1() {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte(bucketSys)).Put([]byte(keySchema), []byte("1")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketSys)).Put([]byte(keyCurrent), itob(1)); err != nil {
			return err
		}
		snapV1 := `{"v":1,"id":1,"created":"2025-12-01T10:00:00Z","org":"acme","members":2,"teams":1,"projects":1,"integrations":0,"durationNs":1000,"requests":5,"size":3,"rawSize":3,"encoding":"json+gzip"}`
		if err := tx.Bucket([]byte(bucketSnapshots)).Put(itob(1), []byte(snapV1)); err != nil {
			return err
		}
		body, _, err := encodeSnapshot(&access.Snapshot{Org: access.Org{Slug: "acme"}})
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketSnapshotBodies)).Put(itob(1), body); err != nil {
			return err
		}
		audit, ids := tx.Bucket([]byte(bucketAudit)), tx.Bucket([]byte(bucketAuditIDs))
		for i, ev := range []string{"member.edit", "team.create", "member.edit"} {
			id := string(rune('a' + i))
			at := time.Date(2025, 12, 1, i, 0, 0, 0, time.UTC)
			v, _ := json.Marshal(map[string]any{"v": 1, "id": id, "event": ev, "date": at})
			k := auditKey(at, id)
			if err := audit.Put(k, v); err != nil {
				return err
			}
			if err := ids.Put([]byte(id), k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenMigratesSchemaV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	writeV1File(t, path)

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if v, err := s.SchemaVersion(ctx); err != nil || v != schemaVersion {
		t.Errorf("schema: got %d, %v; want %d", v, err, schemaVersion)
	}
	events, err := s.AuditEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"member.edit", "team.create"}; !reflect.DeepEqual(events, want) {
		t.Errorf("events: got %v, want %v", events, want)
	}
	list, err := s.ListSnapshots(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("snapshots: got %v, %v", list, err)
	}
	if list[0].Kind != KindFull || list[0].Requests != 5 {
		t.Errorf("migrated snapshot: got kind %q requests %d, want full and 5", list[0].Kind, list[0].Requests)
	}
	if _, _, err := s.CurrentSnapshot(ctx); err != nil {
		t.Errorf("current snapshot after migration: %v", err)
	}
	// Appending after the migration keeps the event index up to date.
	added, err := s.AppendAuditEntries(ctx, []sentry.AuditLogEntry{{ID: "d", Event: "org.edit", DateCreated: time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC)}})
	if err != nil || added != 1 {
		t.Fatalf("append after migration: got %d, %v", added, err)
	}
	events, _ = s.AuditEvents(ctx)
	if want := []string{"member.edit", "org.edit", "team.create"}; !reflect.DeepEqual(events, want) {
		t.Errorf("events after append: got %v, want %v", events, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "future.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte(bucketSys))
		if err != nil {
			return err
		}
		return b.Put([]byte(keySchema), []byte("99"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "schema version 99 is newer") {
		t.Errorf("got %v, want a newer-schema error", err)
	}
}
