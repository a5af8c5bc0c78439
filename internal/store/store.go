// Package store persists sentry-access state in a single bbolt file:
// immutable access snapshots, the history of sync runs, an archive of the
// organization's audit log, the inventory, change requests with their
// grants and audit trail, access reviews, webhook deliveries and a few
// settings.
//
// Layout (docs/architecture.md, "The store"): every bucket is created in
// Open; each exported method runs in exactly one bolt transaction; sequence
// keys are big-endian uint64 so that byte order is numeric order; values
// are the store's own record types (ChangeRequest, ReviewCampaign,
// NotifyDelivery, the inventory's records …), each stored with its version,
// and never a service's domain type: the services map theirs to and from
// these (changes.StoreRepo, review.StoreRepo, notify.StoreRepo), so a
// domain change cannot change the file. The package imports the vocabulary
// (sentryaccess) and the bottom layer's models (the engine's snapshot, the
// Sentry client's types), never a service. Bytes read from bolt are copied
// (decoded) before the transaction ends.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// ErrLocked reports that another process holds the store file.
var ErrLocked = errors.New("locked by another process")

// notFound is the error of a record that does not exist (ENOTFOUND, with no
// message: what the user sees is decided by the HTTP layer).
func notFound() error { return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "") }

// invalid is the error of an invalid argument, such as a malformed cursor.
func invalid() error { return sentryaccess.Errorf(sentryaccess.EINVALID, "") }

// conflict is the error of a record that exists already.
func conflict() error { return sentryaccess.Errorf(sentryaccess.ECONFLICT, "") }

// schemaVersion is the on-disk layout this code writes. Open migrates older
// files forward and refuses newer ones.
const schemaVersion = 2

// Bucket names.
const (
	bucketSys            = "sys"             // schema version, current snapshot id
	bucketSettings       = "settings"        // GetMeta/PutMeta key/value
	bucketSnapshots      = "snapshots"       // seq → snapshotRecord (meta only)
	bucketSnapshotBodies = "snapshot_bodies" // seq → gzip(JSON(access.Snapshot))
	bucketSyncs          = "syncs"           // seq → syncRecord
	bucketAudit          = "audit"           // time(8, big-endian ns) ‖ entry id → auditRecord
	bucketAuditIDs       = "audit_ids"       // entry id → audit key
	bucketAuditEvents    = "audit_events"    // event name → uint64 count (schema v2)
)

// Keys in bucketSys.
const (
	keySchema  = "schema"
	keyCurrent = "current"
)

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock; 0 means one second.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is an open store file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time
	// lastDecoded is the newest snapshot decoded so far (see snapshotAt).
	lastDecoded atomic.Pointer[decodedSnapshot]
	// lastInventory is the last inventory record decoded (LoadInventory).
	lastInventory atomic.Pointer[decodedInventory]
}

// Open opens (creating if needed) the store file at path, creates every
// bucket and migrates older schema versions. When another process holds the
// file it fails with an error wrapping ErrLocked that says so plainly.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store %s is %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, now: opts.Now}
	if err := db.Update(func(tx *bolt.Tx) error { return prepare(tx) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// migration moves the layout from version to-1 to version to.
type migration struct {
	to   int
	name string
	up   func(tx *bolt.Tx) error
}

// migrations lists every migration in order. Version 1 is the first layout.
func migrations() []migration {
	return []migration{
		{to: 2, name: "index audit event names; default snapshot kind to full", up: migrateV1toV2},
	}
}

// bucketsV1 are the buckets of schema version 1.
func bucketsV1() []string {
	return []string{bucketSys, bucketSettings, bucketSnapshots, bucketSnapshotBodies, bucketSyncs, bucketAudit, bucketAuditIDs}
}

// prepare creates the buckets and brings the schema to schemaVersion.
func prepare(tx *bolt.Tx) error {
	for _, name := range bucketsV1() {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	sys := tx.Bucket([]byte(bucketSys))
	version := 0
	if v := sys.Get([]byte(keySchema)); v != nil {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("read schema version %q: %w", v, err)
		}
		version = n
	}
	switch {
	case version == 0:
		// A new file: create the current layout directly.
		if _, err := tx.CreateBucketIfNotExists([]byte(bucketAuditEvents)); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketAuditEvents, err)
		}
	case version > schemaVersion:
		return fmt.Errorf("schema version %d is newer than this program's %d", version, schemaVersion)
	default:
		for _, m := range migrations() {
			if m.to <= version {
				continue
			}
			if err := m.up(tx); err != nil {
				return fmt.Errorf("migrate to schema %d (%s): %w", m.to, m.name, err)
			}
		}
	}
	// Buckets added without a layout change: created whatever the version.
	if err := ensureChangesBuckets(tx); err != nil {
		return err
	}
	if err := ensureReviewBuckets(tx); err != nil {
		return err
	}
	if err := ensureNotifyBuckets(tx); err != nil {
		return err
	}
	if err := ensureReplayBuckets(tx); err != nil {
		return err
	}
	if err := ensureUnapprovedBuckets(tx); err != nil {
		return err
	}
	if err := ensureSessionBuckets(tx); err != nil {
		return err
	}
	if err := ensureUserBuckets(tx); err != nil {
		return err
	}
	if err := sys.Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion))); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// SchemaVersion returns the schema version recorded in the file.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSys)).Get([]byte(keySchema))
		var err error
		n, err = strconv.Atoi(string(v))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return n, nil
}

// GetMeta returns the setting stored under key, or ENOTFOUND.
func (s *Store) GetMeta(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSettings)).Get([]byte(key))
		if v == nil {
			return notFound()
		}
		out = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get setting %q: %w", key, err)
	}
	return out, nil
}

// PutMeta stores value under key, replacing any previous value.
func (s *Store) PutMeta(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("put setting: empty key: %w", invalid())
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSettings)).Put([]byte(key), value)
	})
	if err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
}

// Backup writes a consistent copy of the whole store file to w while the
// store stays in use, and returns the number of bytes written.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup store: %w", err)
	}
	return n, nil
}

// itob encodes a sequence number as a big-endian key.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// btoi decodes a big-endian key; it returns 0 for keys of the wrong size.
func btoi(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
