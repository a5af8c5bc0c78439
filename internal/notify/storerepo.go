package notify

import (
	"context"
	"slices"
	"time"

	"github.com/sentry-access/sentry-access/internal/store"
)

// StoreRepo is the Repo over the bbolt store: subscriptions and deliveries
// as the store's own records (store.NotifySubscription,
// store.NotifyDelivery), mapped here, so a change to the types of this
// package cannot change the file format.
type StoreRepo struct {
	records *store.NotifyRecords
}

// NewStoreRepo returns the Repo over st.
func NewStoreRepo(st *store.Store) *StoreRepo { return &StoreRepo{records: st.Notify()} }

var _ Repo = (*StoreRepo)(nil)

// PutSubscription implements Repo.
func (r *StoreRepo) PutSubscription(ctx context.Context, s *Subscription) error {
	rec := subscriptionRecord(s)
	if err := r.records.PutSubscription(ctx, &rec); err != nil {
		return err
	}
	s.ID = rec.ID
	return nil
}

// Subscription implements Repo.
func (r *StoreRepo) Subscription(ctx context.Context, id string) (*Subscription, error) {
	rec, err := r.records.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	s := fromSubscriptionRecord(rec)
	return &s, nil
}

// Subscriptions implements Repo.
func (r *StoreRepo) Subscriptions(ctx context.Context) ([]Subscription, error) {
	recs, err := r.records.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var out []Subscription
	for i := range recs {
		out = append(out, fromSubscriptionRecord(&recs[i]))
	}
	return out, nil
}

// DeleteSubscription implements Repo.
func (r *StoreRepo) DeleteSubscription(ctx context.Context, id string) error {
	return r.records.DeleteSubscription(ctx, id)
}

// Enqueue implements Repo.
func (r *StoreRepo) Enqueue(ctx context.Context, ds []Delivery) error {
	recs := make([]store.NotifyDelivery, len(ds))
	for i := range ds {
		recs[i] = deliveryRecord(ds[i])
	}
	if err := r.records.Enqueue(ctx, recs); err != nil {
		return err
	}
	for i := range ds {
		ds[i].ID = recs[i].ID
	}
	return nil
}

// Due implements Repo.
func (r *StoreRepo) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	return deliveries(r.records.Due(ctx, now, limit))
}

// UpdateDelivery implements Repo.
func (r *StoreRepo) UpdateDelivery(ctx context.Context, d Delivery) error {
	return r.records.UpdateDelivery(ctx, deliveryRecord(d))
}

// Deliveries implements Repo.
func (r *StoreRepo) Deliveries(ctx context.Context, limit int) ([]Delivery, error) {
	return deliveries(r.records.Deliveries(ctx, limit))
}

// MarkOnce implements Repo.
func (r *StoreRepo) MarkOnce(ctx context.Context, key string, at time.Time) (bool, error) {
	return r.records.MarkOnce(ctx, key, at)
}

func subscriptionRecord(s *Subscription) store.NotifySubscription {
	rec := store.NotifySubscription{ID: s.ID, Name: s.Name, URL: s.URL, Format: string(s.Format), Secret: s.Secret, Enabled: s.Enabled, Created: s.Created}
	for _, e := range s.Events {
		rec.Events = append(rec.Events, string(e))
	}
	return rec
}

func fromSubscriptionRecord(rec *store.NotifySubscription) Subscription {
	s := Subscription{ID: rec.ID, Name: rec.Name, URL: rec.URL, Format: Format(rec.Format), Secret: rec.Secret, Enabled: rec.Enabled, Created: rec.Created}
	for _, e := range rec.Events {
		s.Events = append(s.Events, EventKind(e))
	}
	return s
}

func deliveryRecord(d Delivery) store.NotifyDelivery {
	return store.NotifyDelivery{ID: d.ID, SubscriptionID: d.SubscriptionID, Subscription: d.Subscription, Event: string(d.Event),
		EventID: d.EventID, Title: d.Title, Body: slices.Clone(d.Body), State: string(d.State), Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: d.LastError, NextAttempt: d.NextAttempt, Created: d.Created, Updated: d.Updated,
		Delivered: d.Delivered, Pending: d.State == DeliveryPending}
}

func deliveries(recs []store.NotifyDelivery, err error) ([]Delivery, error) {
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for _, d := range recs {
		out = append(out, Delivery{ID: d.ID, SubscriptionID: d.SubscriptionID, Subscription: d.Subscription, Event: EventKind(d.Event),
			EventID: d.EventID, Title: d.Title, Body: d.Body, State: DeliveryState(d.State), Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, NextAttempt: d.NextAttempt, Created: d.Created, Updated: d.Updated,
			Delivered: d.Delivered})
	}
	return out, nil
}
