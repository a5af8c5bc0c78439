package samlauth_test

// The SAML attack corpus: each test crafts a response from a valid one
// signed with the test IdP's key, posts it to the ACS of a real SP, and
// checks that it is refused with the safe error page and exactly one log
// line giving the private reason.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/sentry-access/sentry-access/internal/samlauth"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

const acsURL = "https://access.example/saml/acs"

// attackWorld is an IdP key, an SP trusting it, and the SP's JSON log.
type attackWorld struct {
	*world
	sp       *samlauth.SP
	sessions *fakeSessions
	logs     *bytes.Buffer
}

// newAttackWorld builds an SP that renders failures with the default
// (plain text) page and logs JSON, so tests can read both.
func newAttackWorld(t *testing.T, mutate func(*samlauth.Config)) *attackWorld {
	t.Helper()
	w := newWorld(t, mutate) // registers an SP with the IdP; we build our own with the same keys
	aw := &attackWorld{world: w, sessions: &fakeSessions{}, logs: &bytes.Buffer{}}
	cfg := samlauth.Config{
		BaseURL: "https://access.example", Key: w.spKey.key, Certificate: w.spKey.cert,
		IDPMetadataXML: metadataXML(t, w.idp), AllowIDPInitiated: true,
		Preset: samlauth.PresetGeneric, Roles: samlauth.RoleGroups{Admin: []string{"admins"}, Default: sentryaccess.RoleViewer},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	sp, err := samlauth.New(context.Background(), cfg, samlauth.Deps{
		Sessions: aw.sessions, Now: now,
		Logger: slog.New(slog.NewJSONHandler(aw.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	aw.sp = sp
	return aw
}

// assertion is the IdP's assertion for alice, before signing, changed by
// mutate.
func (w *attackWorld) assertion(t *testing.T, mutate func(*saml.Assertion)) *saml.Assertion {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://idp.example/login", nil)
	req, err := w.idp.NewIdpInitiatedRequest(r, w.sp.EntityID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, alice()); err != nil {
		t.Fatal(err)
	}
	a := req.Assertion
	if mutate != nil {
		mutate(a)
	}
	return a
}

// mallory is an assertion naming the attacker's chosen identity.
func (w *attackWorld) mallory(t *testing.T) *saml.Assertion {
	return w.assertion(t, func(a *saml.Assertion) {
		a.ID = "id-mallory"
		a.Subject.NameID.Value = "mallory@evil.example"
		setEmail(a, "mallory@evil.example")
	})
}

func setEmail(a *saml.Assertion, email string) {
	for i := range a.AttributeStatements {
		for j := range a.AttributeStatements[i].Attributes {
			at := &a.AttributeStatements[i].Attributes[j]
			if at.FriendlyName == "mail" || at.FriendlyName == "eduPersonPrincipalName" || strings.Contains(strings.ToLower(at.Name), "mail") {
				for k := range at.Values {
					at.Values[k].Value = email
				}
			}
		}
	}
}

// signer signs with key pair kp using the XML signature method.
func signer(t *testing.T, kp keyPair, method string) *dsig.SigningContext {
	t.Helper()
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{
		Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key, Leaf: kp.cert,
	}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// signAssertion signs a with ctx and returns the signed element (signature
// placed after the Issuer, as the schema wants).
func signAssertion(t *testing.T, ctx *dsig.SigningContext, a *saml.Assertion) *etree.Element {
	t.Helper()
	a.Signature = nil
	signed, err := ctx.SignEnveloped(a.Element())
	if err != nil {
		t.Fatal(err)
	}
	a.Signature = signed.ChildElements()[len(signed.ChildElements())-1]
	return a.Element()
}

// response is the IdP's Response envelope (unsigned, no assertion yet).
func (w *attackWorld) response(mutate func(*saml.Response)) *saml.Response {
	r := &saml.Response{
		Destination: acsURL, ID: "id-response-1", IssueInstant: testNow, Version: "2.0",
		Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: w.idp.MetadataURL.String()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

// unsignedResponse wraps children in r without signing r.
func unsignedResponse(r *saml.Response, children ...*etree.Element) *etree.Element {
	el := r.Element()
	for _, c := range children {
		el.AddChild(c.Copy())
	}
	return el
}

// signedResponse wraps children in r and signs r with ctx.
func signedResponse(t *testing.T, ctx *dsig.SigningContext, r *saml.Response, children ...*etree.Element) *etree.Element {
	t.Helper()
	r.Signature = nil
	signed, err := ctx.SignEnveloped(unsignedResponse(r, children...))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range signed.ChildElements() {
		if c.Tag == "Signature" {
			r.Signature = c
		}
	}
	return unsignedResponse(r, children...)
}

func xmlOf(t *testing.T, el *etree.Element) string {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	s, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func form(samlXML, relay string) url.Values {
	v := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(samlXML))}}
	if relay != "" {
		v.Set("RelayState", relay)
	}
	return v
}

// logLines returns the JSON log records whose msg is msg.
func logLines(t *testing.T, logs *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// assertRefused checks the response to an attack: 403, no session, the
// safe page without the private reason, and one log line with it.
func assertRefused(t *testing.T, w *attackWorld, rec *httptest.ResponseRecorder, wantReason string) {
	t.Helper()
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403; body %q; logs:\n%s", rec.Code, rec.Body, w.logs)
	}
	if len(w.sessions.begun) != 0 {
		t.Fatalf("a session began: %+v", w.sessions.begun)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "could not be accepted") {
		t.Errorf("page = %q, want the safe 'could not be accepted' page", body)
	}
	lines := logLines(t, w.logs, "saml: response rejected")
	if len(lines) != 1 {
		t.Fatalf("rejection logged %d times, want once; logs:\n%s", len(lines), w.logs)
	}
	reason, _ := lines[0]["reason"].(string)
	t.Logf("private reason: %s", reason)
	if !strings.Contains(strings.ToLower(reason), strings.ToLower(wantReason)) {
		t.Errorf("logged reason = %q, want it to mention %q", reason, wantReason)
	}
	if reason != "" && strings.Contains(body, reason) {
		t.Errorf("the private reason leaked into the page: %q", body)
	}
	for _, private := range []string{"signature", "digest", "Assertion", "InResponseTo", "audience", "Recipient"} {
		if strings.Contains(body, private) {
			t.Errorf("page names the private detail %q: %q", private, body)
		}
	}
}

// replaceOnce replaces old in s, failing the test if it is not there.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not found in\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

func TestForgedBaselineIsAccepted(t *testing.T) {
	t.Parallel()
	// The forging helpers make valid responses: each attack below changes
	// exactly one thing about this.
	for name, build := range map[string]func(w *attackWorld, t *testing.T) string{
		"signed assertion in an unsigned response": func(w *attackWorld, t *testing.T) string {
			a := signAssertion(t, signer(t, w.idpKey, dsig.RSASHA256SignatureMethod), w.assertion(t, nil))
			return xmlOf(t, unsignedResponse(w.response(nil), a))
		},
		"signed assertion in a signed response": func(w *attackWorld, t *testing.T) string {
			ctx := signer(t, w.idpKey, dsig.RSASHA256SignatureMethod)
			a := signAssertion(t, ctx, w.assertion(t, nil))
			return xmlOf(t, signedResponse(t, ctx, w.response(nil), a))
		},
		"unsigned assertion in a signed response": func(w *attackWorld, t *testing.T) string {
			ctx := signer(t, w.idpKey, dsig.RSASHA256SignatureMethod)
			return xmlOf(t, signedResponse(t, ctx, w.response(nil), w.assertion(t, nil).Element()))
		},
		"with a UTF-8 declaration": func(w *attackWorld, t *testing.T) string {
			a := signAssertion(t, signer(t, w.idpKey, dsig.RSASHA256SignatureMethod), w.assertion(t, nil))
			return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + xmlOf(t, unsignedResponse(w.response(nil), a))
		},
		"not yet valid, but within the clock skew": func(w *attackWorld, t *testing.T) string {
			a := w.assertion(t, func(a *saml.Assertion) {
				a.IssueInstant = testNow.Add(2 * time.Minute)
				a.Conditions.NotBefore = testNow.Add(2 * time.Minute)
			})
			return xmlOf(t, unsignedResponse(w.response(nil), signAssertion(t, signer(t, w.idpKey, dsig.RSASHA256SignatureMethod), a)))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newAttackWorld(t, nil)
			rec := postACS(w.sp, form(build(w, t), ""))
			if rec.Code != http.StatusFound || len(w.sessions.begun) != 1 {
				t.Fatalf("status = %d, sessions %d; want 302 and one session; logs:\n%s", rec.Code, len(w.sessions.begun), w.logs)
			}
			if got := w.sessions.begun[0].Email; got != "alice@acme.test" {
				t.Errorf("email = %q, want alice@acme.test", got)
			}
		})
	}
}

// attack builds a crafted SAMLResponse XML in w.
type attack struct {
	name   string
	build  func(t *testing.T, w *attackWorld) string
	reason string // what the logged private reason must mention
	cfg    func(*samlauth.Config)
}

func sha256Signer(t *testing.T, w *attackWorld) *dsig.SigningContext {
	return signer(t, w.idpKey, dsig.RSASHA256SignatureMethod)
}

// signedAlice is alice's assertion, signed by the IdP, after mutate.
func signedAlice(t *testing.T, w *attackWorld, mutate func(*saml.Assertion)) *etree.Element {
	return signAssertion(t, sha256Signer(t, w), w.assertion(t, mutate))
}

func attacks() []attack {
	return []attack{
		// --- Missing or misplaced signatures.
		{name: "unsigned response and unsigned assertion", reason: "signature", build: func(t *testing.T, w *attackWorld) string {
			return xmlOf(t, unsignedResponse(w.response(nil), w.mallory(t).Element()))
		}},
		{name: "two assertions, only the second signed", reason: "assertion", build: func(t *testing.T, w *attackWorld) string {
			return xmlOf(t, unsignedResponse(w.response(nil), w.mallory(t).Element(), signedAlice(t, w, nil)))
		}},
		{name: "two assertions, only the first signed", reason: "assertion", build: func(t *testing.T, w *attackWorld) string {
			return xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil), w.mallory(t).Element()))
		}},
		{name: "signature over the wrong element: a response's signature moved into the assertion", reason: "signature", build: func(t *testing.T, w *attackWorld) string {
			// The IdP signed some other Response (id-response-other); the
			// attacker grafts that valid signature into his assertion.
			other := signedResponse(t, sha256Signer(t, w), w.response(func(r *saml.Response) { r.ID = "id-response-other" }))
			m := w.mallory(t)
			m.Signature = other.SelectElement("Signature")
			if m.Signature == nil {
				t.Fatal("no signature on the other response")
			}
			return xmlOf(t, unsignedResponse(w.response(nil), m.Element()))
		}},
		{name: "signature over the wrong element: another response's signature on this response", reason: "signature", build: func(t *testing.T, w *attackWorld) string {
			other := signedResponse(t, sha256Signer(t, w), w.response(func(r *saml.Response) { r.ID = "id-response-other" }))
			r := w.response(nil)
			r.Signature = other.SelectElement("Signature")
			return xmlOf(t, unsignedResponse(r, w.mallory(t).Element()))
		}},
		{name: "signed by a key the IdP metadata does not list", reason: "certificate", build: func(t *testing.T, w *attackWorld) string {
			rogue := newKeyPair(t, "rogue")
			return xmlOf(t, unsignedResponse(w.response(nil), signAssertion(t, signer(t, rogue, dsig.RSASHA256SignatureMethod), w.mallory(t))))
		}},

		// --- Signature wrapping (XSW) variants.
		{name: "XSW: signed assertion altered after signing", reason: "could not be verified", build: func(t *testing.T, w *attackWorld) string {
			s := xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil)))
			return strings.ReplaceAll(s, "alice@acme.test", "mallory@evil.example")
		}},
		{name: "XSW: evil assertion takes the signed assertion's ID and signature", reason: "could not be verified", build: func(t *testing.T, w *attackWorld) string {
			signed := w.assertion(t, nil)
			signAssertion(t, sha256Signer(t, w), signed)
			m := w.mallory(t)
			m.ID, m.Signature = signed.ID, signed.Signature
			return xmlOf(t, unsignedResponse(w.response(nil), m.Element()))
		}},
		{name: "XSW: signed assertion hidden in the evil assertion's signature Object", reason: "assertions", build: func(t *testing.T, w *attackWorld) string {
			signed := w.assertion(t, nil)
			orig := signAssertion(t, sha256Signer(t, w), signed)
			sig := signed.Signature.Copy()
			obj := sig.CreateElement("ds:Object")
			obj.AddChild(orig)
			m := w.mallory(t)
			m.Signature = sig
			return xmlOf(t, unsignedResponse(w.response(nil), m.Element()))
		}},
		{name: "XSW: signed assertion hidden in the evil assertion's Advice", reason: "assertions", build: func(t *testing.T, w *attackWorld) string {
			orig := signedAlice(t, w, nil)
			m := w.mallory(t).Element()
			advice := etree.NewElement("saml:Advice")
			advice.AddChild(orig)
			m.InsertChildAt(len(m.Child), advice)
			return xmlOf(t, unsignedResponse(w.response(nil), m))
		}},
		{name: "XSW: signed response wrapped in the Extensions of an evil response", reason: "assertions", build: func(t *testing.T, w *attackWorld) string {
			orig := signedResponse(t, sha256Signer(t, w), w.response(nil), w.assertion(t, nil).Element())
			evil := unsignedResponse(w.response(func(r *saml.Response) { r.ID = "id-evil" }), w.mallory(t).Element())
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(orig)
			evil.InsertChildAt(2, ext)
			return xmlOf(t, evil)
		}},
		{name: "XSW: evil response carries the signed response's signature, original inside it", reason: "assertions", build: func(t *testing.T, w *attackWorld) string {
			r := w.response(nil)
			orig := signedResponse(t, sha256Signer(t, w), r, w.assertion(t, nil).Element())
			sig := r.Signature.Copy()
			obj := sig.CreateElement("ds:Object")
			obj.AddChild(orig)
			evil := w.response(func(r *saml.Response) { r.ID = "id-evil" })
			evil.Signature = sig
			return xmlOf(t, unsignedResponse(evil, w.mallory(t).Element()))
		}},
		{name: "XSW: evil response keeps the signed response's ID and signature", reason: "could not be verified", build: func(t *testing.T, w *attackWorld) string {
			r := w.response(nil)
			signedResponse(t, sha256Signer(t, w), r, w.assertion(t, nil).Element())
			return xmlOf(t, unsignedResponse(r, w.mallory(t).Element()))
		}},

		// --- Algorithm policy.
		{name: "SHA-1 signature when the policy rejects it", reason: "sha-1", build: func(t *testing.T, w *attackWorld) string {
			return xmlOf(t, unsignedResponse(w.response(nil), signAssertion(t, signer(t, w.idpKey, dsig.RSASHA1SignatureMethod), w.assertion(t, nil))))
		}},

		// --- Time.
		{name: "expired assertion", reason: "expired", build: func(t *testing.T, w *attackWorld) string {
			past := testNow.Add(-2 * time.Hour)
			a := signedAlice(t, w, func(a *saml.Assertion) {
				a.IssueInstant = past
				a.Conditions.NotBefore = past
				a.Conditions.NotOnOrAfter = past.Add(5 * time.Minute)
				a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past.Add(5 * time.Minute)
			})
			return xmlOf(t, unsignedResponse(w.response(func(r *saml.Response) { r.IssueInstant = past }), a))
		}},
		{name: "not yet valid beyond the clock skew", reason: "in the future", build: func(t *testing.T, w *attackWorld) string {
			future := testNow.Add(10 * time.Minute)
			return xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, func(a *saml.Assertion) {
				a.IssueInstant = future
				a.Conditions.NotBefore = future
			})))
		}},

		// --- Meant for someone else.
		{name: "wrong audience", reason: "audience", build: func(t *testing.T, w *attackWorld) string {
			return xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, func(a *saml.Assertion) {
				a.Conditions.AudienceRestrictions = []saml.AudienceRestriction{{Audience: saml.Audience{Value: "https://other-app.example/saml/metadata"}}}
			})))
		}},
		{name: "wrong recipient", reason: "recipient", build: func(t *testing.T, w *attackWorld) string {
			return xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, func(a *saml.Assertion) {
				a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://other-app.example/saml/acs"
			})))
		}},
		{name: "wrong destination", reason: "destination", build: func(t *testing.T, w *attackWorld) string {
			r := w.response(func(r *saml.Response) { r.Destination = "https://other-app.example/saml/acs" })
			return xmlOf(t, signedResponse(t, sha256Signer(t, w), r, signedAlice(t, w, nil)))
		}},
		{name: "InResponseTo naming no request of ours", reason: "InResponseTo", build: func(t *testing.T, w *attackWorld) string {
			r := w.response(func(r *saml.Response) { r.InResponseTo = "id-not-ours" })
			return xmlOf(t, signedResponse(t, sha256Signer(t, w), r, signedAlice(t, w, func(a *saml.Assertion) {
				a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo = "id-not-ours"
			})))
		}},
		{name: "unsolicited response when IdP-initiated login is off", reason: "InResponseTo",
			cfg: func(c *samlauth.Config) { c.AllowIDPInitiated = false },
			build: func(t *testing.T, w *attackWorld) string {
				return xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil)))
			}},

		// --- Comment injection.
		{name: "comment injected into the NameID", reason: "comment", build: func(t *testing.T, w *attackWorld) string {
			// The IdP signed the attacker's own account; the comment makes
			// naive parsers read alice's address. C14N drops comments, so
			// the signature still verifies.
			a := signedAlice(t, w, func(a *saml.Assertion) { a.Subject.NameID.Value = "alice@acme.test.evil.example" })
			s := xmlOf(t, unsignedResponse(w.response(nil), a))
			return replaceOnce(t, s, "alice@acme.test.evil.example", "alice@acme.test<!---->.evil.example")
		}},
		{name: "comment injected into the email attribute", reason: "comment", build: func(t *testing.T, w *attackWorld) string {
			a := signedAlice(t, w, func(a *saml.Assertion) { setEmail(a, "alice@acme.test.evil.example") })
			s := xmlOf(t, unsignedResponse(w.response(nil), a))
			return strings.ReplaceAll(s, "alice@acme.test.evil.example", "alice@acme.test<!-- x -->.evil.example")
		}},
		{name: "DOCTYPE with an internal entity", reason: "DOCTYPE", build: func(t *testing.T, w *attackWorld) string {
			s := xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil)))
			return `<!DOCTYPE r [<!ENTITY e "alice@acme.test">]>` + s
		}},
		// --- A declaration that stops Go's decoder but not etree's, which
		// reads any declared charset as it is: the screen must not stop.
		{name: "ISO-8859-1 declaration before a comment injected into the NameID", reason: "UTF-8", build: func(t *testing.T, w *attackWorld) string {
			a := signedAlice(t, w, func(a *saml.Assertion) { a.Subject.NameID.Value = "alice@acme.test.evil.example" })
			s := xmlOf(t, unsignedResponse(w.response(nil), a))
			s = replaceOnce(t, s, "alice@acme.test.evil.example", "alice@acme.test<!---->.evil.example")
			return `<?xml version="1.0" encoding="ISO-8859-1"?>` + s
		}},
		{name: "ISO-8859-1 declaration before a second assertion", reason: "UTF-8", build: func(t *testing.T, w *attackWorld) string {
			return `<?xml version="1.0" encoding="ISO-8859-1"?>` + xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil), w.mallory(t).Element()))
		}},
	}
}

