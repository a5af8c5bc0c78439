package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// testClock is real time shifted by an offset the test can advance: the
// demo's dashboard, IdP and simulator all read it, so advancing it moves
// every party forward together (sessions expire, SAML stays consistent).
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the shifted time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// demoEnv is one running demo (simulator with the demo org, dev IdP, first
// sync done, dashboard) and its clock.
type demoEnv struct {
	*dashboard.Demo
	Clock *testClock
}

// startDemo starts a demo for one test and stops it when the test ends;
// opts, if given, adjust its options.
func startDemo(t *testing.T, opts ...func(*dashboard.DemoOptions)) *demoEnv {
	t.Helper()
	clock := &testClock{}
	ctx, cancel := context.WithCancel(context.Background())
	o := dashboard.DemoOptions{DataDir: t.TempDir(), Now: clock.Now}
	for _, f := range opts {
		f(&o)
	}
	d, err := dashboard.StartDemo(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("start the demo: %v", err)
	}
	t.Cleanup(func() { cancel(); d.Close() })
	return &demoEnv{Demo: d, Clock: clock}
}

// user returns the demo user with role r.
func (e *demoEnv) user(t *testing.T, r sentryaccess.Role) devidp.User {
	t.Helper()
	for _, u := range e.Users {
		if u.Role == r {
			return u
		}
	}
	t.Fatalf("the demo has no %s user", r)
	return devidp.User{}
}

// sentryClient is the real Sentry client, talking to the demo's simulator
// with the owner's token: tests change "Sentry" the way an admin would.
func (e *demoEnv) sentryClient(t *testing.T) *sentry.Client {
	t.Helper()
	c, err := sentry.New(sentry.Config{BaseURL: e.SentryURL, Org: e.Credentials.Org, Token: e.Credentials.OwnerToken, UserAgent: "sentry-access/e2e"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// memberID finds a member's ID in Sentry by email.
func memberID(t *testing.T, c *sentry.Client, email string) string {
	t.Helper()
	ms, err := c.ListMembers(t.Context(), sentry.MemberQuery{Email: email})
	if err != nil {
		t.Fatalf("find member %s: %v", email, err)
	}
	for _, m := range ms {
		if strings.EqualFold(m.Email, email) {
			return m.ID
		}
	}
	t.Fatalf("no member %s in Sentry", email)
	return ""
}

// loginAs opens the dashboard at path in a new browser context, signs in
// through the dev IdP's real login form as the demo user with role r, and
// returns the page, back on path.
func (e *demoEnv) loginAs(t *testing.T, r sentryaccess.Role, path string) (playwright.Page, devidp.User) {
	t.Helper()
	page := newPage(t)
	u := e.user(t, r)
	if _, err := page.Goto(e.URL + path); err != nil {
		t.Fatal(err)
	}
	fillIdPLogin(t, page, u)
	if err := expect().Locator(page.Locator(`[data-testid="user-email"]`)).ToHaveText(u.Email); err != nil {
		t.Fatalf("not signed in as %s: %v (at %s)", u.Email, err, page.URL())
	}
	waitForHTMX(t, page)
	return page, u
}

// waitForHTMX waits until the page's scripts have loaded, so that a click
// right after a navigation is an htmx request, not a plain page load.
func waitForHTMX(t *testing.T, page playwright.Page) {
	t.Helper()
	if _, err := page.WaitForFunction(`() => window.htmx !== undefined`, nil); err != nil {
		t.Fatalf("htmx never loaded at %s: %v", page.URL(), err)
	}
}

// waitForHTMXIdle waits until the page is loaded and no htmx request is in
// flight (htmx marks the element that made one with htmx-request).
func waitForHTMXIdle(t *testing.T, page playwright.Page) {
	t.Helper()
	if _, err := page.WaitForFunction(`() => document.readyState === "complete" && window.htmx !== undefined && !document.querySelector(".htmx-request")`, nil); err != nil {
		t.Fatalf("htmx never went idle at %s: %v", page.URL(), err)
	}
}

// fillIdPLogin fills and submits the dev IdP's login form.
func fillIdPLogin(t *testing.T, page playwright.Page, u devidp.User) {
	t.Helper()
	if err := page.Locator(`input[name="user"]`).Fill(u.Username); err != nil {
		t.Fatalf("IdP login form not shown (at %s): %v", page.URL(), err)
	}
	if err := page.Locator(`input[name="password"]`).Fill(u.Password); err != nil {
		t.Fatal(err)
	}
	if err := page.Locator(`input[type="submit"]`).Click(); err != nil {
		t.Fatal(err)
	}
}

// expect gives assertions that wait up to 15 s, as pages do (the default
// 5 s is too short on a loaded two-core CI machine; a passing assertion
// returns as soon as it holds).
func expect() playwright.PlaywrightAssertions { return playwright.NewPlaywrightAssertions(15000) }

// byTestID locates elements by data-testid.
func byTestID(page playwright.Page, id string) playwright.Locator {
	return page.Locator(`[data-testid="` + id + `"]`)
}

// textOf returns the whitespace-normalised text of the first match.
func textOf(t *testing.T, l playwright.Locator) string {
	t.Helper()
	s, err := l.First().TextContent()
	if err != nil {
		t.Fatalf("read text: %v", err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// click clicks the first element matching l, failing the test if it can't.
func click(t *testing.T, l playwright.Locator, what string) {
	t.Helper()
	if err := l.First().Click(); err != nil {
		t.Fatalf("click %s: %v", what, err)
	}
}

// must fails the test on err, naming the step.
func must(t *testing.T, err error, step string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// check records a failed assertion without stopping the test.
func check(t *testing.T, err error, step string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", step, err)
	}
}
