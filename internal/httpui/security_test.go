package httpui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/httpui"
)

func TestBodiesOverTheLimitAreRefused(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	tests := []struct {
		name string
		path string
		yaml string
		want int
	}{
		{"a blueprint under the limit is read", "/blueprints/plan", "version: 1\nname: x\ndescription: " + strings.Repeat("x", 100<<10) + "\n", http.StatusOK},
		{"a body over the limit is 413", "/blueprints/plan", strings.Repeat("x", httpui.MaxBodyBytes+1), http.StatusRequestEntityTooLarge},
		{"also on a route the viewer may not use", "/blueprints/request", strings.Repeat("x", httpui.MaxBodyBytes+1), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := e.do(t, http.MethodPost, tt.path, priya, true, url.Values{"yaml": {tt.yaml}})
			if got.status != tt.want {
				t.Errorf("status = %d, want %d", got.status, tt.want)
			}
		})
	}
}

func TestABillionLaughsBlueprintIsRefusedNotExpanded(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	var b strings.Builder
	b.WriteString("version: 1\nname: x\nteams:\n  - slug: t0\n    projects: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  - slug: t%d\n    projects: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 10), ","))
	}
	got := e.do(t, http.MethodPost, "/blueprints/plan", priya, true, url.Values{"yaml": {b.String()}})
	if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, "aliases") {
		t.Errorf("status = %d, body %.300q; want 422 naming the aliases", got.status, got.body)
	}
}

func TestAnApproverCannotApproveAChangeToHerOwnAccess(t *testing.T) {
	t.Parallel()
	e := newChangesEnv(t)
	mayaID := e.memberIDOf(t, maya)
	// Marco files "add Maya to team platform"; Maya must not be its approver.
	created := e.do(t, http.MethodPost, "/changes", marco, true, joinForm(mayaID, "platform", "maya needs it", ""))
	to := created.header.Get("HX-Redirect")
	if created.status != http.StatusNoContent || to == "" {
		t.Fatalf("create: status %d, HX-Redirect %q; body %.300s", created.status, to, created.body)
	}
	page := e.do(t, http.MethodGet, to, maya, false, nil)
	if n := page.doc.Find(`[data-testid="decide-form"]`).Length(); n != 0 {
		t.Errorf("maya sees the approve form on a request that changes her own access")
	}
	got := e.do(t, http.MethodPost, to+"/approve", maya, true, url.Values{"comment": {"lgtm"}})
	if got.status != http.StatusForbidden {
		t.Errorf("maya approving: status = %d, want 403", got.status)
	}
	if e.onTeam(t, "platform", maya) {
		t.Error("maya is on platform")
	}
}
