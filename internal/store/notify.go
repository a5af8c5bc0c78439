package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Notification buckets. The outbox keeps every delivery (the log) keyed by
// sequence; notify_pending indexes the pending ones so Due does not walk the
// log; notify_marks remembers published event keys.
const (
	bucketNotifySubs    = "notify_subs"    // seq → notifySubRecord
	bucketNotifyOutbox  = "notify_outbox"  // seq → notifyDeliveryRecord
	bucketNotifyPending = "notify_pending" // seq → empty
	bucketNotifyMarks   = "notify_marks"   // event key → RFC 3339 time
)

// maxDeliveryLog bounds the kept deliveries; the oldest finished ones are
// dropped first.
const maxDeliveryLog = 2000

// ensureNotifyBuckets creates the notification buckets.
func ensureNotifyBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketNotifySubs, bucketNotifyOutbox, bucketNotifyPending, bucketNotifyMarks} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// notifyRecordVersion is the version of the notification records'
// on-disk form (NotifySubscription, NotifyDelivery); records of the first
// layout were written with the file's schema version, 2.
const notifyRecordVersion = 2

// NotifySubscription is the on-disk form of a webhook subscription. The
// notifier maps its domain types to and from it (notify.StoreRepo).
type NotifySubscription struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	URL     string    `json:"url"`
	Format  string    `json:"format"`
	Events  []string  `json:"events"`
	Secret  string    `json:"secret,omitempty"`
	Enabled bool      `json:"enabled"`
	Created time.Time `json:"created"`
}

// NotifyDelivery is the on-disk form of one webhook delivery; Pending
// reports whether it waits for an attempt (the outbox's index).
type NotifyDelivery struct {
	ID             string     `json:"id"`
	SubscriptionID string     `json:"subscriptionId"`
	Subscription   string     `json:"subscription"`
	Event          string     `json:"event"`
	EventID        string     `json:"eventId"`
	Title          string     `json:"title"`
	Body           []byte     `json:"body"`
	State          string     `json:"state"`
	Attempts       int        `json:"attempts"`
	LastStatus     int        `json:"lastStatus,omitempty"`
	LastError      string     `json:"lastError,omitempty"`
	NextAttempt    time.Time  `json:"nextAttempt"`
	Created        time.Time  `json:"created"`
	Updated        time.Time  `json:"updated"`
	Delivered      *time.Time `json:"delivered,omitempty"`
	Pending        bool       `json:"-"`
}

// notifySubRecord and notifyDeliveryRecord are the versioned records as
// stored.
type notifySubRecord struct {
	V int `json:"v"`
	NotifySubscription
}

type notifyDeliveryRecord struct {
	V int `json:"v"`
	NotifyDelivery
}

func decodeSubscription(k, v []byte) (*NotifySubscription, error) {
	var rec notifySubRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode subscription %d: %w", btoi(k), err)
	}
	if err := checkVersion(fmt.Sprintf("subscription %d", btoi(k)), rec.V, notifyRecordVersion); err != nil {
		return nil, err
	}
	return &rec.NotifySubscription, nil
}

func decodeDelivery(k, v []byte) (*NotifyDelivery, error) {
	var rec notifyDeliveryRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode delivery %d: %w", btoi(k), err)
	}
	if err := checkVersion(fmt.Sprintf("delivery %d", btoi(k)), rec.V, notifyRecordVersion); err != nil {
		return nil, err
	}
	return &rec.NotifyDelivery, nil
}

// NotifyRecords stores webhook subscriptions, the delivery outbox and the
// marks of events published once. Every method is one transaction.
type NotifyRecords struct{ s *Store }

// Notify returns the notification records.
func (s *Store) Notify() *NotifyRecords { return &NotifyRecords{s: s} }

func notifySeq(kind, id string) (uint64, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s %q: %w", kind, id, notFound())
	}
	return n, nil
}

// PutSubscription stores s, assigning its ID when empty.
func (r *NotifyRecords) PutSubscription(ctx context.Context, sub *NotifySubscription) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNotifySubs))
		var seq uint64
		if sub.ID == "" {
			n, err := b.NextSequence()
			if err != nil {
				return err
			}
			seq, sub.ID = n, strconv.FormatUint(n, 10)
		} else {
			n, err := notifySeq("subscription", sub.ID)
			if err != nil {
				return err
			}
			if b.Get(itob(n)) == nil {
				return fmt.Errorf("subscription %s: %w", sub.ID, notFound())
			}
			seq = n
		}
		return putJSON(b, itob(seq), notifySubRecord{V: notifyRecordVersion, NotifySubscription: *sub})
	})
	if err != nil {
		return fmt.Errorf("put subscription: %w", err)
	}
	return nil
}

// Subscription returns one subscription.
func (r *NotifyRecords) Subscription(ctx context.Context, id string) (*NotifySubscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := notifySeq("subscription", id)
	if err != nil {
		return nil, err
	}
	var out *NotifySubscription
	err = r.s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketNotifySubs)).Get(itob(seq))
		if v == nil {
			return fmt.Errorf("subscription %s: %w", id, notFound())
		}
		sub, err := decodeSubscription(itob(seq), v)
		if err != nil {
			return err
		}
		out = sub
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read subscription: %w", err)
	}
	return out, nil
}

