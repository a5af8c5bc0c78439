package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// Browser tests of issue 15: views a manager can trust at 10,000 members.

// TestAFailedSyncSaysWhatItMeansAndTheConnectionPageSaysTheTokenIsRejected:
// the demo's token expires; the next sync fails, and the panel, the
// banner and the Connection page say that Sentry rejected the token and
// how to make a new one, not a raw error or "did not tell the scopes".
func TestAFailedSyncSaysWhatItMeansAndTheConnectionPageSaysTheTokenIsRejected(t *testing.T) {
	e := startDemo(t, func(o *dashboard.DemoOptions) {
		fx := sentrysim.DemoFixtureAt(o.Now())
		exp := o.Now().Add(10 * time.Minute)
		for i := range fx.UserTokens {
			fx.UserTokens[i].ExpiresAt = &exp
		}
		o.Fixture = fx
	})
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/")
	e.Clock.Advance(15 * time.Minute)

	click(t, byTestID(page, "sync-now"), "Sync now")
	summary := byTestID(page, "sync-summary")
	must(t, expect().Locator(summary).ToContainText("failed"), "the sync fails")
	got := textOf(t, summary)
	for _, want := range []string{"while reading the audit log", "Sentry rejected the token (401): it has expired", "User Settings → Auth Tokens", sentry.TokenScopes} {
		if !strings.Contains(got, want) {
			t.Errorf("sync summary %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "sentry: GET") || strings.Contains(got, "stage audit-log") {
		t.Errorf("sync summary %q shows a raw error or a stage id", got)
	}
	_, err := page.Reload()
	must(t, err, "reload")
	banner := textOf(t, byTestID(page, "sync-banner"))
	if !strings.Contains(banner, "failed at") || !strings.Contains(banner, "while reading the audit log: Sentry rejected the token (401)") || strings.Contains(banner, "..") {
		t.Errorf("banner %q, want the failure in words", banner)
	}
	screenshot(t, page, "sync-failed-token-expired")

	_, err = page.Goto(e.URL + "/connection")
	must(t, err, "open the Connection page")
	check(t, expect().Locator(byTestID(page, "token-rejected")).ToHaveText("token rejected"), "the credential is marked rejected")
	scopes := textOf(t, byTestID(page, "scopes-error"))
	if !strings.Contains(scopes, "Sentry rejected the token (401)") || strings.Contains(scopes, "did not tell") {
		t.Errorf("scopes row %q, want the token rejected", scopes)
	}
	screenshot(t, page, "connection-token-rejected")
}

// TestTheSyncPanelTellsItsOwnRun: while a sync runs the panel never shows
// a count that reads as finished, and a sync that found nothing new says
// so with its own request count, not the first full sync's.
func TestTheSyncPanelTellsItsOwnRun(t *testing.T) {
	e := startDemo(t)
	metas, err := e.Store.ListSnapshots(t.Context())
	must(t, err, "list snapshots")
	full := metas[0]
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/")
	// Record every text the progress line shows while the sync runs (in
	// sessionStorage: the page reloads itself when the sync ends).
	_, err = page.Evaluate(`() => {
		sessionStorage.setItem("progress", "[]");
		new MutationObserver(() => {
			const el = document.querySelector('[data-testid="sync-progress"]');
			if (!el) return;
			const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
			seen.push(el.textContent);
			sessionStorage.setItem("progress", JSON.stringify(seen));
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
	}`)
	must(t, err, "watch the progress line")
	e.Sim.SetFaults(sentrysim.Faults{Latency: 150 * time.Millisecond})
	click(t, byTestID(page, "sync-now"), "Sync now")
	summary := byTestID(page, "sync-summary")
	must(t, expect().Locator(summary).ToContainText("nothing new in Sentry", playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(30000)}), "the sync finishes unchanged")
	e.Sim.SetFaults(sentrysim.Faults{})
	texts, err := page.Evaluate(`() => JSON.parse(sessionStorage.getItem("progress") || "[]")`)
	must(t, err, "read the progress texts")
	seen, _ := texts.([]any)
	if len(seen) == 0 {
		t.Error("the progress line was never seen while the sync ran")
	}
	t.Logf("progress texts: %v", seen)
	same := regexp.MustCompile(`(\d+) of (\d+)`)
	for _, x := range seen {
		s, _ := x.(string)
		if m := same.FindStringSubmatch(s); m != nil && m[1] == m[2] {
			t.Errorf("while running the panel said %q", s)
		}
		if strings.Contains(s, "done") {
			t.Errorf("while running the panel said %q", s)
		}
	}
	got := textOf(t, summary)
	m := regexp.MustCompile(`(\d+) requests`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("summary %q has no request count", got)
	}
	if n, _ := strconv.Atoi(m[1]); int64(n) == full.Requests || n == 0 {
		t.Errorf("summary %q: %d requests, the first full sync's count is %d: want the run's own", got, n, full.Requests)
	}
	if !strings.Contains(got, "snapshot #"+strconv.FormatUint(full.ID, 10)+" stays current") {
		t.Errorf("summary %q, want snapshot #%d to stay current", got, full.ID)
	}
}

// TestAMemberOverTheMemberLimitIsShownRefusedEverywhere: Uma holds a seat
// over the plan's member limit and is on team payments. The member list
// finds her, her page says Sentry refuses her and what her tokens still
// do, payment-api lists her apart from those who reach it, the lookup
// denies her with the cause, and the troubleshooter names the member limit
// instead of advising a team.
func TestAMemberOverTheMemberLimitIsShownRefusedEverywhere(t *testing.T) {
	const uma = "uma.underwood@acme.test"
	e := startDemo(t, func(o *dashboard.DemoOptions) {
		fx := sentrysim.DemoFixtureAt(o.Now())
		for i := range fx.Members {
			if fx.Members[i].Email == uma {
				fx.Members[i].Teams = []sentrysim.TeamMembership{{Team: "payments"}}
			}
		}
		o.Fixture = fx
	})
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/members?state=restricted")
	rows := byTestID(page, "member-row")
	check(t, expect().Locator(rows).ToHaveCount(1), "one member over the limit")
	check(t, expect().Locator(rows.First().Locator(`[data-testid="restricted-badge"]`)).ToHaveText("over member limit"), "the badge")
	click(t, rows.First().Locator(`[data-testid="member-link"]`), uma)

	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText(uma), "her page")
	panel := byTestID(page, "member-restricted")
	check(t, expect().Locator(panel).ToContainText("over the plan's member limit"), "the refusal")
	check(t, expect().Locator(panel).ToContainText("browser sessions only"), "what her tokens do")
	check(t, expect().Locator(panel).ToContainText("reaches 5 projects"), "what a token of hers reaches")
	check(t, expect().Locator(byTestID(page, "no-projects")).ToHaveText("Reaches no project in Sentry's UI: over the member limit."), "no project")
	check(t, expect().Locator(byTestID(page, "member-teams")).ToContainText("grants nothing in Sentry's UI"), "her team grants nothing")
	screenshot(t, page, "restricted-member")

	_, err := page.Goto(e.URL + "/projects/payment-api")
	must(t, err, "open payment-api")
	check(t, expect().Locator(byTestID(page, "restricted-member")).ToContainText(uma), "listed as refused")
	check(t, expect().Locator(byTestID(page, "path-member").Filter(playwright.LocatorFilterOptions{HasText: uma})).ToHaveCount(0), "not among those who reach it")
	screenshot(t, page, "restricted-project")

	_, err = page.Goto(e.URL + "/lookup?member=" + uma + "&project=payment-api")
	must(t, err, "lookup")
	check(t, expect().Locator(byTestID(page, "decision")).ToHaveAttribute("data-allowed", "no"), "denied")
	check(t, expect().Locator(byTestID(page, "reasons")).ToContainText("over the plan's member limit"), "the reason")
	check(t, expect().Locator(byTestID(page, "lookup-restricted")).ToContainText("No team or role change helps"), "the cause")
	check(t, expect().Locator(byTestID(page, "lookup-fix")).ToHaveCount(0), "no team offered")

	_, err = page.Goto(e.URL + "/troubleshoot")
	must(t, err, "troubleshoot")
	must(t, byTestID(page, "ts-member").Fill(uma), "member")
	must(t, byTestID(page, "ts-project-input").Fill("payment-api"), "project")
	click(t, byTestID(page, "ts-project-submit"), "Explain")
	diagnosis := byTestID(page, "ts-project").Locator(`[data-testid="diagnosis"]`)
	fix := diagnosis.Locator(`[data-testid="diagnosis-fix"]`)
	check(t, expect().Locator(fix).ToContainText("over the plan's member limit"), "the fix names the member limit")
	check(t, expect().Locator(fix).Not().ToContainText("Add the member to team"), "no team advice")
	check(t, expect().Locator(diagnosis.Locator(`[data-testid="create-change-request"]`)).ToHaveCount(0), "no change request")
	screenshot(t, page, "restricted-troubleshoot")
}

