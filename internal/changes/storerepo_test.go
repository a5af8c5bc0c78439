package changes

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/store"
)

// A request's stored preview keeps who Sentry acts as, whose access it
// changes (separation of duties reads it) and the team roles an org-role
// step touches, across the store.
func TestTheStoredPreviewKeepsWhoItAffects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	repo := NewStoreRepo(st)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	restore := Step{Kind: KindTeamRole, Params: Params{Member: "2", Email: "ana@acme.test", Team: "payments", Role: "admin"}}
	pv := &Preview{ComputedAt: at, ActingAs: "Sentry will act as owner@acme.test (the owner of the configured token, owner).",
		Violations: []Violation{{Step: -1, Code: "caller-unknown", Message: "Not checked", Blocking: false}},
		Deltas:     []AccessDelta{{Member: "2", Email: "ana@acme.test", Project: "payment-api", LosesAccess: true, Lost: []string{"project:read"}, Via: "org role member"}},
		Affected:   []AffectedMember{{Member: "2", Email: "ana@acme.test", How: "org role manager → member"}},
		TeamRoles: []TeamRoleEffect{{Step: 0, Member: "2", Email: "ana@acme.test", Team: "payments", Stored: "", Reset: false,
			EffectiveBefore: "admin", EffectiveAfter: "contributor", Restore: &restore}}}
	r := &Request{Title: "demote ana", Requester: "owner@acme.test", Steps: []Step{{Kind: KindOrgRole, Params: Params{Member: "2", Role: "member"}, State: StepPending}},
		CreatedAt: at, UpdatedAt: at, State: StatePendingApproval, Source: SourceForm, Required: 2, Preview: pv}
	if err := repo.CreateRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Preview, pv) {
		t.Errorf("stored preview =\n%+v\nwant\n%+v", got.Preview, pv)
	}
}
