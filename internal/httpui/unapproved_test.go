package httpui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/unapproved"
	"github.com/sentry-access/sentry-access/static"
)

// fakeUnapproved serves one finding and records what the handlers asked;
// the rules themselves are the service's (tested in internal/unapproved).
type fakeUnapproved struct {
	mu       sync.Mutex
	finding  unapproved.Finding
	accepted []string // actor: note
	reverted []string // actor: justification
}

func (f *fakeUnapproved) List(context.Context, unapproved.Filter) ([]unapproved.Finding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []unapproved.Finding{f.finding}, nil
}

func (f *fakeUnapproved) Get(_ context.Context, id string) (*unapproved.Finding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.finding.ID {
		return nil, sentryaccess.Errorf(sentryaccess.ENOTFOUND, "no such change")
	}
	c := f.finding
	return &c, nil
}

func (f *fakeUnapproved) Accept(_ context.Context, a sentryaccess.Actor, id, note string) (*unapproved.Finding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.TrimSpace(note) == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Accepting a change needs a note saying why.")
	}
	f.accepted = append(f.accepted, a.Email+": "+note)
	c := f.finding
	return &c, nil
}

func (f *fakeUnapproved) DraftRevert(_ context.Context, _ sentryaccess.Actor, id string) (unapproved.RevertDraft, error) {
	c := f.finding
	return unapproved.RevertDraft{Finding: &c, Title: "Revert: x", Justification: "Revert a change made outside sentry-access",
		Draft: changes.Draft{Steps: []changes.Step{{Kind: changes.KindTeamRemove, Params: changes.Params{Member: "2", Email: "wendy@acme.test", Team: "web"}}}}}, nil
}

func (f *fakeUnapproved) Revert(_ context.Context, a sentryaccess.Actor, id, title, justification string) (*changes.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reverted = append(f.reverted, a.Email+": "+justification)
	return &changes.Request{ID: "41"}, nil
}

func (f *fakeUnapproved) RequestAudit(context.Context, *changes.Request) ([]unapproved.StepAudit, error) {
	return nil, nil
}

func newOutsideServer(t *testing.T) (string, *fakeUnapproved) {
	t.Helper()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fake := &fakeUnapproved{finding: unapproved.Finding{ID: "8-1", Snapshot: 8, Previous: 7, From: at, To: at.Add(time.Minute),
		Change:  unapproved.Change{Kind: unapproved.KindTeamJoined, Member: "2", Email: "wendy@acme.test", Team: "web"},
		Verdict: unapproved.Unexplained, State: unapproved.StateOpen, AuditStatus: unapproved.AuditFound,
		Audit: &unapproved.AuditEntry{ID: "a1", Event: "member.join-team", Actor: "Owen <owen@acme.test>", IP: "203.0.113.7", At: at}}}
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewUnstartedServer(nil)
	t.Cleanup(app.Close)
	base := "http://" + app.Listener.Addr().String()
	srv, err := httpui.New(httpui.Config{BaseURL: base}, httpui.Deps{
		Sessions: asHeader{
			priya: {Email: priya, Role: sentryaccess.RoleViewer},
			maya:  {Email: maya, Role: sentryaccess.RoleApprover},
		},
		SAML: noSAML{}, Assets: assets, Unapproved: fake,
	})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = srv.Handler()
	app.Start()
	return base, fake
}

func outsideRequest(t *testing.T, method, u, user string, form url.Values, htmx bool) answer {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-User", user)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return send(t, req)
}

