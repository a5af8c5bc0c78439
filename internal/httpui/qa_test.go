package httpui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Findings from using the dashboard as each role (helper "qa").

func TestTheNavigationOffersOnlyPagesTheRoleMayOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role          sentryaccess.Role
		wantAuditLink bool
	}{
		{sentryaccess.RoleViewer, false},
		{sentryaccess.RoleApprover, true},
		{sentryaccess.RoleAdmin, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			t.Parallel()
			e := newPagesEnvFor(t, samlauth.Identity{Email: "someone@acme.test", Role: tt.role})
			home := e.get(t, "/", false, "")
			got := home.count("nav-audit") == 1
			if got != tt.wantAuditLink {
				t.Errorf("%s sees the Sentry audit log link: %v, want %v", tt.role, got, tt.wantAuditLink)
			}
			// No link the navigation shows is refused to the role (pages
			// whose services this env does not wire answer 503).
			for _, n := range home.doc.Find(`nav a[data-testid^="nav-"]`).Nodes {
				var href string
				for _, a := range n.Attr {
					if a.Key == "href" {
						href = a.Val
					}
				}
				if page := e.get(t, href, false, ""); page.status == 403 {
					t.Errorf("%s: the navigation links %s, which refuses the role", tt.role, href)
				}
			}
		})
	}
}

func TestAReloadedLookupOfAnUnknownMemberKeepsTheFilledForm(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	tests := []struct {
		name, path, wantMember, wantProject, wantMessage string
	}{
		{"unknown member", "/lookup?member=ghost%40acme.test&project=payment-api&scope=", "ghost@acme.test", "payment-api", `No member or integration "ghost@acme.test"`},
		{"unknown project", "/lookup?member=paul.payne%40acme.test&project=nope&scope=", "paul.payne@acme.test", "nope", `No project "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := e.get(t, tt.path, false, "")
			if got.status != 422 {
				t.Errorf("status %d, want 422", got.status)
			}
			if got.count("lookup-form") != 1 || got.count("nav-overview") != 1 {
				t.Fatalf("want the full lookup page with its form, got\n%.600s", got.body)
			}
			if v, _ := got.doc.Find(`[data-testid="lookup-member"]`).Attr("value"); v != tt.wantMember {
				t.Errorf("member input %q, want %q", v, tt.wantMember)
			}
			if v, _ := got.doc.Find(`[data-testid="lookup-project"]`).Attr("value"); v != tt.wantProject {
				t.Errorf("project input %q, want %q", v, tt.wantProject)
			}
			if msg := got.text("flash"); !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("flash %q, want it to say %q", msg, tt.wantMessage)
			}
		})
	}
	// An htmx submit of the form answers its panel: the filled form and
	// the flash, without the page around it.
	frag := e.get(t, tests[0].path, true, "lookup")
	if frag.status != 422 || frag.count("flash") != 1 || frag.count("lookup-form") != 1 || frag.count("nav-overview") != 0 {
		t.Errorf("htmx: status %d, flash %d, form %d, nav %d; want 422 with the form and the flash only", frag.status, frag.count("flash"), frag.count("lookup-form"), frag.count("nav-overview"))
	}
	if v, _ := frag.doc.Find(`[data-testid="lookup-member"]`).Attr("value"); v != tests[0].wantMember {
		t.Errorf("htmx: member input %q, want %q", v, tests[0].wantMember)
	}
}

func TestOnlyChangeRequestsTheUserMayMakeAreOffered(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	tests := []struct {
		name, user, member, project string
		wantOffer                   bool
	}{
		{"an approver, for someone else", maya, "paul.payne@acme.test", "auth-service", true},
		{"a viewer, for herself", priya, priya, "k8s-operator", true},
		{"a viewer, for someone else", priya, "paul.payne@acme.test", "auth-service", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{"member": {tt.member}, "project": {tt.project}}
			ts := e.do(t, http.MethodGet, "/troubleshoot/project?"+q.Encode(), tt.user, true, nil)
			if ts.status != http.StatusOK {
				t.Fatalf("troubleshoot: status %d: %.300s", ts.status, ts.body)
			}
			offered := ts.doc.Find(`[data-testid="create-change-request"]`).Length() == 1
			if offered != tt.wantOffer {
				t.Errorf("troubleshoot offers a change request: %v, want %v", offered, tt.wantOffer)
			}
			fix := ts.doc.Find(`[data-testid="diagnosis-fix"]`).Text()
			if asks := strings.Contains(fix, "ask one"); asks == tt.wantOffer {
				t.Errorf("fix %q: says to ask an approver: %v, want %v", fix, asks, !tt.wantOffer)
			}
			if tt.wantOffer {
				// The form the link opens keeps the member it was made for.
				href, _ := ts.doc.Find(`[data-testid="create-change-request"]`).Attr("href")
				form := e.do(t, http.MethodGet, href, tt.user, false, nil)
				got, _ := form.doc.Find(`[data-testid="step-member"] option[selected]`).Attr("value")
				if want := e.memberIDOf(t, tt.member); got != want {
					t.Errorf("the form from %s has member %q, want %q", href, got, want)
				}
			}

			lookup := e.do(t, http.MethodGet, "/lookup?"+q.Encode(), tt.user, false, nil)
			if lookup.status != http.StatusOK {
				t.Fatalf("lookup: status %d", lookup.status)
			}
			if got := lookup.doc.Find(`[data-testid="lookup-fix"]`).Length() > 0; got != tt.wantOffer {
				t.Errorf("lookup offers change requests: %v, want %v", got, tt.wantOffer)
			}
		})
	}
}
