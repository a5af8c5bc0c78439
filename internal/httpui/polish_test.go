package httpui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func attrs(sel *goquery.Selection, name string) []string {
	var out []string
	sel.Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr(name)
		out = append(out, v)
	})
	return out
}

// The project page offers "Give a member access…": an approver picks any
// member and one of the project's linked teams; SCIM-managed teams are
// shown but cannot be picked; a viewer gets the same entry for herself.
func TestGivingAMemberAccessToAProject(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)

	page := e.do(t, http.MethodGet, "/projects/payment-api", maya, false, nil)
	if href, _ := page.doc.Find(`[data-testid="give-access"]`).Attr("href"); href != "/projects/payment-api/access" {
		t.Fatalf("project page: give-access link %q, want /projects/payment-api/access", href)
	}

	tests := []struct {
		name, user, path string
		wantTeams        []string // offered
		wantSCIM         []string // shown, not offered
		wantMemberInput  bool
	}{
		{"an approver picks member and team", maya, "/projects/payment-api/access", []string{"backend-eng", "payments"}, nil, true},
		{"a SCIM-managed team is not offered", maya, "/projects/auth-service/access", []string{"backend-eng"}, []string{"identity"}, true},
		{"a viewer asks for herself", priya, "/projects/payment-api/access", []string{"backend-eng", "payments"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.do(t, http.MethodGet, tt.path, tt.user, false, nil)
			if got.status != http.StatusOK {
				t.Fatalf("status %d: %.300s", got.status, got.body)
			}
			form := got.doc.Find(`[data-testid="project-access-form"]`)
			if a, _ := form.Attr("action"); a != "/changes/new" {
				t.Errorf("form action %q, want /changes/new", a)
			}
			if k, _ := form.Find(`input[name="kind"]`).Attr("value"); k != "team-add" {
				t.Errorf("kind %q, want team-add", k)
			}
			offered := attrs(form.Find(`[data-testid="project-access-team"] input:not([disabled])`), "value")
			if strings.Join(offered, ",") != strings.Join(tt.wantTeams, ",") {
				t.Errorf("teams offered %v, want %v", offered, tt.wantTeams)
			}
			scim := attrs(form.Find(`[data-testid="project-access-scim-team"] input[disabled]`), "value")
			if strings.Join(scim, ",") != strings.Join(tt.wantSCIM, ",") {
				t.Errorf("SCIM teams shown disabled %v, want %v", scim, tt.wantSCIM)
			}
			input := form.Find(`input[type="search"][name="member"]`)
			if hasInput := input.Length() == 1; hasInput != tt.wantMemberInput {
				t.Errorf("member input shown %v, want %v", hasInput, tt.wantMemberInput)
			}
			if tt.wantMemberInput {
				if u, _ := input.Attr("hx-get"); u != "/lookup/suggest?kind=member" || form.Find(`datalist#member-suggestions`).Length() != 1 {
					t.Errorf("the member input completes from %q, want /lookup/suggest?kind=member into #member-suggestions", u)
				}
			} else {
				self, _ := form.Find(`input[type="hidden"][name="member"]`).Attr("value")
				if want := e.memberIDOf(t, priya); self != want {
					t.Errorf("viewer's member %q, want her own %q", self, want)
				}
			}
			if form.Find(`input[name="expiry"][value="2w"]:not([checked])`).Length() != 1 {
				t.Errorf("want a '2 weeks' choice, not preselected")
			}
		})
	}

	// The form (which sends the member's email) lands on the change form
	// with the step and the expiry set, and the preview runs at once.
	q := url.Values{"kind": {"team-add"}, "member": {"cody.cruz@acme.test"}, "team": {"payments"}, "expiry": {"2w"}}
	got := e.do(t, http.MethodGet, "/changes/new?"+q.Encode(), maya, false, nil)
	for testid, want := range map[string]string{"step-kind": "team-add", "step-member": e.memberIDOf(t, "cody.cruz@acme.test"), "step-team": "payments", "expiry": "2w"} {
		if v, _ := got.doc.Find(`[data-testid="` + testid + `"] option[selected]`).Attr("value"); v != want {
			t.Errorf("%s = %q, want %q", testid, v, want)
		}
	}
	if tr, _ := got.doc.Find(`[data-testid="preview"]`).Attr("hx-trigger"); !strings.HasPrefix(tr, "load") {
		t.Errorf("prefilled form: preview trigger %q, want it to run at load", tr)
	}
}

