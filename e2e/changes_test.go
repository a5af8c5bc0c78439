package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// loginAsUser signs in as the demo user with the IdP username name (the
// role helper picks the first user of a role; two approvers need names).
func (e *demoEnv) loginAsUser(t *testing.T, name, path string) playwright.Page {
	t.Helper()
	i := slices.IndexFunc(e.Users, func(u devidp.User) bool { return u.Username == name })
	if i < 0 {
		t.Fatalf("the demo has no user %s", name)
	}
	u := e.Users[i]
	page := newPage(t)
	if _, err := page.Goto(e.URL + path); err != nil {
		t.Fatal(err)
	}
	fillIdPLogin(t, page, u)
	if err := expect().Locator(byTestID(page, "user-email")).ToHaveText(u.Email); err != nil {
		t.Fatalf("not signed in as %s: %v (at %s)", u.Email, err, page.URL())
	}
	waitForHTMX(t, page)
	return page
}

// reloadUntil reloads page until locator l has text containing want; the
// server's background work (apply, resync) finishes on its own time. Each
// round waits on the page itself (an auto-waiting assertion), then asks
// the server again.
func reloadUntil(t *testing.T, page playwright.Page, l playwright.Locator, want, what string) {
	t.Helper()
	for range 40 {
		if expect().Locator(l.First()).ToContainText(want, playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(1000)}) == nil {
			return
		}
		if _, err := page.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("%s: never showed %q (at %s)", what, want, page.URL())
}

func onTeam(t *testing.T, c *sentry.Client, team, email string) bool {
	t.Helper()
	ms, err := c.ListTeamMembers(t.Context(), team)
	if err != nil {
		t.Fatalf("list team %s: %v", team, err)
	}
	return slices.ContainsFunc(ms, func(m sentry.TeamMember) bool { return strings.EqualFold(m.Email, email) })
}

// A viewer asks to join a team for a week with a justification; she cannot
// approve it herself; two approvers approve (the org runs with
// SENTRY_ACCESS_APPROVALS=2 here; the default is one); the dashboard applies it in
// Sentry; her member page shows the new project; a week later the grant
// expires and the access is gone, in Sentry and on her page.
//
// Priya is already on payments (and reaches payment-api) in the demo org,
// so she asks for platform, which brings k8s-operator.
func TestAViewersTimeBoundRequestIsApprovedAppliedAndExpires(t *testing.T) {
	env := startDemo(t, func(o *dashboard.DemoOptions) {
		o.Policy = changes.DefaultPolicy()
		o.Policy.DefaultApprovals = 2
	})
	api := env.sentryClient(t)
	priyaID := memberID(t, api, "priya.patel@acme.test")

	// Priya composes the request from the team page's button.
	page := env.loginAsUser(t, "priya", "/teams/platform")
	click(t, byTestID(page, "request-team-add"), "Add to team…")
	check(t, expect().Locator(byTestID(page, "viewer-note")).ToBeVisible(), "viewer note")
	check(t, expect().Locator(byTestID(page, "step-member")).ToHaveValue(priyaID), "member prefilled with herself")
	check(t, expect().Locator(byTestID(page, "step-team")).ToHaveValue("platform"), "team prefilled")
	must(t, byTestID(page, "justification").Fill("On call for platform next week"), "justification")
	if _, err := byTestID(page, "expiry").SelectOption(playwright.SelectOptionValues{Values: &[]string{"1w"}}); err != nil {
		t.Fatal(err)
	}
	click(t, byTestID(page, "preview-button"), "Preview")
	check(t, expect().Locator(byTestID(page, "deltas")).ToContainText("k8s-operator"), "preview shows the project gained")
	check(t, expect().Locator(byTestID(page, "preview-required")).ToContainText("2 approval"), "approvals needed")
	screenshot(t, page, "change-form-preview")
	click(t, byTestID(page, "submit-change"), "Submit")
	must(t, page.WaitForURL("**/changes/1"), "redirected to the request")
	check(t, expect().Locator(byTestID(page, "request-state")).ToHaveText("pending-approval"), "pending")
	check(t, expect().Locator(byTestID(page, "approve-disabled")).ToBeDisabled(), "requester cannot approve")
	check(t, expect().Locator(byTestID(page, "decide-reason")).ToContainText("may not approve"), "why not")
	screenshot(t, page, "change-requested")

	// Maya approves with a comment: one of two approvals, nothing applied.
	maya := env.loginAsUser(t, "maya", "/changes")
	check(t, expect().Locator(byTestID(maya, "awaiting-me")).ToContainText("platform"), "in maya's inbox")
	click(t, byTestID(maya, "awaiting-me").Locator(`[data-testid="request-link"]`), "open the request")
	must(t, byTestID(maya, "decision-comment").Fill("ok for the on-call week"), "comment")
	click(t, byTestID(maya, "approve"), "Approve")
	check(t, expect().Locator(byTestID(maya, "request-state")).ToHaveText("pending-approval"), "still pending after one approval")
	if onTeam(t, api, "platform", "priya.patel@acme.test") {
		t.Fatal("applied after one of two approvals")
	}

	// Marco, the second approver, approves; the server applies it in Sentry.
	marco := env.loginAsUser(t, "marco", "/changes/1")
	must(t, byTestID(marco, "decision-comment").Fill("second approval"), "comment")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")
	if _, err := maya.Reload(); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(byTestID(maya, "step-state")).ToHaveText("applied"), "step applied")
	reloadUntil(t, maya, byTestID(maya, "grant-state"), "active", "grant")
	screenshot(t, maya, "change-applied")
	if !onTeam(t, api, "platform", "priya.patel@acme.test") {
		t.Fatal("priya is not on platform in Sentry after apply")
	}

	// Nobody has anything left to decide.
	check(t, expect().Locator(byTestID(maya, "approve")).ToHaveCount(0), "no approve on an applied request")

	// Priya's member page shows the new project.
	reloadUntil(t, page, byTestID(page, "request-state"), "applied", "priya's view")
	if _, err := page.Goto(env.URL + "/members/" + priyaID); err != nil {
		t.Fatal(err)
	}
	reloadUntil(t, page, byTestID(page, "member-projects"), "k8s-operator", "member page after apply")
	screenshot(t, page, "member-after-grant")

	// A week and a day later the grant has expired.
	env.Clock.Advance(8 * 24 * time.Hour)
	if err := env.Server.ExpireGrants(t.Context()); err != nil {
		t.Fatalf("expire grants: %v", err)
	}
	if onTeam(t, api, "platform", "priya.patel@acme.test") {
		t.Error("priya is still on platform in Sentry after the expiry")
	}
	after := env.loginAsUser(t, "maya", "/changes/1")
	check(t, expect().Locator(byTestID(after, "grant-state")).ToHaveText("expired"), "grant expired")
	if _, err := after.Goto(env.URL + "/members/" + priyaID); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(byTestID(after, "member-projects")).Not().ToContainText("k8s-operator"), "access gone from the member page")
	screenshot(t, after, "member-after-expiry")
	if _, err := after.Goto(env.URL + "/trail"); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(byTestID(after, "chain-status")).ToContainText("verified"), "trail verified")
	check(t, expect().Locator(byTestID(after, "trail-table")).ToContainText("grant.expired"), "expiry in the trail")
	screenshot(t, after, "trail")
}

