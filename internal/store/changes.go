package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/changes"
)

// Change-request buckets. Requests and trail records are keyed by their
// big-endian sequence, so a cursor walks them in creation order; grants by
// the id of the request that created them.
const (
	bucketChangeRequests = "change_requests" // seq → changeRequestRecord
	bucketChangeGrants   = "change_grants"   // request id → changeGrantRecord
	bucketChangeTrail    = "change_trail"    // seq → changeTrailRecord
	bucketChangeMeta     = "change_meta"     // keyTrailHead → changes.TrailHead
)

const keyTrailHead = "trail_head"

// changesRecordVersion is the version of the change records' on-disk form.
const changesRecordVersion = 1

// ensureChangesBuckets creates the change-request buckets. Open should call
// it; every ChangesRepo write also does, so the repo works either way.
func ensureChangesBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketChangeRequests, bucketChangeGrants, bucketChangeTrail, bucketChangeMeta} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// changeRequestRecord is the on-disk form of a changes.Request.
type changeRequestRecord struct {
	V int `json:"v"`
	changes.Request
}

// changeGrantRecord is the on-disk form of a changes.Grant.
type changeGrantRecord struct {
	V int `json:"v"`
	changes.Grant
}

// changeTrailRecord is the on-disk form of a changes.TrailRecord. The
// record's canonical bytes (what its hash covers) are those of the embedded
// TrailRecord alone.
type changeTrailRecord struct {
	V int `json:"v"`
	changes.TrailRecord
}

// ChangesRepo implements changes.Repo on the store.
type ChangesRepo struct{ s *Store }

// Changes returns the change-request repository.
func (s *Store) Changes() *ChangesRepo { return &ChangesRepo{s: s} }

var _ changes.Repo = (*ChangesRepo)(nil)

func changesPut(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %x: %w", k, err)
	}
	return b.Put(k, data)
}

func requestSeq(id string) (uint64, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("request %q: %w", id, notFound())
	}
	return n, nil
}

// update runs fn in a write transaction with the change buckets present.
func (r *ChangesRepo) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.s.db.Update(func(tx *bolt.Tx) error {
		if err := ensureChangesBuckets(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// view runs fn in a read transaction; fn must accept nil buckets (a file
// where no change was ever written).
func (r *ChangesRepo) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.s.db.View(fn)
}

func readRequest(tx *bolt.Tx, id string) (*changes.Request, error) {
	seq, err := requestSeq(id)
	if err != nil {
		return nil, err
	}
	b := tx.Bucket([]byte(bucketChangeRequests))
	if b == nil {
		return nil, fmt.Errorf("request %s: %w", id, notFound())
	}
	v := b.Get(itob(seq))
	if v == nil {
		return nil, fmt.Errorf("request %s: %w", id, notFound())
	}
	var rec changeRequestRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", id, err)
	}
	return &rec.Request, nil
}

func writeRequest(tx *bolt.Tx, req *changes.Request) error {
	seq, err := requestSeq(req.ID)
	if err != nil {
		return err
	}
	return changesPut(tx.Bucket([]byte(bucketChangeRequests)), itob(seq), changeRequestRecord{V: changesRecordVersion, Request: *req})
}

// appendTrail seals recs after the stored head and writes them.
func appendTrail(tx *bolt.Tx, recs []changes.TrailRecord) error {
	if len(recs) == 0 {
		return nil
	}
	meta := tx.Bucket([]byte(bucketChangeMeta))
	var head changes.TrailHead
	if v := meta.Get([]byte(keyTrailHead)); v != nil {
		if err := json.Unmarshal(v, &head); err != nil {
			return fmt.Errorf("decode trail head: %w", err)
		}
	}
	tb := tx.Bucket([]byte(bucketChangeTrail))
	for _, rec := range recs {
		var sealed changes.TrailRecord
		sealed, head = changes.SealTrailRecord(head, rec)
		if err := changesPut(tb, itob(sealed.Seq), changeTrailRecord{V: changesRecordVersion, TrailRecord: sealed}); err != nil {
			return err
		}
	}
	return changesPut(meta, []byte(keyTrailHead), head)
}

// CreateRequest implements changes.Repo.
func (r *ChangesRepo) CreateRequest(ctx context.Context, req *changes.Request, trail []changes.TrailRecord) error {
	err := r.update(ctx, func(tx *bolt.Tx) error {
		seq, err := tx.Bucket([]byte(bucketChangeRequests)).NextSequence()
		if err != nil {
			return err
		}
		req.ID = strconv.FormatUint(seq, 10)
		for i := range trail {
			trail[i].RequestID = req.ID
		}
		if err := writeRequest(tx, req); err != nil {
			return err
		}
		return appendTrail(tx, trail)
	})
	if err != nil {
		return fmt.Errorf("create change request: %w", err)
	}
	return nil
}

// Request implements changes.Repo.
func (r *ChangesRepo) Request(ctx context.Context, id string) (*changes.Request, error) {
	var out *changes.Request
	err := r.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = readRequest(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get change request: %w", err)
	}
	return out, nil
}

// UpdateRequest implements changes.Repo.
func (r *ChangesRepo) UpdateRequest(ctx context.Context, id string, fn func(*changes.Request) ([]changes.TrailRecord, error)) (*changes.Request, error) {
	var out *changes.Request
	err := r.update(ctx, func(tx *bolt.Tx) error {
		req, err := readRequest(tx, id)
		if err != nil {
			return err
		}
		trail, err := fn(req)
		if err != nil {
			return err
		}
		req.ID = id
		if err := writeRequest(tx, req); err != nil {
			return err
		}
		for i := range trail {
			if trail[i].RequestID == "" {
				trail[i].RequestID = id
			}
		}
		out = req
		return appendTrail(tx, trail)
	})
	if err != nil {
		return nil, fmt.Errorf("update change request %s: %w", id, err)
	}
	return out, nil
}

// ListRequests implements changes.Repo: newest first.
func (r *ChangesRepo) ListRequests(ctx context.Context, f changes.RequestFilter) ([]changes.Request, error) {
	var out []changes.Request
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeRequests))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var rec changeRequestRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode request %d: %w", btoi(k), err)
			}
			if !f.Match(&rec.Request) {
				continue
			}
			out = append(out, rec.Request)
			if f.Limit > 0 && len(out) >= f.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list change requests: %w", err)
	}
	return out, nil
}

