package e2e

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// TestLoggingOutLeavesNoAccessDataInTheTabAndEndsTheCookie: htmx keeps
// pages it navigated away from in sessionStorage (for Back); logging out
// drops them, and the session cookie taken before logout no longer works.
func TestLoggingOutLeavesNoAccessDataInTheTabAndEndsTheCookie(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/graph?focus=team:payments")

	// An htmx navigation that pushes a URL stores the page it leaves; it
	// is one only once htmx has loaded (else the click is a plain load).
	waitForHTMX(t, page)
	click(t, page.Locator(`[data-testid="graph-node"][data-kind="project"]`), "a project node")
	must(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`/graph\?focus=project`)), "refocused")
	cached, err := page.Evaluate(`() => sessionStorage.getItem("htmx-history-cache") !== null`)
	must(t, err, "read sessionStorage")
	if cached != true {
		t.Fatalf("htmx history cache present = %v before logout, want true (the test would prove nothing)", cached)
	}
	cookies, err := page.Context().Cookies()
	must(t, err, "read cookies")

	click(t, byTestID(page, "logout"), "Log out")
	must(t, expect().Locator(byTestID(page, "signed-out")).ToBeVisible(), "signed-out page")
	cached, err = page.Evaluate(`() => sessionStorage.getItem("htmx-history-cache")`)
	must(t, err, "read sessionStorage after logout")
	if cached != nil {
		t.Errorf("htmx history cache after logout = %.200v, want none", cached)
	}

	// Replay the cookies from before logout outside the browser.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+"/members", nil)
	must(t, err, "request")
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	must(t, err, "replay the old cookie")
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /members with the cookie from before logout: status %d, want 303 to the login", resp.StatusCode)
	}
}
