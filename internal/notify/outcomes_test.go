package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/notify"
)

// delivered sends what is due and returns the receiver's last body,
// decoded.
func delivered(t *testing.T, e env, rcv *receiver) map[string]any {
	t.Helper()
	if _, err := e.n.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.body) == 0 {
		t.Fatal("nothing was delivered")
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(rcv.body[len(rcv.body)-1]), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestAnEndedChangeRequestIsAnnouncedWithItsJustificationAndLinks(t *testing.T) {
	t.Parallel()
	done := t0.Add(time.Hour)
	tests := []struct {
		name  string
		state changes.State
		steps []changes.Step
		dec   []changes.Decision
		event notify.EventKind
		title string
		text  string
	}{
		{"applied", changes.StateApplied,
			[]changes.Step{{Kind: changes.KindTeamAdd, Params: changes.Params{Member: "7", Email: "ana@acme.test", Team: "payments"}, State: changes.StepApplied, SentryStatus: 201}},
			[]changes.Decision{{Actor: "bo@acme.test", Approve: true, Comment: "ok", At: t0}},
			notify.EventRequestApplied, "Change request #12 was applied: ana on payments", "Justification: INC-7 on-call"},
		{"denied", changes.StateDenied,
			[]changes.Step{{Kind: changes.KindTeamAdd, Params: changes.Params{Member: "7", Team: "payments"}, State: changes.StepPending}},
			[]changes.Decision{{Actor: "bo@acme.test", Approve: false, Comment: "use the contractor team", At: t0}},
			notify.EventRequestDenied, "Change request #12 was denied: ana on payments", "Denied by bo@acme.test: use the contractor team"},
		{"failed", changes.StateFailed,
			[]changes.Step{{Kind: changes.KindTeamAdd, Params: changes.Params{Member: "7", Team: "payments"}, State: changes.StepFailed, SentryStatus: 403,
				SentryError: "This team is managed through your organization's identity provider."}},
			nil, notify.EventRequestFailed, "Change request #12 failed: ana on payments", "Step 1 (add member 7 to team payments) failed: This team is managed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			rcv := newReceiver(t)
			e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, tt.event)
			r := &changes.Request{ID: "12", Title: "ana on payments", Requester: "cy@acme.test", Justification: "INC-7 on-call",
				State: tt.state, Steps: tt.steps, Approvals: tt.dec, Source: changes.SourceForm, UpdatedAt: done}
			if err := e.n.RequestFinished(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			body := delivered(t, e, rcv)
			if body["event"] != string(tt.event) || body["title"] != tt.title || !strings.Contains(body["text"].(string), tt.text) {
				t.Errorf("body = %v", body)
			}
			if body["link"] != "https://access.acme.test/changes/12" {
				t.Errorf("link = %v", body["link"])
			}
			data := body["data"].(map[string]any)
			if data["justification"] != "INC-7 on-call" || data["requester"] != "cy@acme.test" ||
				data["links"].(map[string]any)["request"] != "https://access.acme.test/changes/12" {
				t.Errorf("data = %v", data)
			}
			step := data["steps"].([]any)[0].(map[string]any)
			if step["state"] != string(tt.steps[0].State) || step["step"] != 1.0 {
				t.Errorf("step = %v", step)
			}
		})
	}
}

