package httpui_test

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/samlauth"
)

// Findings from using the dashboard as each role (helper "qa").

func TestTheNavigationOffersOnlyPagesTheRoleMayOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role          samlauth.Role
		wantAuditLink bool
	}{
		{samlauth.RoleViewer, false},
		{samlauth.RoleApprover, true},
		{samlauth.RoleAdmin, true},
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
	// An htmx submit of the form still answers the flash fragment alone.
	frag := e.get(t, tests[0].path, true, "lookup-result")
	if frag.status != 422 || frag.count("flash") != 1 || frag.count("lookup-form") != 0 {
		t.Errorf("htmx: status %d, flash %d, form %d; want 422 with only the flash", frag.status, frag.count("flash"), frag.count("lookup-form"))
	}
}
