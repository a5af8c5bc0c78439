// Package config reads sentry-access's configuration from flags and the
// environment. Secrets may also come from files named by the *_FILE variant
// of their variable (SENTRY_AUTH_TOKEN_FILE, …), the convention of Docker
// and Kubernetes secrets. Validate reports every problem at once.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is the whole configuration of one sentry-access process. Which
// fields a command needs depends on the command; see the Require* methods.
type Config struct {
	// Sentry connection, named as sentry-cli names them.
	SentryURL   string // SENTRY_URL, default https://sentry.io
	SentryOrg   string // SENTRY_ORG
	SentryToken string // SENTRY_AUTH_TOKEN (or SENTRY_AUTH_TOKEN_FILE)
	SCIMToken   string // SENTRY_SCIM_TOKEN (or SENTRY_SCIM_TOKEN_FILE)

	// DataDir holds the bbolt store (sentry-access.db). SENTRY_ACCESS_DATA.
	DataDir string
	// StoreTimeout bounds how long opening the store waits for its lock.
	StoreTimeout time.Duration

	// Sync.
	SyncConcurrency int           // SENTRY_ACCESS_SYNC_CONCURRENCY, default 8
	SyncInterval    time.Duration // SENTRY_ACCESS_SYNC_INTERVAL, default 15m; 0 = only on demand
	SnapshotRetain  int           // SENTRY_ACCESS_SNAPSHOT_RETAIN, default 200

	// Dashboard.
	Listen            string        // SENTRY_ACCESS_LISTEN, default 127.0.0.1:8080
	BaseURL           string        // SENTRY_ACCESS_BASE_URL: the public URL (entity ID and ACS derive from it)
	SessionKey        string        // SENTRY_ACCESS_SESSION_KEY(_FILE): ≥ 32 bytes
	SessionIdle       time.Duration // SENTRY_ACCESS_SESSION_IDLE, default 30m
	SessionAbsolute   time.Duration // SENTRY_ACCESS_SESSION_MAX, default 8h
	IDPMetadataURL    string        // SAML_IDP_METADATA_URL
	IDPMetadataFile   string        // SAML_IDP_METADATA_FILE
	SPKeyFile         string        // SAML_SP_KEY_FILE: PEM RSA key for signing AuthnRequests
	SPCertFile        string        // SAML_SP_CERT_FILE: PEM certificate published in SP metadata
	AttributePreset   string        // SAML_ATTRIBUTE_PRESET: okta, entra, google, adfs, keycloak, generic (eduPerson names, SimpleSAMLphp), custom
	EmailAttribute    string        // SAML_EMAIL_ATTRIBUTE (custom preset)
	NameAttribute     string        // SAML_NAME_ATTRIBUTE (custom preset)
	GroupsAttribute   string        // SAML_GROUPS_ATTRIBUTE (custom preset)
	AdminGroup        string        // SAML_ADMIN_GROUP, default sentry-access-admins
	ApproverGroup     string        // SAML_APPROVER_GROUP, default sentry-access-approvers
	ViewerGroup       string        // SAML_VIEWER_GROUP, default sentry-access-viewers
	DefaultRole       string        // SAML_DEFAULT_ROLE: viewer, approver, admin or none; default viewer
	AllowIDPInitiated bool          // SAML_ALLOW_IDP_INITIATED, default false
	ClockSkew         time.Duration // SAML_CLOCK_SKEW, default 90s

	// Approvals is how many approvers a change request needs
	// (SENTRY_ACCESS_APPROVALS, default 1); SensitiveApprovals how many an
	// org-role change or a member removal needs
	// (SENTRY_ACCESS_SENSITIVE_APPROVALS, default 2).
	Approvals          int
	SensitiveApprovals int
	// SensitiveGrants is the blast radius above which a request needs
	// SensitiveApprovals: more member×project grants added and removed in
	// total (SENTRY_ACCESS_SENSITIVE_GRANTS, default 20).
	SensitiveGrants int

	// WebhookAllow lists the internal addresses (CIDR prefixes or single
	// IPs) webhooks may be posted to; every other loopback, private,
	// link-local or cloud-metadata address is refused
	// (SENTRY_ACCESS_WEBHOOK_ALLOW, comma-separated, default none).
	WebhookAllow []netip.Prefix

	// DSN, when set, reports the dashboard's own errors to Sentry (SENTRY_DSN).
	DSN string
	// MetricsToken, when set, is the bearer token GET /metrics requires;
	// without it /metrics answers loopback clients only
	// (SENTRY_ACCESS_METRICS_TOKEN or _FILE).
	MetricsToken string
	// LogFormat is json (default) or text. SENTRY_ACCESS_LOG_FORMAT.
	LogFormat string
}

