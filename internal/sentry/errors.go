package sentry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrorCode is a sentinel error kind. Every *APIError matches exactly one
// of these with errors.Is, chosen by its HTTP status. ErrorCode values are
// constants, so they can be compared with == and never change.
type ErrorCode string

// Error implements error.
func (e ErrorCode) Error() string { return string(e) }

// Sentinel errors matched with errors.Is.
const (
	// ErrUnauthorized is a 401: missing, invalid or expired credential (or,
	// for session callers only, sso-required / 2fa-required).
	ErrUnauthorized ErrorCode = "sentry: unauthorized"
	// ErrForbidden is a 403: the credential lacks a scope or role. The
	// *APIError's RequiredScopes names what the endpoint asks for.
	ErrForbidden ErrorCode = "sentry: forbidden"
	// ErrNotFound is a 404.
	ErrNotFound ErrorCode = "sentry: not found"
	// ErrConflict is a 409, e.g. a duplicate team slug or SCIM user.
	ErrConflict ErrorCode = "sentry: conflict"
	// ErrRateLimited is a 429 that persisted after the client's retries.
	ErrRateLimited ErrorCode = "sentry: rate limited"
	// ErrInvalid is a 400 or 422 (validation error), or a request the client
	// refuses to send because Sentry would reject it.
	ErrInvalid ErrorCode = "sentry: invalid request"
	// ErrSessionOnly reports an endpoint that Sentry serves to browser
	// (cookie) sessions only, such as /api/0/api-tokens/: the data is not
	// visible with this credential. It is never reported as an empty list.
	ErrSessionOnly ErrorCode = "sentry: not visible with this credential (browser sessions only)"
)

// APIError is an error answer from Sentry. Sentry's error bodies come in
// many shapes (docs/sentry-access-model.md#error-bodies, src/sentry/api/exceptions.py, DRF
// serializers, src/sentry/scim/endpoints/constants.py); ParseErrorBody
// folds all of them into this one type.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Method and Endpoint name the request; Endpoint is the path template
	// (e.g. "/organizations/{org}/members/{member_id}/"), never a concrete
	// URL, so it carries no identifiers or secrets.
	Method, Endpoint string
	// Code is the machine code of a structured error
	// ({"detail":{"code":"sso-required",...}}), or the SCIM scimType.
	Code string
	// Detail is the human-readable message.
	Detail string
	// Extra is the "extra" object of a structured error (e.g. loginUrl).
	Extra map[string]any
	// Fields holds per-field validation messages ({"email":["..."]}),
	// including "non_field_errors".
	Fields map[string][]string
	// SCIM reports whether the body was a SCIM error
	// ({"schemas":[...Error],"detail":...}).
	SCIM bool
	// RequiredScopes lists, on a 403, the scopes of which the endpoint
	// requires at least one (its scope_map).
	RequiredScopes []string
}

// Error implements error. It names the method, endpoint template, status,
// the message and, on 403, the scopes the endpoint needs.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("sentry: ")
	if e.Method != "" || e.Endpoint != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Endpoint)
	}
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %s)", e.Code)
	}
	if e.Status == http.StatusForbidden && len(e.RequiredScopes) > 0 {
		fmt.Fprintf(&b, " (the endpoint requires one of the scopes: %s)", strings.Join(e.RequiredScopes, ", "))
	}
	return b.String()
}

// Is reports whether target is the sentinel matching e's status.
func (e *APIError) Is(target error) bool {
	code, ok := target.(ErrorCode)
	return ok && code == e.Kind()
}

// Kind returns the sentinel that matches e's status, or "" when none does
// (e.g. a 5xx).
func (e *APIError) Kind() ErrorCode {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return ErrInvalid
	}
	return ""
}

// maxDetailLen bounds messages taken from non-JSON bodies (HTML error pages
// from proxies and the like).
const maxDetailLen = 300

