// Package compliance holds the dashboard's governance rules: the token
// inventory and its hygiene findings, SCIM/SSO drift, the security-posture
// checklist and the guided troubleshooting diagnostics.
//
// The rules are pure functions over an Inventory (a snapshot plus the data
// Sentry only shows outside the snapshot: org auth tokens, SCIM users and
// groups, the auth provider, the audit log). They do no I/O and read no
// clock: the caller passes Now. Each rule's doc comment names the Sentry
// behaviour it mirrors, with its section of
// docs/sentry-access-model.md and the Sentry source file.
//
// Data a credential cannot see is never treated as empty: Inventory.Hidden
// says, per part, why it is not visible, and the rules that need that part
// report it instead of reporting "no problem".
package compliance

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Severity ranks a finding.
type Severity string

// Severities, most urgent first.
const (
	SeverityHigh   Severity = "high"
	SeverityMedium Severity = "medium"
	SeverityLow    Severity = "low"
	SeverityInfo   Severity = "info"
)

// rank orders severities for sorting (high first).
func (s Severity) rank() int {
	switch s {
	case SeverityHigh:
		return 0
	case SeverityMedium:
		return 1
	case SeverityLow:
		return 2
	}
	return 3
}

// Rule names a governance rule. The constants are documented where the rule
// is implemented.
type Rule string

// Finding is one problem a rule found, explained with its fix. ChangeSteps,
// when set, are the steps of a change request that fixes it (see
// internal/changes); ChangeURL links to the change-request form prefilled
// with them.
type Finding struct {
	Rule        Rule
	Severity    Severity
	Subject     string
	Detail      string
	Fix         string
	ChangeSteps []changes.Step
	ChangeURL   string
}

// Part names a piece of data read from Sentry outside the snapshot.
type Part string

// Parts of the inventory, as keys of Inventory.Hidden (and of
// store.Inventory.Hidden).
const (
	PartOrgAuthTokens  Part = "org-auth-tokens"
	PartSentryApps     Part = "sentry-apps"
	PartAuthProvider   Part = "auth-provider"
	PartSCIMUsers      Part = "scim-users"
	PartSCIMGroups     Part = "scim-groups"
	PartAccessRequests Part = "access-requests"
	PartUserTokens     Part = "user-tokens"
	PartAuditLog       Part = "audit-log"
)

// Template is a token purpose with its least-privilege scopes.
type Template struct {
	// Purpose is the name part that identifies it, e.g. "ci".
	Purpose string
	// Label is shown in the token helper.
	Label string
	// Aliases are other purpose words that mean the same thing.
	Aliases []string
	// Scopes are the least-privilege scopes, every implied scope spelled
	// out (docs/sentry-access-model.md#scopes: endpoint checks compare literal scope strings).
	Scopes []string
	// Kind is the kind of credential to create.
	Kind TokenKind
}

// Settings tune the rules.
type Settings struct {
	// StaleDays is how long a token may go unused before it is reported.
	StaleDays int
	// InviteStaleDays is how long an invite may stay pending before it is
	// reported.
	InviteStaleDays int
	// Naming is the token naming rule; its first group is the purpose and
	// its second the environment.
	Naming *regexp.Regexp
	// Environments lists the environment words the token helper offers.
	Environments []string
	// Templates are the known token purposes.
	Templates []Template
	// IsolateTeams reports whether teams should be isolated (open
	// membership off) in the posture checklist.
	IsolateTeams bool
	// MinOwners and MaxOwners bound the healthy number of owners;
	// MaxManagers bounds managers.
	MinOwners, MaxOwners, MaxManagers int
}

// NamingPattern is the default token naming rule: {purpose}-{environment}.
const NamingPattern = `^([a-z0-9]+(?:-[a-z0-9]+)*)-(prod|production|staging|stage|dev|development|test|qa|sandbox)$`

// DefaultSettings returns the settings used when none are configured:
// 90 days unused, 14 days for invites, {purpose}-{environment} names, and
// the CI/CD, dashboard and alerting templates.
func DefaultSettings() Settings {
	return Settings{
		StaleDays:       90,
		InviteStaleDays: 14,
		Naming:          regexp.MustCompile(NamingPattern),
		Environments:    []string{"prod", "staging", "dev", "test"},
		Templates: []Template{
			{Purpose: "ci", Label: "CI/CD (releases, source maps)", Aliases: []string{"cicd", "cd", "deploy", "release", "releases", "sourcemaps", "build"},
				Scopes: []string{"org:read", "project:releases"}, Kind: KindIntegration},
			{Purpose: "dashboard", Label: "Dashboards (read events and projects)", Aliases: []string{"dashboards", "grafana", "metrics", "reporting"},
				Scopes: []string{"event:read", "project:read"}, Kind: KindIntegration},
			{Purpose: "alerting", Label: "Alerting / on-call (read and resolve issues)", Aliases: []string{"alerts", "oncall", "pagerduty", "opsgenie"},
				Scopes: []string{"alerts:read", "event:read", "event:write"}, Kind: KindIntegration},
		},
		IsolateTeams: true,
		MinOwners:    2, MaxOwners: 3, MaxManagers: 5,
	}
}