// An approver plans the microservices-isolation sample, turns it into a
// change request, another approver approves, and Sentry's project links
// follow the blueprint.
func TestABlueprintIsPlannedRequestedApprovedAndApplied(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)

	maya := env.loginAsUser(t, "maya", "/blueprints")
	click(t, byTestID(maya, "sample-microservices-isolation.yaml"), "sample")
	check(t, expect().Locator(byTestID(maya, "blueprint-yaml")).ToContainText("Microservices team isolation"), "sample loaded")
	click(t, byTestID(maya, "plan"), "Plan")
	check(t, expect().Locator(byTestID(maya, "plan-steps")).ToContainText("unlink project payment-api from team backend-eng"), "plan")
	check(t, expect().Locator(byTestID(maya, "deltas")).ToContainText("payment-api"), "effective-access preview")
	screenshot(t, maya, "blueprint-plan")
	must(t, byTestID(maya, "blueprint-justification").Fill("Each product team owns its services"), "justification")
	click(t, byTestID(maya, "blueprint-request"), "Create change request")
	must(t, maya.WaitForURL("**/changes/1"), "redirected to the request")
	check(t, expect().Locator(byTestID(maya, "request-state")).ToHaveText("pending-approval"), "pending")

	// The isolation removes more member×project grants than
	// SENTRY_ACCESS_SENSITIVE_GRANTS (20): its blast radius needs the
	// sensitive count, two approvals.
	check(t, expect().Locator(byTestID(maya, "approvals-count")).ToHaveText("0 of 2 given"), "blast radius needs two approvals")

	marco := env.loginAsUser(t, "marco", "/changes/1")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "approvals-count")).ToHaveText("1 of 2 given"), "one approval is not enough")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("pending-approval"), "still pending after one approval")

	olivia := env.loginAsUser(t, "olivia", "/changes/1")
	click(t, byTestID(olivia, "approve"), "Approve")
	check(t, expect().Locator(byTestID(olivia, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")
	screenshot(t, olivia, "blueprint-applied")

	teams, err := api.ProjectTeams(t.Context(), "payment-api")
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, tm := range teams {
		slugs = append(slugs, tm.Slug)
	}
	if !slices.Equal(slugs, []string{"payments"}) {
		t.Errorf("payment-api teams in Sentry = %v, want [payments]", slugs)
	}
}
