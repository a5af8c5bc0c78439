package e2e

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// TestTheConnectionPageSaysWhoSentrySeesAndWhatTheServerRevealed: against
// an older self-hosted Sentry (the simulator's legacy mode) the page says
// "self-hosted", marks the organization fields it assumed and names the
// token's user with its org role; the member page says its access rests on
// assumed fields. Against the modern simulator every field is detected.
func TestTheConnectionPageSaysWhoSentrySeesAndWhatTheServerRevealed(t *testing.T) {
	t.Run("legacy self-hosted server", func(t *testing.T) {
		e := startDemo(t, func(o *dashboard.DemoOptions) { o.Sim.Legacy = true })
		page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/connection")
		check(t, expect().Locator(byTestID(page, "server-hosting")).ToContainText("self-hosted"), "the server is self-hosted")
		fields := textOf(t, byTestID(page, "server-fields"))
		for _, want := range []string{"eventsMemberAdmin", "alertsMemberWrite", "orgRoleList", "assumed", "EVENTS_MEMBER_ADMIN_DEFAULT"} {
			if !strings.Contains(fields, want) {
				t.Errorf("server fields %q lack %q", fields, want)
			}
		}
		check(t, expect().Locator(byTestID(page, "caller-user")).ToContainText(sentrysim.DemoOwnerEmail), "the token's user")
		check(t, expect().Locator(byTestID(page, "caller-role")).ToContainText("owner"), "the token user's org role")
		check(t, expect().Locator(byTestID(page, "server-ratelimit")).ToContainText("none"), "no rate-limit headers")
		screenshot(t, page, "connection-legacy-server")

		_, err := page.Goto(e.URL + "/")
		must(t, err, "open the overview")
		check(t, expect().Locator(byTestID(page, "assumed-note")).ToContainText("eventsMemberAdmin"), "the overview names the assumed fields")
	})
	t.Run("modern server", func(t *testing.T) {
		e := startDemo(t)
		page, _ := e.loginAs(t, sentryaccess.RoleViewer, "/connection")
		check(t, expect().Locator(byTestID(page, "server-fields")).ToContainText("detected"), "fields detected")
		if n, err := page.Locator(`[data-testid="server-field"][data-provenance="assumed"]`).Count(); err != nil || n != 0 {
			t.Errorf("%d assumed fields against the modern simulator (%v), want none", n, err)
		}
		check(t, expect().Locator(byTestID(page, "caller-summary")).ToContainText("Sentry checks every rule that depends on the caller"), "who Sentry checks")
		if n, _ := page.Locator(`[data-testid="assumed-note"]`).Count(); n != 0 {
			t.Error("an assumed note against the modern simulator")
		}
		screenshot(t, page, "connection-modern-server")
	})
}
