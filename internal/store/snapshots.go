package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/access"
)

// SnapshotKind says how a snapshot was built.
type SnapshotKind string

// Snapshot kinds.
const (
	KindFull        SnapshotKind = "full"        // every object read from Sentry
	KindIncremental SnapshotKind = "incremental" // the base snapshot plus what the audit log named
)

// SnapshotMeta describes a stored snapshot. Snapshots are immutable; ID is a
// sequence number, so a larger ID is a newer snapshot.
type SnapshotMeta struct {
	ID           uint64
	Created      time.Time
	Kind         SnapshotKind
	BaseID       uint64 // the snapshot an incremental one was built from
	Org          string // organization slug
	SentryURL    string
	Members      int
	Teams        int
	Projects     int
	Integrations int
	Duration     time.Duration // how long the sync took
	Requests     int64         // Sentry API requests the sync made
	// AuditHighWater is the time of the newest audit-log entry the sync had
	// read; an incremental sync reads the audit log from there.
	AuditHighWater time.Time
	// Size and RawSize are the stored (compressed) and JSON sizes in bytes.
	Size    int
	RawSize int
}

// snapshotRecord is the on-disk form of SnapshotMeta.
type snapshotRecord struct {
	V              int       `json:"v"`
	ID             uint64    `json:"id"`
	Created        time.Time `json:"created"`
	Kind           string    `json:"kind,omitempty"`
	BaseID         uint64    `json:"baseId,omitempty"`
	Org            string    `json:"org,omitempty"`
	SentryURL      string    `json:"sentryUrl,omitempty"`
	Members        int       `json:"members"`
	Teams          int       `json:"teams"`
	Projects       int       `json:"projects"`
	Integrations   int       `json:"integrations"`
	DurationNS     int64     `json:"durationNs"`
	Requests       int64     `json:"requests"`
	AuditHighWater time.Time `json:"auditHighWater,omitzero"`
	Size           int       `json:"size"`
	RawSize        int       `json:"rawSize"`
	Encoding       string    `json:"encoding"`
}

// encodingJSONGzip is the only snapshot body encoding so far.
const encodingJSONGzip = "json+gzip"

func (r snapshotRecord) meta() SnapshotMeta {
	return SnapshotMeta{
		ID: r.ID, Created: r.Created, Kind: SnapshotKind(r.Kind), BaseID: r.BaseID,
		Org: r.Org, SentryURL: r.SentryURL,
		Members: r.Members, Teams: r.Teams, Projects: r.Projects, Integrations: r.Integrations,
		Duration: time.Duration(r.DurationNS), Requests: r.Requests,
		AuditHighWater: r.AuditHighWater, Size: r.Size, RawSize: r.RawSize,
	}
}

func newSnapshotRecord(m SnapshotMeta) snapshotRecord {
	return snapshotRecord{
		V: schemaVersion, ID: m.ID, Created: m.Created, Kind: string(m.Kind), BaseID: m.BaseID,
		Org: m.Org, SentryURL: m.SentryURL,
		Members: m.Members, Teams: m.Teams, Projects: m.Projects, Integrations: m.Integrations,
		DurationNS: int64(m.Duration), Requests: m.Requests,
		AuditHighWater: m.AuditHighWater, Size: m.Size, RawSize: m.RawSize,
		Encoding: encodingJSONGzip,
	}
}

// SaveSnapshot stores snap as the new current snapshot and returns its meta
// with ID, Created (when zero), counts and sizes filled in. Kind defaults to
// KindFull.
func (s *Store) SaveSnapshot(ctx context.Context, meta SnapshotMeta, snap *access.Snapshot) (SnapshotMeta, error) {
	if err := ctx.Err(); err != nil {
		return SnapshotMeta{}, err
	}
	if snap == nil {
		return SnapshotMeta{}, fmt.Errorf("save snapshot: nil snapshot: %w", invalid())
	}
	body, raw, err := encodeSnapshot(snap)
	if err != nil {
		return SnapshotMeta{}, fmt.Errorf("save snapshot: %w", err)
	}
	if meta.Created.IsZero() {
		meta.Created = s.now()
	}
	if meta.Kind == "" {
		meta.Kind = KindFull
	}
	if meta.Org == "" {
		meta.Org = snap.Org.Slug
	}
	meta.Members, meta.Teams = len(snap.Members), len(snap.Teams)
	meta.Projects, meta.Integrations = len(snap.Projects), len(snap.Integrations)
	meta.Size, meta.RawSize = len(body), raw
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSnapshots))
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		meta.ID = id
		rec, err := json.Marshal(newSnapshotRecord(meta))
		if err != nil {
			return err
		}
		if err := b.Put(itob(id), rec); err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketSnapshotBodies)).Put(itob(id), body); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketSys)).Put([]byte(keyCurrent), itob(id))
	})
	if err != nil {
		return SnapshotMeta{}, fmt.Errorf("save snapshot: %w", err)
	}
	return meta, nil
}

// CurrentSnapshotID returns the id of the current snapshot without reading
// it (0 when there is none yet): a cheap way to tell whether it changed.
func (s *Store) CurrentSnapshotID(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var id uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		id = btoi(tx.Bucket([]byte(bucketSys)).Get([]byte(keyCurrent)))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("current snapshot id: %w", err)
	}
	return id, nil
}

// CurrentSnapshot returns the newest successfully saved snapshot, or
// ENOTFOUND when there is none yet.
func (s *Store) CurrentSnapshot(ctx context.Context) (SnapshotMeta, *access.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return SnapshotMeta{}, nil, err
	}
	var (
		meta SnapshotMeta
		body []byte
		hit  *access.Snapshot
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		id := btoi(tx.Bucket([]byte(bucketSys)).Get([]byte(keyCurrent)))
		if id == 0 {
			return notFound()
		}
		var err error
		meta, body, hit, err = s.snapshotAt(tx, id)
		return err
	})
	if err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("current snapshot: %w", err)
	}
	snap, err := s.decoded(meta.ID, body, hit)
	if err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("current snapshot %d: %w", meta.ID, err)
	}
	return meta, snap, nil
}