// ParseErrorBody turns an error response body into an *APIError. It never
// fails: it understands every shape Sentry is known to send
// (docs/sentry-access-model.md#error-bodies) and falls back to the text of anything else:
//
//   - {"detail": "msg"}                                   (DRF default)
//   - {"detail": {"code": c, "message": m, "extra": {}}}  (SentryAPIException)
//   - {"detail": ["msg", ...]}                            (list detail)
//   - {"email": ["msg"], "role": "msg"}                   (serializer fields)
//   - {"non_field_errors": [...], "detail": "msg"}        (409 on teams)
//   - {"schemas": [...Error], "detail": m, "scimType": t} (SCIM)
//   - ["msg", ...], "msg", empty or non-JSON bodies
//
// Method, Endpoint and RequiredScopes are left for the caller to fill in.
func ParseErrorBody(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return e
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || dec.More() {
		e.Detail = plainText(trimmed)
		return e
	}
	switch t := v.(type) {
	case map[string]any:
		parseErrorObject(e, t)
	case []any:
		e.Detail = strings.Join(messages(t), "; ")
	case string:
		e.Detail = t
	default:
		e.Detail = plainText(trimmed)
	}
	return e
}

func parseErrorObject(e *APIError, obj map[string]any) {
	if schemas, ok := obj["schemas"].([]any); ok {
		for _, s := range schemas {
			if s == SCIMErrorSchema {
				e.SCIM = true
			}
		}
	}
	if _, ok := obj["scimType"]; ok {
		e.SCIM = true
	}
	for key, val := range obj {
		switch key {
		case "detail":
			switch d := val.(type) {
			case string:
				e.Detail = d
			case map[string]any:
				if c, ok := d["code"].(string); ok {
					e.Code = c
				}
				if m, ok := d["message"].(string); ok {
					e.Detail = m
				}
				if x, ok := d["extra"].(map[string]any); ok && len(x) > 0 {
					e.Extra = x
				}
				if e.Detail == "" && e.Code == "" {
					e.Detail = strings.Join(messages([]any{d}), "; ")
				}
			default:
				e.Detail = strings.Join(messages([]any{d}), "; ")
			}
		case "scimType":
			if s, ok := val.(string); ok && e.Code == "" {
				e.Code = s
			}
		case "schemas", "status":
			// SCIM envelope, not a message.
		default:
			msgs := messages([]any{val})
			if len(msgs) == 0 {
				continue
			}
			if e.Fields == nil {
				e.Fields = map[string][]string{}
			}
			e.Fields[key] = msgs
		}
	}
	if e.Detail == "" && len(e.Fields) > 0 {
		e.Detail = fieldSummary(e.Fields)
	}
}

// fieldSummary renders per-field messages deterministically, non-field
// errors first: "non_field_errors: a; email: b".
func fieldSummary(fields map[string][]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if i := slices.Index(keys, "non_field_errors"); i > 0 {
		keys = append([]string{"non_field_errors"}, slices.Delete(keys, i, i+1)...)
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(fields[k], "; "))
	}
	return strings.Join(parts, "; ")
}

// messages flattens JSON values into strings: strings as they are, lists
// element by element, objects as "key: msg", numbers and booleans as text.
func messages(vals []any) []string {
	var out []string
	for _, v := range vals {
		switch t := v.(type) {
		case nil:
		case string:
			out = append(out, t)
		case []any:
			out = append(out, messages(t)...)
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, m := range messages([]any{t[k]}) {
					out = append(out, k+": "+m)
				}
			}
		default:
			out = append(out, fmt.Sprint(t))
		}
	}
	return out
}

// plainText makes a short one-line message out of a non-JSON body.
func plainText(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if utf8.RuneCountInString(s) > maxDetailLen {
		r := []rune(s)
		s = string(r[:maxDetailLen]) + "…"
	}
	return s
}

// redact removes every occurrence of the secrets from the error's text, in
// case a server or proxy echoes the Authorization header back.
func (e *APIError) redact(secrets ...string) {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		e.Detail = strings.ReplaceAll(e.Detail, s, "[REDACTED]")
		for k, msgs := range e.Fields {
			for i, m := range msgs {
				msgs[i] = strings.ReplaceAll(m, s, "[REDACTED]")
			}
			e.Fields[k] = msgs
		}
		for k, v := range e.Extra {
			if str, ok := v.(string); ok {
				e.Extra[k] = strings.ReplaceAll(str, s, "[REDACTED]")
			}
		}
	}
}
