package sentrysim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Well-known demo credentials. They only work against the simulator.
const (
	// DemoOrgSlug is the slug of the demo organization.
	DemoOrgSlug = "acme"
	// DemoOwnerEmail is the demo owner, whose token DemoOwnerToken is.
	DemoOwnerEmail = "olivia.owner@acme.test"
	// DemoOwnerToken is a user auth token of the demo owner with every
	// scope the dashboard needs (member:invite and member:admin included).
	DemoOwnerToken = "sntryu_demo_owner_00000000000000000000000000000000000000000000000001"
	// DemoManagerToken is a user auth token of a manager.
	DemoManagerToken = "sntryu_demo_manager_000000000000000000000000000000000000000000000002"
	// DemoMemberToken is a user auth token of a plain member (Team Admin of
	// payments).
	DemoMemberToken = "sntryu_demo_member_0000000000000000000000000000000000000000000000003"
	// DemoIntegrationToken is a token of the broad "Access Sync" internal
	// integration (org:admin and friends).
	DemoIntegrationToken = "demo_integration_access_sync_000000000000000000000000000000000000004"
	// DemoDeployBotToken is a token of the narrow "Deploy Bot" integration.
	DemoDeployBotToken = "demo_integration_deploy_bot_0000000000000000000000000000000000000005"
	// DemoCIToken is an organization auth token (org:ci only).
	DemoCIToken = "sntrys_demo_ci_releases_000000000000000000000000000000000000000000006"
	// DemoSCIMToken is the SCIM bearer token of the demo organization.
	DemoSCIMToken = "demo_scim_token_00000000000000000000000000000000000000000000000000007"
)

// DemoEpoch is the moment DemoFixture is built around.
func DemoEpoch() time.Time { return time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC) }

// DemoFixture returns the demo organization "acme" as of DemoEpoch.
func DemoFixture() *Fixture { return DemoFixtureAt(DemoEpoch()) }

// dashboardScopes are the scopes a dashboard user token should list, with
// every implied scope spelled out (docs/sentry-access-model.md#scopes).
func dashboardScopes() []string {
	return []string{"org:read", "org:write", "org:admin", "member:read", "member:write", "member:admin",
		"member:invite", "team:read", "team:write", "team:admin", "project:read", "project:write",
		"project:admin", "event:read", "alerts:read"}
}

type demoPerson struct {
	name    string
	role    string
	teams   string // "payments:admin,backend-eng" (no role = stored null)
	flags   string // "sso:linked idp:provisioned"
	state   string // "", "pending", "expired", "join-request"
	has2fa  bool
	lastDay int // days before now of last login; -1 = never
}

