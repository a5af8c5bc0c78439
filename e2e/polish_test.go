package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// "Give the contractor access to payment-api for two weeks": from the
// project page an approver picks Cody (contractors-q1, not on payments)
// and team payments, two weeks in one click, lands on the prefilled change
// form with its preview, submits; a second approver approves; it is
// applied in Sentry; Cody's member page shows payment-api with the
// grant's expiry.
func TestGiveAContractorAccessToAProjectForTwoWeeks(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	const cody = "cody.cruz@acme.test"
	codyID := memberID(t, api, cody)
	if onTeam(t, api, "payments", cody) {
		t.Fatal("the demo org already has cody on payments")
	}

	maya := env.loginAsUser(t, "maya", "/projects/payment-api")
	click(t, byTestID(maya, "give-access"), "Give a member access…")
	must(t, expect().Locator(byTestID(maya, "page-title")).ToHaveText("Give a member access to payment-api"), "give-access page")
	must(t, byTestID(maya, "project-access-member").Fill("cody"), "type cody")
	check(t, expect().Locator(maya.Locator(`datalist#member-suggestions option[value="`+cody+`"]`)).ToHaveCount(1), "cody suggested")
	must(t, byTestID(maya, "project-access-member").Fill(cody), "pick cody")
	must(t, byTestID(maya, "project-access-team").Filter(playwright.LocatorFilterOptions{HasText: "payments"}).Locator("input").Check(), "team payments")
	must(t, byTestID(maya, "project-access-2w").Check(), "two weeks")
	screenshot(t, maya, "polish-give-access")
	click(t, byTestID(maya, "project-access-continue"), "Continue")

	must(t, expect().Locator(byTestID(maya, "page-title")).ToHaveText("New change request"), "change form")
	check(t, expect().Locator(byTestID(maya, "step-kind")).ToHaveValue("team-add"), "kind prefilled")
	check(t, expect().Locator(byTestID(maya, "step-member")).ToHaveValue(codyID), "member prefilled")
	check(t, expect().Locator(byTestID(maya, "step-team")).ToHaveValue("payments"), "team prefilled")
	check(t, expect().Locator(byTestID(maya, "expiry")).ToHaveValue("2w"), "two weeks carried over")
	gain := byTestID(maya, "delta").Filter(playwright.LocatorFilterOptions{HasText: "payment-api"})
	check(t, expect().Locator(gain).ToContainText(cody), "preview: cody gains payment-api")
	must(t, byTestID(maya, "justification").Fill("Cody helps the payments team with the checkout migration"), "justification")
	screenshot(t, maya, "polish-give-access-form")
	click(t, byTestID(maya, "submit-change"), "Submit for approval")
	must(t, maya.WaitForURL(regexp.MustCompile(`/changes/\d+$`)), "redirected to the request")
	check(t, expect().Locator(byTestID(maya, "request-state")).ToHaveText("pending-approval"), "pending")
	check(t, expect().Locator(byTestID(maya, "approvals-count")).ToHaveText("0 of 1 given"), "approvals read well")
	requestURL := maya.URL()

	marco := env.loginAsUser(t, "marco", "/changes")
	_, err := marco.Goto(requestURL)
	must(t, err, "open the request")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")
	if !onTeam(t, api, "payments", cody) {
		t.Fatal("cody is not on payments in Sentry after the approval")
	}
	expires := textOf(t, byTestID(marco, "expires-at"))

	_, err = marco.Goto(env.URL + "/members/" + codyID)
	must(t, err, "cody's member page")
	reach := byTestID(marco, "project-reach").Filter(playwright.LocatorFilterOptions{HasText: "payment-api"})
	reloadUntil(t, marco, reach.Locator(`[data-testid="grant-expiry"]`), "until", "payment-api marked time-bound")
	check(t, expect().Locator(reach.Locator(`[data-testid="grant-expiry"]`)).ToHaveText("until "+expires), "the grant's expiry")
	screenshot(t, marco, "polish-member-time-bound")
}

// Back and Forward on the lookup show each answer with the inputs that
// asked for it (htmx restores its snapshot of the DOM, which holds value
// attributes, not what was typed).
func TestLookupBackAndForwardKeepTheInputsWithTheirAnswer(t *testing.T) {
	env := startDemo(t)
	page := env.loginAsUser(t, "maya", "/lookup")
	ask := func(member, project string) {
		t.Helper()
		must(t, byTestID(page, "lookup-member").Fill(member), "member")
		must(t, byTestID(page, "lookup-project").Fill(project), "project")
		click(t, byTestID(page, "lookup-form").Locator(`button[type="submit"]`), "Check")
		must(t, expect().Page(page).ToHaveURL(regexp.MustCompile(`project=`+project)), "URL pushed")
	}
	ask("paul.payne@acme.test", "auth-service")
	must(t, expect().Locator(byTestID(page, "decision")).ToHaveAttribute("data-allowed", "no"), "paul denied on auth-service")
	ask("olivia.owner@acme.test", "payment-api")
	must(t, expect().Locator(byTestID(page, "decision")).ToHaveAttribute("data-allowed", "yes"), "olivia allowed on payment-api")

	_, err := page.GoBack()
	must(t, err, "Back")
	check(t, expect().Locator(byTestID(page, "decision")).ToHaveAttribute("data-allowed", "no"), "back: paul's answer")
	check(t, expect().Locator(byTestID(page, "lookup-member")).ToHaveValue("paul.payne@acme.test"), "back: paul in the member field")
	check(t, expect().Locator(byTestID(page, "lookup-project")).ToHaveValue("auth-service"), "back: auth-service in the project field")
	screenshot(t, page, "polish-lookup-back")

	_, err = page.GoForward()
	must(t, err, "Forward")
	check(t, expect().Locator(byTestID(page, "decision")).ToHaveAttribute("data-allowed", "yes"), "forward: olivia's answer")
	check(t, expect().Locator(byTestID(page, "lookup-member")).ToHaveValue("olivia.owner@acme.test"), "forward: olivia in the member field")
	check(t, expect().Locator(byTestID(page, "lookup-project")).ToHaveValue("payment-api"), "forward: payment-api in the project field")

	// And the form still works after the restores.
	ask("paul.payne@acme.test", "payment-api")
	check(t, expect().Locator(byTestID(page, "decision")).ToHaveAttribute("data-allowed", "yes"), "paul reaches payment-api")
}

