package samlauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/samlauth"
)

// The auto-submitting AuthnRequest form (HTTP-POST binding) carries our
// strict policy: only its own inline script runs, allowed by its hash,
// and none of the obsolete directives Chromium reports as errors.
func TestThePostBindingLoginFormCarriesAStrictPolicyForExactlyItsScript(t *testing.T) {
	t.Parallel()
	idp := newIDP(newKeyPair(t, "idp"), spProviders{})
	ts := newSP(t, newKeyPair(t, "sp"), metadataXML(t, idp), func(c *samlauth.Config) {
		c.BaseURL = "http://127.0.0.1:8080"
		c.RequestBinding = "post"
	})
	w := httptest.NewRecorder()
	ts.sp.StartLogin(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/login", nil), "/")

	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 with the auto-submitting form", w.Code)
	}
	scripts := regexp.MustCompile(`(?s)<script[^>]*>(.*?)</script>`).FindAllStringSubmatch(w.Body.String(), -1)
	if len(scripts) != 1 {
		t.Fatalf("page has %d scripts, want 1:\n%s", len(scripts), w.Body.String())
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"

	policies := w.Header().Values("Content-Security-Policy")
	if len(policies) != 1 {
		t.Fatalf("Content-Security-Policy headers = %q, want exactly one", policies)
	}
	if got, want := policies[0], samlauth.FormPagePolicy(hash); got != want {
		t.Errorf("Content-Security-Policy = %q, want %q", got, want)
	}
	for _, bad := range []string{"reflected-xss", "referrer ", "unsafe-inline"} {
		if strings.Contains(policies[0], bad) {
			t.Errorf("policy %q contains %q", policies[0], bad)
		}
	}
	if got := w.Header().Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", got)
	}
}

// Answers whose policy names no script hash (redirects, errors) pass as
// they are.
func TestTheRedirectBindingLoginIsLeftAlone(t *testing.T) {
	t.Parallel()
	idp := newIDP(newKeyPair(t, "idp"), spProviders{})
	ts := newSP(t, newKeyPair(t, "sp"), metadataXML(t, idp), func(c *samlauth.Config) { c.BaseURL = "http://127.0.0.1:8080" })
	w := httptest.NewRecorder()
	ts.sp.StartLogin(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/login", nil), "/")
	if w.Code != http.StatusFound {
		t.Fatalf("status = %d, want 302", w.Code)
	}
	if got := w.Header().Values("Content-Security-Policy"); len(got) != 0 {
		t.Errorf("Content-Security-Policy = %q on a redirect, want none", got)
	}
}
