package httpui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/httpui/uitest"
	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// signedIn starts the stack and logs in as the user with role.
func signedIn(t *testing.T, opts uitest.Options, role sentryaccess.Role) (*uitest.Env, *http.Client) {
	t.Helper()
	env := uitest.Start(t, opts)
	c := env.Client(t)
	u, _ := env.IdP.UserWithRole(role)
	if resp := env.Login(t, c, u, "/"); resp.StatusCode != http.StatusFound {
		t.Fatalf("login: status %d\nlogs: %s", resp.StatusCode, env.Logs())
	}
	return env, c
}

func TestTheSameURLIsAPageOrAFragment(t *testing.T) {
	t.Parallel()
	_, ex := syncedStore(t, 41, 7, 18)
	env, c := signedIn(t, uitest.Options{Deps: func(d *httpui.Deps) { d.Explore = ex }}, sentryaccess.RoleViewer)
	tests := []struct {
		name     string
		header   map[string]string
		wantPage bool
	}{
		{"normal request gets the full page", nil, true},
		{"htmx request gets the fragment", map[string]string{"HX-Request": "true"}, false},
		{"htmx history restore gets the full page", map[string]string{"HX-Request": "true", "HX-History-Restore-Request": "true"}, true},
		{"boosted navigation gets the full page", map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, c, env.URL+"/", tt.header)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", resp.Header.Values("Vary"))
			}
			d := doc(t, resp)
			if got := d.Find("nav.sidebar").Length() == 1; got != tt.wantPage {
				t.Errorf("has layout = %v, want %v", got, tt.wantPage)
			}
			if got := d.Find(`[data-testid="page-title"]`).Text(); got != "Overview" {
				t.Errorf("content title = %q, want Overview", got)
			}
			if got := d.Find(`[data-testid="overview-cards"] .value`).First().Text(); got != "41" {
				t.Errorf("members card = %q, want 41", got)
			}
		})
	}
}

func TestAnExpiredSessionSendsHTMXToTheLoginWithoutAFragment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance []time.Duration // clock moves, with a request after each
		expired bool
	}{
		{"used within the idle timeout", []time.Duration{20 * time.Minute}, false},
		{"idle longer than the idle timeout", []time.Duration{31 * time.Minute}, true},
		{"kept alive but past the absolute timeout", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := uitest.NewClock(time.Now())
			env, c := signedIn(t, uitest.Options{Now: clock.Now, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour}, sentryaccess.RoleViewer)
			var resp *http.Response
			for _, d := range tt.advance {
				clock.Advance(d)
				resp = get(t, c, env.URL+"/", map[string]string{"HX-Request": "true", "HX-Current-URL": env.URL + "/teams?q=pay"})
			}
			if !tt.expired {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status = %d, want 200", resp.StatusCode)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", resp.StatusCode)
			}
			if got, want := resp.Header.Get("HX-Redirect"), "/login?return_to=%2Fteams%3Fq%3Dpay"; got != want {
				t.Errorf("HX-Redirect = %q, want %q", got, want)
			}
			if b, _ := io.ReadAll(resp.Body); len(b) != 0 {
				t.Errorf("body = %.200q, want none (no login page swapped into a fragment)", b)
			}
		})
	}
}

func TestWithoutASessionAPageRedirectsToTheLoginWithASafeReturnPath(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{})
	resp := get(t, env.Client(t), env.URL+"/?tab=teams", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Location"), "/login?return_to=%2F%3Ftab%3Dteams"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

func TestLoginIgnoresAnOffSiteReturnPath(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{})
	for _, rt := range []string{"//evil.example", "https://evil.example/x", "/%2F%2Fevil.example"} {
		t.Run(rt, func(t *testing.T) {
			u, _ := env.IdP.UserWithRole(sentryaccess.RoleViewer)
			resp := env.Login(t, env.Client(t), u, rt)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Location"); got != "/" {
				t.Errorf("after login went to %q, want \"/\"", got)
			}
		})
	}
}

