package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// axePath is axe-core as `make e2e-deps` installs it (pinned in
// e2e/driver/package.json).
const axePath = "driver/node_modules/axe-core/axe.min.js"

// axeRun runs axe over the whole document with the WCAG 2.0/2.1 A and AA
// rules, plus axe's best practices (heading order, landmarks, empty table
// headers: all clean today), and returns the violations as JSON (a string crosses the driver
// boundary without guessing Go types).
const axeRun = `async () => {
  const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }, resultTypes: ["violations"] });
  return JSON.stringify(r.violations.map(v => ({ id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ")) })));
}`

// axeViolation is one failed axe rule on a page.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// a11yPage opens a page whose context ignores the Content-Security-Policy
// (axe is injected as an inline script; the dashboard forbids those) and
// signs in through the dev IdP as the demo user with IdP username name.
func (e *demoEnv) a11yPage(t *testing.T, name, path string) playwright.Page {
	t.Helper()
	if h.skipReason != "" {
		t.Skip(h.skipReason)
	}
	ctx, err := h.browser.NewContext(playwright.BrowserNewContextOptions{BypassCSP: playwright.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctx.Close() })
	page, err := ctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	page.SetDefaultTimeout(15000)
	page.OnPageError(func(err error) { t.Errorf("uncaught script error at %s: %v", page.URL(), err) })
	i := slices.IndexFunc(e.Users, func(u devidp.User) bool { return u.Username == name })
	if i < 0 {
		t.Fatalf("the demo has no user %s", name)
	}
	u := e.Users[i]
	if _, err := page.Goto(e.URL + path); err != nil {
		t.Fatal(err)
	}
	fillIdPLogin(t, page, u)
	must(t, expect().Locator(byTestID(page, "user-email")).ToHaveText(u.Email), "signed in as "+u.Email)
	return page
}

// audit injects axe into the page as it is now, runs it, fails the test
// on serious or critical violations and logs moderate and minor ones.
func audit(t *testing.T, page playwright.Page, name string) {
	t.Helper()
	src, err := os.ReadFile(filepath.FromSlash(axePath))
	if err != nil {
		t.Fatalf("read axe-core (run make e2e-deps): %v", err)
	}
	if n, _ := page.Evaluate(`() => typeof axe`); n != "object" {
		if _, err := page.AddScriptTag(playwright.PageAddScriptTagOptions{Content: playwright.String(string(src))}); err != nil {
			t.Fatalf("%s: inject axe: %v", name, err)
		}
	}
	out, err := page.Evaluate(axeRun)
	if err != nil {
		t.Fatalf("%s: run axe: %v", name, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(fmt.Sprint(out)), &vs); err != nil {
		t.Fatalf("%s: axe result: %v", name, err)
	}
	for _, v := range vs {
		msg := fmt.Sprintf("%s (%s): [%s] %s: %s\n    %s", name, page.URL(), v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// visit loads path and audits it.
func visit(t *testing.T, page playwright.Page, base, path string) {
	t.Helper()
	if _, err := page.Goto(base + path); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	must(t, expect().Locator(page.Locator("main h1").First()).ToBeVisible(), path+" has a heading")
	audit(t, page, path)
}

// firstHref returns the href of the first link matching sel on path.
func firstHref(t *testing.T, page playwright.Page, base, path, sel string) string {
	t.Helper()
	if _, err := page.Goto(base + path); err != nil {
		t.Fatal(err)
	}
	href, err := page.Locator(sel).First().GetAttribute("href")
	if err != nil || href == "" {
		t.Fatalf("no link %s on %s: %v", sel, path, err)
	}
	return href
}

// Every page an admin reaches from the navigation, and the detail pages
// behind them (a member, a team, a project, a change request, a review),
// passes axe's WCAG 2.1 A/AA rules without a serious or critical finding.
func TestEveryPagePassesAxeWCAG21AA(t *testing.T) {
	e := startDemo(t)

	// A change request to look at: Priya asks to join platform.
	priya := e.a11yPage(t, "priya", "/teams/platform")
	click(t, byTestID(priya, "request-team-add"), "Add to team…")
	must(t, byTestID(priya, "justification").Fill("On call next week"), "justification")
	click(t, byTestID(priya, "preview-button"), "Preview")
	must(t, expect().Locator(byTestID(priya, "deltas")).ToBeVisible(), "preview")
	audit(t, priya, "change form with preview")
	click(t, byTestID(priya, "submit-change"), "Submit")
	must(t, expect().Locator(byTestID(priya, "request-state")).ToBeVisible(), "redirected to the request")
	changeURL := strings.TrimPrefix(priya.URL(), e.URL)

	page := e.a11yPage(t, e.user(t, sentryaccess.RoleAdmin).Username, "/")
	audit(t, page, "overview")
	links := page.Locator(`nav.sidebar a[data-testid^="nav-"]`)
	n, err := links.Count()
	must(t, err, "count nav links")
	var paths []string
	for i := range n {
		href, err := links.Nth(i).GetAttribute("href")
		must(t, err, "nav href")
		paths = append(paths, href)
	}
	if len(paths) < 10 {
		t.Fatalf("only %d navigation entries: %v", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(strings.Trim(strings.ReplaceAll(p, "/", "-"), "-")+"-page", func(t *testing.T) { visit(t, page, e.URL, p) })
	}

	// A review campaign, started through its form.
	if _, err := page.Goto(e.URL + "/reviews"); err != nil {
		t.Fatal(err)
	}
	must(t, byTestID(page, "review-name").Fill("Q3 privileged access"), "name the campaign")
	_, err = byTestID(page, "review-scope").SelectOption(playwright.SelectOptionValues{Values: &[]string{"privileged-roles"}})
	must(t, err, "choose the scope")
	click(t, byTestID(page, "review-start"), "start review")
	must(t, expect().Locator(byTestID(page, "review-state")).ToHaveText("open"), "campaign is open")
	reviewURL := strings.TrimPrefix(page.URL(), e.URL)

	details := []string{
		firstHref(t, page, e.URL, "/members", `[data-testid="member-link"]`),
		"/teams/platform",
		firstHref(t, page, e.URL, "/projects", `main table a[href^="/projects/"]`),
		changeURL,
		reviewURL,
		"/lookup?q=priya",
		"/search?q=pay",
		"/graph?focus=team:platform",
	}
	for _, p := range details {
		if slices.Contains(paths, p) {
			continue
		}
		t.Run(strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-", ":", "-").Replace(p), "-"), func(t *testing.T) { visit(t, page, e.URL, p) })
	}
}
