package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// press sends one key to the page.
func press(t *testing.T, page playwright.Page, key string) {
	t.Helper()
	must(t, page.Keyboard().Press(key), "press "+key)
}

// focused describes the focused element: its data-testid, else its id,
// else its tag.
func focused(t *testing.T, page playwright.Page) string {
	t.Helper()
	v, err := page.Evaluate(`() => { const e = document.activeElement; return e ? (e.getAttribute("data-testid") || e.id || e.tagName.toLowerCase()) : "" }`)
	must(t, err, "read the focused element")
	return fmt.Sprint(v)
}

// tabTo presses Tab until the element with data-testid id has the focus,
// failing if it is not reached within limit presses (it is not in the
// tab order, or not where it should be).
func tabTo(t *testing.T, page playwright.Page, id string, limit int) {
	t.Helper()
	var seen []string
	for range limit {
		press(t, page, "Tab")
		f := focused(t, page)
		if f == id {
			return
		}
		seen = append(seen, f)
	}
	t.Fatalf("Tab never reached %s within %d presses (at %s); focus went through %s", id, limit, page.URL(), strings.Join(seen, ", "))
}

// focusRingShown reports whether the focused element draws an outline.
func focusRingShown(t *testing.T, page playwright.Page) bool {
	t.Helper()
	v, err := page.Evaluate(`() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 }`)
	must(t, err, "read the focus style")
	return v == true
}

// The main page works from the keyboard alone: the first Tab shows the
// skip link, which moves focus to the content; focus is always drawn; "/"
// jumps to the search box and Escape leaves it.
func TestKeyboardSkipLinkFocusRingAndSearchShortcut(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/")

	press(t, page, "Tab")
	skip := page.Locator(".skip-link").First()
	must(t, expect().Locator(skip).ToBeFocused(), "the first Tab lands on the skip link")
	must(t, expect().Locator(skip).ToBeInViewport(), "the focused skip link is on screen")
	if !focusRingShown(t, page) {
		t.Error("the focused skip link draws no focus ring")
	}
	press(t, page, "Enter")
	must(t, expect().Locator(page.Locator("main#main")).ToBeFocused(), "Enter on the skip link focuses the content")
	press(t, page, "Tab")
	in, err := page.Evaluate(`() => document.getElementById("main").contains(document.activeElement)`)
	must(t, err, "where focus is")
	if in != true {
		t.Errorf("after the skip link, Tab went to %s outside the content", focused(t, page))
	}
	if !focusRingShown(t, page) {
		t.Errorf("the focused %s draws no focus ring", focused(t, page))
	}

	// The navigation marks the current page and draws focus on dark.
	check(t, expect().Locator(byTestID(page, "nav-overview")).ToHaveAttribute("aria-current", "page"), "current page in the navigation")
	must(t, byTestID(page, "nav-members").Focus(), "focus a navigation link")
	if !focusRingShown(t, page) {
		t.Error("a focused navigation link draws no focus ring")
	}

	// "/" focuses the search box from anywhere but a text field.
	must(t, page.Locator("main#main").Focus(), "focus the content")
	press(t, page, "/")
	must(t, expect().Locator(page.Locator("#global-search")).ToBeFocused(), `"/" focuses the search`)
	must(t, page.Keyboard().Type("priya"), "type a search")
	check(t, expect().Locator(page.Locator("#global-search")).ToHaveValue("priya"), `the "/" itself is not typed`)
	press(t, page, "Escape")
	check(t, expect().Locator(page.Locator("#global-search")).Not().ToBeFocused(), "Escape leaves the search")
}

// withManyMembers adds n plain members to the demo org, enough for the
// member list to page.
func withManyMembers(n int) func(*dashboard.DemoOptions) {
	return func(o *dashboard.DemoOptions) {
		fx := sentrysim.DemoFixtureAt(o.Now())
		for i := range n {
			fx.Members = append(fx.Members, sentrysim.MemberFixture{
				ID: int64(9000 + i), UserID: int64(9000 + i), Role: "member",
				Email: fmt.Sprintf("extra%02d@acme.test", i), Name: fmt.Sprintf("Extra %02d", i),
				DateCreated: o.Now().Add(-30 * 24 * time.Hour),
			})
		}
		o.Fixture = fx
	}
}

