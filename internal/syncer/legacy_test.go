package syncer_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// syncSnapshot runs a full sync of fx against a simulator with simOpts and
// returns the stored snapshot.
func syncSnapshot(t *testing.T, fx *sentrysim.Fixture, simOpts sentrysim.Options, token string) *access.Snapshot {
	t.Helper()
	e := newSimEnv(t, fx, simOpts, token, syncer.Options{Concurrency: 4})
	if _, err := e.syncer.Full(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, snap, err := e.st.CurrentSnapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestLegacyServerYieldsTheSameEffectiveAccess is issue 10's "done when":
// a sync of the simulator's legacy mode (older self-hosted Sentry: the
// projects list paginated although all_projects=1 was sent, a bare-list
// audit log, an organization detail without orgRoleList, teamRoleList,
// eventsMemberAdmin, alertsMemberWrite, … and no rate-limit headers)
// yields the same effective access as the modern mode for the same org.
func TestLegacyServerYieldsTheSameEffectiveAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fx   func() *sentrysim.Fixture
	}{
		{"demo org", sentrysim.DemoFixture},
		// More than 100 projects: the legacy projects list takes 3 pages.
		{"generated org", func() *sentrysim.Fixture {
			return sentrysim.Generate(sentrysim.GenOptions{Members: 300, Teams: 40, Projects: 250, Seed: 7})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			modern := syncSnapshot(t, tt.fx(), sentrysim.Options{RateLimit: sentrysim.RateLimit{PerWindow: 10000, Headers: true}}, sentrysim.DemoOwnerToken)
			legacy := syncSnapshot(t, tt.fx(), sentrysim.Options{Legacy: true}, sentrysim.DemoOwnerToken)
			if len(legacy.Projects) != len(modern.Projects) || len(legacy.Members) != len(modern.Members) {
				t.Fatalf("legacy: %d projects, %d members; modern: %d, %d",
					len(legacy.Projects), len(legacy.Members), len(modern.Projects), len(modern.Members))
			}
			em, el := access.New(modern), access.New(legacy)
			for _, m := range em.Members() {
				want, err := em.Member(m.ID)
				if err != nil {
					t.Fatal(err)
				}
				got, err := el.Member(m.ID)
				if err != nil {
					t.Fatalf("legacy: %v", err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("member %s:\n legacy %+v\n modern %+v", m.Email, got, want)
				}
			}
			for _, slug := range em.Projects() {
				want, _ := em.Project(slug)
				got, err := el.Project(slug)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("project %s: legacy %+v, %v\n modern %+v", slug, got, err, want)
				}
			}
			if d := access.DiffAccess(modern, legacy); len(d.Members) != 0 || len(d.Projects) != 0 {
				t.Errorf("access differs: %+v", d)
			}

			// And the legacy snapshot says what it assumed.
			for _, f := range []string{"eventsMemberAdmin", "alertsMemberWrite", "orgRoleList", "teamRoleList", "allowMemberInvite", "allowMemberProjectCreation"} {
				if fs, _ := legacy.Server.Field(f); fs.Provenance != access.Assumed {
					t.Errorf("legacy %s: %+v, want assumed", f, fs)
				}
				if fs, _ := modern.Server.Field(f); fs.Provenance != access.Detected {
					t.Errorf("modern %s: %+v, want detected", f, fs)
				}
			}
			if legacy.Server.AuditLog != access.AuditLogBareList || modern.Server.AuditLog != access.AuditLogRows {
				t.Errorf("audit log: legacy %q, modern %q", legacy.Server.AuditLog, modern.Server.AuditLog)
			}
			if legacy.Server.RateLimitHeaders || !modern.Server.RateLimitHeaders {
				t.Errorf("rate-limit headers: legacy %v, modern %v", legacy.Server.RateLimitHeaders, modern.Server.RateLimitHeaders)
			}
			if legacy.Server.Hosting != access.HostingSelfHosted {
				t.Errorf("legacy hosting = %q", legacy.Server.Hosting)
			}
			if !reflect.DeepEqual(legacy.Caller, modern.Caller) || legacy.Caller.Kind != access.CallerUser || legacy.Caller.OrgRole != "owner" {
				t.Errorf("caller: legacy %+v, modern %+v", legacy.Caller, modern.Caller)
			}
		})
	}
}

// TestLegacyIncrementalSyncReadsTheSameAsAFullSync: an incremental sync
// against a legacy server (bare-list audit log, organization detail without
// requiresSso or hasAuthProvider) derives the same snapshot as the full one,
// so with no news it saves nothing.
func TestLegacyIncrementalSyncReadsTheSameAsAFullSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newSimEnv(t, sentrysim.DemoFixture(), sentrysim.Options{Legacy: true}, sentrysim.DemoOwnerToken, syncer.Options{})
	full, err := e.syncer.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.syncer.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fallback != "" || !res.Unchanged || res.Snapshot.ID != full.Snapshot.ID {
		t.Errorf("got fallback %q, unchanged %v, snapshot %d; want unchanged at %d", res.Fallback, res.Unchanged, res.Snapshot.ID, full.Snapshot.ID)
	}
	_, snap, _ := e.st.CurrentSnapshot(ctx)
	if fs, _ := snap.Server.Field("requiresSso"); fs.Provenance != access.Detected || fs.Note == "" || !snap.Org.RequiresSSO {
		t.Errorf("requiresSso = %+v (org %v), want detected from the auth provider", fs, snap.Org.RequiresSSO)
	}
}