// A viewer following a link that names someone else is told the form
// asks for her instead; for herself, nothing is said.
func TestAViewerIsToldWhenTheFormReplacedTheMemberWithHerself(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	self, other := e.memberIDOf(t, priya), e.memberIDOf(t, "paul.payne@acme.test")
	tests := []struct {
		name, user, member string
		wantNotice         bool
		wantMember         string
	}{
		{"a viewer, for someone else", priya, other, true, self},
		{"a viewer, for herself", priya, self, false, self},
		{"an approver, for someone else", maya, other, false, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.do(t, http.MethodGet, "/changes/new?kind=team-add&team=platform&member="+tt.member, tt.user, false, nil)
			notice := got.doc.Find(`[data-testid="member-replaced"]`)
			if (notice.Length() == 1) != tt.wantNotice {
				t.Errorf("notice shown %v, want %v", notice.Length() == 1, tt.wantNotice)
			}
			if tt.wantNotice && !strings.Contains(notice.Text(), "only for yourself") {
				t.Errorf("notice %q does not say why", notice.Text())
			}
			if v, _ := got.doc.Find(`[data-testid="step-member"] option[selected]`).Attr("value"); v != tt.wantMember {
				t.Errorf("member %q, want %q", v, tt.wantMember)
			}
		})
	}
}

// An untouched new form does not preview (its step has a kind and
// nothing else); the request page says "0 of 1 given", not
// "(0 of 1 approvals)".
func TestAnUntouchedFormDoesNotPreviewAndApprovalsReadWell(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	got := e.do(t, http.MethodGet, "/changes/new", maya, false, nil)
	if tr, _ := got.doc.Find(`[data-testid="preview"]`).Attr("hx-trigger"); strings.Contains(tr, "load") {
		t.Errorf("untouched form: preview trigger %q runs at load", tr)
	}

	cody := e.memberIDOf(t, "cody.cruz@acme.test")
	r := e.do(t, http.MethodPost, "/changes", maya, true, joinForm(cody, "payments", "cover payments on-call", "2w"))
	loc := r.header.Get("HX-Redirect")
	if loc == "" {
		t.Fatalf("create: status %d, %s", r.status, r.body)
	}
	page := e.do(t, http.MethodGet, loc, maya, false, nil)
	h2 := strings.Join(strings.Fields(page.doc.Find(`[data-testid="approvals"] h2`).Text()), " ")
	if h2 != "Approvals 0 of 1 given" {
		t.Errorf("approvals heading %q, want %q", h2, "Approvals 0 of 1 given")
	}
}

