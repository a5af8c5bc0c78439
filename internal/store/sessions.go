package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the ended dashboard sessions.
const (
	bucketSessionsEnded    = "sessions_ended"     // session id → until (8 bytes, big-endian unix ns)
	bucketSessionsEndedExp = "sessions_ended_exp" // until(8) ‖ session id → nil, for pruning in expiry order
)

func ensureSessionBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketSessionsEnded, bucketSessionsEndedExp} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// SessionRevocations remembers the dashboard sessions ended by logout
// until the moment their cookies would have expired anyway, across
// restarts (it implements session.Revocations). Get it with
// Store.SessionRevocations.
type SessionRevocations struct{ s *Store }

// SessionRevocations returns the store's record of ended sessions.
func (s *Store) SessionRevocations() *SessionRevocations { return &SessionRevocations{s: s} }

// Revoke records session id as ended until until, and forgets the ended
// sessions whose time has passed.
func (r *SessionRevocations) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("revoke session: empty id: %w", invalid())
	}
	now := r.s.now()
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		ids, exp := tx.Bucket([]byte(bucketSessionsEnded)), tx.Bucket([]byte(bucketSessionsEndedExp))
		if err := pruneExpiring(ids, exp, now); err != nil {
			return err
		}
		if !until.After(now) {
			return nil // expired already: its own timeout refuses it
		}
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], uint64(until.UnixNano()))
		if err := ids.Put([]byte(id), ts[:]); err != nil {
			return err
		}
		return exp.Put(append(ts[:], id...), nil)
	})
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// Revoked reports whether session id was ended and its time has not
// passed.
func (r *SessionRevocations) Revoked(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := r.s.now()
	revoked := false
	err := r.s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSessionsEnded)).Get([]byte(id))
		revoked = len(v) == 8 && time.Unix(0, int64(binary.BigEndian.Uint64(v))).After(now)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read ended sessions: %w", err)
	}
	return revoked, nil
}

// Len returns how many ended sessions are recorded (those past their time
// and not yet pruned included).
func (r *SessionRevocations) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := r.s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(bucketSessionsEnded)).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count ended sessions: %w", err)
	}
	return n, nil
}

// pruneExpiring deletes, from a pair of buckets kept like the replay
// cache's (key → expiry; expiry ‖ key → nil), the entries that expired at
// or before now.
func pruneExpiring(ids, exp *bolt.Bucket, now time.Time) error {
	var limit [8]byte
	binary.BigEndian.PutUint64(limit[:], uint64(now.UnixNano()))
	cur := exp.Cursor()
	var dead [][]byte
	for k, _ := cur.First(); len(k) >= 8 && bytes.Compare(k[:8], limit[:]) <= 0; k, _ = cur.Next() {
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := exp.Delete(k); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		id := k[8:]
		// Only drop the id if its recorded expiry is this one.
		if v := ids.Get(id); v != nil && bytes.Equal(v, k[:8]) {
			if err := ids.Delete(id); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
		}
	}
	return nil
}
