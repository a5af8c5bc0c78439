package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// The access lifecycle end to end (issue 12): a team created from the
// change form, time-bound access revoked now, time-bound invites, Sentry's
// own access requests approved for a time, an expiry that leaves a member
// on no team, the contractor blueprint and its Terraform, the audit
// export's quarterly shape, a closed review's change request and the
// troubleshooter's live checks.

// requestURL matches a change request's page.
var requestURL = regexp.MustCompile(`/changes/[0-9]+$`)

// selectOption picks value in the select l.
func selectOption(t *testing.T, l playwright.Locator, value, what string) {
	t.Helper()
	if _, err := l.First().SelectOption(playwright.SelectOptionValues{Values: &[]string{value}}); err != nil {
		t.Fatalf("select %s = %s: %v", what, value, err)
	}
}

// submitChange fills the change form's justification, submits it and
// waits for the request page it redirects to; it returns the request id.
func submitChange(t *testing.T, page playwright.Page, justification string) string {
	t.Helper()
	must(t, byTestID(page, "justification").Fill(justification), "justification")
	click(t, byTestID(page, "submit-change"), "Submit for approval")
	must(t, page.WaitForURL(requestURL), "redirected to the request")
	return page.URL()[strings.LastIndex(page.URL(), "/")+1:]
}

