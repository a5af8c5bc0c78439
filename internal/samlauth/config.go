package samlauth

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/crewjam/saml"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// ReplayCache records the IDs of accepted assertions and refuses one it has
// seen: Consume returns an error for an ID already consumed and not yet
// expired, or when it cannot record the ID. It is crewjam's
// saml.AssertionReplayCache; NewMemoryReplayCache gives an in-memory one,
// and a bbolt-backed one can replace it for several restarts.
type ReplayCache = saml.AssertionReplayCache

// Config configures the service provider. Build it from flags and
// environment in cmd/sentry-access and call Validate.
type Config struct {
	// BaseURL is the dashboard's external root URL, e.g.
	// "https://access.acme.example". The SP entity ID is
	// BaseURL + "/saml/metadata" unless EntityID is set.
	BaseURL  string
	EntityID string

	// Key and Certificate are the SP's RSA key pair: they sign AuthnRequests
	// and logout messages (RSA-SHA256), decrypt encrypted assertions and sign
	// the short-lived request-tracking cookie.
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate

	// Exactly one IdP metadata source: a URL (fetched at start and every
	// MetadataRefresh), a file, or the XML itself.
	IDPMetadataURL  string
	IDPMetadataFile string
	IDPMetadataXML  []byte
	// MetadataRefresh is how often Run refetches IDPMetadataURL; 0 means 1h.
	MetadataRefresh time.Duration

	// AllowIDPInitiated accepts unsolicited responses (IdP-initiated
	// login). Off by default; when on, ReplayCache (or an in-memory one)
	// refuses a replayed assertion.
	AllowIDPInitiated bool
	ReplayCache       ReplayCache

	// AllowSHA1Signatures accepts IdP signatures and digests based on
	// SHA-1 (rsa-sha1, sha1). Off by default: SHA-1 is broken for
	// collision resistance and every current IdP signs with SHA-256.
	AllowSHA1Signatures bool

	// ClockSkew is the tolerated clock difference between the IdP and us.
	// 0 keeps crewjam's default (180 s). crewjam keeps it in a process-wide
	// variable (saml.MaxClockSkew), so New sets that variable.
	ClockSkew time.Duration

	// RequestBinding is how AuthnRequests travel to the IdP: "redirect"
	// (HTTP-Redirect, the default, signature in the query string) or "post"
	// (HTTP-POST, an auto-submitted form with an enveloped signature; needed
	// by IdPs that re-post the request from their login form, such as
	// crewjam's samlidp used by internal/devidp).
	RequestBinding string

	// Preset picks built-in attribute names (see PresetAttributes);
	// Attributes overrides any of them ("custom" mapping).
	Preset     Preset
	Attributes AttributeNames
	// Roles maps IdP groups to dashboard roles.
	Roles RoleGroups
}

// maxClockSkew bounds ClockSkew: more than this defeats assertion expiry.
const maxClockSkew = 10 * time.Minute

// Validate reports every problem with c at once (errors.Join).
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("saml: base URL is required"))
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("saml: base URL %q must be an absolute http(s) URL", c.BaseURL))
	}
	if c.Key == nil {
		errs = append(errs, errors.New("saml: SP private key is required"))
	}
	if c.Certificate == nil {
		errs = append(errs, errors.New("saml: SP certificate is required"))
	}
	if c.Key != nil && c.Certificate != nil {
		if pub, ok := c.Certificate.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&c.Key.PublicKey) {
			errs = append(errs, errors.New("saml: SP certificate does not match the private key"))
		}
	}
	sources := 0
	for _, set := range []bool{c.IDPMetadataURL != "", c.IDPMetadataFile != "", len(c.IDPMetadataXML) > 0} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		errs = append(errs, fmt.Errorf("saml: exactly one IdP metadata source (URL, file or XML) is required, got %d", sources))
	}
	if c.IDPMetadataURL != "" {
		if u, err := url.Parse(c.IDPMetadataURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("saml: IdP metadata URL %q must be an absolute http(s) URL", c.IDPMetadataURL))
		}
	}
	if c.MetadataRefresh < 0 {
		errs = append(errs, errors.New("saml: metadata refresh interval must not be negative"))
	}
	if c.ClockSkew < 0 || c.ClockSkew > maxClockSkew {
		errs = append(errs, fmt.Errorf("saml: clock skew %s must be between 0 and %s", c.ClockSkew, maxClockSkew))
	}
	if c.RequestBinding != "" && c.RequestBinding != "redirect" && c.RequestBinding != "post" {
		errs = append(errs, fmt.Errorf("saml: request binding %q must be redirect or post", c.RequestBinding))
	}
	if _, err := PresetAttributes(c.Preset); err != nil {
		errs = append(errs, fmt.Errorf("saml: %w", err))
	}
	if c.Roles.Default != sentryaccess.RoleNone && !c.Roles.Default.Valid() {
		errs = append(errs, fmt.Errorf("saml: default role %q must be viewer, approver, admin or empty (deny)", c.Roles.Default))
	}
	if c.Roles.Default == sentryaccess.RoleNone && len(c.Roles.Viewer)+len(c.Roles.Approver)+len(c.Roles.Admin) == 0 {
		errs = append(errs, errors.New("saml: no role groups and no default role: nobody could sign in"))
	}
	return errors.Join(errs...)
}

func (c Config) attributeNames() AttributeNames {
	preset, _ := PresetAttributes(c.Preset) // checked by Validate
	return preset.Merge(c.Attributes)
}
