package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketUnapproved holds the changes made outside sentry-access, keyed by
// the snapshot that showed them (8 bytes, big-endian) and their number
// within it (8 bytes): a cursor walks them in detection order and a
// snapshot's findings are one prefix.
const bucketUnapproved = "unapproved" // snapshot(8) ‖ n(8) → unapprovedRecord

// unapprovedRecordVersion is the version of UnapprovedChange's on-disk
// form.
const unapprovedRecordVersion = 1

func ensureUnapprovedBuckets(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists([]byte(bucketUnapproved)); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketUnapproved, err)
	}
	return nil
}

// UnapprovedChange is the on-disk form of a change made outside
// sentry-access and what approvers did about it. Its JSON is the file
// format: internal/unapproved maps its domain type to and from it
// (unapproved.StoreRepo).
type UnapprovedChange struct {
	ID            string              `json:"id"`
	Snapshot      uint64              `json:"snapshot"`
	Previous      uint64              `json:"previous"`
	From          time.Time           `json:"from"`
	To            time.Time           `json:"to"`
	DetectedAt    time.Time           `json:"detectedAt"`
	Change        UnapprovedSubject   `json:"change"`
	Verdict       string              `json:"verdict"`
	By            []UnapprovedStep    `json:"by,omitempty"`
	Remainder     string              `json:"remainder,omitempty"`
	Approved      string              `json:"approved,omitempty"`
	AuditStatus   string              `json:"auditStatus"`
	Audit         *UnapprovedAudit    `json:"audit,omitempty"`
	AuditReason   string              `json:"auditReason,omitempty"`
	State         string              `json:"state"`
	Accepted      *UnapprovedDecision `json:"accepted,omitempty"`
	RevertRequest string              `json:"revertRequest,omitempty"`
	RevertedAt    *time.Time          `json:"revertedAt,omitempty"`
	UpdatedAt     time.Time           `json:"updatedAt"`
}

// UnapprovedSubject is the on-disk form of the access change itself.
type UnapprovedSubject struct {
	Kind     string          `json:"kind"`
	Member   string          `json:"member,omitempty"`
	Email    string          `json:"email,omitempty"`
	UserID   string          `json:"userId,omitempty"`
	Team     string          `json:"team,omitempty"`
	Project  string          `json:"project,omitempty"`
	Setting  string          `json:"setting,omitempty"`
	From     string          `json:"from,omitempty"`
	To       string          `json:"to,omitempty"`
	Members  []string        `json:"members,omitempty"`
	Projects []string        `json:"projects,omitempty"`
	Undone   *UnapprovedStep `json:"undone,omitempty"`
}

// UnapprovedStep is the on-disk form of a step of a change request.
type UnapprovedStep struct {
	Request string `json:"request"`
	Step    int    `json:"step"`
}

