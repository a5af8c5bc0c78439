package sentry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// TokenScopes are the scopes a dashboard user auth token should list, each
// spelled out: Sentry checks literal scopes (docs/sentry-access-model.md#scopes).
const TokenScopes = "org:read org:write member:read member:invite member:admin team:read team:write team:admin project:read project:write project:admin"

// Problem says, for people, what a failed call to Sentry means and what
// to do: which credential Sentry rejected and how to replace it, which
// scope is missing, that the organization or host is wrong, that Sentry is
// rate limiting, failing or unreachable. It returns "" when err is not a
// failure of a Sentry call (the caller then says something of its own).
// The sentence never holds a token or a raw Go error.
func Problem(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return apiProblem(ae)
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "Sentry did not answer in time: check that SENTRY_URL is reachable from the dashboard and not overloaded; the next sync tries again."
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return "Sentry's TLS certificate was not accepted (unknown authority or wrong host name): check SENTRY_URL, or install the CA of a self-hosted Sentry on the dashboard's host."
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "The connection to Sentry closed before it answered (a proxy or Sentry dropped it); the next sync tries again."
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("Sentry's host %q is not known: check SENTRY_URL (sentry.io organizations use their region host, e.g. https://us.sentry.io or https://de.sentry.io).", dns.Name)
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "Sentry could not be reached (the connection was refused or dropped): check SENTRY_URL and that Sentry is up and reachable from the dashboard."
	}
	return ""
}

func apiProblem(e *APIError) string {
	call := "Sentry"
	if e.Method != "" && e.Endpoint != "" {
		call = "Sentry, asked " + e.Method + " " + e.Endpoint + ","
	}
	replace := "create a new user auth token of an owner or manager in Sentry (User Settings → Auth Tokens) with the scopes " + TokenScopes + ", and set SENTRY_AUTH_TOKEN to it."
	switch {
	case e.SCIM && e.Status == http.StatusUnauthorized:
		return "Sentry rejected the SCIM token (401): use the token of the \"SCIM Internal Integration\" from Sentry's Settings → Auth page as SENTRY_SCIM_TOKEN."
	case e.Status == http.StatusUnauthorized && strings.Contains(strings.ToLower(e.Detail), "expired"):
		return "Sentry rejected the token (401): it has expired. To keep syncing, " + replace
	case e.Status == http.StatusUnauthorized:
		return "Sentry rejected the token (401): it is wrong, revoked, or its user left the organization. To keep syncing, " + replace
	case e.Status == http.StatusForbidden && len(e.RequiredScopes) > 0:
		return fmt.Sprintf("%s refused the token (403): the endpoint needs one of %s, and the token (or its user's org role) holds none. Add the scope to the token, or %s",
			call, strings.Join(e.RequiredScopes, ", "), replace)
	case e.Status == http.StatusForbidden:
		return call + " refused the token (403): the token or its user's org role lacks a scope this needs. " + capitalize(replace)
	case e.Status == http.StatusNotFound && e.Endpoint == epOrganization:
		return "Sentry has no organization by that slug at this URL (404): check SENTRY_ORG, and SENTRY_URL (sentry.io organizations use their region host, e.g. https://us.sentry.io)."
	case e.Status == http.StatusNotFound:
		return call + " answered 404: the organization, or what was asked for, is not there (check SENTRY_ORG and SENTRY_URL); the next sync tries again."
	case e.Status == http.StatusTooManyRequests:
		return "Sentry kept answering 429 (rate limit) after the retries: sync less often (SENTRY_ACCESS_SYNC_INTERVAL) or lower SENTRY_ACCESS_SYNC_CONCURRENCY."
	case e.Status >= 500:
		return fmt.Sprintf("%s failed (%d %s): a problem on Sentry's side; the next sync tries again (check Sentry's status if it persists).", call, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("%s answered %d %s: see the dashboard's log for the details.", call, e.Status, http.StatusText(e.Status))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
