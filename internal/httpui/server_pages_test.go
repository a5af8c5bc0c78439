package httpui_test

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

func viewer() samlauth.Identity {
	return samlauth.Identity{Email: "rita@acme.test", Role: sentryaccess.RoleViewer}
}

// The Connection page says who Sentry sees (the token's user and org role)
// and what the server revealed: self-hosted and the assumed fields against
// an older server, every field detected against a modern one.
func TestTheConnectionPageShowsTheActingIdentityAndWhatTheServerRevealed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		sim          sentrysim.Options
		wantHosting  string
		wantRegion   string
		wantAssumed  []string
		wantDetected []string
	}{
		{"legacy self-hosted server", sentrysim.Options{Legacy: true}, "self-hosted", "",
			[]string{"eventsMemberAdmin", "alertsMemberWrite", "orgRoleList", "teamRoleList", "allowMemberInvite"}, []string{"openMembership", "require2FA"}},
		{"modern server on sentry.io", sentrysim.Options{RegionURL: "https://de.sentry.io"}, "saas", "de",
			nil, []string{"eventsMemberAdmin", "alertsMemberWrite", "orgRoleList", "teamRoleList", "openMembership"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newPagesEnvSim(t, viewer(), tt.sim)
			page := e.get(t, "/connection", false, "")
			if page.status != 200 {
				t.Fatalf("status %d", page.status)
			}
			if got := page.doc.Find(`[data-testid="caller-kind"]`).AttrOr("data-kind", ""); got != "user" {
				t.Errorf("caller kind = %q, want user", got)
			}
			if got := page.text("caller-user"); !strings.Contains(got, sentrysim.DemoOwnerEmail) {
				t.Errorf("caller user = %q, want the token's user %s", got, sentrysim.DemoOwnerEmail)
			}
			if got := page.text("caller-role"); !strings.Contains(got, "owner") {
				t.Errorf("caller role = %q, want owner", got)
			}
			if got := page.doc.Find(`[data-testid="server-hosting"]`).AttrOr("data-hosting", ""); got != tt.wantHosting {
				t.Errorf("hosting = %q, want %q", got, tt.wantHosting)
			}
			if got := page.text("server-region"); got != tt.wantRegion {
				t.Errorf("region = %q, want %q", got, tt.wantRegion)
			}
			field := func(f string) string {
				return page.doc.Find(`[data-testid="server-field"][data-field="`+f+`"]`).AttrOr("data-provenance", "")
			}
			for _, f := range tt.wantAssumed {
				if got := field(f); got != "assumed" {
					t.Errorf("%s: %q, want assumed", f, got)
				}
			}
			for _, f := range tt.wantDetected {
				if got := field(f); got != "detected" {
					t.Errorf("%s: %q, want detected", f, got)
				}
			}
			if len(tt.wantAssumed) == 0 && page.count("server-field") > 0 &&
				page.doc.Find(`[data-testid="server-field"][data-provenance="assumed"]`).Length() != 0 {
				t.Error("a modern server has assumed fields")
			}
		})
	}
}

// Pages whose answer depends on an assumed field say so; against a modern
// server they do not.
func TestPagesThatDependOnAnAssumedFieldSaySo(t *testing.T) {
	t.Parallel()
	legacy := newPagesEnvSim(t, viewer(), sentrysim.Options{Legacy: true})
	modern := newPagesEnvSim(t, viewer(), sentrysim.Options{})
	for _, path := range []string{"/", "/members/1014", "/projects/payment-api"} {
		t.Run(path, func(t *testing.T) {
			l, m := legacy.get(t, path, false, ""), modern.get(t, path, false, "")
			if l.status != 200 || m.status != 200 {
				t.Fatalf("status %d / %d", l.status, m.status)
			}
			if got := l.text("assumed-note"); !strings.Contains(got, "eventsMemberAdmin") || !strings.Contains(got, "orgRoleList") {
				t.Errorf("legacy note = %q, want the assumed fields named", got)
			}
			if m.count("assumed-note") != 0 {
				t.Errorf("modern page has an assumed note: %q", m.text("assumed-note"))
			}
		})
	}
	if got := legacy.get(t, "/", false, "").count("assumed"); got != 2 {
		t.Errorf("overview marks %d settings assumed, want 2 (member invites and project creation)", got)
	}
}
