package e2e

import (
	"regexp"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Journeys from the QA pass: a new user's questions, asked the way the
// pages offer them.

// "Paul cannot see auth-service": the troubleshooting page explains why
// (open membership off, not global, the project's teams, on neither), and
// its button opens the change form prefilled with the fix (add Paul to
// backend-eng); the approver makes it time-bound, sees who gains what,
// submits, and a second approver's approval applies it in Sentry.
func TestTroubleshootAUserWhoCannotSeeAProjectLeadsToAPrefilledChangeRequest(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	paulID := memberID(t, api, "paul.payne@acme.test")
	if onTeam(t, api, "backend-eng", "paul.payne@acme.test") {
		t.Fatal("the demo org already has paul on backend-eng")
	}

	maya := env.loginAsUser(t, "maya", "/")
	click(t, byTestID(maya, "nav-troubleshoot"), "Troubleshoot in the navigation")
	must(t, expect().Locator(byTestID(maya, "page-title")).ToHaveText("Troubleshoot"), "troubleshoot page")
	must(t, byTestID(maya, "ts-member").Fill("paul.payne@acme.test"), "member")
	must(t, byTestID(maya, "ts-project-input").Fill("auth-service"), "project")
	click(t, byTestID(maya, "ts-project-submit"), "Explain")

	diagnosis := byTestID(maya, "ts-project").Locator(`[data-testid="diagnosis"]`)
	must(t, expect().Locator(diagnosis).ToHaveAttribute("data-problem", "yes"), "a problem is diagnosed")
	lines := diagnosis.Locator(`[data-testid="diagnosis-line"]`)
	check(t, expect().Locator(lines).ToContainText([]string{
		"open membership is off",
		"org role Member is not global",
		"auth-service is linked to teams backend-eng and identity",
		"the member is on neither",
	}), "the chain of rules")
	check(t, expect().Locator(diagnosis.Locator(`[data-testid="diagnosis-fix"]`)).ToContainText("Add the member to team backend-eng"), "the fix")
	screenshot(t, maya, "qa-troubleshoot-diagnosis")

	// The button opens the change form with the fix filled in.
	click(t, diagnosis.Locator(`[data-testid="create-change-request"]`), "Create the change request")
	must(t, expect().Locator(byTestID(maya, "page-title")).ToHaveText("New change request"), "change form")
	check(t, expect().Locator(byTestID(maya, "step-kind")).ToHaveValue("team-add"), "kind prefilled")
	check(t, expect().Locator(byTestID(maya, "step-member")).ToHaveValue(paulID), "member prefilled")
	check(t, expect().Locator(byTestID(maya, "step-team")).ToHaveValue("backend-eng"), "team prefilled")
	// The preview is there before anything is typed: Paul gains auth-service.
	gain := byTestID(maya, "delta").Filter(playwright.LocatorFilterOptions{HasText: "auth-service"})
	check(t, expect().Locator(gain).ToContainText("paul.payne@acme.test"), "preview: paul gains auth-service")
	check(t, expect().Locator(gain).ToContainText("gains access"), "preview: gains access")

	// Two weeks, with a reason; submit.
	must(t, byTestID(maya, "justification").Fill("Paul covers the auth-service on-call rotation"), "justification")
	_, err := byTestID(maya, "expiry").SelectOption(playwright.SelectOptionValues{Values: &[]string{"2w"}})
	must(t, err, "expiry")
	screenshot(t, maya, "qa-troubleshoot-change-form")
	click(t, byTestID(maya, "submit-change"), "Submit for approval")
	must(t, maya.WaitForURL(regexp.MustCompile(`/changes/\d+$`)), "redirected to the request")
	check(t, expect().Locator(byTestID(maya, "request-state")).ToHaveText("pending-approval"), "pending")
	check(t, expect().Locator(byTestID(maya, "request-steps")).ToContainText("backend-eng"), "the step")
	check(t, expect().Locator(byTestID(maya, "request-steps")).ToContainText("paul.payne@acme.test"), "the step names paul by email")
	check(t, expect().Locator(byTestID(maya, "justification-text")).ToContainText("on-call rotation"), "justification kept")
	check(t, expect().Locator(byTestID(maya, "approve-disabled")).ToBeDisabled(), "the requester cannot approve")
	requestURL := maya.URL()
	screenshot(t, maya, "qa-troubleshoot-change-requested")
	if onTeam(t, api, "backend-eng", "paul.payne@acme.test") {
		t.Fatal("applied before any approval")
	}

	// Marco finds it in his inbox and approves: applied in Sentry, for two weeks.
	marco := env.loginAsUser(t, "marco", "/changes")
	check(t, expect().Locator(byTestID(marco, "awaiting-me")).ToContainText("backend-eng"), "in marco's inbox")
	_, err = marco.Goto(requestURL)
	must(t, err, "open the request")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")
	reloadUntil(t, marco, byTestID(marco, "grant-state"), "active", "time-bound grant")
	check(t, expect().Locator(byTestID(marco, "expires-at")).Not().ToBeEmpty(), "expiry shown")
	if !onTeam(t, api, "backend-eng", "paul.payne@acme.test") {
		t.Fatal("paul is not on backend-eng in Sentry after the approval")
	}

	// The same question now has the other answer.
	_, err = marco.Goto(env.URL + "/troubleshoot")
	must(t, err, "troubleshoot again")
	// The dashboard resyncs after an apply; ask until the snapshot has it.
	for i := 0; ; i++ {
		must(t, byTestID(marco, "ts-member").Fill("paul.payne@acme.test"), "member")
		must(t, byTestID(marco, "ts-project-input").Fill("auth-service"), "project")
		click(t, byTestID(marco, "ts-project-submit"), "Explain")
		d := byTestID(marco, "ts-project").Locator(`[data-testid="diagnosis"]`)
		must(t, expect().Locator(d).ToHaveCount(1), "a diagnosis")
		solved := expect().Locator(d).ToHaveAttribute("data-problem", "no", playwright.LocatorAssertionsToHaveAttributeOptions{Timeout: playwright.Float(1000)})
		if solved == nil || i == 20 {
			check(t, solved, "no problem after the change")
			break
		}
		_, err = marco.Reload()
		must(t, err, "reload")
	}
	screenshot(t, marco, "qa-troubleshoot-after")
}

// A viewer who diagnoses someone else is told to ask an approver, not
// handed a form that would silently ask for her own access instead; for
// herself she gets the prefilled request.
func TestAViewerIsOfferedAChangeRequestOnlyForHerself(t *testing.T) {
	env := startDemo(t)
	page, u := env.loginAs(t, sentryaccess.RoleViewer, "/troubleshoot")
	diagnosis := byTestID(page, "ts-project").Locator(`[data-testid="diagnosis"]`)

	must(t, byTestID(page, "ts-member").Fill("paul.payne@acme.test"), "member")
	must(t, byTestID(page, "ts-project-input").Fill("auth-service"), "project")
	click(t, byTestID(page, "ts-project-submit"), "Explain")
	must(t, expect().Locator(diagnosis).ToHaveAttribute("data-problem", "yes"), "a problem is diagnosed")
	check(t, expect().Locator(diagnosis.Locator(`[data-testid="diagnosis-fix"]`)).ToContainText("ask one"), "ask an approver")
	check(t, expect().Locator(diagnosis.Locator(`[data-testid="create-change-request"]`)).ToHaveCount(0), "no change request for paul")
	screenshot(t, page, "qa-troubleshoot-viewer-other")

	// Priya is on neither platform team nor any team linked to k8s-operator.
	must(t, byTestID(page, "ts-member").Fill(u.Email), "member")
	must(t, byTestID(page, "ts-project-input").Fill("k8s-operator"), "project")
	click(t, byTestID(page, "ts-project-submit"), "Explain")
	must(t, expect().Locator(diagnosis).ToContainText("k8s-operator"), "diagnosis for herself")
	click(t, diagnosis.Locator(`[data-testid="create-change-request"]`), "Create the change request")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("New change request"), "change form")
	check(t, expect().Locator(byTestID(page, "step-member")).ToHaveValue(memberID(t, env.sentryClient(t), u.Email)), "her own request")
	check(t, expect().Locator(byTestID(page, "deltas")).ToContainText("k8s-operator"), "preview: she gains k8s-operator")
}
