package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
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

// reviewRecordVersion is the version of the review records' on-disk form
// (ReviewCampaign, ReviewItem); records of the first layout were written
// with the file's schema version, 2.
const reviewRecordVersion = 2

// ReviewCampaign is the on-disk form of an access-review campaign. The
// review service maps its domain types to and from it (review.StoreRepo).
type ReviewCampaign struct {
	ID              string              `json:"id"`
	Name            string              `json:"name"`
	Scope           string              `json:"scope"`
	Org             string              `json:"org"`
	SnapshotID      uint64              `json:"snapshotId"`
	Due             time.Time           `json:"due"`
	CreatedBy       string              `json:"createdBy"`
	CreatedAt       time.Time           `json:"createdAt"`
	State           string              `json:"state"`
	TeamAdmins      map[string][]string `json:"teamAdmins,omitempty"`
	ClosedBy        string              `json:"closedBy,omitempty"`
	ClosedAt        *time.Time          `json:"closedAt,omitempty"`
	ChangeRequestID string              `json:"changeRequestId,omitempty"`
	ManualFollowUp  []string            `json:"manualFollowUp,omitempty"`
	// OutsideChanges are the changes made outside sentry-access the close
	// recorded (optional: absent from records written before).
	OutsideChanges []ReviewOutsideChange `json:"outsideChanges,omitempty"`
}

// ReviewOutsideChange is the on-disk form of a change made outside
// sentry-access as a closed campaign recorded it.
type ReviewOutsideChange struct {
	ID         string    `json:"id"`
	Snapshot   uint64    `json:"snapshot"`
	DetectedAt time.Time `json:"detectedAt"`
	Change     string    `json:"change"`
	Member     string    `json:"member,omitempty"`
	Verdict    string    `json:"verdict"`
	Audit      string    `json:"audit"`
	State      string    `json:"state"`
	Answer     string    `json:"answer,omitempty"`
}

// ReviewItem is the on-disk form of one item to certify or revoke.
type ReviewItem struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	MemberID    string            `json:"memberId,omitempty"`
	MemberEmail string            `json:"memberEmail,omitempty"`
	MemberName  string            `json:"memberName,omitempty"`
	OrgRole     string            `json:"orgRole,omitempty"`
	Team        string            `json:"team,omitempty"`
	TeamRole    string            `json:"teamRole,omitempty"`
	Integration string            `json:"integration,omitempty"`
	Scopes      []string          `json:"scopes,omitempty"`
	Context     ReviewItemContext `json:"context"`
	Decision    string            `json:"decision,omitempty"`
	Comment     string            `json:"comment,omitempty"`
	Reviewer    string            `json:"reviewer,omitempty"`
	DecidedAt   *time.Time        `json:"decidedAt,omitempty"`
}

// ReviewItemContext is the on-disk form of what a reviewer sees beside an
// item.
type ReviewItemContext struct {
	MemberState     string     `json:"memberState,omitempty"`
	LastLogin       *time.Time `json:"lastLogin,omitempty"`
	LastActive      *time.Time `json:"lastActive,omitempty"`
	Projects        int        `json:"projects"`
	Global          bool       `json:"global,omitempty"`
	SSOLinked       bool       `json:"ssoLinked,omitempty"`
	SSOInvalid      bool       `json:"ssoInvalid,omitempty"`
	SCIMProvisioned bool       `json:"scimProvisioned,omitempty"`
	Has2FA          bool       `json:"has2fa,omitempty"`
	Risks           []string   `json:"risks,omitempty"`
}

// reviewCampaignRecord and reviewItemRecord are the versioned records as
// stored.
type reviewCampaignRecord struct {
	V int `json:"v"`
	ReviewCampaign
}

type reviewItemRecord struct {
	V int `json:"v"`
	ReviewItem
}

// ReviewRecords stores access-review campaigns, their items and evidence.
// Every method is one transaction.
type ReviewRecords struct{ s *Store }

// Reviews returns the access-review records.
func (s *Store) Reviews() *ReviewRecords { return &ReviewRecords{s: s} }

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
func (r *ReviewRecords) CreateCampaign(ctx context.Context, c *ReviewCampaign, items []ReviewItem) error {
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
		if err := putJSON(cb, itob(seq), reviewCampaignRecord{V: reviewRecordVersion, ReviewCampaign: *c}); err != nil {
			return err
		}
		ib := tx.Bucket([]byte(bucketReviewItems))
		for i, it := range items {
			if err := putJSON(ib, itemKey(seq, i), reviewItemRecord{V: reviewRecordVersion, ReviewItem: it}); err != nil {
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

func readCampaign(tx *bolt.Tx, seq uint64) (*ReviewCampaign, error) {
	v := tx.Bucket([]byte(bucketReviewCampaigns)).Get(itob(seq))
	if v == nil {
		return nil, fmt.Errorf("campaign %d: %w", seq, notFound())
	}
	var rec reviewCampaignRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode campaign %d: %w", seq, err)
	}
	if err := checkVersion(fmt.Sprintf("campaign %d", seq), rec.V, reviewRecordVersion); err != nil {
		return nil, err
	}
	return &rec.ReviewCampaign, nil
}

func readItems(tx *bolt.Tx, seq uint64) ([]ReviewItem, [][]byte, error) {
	var (
		items []ReviewItem
		raws  [][]byte
	)
	prefix := itob(seq)
	c := tx.Bucket([]byte(bucketReviewItems)).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var rec reviewItemRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, nil, fmt.Errorf("decode item %x: %w", k, err)
		}
		if err := checkVersion(fmt.Sprintf("item %x", k), rec.V, reviewRecordVersion); err != nil {
			return nil, nil, err
		}
		items = append(items, rec.ReviewItem)
		raws = append(raws, bytes.Clone(v))
	}
	return items, raws, nil
}

// Campaign returns the campaign with id.
func (r *ReviewRecords) Campaign(ctx context.Context, id string) (*ReviewCampaign, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var c *ReviewCampaign
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
func (r *ReviewRecords) Campaigns(ctx context.Context) ([]ReviewCampaign, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []ReviewCampaign
	err := r.s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketReviewCampaigns)).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var rec reviewCampaignRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode campaign %d: %w", btoi(k), err)
			}
			if err := checkVersion(fmt.Sprintf("campaign %d", btoi(k)), rec.V, reviewRecordVersion); err != nil {
				return err
			}
			out = append(out, rec.ReviewCampaign)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

// Items returns the campaign's items in order.
func (r *ReviewRecords) Items(ctx context.Context, id string) ([]ReviewItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, err
	}
	var items []ReviewItem
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
func (r *ReviewRecords) UpdateCampaign(ctx context.Context, id string, fn func(*ReviewCampaign, []ReviewItem) error) (*ReviewCampaign, []ReviewItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	seq, err := reviewSeq(id)
	if err != nil {
		return nil, nil, err
	}
	var (
		c     *ReviewCampaign
		items []ReviewItem
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
		if err := putJSON(tx.Bucket([]byte(bucketReviewCampaigns)), itob(seq), reviewCampaignRecord{V: reviewRecordVersion, ReviewCampaign: *c}); err != nil {
			return err
		}
		ib := tx.Bucket([]byte(bucketReviewItems))
		for i, it := range items {
			v, err := json.Marshal(reviewItemRecord{V: reviewRecordVersion, ReviewItem: it})
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
func (r *ReviewRecords) PutEvidence(ctx context.Context, id string, zip []byte) error {
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
func (r *ReviewRecords) Evidence(ctx context.Context, id string) ([]byte, error) {
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