// TestTheTroubleshooterNamesAMissingSSOLink: Cody reaches checkout-web
// through contractors-q1, but the org requires SSO and he has not linked
// it: the diagnosis says so and what to do.
func TestTheTroubleshooterNamesAMissingSSOLink(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/troubleshoot")
	must(t, byTestID(page, "ts-member").Fill("cody"), "member")
	// Typing completes from the snapshot, as the lookup does.
	check(t, expect().Locator(page.Locator(`datalist#ts-members option[value="cody.cruz@acme.test"]`)).ToHaveCount(1), "cody suggested")
	must(t, byTestID(page, "ts-member").Fill("cody.cruz@acme.test"), "member")
	must(t, byTestID(page, "ts-project-input").Fill("checkout"), "project")
	check(t, expect().Locator(page.Locator(`datalist#ts-projects option[value="checkout-web"]`)).ToHaveCount(1), "checkout-web suggested")
	must(t, byTestID(page, "ts-project-input").Fill("checkout-web"), "project")
	click(t, byTestID(page, "ts-project-submit"), "Explain")
	diagnosis := byTestID(page, "ts-project").Locator(`[data-testid="diagnosis"]`)
	check(t, expect().Locator(diagnosis).ToHaveAttribute("data-problem", "yes"), "a problem")
	check(t, expect().Locator(diagnosis).ToContainText("requires SSO and cody.cruz@acme.test has not linked an SSO identity"), "the cause")
	check(t, expect().Locator(diagnosis.Locator(`[data-testid="diagnosis-fix"]`)).ToContainText("sign in to Sentry once through the organization's SSO login"), "the fix")
	screenshot(t, page, "troubleshoot-sso")
}

