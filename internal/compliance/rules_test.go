package compliance_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/compliance"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/store"
)

var now = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func days(n int) time.Time     { return now.Add(-time.Duration(n) * 24 * time.Hour) }
func daysPtr(n int) *time.Time { t := days(n); return &t }
func boolPtr(b bool) *bool     { return &b }
func i64(n int64) *int64       { return &n }

// snap is a small org: ana (owner), bo (manager), cy (member on payments),
// dee (member, no team), a pending and an expired invite.
func snap() *access.Snapshot {
	return &access.Snapshot{
		Org: access.Org{Slug: "acme", SCIMEnabled: true, RequiresSSO: true, HasAuthProvider: true},
		Members: []access.Member{
			{ID: "1", Email: "ana@acme.test", OrgRole: "owner", State: access.StateActive, Has2FA: true, Flags: access.MemberFlags{SSOLinked: true}},
			{ID: "2", Email: "bo@acme.test", OrgRole: "manager", State: access.StateActive, Flags: access.MemberFlags{SSOLinked: true, IDPProvisioned: true}},
			{ID: "3", Email: "cy@acme.test", OrgRole: "member", State: access.StateActive, Flags: access.MemberFlags{SSOLinked: true, IDPProvisioned: true}, Teams: []access.Membership{{Team: "payments"}}},
			{ID: "4", Email: "dee@acme.test", OrgRole: "member", State: access.StateActive, Flags: access.MemberFlags{IDPProvisioned: true, IDPRoleRestricted: true}},
			{ID: "5", Email: "pat@acme.test", OrgRole: "member", State: access.StatePending, DateCreated: days(20)},
			{ID: "6", Email: "exp@acme.test", OrgRole: "member", State: access.StateExpired, DateCreated: days(40)},
		},
		Teams: []access.Team{
			{ID: "100", Slug: "payments", Name: "Payments"},
			{ID: "101", Slug: "identity", Name: "Identity", IDPProvisioned: true},
		},
		Projects: []access.Project{
			{ID: "200", Slug: "payment-api", Teams: []string{"payments"}},
			{ID: "201", Slug: "orphan", Teams: nil},
			{ID: "202", Slug: "sso-gateway", Teams: []string{"identity"}},
		},
	}
}

func inventory() *compliance.Inventory {
	return &compliance.Inventory{Snapshot: snap(), Settings: compliance.DefaultSettings(), Hidden: map[compliance.Part]string{},
		AuthProvider: &sentry.AuthProvider{ProviderName: "saml2", RequireLink: true, SCIMEnabled: true}}
}

// has reports whether fs holds a finding of rule about subject.
func has(fs []compliance.Finding, rule compliance.Rule, subject string) bool {
	return slices.ContainsFunc(fs, func(f compliance.Finding) bool {
		return f.Rule == rule && strings.Contains(f.Subject, subject)
	})
}

func find(fs []compliance.Finding, rule compliance.Rule, subject string) compliance.Finding {
	for _, f := range fs {
		if f.Rule == rule && strings.Contains(f.Subject, subject) {
			return f
		}
	}
	return compliance.Finding{}
}

