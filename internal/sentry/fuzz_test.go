package sentry

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseLink(f *testing.F) {
	f.Add(sentryLink("https://sentry.io/api/0/organizations/acme/members/?", "0:0:1", false, "0:100:0", true))
	f.Add(`<https://x/?cursor=a>; rel="next"; results="false"; cursor="a"`)
	f.Add(`<https://x/>; rel=next; cursor="a\"b,c"`)
	f.Fuzz(func(t *testing.T, header string) {
		next, ok := ParseLink(header)
		if ok && next == "" {
			t.Errorf("ParseLink(%q) = ok with an empty cursor", header)
		}
		if !ok && next != "" {
			t.Errorf("ParseLink(%q) = %q without ok", header, next)
		}
		if ok && !strings.Contains(strings.ToLower(header), "next") {
			t.Errorf("ParseLink(%q) found a next link in a header without one", header)
		}
	})
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add(403, []byte(`{"detail":"You do not have permission to perform this action."}`))
	f.Add(401, []byte(`{"detail":{"code":"sso-required","message":"Must login via SSO","extra":{"loginUrl":"x"}}}`))
	f.Add(409, []byte(`{"non_field_errors":["A team with this slug already exists."],"detail":"A team with this slug already exists."}`))
	f.Add(400, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidFilter"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseErrorBody(status, body)
		if e == nil {
			t.Fatal("nil *APIError")
		}
		if e.Status != status {
			t.Errorf("Status = %d, want %d", e.Status, status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "sentry: ") {
			t.Errorf("Error() = %q", msg)
		}
		if !json.Valid(body) && !utf8.ValidString(e.Detail) {
			t.Errorf("Detail of a non-JSON body is not valid UTF-8: %q", e.Detail)
		}
	})
}
