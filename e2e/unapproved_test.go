package e2e

import (
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// sentryDirect sends one request straight to the simulator with the
// owner's token, as an admin's curl would:
//
//	curl -X POST -H "Authorization: Bearer $SENTRY_AUTH_TOKEN" "$SENTRY_URL/api/0/organizations/acme/members/$ID/teams/platform/"
//
// and fails the test unless Sentry answers want.
func (e *demoEnv) sentryDirect(t *testing.T, method, path string, want int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.SentryURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.Credentials.OwnerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, body, want)
	}
}

// syncNow clicks the overview's Sync now and waits until the sync is over.
func syncNow(t *testing.T, page playwright.Page) {
	t.Helper()
	click(t, byTestID(page, "sync-now"), "Sync now")
	must(t, expect().Locator(byTestID(page, "sync-panel")).ToHaveAttribute("data-running", "no",
		playwright.LocatorAssertionsToHaveAttributeOptions{Timeout: playwright.Float(30000)}), "sync done")
}

// An admin adds dana to platform straight through Sentry's API: after the
// next sync the dashboard flags it as made outside sentry-access (overview,
// member and team pages, the diff), with Sentry's audit entry; an approver
// accepts it with a note and it stops being flagged. A second such change
// (platform linked to legacy-monolith) is reverted through the prefilled
// change request, which a second approver approves and the dashboard
// applies: the link is gone in Sentry and the change is no longer flagged.
func TestAChangeMadeOutsideSentryAccessIsFlaggedThenAcceptedOrReverted(t *testing.T) {
	e := startDemo(t)
	api := e.sentryClient(t)
	dana := memberID(t, api, "dana.doyle@acme.test")
	outside := func(page playwright.Page) playwright.Locator {
		return page.Locator(`[data-testid="finding"][data-kind="unapproved"]`)
	}
	// flagged is the overview's count of changes still flagged.
	flagged := func(page playwright.Page) playwright.Locator { return outside(page).Locator("td") }

	maya := e.loginAsUser(t, "maya", "/")
	check(t, expect().Locator(flagged(maya)).ToHaveText("0"), "nothing flagged after the first sync")

	e.sentryDirect(t, http.MethodPost, "/api/0/organizations/"+e.Credentials.Org+"/members/"+dana+"/teams/platform/", http.StatusCreated)
	syncNow(t, maya)
	check(t, expect().Locator(flagged(maya)).ToHaveText("1"), "one change flagged on the overview")
	check(t, expect().Locator(outside(maya)).ToHaveClass(regexp.MustCompile(`finding-warn`)), "flagged as a warning")
	screenshot(t, maya, "outside-overview")

	click(t, outside(maya).Locator("a"), "the finding")
	check(t, expect().Locator(byTestID(maya, "page-title")).ToHaveText("Changes made outside sentry-access"), "the list")
	row := byTestID(maya, "outside-row")
	check(t, expect().Locator(row).ToHaveCount(1), "one row")
	check(t, expect().Locator(row).ToContainText("dana.doyle@acme.test joined team platform"), "the change")
	check(t, expect().Locator(row.Locator(`[data-testid="outside-audit"]`)).ToContainText("member.join-team"), "Sentry's audit entry")
	check(t, expect().Locator(row.Locator(`[data-testid="outside-audit"]`)).ToContainText("from 127.0.0.1"), "the IP for an approver")

	// A viewer sees the change and who made it, but neither answer (nor
	// the IP address).
	href, err := row.Locator(`[data-testid="outside-change"]`).GetAttribute("href")
	must(t, err, "the finding's link")
	priya := e.loginAsUser(t, "priya", href)
	check(t, expect().Locator(byTestID(priya, "page-title")).ToHaveText("dana.doyle@acme.test joined team platform"), "the viewer's page")
	check(t, expect().Locator(byTestID(priya, "outside-audit")).ToContainText("member.join-team"), "Sentry's audit entry for a viewer")
	check(t, expect().Locator(byTestID(priya, "outside-audit")).Not().ToContainText("127.0.0.1"), "no IP for a viewer")
	check(t, expect().Locator(byTestID(priya, "outside-viewer")).ToBeVisible(), "who answers it")
	check(t, expect().Locator(byTestID(priya, "accept")).ToHaveCount(0), "no accept button for a viewer")
	check(t, expect().Locator(byTestID(priya, "revert")).ToHaveCount(0), "no revert button for a viewer")

	// Shown on dana's page, on the team's page and in the diff.
	for _, path := range []string{"/members/" + dana, "/teams/platform"} {
		if _, err := maya.Goto(e.URL + path); err != nil {
			t.Fatal(err)
		}
		check(t, expect().Locator(byTestID(maya, "outside-section")).ToContainText("dana.doyle@acme.test joined team platform"), "section on "+path)
	}
	if _, err := maya.Goto(e.URL + "/snapshots"); err != nil {
		t.Fatal(err)
	}
	click(t, byTestID(maya, "compare"), "Compare")
	check(t, expect().Locator(byTestID(maya, "diff-teams").Locator(`[data-testid="outside-mark"]`)).ToHaveText("made outside sentry-access"), "the diff row marked")
	check(t, expect().Locator(byTestID(maya, "diff-outside")).ToContainText("dana.doyle@acme.test joined team platform"), "the diff's section")
	screenshot(t, maya, "outside-diff")

	// Maya accepts it with a note.
	click(t, byTestID(maya, "diff-outside").Locator(`[data-testid="outside-change"]`), "open the change")
	check(t, expect().Locator(byTestID(maya, "outside-state")).ToHaveText("open"), "open")
	must(t, byTestID(maya, "accept-note").Fill("Dana joins platform on-call from Monday (OPS-311)"), "note")
	screenshot(t, maya, "outside-detail")
	click(t, byTestID(maya, "accept"), "Accept the change")
	check(t, expect().Locator(byTestID(maya, "outside-state")).ToHaveText("accepted"), "accepted")
	check(t, expect().Locator(byTestID(maya, "outside-note")).ToHaveText("Dana joins platform on-call from Monday (OPS-311)"), "the note shown")
	if _, err := maya.Goto(e.URL + "/"); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(flagged(maya)).ToHaveText("0"), "no longer flagged on the overview")
	if _, err := maya.Goto(e.URL + "/members/" + dana); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(byTestID(maya, "outside-section")).ToHaveCount(0), "no longer flagged on dana's page")
	if _, err := maya.Goto(e.URL + "/trail"); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(maya.Locator("main")).ToContainText("OPS-311"), "the acceptance in the audit trail")

	// A second change made outside: platform gets legacy-monolith.
	e.sentryDirect(t, http.MethodPost, "/api/0/projects/"+e.Credentials.Org+"/legacy-monolith/teams/platform/", http.StatusCreated)
	if _, err := maya.Goto(e.URL + "/"); err != nil {
		t.Fatal(err)
	}
	waitForHTMX(t, maya)
	syncNow(t, maya)
	check(t, expect().Locator(flagged(maya)).ToHaveText("1"), "the second change flagged")
	if _, err := maya.Goto(e.URL + "/projects/legacy-monolith"); err != nil {
		t.Fatal(err)
	}
	section := byTestID(maya, "outside-section")
	check(t, expect().Locator(section).ToContainText("team platform was given access to project legacy-monolith"), "on the project page")
	click(t, section.Locator(`[data-testid="outside-change"]`), "open the change")
	click(t, byTestID(maya, "revert"), "Revert with a change request…")
	check(t, expect().Locator(byTestID(maya, "revert-step")).ToHaveText("unlink project legacy-monolith from team platform"), "the inverse step, prefilled")
	check(t, expect().Locator(byTestID(maya, "revert-justification")).ToHaveValue(regexp.MustCompile(`team platform was given access to project legacy-monolith`)), "justification prefilled")
	check(t, expect().Locator(byTestID(maya, "revert-preview")).ToContainText("legacy-monolith"), "the preview")
	screenshot(t, maya, "outside-revert-form")
	click(t, byTestID(maya, "file-revert"), "File the change request")
	must(t, maya.WaitForURL("**/changes/*"), "redirected to the request")
	check(t, expect().Locator(byTestID(maya, "request-state")).ToHaveText("pending-approval"), "pending approval")
	reqURL := maya.URL()

	// Marco approves; the dashboard applies it in Sentry.
	marco := e.loginAsUser(t, "marco", reqURL[len(e.URL):])
	must(t, byTestID(marco, "decision-comment").Fill("revert the unapproved link"), "comment")
	click(t, byTestID(marco, "approve"), "Approve")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "applied")
	ts, err := api.ProjectTeams(t.Context(), "legacy-monolith")
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range ts {
		if tm.Slug == "platform" {
			t.Error("platform still has legacy-monolith in Sentry after the revert")
		}
	}
	// The request links the Sentry audit entry of its step (archived by
	// the sync after the apply).
	reloadUntil(t, marco, byTestID(marco, "request-audit"), "project-team.remove", "the request's audit entry")
	screenshot(t, marco, "outside-revert-applied")

	// The finding is reverted, and nothing is flagged any more: the
	// revert's own change is explained by its request.
	if _, err := maya.Goto(e.URL + "/outside?all=1"); err != nil {
		t.Fatal(err)
	}
	reloadUntil(t, maya, byTestID(maya, "outside-table"), "reverted", "the reverted finding")
	if _, err := maya.Goto(e.URL + "/"); err != nil {
		t.Fatal(err)
	}
	check(t, expect().Locator(flagged(maya)).ToHaveText("0"), "nothing flagged after the revert")
}
