package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// The user journeys: each starts a demo (simulator, dev IdP, first sync,
// dashboard), signs in through the real IdP login form and then only
// clicks and types, asserting what the user sees.

func TestJourneySignInFromTheOverviewShowsTheOrgItsRisksAndWhoIAm(t *testing.T) {
	e := startDemo(t)
	page := newPage(t)
	u := e.user(t, sentryaccess.RoleAdmin)

	_, err := page.Goto(e.URL + "/")
	must(t, err, "open /")
	// Sent to the IdP: its login form, on the IdP's own address.
	must(t, expect().Locator(page.Locator(`input[name="user"]`)).ToBeVisible(), "IdP login form")
	if strings.HasPrefix(page.URL(), e.URL) {
		t.Errorf("login form at %s, want the IdP, not the dashboard", page.URL())
	}
	fillIdPLogin(t, page, u)

	// Back on the overview, signed in.
	check(t, expect().Page(page).ToHaveURL(e.URL+"/"), "landed on the overview")
	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Overview"), "page title")
	check(t, expect().Locator(byTestID(page, "user-email")).ToHaveText(u.Email), "signed-in email")
	check(t, expect().Locator(byTestID(page, "user-role")).ToHaveText("admin"), "signed-in role")
	// The org's settings that change access.
	check(t, expect().Locator(byTestID(page, "org-settings")).ToContainText("Open membership"), "settings panel")
	check(t, expect().Locator(byTestID(page, "open-membership")).ToHaveText("off"), "open membership setting")
	// The risks: findings with counts, the risky ones flagged.
	findings := byTestID(page, "finding")
	check(t, expect().Locator(findings.Filter(playwright.LocatorFilterOptions{HasText: "Members without SSO link"})).ToHaveCount(1), "SSO finding")
	check(t, expect().Locator(findings.Filter(playwright.LocatorFilterOptions{HasText: "Expired invites"})).ToHaveClass(regexp.MustCompile(`finding-warn`)), "expired invites flagged")
	check(t, expect().Locator(findings.Filter(playwright.LocatorFilterOptions{HasText: "Projects with no team"})).ToContainText("1"), "legacy-monolith has no team")
	check(t, expect().Locator(byTestID(page, "overview-cards")).ToContainText("Members"), "member count card")
	check(t, expect().Locator(byTestID(page, "changes")).ToContainText("This is the first snapshot."), "first snapshot")
	screenshot(t, page, "journey-overview-admin")

	// A finding is a link to the members it counts.
	click(t, findings.Filter(playwright.LocatorFilterOptions{HasText: "Expired invites"}).Locator("a"), "expired invites finding")
	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Members"), "members page from the finding")
	check(t, expect().Locator(byTestID(page, "member-table")).ToContainText("zoe.zhang@acme.test"), "an expired invite listed")
	check(t, expect().Locator(byTestID(page, "member-table")).Not().ToContainText("paul.payne@acme.test"), "an active member not listed")
}

