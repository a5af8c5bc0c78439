package sentry

import "strings"

// SaaSURL is sentry.io's main URL. Besides the region hosts, it serves what
// is not kept per region: sign-in and SSO, hence the SAML endpoints
// (/saml/acs/{org}/, …), which Sentry's SSO docs give on https://sentry.io
// for every organization (docs/organization/authentication/sso/saml2.mdx
// in getsentry/sentry-docs).
const SaaSURL = "https://sentry.io"

// saasRegions are sentry.io's data-storage regions, each with its API host
// <region>.sentry.io (the OpenAPI schema's servers).
var saasRegions = []string{"us", "de"}

// SaaSHost reports whether host (without a port) is sentry.io or one of its
// subdomains: a region host (us.sentry.io, de.sentry.io) or an
// organization's own subdomain (acme.sentry.io).
func SaaSHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "sentry.io" || strings.HasSuffix(host, ".sentry.io")
}

// SaaSRegion returns the region of a sentry.io region host ("us" for
// us.sentry.io), and "" for any other host.
func SaaSRegion(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, r := range saasRegions {
		if host == r+".sentry.io" {
			return r
		}
	}
	return ""
}
