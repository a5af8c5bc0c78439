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
//   - Only UTF-8 is accepted. crewjam parses with etree, whose default
//     charset reader passes any declared encoding through unconverted, so
//     a document declaring ISO-8859-1 is still parsed there; Go's decoder
//     would stop at the declaration, and a screen that stopped with it
//     would let everything after it through. A declared encoding other
//     than UTF-8 is refused, and so is anything the screen cannot read to
//     the end (fail closed): the screen sees exactly what crewjam parses.
//
// An empty or non-base64 value is left for crewjam to report.
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
	// etree's pass-through: the declaration is read, then refused below
	// unless it names UTF-8, and the bytes are decoded as etree reads them.
	declared := ""
	dec.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		declared = charset
		return input, nil
	}
	assertions := 0
	inAssertion := 0 // depth inside an Assertion element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if declared != "" {
			return fmt.Errorf("%w: the response declares encoding %q; only UTF-8 is accepted", errScreen, declared)
		}
		if err != nil {
			return fmt.Errorf("%w: the response is not well-formed UTF-8 XML: %w", errScreen, err)
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