// TestTheOverviewsOwnerCountsAgreeOrSayWhy: with an owner invite not yet
// accepted, the owners finding and the owners per role differ, and each
// says why.
func TestTheOverviewsOwnerCountsAgreeOrSayWhy(t *testing.T) {
	e := startDemo(t, func(o *dashboard.DemoOptions) {
		fx := sentrysim.DemoFixtureAt(o.Now())
		for i := range fx.Members {
			if fx.Members[i].Email == "xena.xu@acme.test" { // a pending invite
				fx.Members[i].Role = "owner"
			}
		}
		o.Fixture = fx
	})
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/")
	owners := byTestID(page, "finding").And(page.Locator(`[data-kind="owners"]`))
	check(t, expect().Locator(owners).ToContainText("2"), "two owners who can act")
	check(t, expect().Locator(owners.Locator(`[data-testid="finding-note"]`)).ToHaveText("not counted: 1 owner invite not accepted"), "why the counts differ")
	row := byTestID(page, "role-count").And(page.Locator(`[data-role="owner"]`))
	check(t, expect().Locator(row).ToContainText("3 (1 invited)"), "owners per role say one is invited")
	screenshot(t, page, "overview-owner-counts")
}

// TestMembersReachSortGoesTheWayItsArrowSays: clicking Reach orders the
// members as the arrow shows, both ways.
func TestMembersReachSortGoesTheWayItsArrowSays(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/members")
	header := page.Locator(`th[aria-sort] a`).Filter(playwright.LocatorFilterOptions{HasText: "Reach"})
	reaches := func() []int {
		texts, err := byTestID(page, "reach").AllTextContents()
		must(t, err, "read the reach column")
		var out []int
		for _, s := range texts {
			n, err := strconv.Atoi(strings.Fields(s)[0])
			must(t, err, "parse reach "+s)
			out = append(out, n)
		}
		return out
	}
	for _, want := range []struct{ arrow, aria string }{{"▼", "descending"}, {"▲", "ascending"}} {
		click(t, header, "the Reach header")
		th := page.Locator(`th[aria-sort="` + want.aria + `"]`)
		must(t, expect().Locator(th).ToContainText("Reach "+want.arrow), "Reach "+want.arrow)
		got := reaches()
		for i := 1; i < len(got); i++ {
			if (want.aria == "descending" && got[i] > got[i-1]) || (want.aria == "ascending" && got[i] < got[i-1]) {
				t.Errorf("Reach %s: the column runs %v", want.arrow, got)
				break
			}
		}
	}
}

