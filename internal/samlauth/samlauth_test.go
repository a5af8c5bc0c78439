package samlauth_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

var testNow = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func now() time.Time { return testNow }

// fakeSessions records the identity a login begins.
type fakeSessions struct{ begun []samlauth.Identity }

func (f *fakeSessions) Begin(_ http.ResponseWriter, _ *http.Request, id samlauth.Identity) error {
	f.begun = append(f.begun, id)
	return nil
}
func (f *fakeSessions) End(http.ResponseWriter, *http.Request) error { return nil }
func (f *fakeSessions) Current(*http.Request) (samlauth.Identity, error) {
	return samlauth.Identity{}, samlauth.ErrNoSession
}

// spProviders serves SP metadata to the test IdP by entity ID.
type spProviders map[string]*saml.EntityDescriptor

func (p spProviders) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if md, ok := p[id]; ok {
		return md, nil
	}
	return nil, os.ErrNotExist
}

type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func newKeyPair(t *testing.T, cn string) keyPair {
	t.Helper()
	k, c, err := samlauth.GenerateKeyPair(cn, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{k, c}
}

// newIDP returns a crewjam IdentityProvider signing with kp and publishing
// kp's certificate plus extra ones in its metadata.
func newIDP(kp keyPair, sps spProviders, extra ...*x509.Certificate) *saml.IdentityProvider {
	base, _ := url.Parse("https://idp.example")
	return &saml.IdentityProvider{
		Key: kp.key, Signer: kp.key, Certificate: kp.cert, ExtraCertificates: extra,
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"),
		ServiceProviderProvider: sps, Clock: samlauth.DSigClock(now),
	}
}

func metadataXML(t *testing.T, idp *saml.IdentityProvider) []byte {
	t.Helper()
	b, err := xml.Marshal(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type testSP struct {
	sp       *samlauth.SP
	sessions *fakeSessions
	failures []samlauth.Failure
	logs     *bytes.Buffer
}

func newSP(t *testing.T, kp keyPair, idpMetadata []byte, mutate func(*samlauth.Config)) *testSP {
	t.Helper()
	ts := &testSP{sessions: &fakeSessions{}, logs: &bytes.Buffer{}}
	cfg := samlauth.Config{
		BaseURL: "https://access.example", Key: kp.key, Certificate: kp.cert,
		IDPMetadataXML: idpMetadata, AllowIDPInitiated: true,
		Preset: samlauth.PresetGeneric, Roles: samlauth.RoleGroups{Admin: []string{"admins"}, Default: sentryaccess.RoleViewer},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	sp, err := samlauth.New(context.Background(), cfg, samlauth.Deps{
		Sessions: ts.sessions, Now: now, Logger: slog.New(slog.NewTextHandler(ts.logs, nil)),
		RenderFailure: func(w http.ResponseWriter, _ *http.Request, f samlauth.Failure) {
			ts.failures = append(ts.failures, f)
			w.WriteHeader(f.Status)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.sp = sp
	return ts
}

// mint makes an IdP-initiated response for the SP spID.
func mint(t *testing.T, idp *saml.IdentityProvider, spID, relayState string, s *saml.Session) url.Values {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://idp.example/login", nil)
	req, err := idp.NewIdpInitiatedRequest(r, spID, relayState)
	if err != nil {
		t.Fatal(err)
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
		t.Fatal(err)
	}
	form, err := req.PostBinding()
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"SAMLResponse": {form.SAMLResponse}, "RelayState": {form.RelayState}}
}

func postACS(sp *samlauth.SP, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://access.example/saml/acs", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	sp.ServeHTTP(w, r)
	return w
}

func alice() *saml.Session {
	return &saml.Session{ID: "s1", CreateTime: testNow, ExpireTime: testNow.Add(time.Hour), Index: "idx-1",
		NameID: "alice@acme.test", UserName: "alice", UserEmail: "alice@acme.test",
		UserCommonName: "Alice Smith", Groups: []string{"admins"}}
}

// world is one IdP, one SP registered with it, and the SP's metadata.
type world struct {
	idpKey keyPair
	spKey  keyPair
	sps    spProviders
	idp    *saml.IdentityProvider
	sp     *testSP
}

func newWorld(t *testing.T, mutate func(*samlauth.Config)) *world {
	t.Helper()
	w := &world{idpKey: newKeyPair(t, "idp"), spKey: newKeyPair(t, "sp"), sps: spProviders{}}
	w.idp = newIDP(w.idpKey, w.sps)
	w.sp = newSP(t, w.spKey, metadataXML(t, w.idp), mutate)
	w.sps[w.sp.sp.EntityID()] = w.sp.sp.Metadata()
	return w
}

func TestACSAcceptsAValidResponseAndBeginsASession(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	rec := postACS(w.sp.sp, mint(t, w.idp, w.sp.sp.EntityID(), "/members?q=a", alice()))

	if rec.Code != http.StatusFound {
		t.Fatalf("status = %d, want 302; failures %+v; logs %s", rec.Code, w.sp.failures, w.sp.logs)
	}
	if got, want := rec.Header().Get("Location"), "/members?q=a"; got != want {
		t.Errorf("redirect = %q, want %q", got, want)
	}
	want := samlauth.Identity{Email: "alice@acme.test", Name: "Alice Smith", Groups: []string{"admins"},
		Role: sentryaccess.RoleAdmin, NameID: "alice@acme.test", SessionIndex: "idx-1"}
	if len(w.sp.sessions.begun) != 1 {
		t.Fatalf("sessions begun = %d, want 1", len(w.sp.sessions.begun))
	}
	got := w.sp.sessions.begun[0]
	if got.Email != want.Email || got.Name != want.Name || got.Role != want.Role || got.NameID != want.NameID ||
		got.SessionIndex != want.SessionIndex || !slices.Equal(got.Groups, want.Groups) {
		t.Errorf("identity = %+v, want %+v", got, want)
	}
}

func TestACSRefusesAReplayedResponse(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	form := mint(t, w.idp, w.sp.sp.EntityID(), "", alice())
	if rec := postACS(w.sp.sp, form); rec.Code != http.StatusFound {
		t.Fatalf("first post: status %d, want 302", rec.Code)
	}
	if rec := postACS(w.sp.sp, form); rec.Code != http.StatusForbidden {
		t.Fatalf("replayed post: status %d, want 403", rec.Code)
	}
	if got := len(w.sp.sessions.begun); got != 1 {
		t.Errorf("sessions begun = %d, want 1", got)
	}
}

func TestACSDropsAnOffSiteRelayState(t *testing.T) {
	t.Parallel()
	for _, relay := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example"} {
		t.Run(relay, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, nil)
			rec := postACS(w.sp.sp, mint(t, w.idp, w.sp.sp.EntityID(), relay, alice()))
			if rec.Code != http.StatusFound {
				t.Fatalf("status = %d, want 302", rec.Code)
			}
			if got := rec.Header().Get("Location"); got != "/" {
				t.Errorf("redirect = %q, want \"/\"", got)
			}
		})
	}
}

func TestACSRejectsAResponseForAnotherAudience(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	// Another SP with the same ACS URL but its own entity ID: the IdP makes
	// a response whose Audience is that other SP.
	other := *w.sp.sp.Metadata()
	other.EntityID = "https://other-app.example/saml/metadata"
	w.sps[other.EntityID] = &other

	rec := postACS(w.sp.sp, mint(t, w.idp, other.EntityID, "", alice()))

	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
	if len(w.sp.sessions.begun) != 0 {
		t.Errorf("a session began for a response meant for another SP")
	}
	if len(w.sp.failures) != 1 || !strings.Contains(w.sp.failures[0].Title, "could not be accepted") {
		t.Errorf("failures = %+v, want one 'could not be accepted' page", w.sp.failures)
	}
	if got := strings.Count(w.sp.logs.String(), "saml: response rejected"); got != 1 {
		t.Errorf("rejection logged %d times, want once; logs:\n%s", got, w.sp.logs)
	}
	if !strings.Contains(w.sp.logs.String(), "udience") {
		t.Errorf("log does not name the audience problem:\n%s", w.sp.logs)
	}
}

func TestACSListsArrivedAttributesWhenEmailIsMissing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	s := alice()
	s.UserEmail = ""

	rec := postACS(w.sp.sp, mint(t, w.idp, w.sp.sp.EntityID(), "", s))

	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
	if len(w.sp.failures) != 1 {
		t.Fatalf("failures = %d, want 1", len(w.sp.failures))
	}
	f := w.sp.failures[0]
	if !strings.Contains(f.Title, "email") {
		t.Errorf("title = %q, want it to mention the email", f.Title)
	}
	for _, want := range []string{"urn:oid:0.9.2342.19200300.100.1.1 (uid)", "urn:oid:2.5.4.3 (cn)", "eduPersonAffiliation"} {
		if !slices.ContainsFunc(f.Arrived, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("arrived = %q, want it to list %q", f.Arrived, want)
		}
	}
}

func TestACSAcceptsEverySigningCertificateInTheMetadata(t *testing.T) {
	t.Parallel()
	current, next, stranger := newKeyPair(t, "current"), newKeyPair(t, "next"), newKeyPair(t, "stranger")
	sps := spProviders{}
	// The published metadata lists two certificates (a key rollover).
	published := newIDP(current, sps, next.cert)
	ts := newSP(t, newKeyPair(t, "sp"), metadataXML(t, published), nil)
	sps[ts.sp.EntityID()] = ts.sp.Metadata()

	tests := []struct {
		name   string
		signer keyPair
		want   int
	}{
		{"signed with the first certificate", current, http.StatusFound},
		{"signed with the second certificate", next, http.StatusFound},
		{"signed with a key not in the metadata", stranger, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer := newIDP(tt.signer, sps)
			signer.MetadataURL = published.MetadataURL // same issuer
			rec := postACS(ts.sp, mint(t, signer, ts.sp.EntityID(), "", alice()))
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d; logs %s", rec.Code, tt.want, ts.logs)
			}
		})
	}
}

