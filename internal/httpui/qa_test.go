package httpui_test

import (
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
