package review

import (
	"reflect"
	"testing"

	"github.com/sentry-access/sentry-access/internal/testing/fill"
)

// Every field of a campaign and an item reaches the store's record and
// comes back.
func TestTheStoreRecordsHoldEveryFieldOfACampaignAndAnItem(t *testing.T) {
	t.Parallel()
	c := fill.In(&Campaign{})
	if got := fromCampaignRecord(new(campaignRecord(c))); !reflect.DeepEqual(&got, c) {
		t.Errorf("campaign after its record:\n got %+v\nwant %+v", got, *c)
	}
	items := []Item{*fill.In(&Item{})}
	if got := fromItemRecords(itemRecords(items)); !reflect.DeepEqual(got, items) {
		t.Errorf("item after its record:\n got %+v\nwant %+v", got, items)
	}
}
