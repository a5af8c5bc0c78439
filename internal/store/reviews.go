package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/review"
)

// Access-review buckets. Campaigns are keyed by their big-endian sequence;
// items by campaign sequence ‖ item index (both big-endian), so one campaign's
// items are one prefix scan in item order.
const (
	bucketReviewCampaigns = "review_campaigns" // seq → reviewCampaignRecord
	bucketReviewItems     = "review_items"     // seq ‖ index → reviewItemRecord
	bucketReviewEvidence  = "review_evidence"  // seq → evidence zip
)

// ensureReviewBuckets creates the access-review buckets.
func ensureReviewBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketReviewCampaigns, bucketReviewItems, bucketReviewEvidence} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// reviewCampaignRecord is the on-disk form of a review.Campaign.
type reviewCampaignRecord struct {
	V int `json:"v"`
	review.Campaign
}

// reviewItemRecord is the on-disk form of a review.Item.
type reviewItemRecord struct {
	V int `json:"v"`
	review.Item
}

// ReviewRepo implements review.Repo on the store.
type ReviewRepo struct{ s *Store }

// Reviews returns the access-review repository.
func (s *Store) Reviews() *ReviewRepo { return &ReviewRepo{s: s} }

var _ review.Repo = (*ReviewRepo)(nil)

func reviewSeq(id string) (uint64, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("campaign %q: %w", id, notFound())
	}
	return n, nil
}

func itemKey(seq uint64, index int) []byte {
	return append(itob(seq), itob(uint64(index))...)
}

// CreateCampaign stores c and its items, assigning c.ID.
func (r *ReviewRepo) CreateCampaign(ctx context.Context, c *review.Campaign, items []review.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		cb := tx.Bucket([]byte(bucketReviewCampaigns))
		seq, err := cb.NextSequence()
		if err != nil {
			return err
		}
		c.ID = strconv.FormatUint(seq, 10)
		if err := putJSON(cb, itob(seq), reviewCampaignRecord{V: schemaVersion, Campaign: *c}); err != nil {
			return err
		}
		ib := tx.Bucket([]byte(bucketReviewItems))
		for i, it := range items {
			if err := putJSON(ib, itemKey(seq, i), reviewItemRecord{V: schemaVersion, Item: it}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create campaign: %w", err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %x: %w", k, err)
	}
	return b.Put(k, data)
}

func readCampaign(tx *bolt.Tx, seq uint64) (*review.Campaign, error) {
	v := tx.Bucket([]byte(bucketReviewCampaigns)).Get(itob(seq))
	if v == nil {
		return nil, fmt.Errorf("campaign %d: %w", seq, notFound())
	}
	var rec reviewCampaignRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode campaign %d: %w", seq, err)
	}
	return &rec.Campaign, nil
}

func readItems(tx *bolt.Tx, seq uint64) ([]review.Item, [][]byte, error) {
	var (
		items []review.Item
		raws  [][]byte
	)
	prefix := itob(seq)
	c := tx.Bucket([]byte(bucketReviewItems)).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var rec reviewItemRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, nil, fmt.Errorf("decode item %x: %w", k, err)
		}
		items = append(items, rec.Item)
		raws = append(raws, bytes.Clone(v))
	}
	return items, raws, nil
}

// Campaign returns the campaign with id.
func (r *ReviewRepo) Campaign(ctx context.Context, id string) (*review.Campaign, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var c *review.Campaign
	err = r.s.db.View(func(tx *bolt.Tx) error {
		c, err = readCampaign(tx, seq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read campaign: %w", err)
	}
	return c, nil
}

// Campaigns returns every campaign, newest first.
func (r *ReviewRepo) Campaigns(ctx context.Context) ([]review.Campaign, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []review.Campaign
	err := r.s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketReviewCampaigns)).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var rec reviewCampaignRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode campaign %d: %w", btoi(k), err)
			}
			out = append(out, rec.Campaign)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

// Items returns the campaign's items in order.
func (r *ReviewRepo) Items(ctx context.Context, id string) ([]review.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var items []review.Item
	err = r.s.db.View(func(tx *bolt.Tx) error {
		if _, err := readCampaign(tx, seq); err != nil {
			return err
		}
		items, _, err = readItems(tx, seq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read campaign items: %w", err)
	}
	return items, nil
}

// UpdateCampaign runs fn on the campaign and its items in one transaction
// and writes back the campaign and the items whose encoding changed.
func (r *ReviewRepo) UpdateCampaign(ctx context.Context, id string, fn func(*review.Campaign, []review.Item) error) (*review.Campaign, []review.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, nil, err
	}
	var (
		c     *review.Campaign
		items []review.Item
		fnErr error
	)
	err = r.s.db.Update(func(tx *bolt.Tx) error {
		if c, err = readCampaign(tx, seq); err != nil {
			return err
		}
		var raws [][]byte
		if items, raws, err = readItems(tx, seq); err != nil {
			return err
		}
		if fnErr = fn(c, items); fnErr != nil {
			return fnErr
		}
		if err := putJSON(tx.Bucket([]byte(bucketReviewCampaigns)), itob(seq), reviewCampaignRecord{V: schemaVersion, Campaign: *c}); err != nil {
			return err
		}
		ib := tx.Bucket([]byte(bucketReviewItems))
		for i, it := range items {
			v, err := json.Marshal(reviewItemRecord{V: schemaVersion, Item: it})
			if err != nil {
				return fmt.Errorf("encode item %d: %w", i, err)
			}
			if i < len(raws) && bytes.Equal(v, raws[i]) {
				continue
			}
			if err := ib.Put(itemKey(seq, i), v); err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil && errors.Is(err, fnErr) {
		return nil, nil, fnErr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("update campaign: %w", err)
	}
	return c, items, nil
}

// PutEvidence stores the campaign's evidence package.
func (r *ReviewRepo) PutEvidence(ctx context.Context, id string, zip []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return err
	}
	err = r.s.db.Update(func(tx *bolt.Tx) error {
		if _, err := readCampaign(tx, seq); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketReviewEvidence)).Put(itob(seq), zip)
	})
	if err != nil {
		return fmt.Errorf("store evidence: %w", err)
	}
	return nil
}

// Evidence returns the stored evidence package.
func (r *ReviewRepo) Evidence(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = r.s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketReviewEvidence)).Get(itob(seq))
		if v == nil {
			return fmt.Errorf("evidence of campaign %d: %w", seq, notFound())
		}
		out = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	return out, nil
}