// The graph focused on a team with many members, and on a project whose
// members are on several of its teams: every node's label is written, sits
// inside its box beside its subtitle without touching it, no two labels
// overlap, and the edges into the team carry the members' team roles.
func TestGraphLabelsStayInsideTheirNodesAndApart(t *testing.T) {
	env := startDemo(t)
	page := env.loginAsUser(t, "maya", "/graph?focus=team:payments")
	must(t, expect().Locator(byTestID(page, "graph-focus")).ToHaveText("payments"), "focused on payments")
	checkGraphLabels(t, page, "team payments")
	screenshot(t, page, "polish-graph-team-payments")
	_, err := page.Goto(env.URL + "/graph?focus=project:payment-api")
	must(t, err, "graph focused on payment-api")
	must(t, expect().Locator(byTestID(page, "graph-focus")).ToHaveText("payment-api"), "focused on payment-api")
	checkGraphLabels(t, page, "project payment-api")
	screenshot(t, page, "polish-graph-project-payment-api")
}

// graphLabels is what the browser measured of the graph's labels.
type graphLabels struct {
	Nodes      int      `json:"nodes"`
	Empty      int      `json:"empty"`
	Outside    []string `json:"outside"`
	Touching   []string `json:"touching"`
	Overlaps   []string `json:"overlaps"`
	EdgeLabels []string `json:"edgeLabels"`
}

func checkGraphLabels(t *testing.T, page playwright.Page, focus string) {
	t.Helper()
	v, err := page.Evaluate(`() => {
		const out = {nodes: 0, empty: 0, outside: [], touching: [], overlaps: [], edgeLabels: []};
		const inside = (b, r) => b.x >= r.x - 0.5 && b.y >= r.y - 0.5 && b.x + b.width <= r.x + r.width + 0.5 && b.y + b.height <= r.y + r.height + 0.5;
		const meet = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
		const labels = [];
		document.querySelectorAll('[data-testid="graph-node"]').forEach(n => {
			const r = n.querySelector("rect").getBBox();
			const label = n.querySelector("text.node-label"), sub = n.querySelector("text.node-sub");
			const lb = label.getBBox(), text = label.textContent.trim();
			out.nodes++;
			if (text === "") out.empty++;
			if (!inside(lb, r)) out.outside.push(text);
			if (sub && sub.textContent.trim() !== "") {
				const sb = sub.getBBox();
				if (!inside(sb, r)) out.outside.push(sub.textContent.trim());
				if (meet(lb, sb)) out.touching.push(text + " / " + sub.textContent.trim());
			}
			labels.push([text, lb]);
		});
		for (let i = 0; i < labels.length; i++)
			for (let j = i + 1; j < labels.length; j++)
				if (meet(labels[i][1], labels[j][1])) out.overlaps.push(labels[i][0] + " / " + labels[j][0]);
		document.querySelectorAll("text.edge-label").forEach(e => out.edgeLabels.push(e.textContent.trim()));
		return JSON.stringify(out);
	}`)
	must(t, err, "measure the graph's labels")
	var g graphLabels
	if err := json.Unmarshal([]byte(v.(string)), &g); err != nil {
		t.Fatal(err)
	}
	if g.Nodes < 3 || g.Empty > 0 {
		t.Errorf("%s: %d nodes, %d without a label; want every node named", focus, g.Nodes, g.Empty)
	}
	if len(g.Outside) > 0 {
		t.Errorf("%s: labels overflow their node: %q", focus, g.Outside)
	}
	if len(g.Touching) > 0 {
		t.Errorf("%s: a label runs into its node's subtitle: %q", focus, g.Touching)
	}
	if len(g.Overlaps) > 0 {
		t.Errorf("%s: labels overlap: %q", focus, g.Overlaps)
	}
	if !slices.ContainsFunc(g.EdgeLabels, func(l string) bool { return l == "admin" || l == "contributor" }) {
		t.Errorf("%s: edge labels %q name no team role", focus, g.EdgeLabels)
	}
}

// Signing in through the dev IdP asks for no missing favicon: the
// dashboard links its SVG icon and answers /favicon.ico, and the IdP
// answers it with 204 (a 404 is a console error on every sign-in).
func TestSigningInLoadsNoMissingFavicon(t *testing.T) {
	env := startDemo(t)
	page := newPage(t)
	var missing []string
	page.On("response", func(r playwright.Response) {
		if strings.Contains(r.URL(), "favicon") && r.Status() >= 400 {
			missing = append(missing, fmt.Sprintf("%s %d", r.URL(), r.Status()))
		}
	})
	_, err := page.Goto(env.URL + "/")
	must(t, err, "open the dashboard")
	u := env.user(t, sentryaccess.RoleApprover)
	fillIdPLogin(t, page, u)
	must(t, expect().Locator(byTestID(page, "user-email")).ToHaveText(u.Email), "signed in")
	// The icon is fetched after load: a reload lets the first page's
	// request finish and makes a second one.
	_, err = page.Reload()
	must(t, err, "reload")
	if len(missing) > 0 {
		t.Errorf("favicon requests failed: %v", missing)
	}
}
