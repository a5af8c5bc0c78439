package faulttest

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// TestASyncUnderFaultsIsCompleteOrVisiblyFailed runs a full sync through
// the dashboard (real client, syncer, store, read model, pages) after a
// fault-free one, with one kind of Sentry fault injected. Either the
// client's retries absorb the fault and the sync saves a snapshot equal to
// the fault-free one, or the sync fails: no snapshot is saved from what it
// read, the previous one stays current, the store's last run says failed
// with the stage and a readable reason, and every page shows that in the
// sync banner while still serving the last good snapshot.
func TestASyncUnderFaultsIsCompleteOrVisiblyFailed(t *testing.T) {
	t.Parallel()
	type outcome struct {
		complete bool
		stage    string // the failed stage
		reason   string // in the recorded error and the banner
	}
	complete := outcome{complete: true}
	tests := []struct {
		name    string
		timeout time.Duration // the client's per-request timeout
		inject  func(*sentrysim.Server)
		want    outcome
	}{
		{"a 429 storm with rate-limit headers is waited out", 0, func(s *sentrysim.Server) {
			s.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: 10 * time.Second, Headers: true})
		}, complete},
		{"a 429 storm without headers shorter than the backoff is retried through", 0, func(s *sentrysim.Server) {
			s.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: time.Second})
		}, complete},
		{"a 429 storm without headers that outlasts the retries fails the sync", 0, func(s *sentrysim.Server) {
			s.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: time.Hour})
		}, outcome{stage: syncer.StageTeamMembers, reason: "429 (rate limit)"}},
		{"a 5xx burst the retries absorb", 0, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{FailNth: []int{6, 7, 8}})
		}, complete},
		{"a 5xx burst that outlasts the retries fails the sync", 0, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{FailNth: []int{6, 7, 8, 9}})
		}, outcome{stage: syncer.StageTeamMembers, reason: "500 Internal Server Error"}},
		{"occasional timeouts are retried", 150 * time.Millisecond, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{TimeoutRate: 0.2, Seed: 3})
		}, complete},
		{"a Sentry that never answers fails the sync", 150 * time.Millisecond, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{TimeoutRate: 1})
		}, outcome{stage: syncer.StageAuditLog, reason: "did not answer in time"}},
		{"occasional dropped connections are retried", 0, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{DropRate: 0.25, Seed: 5})
		}, complete},
		{"a Sentry that drops every connection fails the sync", 0, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{DropRate: 1})
		}, outcome{stage: syncer.StageAuditLog, reason: "closed before it answered"}},
		{"slow responses within the timeout are waited for", 0, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{Latency: 15 * time.Millisecond})
		}, complete},
		{"responses slower than the timeout fail the sync", 100 * time.Millisecond, func(s *sentrysim.Server) {
			s.SetFaults(sentrysim.Faults{Latency: 400 * time.Millisecond})
		}, outcome{stage: syncer.StageAuditLog, reason: "did not answer in time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t, worldOptions{Timeout: tt.timeout})
			before, good, err := w.st.CurrentSnapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			list, err := w.st.ListSnapshots(ctx)
			if err != nil {
				t.Fatal(err)
			}

			tt.inject(w.sim)
			res, syncErr := w.srv.SyncNow(ctx)
			w.sim.SetFaults(sentrysim.Faults{})
			w.sim.SetRateLimit(sentrysim.RateLimit{})

			after, cur, err := w.st.CurrentSnapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			listAfter, err := w.st.ListSnapshots(ctx)
			if err != nil {
				t.Fatal(err)
			}
			last, err := w.st.LastSyncStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			viewer := w.login(t, sentryaccess.RoleViewer)

			if tt.want.complete {
				if syncErr != nil {
					t.Fatalf("sync failed (%v), want the retries to absorb the fault", syncErr)
				}
				if after.ID == before.ID || res.Snapshot.ID != after.ID || len(listAfter) != len(list)+1 {
					t.Errorf("current snapshot %d (was %d, sync saved %d), %d snapshots (was %d): want one new current snapshot",
						after.ID, before.ID, res.Snapshot.ID, len(listAfter), len(list))
				}
				// Whether Sentry sent rate-limit headers is what the
				// fault changed; the rest must be the same.
				c, g := *cur, *good
				c.Server.RateLimitHeaders, c.Server.HostingWhy = false, ""
				g.Server.RateLimitHeaders, g.Server.HostingWhy = false, ""
				if !reflect.DeepEqual(c, g) {
					t.Errorf("the snapshot synced under faults differs from the fault-free one")
				}
				if !last.OK || last.Stage != syncer.StageDone {
					t.Errorf("last sync status = %+v, want OK at stage done", last)
				}
				if b := viewer.get(t, "/members").text("sync-banner"); b != "" {
					t.Errorf("a complete sync still shows the banner %q", b)
				}
				return
			}

			if syncErr == nil {
				t.Fatalf("sync succeeded (snapshot %d), want it to fail at stage %s", res.Snapshot.ID, tt.want.stage)
			}
			if after.ID != before.ID || len(listAfter) != len(list) || res.Snapshot.ID != 0 {
				t.Errorf("after a failed sync: current snapshot %d (was %d), %d snapshots (was %d), sync saved %d; want no new snapshot",
					after.ID, before.ID, len(listAfter), len(list), res.Snapshot.ID)
			}
			if !reflect.DeepEqual(cur, good) {
				t.Error("the current snapshot changed after a failed sync")
			}
			if last.OK || last.Running() || last.Stage != tt.want.stage || !strings.Contains(last.Error, tt.want.reason) {
				t.Errorf("last sync status = ok %v, running %v, stage %q, error %q; want failed at stage %q with %q",
					last.OK, last.Running(), last.Stage, last.Error, tt.want.stage, tt.want.reason)
			}
			t.Logf("recorded failure: stage %s: %s", last.Stage, last.Error)
			for _, path := range []string{"/", "/members", "/snapshots"} {
				p := viewer.get(t, path)
				banner := p.text("sync-banner")
				for _, want := range []string{"The last sync with Sentry failed", "while " + explore.StageText(tt.want.stage), tt.want.reason, "may be out of date"} {
					if !strings.Contains(banner, want) {
						t.Errorf("GET %s: banner %q lacks %q", path, banner, want)
					}
				}
			}
			// The pages still serve the last good snapshot.
			members := viewer.get(t, "/members")
			if got := members.text("result-count"); !strings.Contains(got, strconv.Itoa(len(good.Members))) {
				t.Errorf("members page says %q, want the %d members of the last good snapshot", got, len(good.Members))
			}
			if got := viewer.get(t, "/snapshots").doc.Find(`[data-testid="snapshot-row"]`).Length(); got != len(list) {
				t.Errorf("snapshots page lists %d snapshots, want %d", got, len(list))
			}
		})
	}
}