func demoPeople() []demoPerson {
	return []demoPerson{
		{"Olivia Owner", "owner", "platform", "sso:linked", "", true, 0},
		{"Omar Owens", "owner", "", "sso:linked", "", true, 12},
		{"Maya Manager", "manager", "payments,identity", "sso:linked", "", true, 1},
		{"Marco Mendes", "manager", "backend-eng", "sso:linked idp:provisioned", "", true, 3},
		{"Mina Matsuda", "manager", "", "sso:linked", "", false, 40},
		{"Bill Banks", "billing", "", "sso:linked", "", false, 20},
		{"Bea Budget", "billing", "", "", "", false, 90},
		{"Adam Legacy", "admin", "platform,backend-eng:admin", "sso:linked", "", true, 5},
		{"Ada Oldtimer", "admin", "notifications", "", "", false, 300},
		{"Priya Patel", "member", "payments:admin,backend-eng", "sso:linked idp:provisioned", "", true, 0},
		{"Ivan Ivanov", "member", "identity:admin", "sso:linked idp:provisioned", "", true, 2},
		{"Nina Novak", "member", "notifications:admin", "sso:linked", "", true, 4},
		{"Pete Platt", "member", "platform:admin,backend-eng", "sso:linked idp:provisioned", "", true, 1},
		{"Carla Contreras", "member", "contractors-q1:admin", "", "", false, 15},
		{"Paul Payne", "member", "payments", "sso:linked idp:provisioned", "", true, 6},
		{"Paula Pierce", "member", "payments:contributor", "sso:linked", "", false, 9},
		{"Pavel Petrov", "member", "payments,backend-eng", "sso:linked idp:provisioned", "", true, 2},
		{"Irene Ito", "member", "identity", "sso:linked", "", true, 7},
		{"Isaac Irving", "member", "identity,backend-eng", "sso:linked idp:provisioned idp:role-restricted", "", true, 11},
		{"Noah Nash", "member", "notifications", "sso:linked", "", false, 30},
		{"Nora Nieves", "member", "notifications,platform", "sso:linked", "", true, 8},
		{"Pia Pohl", "member", "platform", "sso:linked", "", true, 14},
		{"Ben Becker", "member", "backend-eng", "sso:linked idp:provisioned", "", true, 3},
		{"Bo Brandt", "member", "backend-eng,payments", "sso:linked", "", true, 21},
		{"Cody Cruz", "member", "contractors-q1", "", "", false, 45},
		{"Cleo Chan", "member", "contractors-q1", "sso:invalid", "", false, 120},
		{"Dana Doyle", "member", "", "sso:linked", "", true, 60},
		{"Eli Evans", "member", "", "", "", false, 200},
		{"Fay Fischer", "member", "identity,notifications", "sso:linked", "", true, 5},
		{"Gus Grant", "member", "platform,backend-eng", "sso:linked", "", false, 33},
		{"Hana Hart", "member", "payments", "sso:linked idp:provisioned", "", true, 1},
		{"Jon Jensen", "member", "", "", "", false, -1},
		{"Kim Kato", "member", "mobile", "sso:linked", "", true, 2},
		{"Leo Lund", "member", "mobile,contractors-q1", "sso:linked", "", false, 18},
		{"Uma Underwood", "member", "", "member-limit:restricted", "", false, 400},
		{"Val Vance", "member", "payments", "", "pending", false, -1},
		{"Wes Wong", "member", "identity", "idp:provisioned", "pending", false, -1},
		{"Xena Xu", "manager", "", "", "pending", false, -1},
		{"Yuri Yates", "member", "contractors-q1", "", "expired", false, -1},
		{"Zoe Zhang", "member", "", "", "expired", false, -1},
		{"Quinn Quest", "member", "", "", "join-request", false, -1},
	}
}

func emailOf(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@acme.test"
}

func ptr[T any](v T) *T { return &v }