func post(t *testing.T, c *http.Client, u string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(url.Values{"SAMLResponse": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestCrossSitePostsAreRefusedExceptAtTheSAMLEndpoints(t *testing.T) {
	t.Parallel()
	env, c := signedIn(t, uitest.Options{}, sentryaccess.RoleAdmin)
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}

	resp := post(t, c, env.URL+"/logout", crossSite)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /logout: status %d, want 403", resp.StatusCode)
	}
	if got := doc(t, resp).Find(`[data-testid="error"] h1`).Text(); !strings.Contains(got, "another site") {
		t.Errorf("error page says %q, want it to explain the cross-site refusal", got)
	}
	// Still signed in: the forged logout did nothing.
	if resp := get(t, c, env.URL+"/", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after refused logout: status %d, want 200", resp.StatusCode)
	}

	// The IdP posts to the ACS from another site: the post reaches the SAML
	// code (which rejects this garbage response with its own page).
	resp = post(t, c, env.URL+"/saml/acs", crossSite)
	d := doc(t, resp)
	if d.Find(`[data-testid="saml-error"]`).Length() != 1 {
		t.Errorf("cross-site POST /saml/acs did not reach the SAML handler (status %d)", resp.StatusCode)
	}
}

func TestEveryAnswerCarriesSecurityHeaders(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{})
	for _, path := range []string{"/healthz", "/", "/signed-out", "/nope"} {
		t.Run(path, func(t *testing.T) {
			resp := get(t, env.Client(t), env.URL+path, nil)
			want := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "same-origin",
				"X-Frame-Options":        "DENY",
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP = %q, want %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP = %q allows inline code", csp)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if resp.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS sent over plain http")
			}
		})
	}
}

func TestTheSessionCookieIsHttpOnlyAndLax(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{})
	u, _ := env.IdP.UserWithRole(sentryaccess.RoleViewer)
	resp := env.Login(t, env.Client(t), u, "/")
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name != "sa_session" {
			continue
		}
		found = true
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
			t.Errorf("sa_session: HttpOnly %v SameSite %v Secure %v; want HttpOnly, Lax, not Secure over http", c.HttpOnly, c.SameSite, c.Secure)
		}
	}
	if !found {
		t.Error("login set no sa_session cookie")
	}
}

func TestAMissingEmailAttributeShowsTheAttributesThatArrived(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{Attributes: samlauth.AttributeNames{Email: []string{"corporateEmail"}}})
	u, _ := env.IdP.UserWithRole(sentryaccess.RoleViewer)
	resp := env.Login(t, env.Client(t), u, "/")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", resp.StatusCode)
	}
	d := doc(t, resp)
	var arrived []string
	d.Find(`[data-testid="arrived-attributes"] li`).Each(func(_ int, s *goquery.Selection) { arrived = append(arrived, s.Text()) })
	joined := strings.Join(arrived, "\n")
	for _, want := range []string{"(mail)", "(uid)", "eduPersonAffiliation"} {
		if !strings.Contains(joined, want) {
			t.Errorf("arrived attributes %q, want %q listed", arrived, want)
		}
	}
	if strings.Contains(d.Text(), u.Email) {
		t.Error("the error page shows attribute values; it must show names only")
	}
	if strings.Contains(d.Text(), "goroutine") || strings.Contains(d.Text(), "InResponseTo") {
		t.Error("the error page leaks internals")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	ready := make(chan error, 1)
	ready <- context.DeadlineExceeded
	env := uitest.Start(t, uitest.Options{Ready: func(context.Context) error {
		select {
		case err := <-ready:
			return err
		default:
			return nil
		}
	}})
	c := env.Client(t)
	if got := get(t, c, env.URL+"/readyz", nil).StatusCode; got != http.StatusServiceUnavailable {
		t.Errorf("/readyz while not ready = %d, want 503", got)
	}
	if got := get(t, c, env.URL+"/readyz", nil).StatusCode; got != http.StatusOK {
		t.Errorf("/readyz when ready = %d, want 200", got)
	}
	if got := get(t, c, env.URL+"/healthz", nil).StatusCode; got != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", got)
	}
}

func TestStaticAssetsAreCachedForeverUnderTheirHash(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{})
	resp := get(t, env.Client(t), env.URL+env.Assets.Path("htmx.min.js"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("Cache-Control = %q, want immutable", got)
	}
	if resp.Header.Get("ETag") == "" {
		t.Error("no ETag")
	}
}
