// Package e2e holds browser tests: the whole web stack runs in-process
// (internal/httpui/uitest) and Debian's chromium drives it through
// playwright-go. Run them with `make e2e`, which lays out the Playwright
// driver and sets PLAYWRIGHT_DRIVER_PATH, PLAYWRIGHT_NODEJS_PATH and
// CHROMIUM_PATH. Without those, `go test ./...` skips them with a message.
//
// Files: e2e_test.go (the harness: TestMain, newPage, screenshot),
// demo_test.go (startDemo: a dashboard.StartDemo per test with a movable
// clock; loginAs through the dev IdP's real form; small locator helpers),
// journeys_test.go (the user journeys), ssp_test.go (interop login through
// Debian's SimpleSAMLphp, skipped only when php or simplesamlphp is not
// installed). Screenshots land in e2e/artifacts/.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/httpui/uitest"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// browser is the one chromium TestMain starts; each test gets its own
// context (cookies, storage). skipReason is set when no driver is laid out.
type harness struct {
	pw         *playwright.Playwright
	browser    playwright.Browser
	skipReason string
}

// h is set once by TestMain before any test runs and never changed.
var h harness

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("PLAYWRIGHT_DRIVER_PATH") == "" || os.Getenv("CHROMIUM_PATH") == "" {
		h.skipReason = "browser tests need PLAYWRIGHT_DRIVER_PATH and CHROMIUM_PATH (run `make e2e`)"
		return m.Run()
	}
	if err := playwright.Install(&playwright.RunOptions{SkipInstallBrowsers: true}); err != nil {
		fmt.Fprintln(os.Stderr, "playwright driver not ready (run make e2e-deps):", err)
		return 1
	}
	pw, err := playwright.Run(&playwright.RunOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start playwright:", err)
		return 1
	}
	defer func() { _ = pw.Stop() }()
	b, err := pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(os.Getenv("CHROMIUM_PATH")),
		Headless:       playwright.Bool(true),
		Args: []string{"--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"},
		Timeout: playwright.Float(30000),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch chromium:", err)
		return 1
	}
	defer func() { _ = b.Close() }()
	h.pw, h.browser = pw, b
	return m.Run()
}

// newPage opens a page in a fresh browser context and fails the test on
// any console error (a CSP violation shows up there).
func newPage(t *testing.T) playwright.Page {
	t.Helper()
	if h.skipReason != "" {
		t.Skip(h.skipReason)
	}
	ctx, err := h.browser.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctx.Close() })
	page, err := ctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	page.SetDefaultTimeout(15000)
	watchErrors(t, page)
	return page
}

// watchErrors fails the test on a CSP problem in the console (a violation,
// "…violates the following Content Security Policy…", or a policy Chromium
// cannot parse, "Unrecognized Content-Security-Policy directive…") or an
// uncaught script error. Other console errors are
// expected (htmx logs the 401 that carries HX-Redirect, 403s are asserted
// by tests).
func watchErrors(t *testing.T, page playwright.Page) {
	page.On("console", func(msg playwright.ConsoleMessage) {
		if msg.Type() != "error" {
			return
		}
		text := msg.Text()
		if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Content-Security-Policy") {
			t.Errorf("console at %s: %s", page.URL(), text)
		}
	})
	page.OnPageError(func(err error) {
		t.Errorf("uncaught script error at %s: %v", page.URL(), err)
	})
}

func screenshot(t *testing.T, page playwright.Page, name string) {
	t.Helper()
	dir := "artifacts"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(filepath.Join(dir, name+".png")), FullPage: playwright.Bool(true)}); err != nil {
		t.Errorf("screenshot: %v", err)
	}
}

func TestApproverSignsInThroughTheIdPAndLandsOnTheOverview(t *testing.T) {
	page := newPage(t)
	env := uitest.Start(t, uitest.Options{})
	approver, _ := env.IdP.UserWithRole(sentryaccess.RoleApprover)

	if _, err := page.Goto(env.URL + "/"); err != nil {
		t.Fatal(err)
	}
	// Redirected to the dev IdP's login form.
	if err := page.Locator(`input[name="user"]`).Fill(approver.Username); err != nil {
		t.Fatalf("IdP login form not shown (at %s): %v", page.URL(), err)
	}
	if !strings.HasPrefix(page.URL(), env.IdP.URL()) {
		t.Errorf("login form at %s, want the IdP %s", page.URL(), env.IdP.URL())
	}
	if err := page.Locator(`input[name="password"]`).Fill(approver.Password); err != nil {
		t.Fatal(err)
	}
	if err := page.Locator(`input[type="submit"]`).Click(); err != nil {
		t.Fatal(err)
	}

	expect := playwright.NewPlaywrightAssertions()
	if err := expect.Locator(page.Locator(`[data-testid="user-email"]`)).ToHaveText(approver.Email); err != nil {
		t.Errorf("signed-in email: %v (at %s)", err, page.URL())
	}
	if err := expect.Locator(page.Locator(`[data-testid="user-role"]`)).ToHaveText("approver"); err != nil {
		t.Errorf("role: %v", err)
	}
	if err := expect.Locator(page.Locator(`[data-testid="page-title"]`)).ToHaveText("Overview"); err != nil {
		t.Errorf("overview: %v", err)
	}
	if got := page.URL(); got != env.URL+"/" {
		t.Errorf("landed on %s, want %s/", got, env.URL)
	}
	v, err := page.Evaluate("() => window.htmx && htmx.version")
	if err != nil || v != "2.0.11" {
		t.Errorf("htmx.version = %v (%v), want 2.0.11", v, err)
	}
	screenshot(t, page, "overview-approver")

	// "/" focuses the search box.
	if err := page.Keyboard().Press("/"); err != nil {
		t.Fatal(err)
	}
	if err := expect.Locator(page.Locator("#global-search")).ToBeFocused(); err != nil {
		t.Errorf("'/' did not focus the search: %v", err)
	}

	// Logging out ends on the signed-out page.
	if err := page.Locator(`[data-testid="logout"]`).Click(); err != nil {
		t.Fatal(err)
	}
	if err := expect.Locator(page.Locator(`[data-testid="signed-out"]`)).ToBeVisible(); err != nil {
		t.Errorf("signed-out page: %v (at %s)", err, page.URL())
	}
	screenshot(t, page, "signed-out")
}