func TestJourneyWhyCanThisMemberSeeThatProject(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/")

	// Members → search → open Paul.
	click(t, byTestID(page, "nav-members"), "Members in the navigation")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Members"), "members page")
	must(t, byTestID(page, "filter-q").PressSequentially("paul.payne"), "type in the search")
	rows := byTestID(page, "member-row")
	must(t, expect().Locator(rows).ToHaveCount(1), "one member matches paul.payne")
	check(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`/members\?.*q=paul\.payne`)), "the search is in the URL")
	click(t, rows.Locator(`[data-testid="member-link"]`), "paul's row")

	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("paul.payne@acme.test"), "member page")
	check(t, expect().Locator(byTestID(page, "org-role")).ToContainText("open membership is off"), "why not global")
	team := byTestID(page, "team-row").Filter(playwright.LocatorFilterOptions{HasText: "payments"})
	check(t, expect().Locator(team).ToHaveCount(1), "on team payments")
	// The stored team role is null; the effective role comes from the org role.
	check(t, expect().Locator(team.Locator("td").Nth(2)).ToHaveText("contributor"), "effective team role")
	reach := byTestID(page, "project-reach").Filter(playwright.LocatorFilterOptions{HasText: "payment-api"})
	check(t, expect().Locator(reach.Locator("summary")).ToContainText("via team payments (contributor)"), "payment-api via team payments")
	click(t, reach.Locator("summary"), "open the payment-api path")
	check(t, expect().Locator(reach.Locator("ul.paths")).ToBeVisible(), "path detail shown")
	screenshot(t, page, "journey-why-member")

	// Lookup: paul on auth-service, scope project:read → denied, with the chain.
	click(t, byTestID(page, "nav-lookup"), "Lookup in the navigation")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Permission lookup"), "lookup page")
	must(t, byTestID(page, "lookup-member").Fill("paul.payne@acme.test"), "member")
	must(t, byTestID(page, "lookup-project").Fill("auth-service"), "project")
	_, err := byTestID(page, "lookup-scope").SelectOption(playwright.SelectOptionValues{Values: &[]string{"project:read"}})
	must(t, err, "scope")
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Check"}), "Check")
	decision := byTestID(page, "decision")
	must(t, expect().Locator(decision).ToHaveAttribute("data-allowed", "no"), "denied")
	reasons := byTestID(page, "reasons")
	check(t, expect().Locator(decision).ToContainText("Denied"), "says Denied")
	check(t, expect().Locator(reasons).ToContainText("open membership is off"), "reason: open membership")
	check(t, expect().Locator(reasons).ToContainText("auth-service is linked to teams backend-eng and identity"), "reason: linked teams")
	check(t, expect().Locator(reasons).ToContainText("the member is on neither"), "reason: on neither team")
	denied := textOf(t, decision)
	screenshot(t, page, "journey-lookup-denied")

	// The URL is shareable: a new page (a colleague's tab) shows the same answer.
	check(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`/lookup\?.*project=auth-service`)), "lookup URL pushed")
	shared := page.URL()
	u, err := url.Parse(shared)
	must(t, err, "parse the lookup URL")
	if q := u.Query(); q.Get("member") != "paul.payne@acme.test" || q.Get("scope") != "project:read" {
		t.Errorf("lookup URL %s does not carry member and scope", shared)
	}
	other, err := page.Context().NewPage()
	must(t, err, "new page")
	watchErrors(t, other)
	_, err = other.Goto(shared)
	must(t, err, "open the shared URL")
	must(t, expect().Locator(byTestID(other, "decision")).ToHaveAttribute("data-allowed", "no"), "same answer in a new page")
	if got := textOf(t, byTestID(other, "decision")); got != denied {
		t.Errorf("shared lookup says %q, want %q", got, denied)
	}
	check(t, expect().Locator(byTestID(other, "lookup-scope")).ToHaveValue("project:read"), "scope kept")
	must(t, other.Close(), "close the page")

	// The allowed case, on the same form: paul on payment-api.
	must(t, byTestID(page, "lookup-project").Fill("payment-api"), "project")
	click(t, page.GetByRole("button", playwright.PageGetByRoleOptions{Name: "Check"}), "Check")
	must(t, expect().Locator(decision).ToHaveAttribute("data-allowed", "yes"), "allowed")
	check(t, expect().Locator(reasons).ToContainText("payments"), "allowed through team payments")
	screenshot(t, page, "journey-lookup-allowed")
}

