package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/crewjam/saml"
	bolt "go.etcd.io/bbolt"
)

// Buckets of the SAML replay cache.
const (
	bucketReplayIDs = "saml_replay"     // assertion id → expiry (8 bytes, big-endian unix ns)
	bucketReplayExp = "saml_replay_exp" // expiry(8) ‖ assertion id → nil, for pruning in expiry order
)

// maxReplayEntries bounds the replay cache: when it holds this many
// unexpired IDs a new one is refused (fail closed) rather than an old one
// forgotten.
const maxReplayEntries = 1_000_000

// ErrReplayCacheFull is returned by ReplayCache.Consume when the cache holds
// maxReplayEntries unexpired IDs.
var ErrReplayCacheFull = errors.New("SAML replay cache is full")

func ensureReplayBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketReplayIDs, bucketReplayExp} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// ReplayCache is a bbolt-backed saml.AssertionReplayCache: an assertion ID
// is refused until its expiry, across restarts of the dashboard. Get it
// with Store.ReplayCache.
type ReplayCache struct{ s *Store }

var _ saml.AssertionReplayCache = (*ReplayCache)(nil)

// ReplayCache returns the store's SAML assertion replay cache.
func (s *Store) ReplayCache() *ReplayCache { return &ReplayCache{s: s} }

// Consume records id as used until expiresAt. It returns an error matching
// saml.ErrAssertionReplayed when id was recorded before and has not yet
// expired, and ErrReplayCacheFull when the cache is full. Expired entries
// are pruned on every call.
func (c *ReplayCache) Consume(id string, expiresAt time.Time) error {
	now := c.s.now()
	err := c.s.db.Update(func(tx *bolt.Tx) error {
		ids, exp := tx.Bucket([]byte(bucketReplayIDs)), tx.Bucket([]byte(bucketReplayExp))
		if err := pruneReplay(ids, exp, now); err != nil {
			return err
		}
		if v := ids.Get([]byte(id)); v != nil {
			return fmt.Errorf("assertion %q seen before, refused until %s: %w", id, time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC().Format(time.RFC3339), saml.ErrAssertionReplayed)
		}
		if !expiresAt.After(now) {
			return nil // already expired: crewjam refuses it on its own
		}
		if ids.Stats().KeyN >= maxReplayEntries {
			return ErrReplayCacheFull
		}
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], uint64(expiresAt.UnixNano()))
		if err := ids.Put([]byte(id), ts[:]); err != nil {
			return err
		}
		return exp.Put(append(ts[:], id...), nil)
	})
	if err != nil {
		return fmt.Errorf("consume assertion id: %w", err)
	}
	return nil
}

// Len returns how many assertion IDs are recorded (expired ones not yet
// pruned included).
func (c *ReplayCache) Len() (int, error) {
	n := 0
	err := c.s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(bucketReplayIDs)).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count replay cache: %w", err)
	}
	return n, nil
}

// pruneReplay deletes the entries that expired at or before now.
func pruneReplay(ids, exp *bolt.Bucket, now time.Time) error {
	if err := pruneExpiring(ids, exp, now); err != nil {
		return fmt.Errorf("prune replay cache: %w", err)
	}
	return nil
}