func TestTokenHygieneRules(t *testing.T) {
	t.Parallel()
	audit := func(event, email, name string, target int64) sentry.AuditLogEntry {
		data, _ := json.Marshal(map[string]any{"name": name})
		return sentry.AuditLogEntry{ID: event + name, Event: event, Actor: &sentry.AuditActor{Email: email}, Data: data, TargetObject: i64(target), DateCreated: days(100)}
	}
	tests := []struct {
		name    string
		tokens  []sentry.OrgAuthToken
		apps    []sentry.SentryApp
		intents []store.TokenIntent
		audit   []sentry.AuditLogEntry
		rule    compliance.Rule
		subject string
		want    bool
	}{
		{name: "an integration with org:admin has broad scopes",
			apps: []sentry.SentryApp{{Slug: "access-sync", Name: "access-sync-prod", Status: "internal", Scopes: []string{"org:read", "org:admin"}}},
			rule: compliance.RuleTokenBroadScopes, subject: "access-sync", want: true},
		{name: "an integration with member:admin has broad scopes",
			apps: []sentry.SentryApp{{Slug: "hr-sync", Name: "hr-sync-prod", Status: "internal", Scopes: []string{"member:admin"}}},
			rule: compliance.RuleTokenBroadScopes, subject: "hr-sync", want: true},
		{name: "a read-only integration does not",
			apps: []sentry.SentryApp{{Slug: "dashboard-prod", Name: "dashboard-prod", Status: "internal", Scopes: []string{"event:read", "project:read"}}},
			rule: compliance.RuleTokenBroadScopes, subject: "dashboard-prod", want: false},
		{name: "published (non-internal) apps are not tokens of this org",
			apps: []sentry.SentryApp{{Slug: "vendor", Name: "vendor", Status: "published", Scopes: []string{"org:admin"}}},
			rule: compliance.RuleTokenBroadScopes, subject: "vendor", want: false},
		{name: "a CI integration with project:write exceeds the CI template",
			apps: []sentry.SentryApp{{Slug: "ci-prod", Name: "ci-prod", Status: "internal", Scopes: []string{"org:read", "project:releases", "project:write"}}},
			rule: compliance.RuleTokenExcessScopes, subject: "ci-prod", want: true},
		{name: "a CI integration with exactly the template's scopes is fine",
			apps: []sentry.SentryApp{{Slug: "ci-prod", Name: "ci-prod", Status: "internal", Scopes: []string{"org:read", "project:releases"}}},
			rule: compliance.RuleTokenExcessScopes, subject: "ci-prod", want: false},
		{name: "a purpose alias in the slug selects the template (deploy → CI)",
			apps: []sentry.SentryApp{{Slug: "deploy-bot", Name: "Deploy Bot", Status: "internal", Scopes: []string{"org:read", "project:read", "project:releases"}}},
			rule: compliance.RuleTokenExcessScopes, subject: "Deploy Bot", want: true},
		{name: "a dashboard integration with event:write exceeds the dashboard template",
			apps: []sentry.SentryApp{{Slug: "dashboard-staging", Name: "dashboard-staging", Status: "internal", Scopes: []string{"event:read", "project:read", "event:write"}}},
			rule: compliance.RuleTokenExcessScopes, subject: "dashboard-staging", want: true},
		{name: "an unknown purpose is not judged for excess scopes",
			apps: []sentry.SentryApp{{Slug: "misc-prod", Name: "misc-prod", Status: "internal", Scopes: []string{"project:admin"}}},
			rule: compliance.RuleTokenExcessScopes, subject: "misc-prod", want: false},
		{name: "org auth tokens are always org:ci and never judged for excess scopes",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "dashboard-prod", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			rule:   compliance.RuleTokenExcessScopes, subject: "dashboard-prod", want: false},
		{name: "a name without an environment breaks the naming rule",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "old-jenkins", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			rule:   compliance.RuleTokenNaming, subject: "old-jenkins", want: true},
		{name: "Sentry's own SCIM integration is exempt: Sentry names it",
			apps: []sentry.SentryApp{{Slug: "scim-internal-integration-5c1a00", Name: "SCIM Internal Integration", Status: "internal", Scopes: []string{"member:admin"}}},
			rule: compliance.RuleTokenNaming, subject: "SCIM Internal Integration", want: false},
		{name: "an integration named by people still follows the rule",
			apps: []sentry.SentryApp{{Slug: "deploy-bot", Name: "Deploy Bot", Status: "internal", Scopes: []string{"org:read"}}},
			rule: compliance.RuleTokenNaming, subject: "Deploy Bot", want: true},
		{name: "a name that merely mentions SCIM is not Sentry's",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "scim-helper", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			rule:   compliance.RuleTokenNaming, subject: "scim-helper", want: true},
		{name: "purpose-environment follows it",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "ci-prod", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			rule:   compliance.RuleTokenNaming, subject: "ci-prod", want: false},
		{name: "an org auth token never expires",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "ci-prod", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			rule:   compliance.RuleTokenNoExpiry, subject: "ci-prod", want: true},
		{name: "an intent recorded without expiry is reported",
			intents: []store.TokenIntent{{ID: "a", Name: "ci-dev", Purpose: "ci", RecordedBy: "ana@acme.test"}},
			rule:    compliance.RuleTokenNoExpiry, subject: "ci-dev", want: true},
		{name: "an intent with an expiry is not",
			intents: []store.TokenIntent{{ID: "a", Name: "ci-dev", Purpose: "ci", RecordedBy: "ana@acme.test", ExpiresAt: daysPtr(-30)}},
			rule:    compliance.RuleTokenNoExpiry, subject: "ci-dev", want: false},
		{name: "last used longer ago than the stale days is unused",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "ci-prod", DateCreated: days(900), DateLastUsed: daysPtr(91)}},
			rule:   compliance.RuleTokenUnused, subject: "ci-prod", want: true},
		{name: "used within the stale days is fine",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "ci-prod", DateCreated: days(900), DateLastUsed: daysPtr(89)}},
			rule:   compliance.RuleTokenUnused, subject: "ci-prod", want: false},
		{name: "never used and older than the stale days is unused",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "ci-prod", DateCreated: days(91)}},
			rule:   compliance.RuleTokenUnused, subject: "ci-prod", want: true},
		{name: "never used but new is fine",
			tokens: []sentry.OrgAuthToken{{ID: "1", Name: "ci-prod", DateCreated: days(3)}},
			rule:   compliance.RuleTokenUnused, subject: "ci-prod", want: false},
		{name: "a creator who left makes the token ownerless",
			tokens: []sentry.OrgAuthToken{{ID: "7", Name: "ci-prod", DateCreated: days(100)}},
			audit:  []sentry.AuditLogEntry{audit("org-auth-token.create", "gone@acme.test", "ci-prod", 7)},
			rule:   compliance.RuleTokenCreatorGone, subject: "ci-prod", want: true},
		{name: "a creator who is still a member is fine",
			tokens: []sentry.OrgAuthToken{{ID: "7", Name: "ci-prod", DateCreated: days(100)}},
			audit:  []sentry.AuditLogEntry{audit("org-auth-token.create", "ana@acme.test", "ci-prod", 7)},
			rule:   compliance.RuleTokenCreatorGone, subject: "ci-prod", want: false},
		{name: "a pending invitee does not count as a member",
			tokens: []sentry.OrgAuthToken{{ID: "7", Name: "ci-prod", DateCreated: days(100)}},
			audit:  []sentry.AuditLogEntry{audit("org-auth-token.create", "pat@acme.test", "ci-prod", 7)},
			rule:   compliance.RuleTokenCreatorGone, subject: "ci-prod", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := inventory()
			inv.OrgAuthTokens, inv.SentryApps, inv.Intents, inv.Audit = tt.tokens, tt.apps, tt.intents, tt.audit
			got := has(compliance.TokenFindings(inv, now), tt.rule, tt.subject)
			if got != tt.want {
				t.Errorf("%s on %s = %v, want %v\nfindings: %+v", tt.rule, tt.subject, got, tt.want, compliance.TokenFindings(inv, now))
			}
		})
	}
}