func TestChangesMadeOutsideAreShownToEveryoneAndAnsweredByApprovers(t *testing.T) {
	t.Parallel()
	base, fake := newOutsideServer(t)
	// A viewer sees the change and who made it, but not the IP address,
	// and no form to answer it.
	v := outsideRequest(t, http.MethodGet, base+"/outside/8-1", priya, nil, false)
	if v.status != http.StatusOK || v.text("page-title") != "wendy@acme.test joined team web" {
		t.Fatalf("viewer: %d %q", v.status, v.text("page-title"))
	}
	if got := v.text("outside-audit"); !strings.Contains(got, "Owen <owen@acme.test>") || strings.Contains(got, "203.0.113.7") {
		t.Errorf("viewer's audit line = %q, want the actor without the IP", got)
	}
	if v.count("accept-form") != 0 || v.count("revert") != 0 || v.count("outside-viewer") != 1 {
		t.Errorf("viewer sees %d accept forms, %d revert links", v.count("accept-form"), v.count("revert"))
	}
	if l := outsideRequest(t, http.MethodGet, base+"/outside", priya, nil, false); l.status != http.StatusOK || l.count("outside-row") != 1 {
		t.Errorf("list: %d, %d rows", l.status, l.count("outside-row"))
	}
	// An approver sees the IP and both answers.
	a := outsideRequest(t, http.MethodGet, base+"/outside/8-1", maya, nil, false)
	if got := a.text("outside-audit"); !strings.Contains(got, "from 203.0.113.7") || a.count("accept-form") != 1 || a.count("revert") != 1 {
		t.Errorf("approver: audit %q, %d accept forms, %d revert links", got, a.count("accept-form"), a.count("revert"))
	}

	// Answering is for approvers: a viewer's post is refused before the
	// service is asked.
	for _, path := range []string{"/outside/8-1/accept", "/outside/8-1/revert"} {
		if r := outsideRequest(t, http.MethodPost, base+path, priya, url.Values{"note": {"fine"}, "justification": {"x"}}, true); r.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", path, r.status)
		}
	}
	if r := outsideRequest(t, http.MethodGet, base+"/outside/8-1/revert", priya, nil, false); r.status != http.StatusForbidden {
		t.Errorf("viewer GET revert form: %d, want 403", r.status)
	}
	// A post from another site is refused (CSRF) even for an approver.
	req, _ := http.NewRequest(http.MethodPost, base+"/outside/8-1/accept", strings.NewReader("note=x"))
	req.Header.Set("X-Test-User", maya)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := send(t, req); r.status != http.StatusForbidden {
		t.Errorf("cross-site accept: %d, want 403", r.status)
	}
	// No note: the 422 fragment says so.
	if r := outsideRequest(t, http.MethodPost, base+"/outside/8-1/accept", maya, url.Values{"note": {" "}}, true); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "needs a note") {
		t.Errorf("accept without a note: %d %s", r.status, r.body)
	}
	r := outsideRequest(t, http.MethodPost, base+"/outside/8-1/accept", maya, url.Values{"note": {"on-call cover"}}, true)
	if r.status != http.StatusNoContent || r.header.Get("HX-Redirect") != "/outside/8-1" {
		t.Errorf("accept: %d, HX-Redirect %q", r.status, r.header.Get("HX-Redirect"))
	}
	form := outsideRequest(t, http.MethodGet, base+"/outside/8-1/revert", maya, nil, false)
	if form.status != http.StatusOK || form.count("revert-step") != 1 || !strings.Contains(form.text("revert-steps"), "remove member wendy@acme.test from team web") {
		t.Errorf("revert form: %d, steps %q", form.status, form.text("revert-steps"))
	}
	r = outsideRequest(t, http.MethodPost, base+"/outside/8-1/revert", maya, url.Values{"justification": {"not approved"}}, true)
	if r.status != http.StatusNoContent || r.header.Get("HX-Redirect") != "/changes/41" {
		t.Errorf("revert: %d, HX-Redirect %q", r.status, r.header.Get("HX-Redirect"))
	}
	if fake.accepted[0] != maya+": on-call cover" || len(fake.reverted) != 1 {
		t.Errorf("service asked: accepted %v, reverted %v", fake.accepted, fake.reverted)
	}
	if r := outsideRequest(t, http.MethodGet, base+"/outside/9-9", maya, nil, false); r.status != http.StatusNotFound {
		t.Errorf("unknown finding: %d, want 404", r.status)
	}
}