func TestJourneyWhoCanReachThisProject(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/")

	click(t, byTestID(page, "nav-projects"), "Projects in the navigation")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Projects"), "projects page")
	must(t, page.Locator(`[data-testid="project-filters"] input[name="q"]`).PressSequentially("payment"), "type in the search")
	rows := byTestID(page, "project-row")
	must(t, expect().Locator(rows).ToHaveCount(1), "one project matches")
	click(t, rows.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "payment-api"}), "payment-api")

	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Project payment-api"), "project page")
	groups := byTestID(page, "path-group")
	global := page.Locator(`[data-testid="path-group"][data-kind="global-role"]`)
	check(t, expect().Locator(global).ToContainText("Global org role"), "global role group")
	check(t, expect().Locator(global).ToContainText("olivia.owner@acme.test"), "an owner reaches it by global role")
	check(t, expect().Locator(global).ToContainText("maya.manager@acme.test"), "a manager reaches it by global role")
	payments := groups.Filter(playwright.LocatorFilterOptions{HasText: "Team payments"})
	check(t, expect().Locator(payments).ToHaveAttribute("data-kind", "team"), "team payments group")
	check(t, expect().Locator(payments).ToContainText("paul.payne@acme.test"), "paul via payments")
	check(t, expect().Locator(payments).Not().ToContainText("val.vance@acme.test"), "a pending invite reaches nothing")
	backend := groups.Filter(playwright.LocatorFilterOptions{HasText: "Team backend-eng"})
	check(t, expect().Locator(backend).ToContainText("ben.becker@acme.test"), "ben via backend-eng")
	check(t, expect().Locator(backend).Not().ToContainText("paul.payne@acme.test"), "paul is not on backend-eng")
	integrations := byTestID(page, "integrations")
	for _, name := range []string{"Access Sync", "Deploy Bot", "PagerDuty Bridge"} {
		check(t, expect().Locator(integrations).ToContainText(name), "integration "+name)
	}
	screenshot(t, page, "journey-who-reaches-project")

	// From a member in a group to their page.
	click(t, payments.GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "paul.payne@acme.test"}), "paul in the payments group")
	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("paul.payne@acme.test"), "member page")
}

func TestJourneyWhatChangedSinceTheLastSync(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/")
	check(t, expect().Locator(byTestID(page, "changes")).ToContainText("first snapshot"), "before: first snapshot")

	// An admin changes Sentry: paul joins backend-eng, noah becomes a
	// manager. (identity is managed by the IdP: Sentry refuses joins.)
	sc := e.sentryClient(t)
	paul := memberID(t, sc, "paul.payne@acme.test")
	noah := memberID(t, sc, "noah.nash@acme.test")
	if _, err := sc.AddMemberToTeam(t.Context(), paul, "backend-eng"); err != nil {
		t.Fatalf("add paul to backend-eng: %v", err)
	}
	if _, err := sc.SetOrgRole(t.Context(), noah, "manager"); err != nil {
		t.Fatalf("make noah a manager: %v", err)
	}

	// Sync now: the panel shows the run, then the finished sync.
	panel := byTestID(page, "sync-panel")
	click(t, byTestID(page, "sync-now"), "Sync now")
	check(t, expect().Locator(panel).ToHaveAttribute("data-running", "yes"), "sync running")
	check(t, expect().Locator(panel).ToContainText("Sync running"), "progress shown")
	must(t, expect().Locator(panel).ToHaveAttribute("data-running", "no", playwright.LocatorAssertionsToHaveAttributeOptions{Timeout: playwright.Float(30000)}), "sync done")
	check(t, expect().Locator(byTestID(page, "sync-summary")).ToContainText(regexp.MustCompile(`Last sync: (full|incremental), .* requests`)), "sync summary")
	check(t, expect().Locator(byTestID(page, "sync-now")).ToBeVisible(), "Sync now offered again")

	// When the sync is over the page reloads itself: the overview now tells
	// what changed, without the user navigating.
	changes := byTestID(page, "changes")
	check(t, expect().Locator(changes).ToContainText("noah.nash@acme.test: org role member → manager"), "role change on the overview")
	check(t, expect().Locator(changes).ToContainText("team joins"), "team join counted")
	check(t, expect().Locator(changes).ToContainText("paul.payne@acme.test"), "paul's join on the overview")
	screenshot(t, page, "journey-sync-done-changes")

	// The whole diff.
	click(t, byTestID(page, "diff-link"), "See the whole diff")
	check(t, expect().Locator(byTestID(page, "page-title")).ToContainText("Snapshot"), "diff page")
	check(t, expect().Locator(byTestID(page, "diff-roles")).ToContainText("member → manager"), "role change in the diff")
	check(t, expect().Locator(byTestID(page, "diff-teams")).ToContainText("joined backend-eng"), "team join in the diff")
	check(t, expect().Locator(byTestID(page, "diff-access-members")).ToContainText("auth-service"), "paul now reaches auth-service")
	screenshot(t, page, "journey-changes-diff")

	// The member page tells what changed for paul.
	click(t, byTestID(page, "diff-teams").GetByRole("link", playwright.LocatorGetByRoleOptions{Name: "paul.payne@acme.test"}), "paul in the diff")
	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("paul.payne@acme.test"), "paul's page")
	mc := byTestID(page, "member-changes")
	check(t, expect().Locator(mc).ToContainText("Joined team backend-eng"), "joined backend-eng")
	check(t, expect().Locator(mc).ToContainText("search-indexer"), "new project reached")
	screenshot(t, page, "journey-changes-member")

	// The snapshots page lists both snapshots.
	click(t, byTestID(page, "nav-snapshots"), "Snapshots in the navigation")
	check(t, expect().Locator(byTestID(page, "snapshot-row")).ToHaveCount(2), "two snapshots")
	click(t, byTestID(page, "compare"), "Compare")
	check(t, expect().Locator(byTestID(page, "diff-roles")).ToContainText("noah.nash@acme.test"), "compare shows the same diff")
}

