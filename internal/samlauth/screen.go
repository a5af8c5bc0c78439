package samlauth

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// SAML namespaces the screen looks at.
const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
)

// maxResponseBytes bounds a decoded SAMLResponse. Real responses are a few
// KiB; attribute-heavy ones stay well under this.
const maxResponseBytes = 512 << 10

// errScreen marks a response refused by screenResponse (in addition to the
// checks crewjam makes).
var errScreen = errors.New("response refused before signature checks")

// screenResponse applies checks crewjam does not make to the base64 HTTP-POST
// SAMLResponse form value b64, before crewjam parses it:
//
//   - Comments inside an assertion are refused. Exclusive XML
//     canonicalization drops comments, so an attacker can insert one into a
//     signed NameID or attribute value ("alice@acme.test<!---->.evil.example")
//     without breaking the signature; parsers that read only the first text
//     node then see another identity (CVE-2017-11427 and friends). Go's
//     encoding/xml concatenates the text, but no IdP emits comments there, so
//     refusing them costs nothing and removes the ambiguity.
//   - A Response must carry exactly one Assertion or EncryptedAssertion,
//     anywhere in the document. crewjam refuses several only when the
//     Response is unsigned and returns the first otherwise; extra assertions
//     are the raw material of signature-wrapping attacks.
//   - DOCTYPE declarations are refused (no entity tricks).
//
// An empty or undecodable value is left for crewjam to report.
func screenResponse(b64 string) error {
	if b64 == "" {
		return nil
	}
	if base64.StdEncoding.DecodedLen(len(b64)) > maxResponseBytes {
		return fmt.Errorf("%w: SAMLResponse is larger than %d bytes", errScreen, maxResponseBytes)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil // crewjam reports "cannot parse base64"
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	assertions := 0
	inAssertion := 0 // depth inside an Assertion element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil // malformed XML: crewjam reports it
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == nsAssertion && (t.Name.Local == "Assertion" || t.Name.Local == "EncryptedAssertion") {
				assertions++
			}
			if inAssertion > 0 || (t.Name.Space == nsAssertion && t.Name.Local == "Assertion") {
				inAssertion++
			}
		case xml.EndElement:
			if inAssertion > 0 {
				inAssertion--
			}
		case xml.Comment:
			if inAssertion > 0 {
				return fmt.Errorf("%w: XML comment inside an Assertion (comment injection into a signed value, e.g. the NameID)", errScreen)
			}
		case xml.Directive:
			return fmt.Errorf("%w: XML directive (DOCTYPE) in the response", errScreen)
		}
	}
	if assertions > 1 {
		return fmt.Errorf("%w: response carries %d assertions; exactly one is accepted (signature wrapping?)", errScreen, assertions)
	}
	return nil
}