// TestTheSCIMPageAt10000MembersIsPaged: with 10,000 members and 1,000
// teams every table on the SCIM page shows one page of rows with a pager,
// so the page stays small and short (it was 4.7 MB and 790,000 px tall).
func TestTheSCIMPageAt10000MembersIsPaged(t *testing.T) {
	e := startDemo(t, func(o *dashboard.DemoOptions) {
		o.Fixture = sentrysim.Generate(sentrysim.GenOptions{Members: 10000, Teams: 1000, Projects: 300, Seed: 1})
	})
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/scim")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("SCIM and SSO drift"), "the SCIM page")
	size, err := page.Evaluate(`() => document.documentElement.outerHTML.length`)
	must(t, err, "page size")
	height, err := page.Evaluate(`() => document.documentElement.scrollHeight`)
	must(t, err, "page height")
	t.Logf("SCIM page at 10,000 members: %v characters, %v px", size, height)
	if n, _ := size.(int); n > 400_000 {
		t.Errorf("the page is %d characters, want under 400,000", n)
	}
	if h, _ := height.(int); h > 20_000 {
		t.Errorf("the page is %d px tall, want under 20,000", h)
	}
	for _, table := range []struct{ rows, pager string }{
		{`[data-testid="scim-users"] tbody tr`, "scim-pager"},
		{`[data-testid="scim-groups"] tbody tr`, "scim-groups-pager"},
		{`[data-testid="findings"] tbody tr`, "scim-findings-pager"},
	} {
		n, err := page.Locator(table.rows).Count()
		must(t, err, "count "+table.rows)
		if n == 0 || n > 100 {
			t.Errorf("%s: %d rows, want one page of at most 100", table.rows, n)
		}
		check(t, expect().Locator(byTestID(page, table.pager)).ToBeVisible(), table.pager)
	}
	// The groups pager moves that table alone, keeping the others' pages.
	click(t, byTestID(page, "scim-groups-pager").Locator(`a[rel="next"]`), "next page of groups")
	check(t, expect().Locator(byTestID(page, "scim-groups-pager")).ToContainText("Page 2 of"), "groups page 2")
	check(t, expect().Locator(byTestID(page, "scim-pager")).ToContainText("Page 1 of"), "members still page 1")
	screenshot(t, page, "scim-10k")
}

// TestTheTopBarSearchFindsMembersTeamsAndProjects: typing in the top bar
// lists members (by email or name), teams and projects (by slug or name)
// under the box; the keyboard moves into the list and opens a result;
// Enter opens every result on /search. (It used to only fill the lookup.)
func TestTheTopBarSearchFindsMembersTeamsAndProjects(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/")
	box := page.Locator("#global-search")
	press(t, page, "/")
	must(t, page.Keyboard().Type("pay"), "type pay")
	list := byTestID(page, "search-results")
	must(t, expect().Locator(list).ToBeVisible(), "the results open")
	check(t, expect().Locator(box).ToHaveAttribute("aria-expanded", "true"), "the box says it is expanded")
	check(t, expect().Locator(byTestID(page, "search-members")).ToContainText("paul.payne@acme.test"), "a member by email")
	check(t, expect().Locator(byTestID(page, "search-teams")).ToContainText("payments"), "a team by slug")
	check(t, expect().Locator(byTestID(page, "search-projects")).ToContainText("payment-api"), "a project by slug")
	check(t, expect().Locator(byTestID(page, "announcer")).ToContainText("match “pay”"), "the count is announced")
	screenshot(t, page, "search-dropdown")

	// By name: "Priya" finds priya.patel.
	must(t, box.Fill("Priya Patel"), "search a name")
	check(t, expect().Locator(byTestID(page, "search-members")).ToContainText("priya.patel@acme.test"), "a member by name")

	// The keyboard: Arrow Down into the list, Arrow Down to the next hit,
	// Arrow Up back, Enter opens it.
	must(t, box.Fill("platform"), "search platform")
	hits := list.Locator(`[data-testid="search-hit"]`)
	must(t, expect().Locator(hits.First()).ToContainText("platform"), "platform is found")
	press(t, page, "ArrowDown")
	check(t, expect().Locator(hits.First()).ToBeFocused(), "Arrow Down moves into the list")
	press(t, page, "ArrowUp")
	check(t, expect().Locator(box).ToBeFocused(), "Arrow Up from the first hit goes back to the box")
	press(t, page, "ArrowDown")
	press(t, page, "Enter")
	must(t, expect().Locator(byTestID(page, "page-title")).ToContainText("platform"), "Enter opens the team")

	// Escape closes the list; Enter in the box opens every result.
	press(t, page, "/")
	must(t, page.Keyboard().Type("acme"), "type acme")
	must(t, expect().Locator(list).ToBeVisible(), "results for acme")
	press(t, page, "ArrowDown")
	press(t, page, "Escape")
	check(t, expect().Locator(list).ToBeHidden(), "Escape closes the list")
	check(t, expect().Locator(box).ToBeFocused(), "and goes back to the box")
	press(t, page, "Enter")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Search"), "the search page")
	check(t, expect().Locator(byTestID(page, "search-summary")).ToContainText("40 members"), "every member matches acme")
	check(t, expect().Locator(byTestID(page, "search-more-members")).ToHaveCount(0), "the page lists all 40")
}