func TestJourneyGraphFocusShowsOnlyThePathsThatGrantAccess(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/")

	// From paul's member page to the graph focused on him.
	click(t, byTestID(page, "nav-members"), "Members in the navigation")
	must(t, byTestID(page, "filter-q").PressSequentially("paul.payne"), "search")
	must(t, expect().Locator(byTestID(page, "member-row")).ToHaveCount(1), "one match")
	click(t, byTestID(page, "member-link"), "paul's row")
	click(t, byTestID(page, "member-graph"), "graph link on the member page")

	nodes := byTestID(page, "graph-node")
	must(t, expect().Locator(byTestID(page, "graph-focus")).ToHaveText("paul.payne@acme.test"), "focused on paul")
	check(t, expect().Locator(page.Locator(`[data-testid="graph-node"][data-kind="member"]`)).ToHaveCount(1), "only paul among members")
	check(t, expect().Locator(page.Locator(`[data-testid="graph-node"][data-kind="team"]`)).ToHaveCount(1), "only his team")
	check(t, expect().Locator(page.Locator(`[data-testid="graph-node"][data-kind="team"]`)).ToContainText("payments"), "team payments")
	projects := page.Locator(`[data-testid="graph-node"][data-kind="project"]`)
	check(t, expect().Locator(projects).ToHaveCount(5), "the five payments projects")
	check(t, expect().Locator(projects.Filter(playwright.LocatorFilterOptions{HasText: "payment-api"})).ToHaveCount(1), "payment-api shown")
	check(t, expect().Locator(projects.Filter(playwright.LocatorFilterOptions{HasText: "auth-service"})).ToHaveCount(0), "auth-service not shown")
	check(t, expect().Locator(page.Locator(`[data-testid="graph-node"][data-kind="member"] rect`)).ToHaveClass(regexp.MustCompile(`node-focus`)), "paul highlighted")
	check(t, expect().Locator(page.Locator(`[data-testid="graph-edge"].edge-none`)).ToHaveCount(0), "every drawn edge grants access")
	screenshot(t, page, "journey-graph-member")

	// Refocus by clicking the team node: htmx swaps the graph and pushes the URL.
	click(t, page.Locator(`[data-testid="graph-node"][data-kind="team"]`), "the payments node")
	must(t, expect().Locator(byTestID(page, "graph-focus")).ToHaveText("payments"), "focused on payments")
	check(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`/graph\?focus=team%3Apayments`)), "refocus pushed to the URL")
	check(t, expect().Locator(nodes.Filter(playwright.LocatorFilterOptions{HasText: "paul.payne"})).ToHaveCount(1), "paul still there, as a payments member")
	n, err := page.Locator(`[data-testid="graph-node"][data-kind="member"]`).Count()
	must(t, err, "count members")
	if n < 5 {
		t.Errorf("payments focus shows %d members, want all of the team (≥ 5)", n)
	}
	check(t, expect().Locator(page.Locator(`[data-testid="graph-node"][data-kind="team"] rect`)).ToHaveClass(regexp.MustCompile(`node-focus`)), "payments highlighted")
	screenshot(t, page, "journey-graph-team")
}

