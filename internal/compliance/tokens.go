package compliance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// TokenKind is the kind of Sentry credential.
type TokenKind string

// Token kinds.
const (
	// KindOrgAuthToken: an organization auth token (sntrys_), always and
	// only org:ci (docs/sentry-access-model.md#organization-auth-tokens, src/sentry/api/endpoints/org_auth_tokens.py).
	KindOrgAuthToken TokenKind = "org-auth-token"
	// KindIntegration: a token of an internal integration (Sentry App); it
	// acts on every team and project with the app's scopes (docs/sentry-access-model.md#effective-access).
	KindIntegration TokenKind = "internal-integration"
	// KindPersonal: a user's personal auth token (sntryu_), bounded by the
	// user's role (docs/sentry-access-model.md#user-auth-tokens).
	KindPersonal TokenKind = "personal"
	// KindIntent: a token recorded through this dashboard's token helper.
	KindIntent TokenKind = "recorded-intent"
)

// Token hygiene rules.
const (
	// RuleTokenExcessScopes: the token holds scopes beyond its purpose's
	// template.
	RuleTokenExcessScopes Rule = "token-excess-scopes"
	// RuleTokenNaming: the name does not follow {purpose}-{environment}.
	RuleTokenNaming Rule = "token-naming"
	// RuleTokenNoExpiry: the token never expires.
	RuleTokenNoExpiry Rule = "token-no-expiry"
	// RuleTokenUnused: the token has not been used for Settings.StaleDays.
	RuleTokenUnused Rule = "token-unused"
	// RuleTokenCreatorGone: whoever created the token is no longer an
	// active member.
	RuleTokenCreatorGone Rule = "token-creator-gone"
	// RuleTokenBroadScopes: the token holds org:admin or member:admin.
	RuleTokenBroadScopes Rule = "token-broad-scopes"
)

// broadScopes are the scopes that let a token administer the org or its
// members (docs/sentry-access-model.md#scopes, SENTRY_SCOPE_HIERARCHY_MAPPING).
func broadScopes() []string { return []string{"org:admin", "member:admin"} }

// Token is one row of the token inventory.
type Token struct {
	Kind            TokenKind
	ID              string
	Name            string
	LastChars       string
	Scopes          []string
	Created         time.Time
	LastUsed        *time.Time
	ProjectLastUsed string
	// CreatedBy is the creator's email or name from the audit ledger ("" if
	// unknown).
	CreatedBy   string
	Purpose     string
	Environment string
	ExpiresAt   *time.Time
}

// Tokens lists every token the inventory can see: org auth tokens, internal
// integrations (their scopes; Sentry does not list their individual tokens)
// and the intents recorded here. Creators come from the ledger.
func Tokens(inv *Inventory) []Token {
	ledger := Ledger(inv)
	var out []Token
	for _, t := range inv.OrgAuthTokens {
		row := Token{Kind: KindOrgAuthToken, ID: t.ID, Name: t.Name, LastChars: t.TokenLastCharacters, Scopes: t.Scopes,
			Created: t.DateCreated, LastUsed: t.DateLastUsed}
		if t.ProjectLastUsedID != nil {
			row.ProjectLastUsed = projectName(inv, *t.ProjectLastUsedID)
		}
		row.CreatedBy = creatorOf(ledger, "org-auth-token.create", t.ID, t.Name)
		row.Purpose, row.Environment = inv.Settings.splitName(t.Name)
		out = append(out, row)
	}
	for _, a := range inv.SentryApps {
		if a.Status != "internal" {
			continue
		}
		row := Token{Kind: KindIntegration, ID: a.Slug, Name: a.Name, Scopes: a.Scopes, Created: a.DateCreated}
		row.CreatedBy = creatorOf(ledger, "internal-integration.create", "", a.Name)
		row.Purpose, row.Environment = inv.Settings.splitName(a.Slug)
		out = append(out, row)
	}
	for _, in := range inv.Intents {
		out = append(out, Token{Kind: KindIntent, ID: in.ID, Name: in.Name, Scopes: in.Scopes, Created: in.RecordedAt,
			CreatedBy: in.RecordedBy, Purpose: in.Purpose, Environment: in.Environment, ExpiresAt: in.ExpiresAt})
	}
	return out
}