func TestStartLoginSendsASignedRequestAndASeparateTrackingCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base         string
		wantSameSite http.SameSite
		wantSecure   bool
	}{
		{"https://access.example", http.SameSiteNoneMode, true},
		{"http://127.0.0.1:8080", http.SameSiteLaxMode, false},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			t.Parallel()
			idp := newIDP(newKeyPair(t, "idp"), spProviders{})
			ts := newSP(t, newKeyPair(t, "sp"), metadataXML(t, idp), func(c *samlauth.Config) { c.BaseURL = tt.base })
			w := httptest.NewRecorder()
			ts.sp.StartLogin(w, httptest.NewRequest(http.MethodGet, tt.base+"/login", nil), "/teams")

			if w.Code != http.StatusFound {
				t.Fatalf("status = %d, want 302", w.Code)
			}
			loc, _ := url.Parse(w.Header().Get("Location"))
			if got, want := loc.Query().Get("SigAlg"), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"; got != want {
				t.Errorf("SigAlg = %q, want %q", got, want)
			}
			if loc.Query().Get("Signature") == "" {
				t.Error("AuthnRequest is not signed")
			}
			cookies := w.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies = %d, want 1 tracking cookie", len(cookies))
			}
			c := cookies[0]
			if !strings.HasPrefix(c.Name, "sa_saml_") || !c.HttpOnly || c.SameSite != tt.wantSameSite || c.Secure != tt.wantSecure {
				t.Errorf("tracking cookie = %s (HttpOnly %v SameSite %v Secure %v), want sa_saml_*, HttpOnly, SameSite %v, Secure %v",
					c.Name, c.HttpOnly, c.SameSite, c.Secure, tt.wantSameSite, tt.wantSecure)
			}
		})
	}
}

func TestConfigValidateReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	err := samlauth.Config{BaseURL: "ftp://x", IDPMetadataURL: "x", IDPMetadataFile: "y", ClockSkew: time.Hour,
		Preset: "ping", Roles: samlauth.RoleGroups{Default: "root"}, RequestBinding: "artifact"}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{"base URL", "private key", "certificate is required", "exactly one IdP metadata source",
		"clock skew", "preset", "default role", "request binding"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to mention %q", err, want)
		}
	}
	if errors.Is(err, samlauth.ErrNoRole) {
		t.Error("config error matches ErrNoRole")
	}
}
