package dashboard_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/dashboard"
	"github.com/sentry-access/sentry-access/internal/testing/loadtest"
)

// The dashboard keeps a logout in its bbolt store, not in memory: after
// logging out, the store holds the ended session (so a restarted process
// refuses it too; internal/session's TestALogoutSurvivesARestart shows
// the store's side), and the cookie copied before logout is refused.
func TestTheDashboardKeepsALogoutInItsStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	ctx := t.Context()
	d, err := dashboard.StartDemo(ctx, dashboard.DemoOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	c := loadtest.NewClient(30 * time.Second)
	if err := loadtest.Login(ctx, c, d.URL, d.Users[0]); err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	copied := c.Jar.Cookies(base)
	get := func(cookies []*http.Cookie) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/members", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(copied); got != http.StatusOK {
		t.Fatalf("signed in: GET /members = %d, want 200", got)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, err := d.Store.SessionRevocations().Len(ctx); err != nil || n != 1 {
		t.Errorf("ended sessions in the store = %d (%v), want 1", n, err)
	}
	if got := get(copied); got != http.StatusSeeOther {
		t.Errorf("the cookie copied before logout: GET /members = %d, want 303 to the login", got)
	}
}