// TestTheGraphFocusesOnAnEmailOrASlugAndOpensTheRest: the focus box takes
// an email or a slug (an email gave an error page), an unknown one keeps
// the page with a message, and "and N more" opens the next slice of its
// column, with a way back.
func TestTheGraphFocusesOnAnEmailOrASlugAndOpensTheRest(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/graph")
	input := byTestID(page, "graph-focus-input")
	must(t, input.Fill("priya.patel@acme.test"), "type an email")
	must(t, input.Press("Enter"), "submit")
	check(t, expect().Locator(byTestID(page, "graph-focus")).ToHaveText("priya.patel@acme.test"), "focused on priya by email")
	check(t, expect().Locator(byTestID(page, "graph-node").And(page.Locator(`[data-kind="team"]`))).ToHaveCount(2), "her two teams")

	_, err := page.Goto(e.URL + "/graph?focus=payment-api")
	must(t, err, "focus by a project slug")
	check(t, expect().Locator(byTestID(page, "graph-focus")).ToHaveText("payment-api"), "focused on payment-api")

	resp, err := page.Goto(e.URL + "/graph?focus=nobody@acme.test")
	must(t, err, "an unknown email")
	if resp.Status() != 404 {
		t.Errorf("unknown focus answered %d, want 404", resp.Status())
	}
	check(t, expect().Locator(byTestID(page, "flash")).ToContainText("nobody@acme.test"), "the message names it")
	check(t, expect().Locator(byTestID(page, "graph-focus-input")).ToHaveValue("nobody@acme.test"), "the focus stays typed")
	check(t, expect().Locator(byTestID(page, "graph")).ToBeVisible(), "the graph is still there")

	// The unfocused graph lists more members than fit: open the rest.
	_, err = page.Goto(e.URL + "/graph")
	must(t, err, "the whole graph")
	waitForHTMX(t, page)
	more := byTestID(page, "graph-more").Filter(playwright.LocatorFilterOptions{HasText: "more"}).First()
	label := strings.SplitN(textOf(t, more), " in this column", 2)[0]
	first := textOf(t, byTestID(page, "graph-node").And(page.Locator(`[data-kind="member"]`)).First())
	click(t, more, label)
	back := byTestID(page, "graph-more").Filter(playwright.LocatorFilterOptions{HasText: "before"})
	must(t, expect().Locator(back).ToContainText("25 before"), "the next slice says what is before it")
	if now := textOf(t, byTestID(page, "graph-node").And(page.Locator(`[data-kind="member"]`)).First()); now == first {
		t.Errorf("after %q the first member is still %s", label, now)
	}
	check(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`mfrom=25`)), "the slice is in the URL")
	click(t, back, "25 before")
	check(t, expect().Locator(byTestID(page, "graph-node").And(page.Locator(`[data-kind="member"]`)).First()).ToHaveText(regexp.MustCompile(regexp.QuoteMeta(first))), "back to the first slice")
	screenshot(t, page, "graph-slices")
}

