package store

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// AuditEntry returns the archived audit entry with Sentry's id, or
// ENOTFOUND (the audit-log explorer's detail view).
func (s *Store) AuditEntry(ctx context.Context, id string) (sentry.AuditLogEntry, error) {
	if err := ctx.Err(); err != nil {
		return sentry.AuditLogEntry{}, err
	}
	var e sentry.AuditLogEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		k := tx.Bucket([]byte(bucketAuditIDs)).Get([]byte(id))
		if k == nil {
			return notFound()
		}
		v := tx.Bucket([]byte(bucketAudit)).Get(k)
		if v == nil {
			return notFound()
		}
		var rec auditRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode entry: %w", err)
		}
		e = rec.entry()
		return nil
	})
	if err != nil {
		return sentry.AuditLogEntry{}, fmt.Errorf("audit entry %q: %w", id, err)
	}
	return e, nil
}