func TestTheLedgerIsReconstructedFromTokenEventsOnly(t *testing.T) {
	t.Parallel()
	inv := inventory()
	mk := func(ev string, d int, data string) sentry.AuditLogEntry {
		return sentry.AuditLogEntry{ID: ev, Event: ev, Actor: &sentry.AuditActor{Email: "ana@acme.test"}, Data: json.RawMessage(data), DateCreated: days(d)}
	}
	inv.Audit = []sentry.AuditLogEntry{
		mk("org-auth-token.create", 10, `{"name":"ci-prod"}`),
		mk("member.edit", 5, `{}`),
		mk("internal-integration.add-token", 3, `{"sentry_app":"Deploy Bot"}`),
		mk("api-key.remove", 2, `{"label":"legacy"}`),
		mk("sentry-app.install", 1, `{"sentry_app":"PagerDuty"}`),
	}
	got := compliance.Ledger(inv)
	var events []string
	for _, le := range got {
		events = append(events, le.Event+":"+le.Subject+":"+le.Action)
	}
	want := []string{"sentry-app.install:PagerDuty:installed", "api-key.remove:legacy:removed",
		"internal-integration.add-token:Deploy Bot:token added", "org-auth-token.create:ci-prod:created"}
	if !slices.Equal(events, want) {
		t.Errorf("ledger = %v, want %v", events, want)
	}
	if !got[0].ActorIsMember {
		t.Errorf("ana is an active member")
	}
}

func TestBlindSpotsAlwaysNamePersonalTokensAndEveryHiddenPart(t *testing.T) {
	t.Parallel()
	inv := inventory()
	inv.Hidden[compliance.PartOrgAuthTokens] = "not visible with this credential: Sentry answered 403"
	got := compliance.BlindSpots(inv)
	text := ""
	for _, b := range got {
		text += b.What + ": " + b.Why + "\n"
	}
	for _, want := range []string{"Personal (user) auth tokens", "Org auth tokens: not visible with this credential: Sentry answered 403"} {
		if !strings.Contains(text, want) {
			t.Errorf("blind spots lack %q:\n%s", want, text)
		}
	}
}

func TestTheTokenHelperSuggestsMinimalScopesAndTheName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		purpose, env string
		wantName     string
		wantScopes   []string
		wantErr      bool
	}{
		{"ci", "prod", "ci-prod", []string{"org:read", "project:releases"}, false},
		{"CI/CD", "prod", "", nil, true},
		{"cicd", "staging", "ci-staging", []string{"org:read", "project:releases"}, false},
		{"dashboard", "dev", "dashboard-dev", []string{"event:read", "project:read"}, false},
		{"grafana", "prod", "dashboard-prod", []string{"event:read", "project:read"}, false},
		{"ci", "moon", "", nil, true},
		{"mining", "prod", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.purpose+"/"+tt.env, func(t *testing.T) {
			t.Parallel()
			got, err := compliance.Suggest(inventory(), tt.purpose, tt.env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Name != tt.wantName || !slices.Equal(got.Scopes, tt.wantScopes) {
				t.Errorf("got %s %v, want %s %v", got.Name, got.Scopes, tt.wantName, tt.wantScopes)
			}
			if !strings.Contains(got.WhereURL, "/settings/acme/") || got.Where == "" {
				t.Errorf("where = %q %q, want a place in Sentry's settings", got.Where, got.WhereURL)
			}
		})
	}
}

