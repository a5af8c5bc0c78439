package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// An org-role change previews what happens to the member's team roles and
// offers to keep them: Maya, a manager, is Team Admin on payments and
// identity through her org role alone (her stored team roles are null).
// Demoting her to member would leave her a Contributor on both; the
// preview lists both, "Add step: keep admin on payments" adds the step
// that keeps it, after which the preview lists identity alone; applied,
// Sentry has Maya as Team Admin on payments and at the member's minimum
// on identity. (The org runs with one sensitive approval here: with the
// default two, Maya and Olivia the requester leave only Marco.)
func TestAnOrgRoleDemotionOffersToKeepTheTeamRolesItLowers(t *testing.T) {
	const maya = "maya.manager@acme.test"
	env := startDemo(t, func(o *dashboard.DemoOptions) {
		o.Policy = changes.DefaultPolicy()
		o.Policy.SensitiveApprovals = 1
	})
	api := env.sentryClient(t)
	id := memberID(t, api, maya)
	olivia := env.loginAsUser(t, "olivia", "/changes/new?"+url.Values{"kind": {"org-role"}, "member": {id}, "role": {"member"}}.Encode())
	effects := byTestID(olivia, "team-role-effect")
	must(t, expect().Locator(effects).ToHaveCount(2), "the preview lists both team roles")
	check(t, expect().Locator(effects.Filter(playwright.LocatorFilterOptions{HasText: "payments"})).ToBeVisible(), "payments")
	check(t, expect().Locator(effects.Filter(playwright.LocatorFilterOptions{HasText: "identity"})).ToBeVisible(), "identity")
	keep := effects.Filter(playwright.LocatorFilterOptions{HasText: "payments"}).Locator(`[data-testid="restore-team-role"]`)
	check(t, expect().Locator(keep).ToHaveText("Add step: keep admin on payments"), "the offer")
	screenshot(t, olivia, "org-role-team-roles")
	click(t, keep, "Add step: keep admin on payments")
	must(t, expect().Locator(olivia.Locator(".step-row")).ToHaveCount(2), "a second step")
	waitForHTMXIdle(t, olivia)
	// The added step is previewed with the rest: only identity is left.
	must(t, expect().Locator(effects).ToHaveCount(1), "one team role left to keep")
	check(t, expect().Locator(effects).ToContainText("identity"), "identity is the one left")
	must(t, byTestID(olivia, "justification").Fill("moves to individual contributor, keeps running payments"), "justification")
	click(t, byTestID(olivia, "submit-change"), "Submit")
	must(t, olivia.WaitForURL("**/changes/1"), "redirected to the request")

	marco := env.loginAsUser(t, "marco", "/changes/1")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")

	role := func(team string) string {
		ms, err := api.ListTeamMembers(t.Context(), team)
		must(t, err, "list "+team)
		i := slices.IndexFunc(ms, func(m sentry.TeamMember) bool { return strings.EqualFold(m.Email, maya) })
		if i < 0 {
			t.Fatalf("Maya is no longer on %s", team)
		}
		if ms[i].TeamRole == nil {
			return "null"
		}
		return *ms[i].TeamRole
	}
	if got := role("payments"); got != "admin" {
		t.Errorf("Maya's team role on payments in Sentry = %s, want admin (kept)", got)
	}
	if got := role("identity"); got == "admin" {
		t.Errorf("Maya's team role on identity in Sentry = %s, want the member's minimum", got)
	}
	if ms, err := api.ListMembers(t.Context(), sentry.MemberQuery{Email: maya}); err != nil || len(ms) != 1 || ms[0].OrgRole != "member" {
		t.Errorf("Maya in Sentry: %+v (%v), want org role member", ms, err)
	}
}