func TestJourneyExpiredSessionUnderHTMXGoesBackToTheLogin(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/")
	click(t, byTestID(page, "nav-members"), "Members in the navigation")
	must(t, expect().Locator(byTestID(page, "member-table")).ToBeVisible(), "members table")

	// Idle past the dashboard session's idle timeout (30 minutes by
	// default) and the dev IdP's own SSO session (one hour): otherwise the
	// IdP would sign the user back in without showing its form.
	e.Clock.Advance(61 * time.Minute)

	// Typing in the filter sends an htmx request, which is refused with
	// HX-Redirect: the whole page goes to the IdP, not a login page in the table.
	refused, err := page.ExpectResponse(func(r playwright.Response) bool {
		return strings.HasPrefix(r.URL(), e.URL+"/members?")
	}, func() error { return byTestID(page, "filter-q").PressSequentially("paul") })
	must(t, err, "type in the filter (an htmx request)")
	if refused.Status() != 401 {
		t.Errorf("expired htmx request answered %d, want 401", refused.Status())
	}
	if to, _ := refused.HeaderValue("HX-Redirect"); !strings.HasPrefix(to, "/login") {
		t.Errorf("expired htmx request: HX-Redirect %q, want the login", to)
	}
	must(t, expect().Locator(page.Locator(`input[name="user"]`)).ToBeVisible(), "IdP login form")
	if strings.HasPrefix(page.URL(), e.URL) {
		t.Errorf("at %s, want the IdP's login page", page.URL())
	}
	check(t, expect().Locator(byTestID(page, "member-results")).ToHaveCount(0), "no dashboard table around the login form")
	screenshot(t, page, "journey-session-expired")

	// Signing in again returns to the members page the user was on.
	fillIdPLogin(t, page, e.user(t, sentryaccess.RoleViewer))
	check(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Members"), "back on the members page")
	check(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`^`+regexp.QuoteMeta(e.URL)+`/members`)), "members URL")
}

func TestJourneyViewerCannotSync(t *testing.T) {
	e := startDemo(t)
	page, u := e.loginAs(t, sentryaccess.RoleViewer, "/")
	check(t, expect().Locator(byTestID(page, "user-role")).ToHaveText("viewer"), "signed in as a viewer")
	check(t, expect().Locator(byTestID(page, "sync-panel")).ToBeVisible(), "sync panel shown")
	check(t, expect().Locator(byTestID(page, "sync-summary")).ToContainText("Last sync"), "last sync shown")
	check(t, expect().Locator(byTestID(page, "sync-now")).ToHaveCount(0), "no Sync now button for "+u.Email)
	screenshot(t, page, "journey-viewer-no-sync")

	// Posting anyway (same origin, with the viewer's session) is refused.
	status, err := page.Evaluate(`async () => (await fetch("/sync", {method: "POST", headers: {"HX-Request": "true"}})).status`)
	must(t, err, "post /sync from the page")
	if status != 403 {
		t.Errorf("viewer POST /sync answered %v, want 403", status)
	}
}