// UnapprovedAudit is the on-disk form of the Sentry audit entry cited.
type UnapprovedAudit struct {
	ID    string    `json:"id"`
	Event string    `json:"event"`
	Actor string    `json:"actor"`
	IP    string    `json:"ip,omitempty"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// UnapprovedDecision is the on-disk form of an approver's acceptance.
type UnapprovedDecision struct {
	By   string    `json:"by"`
	Role string    `json:"role"`
	Note string    `json:"note"`
	At   time.Time `json:"at"`
}

// unapprovedRecord is the versioned record as stored.
type unapprovedRecord struct {
	V int `json:"v"`
	UnapprovedChange
}

func decodeUnapproved(k, v []byte) (*UnapprovedChange, error) {
	var rec unapprovedRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode change made outside sentry-access %x: %w", k, err)
	}
	if rec.V > unapprovedRecordVersion {
		return nil, fmt.Errorf("change made outside sentry-access %s: record version %d is newer than this program's %d", rec.ID, rec.V, unapprovedRecordVersion)
	}
	return &rec.UnapprovedChange, nil
}

func unapprovedKey(snapshot, n uint64) []byte { return append(itob(snapshot), itob(n)...) }

// unapprovedKeyOf parses an id "<snapshot>-<n>".
func unapprovedKeyOf(id string) ([]byte, error) {
	a, b, ok := strings.Cut(id, "-")
	snap, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n == 0 {
		return nil, fmt.Errorf("change made outside sentry-access %q: %w", id, notFound())
	}
	return unapprovedKey(snap, n), nil
}

// UnapprovedRecords stores the changes made outside sentry-access. Every
// method is one transaction.
type UnapprovedRecords struct{ s *Store }

// Unapproved returns the records of changes made outside sentry-access.
func (s *Store) Unapproved() *UnapprovedRecords { return &UnapprovedRecords{s: s} }

// Record stores the changes snapshot showed, numbering them from 1 (their
// IDs "<snapshot>-<n>"), and reports whether it did: a snapshot's changes
// are recorded once, so a second call for it stores nothing and reports
// false. An empty list records nothing and reports true.
func (r *UnapprovedRecords) Record(ctx context.Context, snapshot uint64, cs []UnapprovedChange) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	stored := false
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUnapproved))
		prefix := itob(snapshot)
		if k, _ := b.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			return nil
		}
		for i := range cs {
			n := uint64(i + 1)
			cs[i].ID, cs[i].Snapshot = fmt.Sprintf("%d-%d", snapshot, n), snapshot
			v, err := json.Marshal(unapprovedRecord{V: unapprovedRecordVersion, UnapprovedChange: cs[i]})
			if err != nil {
				return fmt.Errorf("encode %s: %w", cs[i].ID, err)
			}
			if err := b.Put(unapprovedKey(snapshot, n), v); err != nil {
				return err
			}
		}
		stored = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record changes made outside sentry-access: %w", err)
	}
	return stored, nil
}

// All returns every record, the newest snapshot's first, each snapshot's
// in their order.
func (r *UnapprovedRecords) All(ctx context.Context) ([]UnapprovedChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []UnapprovedChange
	err := r.s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketUnapproved)).Cursor()
		var group []UnapprovedChange
		var snap []byte
		flush := func() { out, group = append(out, group...), nil }
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if len(k) != 16 {
				continue
			}
			if snap != nil && !bytes.Equal(k[:8], snap) {
				flush()
			}
			snap = k[:8]
			rec, err := decodeUnapproved(k, v)
			if err != nil {
				return err
			}
			group = append([]UnapprovedChange{*rec}, group...)
		}
		flush()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read changes made outside sentry-access: %w", err)
	}
	return out, nil
}

// Update reads record id, calls fn on it and, if fn returns no error,
// writes it back and appends the trail records fn returned to the
// dashboard's audit trail, in one transaction. Errors: ENOTFOUND, or fn's
// error unchanged (nothing is written then).
func (r *UnapprovedRecords) Update(ctx context.Context, id string, fn func(*UnapprovedChange) ([]TrailEntry, error)) (*UnapprovedChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := unapprovedKeyOf(id)
	if err != nil {
		return nil, err
	}
	var out *UnapprovedChange
	err = r.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUnapproved))
		v := b.Get(k)
		if v == nil {
			return fmt.Errorf("change made outside sentry-access %s: %w", id, notFound())
		}
		rec, err := decodeUnapproved(k, v)
		if err != nil {
			return err
		}
		trail, err := fn(rec)
		if err != nil {
			return err
		}
		rec.ID = id
		data, err := json.Marshal(unapprovedRecord{V: unapprovedRecordVersion, UnapprovedChange: *rec})
		if err != nil {
			return fmt.Errorf("encode %s: %w", id, err)
		}
		if err := b.Put(k, data); err != nil {
			return err
		}
		out = rec
		if err := ensureChangesBuckets(tx); err != nil {
			return err
		}
		return appendTrail(tx, trail)
	})
	if err != nil {
		return nil, fmt.Errorf("update change made outside sentry-access %s: %w", id, err)
	}
	return out, nil
}
