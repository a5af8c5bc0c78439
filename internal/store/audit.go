package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// The audit archive keys each entry by its time (8 bytes, big-endian Unix
// nanoseconds, UTC) followed by Sentry's entry id, so a bolt cursor walks it
// in date order and a date range is one Seek. bucketAuditIDs maps the entry
// id back to that key, which makes appends idempotent.

// Audit paging limits.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 1000
)

// keyAuditOptions is the setting holding Sentry's list of audit event names.
const keyAuditOptions = "audit.options"

// AuditFilter selects archived audit entries. Zero fields do not filter.
type AuditFilter struct {
	// Event is an exact event name such as "member.edit".
	Event string
	// Actor matches the actor's user id exactly, or a case-insensitive
	// substring of the actor's name or email.
	Actor string
	// Target matches the target object id exactly, the target user's id
	// exactly, or a case-insensitive substring of its name or email.
	Target string
	// From and To bound DateCreated, both inclusive.
	From, To time.Time
	// Cursor continues a previous page (the nextCursor it returned).
	Cursor string
	// Limit is the page size: 0 means 50; at most 1000.
	Limit int
}

// auditRecord is the on-disk form of a sentry.AuditLogEntry.
type auditRecord struct {
	V            int             `json:"v"`
	ID           string          `json:"id"`
	Event        string          `json:"event"`
	Actor        *auditPerson    `json:"actor,omitempty"`
	TargetUser   *auditPerson    `json:"targetUser,omitempty"`
	TargetObject *int64          `json:"targetObject,omitempty"`
	IPAddress    string          `json:"ip,omitempty"`
	Note         string          `json:"note,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
	Date         time.Time       `json:"date"`
}

// auditPerson is the on-disk form of a sentry.AuditActor.
type auditPerson struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func newAuditPerson(a *sentry.AuditActor) *auditPerson {
	if a == nil {
		return nil
	}
	return &auditPerson{ID: a.ID, Name: a.Name, Email: a.Email}
}

func (p *auditPerson) actor() *sentry.AuditActor {
	if p == nil {
		return nil
	}
	return &sentry.AuditActor{ID: p.ID, Name: p.Name, Email: p.Email}
}

func newAuditRecord(e sentry.AuditLogEntry) auditRecord {
	var data json.RawMessage
	if len(e.Data) > 0 && !bytes.Equal(e.Data, []byte("null")) {
		data = bytes.Clone(e.Data)
	}
	return auditRecord{
		V: schemaVersion, ID: e.ID, Event: e.Event,
		Actor: newAuditPerson(e.Actor), TargetUser: newAuditPerson(e.TargetUser), TargetObject: e.TargetObject,
		IPAddress: e.IPAddress, Note: e.Note, Data: data, Date: e.DateCreated.UTC(),
	}
}

func (r auditRecord) entry() sentry.AuditLogEntry {
	return sentry.AuditLogEntry{
		ID: r.ID, Event: r.Event, Actor: r.Actor.actor(), TargetUser: r.TargetUser.actor(),
		TargetObject: r.TargetObject, IPAddress: r.IPAddress, Note: r.Note, Data: r.Data,
		DateCreated: r.Date,
	}
}

// matches reports whether the record passes the non-date parts of f.
func (r auditRecord) matches(f AuditFilter) bool {
	if f.Event != "" && r.Event != f.Event {
		return false
	}
	if f.Actor != "" && !r.Actor.matches(f.Actor) {
		return false
	}
	if f.Target != "" {
		byObject := r.TargetObject != nil && strconv.FormatInt(*r.TargetObject, 10) == f.Target
		if !byObject && !r.TargetUser.matches(f.Target) {
			return false
		}
	}
	return true
}

// matches reports whether q names the person: its id exactly, or a
// case-insensitive substring of its name or email.
func (p *auditPerson) matches(q string) bool {
	if p == nil {
		return false
	}
	if p.ID != "" && p.ID == q {
		return true
	}
	q = strings.ToLower(q)
	return strings.Contains(strings.ToLower(p.Name), q) || strings.Contains(strings.ToLower(p.Email), q)
}

// quotedEvent is the event name as its record's JSON holds it ("member.edit"
// in quotes), which a record of that event must contain; nil when there is
// no event filter or the name has a character JSON might escape in more
// than one way, so the scan decodes every record. Skipping records without
// it saves decoding the whole log once per event a page asks for.
func quotedEvent(event string) []byte {
	if event == "" {
		return nil
	}
	for _, r := range event {
		if r < 0x20 || r > 0x7e || strings.ContainsRune(`"\<>&`, r) {
			return nil
		}
	}
	return []byte(`"` + event + `"`)
}

// auditKey is time ‖ id.
func auditKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(max(t.UnixNano(), 0)))
	return append(k, id...)
}

