package faulttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// answerLoser passes requests to the simulator but, for the next armed
// writes, lets Sentry act and then closes the connection without an answer
// (a timeout or a proxy reset after Sentry committed the change).
type answerLoser struct {
	next  http.Handler
	armed atomic.Int32
}

func (l *answerLoser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || l.armed.Add(-1) < 0 {
		l.next.ServeHTTP(w, r)
		return
	}
	l.next.ServeHTTP(httptest.NewRecorder(), r)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// applyEvents are the simulator audit events of the three steps the apply
// tests request: create team search, link project search-indexer to it,
// add Dana to it.
var applyEvents = []string{"team.create", "project-team.add", "member.join-team"}

// TestApplyingThroughTheUIUnderFaults approves a three-step request on its
// page, as an approver does, while Sentry misbehaves, and lets the
// dashboard's change service apply it in the background. Either every step
// ends applied exactly once (one audit-log row per step in Sentry), or the
// request page shows the failed step with Sentry's status and error, the
// steps after it still approved and never sent.
func TestApplyingThroughTheUIUnderFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*sentrysim.Server, *answerLoser)
		// want is the request's final state and the steps' states.
		want      changes.State
		wantSteps []changes.StepState
		// wantError is in the failed step's error on the page.
		wantError string
	}{
		{"a 429 storm with rate-limit headers", func(s *sentrysim.Server, _ *answerLoser) {
			s.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: 10 * time.Second, Headers: true})
		}, changes.StateApplied, nil, ""},
		{"a 429 storm without rate-limit headers", func(s *sentrysim.Server, _ *answerLoser) {
			s.SetRateLimit(sentrysim.RateLimit{PerWindow: 1, Window: time.Second})
		}, changes.StateApplied, nil, ""},
		{"a 5xx burst on the first write", func(s *sentrysim.Server, _ *answerLoser) {
			s.SetFaults(sentrysim.Faults{FailNth: []int{1, 2}})
		}, changes.StateApplied, nil, ""},
		{"dropped connections", func(s *sentrysim.Server, _ *answerLoser) {
			s.SetFaults(sentrysim.Faults{DropRate: 0.3, Seed: 11})
		}, changes.StateApplied, nil, ""},
		{"an answer lost after Sentry acted", func(_ *sentrysim.Server, l *answerLoser) {
			l.armed.Store(1)
		}, changes.StateApplied, nil, ""},
		{"a 5xx burst from the second step on that outlasts the retries", func(s *sentrysim.Server, _ *answerLoser) {
			var nth []int
			for n := 2; n <= 80; n++ {
				nth = append(nth, n)
			}
			s.SetFaults(sentrysim.Faults{FailNth: nth})
		}, changes.StatePartiallyFailed, []changes.StepState{changes.StepApplied, changes.StepFailed, changes.StepApproved}, "Internal Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loser := &answerLoser{}
			w := newWorld(t, worldOptions{Wrap: func(h http.Handler) http.Handler { loser.next = h; return loser }})
			rb := readBack(t, w.sim, w.simURL)
			dana := memberID(t, rb, "dana.doyle@acme.test")
			base := map[string]int{}
			for _, ev := range applyEvents {
				base[ev] = auditCount(t, rb, ev)
			}
			admin, approver := w.login(t, sentryaccess.RoleAdmin), w.login(t, sentryaccess.RoleApprover)

			created := admin.post(t, "/changes", url.Values{
				"kind":          {"team-create", "project-link", "team-add"},
				"team":          {"search", "search", "search"},
				"name":          {"Search", "", ""},
				"project":       {"", "search-indexer", ""},
				"member":        {"", "", dana},
				"role":          {"", "", ""},
				"justification": {"search needs its own team"},
			})
			id := strings.TrimPrefix(created.header.Get("Location"), "/changes/")
			if created.status != http.StatusSeeOther || id == "" {
				t.Fatalf("create: status %d, Location %q: %.500s", created.status, created.header.Get("Location"), created.body)
			}

			tt.inject(w.sim, loser)
			if got := approver.post(t, "/changes/"+id+"/approve", url.Values{"comment": {"ok"}}); got.status != http.StatusSeeOther {
				t.Fatalf("approve: status %d: %.500s", got.status, got.body)
			}
			r := waitFinal(t, w, id)
			w.sim.SetFaults(sentrysim.Faults{})
			w.sim.SetRateLimit(sentrysim.RateLimit{})

			pg := approver.get(t, "/changes/"+id)
			if got := pg.text("request-state"); got != string(tt.want) {
				t.Errorf("page shows state %q, want %q", got, tt.want)
			}
			wantSteps := tt.wantSteps
			if wantSteps == nil {
				wantSteps = []changes.StepState{changes.StepApplied, changes.StepApplied, changes.StepApplied}
			}
			var pageSteps []string
			for i := range pg.doc.Find(`[data-testid="step-state"]`).Nodes {
				pageSteps = append(pageSteps, strings.TrimSpace(pg.doc.Find(`[data-testid="step-state"]`).Eq(i).Text()))
			}
			for i, want := range wantSteps {
				if i >= len(pageSteps) || pageSteps[i] != string(want) || r.Steps[i].State != want {
					t.Errorf("step %d: page %v, stored %s; want %s", i+1, pageSteps, r.Steps[i].State, want)
				}
			}
			wantAudit := map[string]int{}
			for i, st := range wantSteps {
				if st == changes.StepApplied {
					wantAudit[applyEvents[i]]++
				}
			}
			if wantSteps[0] == changes.StepApplied {
				// Sentry adds the team's creator to it
				// (organization_teams.py, post): one more member.join-team.
				wantAudit["member.join-team"]++
			}
			for _, ev := range applyEvents {
				if got := auditCount(t, rb, ev) - base[ev]; got != wantAudit[ev] {
					t.Errorf("Sentry's audit log gained %d %s rows, want %d", got, ev, wantAudit[ev])
				}
			}
			if tt.wantError == "" {
				if e := pg.text("step-error"); e != "" {
					t.Errorf("an applied request shows the error %q", e)
				}
				if tt.name == "an answer lost after Sentry acted" && !strings.Contains(r.Steps[0].Result, "already in effect") {
					t.Errorf("step 1 result %q, want it read back from Sentry instead of sent again", r.Steps[0].Result)
				}
				return
			}
			failed := r.Steps[1]
			errText := pg.text("step-error")
			t.Logf("failed step: status %d, attempts %d, error %q", failed.SentryStatus, failed.Attempts, errText)
			row := strings.Join(strings.Fields(pg.doc.Find(`[data-testid="step"]`).Eq(1).Text()), " ")
			if !strings.Contains(row, strconv.Itoa(failed.SentryStatus)) {
				t.Errorf("the failed step's row %q does not show Sentry's status %d", row, failed.SentryStatus)
			}
			if failed.SentryStatus < 500 || !strings.Contains(errText, tt.wantError) || errText != failed.SentryError {
				t.Errorf("failed step shows status %d and error %q, want Sentry's 5xx and its message", failed.SentryStatus, errText)
			}
			if r.Steps[2].Attempts != 0 {
				t.Errorf("the step after the failed one was attempted %d times", r.Steps[2].Attempts)
			}
		})
	}
}

// waitFinal waits for the background apply to finish the request.
func waitFinal(t *testing.T, w *world, id string) *changes.Request {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		r, err := changes.NewStoreRepo(w.st).Request(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State.Final() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s still %s", id, r.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