func TestARequestStillInFlightIsNotAnnouncedAsEnded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t)
	e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, notify.EventRequestApplied, notify.EventRequestDenied, notify.EventRequestFailed)
	for _, st := range []changes.State{changes.StatePendingApproval, changes.StateApproved, changes.StateApplying, changes.StateCancelled} {
		if err := e.n.RequestFinished(context.Background(), &changes.Request{ID: "3", State: st}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.n.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rcv.count() != 0 {
		t.Errorf("%d deliveries, want none", rcv.count())
	}
}

func TestChangesMadeOutsideAreAnnouncedOncePerSnapshotWithLinksAndTheAuditEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t)
	e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, notify.EventUnapproved)
	cs := []notify.UnapprovedChange{
		{ID: "8-1", Kind: "team-joined", Description: "wendy@acme.test joined team web", Member: "wendy@acme.test", Team: "web",
			Verdict: "unexplained", AuditText: "member.join-team by owen@acme.test at 2026-03-02 09:00 UTC from 203.0.113.7",
			Audit: &notify.AuditPayload{ID: "a1", Event: "member.join-team", Actor: "owen@acme.test", IP: "203.0.113.7", At: t0}},
		{ID: "8-2", Kind: "org-role", Description: "ana@acme.test's org role changed from member to owner", Member: "ana@acme.test",
			Verdict: "partial", Remainder: "change request #5 set the org role to manager; it is owner now", Requests: []string{"5"},
			AuditText: "no audit entry visible: the token lacks org:write, which Sentry's audit log needs"},
	}
	if err := e.n.UnapprovedChanges(ctx, 8, 7, cs); err != nil {
		t.Fatal(err)
	}
	if err := e.n.UnapprovedChanges(ctx, 8, 7, cs); err != nil { // the same snapshot: once
		t.Fatal(err)
	}
	body := delivered(t, e, rcv)
	if rcv.count() != 1 {
		t.Errorf("%d deliveries, want one", rcv.count())
	}
	if body["title"] != "2 access change(s) made outside sentry-access (snapshot 8)" || body["link"] != "https://access.acme.test/outside" ||
		!strings.Contains(body["text"].(string), "wendy@acme.test joined team web (member.join-team by owen@acme.test") {
		t.Errorf("body = %v", body)
	}
	data := body["data"].(map[string]any)
	got := data["changes"].([]any)
	first, second := got[0].(map[string]any), got[1].(map[string]any)
	if first["link"] != "https://access.acme.test/outside/8-1" || first["audit"].(map[string]any)["ip"] != "203.0.113.7" {
		t.Errorf("first = %v", first)
	}
	if second["audit"] != nil || second["explainedBy"].([]any)[0] != "https://access.acme.test/changes/5" || second["verdict"] != "partial" {
		t.Errorf("second = %v", second)
	}
	if data["links"].(map[string]any)["diff"] != "https://access.acme.test/snapshots/diff?from=7&to=8" {
		t.Errorf("links = %v", data["links"])
	}
}

// verifyREADME is the Go receiver check the README shows (keep the two
// the same): the HMAC-SHA256 of "<timestamp>.<body>" with the secret, in
// constant time, and a timestamp no older than five minutes.
func verifyREADME(secret string, r *http.Request, body []byte, now time.Time) error {
	ts := r.Header.Get("X-Sentry-Access-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return errors.New("stale or missing timestamp")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Sentry-Access-Signature"))) {
		return errors.New("bad signature")
	}
	return nil
}

// The README's openssl snippet, and a Go check as the README describes it,
// accept a real delivery and refuse one whose body was changed.
func TestTheREADMEsSignatureChecksAcceptADelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t)
	_, secret := e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, notify.EventRequestApplied)
	if err := e.n.RequestFinished(context.Background(), &changes.Request{ID: "4", Title: "t", State: changes.StateApplied, Justification: "j"}); err != nil {
		t.Fatal(err)
	}
	delivered(t, e, rcv)
	req, body := rcv.got[0], []byte(rcv.body[0])
	if err := verifyREADME(secret, req, body, *e.clock); err != nil {
		t.Errorf("Go check: %v", err)
	}
	if err := verifyREADME(secret, req, append(body, ' '), *e.clock); err == nil {
		t.Error("Go check accepted a changed body")
	}
	// The shell check is the README's snippet itself, run by bash in a
	// folder holding body.json, with date(1) answering the test's clock.
	dir := t.TempDir()
	shim := "#!/bin/sh\necho " + strconv.FormatInt(e.clock.Unix(), 10) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "date"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	snippet := readmeSnippet(t, "<!-- verify-signature -->")
	for _, c := range []struct {
		body []byte
		want string
	}{{body, "valid"}, {append(body, ' '), "invalid"}} {
		if err := os.WriteFile(filepath.Join(dir, "body.json"), c.body, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "-c", snippet)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "TS=" + req.Header.Get("X-Sentry-Access-Timestamp"),
			"SIG=" + req.Header.Get("X-Sentry-Access-Signature"), "SECRET=" + secret}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the README's snippet: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("the README's snippet says %q for a body of %d bytes, want %q", got, len(c.body), c.want)
		}
	}
}

// readmeSnippet returns the code block that follows marker in the README.
func readmeSnippet(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("the README has no %s", marker)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	code, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("no sh code block after %s in the README", marker)
	}
	return code
}
