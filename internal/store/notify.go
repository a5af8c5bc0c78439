package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/notify"
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

// notifySubRecord is the on-disk form of a notify.Subscription.
type notifySubRecord struct {
	V int `json:"v"`
	notify.Subscription
}

// notifyDeliveryRecord is the on-disk form of a notify.Delivery.
type notifyDeliveryRecord struct {
	V int `json:"v"`
	notify.Delivery
}

// NotifyRepo implements notify.Repo on the store.
type NotifyRepo struct{ s *Store }

// Notify returns the notification repository.
func (s *Store) Notify() *NotifyRepo { return &NotifyRepo{s: s} }

var _ notify.Repo = (*NotifyRepo)(nil)

func notifySeq(kind, id string) (uint64, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s %q: %w", kind, id, notFound())
	}
	return n, nil
}

// PutSubscription stores s, assigning its ID when empty.
func (r *NotifyRepo) PutSubscription(ctx context.Context, sub *notify.Subscription) error {
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
		return putJSON(b, itob(seq), notifySubRecord{V: schemaVersion, Subscription: *sub})
	})
	if err != nil {
		return fmt.Errorf("put subscription: %w", err)
	}
	return nil
}

// Subscription returns one subscription.
func (r *NotifyRepo) Subscription(ctx context.Context, id string) (*notify.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seq, err := notifySeq("subscription", id)
	if err != nil {
		return nil, err
	}
	var out *notify.Subscription
	err = r.s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketNotifySubs)).Get(itob(seq))
		if v == nil {
			return fmt.Errorf("subscription %s: %w", id, notFound())
		}
		var rec notifySubRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode subscription %s: %w", id, err)
		}
		out = &rec.Subscription
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read subscription: %w", err)
	}
	return out, nil
}

// Subscriptions returns every subscription in ID order.
func (r *NotifyRepo) Subscriptions(ctx context.Context) ([]notify.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []notify.Subscription
	err := r.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketNotifySubs)).ForEach(func(k, v []byte) error {
			var rec notifySubRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode subscription %d: %w", btoi(k), err)
			}
			out = append(out, rec.Subscription)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription removes one subscription.
func (r *NotifyRepo) DeleteSubscription(ctx context.Context, id string) error {
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
func (r *NotifyRepo) Enqueue(ctx context.Context, ds []notify.Delivery) error {
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
			if err := putJSON(out, itob(seq), notifyDeliveryRecord{V: schemaVersion, Delivery: ds[i]}); err != nil {
				return err
			}
			if ds[i].State == notify.DeliveryPending {
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
func (r *NotifyRepo) Due(ctx context.Context, now time.Time, limit int) ([]notify.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ds []notify.Delivery
	err := r.s.db.View(func(tx *bolt.Tx) error {
		out := tx.Bucket([]byte(bucketNotifyOutbox))
		c := tx.Bucket([]byte(bucketNotifyPending)).Cursor()
		for k, _ := c.First(); k != nil && (limit <= 0 || len(ds) < limit); k, _ = c.Next() {
			v := out.Get(k)
			if v == nil {
				continue
			}
			var rec notifyDeliveryRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode delivery %d: %w", btoi(k), err)
			}
			if !rec.NextAttempt.After(now) {
				ds = append(ds, rec.Delivery)
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
func (r *NotifyRepo) UpdateDelivery(ctx context.Context, d notify.Delivery) error {
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
		if err := putJSON(out, itob(seq), notifyDeliveryRecord{V: schemaVersion, Delivery: d}); err != nil {
			return err
		}
		pending := tx.Bucket([]byte(bucketNotifyPending))
		if d.State == notify.DeliveryPending {
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
func (r *NotifyRepo) Deliveries(ctx context.Context, limit int) ([]notify.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ds []notify.Delivery
	err := r.s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketNotifyOutbox)).Cursor()
		for k, v := c.Last(); k != nil && (limit < 1 || len(ds) < limit); k, v = c.Prev() {
			var rec notifyDeliveryRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode delivery %d: %w", btoi(k), err)
			}
			ds = append(ds, rec.Delivery)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	return ds, nil
}

// MarkOnce records key and reports whether it was not recorded before.
func (r *NotifyRepo) MarkOnce(ctx context.Context, key string, at time.Time) (bool, error) {
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