// template returns the template whose purpose or alias is word.
func (s Settings) template(word string) (Template, bool) {
	word = strings.ToLower(word)
	for _, t := range s.Templates {
		if t.Purpose == word || slices.Contains(t.Aliases, word) {
			return t, true
		}
	}
	return Template{}, false
}

// Inventory is everything the rules read. Snapshot may be nil before the
// first sync. Hidden maps each part that could not be read to why; a part
// absent from Hidden was read (and may truly be empty).
type Inventory struct {
	Snapshot       *access.Snapshot
	OrgAuthTokens  []sentry.OrgAuthToken
	SentryApps     []sentry.SentryApp
	AuthProvider   *sentry.AuthProvider
	SCIMUsers      []sentry.SCIMUser
	SCIMGroups     []sentry.SCIMGroup
	AccessRequests []sentry.AccessRequest
	// Audit holds the archived audit entries the ledger is built from.
	Audit []sentry.AuditLogEntry
	// Intents are the tokens recorded through this dashboard.
	Intents  []store.TokenIntent
	Hidden   map[Part]string
	Settings Settings
	// FetchedAt is when the parts outside the snapshot were read.
	FetchedAt time.Time
	// SentryURL is the Sentry base URL, e.g. https://sentry.io.
	SentryURL string
}

// Visible reports whether part was read.
func (inv *Inventory) Visible(p Part) bool {
	_, hidden := inv.Hidden[p]
	return !hidden
}

// FromStore builds the Hidden map and data parts from a stored inventory.
func FromStore(si store.Inventory) Inventory {
	inv := Inventory{
		OrgAuthTokens: si.OrgAuthTokens, SentryApps: si.SentryApps, AuthProvider: si.AuthProvider,
		SCIMUsers: si.SCIMUsers, SCIMGroups: si.SCIMGroups, AccessRequests: si.AccessRequests,
		FetchedAt: si.FetchedAt, Hidden: map[Part]string{},
	}
	for k, v := range si.Hidden {
		inv.Hidden[Part(k)] = v
	}
	return inv
}

// orgSlug returns the org's slug, or "your-org".
func (inv *Inventory) orgSlug() string {
	if inv.Snapshot != nil && inv.Snapshot.Org.Slug != "" {
		return inv.Snapshot.Org.Slug
	}
	return "your-org"
}

// sentryURL returns the Sentry base URL without a trailing slash.
func (inv *Inventory) sentryURL() string {
	if inv.SentryURL == "" {
		return "https://sentry.io"
	}
	return strings.TrimRight(inv.SentryURL, "/")
}

// activeMember returns the active member with that email (case-insensitive).
func activeMember(s *access.Snapshot, email string) (access.Member, bool) {
	if s == nil || email == "" {
		return access.Member{}, false
	}
	for _, m := range s.Members {
		if strings.EqualFold(m.Email, email) && m.State == access.StateActive {
			return m, true
		}
	}
	return access.Member{}, false
}

// changeURL links to the change-request form prefilled with one step.
func changeURL(st changes.Step) string {
	q := url.Values{"kind": {string(st.Kind)}}
	p := st.Params
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("member", p.Member)
	set("email", p.Email)
	set("team", p.Team)
	set("teamId", p.TeamID)
	set("project", p.Project)
	set("role", p.Role)
	set("name", p.Name)
	if len(p.Add) > 0 {
		q.Set("add", strings.Join(p.Add, ","))
	}
	if len(p.Remove) > 0 {
		q.Set("remove", strings.Join(p.Remove, ","))
	}
	return "/changes/new?" + q.Encode()
}

// withChange attaches one change-request step (and its link) to f.
func withChange(f Finding, st changes.Step) Finding {
	f.ChangeSteps = []changes.Step{st}
	f.ChangeURL = changeURL(st)
	return f
}

// SortFindings orders findings by severity, then rule, then subject.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if d := a.Severity.rank() - b.Severity.rank(); d != 0 {
			return d
		}
		if c := strings.Compare(string(a.Rule), string(b.Rule)); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
}

func daysSince(now, t time.Time) int { return int(now.Sub(t).Hours() / 24) }
