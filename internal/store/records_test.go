package store

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/testing/fill"
)

var update = flag.Bool("update", false, "rewrite testdata/snapshot-body.keys")

// The inventory's record holds every field of what it stores from Sentry,
// except the token value (never stored) and, of an access request, more of
// the member and team than who asks to join which team.
func TestTheInventoryRecordHoldsEverythingItStores(t *testing.T) {
	t.Parallel()
	inv := *fill.In(&Inventory{})
	want := inv
	want.OrgAuthTokens = slices.Clone(inv.OrgAuthTokens)
	want.OrgAuthTokens[0].Token = ""
	ar := inv.AccessRequests[0]
	want.AccessRequests = []sentry.AccessRequest{{ID: ar.ID,
		Member:    sentry.Member{ID: ar.Member.ID, Email: ar.Member.Email, Name: ar.Member.Name},
		Team:      sentry.Team{ID: ar.Team.ID, Slug: ar.Team.Slug, Name: ar.Team.Name},
		Requester: &sentry.User{ID: ar.Requester.ID, Email: ar.Requester.Email, Name: ar.Requester.Name}}}
	if got := newInventoryRecord(inv).inventory(); !reflect.DeepEqual(got, want) {
		t.Errorf("inventory after its record:\n got %+v\nwant %+v", got, want)
	}
}

// A snapshot body is the JSON of the engine's access.Snapshot. Its keys
// are pinned here: a field added to, renamed in or removed from the
// snapshot changes what is on disk, and a snapshot stored before the change
// reads the new field as its zero value. When that is right, rewrite the
// list (go test ./internal/store -run TestTheSnapshotBodyFormat -update);
// when it is not, bump the snapshot record's encoding and migrate.
func TestTheSnapshotBodyFormatIsPinned(t *testing.T) {
	t.Parallel()
	raw, err := json.Marshal(fill.In(&access.Snapshot{}))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var keys []string
	collectKeys(v, "", &keys)
	slices.Sort(keys)
	got := strings.Join(keys, "\n") + "\n"
	const golden = "testdata/snapshot-body.keys"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the snapshot body's keys changed (%s); see the test's doc comment:\n%s", golden, keyDiff(string(want), got))
	}
}

func collectKeys(v any, path string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			*out = append(*out, p)
			collectKeys(e, p, out)
		}
	case []any:
		for _, e := range x {
			collectKeys(e, path+"[]", out)
		}
	}
}

func keyDiff(want, got string) string {
	w, g := strings.Fields(want), strings.Fields(got)
	var b strings.Builder
	for _, k := range g {
		if !slices.Contains(w, k) {
			b.WriteString("+ " + k + "\n")
		}
	}
	for _, k := range w {
		if !slices.Contains(g, k) {
			b.WriteString("- " + k + "\n")
		}
	}
	return b.String()
}