// projectName resolves a project id to its slug when the snapshot knows it.
func projectName(inv *Inventory, id string) string {
	if inv.Snapshot != nil {
		for _, p := range inv.Snapshot.Projects {
			if p.ID == id || p.Slug == id {
				return p.Slug
			}
		}
	}
	return id
}

// splitName splits a token name into purpose and environment by the
// naming rule; both are "" when it does not match.
func (s Settings) splitName(name string) (purpose, env string) {
	if s.Naming == nil {
		return "", ""
	}
	m := s.Naming.FindStringSubmatch(name)
	if len(m) < 3 {
		return "", ""
	}
	return m[1], m[2]
}

// purposeOf finds the template for a token: from its recorded intent, else
// from the purpose part of its name, else from the first word of its name.
func (inv *Inventory) purposeOf(t Token) (Template, bool) {
	for _, in := range inv.Intents {
		if in.Name == t.Name || in.Name == t.ID {
			if tpl, ok := inv.Settings.template(in.Purpose); ok {
				return tpl, true
			}
		}
	}
	if t.Purpose != "" {
		if tpl, ok := inv.Settings.template(t.Purpose); ok {
			return tpl, true
		}
	}
	for _, cand := range []string{t.ID, t.Name} {
		word, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(cand, " ", "-")), "-")
		if tpl, ok := inv.Settings.template(word); ok {
			return tpl, true
		}
	}
	return Template{}, false
}

// LedgerEntry is one token event reconstructed from the audit log.
type LedgerEntry struct {
	At     time.Time
	Event  string
	Action string // "created", "removed", "token added", …
	// Subject names the token or integration (from the entry's data).
	Subject string
	// TargetID is the entry's targetObject (the org auth token's id).
	TargetID string
	Actor    string
	// ActorIsMember reports whether the actor is an active member now.
	ActorIsMember bool
	Note          string
}

// tokenEvent reports whether an audit event concerns tokens: org auth
// tokens, internal-integration tokens, legacy API keys and Sentry Apps
// (the event names of src/sentry/audit_log/register.py, docs/sentry-access-model.md#audit-log).
func tokenEvent(e string) bool {
	switch e {
	case "org-auth-token.create", "org-auth-token.remove",
		"internal-integration.create", "internal-integration.disable",
		"internal-integration.add-token", "internal-integration.remove-token":
		return true
	}
	return strings.HasPrefix(e, "api-key.") || strings.HasPrefix(e, "sentry-app.")
}

func actionOf(event string) string {
	switch event {
	case "org-auth-token.create", "api-key.create", "internal-integration.create":
		return "created"
	case "org-auth-token.remove", "api-key.remove", "sentry-app.remove":
		return "removed"
	case "internal-integration.add-token":
		return "token added"
	case "internal-integration.remove-token":
		return "token removed"
	case "internal-integration.disable":
		return "disabled"
	case "api-key.edit":
		return "edited"
	case "sentry-app.add":
		return "added"
	case "sentry-app.install":
		return "installed"
	case "sentry-app.uninstall":
		return "uninstalled"
	}
	_, verb, _ := strings.Cut(event, ".")
	return verb
}

// Ledger reconstructs the token history from the archived audit entries,
// newest first.
func Ledger(inv *Inventory) []LedgerEntry {
	var out []LedgerEntry
	for _, e := range inv.Audit {
		if !tokenEvent(e.Event) {
			continue
		}
		le := LedgerEntry{At: e.DateCreated, Event: e.Event, Action: actionOf(e.Event), Note: e.Note}
		if e.TargetObject != nil {
			le.TargetID = fmt.Sprint(*e.TargetObject)
		}
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data) // data is informational; a bad body leaves Subject empty
		for _, k := range []string{"name", "sentry_app", "label", "slug"} {
			if s, ok := data[k].(string); ok && s != "" {
				le.Subject = s
				break
			}
		}
		if e.Actor != nil {
			le.Actor = e.Actor.Email
			if le.Actor == "" {
				le.Actor = e.Actor.Name
			}
			_, le.ActorIsMember = activeMember(inv.Snapshot, e.Actor.Email)
		}
		out = append(out, le)
	}
	slices.SortStableFunc(out, func(a, b LedgerEntry) int { return b.At.Compare(a.At) })
	return out
}