func TestACSRefusesEveryCraftedResponse(t *testing.T) {
	t.Parallel()
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			w := newAttackWorld(t, a.cfg)
			rec := postACS(w.sp, form(a.build(t, w), ""))
			assertRefused(t, w, rec, a.reason)
		})
	}
}

func TestACSRefusesAReplayedAssertionWithTheReason(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t, nil)
	f := form(xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil))), "")
	if rec := postACS(w.sp, f); rec.Code != http.StatusFound {
		t.Fatalf("first post: status %d; logs:\n%s", rec.Code, w.logs)
	}
	w.sessions.begun = nil
	assertRefused(t, w, postACS(w.sp, f), "already been used")
}

func TestACSRefusesAReplayedAssertionInAFreshlySignedEnvelope(t *testing.T) {
	t.Parallel()
	// An attacker who captured a signed assertion cannot sign a new Response,
	// but the IdP may send the same assertion in two envelopes; the
	// assertion ID is what counts.
	w := newAttackWorld(t, nil)
	a := signedAlice(t, w, nil)
	first := form(xmlOf(t, unsignedResponse(w.response(nil), a)), "")
	second := form(xmlOf(t, signedResponse(t, sha256Signer(t, w), w.response(func(r *saml.Response) { r.ID = "id-response-2" }), a)), "")
	if rec := postACS(w.sp, first); rec.Code != http.StatusFound {
		t.Fatalf("first post: status %d; logs:\n%s", rec.Code, w.logs)
	}
	w.sessions.begun = nil
	assertRefused(t, w, postACS(w.sp, second), "already been used")
}

func TestACSDropsEveryOffSiteRelayStateAndLogsIt(t *testing.T) {
	t.Parallel()
	for _, relay := range []string{
		"//evil.example/", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "HTTPS://evil.example",
		"http:evil.example", "javascript:alert(1)", "/%2F%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example",
		"/%252F%252Fevil.example", "/\t/evil.example", " //evil.example", "/%09/evil.example",
	} {
		t.Run(relay, func(t *testing.T) {
			t.Parallel()
			w := newAttackWorld(t, nil)
			rec := postACS(w.sp, form(xmlOf(t, unsignedResponse(w.response(nil), signedAlice(t, w, nil))), relay))
			if rec.Code != http.StatusFound {
				t.Fatalf("status = %d, want 302 (login succeeds, the RelayState is dropped); logs:\n%s", rec.Code, w.logs)
			}
			if got := rec.Header().Get("Location"); got != "/" {
				t.Errorf("redirect = %q, want \"/\"", got)
			}
			if got := len(logLines(t, w.logs, "saml: dropped off-site RelayState")); got != 1 {
				t.Errorf("drop logged %d times, want once; logs:\n%s", got, w.logs)
			}
		})
	}
}
