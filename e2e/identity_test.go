package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// Sentry acts as the owner of the configured token: Maya asks to make
// Olivia, whose token the dashboard uses, a manager, and the preview says
// that Sentry refuses it and why, before anything is filed.
func TestTheTokenOwnerAsTargetIsRefusedInThePreviewWithTheReason(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	olivia := memberID(t, api, sentrysim.DemoOwnerEmail)
	page := env.loginAsUser(t, "maya", "/changes/new?"+url.Values{"kind": {"org-role"}, "member": {olivia}, "role": {"manager"}}.Encode())
	check(t, expect().Locator(byTestID(page, "acting-as")).ToContainText("Sentry will act as olivia.owner@acme.test"), "who Sentry acts as")
	check(t, expect().Locator(byTestID(page, "blocking")).ToContainText("You cannot make changes to your own role"), "Sentry's refusal")
	check(t, expect().Locator(byTestID(page, "blocking")).ToContainText("another owner or manager"), "the fix")
	screenshot(t, page, "token-owner-own-role")
	must(t, byTestID(page, "justification").Fill("promote"), "justification")
	click(t, byTestID(page, "submit-change"), "Submit")
	check(t, expect().Locator(byTestID(page, "form-error")).ToContainText("own org role"), "submitting is refused with the reason")
}

// Separation of duties through a team link: Marco is a plain member on
// backend-eng here; Maya asks to link backend-eng to k8s-operator, which
// gives Marco k8s-operator. Marco may not approve it, and while only Maya
// and Marco have signed in the request says nobody known can approve it;
// Olivia, unaffected (an owner reaches everything already), approves it.
func TestAnApproverGainingAccessThroughATeamLinkCannotApprove(t *testing.T) {
	env := startDemo(t, func(o *dashboard.DemoOptions) {
		fx := sentrysim.DemoFixture()
		for i := range fx.Members {
			if fx.Members[i].Email == "marco.mendes@acme.test" {
				fx.Members[i].Role = "member"
			}
		}
		o.Fixture = fx
	})
	api := env.sentryClient(t)
	marco := env.loginAsUser(t, "marco", "/changes")
	maya := env.loginAsUser(t, "maya", "/changes/new?"+url.Values{"kind": {"project-link"}, "team": {"backend-eng"}, "project": {"k8s-operator"}}.Encode())
	check(t, expect().Locator(byTestID(maya, "affected")).ToContainText("marco.mendes@acme.test"), "the preview names Marco among those affected")
	check(t, expect().Locator(byTestID(maya, "affected")).ToContainText("gains k8s-operator"), "and how")
	must(t, byTestID(maya, "justification").Fill("backend on-call for the operator"), "justification")
	click(t, byTestID(maya, "submit-change"), "Submit")
	must(t, maya.WaitForURL("**/changes/1"), "redirected to the request")

	if _, err := marco.Goto(env.URL + "/changes/1"); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(byTestID(marco, "approve-disabled")).ToBeDisabled(), "Marco cannot approve")
	check(t, expect().Locator(byTestID(marco, "decide-reason")).ToContainText("own access"), "why")
	check(t, expect().Locator(byTestID(marco, "decide-reason")).ToContainText("k8s-operator"), "what he gains")
	check(t, expect().Locator(byTestID(marco, "eligibility")).ToContainText("No approver the dashboard knows of can approve"), "stuck")
	screenshot(t, marco, "approver-gains-through-link")
	if _, err := marco.Goto(env.URL + "/changes"); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(byTestID(marco, "awaiting-me").Locator(`[data-testid="request-row"]`)).ToHaveCount(0), "not in Marco's inbox")
	check(t, expect().Locator(byTestID(marco, "recent")).ToContainText("no eligible approver"), "the inbox says it is stuck")
	// A forged post is refused by the service too.
	status := postAs(t, marco, env.URL+"/changes/1/approve")
	if status != http.StatusForbidden {
		t.Errorf("Marco's approve post: %d, want 403", status)
	}

	olivia := env.loginAsUser(t, "olivia", "/changes/1")
	click(t, byTestID(olivia, "approve"), "Approve")
	check(t, expect().Locator(byTestID(olivia, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")
	teams, err := api.ProjectTeams(t.Context(), "k8s-operator")
	if err != nil || !containsTeam(teams, "backend-eng") {
		t.Errorf("k8s-operator teams = %v (%v), want backend-eng linked", teams, err)
	}
}

// Offboarding through SCIM: Paul Payne was provisioned by the IdP, so the
// REST removal is refused and says to deactivate him through SCIM; that
// request previews clean, needs two approvals, applies, and Paul is gone
// in Sentry and on the dashboard's pages.
func TestSCIMDeactivationOfAProvisionedMemberAppliesAndTheMemberIsGone(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	paul := memberID(t, api, "paul.payne@acme.test")
	maya := env.loginAsUser(t, "maya", "/changes/new?"+url.Values{"kind": {"member-remove"}, "member": {paul}}.Encode())
	check(t, expect().Locator(byTestID(maya, "blocking")).ToContainText("SCIM: deactivate user"), "the REST removal points to SCIM")
	if _, err := maya.Goto(env.URL + "/changes/new?" + url.Values{"kind": {"scim-user-deactivate"}, "member": {paul}}.Encode()); err != nil {
		t.Fatal(err)
	}
	waitForHTMX(t, maya)
	check(t, expect().Locator(byTestID(maya, "affected")).ToContainText("removed from the organization"), "the preview")
	check(t, expect().Locator(byTestID(maya, "blocking")).ToHaveCount(0), "nothing blocks")
	check(t, expect().Locator(byTestID(maya, "preview-required")).ToContainText("2 approval"), "sensitive")
	must(t, byTestID(maya, "justification").Fill("left the company"), "justification")
	click(t, byTestID(maya, "submit-change"), "Submit")
	must(t, maya.WaitForURL("**/changes/1"), "redirected to the request")

	marco := env.loginAsUser(t, "marco", "/changes/1")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("pending-approval"), "one of two")
	olivia := env.loginAsUser(t, "olivia", "/changes/1")
	click(t, byTestID(olivia, "approve"), "Approve")
	check(t, expect().Locator(byTestID(olivia, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")

	if ms, err := api.ListMembers(t.Context(), sentry.MemberQuery{Email: "paul.payne@acme.test"}); err != nil || len(ms) != 0 {
		t.Errorf("Sentry still lists Paul: %v (%v)", ms, err)
	}
	// The apply re-reads what it touched: the member page is gone.
	if _, err := olivia.Goto(env.URL + "/members/" + paul); err != nil {
		t.Fatal(err)
	}
	reloadUntil(t, olivia, byTestID(olivia, "error"), "Error 404", "Paul's member page after the apply")
	resp, err := olivia.Goto(env.URL + "/members/" + paul)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status() != http.StatusNotFound {
		t.Errorf("Paul's member page answers %d after the apply, want 404", resp.Status())
	}
}

func containsTeam(ts []sentry.Team, slug string) bool {
	for _, t := range ts {
		if t.Slug == slug {
			return true
		}
	}
	return false
}

// postAs posts an empty form from page's session (with the page's origin,
// as the browser would) and returns the status.
func postAs(t *testing.T, page playwright.Page, u string) int {
	t.Helper()
	resp, err := page.Request().Post(u, playwright.APIRequestContextPostOptions{
		Headers: map[string]string{"Origin": env0(u), "Content-Type": "application/x-www-form-urlencoded"},
		Data:    "comment=mine",
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status()
}

// env0 is the origin of u.
func env0(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}