// creatorOf finds who performed event on the token with that id or name:
// the oldest matching ledger entry.
func creatorOf(ledger []LedgerEntry, event, id, name string) string {
	who := ""
	for _, le := range ledger { // newest first: the last match is the oldest
		if le.Event != event {
			continue
		}
		if (id != "" && le.TargetID == id) || (name != "" && strings.EqualFold(le.Subject, name)) {
			who = le.Actor
		}
	}
	return who
}

// TokenFindings applies the hygiene rules to every visible token. now is
// the clock.
//
//   - token-broad-scopes (high): org:admin or member:admin lets a token
//     administer the org or remove members; internal-integration tokens
//     carry their app's scopes on every team and project
//     (OrganizationGlobalMembership, src/sentry/auth/access.py, docs/sentry-access-model.md#effective-access).
//   - token-excess-scopes (medium): scopes beyond the template of the
//     token's purpose (CI/CD: org:read + project:releases; dashboards:
//     event:read + project:read). Org auth tokens are always exactly org:ci
//     (docs/sentry-access-model.md#organization-auth-tokens) and are not checked.
//   - token-naming (low): the name does not match {purpose}-{environment},
//     so nobody can tell what it is for or where it is used. Integrations
//     Sentry creates itself are exempt (sentryManaged): their names are set
//     by Sentry and cannot follow our rule.
//   - token-no-expiry (low): org auth tokens and integration tokens never
//     expire in Sentry; rotation must be done by hand. Intents recorded
//     without an expiry are reported too.
//   - token-unused (medium): an org auth token not used for StaleDays (or
//     never used and older than that), from dateLastUsed.
//   - token-creator-gone (medium): the audit ledger names a creator who is
//     no longer an active member; the token outlives its owner.
func TokenFindings(inv *Inventory, now time.Time) []Finding {
	var out []Finding
	st := inv.Settings
	for _, t := range Tokens(inv) {
		subject := string(t.Kind) + " " + t.Name
		if broad := intersect(t.Scopes, broadScopes()); len(broad) > 0 {
			out = append(out, Finding{Rule: RuleTokenBroadScopes, Severity: SeverityHigh, Subject: subject,
				Detail: fmt.Sprintf("holds %s: it can administer the organization or its members, on every team and project.", strings.Join(broad, " and ")),
				Fix:    "Give the token only the scopes its job needs; if it manages access, keep it to one integration and review its use in the audit log."})
		}
		if t.Kind != KindOrgAuthToken {
			if tpl, ok := inv.purposeOf(t); ok {
				if extra := minus(t.Scopes, tpl.Scopes); len(extra) > 0 {
					out = append(out, Finding{Rule: RuleTokenExcessScopes, Severity: SeverityMedium, Subject: subject,
						Detail: fmt.Sprintf("its purpose is %s, which needs only %s; it also holds %s.", tpl.Label, strings.Join(tpl.Scopes, ", "), strings.Join(extra, ", ")),
						Fix:    fmt.Sprintf("Remove %s from the integration's permissions in Sentry (Settings → Custom Integrations), or create a new token with the helper below.", strings.Join(extra, ", "))})
				}
			}
		}
		if st.Naming != nil && !st.Naming.MatchString(t.Name) && !st.Naming.MatchString(t.ID) && !sentryManaged(t) {
			out = append(out, namingFinding(t, subject))
		}
		switch {
		case t.Kind == KindOrgAuthToken || t.Kind == KindIntegration:
			out = append(out, Finding{Rule: RuleTokenNoExpiry, Severity: SeverityLow, Subject: subject,
				Detail: "Sentry " + kindLabel(t.Kind) + "s have no expiry date: it stays valid until someone removes it.",
				Fix:    "Record a rotation date and rotate it (create the new one, switch, remove the old one)."})
		case t.Kind == KindIntent && t.ExpiresAt == nil:
			out = append(out, Finding{Rule: RuleTokenNoExpiry, Severity: SeverityLow, Subject: subject,
				Detail: "recorded without an expiry or rotation date.",
				Fix:    "Record the intent again with an expiry; set the same date in Sentry where the token kind allows it."})
		}
		if t.Kind == KindOrgAuthToken && st.StaleDays > 0 {
			limit := time.Duration(st.StaleDays) * 24 * time.Hour
			switch {
			case t.LastUsed == nil && now.Sub(t.Created) > limit:
				out = append(out, Finding{Rule: RuleTokenUnused, Severity: SeverityMedium, Subject: subject,
					Detail: fmt.Sprintf("never used, created %d days ago.", daysSince(now, t.Created)),
					Fix:    "Remove it in Sentry (Settings → Organization Tokens) unless it is about to be used."})
			case t.LastUsed != nil && now.Sub(*t.LastUsed) > limit:
				out = append(out, Finding{Rule: RuleTokenUnused, Severity: SeverityMedium, Subject: subject,
					Detail: fmt.Sprintf("last used %d days ago (more than %d).", daysSince(now, *t.LastUsed), st.StaleDays),
					Fix:    "Remove it in Sentry (Settings → Organization Tokens); an unused credential is only a risk."})
			}
		}
		if t.CreatedBy != "" && t.Kind != KindIntent && inv.Snapshot != nil && strings.Contains(t.CreatedBy, "@") {
			if _, ok := activeMember(inv.Snapshot, t.CreatedBy); !ok {
				out = append(out, Finding{Rule: RuleTokenCreatorGone, Severity: SeverityMedium, Subject: subject,
					Detail: fmt.Sprintf("created by %s, who is no longer an active member.", t.CreatedBy),
					Fix:    "Find the token's new owner, rotate it, and record who owns it now with the token helper."})
			}
		}
	}
	SortFindings(out)
	return out
}

