package sentrysim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// GenOptions size a generated organization.
type GenOptions struct {
	Members  int
	Teams    int
	Projects int
	Seed     int64
}

// Generate builds a deterministic large organization (same options, same
// fixture): members in every org role with about three teams each, projects
// with two teams each, closed membership, SAML with SCIM, and the demo
// credentials (DemoOwnerToken, DemoSCIMToken, DemoIntegrationToken,
// DemoCIToken) so the same printed tokens work.
func Generate(o GenOptions) *Fixture {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(o.Seed)*31+7))
	now := DemoEpoch()
	created := now.Add(-3 * 365 * 24 * time.Hour)
	nTeams, nMembers := max(o.Teams, 1), max(o.Members, 1)
	fx := &Fixture{
		Org: OrgFixture{ID: 1, Slug: DemoOrgSlug, Name: "Acme Generated", DateCreated: created,
			OpenMembership: ptr(false)},
		AuthProvider: &AuthProviderFixture{Provider: "saml2", RequireLink: true, SCIMEnabled: true, SCIMToken: DemoSCIMToken},
		Teams:        make([]TeamFixture, 0, nTeams),
		Projects:     make([]ProjectFixture, 0, o.Projects),
		Members:      make([]MemberFixture, 0, nMembers),
	}
	for i := range nTeams {
		fx.Teams = append(fx.Teams, TeamFixture{ID: int64(1_000_000 + i), Slug: fmt.Sprintf("team-%05d", i),
			Name: fmt.Sprintf("Team %05d", i), DateCreated: created, IDPProvisioned: i%50 == 49})
	}
	// pick returns k distinct team slugs.
	pick := func(k int) []string {
		k = min(k, nTeams)
		seen := make(map[int]bool, k)
		out := make([]string, 0, k)
		for len(out) < k {
			n := rng.IntN(nTeams)
			if !seen[n] {
				seen[n] = true
				out = append(out, fx.Teams[n].Slug)
			}
		}
		return out
	}
	platforms := []string{"go", "python", "javascript", "java", "node", "rust", "php"}
	for i := range o.Projects {
		fx.Projects = append(fx.Projects, ProjectFixture{ID: int64(2_000_000 + i), Slug: fmt.Sprintf("project-%05d", i),
			Platform: platforms[i%len(platforms)], Teams: pick(2), DateCreated: created})
	}
	for i := range nMembers {
		role := "member"
		switch r := rng.IntN(100); {
		case i == 0 || r == 0:
			role = "owner"
		case r < 4:
			role = "manager"
		case r < 6:
			role = "billing"
		case r < 7:
			role = "admin"
		}
		m := MemberFixture{ID: int64(3_000_000 + i), UserID: int64(4_000_000 + i),
			Email: fmt.Sprintf("user%05d@acme.test", i), Name: fmt.Sprintf("User %05d", i), Role: role,
			Has2FA: rng.IntN(3) > 0, DateCreated: created.Add(time.Duration(rng.IntN(900)) * 24 * time.Hour)}
		if i > 0 && rng.IntN(100) < 3 {
			m.Pending = true
		} else {
			m.LastLogin = ptr(now.Add(-time.Duration(rng.IntN(400*24)) * time.Hour))
		}
		if rng.IntN(10) < 8 {
			m.Flags = append(m.Flags, "sso:linked")
		}
		if rng.IntN(10) < 4 {
			m.Flags = append(m.Flags, "idp:provisioned")
		}
		if role != "billing" {
			for _, slug := range pick(1 + rng.IntN(5)) {
				tm := TeamMembership{Team: slug}
				if rng.IntN(10) == 0 {
					tm.Role = "admin"
				}
				m.Teams = append(m.Teams, tm)
			}
		}
		fx.Members = append(fx.Members, m)
	}
	owner := fx.Members[0].Email
	fx.UserTokens = []UserTokenFixture{{Name: "sentry-access", Token: DemoOwnerToken, Member: owner,
		Scopes: dashboardScopes(), DateCreated: created}}
	fx.Integrations = []IntegrationFixture{{Slug: "access-sync", Name: "Access Sync",
		UUID: "a1c3e5f7-0000-4000-8000-000000000001", Tokens: []string{DemoIntegrationToken},
		Scopes: []string{"org:read", "org:write", "org:admin", "member:read", "member:write", "member:admin",
			"team:read", "team:write", "team:admin", "project:read", "project:write", "project:admin"}}}
	fx.OrgAuthTokens = []OrgAuthTokenFixture{{ID: 300, Name: "ci-releases", Token: DemoCIToken, DateCreated: created}}
	for i := range 500 {
		m := fx.Members[rng.IntN(len(fx.Members))]
		fx.AuditLog = append(fx.AuditLog, AuditEntryFixture{Event: "member.invite", Actor: owner, TargetObject: m.ID,
			TargetUser: m.Email, Note: "invited member " + m.Email, Data: map[string]any{"email": m.Email, "role": m.Role},
			DateCreated: now.Add(-time.Duration(i*17) * time.Hour)})
	}
	return fx
}