// TestAViewerIsShownNoLinkOrButtonThatLeadsToA403 crawls the dashboard as
// a viewer from the navigation, two links deep (one page per kind of
// path), and follows every link and every form or button that posts:
// none may answer 403 (the change requests page showed "Audit trail").
// Posts are sent empty, so an allowed one fails validation instead of
// changing anything; logging out is left out.
func TestAViewerIsShownNoLinkOrButtonThatLeadsToA403(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/teams/platform")
	// A request of her own, so that its page is crawled too.
	click(t, byTestID(page, "request-team-add"), "Add to team…")
	must(t, byTestID(page, "justification").Fill("On call for platform"), "justification")
	click(t, byTestID(page, "submit-change"), "Submit")
	must(t, page.WaitForURL("**/changes/1"), "her request")
	kind := regexp.MustCompile(`/[0-9]+|=[^&]*`)
	seen := map[string]bool{}
	type target struct{ method, url, from string }
	var forbidden []string
	queue := []string{"/", "/changes/1"}
	for depth := 0; depth < 3 && len(queue) > 0; depth++ {
		var next []string
		for _, path := range queue {
			_, err := page.Goto(e.URL + path)
			must(t, err, "open "+path)
			raw, err := page.Evaluate(`() => {
				const out = [];
				for (const a of document.querySelectorAll('a[href^="/"]')) out.push({method: "GET", url: a.getAttribute("href")});
				for (const f of document.querySelectorAll('form[method="post" i]')) out.push({method: "POST", url: f.getAttribute("action") || location.pathname});
				for (const b of document.querySelectorAll('[hx-post]')) out.push({method: "POST", url: b.getAttribute("hx-post")});
				return out;
			}`)
			must(t, err, "collect the links of "+path)
			for _, x := range raw.([]any) {
				m := x.(map[string]any)
				tg := target{m["method"].(string), strings.SplitN(m["url"].(string), "#", 2)[0], path}
				if tg.url == "" || tg.url == "/logout" || strings.HasPrefix(tg.url, "/static/") {
					continue
				}
				key := tg.method + " " + kind.ReplaceAllString(tg.url, "/:n")
				if seen[key] {
					continue
				}
				seen[key] = true
				status, err := page.Evaluate(`async ([method, url]) => {
					const r = await fetch(url, {method, redirect: "manual", body: method === "POST" ? new FormData() : undefined});
					return r.status;
				}`, []string{tg.method, tg.url})
				must(t, err, tg.method+" "+tg.url)
				if n, _ := status.(int); n == 403 {
					forbidden = append(forbidden, fmt.Sprintf("%s %s (on %s)", tg.method, tg.url, tg.from))
				}
				if tg.method == "GET" && !strings.Contains(tg.url, "export") && !strings.HasSuffix(tg.url, ".zip") {
					next = append(next, tg.url)
				}
			}
		}
		queue = next
	}
	t.Logf("followed %d kinds of links and buttons", len(seen))
	if len(seen) < 40 {
		t.Errorf("followed only %d kinds of links: the crawl did not reach the pages", len(seen))
	}
	for _, f := range forbidden {
		t.Errorf("a viewer is shown %s, which answers 403", f)
	}
}

// TestTheNewChangeRequestFormOpensWithoutAnError: before anything is
// entered the form shows no error, for a viewer (whose own member is
// filled in) as for an approver; the preview appears once a team is
// chosen.
func TestTheNewChangeRequestFormOpensWithoutAnError(t *testing.T) {
	e := startDemo(t)
	for _, r := range []sentryaccess.Role{sentryaccess.RoleViewer, sentryaccess.RoleApprover} {
		page, _ := e.loginAs(t, r, "/changes/new")
		must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("New change request"), "the form")
		waitForHTMXIdle(t, page) // a load-time preview, if any, has come back
		check(t, expect().Locator(byTestID(page, "form-error")).ToHaveCount(0), string(r)+": no error before anything is entered")
		check(t, expect().Locator(byTestID(page, "preview-hint")).ToBeVisible(), string(r)+": the preview says what it waits for")
		screenshot(t, page, "change-form-new-"+string(r))
	}
}