func kindLabel(k TokenKind) string {
	switch k {
	case KindOrgAuthToken:
		return "org auth token"
	case KindIntegration:
		return "internal-integration token"
	case KindPersonal:
		return "personal token"
	}
	return "recorded token"
}

// BlindSpot is something the token page cannot show, and why.
type BlindSpot struct {
	What string
	Why  string
}

// BlindSpots lists what cannot be seen: always personal tokens and the
// individual tokens of integrations, plus every part the credential could
// not read.
func BlindSpots(inv *Inventory) []BlindSpot {
	out := []BlindSpot{
		{"Personal (user) auth tokens", "Sentry lists them only to their owner, in a browser session (/api/0/api-tokens/ refuses token authentication); no API lists other people's tokens. Each person sees theirs under User Settings → Personal Tokens."},
		{"Individual internal-integration tokens", "The API lists integrations and their scopes, not their tokens, when each was made or last used. The audit ledger below shows internal-integration.add-token / remove-token."},
		{"Legacy API keys", "No public API lists them; only their api-key.* audit events are shown."},
	}
	names := map[Part]string{
		PartOrgAuthTokens: "Org auth tokens", PartSentryApps: "Internal integrations", PartAuditLog: "Audit log (token ledger)",
	}
	for _, p := range []Part{PartOrgAuthTokens, PartSentryApps, PartAuditLog} {
		if why, hidden := inv.Hidden[p]; hidden {
			out = append(out, BlindSpot{names[p], why})
		}
	}
	return out
}

func intersect(have, want []string) []string {
	var out []string
	for _, s := range have {
		if slices.Contains(want, s) {
			out = append(out, s)
		}
	}
	return out
}

func minus(have, allowed []string) []string {
	var out []string
	for _, s := range have {
		if !slices.Contains(allowed, s) {
			out = append(out, s)
		}
	}
	return out
}

// Suggestion is the token helper's answer: the name, least-privilege
// scopes, kind, and where in Sentry to create it.
type Suggestion struct {
	Purpose     string
	Environment string
	Name        string
	Scopes      []string
	Kind        TokenKind
	// Where says where in Sentry to create it; the dashboard cannot create
	// it through the API with its credential.
	Where string
	// WhereURL is the Sentry settings page.
	WhereURL string
	Notes    []string
}

