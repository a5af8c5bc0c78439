package compliance

import (
	"net/url"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
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
// paste into the IdP (docs/sentry-access-model.md#auth-provider-and-sso).
// Sentry builds them from its own URL (build_saml_config in
// src/sentry/auth/providers/saml2/provider.py: absolute_uri of the
// sentry-auth-organization-saml-{acs,sls,metadata} routes); the entity ID
// (audience) is the metadata URL. On sentry.io that URL is
// https://sentry.io for every organization, whatever its region (Sentry's
// SSO docs, docs/organization/authentication/sso/saml2.mdx): the region
// hosts us.sentry.io and de.sentry.io serve the API, not the SAML
// endpoints. Self-hosted Sentry uses its system.url-prefix.
type SAMLEndpoints struct {
	// Base is the URL the endpoints are under.
	Base     string
	ACS      string
	Metadata string
	EntityID string
	SLS      string
	// SignOn is the SP-initiated login URL (Entra's "Sign on URL"),
	// RelayState the organization's home (Entra's "Relay State"), as
	// Sentry's Entra docs give them (docs/organization/authentication/sso/azure-sso.mdx).
	SignOn     string
	RelayState string
	// Host says where the URLs live and why, in words.
	Host string
}

// Endpoints returns the SAML URLs for the org on the configured Sentry.
func Endpoints(inv *Inventory) SAMLEndpoints {
	base, org := samlBase(inv), inv.orgSlug()
	e := SAMLEndpoints{
		Base:       base,
		ACS:        base + "/saml/acs/" + org + "/",
		Metadata:   base + "/saml/metadata/" + org + "/",
		EntityID:   base + "/saml/metadata/" + org + "/",
		SLS:        base + "/saml/sls/" + org + "/",
		SignOn:     base + "/auth/login/" + org + "/",
		RelayState: base + "/organizations/" + org + "/",
	}
	if base == sentry.SaaSURL {
		e.Host = "sentry.io serves the SAML endpoints of every organization on https://sentry.io, whatever its region: not on us.sentry.io or de.sentry.io, which serve the API."
		if h := hostOf(inv.sentryURL()); h != "sentry.io" && sentry.SaaSHost(h) {
			e.Host += " The dashboard reads Sentry at " + h + "; the IdP still needs sentry.io."
		}
	} else {
		e.Host = "Self-hosted Sentry builds these from its own URL (system.url-prefix in its configuration): if Sentry knows itself by another URL than " + base + ", use that one."
	}
	return e
}

// samlBase is https://sentry.io for an organization on sentry.io (the
// configured URL, or the snapshot's server, says so), else the configured
// URL.
func samlBase(inv *Inventory) string {
	if sentry.SaaSHost(hostOf(inv.sentryURL())) || inv.Snapshot != nil && inv.Snapshot.Server.Hosting == access.HostingSaaS {
		return sentry.SaaSURL
	}
	return inv.sentryURL()
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Mapping is one attribute mapping row for an IdP: the Sentry field, the
// attribute name the assertion must carry, and the IdP value it carries.
type Mapping struct {
	SentryField string
	Attribute   string
	IdPValue    string
}

// IdPGuide is the setup assistant for one identity provider, derived from
// Sentry's provider for it (src/sentry/auth/providers/…) and Sentry's SSO
// docs (getsentry/sentry-docs, docs/organization/authentication/sso/).
type IdPGuide struct {
	ID   string
	Name string
	// Provider is the provider to pick in Sentry's Settings → Auth, and
	// Protocol "SAML 2.0" or "OAuth 2.0 (OpenID Connect)".
	Provider string
	Protocol string
	// FixedNames reports whether Sentry's provider has the attribute
	// names built in (the IdP must send exactly these); otherwise they are
	// typed into Sentry's "Map Identity Provider Attributes" step.
	FixedNames bool
	// Mappings are the attributes (none for OAuth providers).
	Mappings []Mapping
	// Fields are the IdP's own fields and what to paste into them.
	Fields []Mapping
	Notes  []string
	// Warnings are what breaks a live organization.
	Warnings []string
	// Sources name the Sentry code and docs the guide comes from.
	Sources []string
}

// relinkWarning is what changing the IdP User ID does to a live org:
// Sentry finds a member's SSO link by that value (AuthIdentity.ident; the
// lookup in src/sentry/auth/helper.py "prioritize[s] identifying by the SSO
// provider's user ID"), so a new claim makes every member an unknown
// identity at the next login, who must link their account again.
const relinkWarning = "Sentry links each member by the IdP User ID value. Changing that attribute on a live organization makes every existing link stale: at their next SSO login every member must link their Sentry account again (and with Require SSO on, cannot reach the organization until they do)."

// Guides returns the setup assistant of each identity provider Sentry has
// a provider for, with the attribute names Sentry's code expects.
func Guides(e SAMLEndpoints) []IdPGuide {
	saml := "SAML 2.0"
	generic := func(idpUserID, email, first, last string) []Mapping {
		return []Mapping{{"IdP User ID", idpUserID, ""}, {"User Email", email, ""}, {"First Name", first, ""}, {"Last Name", last, ""}}
	}
	return []IdPGuide{
		{ID: "okta", Name: "Okta", Provider: "Okta", Protocol: saml, FixedNames: true,
			// src/sentry/auth/providers/saml2/okta/provider.py: attribute_mapping.
			Mappings: []Mapping{
				{"IdP User ID", "identifier", "user.id"},
				{"User Email", "email", "user.email"},
				{"First Name", "firstName", "user.firstName"},
				{"Last Name", "lastName", "user.lastName"},
			},
			Fields: []Mapping{
				{"Base URL", "", e.Base + " (no trailing slash: it breaks the redirect from Okta to Sentry)"},
				{"Organization Slug", "", orgOf(e)},
				{"Sentry's Okta setup", "", "paste the Sentry app's Identity Provider metadata URL (Sign On → View Setup Instructions)"},
			},
			Notes: []string{
				"Sentry's Okta provider has these attribute names built in: the Sentry app's attribute statements must be named identifier, email, firstName and lastName.",
				"SCIM: supported (the Okta provider allows it); paste the SCIM token from Sentry's Auth settings into the app's Provisioning tab.",
			},
			Warnings: []string{relinkWarning},
			Sources: []string{"src/sentry/auth/providers/saml2/okta/provider.py (attribute_mapping)",
				"sentry-docs docs/organization/authentication/sso/okta-sso/index.mdx"}},
		{ID: "entra", Name: "Microsoft Entra ID (Azure AD)", Provider: "Active Directory", Protocol: saml,
			// src/sentry/auth/providers/saml2/activedirectory/provider.py is
			// the generic provider: the names are typed into Sentry, as
			// Sentry's Entra docs give them (azure-sso.mdx).
			Mappings: []Mapping{
				{"IdP User ID", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "user.userprincipalname"},
				{"User Email", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "user.mail"},
				{"First Name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "user.givenname"},
				{"Last Name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "user.surname"},
			},
			Fields: []Mapping{
				{"Identifier (Entity ID)", "", e.EntityID + " (keep the trailing slash, or Entra answers AADSTS650056)"},
				{"Reply URL (Assertion Consumer Service URL)", "", e.ACS},
				{"Sign on URL", "", e.SignOn},
				{"Relay State", "", e.RelayState},
				{"Logout URL", "", e.SLS},
				{"Sentry's Active Directory setup", "", "paste the App Federation Metadata URL (SAML Signing Certificate section)"},
			},
			Notes: []string{
				"Sentry's docs prescribe the name claim (the user principal name) as the IdP User ID. A user whose UPN changes in Entra is a new identity to Sentry and must link again.",
				"SCIM: supported; Entra's SCIM omits the active attribute (Sentry leaves it out for Azure AD). Enable only the attribute mappings Sentry supports.",
			},
			Warnings: []string{relinkWarning + " Do not switch the IdP User ID to objectidentifier (or back) without planning that re-link."},
			Sources: []string{"src/sentry/auth/providers/saml2/activedirectory/provider.py (the generic SAML2 provider)",
				"sentry-docs docs/organization/authentication/sso/azure-sso.mdx"}},
		{ID: "google", Name: "Google Workspace", Provider: "Google", Protocol: "OAuth 2.0 (OpenID Connect)",
			Fields: []Mapping{
				{"Sentry's Google setup", "", "sign in with a Google Workspace account of the domain to allow"},
			},
			Notes: []string{
				"Sentry's Google provider is not SAML: there is no ACS, entity ID or attribute to configure, and the SAML URLs above do not apply.",
				"Sign-in is limited to the Workspace domain of the account that set it up (the ID token's hd claim); personal gmail.com accounts are refused. Another or a second domain takes Sentry support.",
				"Sentry identifies members by Google's account ID (sub), which survives a change of email.",
				"Self-hosted: the provider needs auth-google.client-id and auth-google.client-secret in Sentry's configuration.",
				"No SCIM: Google does not provision Sentry; manage members in Sentry, or use Google as a custom SAML app with Sentry's SAML2 provider (map a stable IdP User ID and the primary email).",
			},
			Sources: []string{"src/sentry/auth/providers/google/provider.py, views.py (hd, DOMAIN_BLOCKLIST), constants.py",
				"sentry-docs docs/organization/authentication/sso/index.mdx (Google Business App)"}},
		{ID: "onelogin", Name: "OneLogin", Provider: "OneLogin", Protocol: saml, FixedNames: true,
			// src/sentry/auth/providers/saml2/onelogin/provider.py.
			Mappings: []Mapping{
				{"IdP User ID", "PersonImmutableID", "OneLogin's immutable ID"},
				{"User Email", "User.email", "email"},
				{"First Name", "User.FirstName", "first name"},
				{"Last Name", "User.LastName", "last name"},
			},
			Fields:   []Mapping{{"Sentry's OneLogin setup", "", "paste the Issuer URL from the Sentry app's SSO tab"}},
			Notes:    []string{"Sentry's OneLogin provider has these attribute names built in; OneLogin's catalog app for Sentry sends them."},
			Warnings: []string{relinkWarning},
			Sources:  []string{"src/sentry/auth/providers/saml2/onelogin/provider.py (attribute_mapping)", "sentry-docs docs/organization/authentication/sso/index.mdx"}},
		{ID: "rippling", Name: "Rippling", Provider: "Rippling", Protocol: saml, FixedNames: true,
			// src/sentry/auth/providers/saml2/rippling/provider.py.
			Mappings: []Mapping{
				{"IdP User ID", "user_id", "Rippling user ID"},
				{"User Email", "urn:oid:1.2.840.113549.1.9.1.1", "email"},
				{"First Name", "first_name", "first name"},
				{"Last Name", "last_name", "last name"},
			},
			Fields:   []Mapping{{"Sentry's Rippling setup", "", "paste the Rippling metadata URL, then finish Rippling's side before Sentry's"}},
			Notes:    []string{"Sentry's Rippling provider has these attribute names built in, and needs Sentry's sso-rippling feature for the organization."},
			Warnings: []string{relinkWarning},
			Sources:  []string{"src/sentry/auth/providers/saml2/rippling/provider.py (attribute_mapping, required_feature)"}},
		{ID: "jumpcloud", Name: "JumpCloud", Provider: "Jumpcloud", Protocol: saml,
			// jumpcloud/provider.py is the generic provider; the names are
			// JumpCloud's Sentry app defaults per Sentry's docs.
			Mappings: generic("uniqueID", "email", "firstname", "lastname"),
			Fields: []Mapping{
				{"SP Entity ID", "", e.EntityID},
				{"ACS URL", "", e.ACS},
				{"Sentry's Jumpcloud setup", "", "paste the XML from JumpCloud's Export Metadata"},
			},
			Notes:    []string{"Typed into Sentry's Map Identity Provider step; these are JumpCloud's defaults for its Sentry app."},
			Warnings: []string{relinkWarning},
			Sources:  []string{"src/sentry/auth/providers/saml2/jumpcloud/provider.py (the generic SAML2 provider)", "sentry-docs docs/organization/authentication/sso/index.mdx (Jumpcloud)"}},
		{ID: "auth0", Name: "Auth0", Provider: "Auth0", Protocol: saml, FixedNames: true,
			// src/sentry/auth/providers/saml2/auth0/provider.py.
			Mappings: []Mapping{
				{"IdP User ID", "user_id", "Auth0 user ID"},
				{"User Email", "email", "email"},
				{"First Name", "name", "full name (Auth0 sends no first and last names)"},
			},
			Fields:   []Mapping{{"Sentry's Auth0 setup", "", "paste the metadata URL from the Sentry SSO integration's Tutorial tab"}},
			Warnings: []string{relinkWarning},
			Sources:  []string{"src/sentry/auth/providers/saml2/auth0/provider.py (attribute_mapping)"}},
		{ID: "saml2", Name: "Any other SAML 2.0 IdP", Provider: "SAML2", Protocol: saml,
			Mappings: generic("a stable, unique user ID attribute", "the email attribute", "optional", "optional"),
			Fields: []Mapping{
				{"ACS (HTTP-POST)", "", e.ACS},
				{"Entity ID / audience", "", e.EntityID},
				{"Single logout", "", e.SLS},
			},
			Notes: []string{
				"Sentry's generic provider asks for the attribute names. IdP User ID and User Email must be mapped: without them Sentry refuses the login (\"Failed to map SAML attributes\").",
				"Pick an IdP User ID that never changes for a person (not the email, if emails can change).",
			},
			Warnings: []string{relinkWarning},
			Sources: []string{"src/sentry/auth/providers/saml2/generic/provider.py, provider.py (build_identity)",
				"sentry-docs docs/organization/authentication/sso/saml2.mdx"}},
	}
}

// orgOf returns the org slug in the endpoints' ACS URL.
func orgOf(e SAMLEndpoints) string { return lastSegment(e.ACS) }

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
// a different host (a region host instead of sentry.io), a missing trailing
// slash (Sentry's routes end
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
	case g.Host != w.Host && sentry.SaaSHost(g.Hostname()) && w.Host == "sentry.io":
		c.Fix = "The host is " + g.Host + ", but Sentry serves the SAML endpoints of every organization on sentry.io, whatever its region: use " + want + "."
	case g.Host != w.Host:
		c.Fix = "The host is " + g.Host + " but Sentry serves this organization's SAML endpoints on " + w.Host + "."
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
