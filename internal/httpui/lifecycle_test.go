package httpui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/changes"
)

// Revoke now: approvers revoke a grant from its request page; the answer
// opens the revocation, approved by them; viewers are refused.
func TestARevokeNowPostOpensTheApprovedRevocation(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	paulID := e.memberIDOf(t, paul)
	created := e.do(t, http.MethodPost, "/changes", maya, true, joinForm(paulID, "platform", "on call for a week", "1w"))
	id := strings.TrimPrefix(created.header.Get("HX-Redirect"), "/changes/")
	if id == "" {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	if got := e.do(t, http.MethodPost, "/changes/"+id+"/approve", marco, true, url.Values{"comment": {"ok"}}); got.status >= 400 {
		t.Fatalf("approve: %d %s", got.status, got.body)
	}
	page := e.do(t, http.MethodGet, "/changes/"+id, marco, false, nil)
	if page.doc.Find(`[data-testid="revoke-now"]`).Length() != 1 {
		t.Fatalf("the request page of an active grant offers no Revoke now:\n%s", page.doc.Find(`[data-testid="expiry-panel"]`).Text())
	}
	if got := e.do(t, http.MethodPost, "/grants/"+id+"/revoke", priya, true, url.Values{"justification": {"x"}}); got.status != http.StatusForbidden {
		t.Errorf("a viewer revoking: %d, want 403", got.status)
	}
	if got := e.do(t, http.MethodPost, "/grants/"+id+"/revoke", marco, true, url.Values{}); got.status != http.StatusUnprocessableEntity ||
		!strings.Contains(got.body, "justification") {
		t.Errorf("revoking without a reason: %d %s, want 422 asking for one", got.status, got.body)
	}
	got := e.do(t, http.MethodPost, "/grants/"+id+"/revoke", marco, true, url.Values{"justification": {"rota changed"}})
	rev := strings.TrimPrefix(got.header.Get("HX-Redirect"), "/changes/")
	if rev == "" || rev == id {
		t.Fatalf("revoke: %d %q %s", got.status, got.header.Get("HX-Redirect"), got.body)
	}
	r, err := e.svc.Get(t.Context(), rev)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != changes.SourceRevoke || r.State != changes.StateApplied || r.Approvals[0].Actor != marco {
		t.Errorf("revocation = %s %s approved by %q, want an applied revoke approved by marco", r.Source, r.State, r.Approvals[0].Actor)
	}
	if e.onTeam(t, "platform", paul) {
		t.Error("paul is still on platform after the revocation")
	}
}

// With an expiry picked, the preview says which steps cannot be
// time-bound, and no preview shows a rule id.
func TestThePreviewSaysUpFrontWhatCannotBeTimeBound(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	paulID := e.memberIDOf(t, paul)
	form := url.Values{"kind": {"member-remove"}, "member": {paulID}, "expiry": {"1w"}}
	got := e.do(t, http.MethodPost, "/changes/preview", maya, true, form)
	if txt := got.doc.Find(`[data-testid="untimed"]`).Text(); !strings.Contains(txt, paul) || !strings.Contains(txt, "cannot be time-bound") {
		t.Errorf("untimed = %q, want it to name %s", txt, paul)
	}
	form.Set("expiry", "")
	if got := e.do(t, http.MethodPost, "/changes/preview", maya, true, form); got.doc.Find(`[data-testid="untimed"]`).Length() != 0 {
		t.Error("without an expiry the preview still warns about time-bound steps")
	}
	// An IdP-managed team: the refusal is a sentence naming the member.
	scim := e.do(t, http.MethodPost, "/changes/preview", maya, true, url.Values{"kind": {"team-add"}, "member": {paulID}, "team": {"identity"}})
	v := scim.doc.Find(`[data-testid="violation"]`).Text()
	if !strings.Contains(v, paul) || strings.Contains(scim.body, "idp-provisioned") {
		t.Errorf("violation = %q (body has the rule id: %v)", v, strings.Contains(scim.body, "idp-provisioned"))
	}
}

// A new team's slug is checked as Sentry checks it, in the preview.
func TestANewTeamFromTheFormNeedsASlugSentryAccepts(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	bad := e.do(t, http.MethodPost, "/changes/preview", maya, true, url.Values{"kind": {"team-create"}, "slug": {"Search Team"}, "name": {"Search"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "search-team") {
		t.Errorf("a bad slug: %d %s, want 422 suggesting search-team", bad.status, bad.body)
	}
	ok := e.do(t, http.MethodPost, "/changes", maya, true, url.Values{"kind": {"team-create"}, "slug": {"search"}, "name": {"Search"}, "justification": {"new squad"}})
	id := strings.TrimPrefix(ok.header.Get("HX-Redirect"), "/changes/")
	if id == "" {
		t.Fatalf("create: %d %s", ok.status, ok.body)
	}
	r, _ := e.svc.Get(t.Context(), id)
	if r.Steps[0].Params.Team != "search" || r.Steps[0].Params.Name != "Search" {
		t.Errorf("step = %+v, want team search named Search", r.Steps[0].Params)
	}
}

// The plan of one blueprint downloads as Terraform.
func TestABlueprintPlanDownloadsAsTerraform(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	samples, err := changes.BlueprintSamples()
	if err != nil {
		t.Fatal(err)
	}
	got := e.do(t, http.MethodPost, "/blueprints/plan.tf", priya, false, url.Values{"yaml": {samples[0].YAML}})
	if got.status != http.StatusOK || !strings.Contains(got.header.Get("Content-Disposition"), `filename="blueprint-contractor-access-with-limited-blast-radius.tf"`) {
		t.Fatalf("download: %d %q", got.status, got.header.Get("Content-Disposition"))
	}
	for _, want := range []string{`source = "jianyuan/sentry"`, `resource "sentry_team_member"`, `id = "acme/contractors-q1"`} {
		if !strings.Contains(got.body, want) {
			t.Errorf("terraform lacks %q", want)
		}
	}
	if bad := e.do(t, http.MethodPost, "/blueprints/plan.tf", priya, false, url.Values{"yaml": {"version: 2\nname: x\n"}}); bad.status != http.StatusUnprocessableEntity {
		t.Errorf("a bad blueprint: %d, want 422", bad.status)
	}
}

// The troubleshooting page asks Sentry only when an approver presses the
// button; a page view shows the last answer and sends nothing.
func TestTheTroubleshooterAsksSentryOnlyOnDemand(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	viewer := e.do(t, http.MethodGet, "/troubleshoot", priya, false, nil)
	if viewer.doc.Find(`[data-testid="ts-live-run"]`).Length() != 0 {
		t.Error("a viewer is offered a check she may not run")
	}
	if got := e.do(t, http.MethodPost, "/troubleshoot/live", priya, true, url.Values{}); got.status != http.StatusForbidden {
		t.Errorf("a viewer running the check: %d, want 403", got.status)
	}
	before := e.client.Requests()
	page := e.do(t, http.MethodGet, "/troubleshoot", maya, false, nil)
	if n := e.client.Requests() - before; n != 0 {
		t.Errorf("a page view sent %d requests to Sentry, want none", n)
	}
	if page.doc.Find(`[data-testid="ts-live-run"]`).Length() != 1 || page.doc.Find(`[data-testid="ts-live-never"]`).Length() != 1 {
		t.Fatalf("the approver's page lacks the check button or says it ran:\n%s", page.doc.Find(`[data-testid="ts-live"]`).Text())
	}
	ran := e.do(t, http.MethodPost, "/troubleshoot/live", maya, true, url.Values{})
	if ran.status != http.StatusOK || ran.doc.Find(`[data-testid="diagnosis"]`).Length() != 3 {
		t.Fatalf("check: %d %s", ran.status, ran.body)
	}
	if e.client.Requests()-before == 0 {
		t.Error("the check sent nothing to Sentry")
	}
	again := e.do(t, http.MethodGet, "/troubleshoot", maya, false, nil)
	if again.doc.Find(`[data-testid="ts-live-at"]`).Length() != 1 {
		t.Error("the page does not show the last check")
	}
}
