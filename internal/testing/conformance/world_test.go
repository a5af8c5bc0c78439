package conformance

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// The world is the organization Sentry's endpoint tests build
// (tests/sentry/core/endpoints/test_organization_member_team_details.py,
// OrganizationMemberTeamTestBase, and the UpdateOrganizationMemberTest
// setUp of test_organization_member_details.py): one person per role, on
// and off the team, plus invites, an IdP-provisioned team and member and a
// partnership member. Every case gets a fresh simulator of it.

const orgSlug = "acme"

// person is one organization member of the world.
type person struct {
	name  string
	id    int64
	role  string
	teams []sentrysim.TeamMembership
	// pending invites have no user; inviter names the person who sent it.
	pending bool
	inviter string
	flags   []string
	// status is the invite status (approved when empty).
	status string
}

func on(team string) []sentrysim.TeamMembership {
	return []sentrysim.TeamMembership{{Team: team}}
}

// people are the world's members, by the names Sentry's tests use.
func people() []person {
	return []person{
		{name: "owner", id: 1, role: "owner"},
		{name: "manager", id: 2, role: "manager"},
		{name: "admin", id: 3, role: "admin"},
		{name: "member", id: 4, role: "member"},
		{name: "member_on_team", id: 5, role: "member", teams: on("team")},
		{name: "admin_on_team", id: 6, role: "admin", teams: on("team")},
		{name: "manager_on_team", id: 7, role: "manager", teams: on("team")},
		{name: "owner_on_team", id: 8, role: "owner", teams: on("team")},
		{name: "team_admin", id: 9, role: "member", teams: []sentrysim.TeamMembership{{Team: "team", Role: "admin"}}},
		{name: "other_member", id: 10, role: "member"},
		{name: "invite", id: 11, role: "member", pending: true, inviter: "owner"},
		{name: "member_invite", id: 12, role: "member", pending: true, inviter: "member"},
		{name: "idp_member", id: 13, role: "member", flags: []string{"idp:provisioned"}},
		{name: "partner", id: 14, role: "member", flags: []string{"partnership:restricted"}},
		{name: "billing", id: 15, role: "billing"},
		{name: "join_request", id: 16, role: "member", pending: true, status: "requested_to_join"},
		{name: "on_idp_team", id: 17, role: "member", teams: on("idp-team")},
		{name: "member_on_team2", id: 18, role: "member", teams: on("team")},
	}
}

func emailOf(name string) string { return strings.ReplaceAll(name, "_", ".") + "@example.com" }

// allScopes is SENTRY_SCOPES (src/sentry/conf/server.py): a user token
// listing them all acts with exactly its member's role scopes.
func allScopes() []string {
	return []string{"org:read", "org:write", "org:admin", "org:integrations", "org:ci", "member:invite",
		"member:read", "member:write", "member:admin", "team:read", "team:write", "team:admin",
		"project:read", "project:write", "project:admin", "project:releases", "project:distribution",
		"event:read", "event:write", "event:admin", "alerts:read", "alerts:write", "openid", "profile", "email"}
}

// opts are the organization settings a case runs under.
type opts struct {
	closed bool // open membership off (Sentry's default is on)
	// only keeps just these people (e.g. a single owner).
	only []string
	// tweak edits the fixture last.
	tweak func(*sentrysim.Fixture)
}

func ptr[T any](v T) *T { return &v }

var epoch = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// scimToken is the SCIM bearer token of the world.
const scimToken = "scim-token"

