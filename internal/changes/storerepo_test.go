package changes

import (
	"reflect"
	"testing"

	"github.com/sentry-access/sentry-access/internal/testing/fill"
)

// Every field of a request, a grant and a trail record reaches the store's
// record and comes back: a field added here without a place on disk fails
// this test instead of vanishing at the next restart.
func TestTheStoreRecordsHoldEveryFieldOfARequestAGrantAndATrailRecord(t *testing.T) {
	t.Parallel()
	req := fill.In(&Request{})
	if got := fromRequestRecord(new(requestRecord(req))); !reflect.DeepEqual(&got, req) {
		t.Errorf("request after its record:\n got %+v\nwant %+v", got, *req)
	}
	g := fill.In(&Grant{})
	if got := fromGrantRecord(new(grantRecord(g))); !reflect.DeepEqual(&got, g) {
		t.Errorf("grant after its record:\n got %+v\nwant %+v", got, *g)
	}
	tr := fill.In(&TrailRecord{})
	if got := fromTrailEntry(trailEntry(*tr)); !reflect.DeepEqual(&got, tr) {
		t.Errorf("trail record after its entry:\n got %+v\nwant %+v", got, *tr)
	}
}

// The hash covers the stored form: a trail record and its entry have the
// same canonical bytes.
func TestATrailRecordIsHashedAsItIsStored(t *testing.T) {
	t.Parallel()
	r := *fill.In(&TrailRecord{})
	if got, want := string(r.CanonicalBytes()), string(trailEntry(r).CanonicalBytes()); got != want {
		t.Errorf("canonical bytes differ:\n%s\n%s", got, want)
	}
}