func TestDriftRules(t *testing.T) {
	t.Parallel()
	scimUsers := func(emails ...string) []sentry.SCIMUser {
		var out []sentry.SCIMUser
		ids := map[string]string{"ana@acme.test": "1", "bo@acme.test": "2", "cy@acme.test": "3", "dee@acme.test": "4"}
		for _, e := range emails {
			id := ids[e]
			if id == "" {
				id = "99"
			}
			out = append(out, sentry.SCIMUser{ID: id, UserName: e})
		}
		return out
	}
	allUsers := scimUsers("bo@acme.test", "cy@acme.test", "dee@acme.test")
	groups := []sentry.SCIMGroup{{ID: "100", DisplayName: "Payments", Members: []sentry.SCIMGroupMember{{Value: "3"}}},
		{ID: "101", DisplayName: "Identity"}}
	tests := []struct {
		name     string
		mutate   func(inv *compliance.Inventory)
		rule     compliance.Rule
		subject  string
		want     bool
		wantKind changes.Kind
	}{
		{name: "a member added outside the IdP while SCIM is on",
			mutate: func(inv *compliance.Inventory) { inv.Snapshot.Members[1].Flags.IDPProvisioned = false },
			rule:   compliance.RuleNotProvisioned, subject: "bo@", want: true},
		{name: "with SCIM off nobody needs provisioning",
			mutate: func(inv *compliance.Inventory) {
				inv.Snapshot.Members[1].Flags.IDPProvisioned = false
				inv.AuthProvider.SCIMEnabled = false
			},
			rule: compliance.RuleNotProvisioned, subject: "bo@", want: false},
		{name: "owners cannot be provisioned and are only informational",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RuleNotProvisioned, subject: "ana@", want: true},
		{name: "a SCIM user with no member is missing in Sentry",
			mutate: func(inv *compliance.Inventory) { inv.SCIMUsers = append(inv.SCIMUsers, scimUsers("zed@acme.test")...) },
			rule:   compliance.RuleSCIMUserMissing, subject: "zed@", want: true},
		{name: "a SCIM user marked inactive who is still a member",
			mutate: func(inv *compliance.Inventory) { inv.SCIMUsers[1].Active = boolPtr(false) },
			rule:   compliance.RuleDeprovisionedMember, subject: "cy@", want: true, wantKind: changes.KindSCIMUserDeactivate},
		{name: "a provisioned member the IdP no longer lists",
			mutate: func(inv *compliance.Inventory) { inv.SCIMUsers = scimUsers("bo@acme.test", "cy@acme.test") },
			rule:   compliance.RuleDeprovisionedMember, subject: "dee@", want: true, wantKind: changes.KindSCIMUserDeactivate},
		{name: "every provisioned member listed: no deprovisioning drift",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RuleDeprovisionedMember, subject: "@", want: false},
		{name: "a group whose id matches no team",
			mutate: func(inv *compliance.Inventory) {
				inv.SCIMGroups = append(inv.SCIMGroups, sentry.SCIMGroup{ID: "555", DisplayName: "Ghosts"})
			},
			rule: compliance.RuleGroupNoTeam, subject: "Ghosts", want: true},
		{name: "groups join teams by id, not name: a renamed group still matches",
			mutate: func(inv *compliance.Inventory) { inv.SCIMGroups[0].DisplayName = "Payments Team" },
			rule:   compliance.RuleGroupNoTeam, subject: "Payments", want: false},
		{name: "a renamed group shows name drift with a rename change",
			mutate: func(inv *compliance.Inventory) { inv.SCIMGroups[0].DisplayName = "Payments Team" },
			rule:   compliance.RuleGroupNameDrift, subject: "payments", want: true, wantKind: changes.KindSCIMGroupRename},
		{name: "an idp-provisioned team without a group",
			mutate: func(inv *compliance.Inventory) { inv.SCIMGroups = inv.SCIMGroups[:1] },
			rule:   compliance.RuleTeamNoGroup, subject: "identity", want: true},
		{name: "group and team members differ",
			mutate: func(inv *compliance.Inventory) { inv.SCIMGroups[0].Members = []sentry.SCIMGroupMember{{Value: "2"}} },
			rule:   compliance.RuleGroupMembersDrift, subject: "payments", want: true, wantKind: changes.KindSCIMGroupMembers},
		{name: "same members: no members drift",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RuleGroupMembersDrift, subject: "payments", want: false},
		{name: "an invite pending longer than the limit",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RulePendingInvite, subject: "pat@", want: true, wantKind: changes.KindMemberRemove},
		{name: "a fresh invite is fine",
			mutate: func(inv *compliance.Inventory) { inv.Snapshot.Members[4].DateCreated = days(2) },
			rule:   compliance.RulePendingInvite, subject: "pat@", want: false},
		{name: "an expired invite",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RuleExpiredInvite, subject: "exp@", want: true, wantKind: changes.KindMemberRemove},
		{name: "SSO required and the member is not linked",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RuleSSONotLinked, subject: "dee@", want: true},
		{name: "SSO not required: unlinked members are fine",
			mutate: func(inv *compliance.Inventory) { inv.AuthProvider.RequireLink = false },
			rule:   compliance.RuleSSONotLinked, subject: "dee@", want: false},
		{name: "a role-restricted member",
			mutate: func(inv *compliance.Inventory) {},
			rule:   compliance.RuleRoleRestricted, subject: "dee@", want: true},
		{name: "SCIM users not visible are reported as not visible, not as no drift",
			mutate: func(inv *compliance.Inventory) {
				inv.SCIMUsers = nil
				inv.Hidden[compliance.PartSCIMUsers] = "not visible with this configuration: no SCIM token is configured"
			},
			rule: compliance.RuleNotVisible, subject: "SCIM users", want: true},
		{name: "and then no member is called deprovisioned",
			mutate: func(inv *compliance.Inventory) {
				inv.SCIMUsers = nil
				inv.Hidden[compliance.PartSCIMUsers] = "not visible"
			},
			rule: compliance.RuleDeprovisionedMember, subject: "@", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := inventory()
			inv.SCIMUsers = slices.Clone(allUsers)
			inv.SCIMGroups = []sentry.SCIMGroup{groups[0], groups[1]}
			inv.SCIMGroups[0].Members = slices.Clone(groups[0].Members)
			tt.mutate(inv)
			fs := compliance.DriftFindings(inv, now)
			if got := has(fs, tt.rule, tt.subject); got != tt.want {
				t.Fatalf("%s on %s = %v, want %v\nfindings: %+v", tt.rule, tt.subject, got, tt.want, fs)
			}
			if tt.wantKind != "" {
				f := find(fs, tt.rule, tt.subject)
				if len(f.ChangeSteps) != 1 || f.ChangeSteps[0].Kind != tt.wantKind {
					t.Errorf("change steps = %+v, want one %s", f.ChangeSteps, tt.wantKind)
				}
				if err := f.ChangeSteps[0].Validate(); err != nil {
					t.Errorf("change step invalid: %v", err)
				}
				if !strings.HasPrefix(f.ChangeURL, "/changes/new?") || !strings.Contains(f.ChangeURL, "kind="+string(tt.wantKind)) {
					t.Errorf("change URL = %q", f.ChangeURL)
				}
			}
		})
	}
}