// build returns the world's fixture with the credentials the actors need.
// An actor is a person's name (a user token with every scope), a name with
// a scope list "owner[org:read team:write]" (a user token with just those),
// "integration[scopes]" (an internal integration's token), "scim" or
// "orgtoken" (an org auth token).
func build(o opts, actors ...string) *sentrysim.Fixture {
	fx := &sentrysim.Fixture{
		Org: sentrysim.OrgFixture{ID: 1, Slug: orgSlug, Name: "Acme", DateCreated: epoch.Add(-time.Hour),
			OpenMembership: ptr(!o.closed)},
		Teams: []sentrysim.TeamFixture{
			{ID: 100, Slug: "team", Name: "Team"},
			{ID: 101, Slug: "idp-team", Name: "IdP Team", IDPProvisioned: true},
			{ID: 102, Slug: "other-team", Name: "Other Team"},
		},
		Projects: []sentrysim.ProjectFixture{
			{ID: 200, Slug: "project", Teams: []string{"team"}},
			{ID: 201, Slug: "other-project", Teams: []string{"other-team"}},
			{ID: 202, Slug: "orphan"},
		},
		AuthProvider: &sentrysim.AuthProviderFixture{Provider: "saml2", SCIMEnabled: true, SCIMToken: scimToken},
		OrgAuthTokens: []sentrysim.OrgAuthTokenFixture{
			{ID: 300, Name: "ci", Token: "sntrys_ci"},
		},
	}
	for _, p := range people() {
		if len(o.only) > 0 && !slices.Contains(o.only, p.name) {
			continue
		}
		m := sentrysim.MemberFixture{ID: p.id, UserID: 1000 + p.id, Email: emailOf(p.name), Name: p.name,
			Role: p.role, Pending: p.pending, Flags: p.flags, Teams: p.teams, InviteStatus: p.status,
			DateCreated: epoch.Add(-time.Hour)}
		if p.inviter != "" && (len(o.only) == 0 || slices.Contains(o.only, p.inviter)) {
			m.Inviter = emailOf(p.inviter)
		}
		fx.Members = append(fx.Members, m)
	}
	seen := map[string]bool{}
	for _, a := range actors {
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		name, scopes := parseActor(a)
		switch name {
		case "scim", "orgtoken", "anonymous":
		case "integration":
			fx.Integrations = append(fx.Integrations, sentrysim.IntegrationFixture{
				Slug: fmt.Sprintf("app-%d", len(fx.Integrations)), Scopes: scopes, Tokens: []string{tokenOf(a)}})
		default:
			if len(o.only) > 0 && !slices.Contains(o.only, name) {
				continue
			}
			if scopes == nil {
				scopes = allScopes()
			}
			fx.UserTokens = append(fx.UserTokens, sentrysim.UserTokenFixture{Name: a, Token: tokenOf(a),
				Member: emailOf(name), Scopes: scopes})
		}
	}
	if o.tweak != nil {
		o.tweak(fx)
	}
	return fx
}

// parseActor splits "name[s1 s2]" into the name and the scopes (nil when
// no list is given).
func parseActor(a string) (string, []string) {
	name, rest, ok := strings.Cut(a, "[")
	if !ok {
		return a, nil
	}
	return name, strings.Fields(strings.TrimSuffix(rest, "]"))
}

// tokenOf is the bearer token of an actor.
func tokenOf(a string) string {
	switch a {
	case "scim":
		return scimToken
	case "orgtoken":
		return "sntrys_ci"
	case "anonymous":
		return ""
	}
	return "tok-" + strings.NewReplacer("[", "-", "]", "", " ", "-", ":", "_").Replace(a)
}

// idOf is the member id of a person, for paths.
func idOf(name string) string {
	for _, p := range people() {
		if p.name == name {
			return fmt.Sprint(p.id)
		}
	}
	panic("conformance: no person " + name)
}

// expand replaces {org}, {m:name} (a member id) and {t:slug} (a team id)
// in a path.
func expand(path string) string {
	var b strings.Builder
	for {
		i := strings.Index(path, "{")
		if i < 0 {
			b.WriteString(path)
			return b.String()
		}
		j := strings.Index(path[i:], "}")
		b.WriteString(path[:i])
		key := path[i+1 : i+j]
		path = path[i+j+1:]
		switch {
		case key == "org":
			b.WriteString(orgSlug)
		case strings.HasPrefix(key, "m:"):
			b.WriteString(idOf(key[2:]))
		case strings.HasPrefix(key, "t:"):
			b.WriteString(map[string]string{"team": "100", "idp-team": "101", "other-team": "102"}[key[2:]])
		default:
			panic("conformance: unknown placeholder " + key)
		}
	}
}

// noMemberInvite turns allowMemberInvite off (disable_member_invite).
func noMemberInvite(fx *sentrysim.Fixture) { fx.Org.AllowMemberInvite = ptr(false) }

// noAuthProvider removes SSO (and so SCIM).
func noAuthProvider(fx *sentrysim.Fixture) { fx.AuthProvider = nil }

// noSCIM keeps SSO but turns SCIM off.
func noSCIM(fx *sentrysim.Fixture) {
	fx.AuthProvider.SCIMEnabled = false
	fx.AuthProvider.SCIMToken = ""
}

// restrict flags a person idp:role-restricted.
func restrict(name string) func(*sentrysim.Fixture) {
	return func(fx *sentrysim.Fixture) {
		for i := range fx.Members {
			if fx.Members[i].Email == emailOf(name) {
				fx.Members[i].Flags = append(fx.Members[i].Flags, "idp:role-restricted")
			}
		}
	}
}

// urlq escapes a query value.
func urlq(v string) string { return url.QueryEscape(v) }