// approveAndApply has the approver named approver approve request id and
// waits until it is applied and, when it is time-bound, until its grant is
// active (the grant is recorded right after the last step); it returns
// the approver's page.
func (e *demoEnv) approveAndApply(t *testing.T, approver, id string) playwright.Page {
	t.Helper()
	p := e.loginAsUser(t, approver, "/changes/"+id)
	click(t, byTestID(p, "approve"), "Approve")
	must(t, expect().Locator(byTestID(p, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "request "+id+" applied")
	if n, err := byTestID(p, "expiry-panel").Count(); err == nil && n > 0 {
		reloadUntil(t, p, byTestID(p, "grant-state"), "active", "the grant of request "+id)
	}
	return p
}

// expire moves every party's clock past d and runs the expiry tick.
func (e *demoEnv) expire(t *testing.T, d time.Duration) {
	t.Helper()
	e.Clock.Advance(d)
	if err := e.Server.ExpireGrants(t.Context()); err != nil {
		t.Fatalf("expire grants: %v", err)
	}
}

func teamExists(t *testing.T, c *sentry.Client, slug string) bool {
	t.Helper()
	ts, err := c.ListTeams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ts, func(x sentry.Team) bool { return x.Slug == slug })
}

func isMember(t *testing.T, c *sentry.Client, email string) bool {
	t.Helper()
	ms, err := c.ListMembers(t.Context(), sentry.MemberQuery{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ms, func(m sentry.Member) bool { return strings.EqualFold(m.Email, email) })
}

// A new team from the change form: a slug Sentry refuses is said in the
// preview with the fix, and nothing is filed; the slug it suggests is
// accepted, approved and created in Sentry.
func TestANewTeamFromTheChangeFormTakesOnlyASlugSentryAccepts(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	maya := env.loginAsUser(t, "maya", "/changes/new?kind=team-create")
	check(t, expect().Locator(byTestID(maya, "slug-rule")).ToContainText("lowercase letters, numbers, underscores or hyphens"), "the slug rule is shown")
	must(t, byTestID(maya, "step-slug").Fill("Search Team"), "bad slug")
	must(t, byTestID(maya, "step-name").Fill("Search"), "name")
	click(t, byTestID(maya, "preview-button"), "Preview")
	check(t, expect().Locator(byTestID(maya, "preview").Locator(`[data-testid="form-error"]`)).ToContainText(`The team slug "Search Team" is not one Sentry accepts`), "bad slug refused in the preview")
	check(t, expect().Locator(byTestID(maya, "preview").Locator(`[data-testid="form-error"]`)).ToContainText(`Try "search-team"`), "the fix is suggested")
	screenshot(t, maya, "team-create-bad-slug")
	must(t, byTestID(maya, "step-slug").Fill("1234"), "all-digit slug")
	click(t, byTestID(maya, "preview-button"), "Preview")
	check(t, expect().Locator(byTestID(maya, "preview").Locator(`[data-testid="form-error"]`)).ToContainText("all digits"), "an all-digit slug is refused")

	must(t, byTestID(maya, "step-slug").Fill("search-team"), "good slug")
	click(t, byTestID(maya, "preview-button"), "Preview")
	check(t, expect().Locator(byTestID(maya, "preview-required")).ToContainText("1 approval"), "a valid slug previews")
	check(t, expect().Locator(byTestID(maya, "preview").Locator(`[data-testid="form-error"]`)).ToHaveCount(0), "no error for a valid slug")
	id := submitChange(t, maya, "A team for the search squad")
	check(t, expect().Locator(byTestID(maya, "request-steps")).ToContainText("create team search-team"), "the request creates search-team")
	if teamExists(t, api, "search-team") {
		t.Fatal("the team exists before anyone approved")
	}
	env.approveAndApply(t, "marco", id)
	if !teamExists(t, api, "search-team") {
		t.Error("search-team is not in Sentry after the request was applied")
	}
}

// Time-bound access is taken away before its expiry, once from the
// request's page and once from the member's page: each is a change request
// approved by the approver who revokes, applied at once, and the member is
// off the team in Sentry.
func TestATimeBoundGrantIsRevokedNowFromItsRequestAndFromTheMemberPage(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	paul := "paul.payne@acme.test"
	paulID := memberID(t, api, paul)

	grant := func(team string) string {
		maya := env.loginAsUser(t, "maya", "/changes/new?kind=team-add&expiry=1w&member="+paulID+"&team="+team)
		id := submitChange(t, maya, "On call for "+team+" this week")
		env.approveAndApply(t, "marco", id)
		if !onTeam(t, api, team, paul) {
			t.Fatalf("paul is not on %s after the grant was applied", team)
		}
		return id
	}

	// From the request page.
	first := grant("platform")
	marco := env.loginAsUser(t, "marco", "/changes/"+first)
	reloadUntil(t, marco, byTestID(marco, "grant-state"), "active", "grant")
	must(t, byTestID(marco, "revoke-justification").Fill("The rota changed"), "why now")
	click(t, byTestID(marco, "revoke-now"), "Revoke now")
	must(t, marco.WaitForURL(func(u string) bool { return requestURL.MatchString(u) && !strings.HasSuffix(u, "/changes/"+first) }), "redirected to the revocation")
	check(t, expect().Locator(byTestID(marco, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "revocation applied")
	check(t, expect().Locator(byTestID(marco, "approvals-count")).ToContainText("1 of 1"), "approved by the revoker as she filed it")
	check(t, expect().Locator(byTestID(marco, "request-steps")).ToContainText("remove member "+paul+" from team platform"), "the revocation removes paul from platform")
	if onTeam(t, api, "platform", paul) {
		t.Error("paul is still on platform in Sentry after Revoke now")
	}
	_, err := marco.Goto(env.URL + "/changes/" + first)
	must(t, err, "back to the grant")
	reloadUntil(t, marco, byTestID(marco, "grant-state"), "revoked", "the grant ends revoked")
	check(t, expect().Locator(byTestID(marco, "revoke-now")).ToHaveCount(0), "nothing left to revoke")

	// From the member page.
	grant("mobile")
	page := env.loginAsUser(t, "marco", "/members/"+paulID)
	row := byTestID(page, "team-row").Filter(playwright.LocatorFilterOptions{HasText: "mobile"})
	check(t, expect().Locator(row.Locator(`[data-testid="grant-expiry"]`)).ToBeVisible(), "the time-bound membership is marked on the member page")
	screenshot(t, page, "member-revoke-now")
	must(t, row.Locator(`[data-testid="revoke-justification"]`).Fill("Left the mobile project"), "why now")
	click(t, row.Locator(`[data-testid="revoke-now"]`), "Revoke now on the member page")
	must(t, page.WaitForURL(requestURL), "redirected to the revocation")
	check(t, expect().Locator(byTestID(page, "request-state")).ToHaveText("applied", playwright.LocatorAssertionsToHaveTextOptions{Timeout: playwright.Float(30000)}), "revocation applied")
	if onTeam(t, api, "mobile", paul) {
		t.Error("paul is still on mobile in Sentry after Revoke now from his page")
	}
	if onTeam(t, api, "payments", paul) == false {
		t.Error("revoking the mobile grant took paul off payments, which no grant gave")
	}
}

// An invite for a week: approved, the invite is in Sentry; at the expiry
// the member is removed, which cancels the invite.
func TestATimeBoundInviteIsCancelledAtItsExpiry(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	guest := "guest.auditor@example.test"
	maya := env.loginAsUser(t, "maya", "/changes/new?kind=member-invite&expiry=1w")
	must(t, byTestID(maya, "step-email").Fill(guest), "email")
	selectOption(t, byTestID(maya, "step-org-role"), "member", "org role")
	click(t, byTestID(maya, "preview-button"), "Preview")
	check(t, expect().Locator(byTestID(maya, "affected")).ToContainText(guest), "the preview names the invitee")
	check(t, expect().Locator(byTestID(maya, "untimed")).ToHaveCount(0), "an invite can be time-bound")
	id := submitChange(t, maya, "External auditor for one week")
	env.approveAndApply(t, "marco", id)
	if !isMember(t, api, guest) {
		t.Fatal("the invite is not in Sentry after the request was applied")
	}
	env.expire(t, 8*24*time.Hour)
	if isMember(t, api, guest) {
		t.Error("the invite is still in Sentry after its expiry")
	}
	after := env.loginAsUser(t, "maya", "/changes/"+id)
	check(t, expect().Locator(byTestID(after, "grant-state")).ToHaveText("expired"), "grant expired")
}

// One of Sentry's own team access requests is approved for a week; at the
// expiry the member leaves the team again and, on no team now, the
// request page says so and offers a request to remove her from the org.
func TestASentryAccessRequestApprovedForAWeekEndsAndOffersRemovalFromTheOrg(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	dana := "dana.doyle@acme.test"
	danaID := memberID(t, api, dana)

	maya := env.loginAsUser(t, "maya", "/changes")
	row := byTestID(maya, "access-request").Filter(playwright.LocatorFilterOptions{HasText: dana})
	check(t, expect().Locator(row).ToContainText("payments"), "dana's access request to payments is listed")
	selectOption(t, row.Locator(`[data-testid="access-request-expiry"]`), "1w", "for")
	click(t, row.Locator(`[data-testid="access-request-approve"]`), "Approve…")
	must(t, maya.WaitForURL(requestURL), "redirected to the request")
	id := maya.URL()[strings.LastIndex(maya.URL(), "/")+1:]
	check(t, expect().Locator(byTestID(maya, "expires-at")).Not().ToHaveText("—"), "the approval is time-bound")
	check(t, expect().Locator(byTestID(maya, "request-steps")).ToContainText(dana+" joins team payments"), "the step names dana by email")
	env.approveAndApply(t, "marco", id)
	if !onTeam(t, api, "payments", dana) {
		t.Fatal("dana is not on payments after the approval was applied")
	}

	env.expire(t, 8*24*time.Hour)
	if onTeam(t, api, "payments", dana) {
		t.Fatal("dana is still on payments after the expiry")
	}
	page := env.loginAsUser(t, "maya", "/changes/"+id)
	check(t, expect().Locator(byTestID(page, "grant-state")).ToHaveText("expired"), "grant expired")
	orphan := byTestID(page, "orphan")
	check(t, expect().Locator(orphan).ToContainText(dana+" is on no team"), "the page says dana is left on no team")
	screenshot(t, page, "left-on-no-team")
	click(t, orphan.Locator(`[data-testid="offer-remove"]`), "Request removal from the organization")
	must(t, page.WaitForURL(func(u string) bool { return strings.Contains(u, "/changes/new?") }), "the change form")
	check(t, expect().Locator(byTestID(page, "step-kind")).ToHaveValue("member-remove"), "kind prefilled")
	check(t, expect().Locator(byTestID(page, "step-member")).ToHaveValue(danaID), "member prefilled")
	check(t, expect().Locator(byTestID(page, "affected")).ToContainText("removed from the organization"), "the preview says she is removed")
	submitChange(t, page, "On no team since her access request ended")
	check(t, expect().Locator(byTestID(page, "request-steps")).ToContainText("remove member "+dana), "the removal request names dana")
	if !isMember(t, api, dana) {
		t.Error("dana was removed before anyone approved")
	}
}

// The contractor sample puts an end date on access that already exists:
// the plan lists the end dates, downloads as Terraform for
// jianyuan/sentry, and once applied and expired the contractors are off
// their team and the team off its project in Sentry.
func TestTheContractorBlueprintEndsExistingAccessAndDownloadsAsTerraform(t *testing.T) {
	env := startDemo(t)
	api := env.sentryClient(t)
	maya := env.loginAsUser(t, "maya", "/blueprints")
	click(t, byTestID(maya, "sample-contractor-access.yaml"), "the contractor sample")
	check(t, expect().Locator(byTestID(maya, "blueprint-yaml")).ToContainText("expires: 14d"), "sample loaded")
	click(t, byTestID(maya, "plan"), "Plan")
	steps := byTestID(maya, "plan-steps")
	check(t, expect().Locator(steps).ToContainText("end team contractors-q1's link to project mobile-redesign at the expiry"), "an end date on the existing project link")
	check(t, expect().Locator(steps).ToContainText("end cody.cruz@acme.test's membership of team contractors-q1 at the expiry"), "an end date on cody's existing membership")
	check(t, expect().Locator(steps).ToContainText("end leo.lund@acme.test's membership of team contractors-q1 at the expiry"), "an end date on leo's existing membership")
	screenshot(t, maya, "blueprint-contractor-plan")

	tf, name := download(t, maya, byTestID(maya, "plan-tf"), "the plan as Terraform")
	if name != "blueprint-contractor-access-with-limited-blast-radius.tf" {
		t.Errorf("terraform file name = %q", name)
	}
	for _, want := range []string{"required_providers", `source = "jianyuan/sentry"`, `resource "sentry_team" `, `resource "sentry_team_member" `, `id = "acme/contractors-q1"`, "import {"} {
		if !strings.Contains(string(tf), want) {
			t.Errorf("the Terraform file lacks %q:\n%s", want, tf)
		}
	}

	must(t, byTestID(maya, "blueprint-justification").Fill("Contractors for the mobile redesign, two weeks"), "justification")
	click(t, byTestID(maya, "blueprint-request"), "Create change request")
	must(t, maya.WaitForURL(requestURL), "redirected to the request")
	id := maya.URL()[strings.LastIndex(maya.URL(), "/")+1:]
	env.approveAndApply(t, "marco", id)
	if !onTeam(t, api, "contractors-q1", "cody.cruz@acme.test") {
		t.Fatal("cody left contractors-q1 at the apply, not at the expiry")
	}
	env.expire(t, 15*24*time.Hour)
	for _, c := range []string{"cody.cruz@acme.test", "leo.lund@acme.test"} {
		if onTeam(t, api, "contractors-q1", c) {
			t.Errorf("%s is still on contractors-q1 after the blueprint's expiry", c)
		}
	}
	teams, err := api.ProjectTeams(t.Context(), "mobile-redesign")
	must(t, err, "mobile-redesign's teams")
	if slices.ContainsFunc(teams, func(x sentry.Team) bool { return x.Slug == "contractors-q1" }) {
		t.Error("contractors-q1 still reaches mobile-redesign after the blueprint's expiry")
	}
}

// The audit export's quarterly evidence: "last 90 days" downloads as the
// review shape (a JSON array of {date, event, actor, target, ip}, newest
// first, all in the range) and as Sentry's JSON, each named by its dates.
func TestTheAuditExportsQuarterlyShapeAndLast90DaysCarryTheirDates(t *testing.T) {
	env := startDemo(t)
	page := env.loginAsUser(t, "maya", "/audit")
	now := env.Clock.Now().UTC()
	from, to := now.Add(-90*24*time.Hour).Format(time.DateOnly), now.Format(time.DateOnly)

	body, name := download(t, page, byTestID(page, "export-quarter-review"), "the quarterly review export")
	if want := fmt.Sprintf("audit-log-%s-to-%s-review.json", from, to); name != want {
		t.Errorf("review export named %q, want %q", name, want)
	}
	var rows []map[string]any
	must(t, json.Unmarshal(body, &rows), "the review export is a JSON array")
	if len(rows) == 0 {
		t.Fatal("the last 90 days of the demo org have no audit entry")
	}
	var prev time.Time
	for i, r := range rows {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"actor", "date", "event", "ip", "target"}) {
			t.Fatalf("row %d has the fields %v, want date, event, actor, target, ip", i, keys)
		}
		s, _ := r["date"].(string)
		d, err := time.Parse(time.RFC3339, s)
		if err != nil || !strings.HasSuffix(s, "Z") {
			t.Fatalf("row %d date %q is not RFC 3339 UTC", i, s)
		}
		if d.Format(time.DateOnly) < from || d.After(now) {
			t.Errorf("row %d dated %s is outside %s…%s", i, s, from, to)
		}
		if i > 0 && d.After(prev) {
			t.Errorf("row %d (%s) is newer than the row before it (%s): want newest first", i, s, prev)
		}
		prev = d
	}
	if actor, _ := rows[0]["actor"].(string); !strings.Contains(actor, "@") {
		t.Errorf("actor %q is not an email", actor)
	}

	js, jsName := download(t, page, byTestID(page, "export-quarter-json"), "the last 90 days as JSON")
	if want := fmt.Sprintf("audit-log-%s-to-%s.json", from, to); jsName != want {
		t.Errorf("JSON export named %q, want %q", jsName, want)
	}
	var entries []map[string]any
	must(t, json.Unmarshal(js, &entries), "the JSON export is a JSON array")
	if len(entries) != len(rows) {
		t.Errorf("the JSON export has %d entries, the review export %d rows", len(entries), len(rows))
	}
	_, csvName := download(t, page, byTestID(page, "export-quarter"), "the last 90 days as CSV")
	if want := fmt.Sprintf("audit-log-%s-to-%s.csv", from, to); csvName != want {
		t.Errorf("CSV export named %q, want %q", csvName, want)
	}
}

// A closed review links to the change request that carries its
// revocations (the link once opened a blank form); the privileged-roles
// campaign lists the legacy admins.
func TestAClosedReviewLinksToItsChangeRequest(t *testing.T) {
	env := startDemo(t)
	page := env.loginAsUser(t, "olivia", "/reviews")
	must(t, byTestID(page, "review-name").Fill("Q4 privileged roles"), "name")
	selectOption(t, byTestID(page, "review-scope"), "privileged-roles", "scope")
	click(t, byTestID(page, "review-start"), "Start review")
	must(t, expect().Locator(byTestID(page, "review-state")).ToHaveText("open"), "campaign open")
	ada := byTestID(page, "review-item").Filter(playwright.LocatorFilterOptions{HasText: "ada.oldtimer@acme.test"})
	must(t, expect().Locator(ada).ToHaveCount(1), "the legacy admin ada is in the privileged-roles campaign")
	must(t, ada.Locator(`[data-testid="item-comment"]`).Fill("no longer needs admin"), "comment")
	click(t, ada.Locator(`[data-testid="item-revoke"]`), "Revoke")
	must(t, expect().Locator(byTestID(page, "review-message")).ToContainText("Recorded"), "revocation recorded")
	page.OnDialog(func(d playwright.Dialog) { _ = d.Accept() })
	click(t, byTestID(page, "review-close"), "Close review")
	must(t, expect().Locator(byTestID(page, "review-state")).ToHaveText("closed"), "campaign closed")
	link := byTestID(page, "review-change-request")
	must(t, expect().Locator(link).ToBeVisible(), "the closed review links to its change request")
	click(t, link, "the change request")
	must(t, page.WaitForURL(requestURL), "the link opens a request, not the form")
	check(t, expect().Locator(byTestID(page, "page-title")).ToContainText(`Access review "Q4 privileged roles"`), "the request is the review's")
	check(t, expect().Locator(byTestID(page, "request-steps")).ToContainText("ada.oldtimer@acme.test"), "it carries ada's revocation")
	check(t, expect().Locator(byTestID(page, "change-form")).ToHaveCount(0), "no blank form")
	screenshot(t, page, "review-change-request")
}

// "Check against Sentry now" asks the configured Sentry and says what it
// answered: a SCIM token Sentry rejects is a 401 named by the token's kind
// with the fix, the audit log's latest entry, and no 429 yet. Before the
// first check the page says it has not asked. (A 429 through the browser
// is not here: see the report of issue 12; compliance's
// TestTheLiveChecksSayWhatSentryAnswered covers its wording.)
func TestCheckAgainstSentryNowSaysWhatSentryAnswered(t *testing.T) {
	env := startDemo(t, func(o *dashboard.DemoOptions) {
		o.SCIMToken = "sntryu_" + strings.Repeat("0", 64) // a user token Sentry does not know
	})
	page := env.loginAsUser(t, "maya", "/troubleshoot")
	live := byTestID(page, "ts-live")
	check(t, expect().Locator(live.Locator(`[data-testid="ts-live-never"]`)).ToBeVisible(), "not checked before anyone asks")
	click(t, live.Locator(`[data-testid="ts-live-run"]`), "Check against Sentry now")
	live = byTestID(page, "ts-live")
	must(t, expect().Locator(live.Locator(`[data-testid="ts-live-at"]`)).ToBeVisible(), "the check's time")
	diag := live.Locator(`[data-testid="diagnosis"]`)
	must(t, expect().Locator(diag).ToHaveCount(3), "three answers")
	scim := diag.Nth(0)
	check(t, expect().Locator(scim).ToContainText("Sentry answered 401 to the SCIM token, which is a user auth token (sntryu_…)"), "SCIM 401 named by the token's kind")
	check(t, expect().Locator(scim.Locator(`[data-testid="diagnosis-fix"]`)).ToContainText("SCIM Internal Integration"), "SCIM fix")
	check(t, expect().Locator(scim).Not().ToContainText("0000000000"), "the token's secret is not shown")
	check(t, expect().Locator(diag.Nth(1)).ToContainText("the latest entry is"), "the audit log answered with its latest entry")
	check(t, expect().Locator(diag.Nth(2)).ToContainText("No endpoint has answered 429"), "no 429 yet")
	screenshot(t, page, "troubleshoot-live-scim-401")

}