// Suggest answers the token helper for a purpose (a template purpose or
// alias) and an environment. An unknown purpose or environment is an error
// naming the known ones.
func Suggest(inv *Inventory, purpose, env string) (Suggestion, error) {
	st := inv.Settings
	tpl, ok := st.template(strings.TrimSpace(purpose))
	if !ok {
		var known []string
		for _, t := range st.Templates {
			known = append(known, t.Purpose)
		}
		return Suggestion{}, sentryaccess.Errorf(sentryaccess.EINVALID, "unknown purpose %q (known: %s)", purpose, strings.Join(known, ", "))
	}
	env = strings.ToLower(strings.TrimSpace(env))
	if !slices.Contains(st.Environments, env) {
		return Suggestion{}, sentryaccess.Errorf(sentryaccess.EINVALID, "unknown environment %q (known: %s)", env, strings.Join(st.Environments, ", "))
	}
	s := Suggestion{Purpose: tpl.Purpose, Environment: env, Name: tpl.Purpose + "-" + env, Scopes: slices.Clone(tpl.Scopes), Kind: tpl.Kind}
	base, org := inv.sentryURL(), inv.orgSlug()
	switch tpl.Kind {
	case KindOrgAuthToken:
		s.Where = "Sentry → Settings → Organization Tokens → Create New Token (scope org:ci is fixed)"
		s.WhereURL = base + "/settings/" + org + "/auth-tokens/"
	default:
		s.Where = "Sentry → Settings → Custom Integrations → Create New Integration → Internal Integration; set exactly these permissions, then add a token"
		s.WhereURL = base + "/settings/" + org + "/developer-settings/"
		s.Notes = append(s.Notes, "Sentry's API does not let this dashboard create internal-integration tokens; record the intent here, create it in Sentry, and the next sync will check it.")
	}
	if tpl.Purpose == "ci" {
		s.Notes = append(s.Notes, "For releases and source-map uploads only, an org auth token (org:ci, Settings → Organization Tokens) is narrower still.")
	}
	return s, nil
}

// sentryManagedIntegrations are the name prefixes of internal integrations
// that Sentry creates and names itself: enabling SCIM creates "SCIM
// Internal Integration" (slug scim-internal-integration-<hex>), whose token
// is the SCIM bearer token (docs/sentry-access-model.md#scim,
// src/sentry/scim/endpoints/utils.py). Renaming them is not ours to ask.
func sentryManagedIntegrations() []string {
	return []string{"SCIM Internal Integration", "scim-internal-integration"}
}

// sentryManaged reports whether t is an integration Sentry created and
// named itself.
func sentryManaged(t Token) bool {
	if t.Kind != KindIntegration {
		return false
	}
	for _, p := range sentryManagedIntegrations() {
		if strings.HasPrefix(t.Name, p) || strings.HasPrefix(t.ID, p) {
			return true
		}
	}
	return false
}

// namingFinding explains the naming rule on t's own name: what the name
// should be made of, a name that would pass, and where to rename it.
func namingFinding(t Token, subject string) Finding {
	suggested := suggestName(t.Name) + "-prod"
	where := "Sentry's Settings → Auth Tokens (organization tokens can be renamed there)"
	if t.Kind == KindIntegration {
		where = "Sentry's Settings → Custom Integrations → " + t.Name + " (its name and slug)"
	} else if t.Kind == KindIntent {
		where = "the token helper (record the intent again under the new name) and in Sentry"
	}
	return Finding{Rule: RuleTokenNaming, Severity: SeverityLow, Subject: subject,
		Detail: fmt.Sprintf("the name %q is not {purpose}-{environment}: lowercase words for what it does, a hyphen, then where it runs "+
			"(prod, staging, dev, test, qa or sandbox), e.g. %q. Without it nobody can tell what the token is for or what breaks when it is removed.", t.Name, suggested),
		Fix: fmt.Sprintf("Rename it to %q (with the environment it really serves) in %s.", suggested, where)}
}

// suggestName is name in lowercase words joined by hyphens, with any
// trailing environment word of the naming rule dropped ("Deploy Bot" →
// "deploy-bot").
func suggestName(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	if n := len(words); n > 1 && slices.Contains([]string{"prod", "production", "staging", "stage", "dev", "development", "test", "qa", "sandbox"}, words[n-1]) {
		words = words[:n-1]
	}
	if len(words) == 0 {
		return "purpose"
	}
	return strings.Join(words, "-")
}