// TestEveryFragmentURLOpenedDirectlyIsAFullPage: every URL htmx fetches a
// fragment from (each hx-get on the pages an admin reaches two links deep)
// opened directly in the browser shows a whole page, with its title and
// the navigation, not a bare fragment; a diagnosis opened directly shows
// on the troubleshooting page with its form filled in.
func TestEveryFragmentURLOpenedDirectlyIsAFullPage(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleAdmin, "/")
	kind := regexp.MustCompile(`/[0-9]+|=[^&]*`)
	pages, fragments := map[string]bool{}, map[string]string{}
	queue := []string{"/", "/audit"}
	for depth := 0; depth < 2 && len(queue) > 0; depth++ {
		var next []string
		for _, path := range queue {
			_, err := page.Goto(e.URL + path)
			must(t, err, "open "+path)
			raw, err := page.Evaluate(`() => ({
				links: [...document.querySelectorAll('a[href^="/"]')].map(a => a.getAttribute("href")),
				gets: [...document.querySelectorAll('[hx-get]')].map(x => x.getAttribute("hx-get")),
			})`)
			must(t, err, "collect "+path)
			m := raw.(map[string]any)
			for _, g := range m["gets"].([]any) {
				u := g.(string)
				if k := kind.ReplaceAllString(u, "/:n"); fragments[k] == "" {
					fragments[k] = u
				}
			}
			for _, l := range m["links"].([]any) {
				u := l.(string)
				k := kind.ReplaceAllString(u, "/:n")
				if !pages[k] && !strings.Contains(u, "export") && u != "/logout" && !strings.HasPrefix(u, "/static/") {
					pages[k] = true
					next = append(next, u)
				}
			}
		}
		queue = next
	}
	fragments["diagnosis"] = "/troubleshoot/project?member=paul.payne%40acme.test&project=auth-service"
	fragments["403"] = "/troubleshoot/forbidden?endpoint=audit-logs&scopes=org%3Aread"
	for _, u := range []string{"/sync", "/changes/new/step?i=1", "/sso/check?acs=https%3A%2F%2Fexample.test", "/lookup/suggest?kind=member&member=pri", "/troubleshoot/project?member=nobody"} {
		fragments[u] = u
	}
	if len(fragments) < 12 {
		t.Errorf("found only %d fragment URLs: %v", len(fragments), fragments)
	}
	for _, u := range fragments {
		resp, err := page.Goto(e.URL + u)
		must(t, err, "open "+u)
		if resp.Status() >= 400 && resp.Status() != 422 {
			t.Errorf("%s opened directly answers %d", u, resp.Status())
			continue
		}
		title, err := byTestID(page, "page-title").Count()
		must(t, err, "title of "+u)
		nav, err := byTestID(page, "user-email").Count()
		must(t, err, "navigation of "+u)
		if title != 1 || nav != 1 {
			t.Errorf("%s opened directly is not a whole page (title %d, navigation %d); it ends at %s", u, title, nav, page.URL())
		}
	}
	_, err := page.Goto(e.URL + fragments["diagnosis"])
	must(t, err, "a diagnosis URL")
	check(t, expect().Locator(byTestID(page, "ts-member")).ToHaveValue("paul.payne@acme.test"), "the form keeps the member")
	check(t, expect().Locator(byTestID(page, "ts-project").Locator(`[data-testid="diagnosis-fix"]`)).ToContainText("backend-eng"), "the diagnosis is on the page")
}

// TestTheDevIdPLoginPageSaysWhereTheLoginsAre: the demo's IdP login form
// says that its users and passwords were printed where the demo started.
func TestTheDevIdPLoginPageSaysWhereTheLoginsAre(t *testing.T) {
	e := startDemo(t)
	page := newPage(t)
	_, err := page.Goto(e.URL + "/")
	must(t, err, "open the dashboard")
	must(t, expect().Locator(page.Locator(`input[name="user"]`)).ToBeVisible(), "the IdP's login form")
	note := byTestID(page, "idp-logins-note")
	check(t, expect().Locator(note).ToContainText("printed in the terminal"), "where the logins are")
	check(t, expect().Locator(note).ToContainText("sentry-access demo"), "which command printed them")
	for _, u := range e.Users {
		check(t, expect().Locator(note).ToContainText(u.Username), "lists "+u.Username)
		check(t, expect().Locator(note).Not().ToContainText(u.Password), "never shows a password")
	}
	check(t, expect().Locator(page.Locator(`label:has(input[name="user"])`)).ToHaveCount(1), "the user field has a label")
	screenshot(t, page, "devidp-login")
	fillIdPLogin(t, page, e.user(t, sentryaccess.RoleViewer))
	must(t, expect().Locator(byTestID(page, "user-email")).ToBeVisible(), "signed in through the form")
}