// auditKeyTime decodes the time part of an audit key.
func auditKeyTime(k []byte) time.Time {
	if len(k) < 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC()
}

// AppendAuditEntries archives entries, skipping those whose Sentry id is
// already archived, and returns how many it added. Entries without an id are
// rejected with EINVALID.
func (s *Store) AppendAuditEntries(ctx context.Context, entries []sentry.AuditLogEntry) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, e := range entries {
		if e.ID == "" {
			return 0, fmt.Errorf("append audit entries: entry without id: %w", invalid())
		}
	}
	added := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n, err := appendAudit(tx, entries)
		added = n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("append audit entries: %w", err)
	}
	return added, nil
}

// appendAudit writes the entries not yet archived.
func appendAudit(tx *bolt.Tx, entries []sentry.AuditLogEntry) (int, error) {
	audit := tx.Bucket([]byte(bucketAudit))
	ids := tx.Bucket([]byte(bucketAuditIDs))
	events := tx.Bucket([]byte(bucketAuditEvents))
	added := 0
	for _, e := range entries {
		if ids.Get([]byte(e.ID)) != nil {
			continue
		}
		rec := newAuditRecord(e)
		v, err := json.Marshal(rec)
		if err != nil {
			return 0, fmt.Errorf("encode entry %s: %w", e.ID, err)
		}
		k := auditKey(rec.Date, e.ID)
		if err := audit.Put(k, v); err != nil {
			return 0, err
		}
		if err := ids.Put([]byte(e.ID), k); err != nil {
			return 0, err
		}
		if err := countEvent(events, rec.Event); err != nil {
			return 0, err
		}
		added++
	}
	return added, nil
}

// countEvent increments the archived count of an event name.
func countEvent(b *bolt.Bucket, event string) error {
	if event == "" {
		return nil
	}
	return b.Put([]byte(event), itob(btoi(b.Get([]byte(event)))+1))
}

// AuditEntries returns one page of archived entries matching f, newest
// first, and the cursor of the next page ("" on the last page). A malformed
// cursor is EINVALID.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]sentry.AuditLogEntry, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	limit = min(limit, maxAuditLimit)
	// upper is an exclusive upper bound on keys; nil means none.
	var upper []byte
	if !f.To.IsZero() {
		upper = auditKey(f.To.Add(time.Nanosecond), "")
	}
	if f.Cursor != "" {
		k, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(k) < 8 {
			return nil, "", fmt.Errorf("audit entries: bad cursor %q: %w", f.Cursor, invalid())
		}
		if upper == nil || bytes.Compare(k, upper) < 0 {
			upper = k
		}
	}
	var (
		rows    []sentry.AuditLogEntry
		lastKey []byte
		more    bool
	)
	quoted := quotedEvent(f.Event)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketAudit)).Cursor()
		var k, v []byte
		if upper == nil {
			k, v = c.Last()
		} else if k, _ = c.Seek(upper); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if !f.From.IsZero() && auditKeyTime(k).Before(f.From) {
				break
			}
			if quoted != nil && !bytes.Contains(v, quoted) {
				continue // cannot be the event: skip decoding it
			}
			var rec auditRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode entry %x: %w", k, err)
			}
			if !rec.matches(f) {
				continue
			}
			if len(rows) == limit {
				more = true
				break
			}
			rows = append(rows, rec.entry())
			lastKey = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("audit entries: %w", err)
	}
	next := ""
	if more {
		next = base64.RawURLEncoding.EncodeToString(lastKey)
	}
	return rows, next, nil
}

// SetAuditOptions stores Sentry's list of registered audit event names (the
// "options" of GET /organizations/{org}/audit-logs/).
func (s *Store) SetAuditOptions(ctx context.Context, options []string) error {
	v, err := json.Marshal(options)
	if err != nil {
		return fmt.Errorf("set audit options: %w", err)
	}
	return s.PutMeta(ctx, keyAuditOptions, v)
}

// AuditEvents returns the sorted union of the event names seen in the
// archive and the options Sentry registered.
func (s *Store) AuditEvents(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(bucketAuditEvents)).ForEach(func(k, _ []byte) error {
			names = append(names, string(k))
			return nil
		}); err != nil {
			return err
		}
		if v := tx.Bucket([]byte(bucketSettings)).Get([]byte(keyAuditOptions)); v != nil {
			var opts []string
			if err := json.Unmarshal(v, &opts); err != nil {
				return fmt.Errorf("decode options: %w", err)
			}
			names = append(names, opts...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// LatestAuditTime returns the time of the newest archived entry, or the zero
// time when the archive is empty.
func (s *Store) LatestAuditTime(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	var t time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket([]byte(bucketAudit)).Cursor().Last(); k != nil {
			t = auditKeyTime(k)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("latest audit time: %w", err)
	}
	return t, nil
}