func TestPostureChecklist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(inv *compliance.Inventory)
		check  string
		want   compliance.CheckStatus
	}{
		{"SSO required", func(inv *compliance.Inventory) {}, "sso-required", compliance.StatusPass},
		{"SSO configured but optional", func(inv *compliance.Inventory) { inv.AuthProvider.RequireLink = false }, "sso-required", compliance.StatusFail},
		{"no SSO provider", func(inv *compliance.Inventory) { inv.AuthProvider = nil }, "sso-required", compliance.StatusFail},
		{"2FA required", func(inv *compliance.Inventory) { inv.Snapshot.Org.Require2FA = true }, "2fa-required", compliance.StatusPass},
		{"2FA not required", func(inv *compliance.Inventory) {}, "2fa-required", compliance.StatusFail},
		{"open membership off", func(inv *compliance.Inventory) {}, "open-membership", compliance.StatusPass},
		{"open membership on with isolated teams wanted", func(inv *compliance.Inventory) { inv.Snapshot.Org.OpenMembership = true }, "open-membership", compliance.StatusFail},
		{"open membership on, isolation not wanted", func(inv *compliance.Inventory) {
			inv.Snapshot.Org.OpenMembership = true
			inv.Settings.IsolateTeams = false
		}, "open-membership", compliance.StatusWarn},
		{"members may create projects", func(inv *compliance.Inventory) { inv.Snapshot.Org.AllowMemberProjectCreation = true }, "member-project-creation", compliance.StatusWarn},
		{"members may not create projects", func(inv *compliance.Inventory) {}, "member-project-creation", compliance.StatusPass},
		{"a single owner", func(inv *compliance.Inventory) {}, "owners", compliance.StatusFail},
		{"two owners", func(inv *compliance.Inventory) { inv.Snapshot.Members[1].OrgRole = "owner" }, "owners", compliance.StatusPass},
		{"too many managers", func(inv *compliance.Inventory) {
			inv.Snapshot.Members[1].OrgRole = "owner"
			inv.Settings.MaxManagers = 0
			inv.Snapshot.Members[2].OrgRole = "manager"
		}, "owners", compliance.StatusWarn},
		{"an integration with org:admin", func(inv *compliance.Inventory) {
			inv.SentryApps = []sentry.SentryApp{{Name: "Access Sync", Status: "internal", Scopes: []string{"org:admin"}}}
		}, "integration-scopes", compliance.StatusFail},
		{"narrow integrations", func(inv *compliance.Inventory) {
			inv.SentryApps = []sentry.SentryApp{{Name: "Deploy Bot", Status: "internal", Scopes: []string{"project:releases"}}}
		}, "integration-scopes", compliance.StatusPass},
		{"integrations not visible are unknown, not passing", func(inv *compliance.Inventory) {
			inv.Hidden[compliance.PartSentryApps] = "not visible with this credential: Sentry answered 403"
		}, "integration-scopes", compliance.StatusUnknown},
		{"IP allowlisting is always a manual check", func(inv *compliance.Inventory) {}, "ip-allowlist", compliance.StatusManual},
		{"without a snapshot 2FA is unknown", func(inv *compliance.Inventory) { inv.Snapshot = nil }, "2fa-required", compliance.StatusUnknown},
		{"members may invite", func(inv *compliance.Inventory) { inv.Snapshot.Org.AllowMemberInvite = true }, "member-invite", compliance.StatusWarn},
		{"only managers and owners invite", func(inv *compliance.Inventory) { inv.Snapshot.Org.AllowMemberInvite = false }, "member-invite", compliance.StatusPass},
		{"join requests allowed", func(inv *compliance.Inventory) { inv.Snapshot.Org.AllowJoinRequests = true }, "join-requests", compliance.StatusWarn},
		{"join requests off", func(inv *compliance.Inventory) { inv.Snapshot.Org.AllowJoinRequests = false }, "join-requests", compliance.StatusPass},
		{"a legacy admin is present", func(inv *compliance.Inventory) { inv.Snapshot.Members[2].OrgRole = "admin" }, "legacy-admins", compliance.StatusWarn},
		{"no legacy admin", func(inv *compliance.Inventory) {}, "legacy-admins", compliance.StatusPass},
		{"without a snapshot join requests are unknown", func(inv *compliance.Inventory) { inv.Snapshot = nil }, "join-requests", compliance.StatusUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := inventory()
			tt.mutate(inv)
			var got compliance.PostureCheck
			for _, c := range compliance.Posture(inv) {
				if c.ID == tt.check {
					got = c
				}
			}
			if got.Status != tt.want {
				t.Errorf("%s = %s (%s), want %s", tt.check, got.Status, got.Detail, tt.want)
			}
			if got.Where == "" {
				t.Errorf("%s says nowhere in Sentry to look", tt.check)
			}
		})
	}
}

func TestTheSAMLCheckerExplainsCommonMistakes(t *testing.T) {
	t.Parallel()
	inv := inventory()
	inv.SentryURL = "https://us.sentry.io" // the API host; SAML lives on sentry.io
	acs, aud := "https://sentry.io/saml/acs/acme/", "https://sentry.io/saml/metadata/acme/"
	tests := []struct {
		name          string
		acs, audience string
		wantACSOK     bool
		wantAudOK     bool
		fixHas        string
	}{
		{"both right", acs, aud, true, true, ""},
		{"swapped", aud, acs, false, false, "swapped"},
		{"missing trailing slash", strings.TrimSuffix(acs, "/"), aud, false, true, "trailing slash"},
		{"the region host instead of sentry.io", "https://us.sentry.io/saml/acs/acme/", aud, false, true, "every organization on sentry.io, whatever its region"},
		{"another region host", "https://de.sentry.io/saml/acs/acme/", aud, false, true, "whatever its region"},
		{"wrong org slug", "https://sentry.io/saml/acs/acme-corp/", aud, false, true, "slug"},
		{"http", "http://sentry.io/saml/acs/acme/", aud, false, true, "scheme"},
		{"empty", "", aud, false, true, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := compliance.CheckSAMLConfig(inv, tt.acs, tt.audience)
			if got[0].OK != tt.wantACSOK || got[1].OK != tt.wantAudOK {
				t.Fatalf("ok = %v/%v, want %v/%v: %+v", got[0].OK, got[1].OK, tt.wantACSOK, tt.wantAudOK, got)
			}
			if tt.fixHas != "" && !strings.Contains(got[0].Fix, tt.fixHas) {
				t.Errorf("fix = %q, want it to mention %q", got[0].Fix, tt.fixHas)
			}
		})
	}
}