// DemoFixtureAt returns the demo organization with dates relative to now:
// closed membership, six main teams, eighteen projects, about forty members
// in every org role, three internal integrations, org auth tokens (one
// stale), SAML with SCIM, and a year of audit entries.
func DemoFixtureAt(now time.Time) *Fixture {
	day := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	created := day(3 * 365)
	fx := &Fixture{
		Org: OrgFixture{ID: 1, Slug: DemoOrgSlug, Name: "Acme Corp", DateCreated: created,
			OpenMembership: ptr(false), AllowMemberInvite: ptr(true), AllowMemberProjectCreation: ptr(false),
			EventsMemberAdmin: ptr(true), AlertsMemberWrite: ptr(true), AllowJoinRequests: ptr(true)},
		AuthProvider: &AuthProviderFixture{Provider: "saml2", RequireLink: true, DefaultRole: "member",
			SCIMEnabled: true, SCIMToken: DemoSCIMToken},
	}
	teams := []struct{ slug, name string }{
		{"payments", "Payments"}, {"identity", "Identity"}, {"notifications", "Notifications"},
		{"platform", "Platform"}, {"backend-eng", "Backend Engineering"}, {"contractors-q1", "Contractors Q1"},
		{"mobile", "Mobile"},
	}
	for i, t := range teams {
		fx.Teams = append(fx.Teams, TeamFixture{ID: int64(100 + i), Slug: t.slug, Name: t.name,
			DateCreated: created.Add(time.Duration(i) * 24 * time.Hour), IDPProvisioned: t.slug == "identity"})
	}
	projects := []struct{ slug, platform, teams string }{
		{"payment-api", "go", "payments,backend-eng"}, {"billing-worker", "python", "payments"},
		{"checkout-web", "javascript-react", "payments,contractors-q1"}, {"fraud-detector", "python", "payments"},
		{"invoice-service", "java", "payments"}, {"auth-service", "go", "identity,backend-eng"},
		{"sso-gateway", "go", "identity"}, {"user-profile", "python-django", "identity"},
		{"email-dispatcher", "node", "notifications"}, {"push-service", "node", "notifications"},
		{"sms-gateway", "go", "notifications"}, {"infra-terraform", "other", "platform"},
		{"k8s-operator", "go", "platform"}, {"api-gateway", "go", "platform,backend-eng"},
		{"search-indexer", "rust", "backend-eng"}, {"data-pipeline", "python", "backend-eng"},
		{"mobile-redesign", "react-native", "mobile,contractors-q1"}, {"legacy-monolith", "php", ""},
	}
	for i, p := range projects {
		var ts []string
		if p.teams != "" {
			ts = strings.Split(p.teams, ",")
		}
		fx.Projects = append(fx.Projects, ProjectFixture{ID: int64(200 + i), Slug: p.slug, Name: p.slug,
			Platform: p.platform, Teams: ts, DateCreated: created.Add(time.Duration(10+i*20) * 24 * time.Hour)})
	}
	for i, p := range demoPeople() {
		m := MemberFixture{ID: int64(1000 + i), UserID: int64(5000 + i), Email: emailOf(p.name), Name: p.name,
			Role: p.role, Has2FA: p.has2fa, DateCreated: created.Add(time.Duration(i*17) * 24 * time.Hour)}
		if p.flags != "" {
			m.Flags = strings.Fields(p.flags)
		}
		switch p.state {
		case "pending":
			m.Pending, m.Inviter = true, DemoOwnerEmail
			m.DateCreated = day(3 + i%5)
		case "expired":
			m.Pending, m.Expired, m.Inviter = true, true, emailOf("Maya Manager")
			m.DateCreated = day(45 + i)
		case "join-request":
			m.Pending, m.InviteStatus = true, "requested_to_join"
			m.DateCreated = day(2)
		}
		if p.lastDay >= 0 {
			m.LastLogin = ptr(day(p.lastDay).Add(-3 * time.Hour))
		}
		if p.teams != "" {
			for _, t := range strings.Split(p.teams, ",") {
				slug, role, _ := strings.Cut(t, ":")
				m.Teams = append(m.Teams, TeamMembership{Team: slug, Role: role})
			}
		}
		fx.Members = append(fx.Members, m)
	}
	fx.Integrations = []IntegrationFixture{
		{UUID: "a1c3e5f7-0000-4000-8000-000000000001", Slug: "access-sync", Name: "Access Sync",
			Scopes: []string{"org:read", "org:write", "org:admin", "member:read", "member:write", "member:admin",
				"team:read", "team:write", "team:admin", "project:read", "project:write", "project:admin"},
			Tokens: []string{DemoIntegrationToken}, DateCreated: day(400)},
		{UUID: "b2d4f6a8-0000-4000-8000-000000000002", Slug: "deploy-bot", Name: "Deploy Bot",
			Scopes: []string{"org:read", "project:read", "project:releases"}, Events: []string{"issue"},
			Tokens: []string{DemoDeployBotToken}, DateCreated: day(700)},
		{UUID: "c3e5a7b9-0000-4000-8000-000000000003", Slug: "pagerduty-bridge", Name: "PagerDuty Bridge",
			Scopes: []string{"event:read", "event:write", "alerts:read"}, Events: []string{"error", "issue"},
			Tokens: []string{"demo_integration_pagerduty_00000000000000000000000000000000000000008"}, DateCreated: day(150)},
	}
	fx.OrgAuthTokens = []OrgAuthTokenFixture{
		{ID: 300, Name: "ci-releases", Token: DemoCIToken, DateCreated: day(500), DateLastUsed: ptr(day(2)),
			ProjectLastUsed: "payment-api"},
		{ID: 301, Name: "old-jenkins", Token: "sntrys_demo_old_jenkins_00000000000000000000000000000000000000000009",
			DateCreated: day(900), DateLastUsed: ptr(day(210)), ProjectLastUsed: "legacy-monolith"},
		{ID: 302, Name: "sourcemaps-upload", Token: "sntrys_demo_sourcemaps_0000000000000000000000000000000000000000010",
			DateCreated: day(30)},
	}
	fx.UserTokens = []UserTokenFixture{
		{Name: "sentry-access (owner)", Token: DemoOwnerToken, Member: DemoOwnerEmail, Scopes: dashboardScopes(), DateCreated: day(10)},
		{Name: "sentry-access (manager)", Token: DemoManagerToken, Member: emailOf("Maya Manager"), Scopes: dashboardScopes(), DateCreated: day(10)},
		{Name: "cli", Token: DemoMemberToken, Member: emailOf("Priya Patel"), Scopes: dashboardScopes(), DateCreated: day(10)},
	}
	fx.AccessRequests = []AccessRequestFixture{
		{Member: emailOf("Dana Doyle"), Team: "payments"},
		{Member: emailOf("Cody Cruz"), Team: "mobile", Requester: emailOf("Carla Contreras")},
		{Member: emailOf("Noah Nash"), Team: "platform"},
	}
	fx.AuditLog = demoAudit(fx, now)
	return fx
}

