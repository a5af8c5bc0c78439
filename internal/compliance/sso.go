package compliance

import (
	"net/url"
	"strings"
)

// SSOStatus is the organization's SSO state (GET
// /organizations/{org}/auth-provider/, docs/sentry-access-model.md#auth-provider-and-sso).
type SSOStatus struct {
	// Visible reports whether the auth provider could be read; Hidden
	// says why not.
	Visible bool
	Hidden  string
	// Configured reports whether a provider is set up.
	Configured   bool
	Provider     string
	RequireLink  bool
	SCIMEnabled  bool
	PendingLinks int
	LoginURL     string
	DefaultRole  string
}

// SSO returns the SSO status.
func SSO(inv *Inventory) SSOStatus {
	if !inv.Visible(PartAuthProvider) {
		st := SSOStatus{Hidden: inv.Hidden[PartAuthProvider]}
		if inv.Snapshot != nil {
			st.Configured = inv.Snapshot.Org.HasAuthProvider
			st.RequireLink = inv.Snapshot.Org.RequiresSSO
			st.SCIMEnabled = inv.Snapshot.Org.SCIMEnabled
		}
		return st
	}
	ap := inv.AuthProvider
	if ap == nil {
		return SSOStatus{Visible: true}
	}
	return SSOStatus{Visible: true, Configured: true, Provider: ap.ProviderName, RequireLink: ap.RequireLink,
		SCIMEnabled: ap.SCIMEnabled, PendingLinks: ap.PendingLinksCount, LoginURL: ap.LoginURL, DefaultRole: ap.DefaultRole}
}

// SAMLEndpoints are the org's SAML service-provider URLs in Sentry, to
// paste into the IdP. Sentry's SAML2 provider serves them under
// /saml/{acs,metadata,sls}/{org}/ (src/sentry/auth/providers/saml2;
// Sentry's SSO docs); the entity id (audience) is the metadata URL.
type SAMLEndpoints struct {
	ACS      string
	Metadata string
	EntityID string
	SLS      string
}

// Endpoints returns the SAML URLs for the org on the configured Sentry.
func Endpoints(inv *Inventory) SAMLEndpoints {
	base, org := inv.sentryURL(), inv.orgSlug()
	return SAMLEndpoints{
		ACS:      base + "/saml/acs/" + org + "/",
		Metadata: base + "/saml/metadata/" + org + "/",
		EntityID: base + "/saml/metadata/" + org + "/",
		SLS:      base + "/saml/sls/" + org + "/",
	}
}

// Mapping is one attribute mapping row for an IdP: the Sentry field, the
// attribute name to configure in Sentry, and the IdP value it carries.
type Mapping struct {
	SentryField string
	Attribute   string
	IdPValue    string
}

// IdPGuide is the setup assistant for one identity provider.
type IdPGuide struct {
	ID       string
	Name     string
	NameID   string
	Mappings []Mapping
	Notes    []string
}

// Guides returns the attribute mappings for Okta, Microsoft Entra ID and
// Google Workspace. Sentry's generic SAML2 setup asks for the attribute
// names of "IdP User ID", "User Email", "First Name" and "Last Name".
func Guides() []IdPGuide {
	return []IdPGuide{
		{ID: "okta", Name: "Okta", NameID: "EmailAddress (user.email)", Mappings: []Mapping{
			{"IdP User ID", "user.id", "user.id"},
			{"User Email", "user.email", "user.email"},
			{"First Name", "user.firstName", "user.firstName"},
			{"Last Name", "user.lastName", "user.lastName"},
		}, Notes: []string{"Okta's catalog app for Sentry fills the ACS and audience from the org slug; for SCIM, paste the SCIM token from Sentry's Auth settings into the app's Provisioning tab."}},
		{ID: "entra", Name: "Microsoft Entra ID", NameID: "user.userprincipalname (or user.mail)", Mappings: []Mapping{
			{"IdP User ID", "http://schemas.microsoft.com/identity/claims/objectidentifier", "user.objectid"},
			{"User Email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "user.mail"},
			{"First Name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "user.givenname"},
			{"Last Name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "user.surname"},
		}, Notes: []string{"Identifier (Entity ID) is the metadata URL; Reply URL is the ACS URL. Entra's SCIM omits the active attribute (Sentry leaves it out for Azure AD)."}},
		{ID: "google", Name: "Google Workspace", NameID: "EMAIL (Basic Information > Primary email)", Mappings: []Mapping{
			{"IdP User ID", "email", "Primary email"},
			{"User Email", "email", "Primary email"},
			{"First Name", "firstName", "First name"},
			{"Last Name", "lastName", "Last name"},
		}, Notes: []string{"Google Workspace has no SCIM push to Sentry: members must be managed in Sentry or another IdP."}},
	}
}

// ConfigCheck is one result of the misconfiguration checker.
type ConfigCheck struct {
	Field string
	OK    bool
	Got   string
	Want  string
	Fix   string
}

// CheckSAMLConfig compares the ACS URL and audience (entity id) configured
// in the IdP with the org's Sentry values and explains the common mistakes:
// a different host or region, a missing trailing slash (Sentry's routes end
// in /), http instead of https, the org slug missing or wrong, and ACS and
// audience swapped. An empty field is reported as missing.
func CheckSAMLConfig(inv *Inventory, acs, audience string) []ConfigCheck {
	want := Endpoints(inv)
	return []ConfigCheck{
		checkURL("ACS URL (Single sign-on URL / Reply URL)", strings.TrimSpace(acs), want.ACS, want.EntityID, "audience"),
		checkURL("Audience URI (SP Entity ID / Identifier)", strings.TrimSpace(audience), want.EntityID, want.ACS, "ACS URL"),
	}
}

func checkURL(field, got, want, other, otherName string) ConfigCheck {
	c := ConfigCheck{Field: field, Got: got, Want: want, OK: got == want}
	if c.OK {
		return c
	}
	g, gerr := url.Parse(got)
	w, _ := url.Parse(want)
	switch {
	case got == "":
		c.Fix = "It is empty: paste the expected value."
	case got == other:
		c.Fix = "This is the " + otherName + " value: the two fields are swapped."
	case gerr != nil || g.Host == "":
		c.Fix = "It is not an absolute URL."
	case g.Scheme != w.Scheme:
		c.Fix = "The scheme must be " + w.Scheme + "; Sentry refuses assertions for another URL."
	case g.Host != w.Host:
		c.Fix = "The host is " + g.Host + " but the organization lives on " + w.Host + " (check the region, e.g. us.sentry.io or de.sentry.io)."
	case strings.TrimRight(g.Path, "/") == strings.TrimRight(w.Path, "/"):
		c.Fix = "Only the trailing slash differs; Sentry compares the whole URL, so add it."
	case !hasSegment(g.Path, lastSegment(w.Path)):
		c.Fix = "The organization slug in the path is missing or wrong."
	default:
		c.Fix = "The path differs from Sentry's; paste the expected value."
	}
	return c
}

// lastSegment returns the last non-empty path segment.
func lastSegment(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	return parts[len(parts)-1]
}

// hasSegment reports whether path p has seg as one of its segments.
func hasSegment(p, seg string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == seg {
			return true
		}
	}
	return false
}