// After a time-bound grant is applied, the member page marks the team and
// the projects it brings with the grant's expiry.
func TestTheMemberPageShowsTimeBoundAccessWithItsExpiry(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	cody := e.memberIDOf(t, "cody.cruz@acme.test")
	r := e.do(t, http.MethodPost, "/changes", maya, true, joinForm(cody, "payments", "cover payments on-call", "2w"))
	loc := r.header.Get("HX-Redirect")
	if loc == "" {
		t.Fatalf("create: status %d, %s", r.status, r.body)
	}
	if a := e.do(t, http.MethodPost, loc+"/approve", marco, true, url.Values{"comment": {"ok"}}); a.status >= 400 {
		t.Fatalf("approve: status %d, %s", a.status, a.body)
	}
	if err := e.ex.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := e.do(t, http.MethodGet, "/members/"+cody, maya, false, nil)
	want := regexp.MustCompile(`^until 2026-06-15 09:00 UTC$`)
	team := page.doc.Find(`[data-testid="team-row"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "payments")
	})
	if got := strings.TrimSpace(team.Find(`[data-testid="grant-expiry"]`).Text()); !want.MatchString(got) {
		t.Errorf("team payments: expiry %q, want %s", got, want)
	}
	proj := page.doc.Find(`[data-testid="project-reach"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Find(`[data-testid="reach-project"]`).First().Text(), "payment-api")
	})
	if got := strings.TrimSpace(proj.Find(`[data-testid="grant-expiry"]`).Text()); !want.MatchString(got) {
		t.Errorf("payment-api: expiry %q, want %s", got, want)
	}
	if href, _ := proj.Find(`[data-testid="grant-expiry"]`).Attr("href"); href != loc {
		t.Errorf("expiry links %q, want the request %s", href, loc)
	}
	other := page.doc.Find(`[data-testid="project-reach"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Find(`[data-testid="reach-project"]`).First().Text(), "checkout-web") // also via contractors-q1
	})
	if other.Length() == 1 && other.Find(`[data-testid="grant-expiry"]`).Length() != 0 {
		t.Errorf("checkout-web is also reached through contractors-q1: it keeps access after the expiry and must not be marked")
	}
}

// The layout links a cacheable SVG icon; /favicon.ico, asked for by pages
// without our layout, points at it.
func TestTheFaviconIsServed(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	page := e.do(t, http.MethodGet, "/changes", maya, false, nil)
	icon, _ := page.doc.Find(`link[rel="icon"]`).Attr("href")
	if !regexp.MustCompile(`^/static/[0-9a-f]{12}/favicon\.svg$`).MatchString(icon) {
		t.Fatalf("icon link %q, want a content-addressed /static/…/favicon.svg", icon)
	}
	got := e.do(t, http.MethodGet, icon, "", false, nil)
	if got.status != http.StatusOK || got.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(got.header.Get("Cache-Control"), "immutable") {
		t.Errorf("icon: status %d, type %q, cache %q", got.status, got.header.Get("Content-Type"), got.header.Get("Cache-Control"))
	}
	ico := e.do(t, http.MethodGet, "/favicon.ico", "", false, nil)
	if ico.status != http.StatusMovedPermanently || ico.header.Get("Location") != icon {
		t.Errorf("/favicon.ico: status %d, Location %q; want 301 to %s", ico.status, ico.header.Get("Location"), icon)
	}
}

// The give-access form completes a member's email; the change form it
// opens takes the email (or an id) and picks that member, and a link that
// names the member by id shows its email in the give-access form.
func TestTheGiveAccessFormNamesTheMemberByEmail(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	const cody = "cody.cruz@acme.test"
	id := e.memberIDOf(t, cody)
	for _, ref := range []string{cody, strings.ToUpper(cody), id} {
		got := e.do(t, http.MethodGet, "/changes/new?kind=team-add&team=payments&member="+url.QueryEscape(ref), maya, false, nil)
		if got.status != http.StatusOK {
			t.Fatalf("member=%s: status %d", ref, got.status)
		}
		if v, _ := got.doc.Find(`[data-testid="step-member"] option[selected]`).Attr("value"); v != id {
			t.Errorf("change form for member=%s picks %q, want cody's id %s", ref, v, id)
		}
		if got.doc.Find(`[data-testid="unknown-member"]`).Length() != 0 {
			t.Errorf("member=%s: the form says the member is unknown", ref)
		}
	}
	// Text that names no member: none is picked, and the form says so.
	got := e.do(t, http.MethodGet, "/changes/new?kind=team-add&team=payments&member=cody", maya, false, nil)
	if n := got.doc.Find(`[data-testid="step-member"] option[selected]`).Length(); n != 0 {
		t.Errorf("member=cody: %d members picked, want none", n)
	}
	if msg := got.doc.Find(`[data-testid="unknown-member"]`).Text(); !strings.Contains(msg, "No member cody") || !strings.Contains(msg, "pick the member") {
		t.Errorf("member=cody: notice %q, want it to name cody and say what to do", msg)
	}
	got = e.do(t, http.MethodGet, "/projects/payment-api/access?member="+id, maya, false, nil)
	if v, _ := got.doc.Find(`[data-testid="project-access-member"]`).Attr("value"); v != cody {
		t.Errorf("give-access form for member=%s shows %q, want %s", id, v, cody)
	}
}