// CreateGrant implements changes.Repo. A grant whose id exists already is
// refused with ECONFLICT.
func (r *ChangesRepo) CreateGrant(ctx context.Context, g *changes.Grant, trail []changes.TrailRecord) error {
	err := r.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeGrants))
		if g.ID == "" {
			return fmt.Errorf("grant without id: %w", invalid())
		}
		if b.Get([]byte(g.ID)) != nil {
			return fmt.Errorf("grant %s exists: %w", g.ID, conflict())
		}
		if err := changesPut(b, []byte(g.ID), changeGrantRecord{V: changesRecordVersion, Grant: *g}); err != nil {
			return err
		}
		return appendTrail(tx, trail)
	})
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	return nil
}

// UpdateGrant implements changes.Repo.
func (r *ChangesRepo) UpdateGrant(ctx context.Context, id string, fn func(*changes.Grant) ([]changes.TrailRecord, error)) (*changes.Grant, error) {
	var out *changes.Grant
	err := r.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeGrants))
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("grant %s: %w", id, notFound())
		}
		var rec changeGrantRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode grant %s: %w", id, err)
		}
		trail, err := fn(&rec.Grant)
		if err != nil {
			return err
		}
		rec.Grant.ID, rec.V = id, changesRecordVersion
		if err := changesPut(b, []byte(id), rec); err != nil {
			return err
		}
		for i := range trail {
			if trail[i].GrantID == "" {
				trail[i].GrantID = id
			}
		}
		out = &rec.Grant
		return appendTrail(tx, trail)
	})
	if err != nil {
		return nil, fmt.Errorf("update grant %s: %w", id, err)
	}
	return out, nil
}

// ListGrants implements changes.Repo: soonest expiry first.
func (r *ChangesRepo) ListGrants(ctx context.Context, f changes.GrantFilter) ([]changes.Grant, error) {
	var out []changes.Grant
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeGrants))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var rec changeGrantRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode grant %s: %w", k, err)
			}
			if f.Match(&rec.Grant) {
				out = append(out, rec.Grant)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	sortGrants(out)
	return out, nil
}

func sortGrants(gs []changes.Grant) {
	for i := 1; i < len(gs); i++ { // insertion sort: stable, lists are short
		for j := i; j > 0 && gs[j].ExpiresAt.Before(gs[j-1].ExpiresAt); j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
}

// AppendTrail implements changes.Repo.
func (r *ChangesRepo) AppendTrail(ctx context.Context, recs ...changes.TrailRecord) error {
	if err := r.update(ctx, func(tx *bolt.Tx) error { return appendTrail(tx, recs) }); err != nil {
		return fmt.Errorf("append trail: %w", err)
	}
	return nil
}

// Trail implements changes.Repo: records in append order.
func (r *ChangesRepo) Trail(ctx context.Context, f changes.TrailFilter) ([]changes.TrailRecord, error) {
	var out []changes.TrailRecord
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeTrail))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var rec changeTrailRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode trail record %d: %w", btoi(k), err)
			}
			if !f.Match(&rec.TrailRecord) {
				continue
			}
			out = append(out, rec.TrailRecord)
			if f.Limit > 0 && len(out) >= f.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read trail: %w", err)
	}
	return out, nil
}

// TrailHead implements changes.Repo.
func (r *ChangesRepo) TrailHead(ctx context.Context) (changes.TrailHead, error) {
	var head changes.TrailHead
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeMeta))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(keyTrailHead)); v != nil {
			return json.Unmarshal(v, &head)
		}
		return nil
	})
	if err != nil {
		return head, fmt.Errorf("read trail head: %w", err)
	}
	return head, nil
}