// Subscriptions returns every subscription in ID order.
func (r *NotifyRecords) Subscriptions(ctx context.Context) ([]NotifySubscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []NotifySubscription
	err := r.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketNotifySubs)).ForEach(func(k, v []byte) error {
			sub, err := decodeSubscription(k, v)
			if err != nil {
				return err
			}
			out = append(out, *sub)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription removes one subscription.
func (r *NotifyRecords) DeleteSubscription(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	seq, err := notifySeq("subscription", id)
	if err != nil {
		return err
	}
	err = r.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNotifySubs))
		if b.Get(itob(seq)) == nil {
			return fmt.Errorf("subscription %s: %w", id, notFound())
		}
		return b.Delete(itob(seq))
	})
	if err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	return nil
}

// Enqueue stores new deliveries as pending, assigning their IDs.
func (r *NotifyRecords) Enqueue(ctx context.Context, ds []NotifyDelivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		out := tx.Bucket([]byte(bucketNotifyOutbox))
		pending := tx.Bucket([]byte(bucketNotifyPending))
		for i := range ds {
			seq, err := out.NextSequence()
			if err != nil {
				return err
			}
			ds[i].ID = strconv.FormatUint(seq, 10)
			if err := putJSON(out, itob(seq), notifyDeliveryRecord{V: notifyRecordVersion, NotifyDelivery: ds[i]}); err != nil {
				return err
			}
			if ds[i].Pending {
				if err := pending.Put(itob(seq), nil); err != nil {
					return err
				}
			}
		}
		return trimDeliveries(tx)
	})
	if err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	return nil
}

// trimDeliveries drops the oldest finished deliveries beyond maxDeliveryLog.
func trimDeliveries(tx *bolt.Tx) error {
	out := tx.Bucket([]byte(bucketNotifyOutbox))
	pending := tx.Bucket([]byte(bucketNotifyPending))
	if out.Sequence() <= maxDeliveryLog {
		return nil
	}
	n := 0
	c := out.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	excess := n - maxDeliveryLog
	if excess <= 0 {
		return nil
	}
	var doomed [][]byte
	for k, _ := c.First(); k != nil && len(doomed) < excess; k, _ = c.Next() {
		if pending.Get(k) == nil {
			doomed = append(doomed, bytes.Clone(k))
		}
	}
	for _, k := range doomed {
		if err := out.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Due returns pending deliveries due at now, oldest first.
func (r *NotifyRecords) Due(ctx context.Context, now time.Time, limit int) ([]NotifyDelivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ds []NotifyDelivery
	err := r.s.db.View(func(tx *bolt.Tx) error {
		out := tx.Bucket([]byte(bucketNotifyOutbox))
		c := tx.Bucket([]byte(bucketNotifyPending)).Cursor()
		for k, _ := c.First(); k != nil && (limit <= 0 || len(ds) < limit); k, _ = c.Next() {
			v := out.Get(k)
			if v == nil {
				continue
			}
			d, err := decodeDelivery(k, v)
			if err != nil {
				return err
			}
			if !d.NextAttempt.After(now) {
				d.Pending = true
				ds = append(ds, *d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	return ds, nil
}

// UpdateDelivery replaces a delivery and keeps the pending index in step.
func (r *NotifyRecords) UpdateDelivery(ctx context.Context, d NotifyDelivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	seq, err := notifySeq("delivery", d.ID)
	if err != nil {
		return err
	}
	err = r.s.db.Update(func(tx *bolt.Tx) error {
		out := tx.Bucket([]byte(bucketNotifyOutbox))
		if out.Get(itob(seq)) == nil {
			return fmt.Errorf("delivery %s: %w", d.ID, notFound())
		}
		if err := putJSON(out, itob(seq), notifyDeliveryRecord{V: notifyRecordVersion, NotifyDelivery: d}); err != nil {
			return err
		}
		pending := tx.Bucket([]byte(bucketNotifyPending))
		if d.Pending {
			return pending.Put(itob(seq), nil)
		}
		return pending.Delete(itob(seq))
	})
	if err != nil {
		return fmt.Errorf("update delivery: %w", err)
	}
	return nil
}

// Deliveries returns up to limit deliveries, newest first (limit < 1: all).
func (r *NotifyRecords) Deliveries(ctx context.Context, limit int) ([]NotifyDelivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ds []NotifyDelivery
	err := r.s.db.View(func(tx *bolt.Tx) error {
		pending := tx.Bucket([]byte(bucketNotifyPending))
		c := tx.Bucket([]byte(bucketNotifyOutbox)).Cursor()
		for k, v := c.Last(); k != nil && (limit < 1 || len(ds) < limit); k, v = c.Prev() {
			d, err := decodeDelivery(k, v)
			if err != nil {
				return err
			}
			d.Pending = pending.Get(k) != nil
			ds = append(ds, *d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	return ds, nil
}

// MarkOnce records key and reports whether it was not recorded before.
func (r *NotifyRecords) MarkOnce(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if key == "" {
		return false, fmt.Errorf("mark: empty key: %w", invalid())
	}
	first := false
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNotifyMarks))
		if b.Get([]byte(key)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(key), []byte(at.UTC().Format(time.RFC3339)))
	})
	if err != nil {
		return false, fmt.Errorf("mark %q: %w", key, err)
	}
	return first, nil
}
