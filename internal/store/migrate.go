package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrateV1toV2 moves a schema 1 file to schema 2:
//   - schema 1 had no index of audit event names, so AuditEvents had to scan
//     the whole archive; schema 2 keeps bucketAuditEvents (name → count),
//     built here from the archived entries;
//   - schema 1 snapshot records had no kind (every sync was full); schema 2
//     records say "full" or "incremental".
func migrateV1toV2(tx *bolt.Tx) error {
	events, err := tx.CreateBucketIfNotExists([]byte(bucketAuditEvents))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketAuditEvents, err)
	}
	err = tx.Bucket([]byte(bucketAudit)).ForEach(func(k, v []byte) error {
		var rec auditRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode audit entry %x: %w", k, err)
		}
		return countEvent(events, rec.Event)
	})
	if err != nil {
		return fmt.Errorf("index audit events: %w", err)
	}

	snaps := tx.Bucket([]byte(bucketSnapshots))
	updated := map[string][]byte{}
	err = snaps.ForEach(func(k, v []byte) error {
		var rec snapshotRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode snapshot %d: %w", btoi(k), err)
		}
		if rec.Kind == "" {
			rec.Kind = string(KindFull)
		}
		rec.V = 2
		nv, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		updated[string(k)] = nv
		return nil
	})
	if err != nil {
		return fmt.Errorf("upgrade snapshot records: %w", err)
	}
	// Writing while iterating with ForEach is not allowed; write afterwards.
	for k, v := range updated {
		if err := snaps.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}