// The member list's filters and pager work from the keyboard: the role
// filter is a select changed with the arrow keys, the pager link is
// followed with Enter, focus stays on the pager after the swap, and each
// new result count is announced.
func TestKeyboardMembersFilterAndPager(t *testing.T) {
	e := startDemo(t, withManyMembers(60))
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/members")
	must(t, expect().Locator(byTestID(page, "pager-current")).ToContainText("Page 1 of"), "the list has pages")

	// Pager: Tab to Next, Enter.
	must(t, page.Locator("main#main").Focus(), "start in the content")
	tabTo(t, page, "pager-next", 200)
	press(t, page, "Enter")
	must(t, expect().Locator(byTestID(page, "pager-current")).ToContainText("Page 2 of"), "Enter on Next shows page 2")
	check(t, expect().Locator(byTestID(page, "announcer")).ToContainText("Members 51–"), "the new page is announced")
	if f := focused(t, page); f != "pager-prev" && f != "pager-next" && f != "member-results" {
		t.Errorf("after paging, focus is on %q, not on the pager", f)
	}
	press(t, page, "Shift+Tab")
	if f := focused(t, page); f == "body" {
		t.Error("after paging, Shift+Tab starts over from the top of the page")
	}

	// Filters: from the top of the content, Tab to the search box, type.
	must(t, page.Locator("main#main").Focus(), "back to the content")
	tabTo(t, page, "filter-q", 5)
	must(t, page.Keyboard().Type("extra0"), "type a filter")
	must(t, expect().Locator(byTestID(page, "result-count")).ToContainText("of 10"), "the search filters the list")
	check(t, expect().Locator(byTestID(page, "announcer")).ToContainText("of 10"), "the filtered count is announced")
	tabTo(t, page, "filter-role", 3)
	press(t, page, "ArrowDown")
	must(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`[?&]role=[a-z]`)), "the role select filters from the keyboard")
	check(t, expect().Locator(byTestID(page, "filter-role")).ToBeFocused(), "focus stays on the select after the swap")
}

// A viewer files a change request with the keyboard alone: the team
// page's button, the justification, the expiry select, Preview, Submit.
func TestKeyboardChangeRequestForm(t *testing.T) {
	e := startDemo(t)
	page := e.loginAsUser(t, "priya", "/teams/platform")
	must(t, page.Locator("main#main").Focus(), "start in the content")
	tabTo(t, page, "request-team-add", 20)
	press(t, page, "Enter")
	must(t, expect().Locator(byTestID(page, "justification")).ToBeVisible(), "the change form")
	must(t, page.Locator("main#main").Focus(), "start in the form's page")
	tabTo(t, page, "justification", 40)
	must(t, page.Keyboard().Type("On call for platform next week"), "type the justification")
	tabTo(t, page, "expiry", 5)
	press(t, page, "ArrowDown")
	v, err := byTestID(page, "expiry").InputValue()
	must(t, err, "expiry value")
	if v == "" {
		t.Error("the arrow key did not choose an expiry")
	}
	tabTo(t, page, "preview-button", 20)
	press(t, page, "Enter")
	must(t, expect().Locator(byTestID(page, "deltas")).ToContainText("k8s-operator"), "Enter on Preview shows the preview")
	check(t, expect().Locator(byTestID(page, "announcer")).ToContainText("approval"), "the preview is announced")
	must(t, byTestID(page, "preview-button").Focus(), "back on Preview")
	tabTo(t, page, "submit-change", 60)
	press(t, page, "Enter")
	must(t, expect().Locator(byTestID(page, "request-state")).ToHaveText("pending-approval"), "Enter on Submit files the request")
}

// The graph's nodes are links in the tab order: Enter on one refocuses
// the graph on it, and the keyboard focus stays on that node.
func TestKeyboardGraphNodes(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/graph?focus=team:platform")
	must(t, page.Locator("main#main").Focus(), "start in the content")
	tabTo(t, page, "graph-node", 30)
	id, err := page.Evaluate(`() => document.activeElement.getAttribute("data-id")`)
	must(t, err, "the focused node")
	if !focusRingShown(t, page) {
		t.Log("the focused graph node has no outline (its rectangle's stroke marks it)")
	}
	press(t, page, "Enter")
	must(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`focus=[a-z]+(:|%3A)`+regexp.QuoteMeta(fmt.Sprint(id))+`$`)), "Enter refocuses the graph on the node")
	check(t, expect().Locator(page.Locator(fmt.Sprintf(`[data-testid="graph-node"][data-id=%q]`, id))).ToBeFocused(), "focus stays on the node")
	check(t, expect().Locator(byTestID(page, "announcer")).ToContainText("Focused on"), "the new focus is announced")
}