// demoAudit builds a year of deterministic audit entries.
func demoAudit(fx *Fixture, now time.Time) []AuditEntryFixture {
	rng := rand.New(rand.NewPCG(42, 4242))
	var out []AuditEntryFixture
	actors := []string{DemoOwnerEmail, emailOf("Omar Owens"), emailOf("Maya Manager"), emailOf("Marco Mendes"),
		emailOf("Priya Patel"), emailOf("Ivan Ivanov")}
	for i, t := range fx.Teams {
		out = append(out, AuditEntryFixture{Event: "team.create", Actor: DemoOwnerEmail, TargetObject: t.ID,
			Note: "created team " + t.Slug, Data: map[string]any{"id": t.ID, "slug": t.Slug, "name": t.Name},
			DateCreated: now.Add(-time.Duration(365-i) * 24 * time.Hour)})
	}
	for d := 360; d > 0; d -= 1 + rng.IntN(3) {
		at := now.Add(-time.Duration(d)*24*time.Hour + time.Duration(rng.IntN(86400))*time.Second)
		actor := actors[rng.IntN(len(actors))]
		m := fx.Members[rng.IntN(len(fx.Members))]
		t := fx.Teams[rng.IntN(len(fx.Teams))]
		p := fx.Projects[rng.IntN(len(fx.Projects))]
		var e AuditEntryFixture
		switch k := rng.IntN(10); k {
		case 0, 1:
			e = AuditEntryFixture{Event: "member.invite", TargetObject: m.ID, TargetUser: m.Email,
				Note: "invited member " + m.Email, Data: map[string]any{"email": m.Email, "role": m.Role}}
		case 2:
			e = AuditEntryFixture{Event: "member.edit", TargetObject: m.ID, TargetUser: m.Email,
				Note: fmt.Sprintf("edited member %s (role %s)", m.Email, m.Role), Data: map[string]any{"email": m.Email, "role": m.Role}}
		case 3, 4:
			e = AuditEntryFixture{Event: "member.join-team", TargetObject: m.ID, TargetUser: m.Email,
				Note: fmt.Sprintf("added member %s to team %s", m.Email, t.Slug), Data: map[string]any{"team_slug": t.Slug, "email": m.Email}}
		case 5:
			e = AuditEntryFixture{Event: "project-team.add", TargetObject: p.ID,
				Note: fmt.Sprintf("added team %s to project %s", t.Slug, p.Slug), Data: map[string]any{"team_slug": t.Slug, "project_slug": p.Slug}}
		case 6:
			e = AuditEntryFixture{Event: "member.leave-team", TargetObject: m.ID, TargetUser: m.Email,
				Note: fmt.Sprintf("removed member %s from team %s", m.Email, t.Slug), Data: map[string]any{"team_slug": t.Slug, "email": m.Email}}
		case 7:
			e = AuditEntryFixture{Event: "org-auth-token.create", TargetObject: 300 + int64(rng.IntN(3)),
				Note: "created org auth token", Data: map[string]any{"name": "ci-token"}}
		case 8:
			in := fx.Integrations[rng.IntN(len(fx.Integrations))]
			e = AuditEntryFixture{Event: "internal-integration.add-token", Note: "added a token to " + in.Name,
				Data: map[string]any{"sentry_app": in.Name}}
		default:
			in := fx.Integrations[rng.IntN(len(fx.Integrations))]
			e = AuditEntryFixture{Event: "sentry-app.install", Note: "installed " + in.Name,
				Data: map[string]any{"sentry_app": in.Name}}
		}
		e.Actor = actor
		e.DateCreated = at.Truncate(time.Second)
		e.IPAddress = fmt.Sprintf("10.0.%d.%d", rng.IntN(4), 1+rng.IntN(250))
		out = append(out, e)
	}
	return out
}