// Sentry builds the SAML URLs from its own URL (build_saml_config in
// src/sentry/auth/providers/saml2/provider.py); on sentry.io that is
// https://sentry.io for every region (Sentry's SSO docs).
func TestSAMLEndpointsAreOnSentryIOForEveryRegionAndOnTheServerWhenSelfHosted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		hosting string
		want    string
	}{
		{"https://sentry.io", "", "https://sentry.io/saml/acs/acme/"},
		{"https://us.sentry.io", "", "https://sentry.io/saml/acs/acme/"},
		{"https://de.sentry.io/", "", "https://sentry.io/saml/acs/acme/"},
		{"https://acme.sentry.io", "", "https://sentry.io/saml/acs/acme/"},
		{"https://sentry-proxy.acme.internal", access.HostingSaaS, "https://sentry.io/saml/acs/acme/"},
		{"https://sentry.acme.internal/", access.HostingSelfHosted, "https://sentry.acme.internal/saml/acs/acme/"},
		{"http://127.0.0.1:9000", "", "http://127.0.0.1:9000/saml/acs/acme/"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			inv := inventory()
			inv.SentryURL = tt.url
			inv.Snapshot.Server.Hosting = tt.hosting
			e := compliance.Endpoints(inv)
			if e.ACS != tt.want || e.EntityID != strings.Replace(tt.want, "/acs/", "/metadata/", 1) || e.Host == "" {
				t.Errorf("endpoints = %+v, want ACS %s", e, tt.want)
			}
		})
	}
}

// The guides carry the attribute names Sentry's own providers expect.
func TestIdPGuidesFollowSentrysProviders(t *testing.T) {
	t.Parallel()
	inv := inventory()
	inv.SentryURL = "https://de.sentry.io"
	guides := map[string]compliance.IdPGuide{}
	for _, g := range compliance.Guides(compliance.Endpoints(inv)) {
		guides[g.ID] = g
	}
	attrs := func(id string) []string {
		var out []string
		for _, m := range guides[id].Mappings {
			out = append(out, m.Attribute)
		}
		return out
	}
	tests := []struct {
		id    string
		want  []string
		fixed bool
	}{
		// src/sentry/auth/providers/saml2/okta/provider.py
		{"okta", []string{"identifier", "email", "firstName", "lastName"}, true},
		// sentry-docs azure-sso.mdx: IdP User ID is the name claim
		{"entra", []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"}, false},
		// src/sentry/auth/providers/saml2/onelogin/provider.py
		{"onelogin", []string{"PersonImmutableID", "User.email", "User.FirstName", "User.LastName"}, true},
		// src/sentry/auth/providers/saml2/rippling/provider.py
		{"rippling", []string{"user_id", "urn:oid:1.2.840.113549.1.9.1.1", "first_name", "last_name"}, true},
		// Google's provider is OAuth: nothing to map
		{"google", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			g, ok := guides[tt.id]
			if !ok {
				t.Fatalf("no %s guide", tt.id)
			}
			if got := attrs(tt.id); !slices.Equal(got, tt.want) || g.FixedNames != tt.fixed {
				t.Errorf("attributes = %v (fixed %v), want %v (fixed %v)", got, g.FixedNames, tt.want, tt.fixed)
			}
			if len(g.Sources) == 0 {
				t.Error("no source cited")
			}
		})
	}
	entra := guides["entra"]
	if !slices.ContainsFunc(entra.Warnings, func(w string) bool { return strings.Contains(w, "every member must link") }) {
		t.Errorf("entra warnings = %v, want the re-link warning", entra.Warnings)
	}
	if !slices.ContainsFunc(entra.Fields, func(f compliance.Mapping) bool {
		return f.SentryField == "Reply URL (Assertion Consumer Service URL)" && f.IdPValue == "https://sentry.io/saml/acs/acme/"
	}) {
		t.Errorf("entra fields = %v, want the reply URL on sentry.io", entra.Fields)
	}
	if g := guides["google"]; g.Protocol == "SAML 2.0" || !slices.ContainsFunc(g.Notes, func(n string) bool { return strings.Contains(n, "gmail.com") }) {
		t.Errorf("google guide = %+v", g)
	}
}

func TestACannotSeeProjectDiagnosisOffersTheFixAsAChangeRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		member   string
		project  string
		problem  bool
		wantKind changes.Kind
		wantURL  string
	}{
		{"not on the linked team: add to it", "dee@acme.test", "payment-api", true, changes.KindTeamAdd, "/changes/new?email=dee%40acme.test&kind=team-add&member=4&project=payment-api&team=payments"},
		{"on the linked team: no problem", "cy@acme.test", "payment-api", false, "", ""},
		{"a manager reaches everything", "bo@acme.test", "orphan", false, "", ""},
		{"a project with no team: link one", "cy@acme.test", "orphan", true, changes.KindProjectLink, ""},
		{"a pending invite: nothing to request", "pat@acme.test", "payment-api", true, "", ""},
		{"only an idp-provisioned team is linked: through its SCIM group", "dee@acme.test", "sso-gateway", true, changes.KindSCIMGroupMembers, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := compliance.CannotSeeProject(snap(), tt.member, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			if d.Problem != tt.problem || len(d.Lines) == 0 || d.Fix == "" {
				t.Fatalf("got %+v, want problem %v with reasons and a fix", d, tt.problem)
			}
			if tt.wantKind == "" {
				if d.ChangeURL != "" {
					t.Errorf("change URL = %q, want none", d.ChangeURL)
				}
				return
			}
			if len(d.ChangeSteps) != 1 || d.ChangeSteps[0].Kind != tt.wantKind {
				t.Fatalf("steps = %+v, want %s", d.ChangeSteps, tt.wantKind)
			}
			if err := d.ChangeSteps[0].Validate(); err != nil {
				t.Errorf("step invalid: %v", err)
			}
			if tt.wantURL != "" && d.ChangeURL != tt.wantURL {
				t.Errorf("change URL = %q, want %q", d.ChangeURL, tt.wantURL)
			}
		})
	}
}

func TestA403DiagnosisNamesTheMissingScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		have     []string
		problem  bool
		fixHas   string
	}{
		{"audit-logs", []string{"org:read", "member:read"}, true, "org:write"},
		{"audit-logs", []string{"org:write"}, false, "role"},
		{"team-members", []string{"org:read"}, true, "team:read"},
		{"member-update", nil, true, "member:invite"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+" "+strings.Join(tt.have, ","), func(t *testing.T) {
			t.Parallel()
			d, err := compliance.DiagnoseForbidden(tt.endpoint, tt.have)
			if err != nil {
				t.Fatal(err)
			}
			if d.Problem != tt.problem || !strings.Contains(d.Fix, tt.fixHas) {
				t.Errorf("got problem %v fix %q; want %v and %q", d.Problem, d.Fix, tt.problem, tt.fixHas)
			}
		})
	}
	if _, err := compliance.DiagnoseForbidden("nope", nil); !compliance.IsUnknownEndpoint(err) {
		t.Errorf("unknown endpoint err = %v", err)
	}
}

func TestSCIMAndAuditAndRateLimitDiagnostics(t *testing.T) {
	t.Parallel()
	t.Run("a 401 on SCIM is explained as the wrong token type", func(t *testing.T) {
		inv := inventory()
		inv.Hidden[compliance.PartSCIMUsers] = "not visible with this credential: Sentry answered 401 to the SCIM token"
		d := compliance.SCIMDiagnostics(inv)[0]
		if !d.Problem || !strings.Contains(d.Fix, "SCIM Internal Integration") {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("groups not mapped to teams are listed", func(t *testing.T) {
		inv := inventory()
		inv.SCIMGroups = []sentry.SCIMGroup{{ID: "555", DisplayName: "Ghosts"}}
		ds := compliance.SCIMDiagnostics(inv)
		if len(ds) != 2 || !ds[1].Problem || !strings.Contains(strings.Join(ds[1].Lines, " "), "Ghosts") {
			t.Errorf("got %+v", ds)
		}
	})
	t.Run("an unreadable audit log names org:write", func(t *testing.T) {
		inv := inventory()
		inv.Hidden[compliance.PartAuditLog] = "not visible with this credential: Sentry answered 403"
		d := compliance.AuditLogDiagnosis(inv, 0)
		if !d.Problem || !strings.Contains(d.Fix, "org:write") {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("a readable but empty audit log points at the plan", func(t *testing.T) {
		d := compliance.AuditLogDiagnosis(inventory(), 0)
		if !d.Problem || !strings.Contains(d.Fix, "plan") {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("rate-limited syncs are counted and explained", func(t *testing.T) {
		h := []store.SyncStatus{{Error: "sentry: GET /members/: 429: sentry: rate limited", Stage: "members", Finished: now}, {OK: true}}
		d := compliance.RateLimitDiagnosis(h)
		if !d.Problem || !strings.Contains(d.Lines[0], "1 of the last 2") || !strings.Contains(d.Lines[0], "members") {
			t.Errorf("got %+v", d)
		}
		if d := compliance.RateLimitDiagnosis([]store.SyncStatus{{OK: true}}); d.Problem {
			t.Errorf("healthy history reported a problem: %+v", d)
		}
	})
}

// The naming finding says what the name should be, on the token's own
// name, and where to rename it.
func TestTheNamingFindingSuggestsAConcreteName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		tokens            []sentry.OrgAuthToken
		apps              []sentry.SentryApp
		subject           string
		wantName, wantFix string
	}{
		{name: "an integration", apps: []sentry.SentryApp{{Slug: "deploy-bot", Name: "Deploy Bot", Status: "internal"}},
			subject: "Deploy Bot", wantName: `"deploy-bot-prod"`, wantFix: "Custom Integrations → Deploy Bot"},
		{name: "an org auth token", tokens: []sentry.OrgAuthToken{{ID: "1", Name: "old-jenkins", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			subject: "old-jenkins", wantName: `"old-jenkins-prod"`, wantFix: "Settings → Auth Tokens"},
		{name: "a trailing environment is not doubled", tokens: []sentry.OrgAuthToken{{ID: "1", Name: "Sourcemaps Staging", Scopes: []string{"org:ci"}, DateCreated: days(1)}},
			subject: "Sourcemaps Staging", wantName: `"sourcemaps-prod"`, wantFix: "Settings → Auth Tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := inventory()
			inv.OrgAuthTokens, inv.SentryApps = tt.tokens, tt.apps
			f := find(compliance.TokenFindings(inv, now), compliance.RuleTokenNaming, tt.subject)
			if f.Rule == "" {
				t.Fatalf("no naming finding for %s", tt.subject)
			}
			if !strings.Contains(f.Detail, tt.wantName) || !strings.Contains(f.Fix, tt.wantName) {
				t.Errorf("finding does not suggest %s:\ndetail %s\nfix %s", tt.wantName, f.Detail, f.Fix)
			}
			if !strings.Contains(f.Fix, tt.wantFix) {
				t.Errorf("fix %q does not say where (%s)", f.Fix, tt.wantFix)
			}
		})
	}
}

// Sentry's SCIM Users list is every approved member (docs/sentry-access-model.md#scim), so the
// side-by-side's "provisioned" column, not "in the SCIM list", is what
// the not-provisioned finding follows: for every active member the two
// agree, and being in the SCIM list changes neither.
func TestTheSCIMTableAndTheNotProvisionedFindingAgree(t *testing.T) {
	t.Parallel()
	inv := inventory()
	for _, m := range inv.Snapshot.Members {
		if m.State != access.StateExpired {
			inv.SCIMUsers = append(inv.SCIMUsers, sentry.SCIMUser{ID: m.ID, UserName: m.Email})
		}
	}
	inv.Snapshot.Members[2].Flags.IDPProvisioned = false // cy: added in Sentry, yet listed by SCIM
	findings := compliance.DriftFindings(inv, now)
	rows, _ := compliance.SCIMSideBySide(inv)
	tests := []struct {
		email           string
		wantProvisioned bool
	}{
		{"ana@acme.test", false}, // owner: informational finding
		{"bo@acme.test", true},
		{"cy@acme.test", false},
		{"dee@acme.test", true},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			i := slices.IndexFunc(rows, func(r compliance.SCIMRow) bool { return r.Email == tt.email })
			if i < 0 {
				t.Fatalf("no row for %s", tt.email)
			}
			row := rows[i]
			if !row.SCIMUser {
				t.Errorf("row says %s is not in the SCIM list, which lists every approved member", tt.email)
			}
			if row.Provisioned != tt.wantProvisioned {
				t.Errorf("provisioned column %v, want %v", row.Provisioned, tt.wantProvisioned)
			}
			if got := has(findings, compliance.RuleNotProvisioned, tt.email); got != !row.Provisioned {
				t.Errorf("not-provisioned finding %v next to provisioned column %v", got, row.Provisioned)
			}
		})
	}
}

// TestTheTroubleshooterNamesTheCause: when the member limit or the SSO
// requirement is what stops a member, the diagnosis names it and does not
// advise a team change, which would not help.
func TestTheTroubleshooterNamesTheCause(t *testing.T) {
	t.Parallel()
	s := snap()
	s.Members = append(s.Members,
		access.Member{ID: "7", Email: "uma@acme.test", OrgRole: "member", State: access.StateActive,
			Flags: access.MemberFlags{SSOLinked: true, MemberLimitRestricted: true}, Teams: []access.Membership{{Team: "payments"}}},
		access.Member{ID: "8", Email: "sam@acme.test", OrgRole: "member", State: access.StateActive, Teams: []access.Membership{{Team: "payments"}}},
		access.Member{ID: "9", Email: "ivy@acme.test", OrgRole: "member", State: access.StateActive,
			Flags: access.MemberFlags{SSOLinked: true, SSOInvalid: true}, Teams: []access.Membership{{Team: "payments"}}},
	)
	tests := []struct {
		name, member string
		want         []string // in the lines and the fix
		notInFix     string
	}{
		{"over the member limit", "uma@acme.test", []string{"member limit", "free a seat", "would not help"}, "Add the member to team"},
		{"SSO required and not linked", "sam@acme.test", []string{"requires SSO", "has not linked an SSO identity", "sign in to Sentry once through the organization's SSO login"}, "Add the member to team"},
		{"SSO link no longer valid", "ivy@acme.test", []string{"no longer valid", "SSO login"}, "Add the member to team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := compliance.CannotSeeProject(s, tt.member, "payment-api")
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(d.Lines, " ") + " " + d.Fix
			if !d.Problem || d.ChangeURL != "" {
				t.Errorf("problem %v, change %q: want a problem with no change request", d.Problem, d.ChangeURL)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("diagnosis %q lacks %q", all, w)
				}
			}
			if strings.Contains(d.Fix, tt.notInFix) || !strings.Contains(d.Fix, tt.member) {
				t.Errorf("fix %q, want it to name %s and not %q", d.Fix, tt.member, tt.notInFix)
			}
		})
	}
	t.Run("the only owner with SSO is not stopped by it", func(t *testing.T) {
		t.Parallel()
		s := snap()
		s.Members[0].Flags.SSOLinked = false // ana, the only owner
		d, err := compliance.CannotSeeProject(s, "ana@acme.test", "payment-api")
		if err != nil {
			t.Fatal(err)
		}
		if d.Problem {
			t.Errorf("diagnosis %+v, want no problem: Sentry lets the only owner through without SSO", d)
		}
	})
}

func TestPostureChecksOnAnAssumedSettingSaySo(t *testing.T) {
	t.Parallel()
	inv := inventory()
	inv.Snapshot.Server.Fields = []access.FieldSource{
		{Field: "require2FA", Provenance: access.Assumed, Value: "off", Note: "the require_2fa flag's default"},
		{Field: "openMembership", Provenance: access.Detected, Value: "off"},
	}
	got := map[string]compliance.PostureCheck{}
	for _, c := range compliance.Posture(inv) {
		got[c.ID] = c
	}
	if a := got["2fa-required"].Assumed; !strings.Contains(a, "require2FA") || !strings.Contains(a, "off") {
		t.Errorf("2fa-required assumed = %q", a)
	}
	inv.Snapshot.Server.Fields = append(inv.Snapshot.Server.Fields,
		access.FieldSource{Field: "allowJoinRequests", Provenance: access.Assumed, Value: "on", Note: "the sentry:join_requests default"})
	for _, c := range compliance.Posture(inv) {
		got[c.ID] = c
	}
	if a := got["join-requests"].Assumed; !strings.Contains(a, "allowJoinRequests") {
		t.Errorf("join-requests assumed = %q", a)
	}
	if a := got["open-membership"].Assumed; a != "" {
		t.Errorf("open-membership assumed = %q, want none (detected)", a)
	}
}