// Snapshot returns the snapshot with the given id, or ENOTFOUND.
func (s *Store) Snapshot(ctx context.Context, id uint64) (SnapshotMeta, *access.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return SnapshotMeta{}, nil, err
	}
	var (
		meta SnapshotMeta
		body []byte
		hit  *access.Snapshot
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		meta, body, hit, err = s.snapshotAt(tx, id)
		return err
	})
	if err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	snap, err := s.decoded(id, body, hit)
	if err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("snapshot %d: %w", id, err)
	}
	return meta, snap, nil
}

// ListSnapshots returns the meta of every stored snapshot, newest first.
func (s *Store) ListSnapshots(ctx context.Context) ([]SnapshotMeta, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []SnapshotMeta
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketSnapshots)).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var rec snapshotRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode snapshot %d: %w", btoi(k), err)
			}
			out = append(out, rec.meta())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	return out, nil
}

// PruneSnapshots deletes all but the newest keep snapshots (keep < 1 counts
// as 1) and returns how many it deleted. The current snapshot is never
// deleted.
func (s *Store) PruneSnapshots(ctx context.Context, keep int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	keep = max(keep, 1)
	deleted := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		current := btoi(tx.Bucket([]byte(bucketSys)).Get([]byte(keyCurrent)))
		metas := tx.Bucket([]byte(bucketSnapshots))
		var doomed []uint64
		seen := 0
		c := metas.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			seen++
			if id := btoi(k); seen > keep && id != current {
				doomed = append(doomed, id)
			}
		}
		bodies := tx.Bucket([]byte(bucketSnapshotBodies))
		for _, id := range doomed {
			if err := metas.Delete(itob(id)); err != nil {
				return err
			}
			if err := bodies.Delete(itob(id)); err != nil {
				return err
			}
		}
		deleted = len(doomed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune snapshots: %w", err)
	}
	return deleted, nil
}

// getSnapshot reads the meta and a copy of the compressed body of snapshot id.
func getSnapshot(tx *bolt.Tx, id uint64) (SnapshotMeta, []byte, error) {
	v := tx.Bucket([]byte(bucketSnapshots)).Get(itob(id))
	if v == nil {
		return SnapshotMeta{}, nil, notFound()
	}
	var rec snapshotRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return SnapshotMeta{}, nil, fmt.Errorf("decode meta: %w", err)
	}
	if rec.Encoding != encodingJSONGzip {
		return SnapshotMeta{}, nil, fmt.Errorf("unknown snapshot encoding %q", rec.Encoding)
	}
	body := tx.Bucket([]byte(bucketSnapshotBodies)).Get(itob(id))
	if body == nil {
		return SnapshotMeta{}, nil, fmt.Errorf("body missing: %w", notFound())
	}
	return rec.meta(), bytes.Clone(body), nil
}

// decodedSnapshot is the last snapshot the store decoded. Snapshots are
// immutable and their ids are never reused, so the decoded form of an id
// stays valid for the life of the store.
type decodedSnapshot struct {
	id   uint64
	snap *access.Snapshot
}

// snapshotAt reads snapshot id's meta and, unless the store holds its
// decoded form (returned as hit), its compressed body. Decoding 10,000
// members' JSON takes about 100 ms; every page that reads the current
// snapshot would pay it on each request.
func (s *Store) snapshotAt(tx *bolt.Tx, id uint64) (meta SnapshotMeta, body []byte, hit *access.Snapshot, err error) {
	if d := s.lastDecoded.Load(); d != nil && d.id == id {
		v := tx.Bucket([]byte(bucketSnapshots)).Get(itob(id))
		if v == nil {
			return SnapshotMeta{}, nil, nil, notFound()
		}
		var rec snapshotRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return SnapshotMeta{}, nil, nil, fmt.Errorf("decode meta: %w", err)
		}
		return rec.meta(), nil, d.snap, nil
	}
	meta, body, err = getSnapshot(tx, id)
	return meta, body, nil, err
}

// decoded returns a copy of snapshot id: of hit when the store holds its
// decoded form, otherwise of body decoded (which the store then keeps).
// Callers own the copy and may change it: the kept form is never handed out.
func (s *Store) decoded(id uint64, body []byte, hit *access.Snapshot) (*access.Snapshot, error) {
	if hit != nil {
		return hit.Clone(), nil
	}
	snap, err := decodeSnapshot(body)
	if err != nil {
		return nil, err
	}
	if d := s.lastDecoded.Load(); d == nil || d.id <= id {
		s.lastDecoded.Store(&decodedSnapshot{id: id, snap: snap})
	}
	return snap.Clone(), nil
}

// encodeSnapshot returns the gzip-compressed JSON of snap and the JSON size.
func encodeSnapshot(snap *access.Snapshot) ([]byte, int, error) {
	raw, err := json.Marshal(snap)
	if err != nil {
		return nil, 0, fmt.Errorf("encode snapshot: %w", err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, 0, fmt.Errorf("compress snapshot: %w", err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, 0, fmt.Errorf("compress snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, 0, fmt.Errorf("compress snapshot: %w", err)
	}
	return buf.Bytes(), len(raw), nil
}

// decodeSnapshot reverses encodeSnapshot.
func decodeSnapshot(body []byte) (*access.Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("decompress snapshot: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress snapshot: %w", err)
	}
	var snap access.Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	return &snap, nil
}
