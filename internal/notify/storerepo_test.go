package notify

import (
	"reflect"
	"testing"

	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/testing/fill"
)

// Every field of a subscription and a delivery reaches the store's record
// and comes back.
func TestTheStoreRecordsHoldEveryFieldOfASubscriptionAndADelivery(t *testing.T) {
	t.Parallel()
	s := fill.In(&Subscription{})
	if got := fromSubscriptionRecord(new(subscriptionRecord(s))); !reflect.DeepEqual(&got, s) {
		t.Errorf("subscription after its record:\n got %+v\nwant %+v", got, *s)
	}
	d := *fill.In(&Delivery{})
	got, err := deliveries([]store.NotifyDelivery{deliveryRecord(d)}, nil)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], d) {
		t.Errorf("delivery after its record:\n got %+v\nwant %+v", got, d)
	}
}