// Defaults returns the configuration before flags and environment apply.
func Defaults() Config {
	return Config{
		SentryURL:          "https://sentry.io",
		DataDir:            "data",
		StoreTimeout:       2 * time.Second,
		SyncConcurrency:    8,
		SyncInterval:       15 * time.Minute,
		SnapshotRetain:     200,
		Listen:             "127.0.0.1:8080",
		SessionIdle:        30 * time.Minute,
		SessionAbsolute:    8 * time.Hour,
		AttributePreset:    "okta",
		AdminGroup:         "sentry-access-admins",
		ApproverGroup:      "sentry-access-approvers",
		ViewerGroup:        "sentry-access-viewers",
		DefaultRole:        "viewer",
		ClockSkew:          90 * time.Second,
		Approvals:          1,
		SensitiveApprovals: 2,
		SensitiveGrants:    20,
		LogFormat:          "json",
	}
}

// Load fills a Config from the environment (through getenv) and then from
// flags registered on fs, which win. It returns the errors of reading
// secret files and parsing values; call Validate or a Require method for
// the rules.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Defaults()
	var errs []error
	str := func(p *string, env string) {
		if v := getenv(env); v != "" {
			*p = v
		}
	}
	secret := func(p *string, env string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		if f := getenv(env + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", env, err))
				return
			}
			*p = strings.TrimSpace(string(b))
		}
	}
	dur := func(p *time.Duration, env string) {
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration (like 15m or 1h)", env, v))
				return
			}
			*p = d
		}
	}
	num := func(p *int, env string) {
		if v := getenv(env); v != "" {
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", env, v))
				return
			}
			*p = n
		}
	}
	boolean := func(p *bool, env string) {
		switch strings.ToLower(getenv(env)) {
		case "":
		case "1", "true", "yes", "on":
			*p = true
		case "0", "false", "no", "off":
			*p = false
		default:
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", env, getenv(env)))
		}
	}

	str(&c.SentryURL, "SENTRY_URL")
	str(&c.SentryOrg, "SENTRY_ORG")
	secret(&c.SentryToken, "SENTRY_AUTH_TOKEN")
	secret(&c.SCIMToken, "SENTRY_SCIM_TOKEN")
	str(&c.DataDir, "SENTRY_ACCESS_DATA")
	num(&c.SyncConcurrency, "SENTRY_ACCESS_SYNC_CONCURRENCY")
	dur(&c.SyncInterval, "SENTRY_ACCESS_SYNC_INTERVAL")
	num(&c.SnapshotRetain, "SENTRY_ACCESS_SNAPSHOT_RETAIN")
	str(&c.Listen, "SENTRY_ACCESS_LISTEN")
	str(&c.BaseURL, "SENTRY_ACCESS_BASE_URL")
	secret(&c.SessionKey, "SENTRY_ACCESS_SESSION_KEY")
	dur(&c.SessionIdle, "SENTRY_ACCESS_SESSION_IDLE")
	dur(&c.SessionAbsolute, "SENTRY_ACCESS_SESSION_MAX")
	str(&c.IDPMetadataURL, "SAML_IDP_METADATA_URL")
	str(&c.IDPMetadataFile, "SAML_IDP_METADATA_FILE")
	str(&c.SPKeyFile, "SAML_SP_KEY_FILE")
	str(&c.SPCertFile, "SAML_SP_CERT_FILE")
	str(&c.AttributePreset, "SAML_ATTRIBUTE_PRESET")
	str(&c.EmailAttribute, "SAML_EMAIL_ATTRIBUTE")
	str(&c.NameAttribute, "SAML_NAME_ATTRIBUTE")
	str(&c.GroupsAttribute, "SAML_GROUPS_ATTRIBUTE")
	str(&c.AdminGroup, "SAML_ADMIN_GROUP")
	str(&c.ApproverGroup, "SAML_APPROVER_GROUP")
	str(&c.ViewerGroup, "SAML_VIEWER_GROUP")
	str(&c.DefaultRole, "SAML_DEFAULT_ROLE")
	boolean(&c.AllowIDPInitiated, "SAML_ALLOW_IDP_INITIATED")
	dur(&c.ClockSkew, "SAML_CLOCK_SKEW")
	num(&c.Approvals, "SENTRY_ACCESS_APPROVALS")
	num(&c.SensitiveApprovals, "SENTRY_ACCESS_SENSITIVE_APPROVALS")
	num(&c.SensitiveGrants, "SENTRY_ACCESS_SENSITIVE_GRANTS")
	if v := getenv("SENTRY_ACCESS_WEBHOOK_ALLOW"); v != "" {
		ps, err := ParsePrefixes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SENTRY_ACCESS_WEBHOOK_ALLOW: %w", err))
		}
		c.WebhookAllow = ps
	}
	str(&c.DSN, "SENTRY_DSN")
	secret(&c.MetricsToken, "SENTRY_ACCESS_METRICS_TOKEN")
	str(&c.LogFormat, "SENTRY_ACCESS_LOG_FORMAT")

	if fs != nil {
		fs.StringVar(&c.SentryURL, "sentry-url", c.SentryURL, "Sentry base URL (SENTRY_URL)")
		fs.StringVar(&c.SentryOrg, "org", c.SentryOrg, "organization slug (SENTRY_ORG)")
		fs.StringVar(&c.DataDir, "data", c.DataDir, "directory of the bbolt store (SENTRY_ACCESS_DATA)")
		fs.IntVar(&c.SyncConcurrency, "concurrency", c.SyncConcurrency, "parallel Sentry requests during sync")
		fs.StringVar(&c.Listen, "listen", c.Listen, "dashboard listen address (SENTRY_ACCESS_LISTEN)")
		fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL of the dashboard (SENTRY_ACCESS_BASE_URL)")
		if err := fs.Parse(args); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// ParsePrefixes reads a comma- or space-separated list of CIDR prefixes
// (10.0.0.0/8, fd00::/8) or single addresses (192.168.1.20, taken as a
// /32 or /128). It names the first entry that is neither.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix (like 10.0.0.0/8)", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// RequireSentry reports every problem with the Sentry connection settings.
func (c Config) RequireSentry() error {
	var errs []error
	if u, err := url.Parse(c.SentryURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SENTRY_URL: %q is not an http(s) URL", c.SentryURL))
	}
	if c.SentryOrg == "" {
		errs = append(errs, errors.New("SENTRY_ORG: not set (the organization slug, e.g. acme)"))
	}
	if c.SentryToken == "" {
		errs = append(errs, errors.New("SENTRY_AUTH_TOKEN: not set (a user auth token with org:read member:read team:read project:read; org:write for the audit log; member:invite and member:admin for changes)"))
	}
	if c.SyncConcurrency < 1 || c.SyncConcurrency > 64 {
		errs = append(errs, fmt.Errorf("sync concurrency: %d is outside 1..64", c.SyncConcurrency))
	}
	return errors.Join(errs...)
}

// RequireDashboard reports every problem with the dashboard settings.
func (c Config) RequireDashboard() error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); c.BaseURL == "" || err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("SENTRY_ACCESS_BASE_URL: %q is not a URL (the dashboard's public URL; the SAML entity ID and ACS derive from it)", c.BaseURL))
	}
	if len(c.SessionKey) < 32 {
		errs = append(errs, errors.New("SENTRY_ACCESS_SESSION_KEY: must be at least 32 bytes (use SENTRY_ACCESS_SESSION_KEY_FILE for a secret file)"))
	}
	if (c.IDPMetadataURL == "") == (c.IDPMetadataFile == "") {
		errs = append(errs, errors.New("SAML: set exactly one of SAML_IDP_METADATA_URL and SAML_IDP_METADATA_FILE"))
	}
	if c.SPKeyFile == "" || c.SPCertFile == "" {
		errs = append(errs, errors.New("SAML: SAML_SP_KEY_FILE and SAML_SP_CERT_FILE are required (the SP signs AuthnRequests)"))
	}
	switch c.AttributePreset {
	case "okta", "entra", "google", "adfs", "keycloak", "generic":
	case "custom":
		if c.EmailAttribute == "" {
			errs = append(errs, errors.New("SAML_EMAIL_ATTRIBUTE: required with SAML_ATTRIBUTE_PRESET=custom"))
		}
	default:
		errs = append(errs, fmt.Errorf("SAML_ATTRIBUTE_PRESET: %q is not one of okta, entra, google, adfs, keycloak, generic, custom", c.AttributePreset))
	}
	switch c.DefaultRole {
	case "viewer", "approver", "admin", "none":
	default:
		errs = append(errs, fmt.Errorf("SAML_DEFAULT_ROLE: %q is not one of viewer, approver, admin, none", c.DefaultRole))
	}
	if c.SessionIdle <= 0 || c.SessionAbsolute < c.SessionIdle {
		errs = append(errs, errors.New("sessions: SENTRY_ACCESS_SESSION_IDLE must be positive and not longer than SENTRY_ACCESS_SESSION_MAX"))
	}
	if c.Approvals < 1 || c.SensitiveApprovals < c.Approvals {
		errs = append(errs, errors.New("approvals: SENTRY_ACCESS_APPROVALS must be at least 1 and SENTRY_ACCESS_SENSITIVE_APPROVALS at least as many"))
	}
	if c.SensitiveGrants < 1 {
		errs = append(errs, errors.New("SENTRY_ACCESS_SENSITIVE_GRANTS: must be at least 1 (member×project grants a request may add or remove before it needs the sensitive approval count)"))
	}
	if c.SyncInterval < 0 {
		errs = append(errs, errors.New("SENTRY_ACCESS_SYNC_INTERVAL: must not be negative"))
	}
	return errors.Join(errs...)
}

// Validate reports every problem of a full server configuration at once.
func (c Config) Validate() error {
	return errors.Join(c.RequireSentry(), c.RequireDashboard())
}
