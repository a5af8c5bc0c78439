package samlauth_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/crewjam/saml"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// FuzzACS posts arbitrary SAMLResponse and RelayState values to the ACS of
// a real SP: it must never panic, never answer 2xx, never redirect off-site
// and never begin a session for anyone but the one user the IdP signed an
// assertion for (the seed).
func FuzzACS(f *testing.F) {
	// Fixed test-only keys: generating RSA keys in every fuzz worker,
	// under coverage instrumentation, takes minutes.
	idpKey, idpCert := fuzzKey(f, "fuzz-idp")
	spKey, spCert := fuzzKey(f, "fuzz-sp")
	sps := spProviders{}
	idp := newIDP(keyPair{idpKey, idpCert}, sps)
	md, err := xml.Marshal(idp.Metadata())
	if err != nil {
		f.Fatal(err)
	}
	sessions := &fakeSessions{}
	sp, err := samlauth.New(context.Background(), samlauth.Config{
		BaseURL: "https://access.example", Key: spKey, Certificate: spCert, IDPMetadataXML: md,
		AllowIDPInitiated: true, Preset: samlauth.PresetGeneric,
		Roles: samlauth.RoleGroups{Default: sentryaccess.RoleViewer},
	}, samlauth.Deps{Sessions: sessions, Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	sps[sp.EntityID()] = sp.Metadata()

	// The one valid response.
	var valid string
	{
		r := httptest.NewRequest(http.MethodGet, "https://idp.example/login", nil)
		req, err := idp.NewIdpInitiatedRequest(r, sp.EntityID(), "")
		if err != nil {
			f.Fatal(err)
		}
		if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, alice()); err != nil {
			f.Fatal(err)
		}
		form, err := req.PostBinding()
		if err != nil {
			f.Fatal(err)
		}
		valid = form.SAMLResponse
	}
	f.Add(valid, "/members")
	f.Add(valid, "//evil.example")
	raw, _ := base64.StdEncoding.DecodeString(valid)
	f.Add(base64.StdEncoding.EncodeToString(raw[:len(raw)/2]), "")
	f.Add("", "")
	f.Add("PHNhbWxwOlJlc3BvbnNlLz4=", "/") // <samlp:Response/>

	f.Fuzz(func(t *testing.T, samlResponse, relayState string) {
		sessions.begun = nil
		rec := postACS(sp, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relayState}})
		if rec.Code >= 200 && rec.Code < 300 {
			t.Fatalf("status %d for a fuzzed response", rec.Code)
		}
		// The IdP signed only alice's assertion: no input may sign in
		// anyone else (each worker process mints its own seed).
		for _, id := range sessions.begun {
			if id.Email != "alice@acme.test" || id.NameID != "alice@acme.test" {
				t.Fatalf("a session began for %+v, an identity the IdP never signed", id)
			}
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			if _, ok := samlauth.SafeReturnPath(loc); !ok {
				t.Fatalf("redirect to unsafe location %q", loc)
			}
		}
		if rec.Code == http.StatusFound && len(sessions.begun) == 0 {
			t.Fatalf("302 without a session")
		}
	})
}

// fuzzKey loads a test-only key pair from testdata (made with
// GenerateKeyPair; valid around testNow; trusted by nothing else).
func fuzzKey(f *testing.F, name string) (*rsa.PrivateKey, *x509.Certificate) {
	f.Helper()
	certPEM, err := os.ReadFile(filepath.Join("testdata", name+".crt"))
	if err != nil {
		f.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join("testdata", name+".key"))
	if err != nil {
		f.Fatal(err)
	}
	k, c, err := samlauth.ParseKeyPair(certPEM, keyPEM)
	if err != nil {
		f.Fatal(err)
	}
	return k, c
}
