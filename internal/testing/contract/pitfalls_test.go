package contract

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// One test per trap of docs/sentry-access-model.md#pitfalls. Each fails if either the client or
// the simulator gets the rule wrong.

func TestPitfall01_OrgAuthTokenCarriesOnlyOrgCI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})

	// Simulator: an org auth token (sntrys_) has org:ci only, so a member
	// listing is forbidden.
	s.do(t, "GET", orgPath+"/members/", sentrysim.DemoCIToken, nil).want(t, http.StatusForbidden)

	// Client: the error says so and names the scopes the endpoint needs.
	ci := newClient(t, s.url, sentrysim.DemoCIToken, clientOpts{})
	_, err := ci.ListMembers(ctx, sentry.MemberQuery{})
	var apiErr *sentry.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, sentry.ErrForbidden) {
		t.Fatalf("ListMembers with an org auth token: err = %v, want ErrForbidden", err)
	}
	if want := []string{"member:read", "member:write", "member:admin"}; !slices.Equal(apiErr.RequiredScopes, want) {
		t.Errorf("RequiredScopes = %v, want %v", apiErr.RequiredScopes, want)
	}

	// And every org auth token the org lists carries exactly org:ci.
	toks, err := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{}).OrgAuthTokens(ctx)
	if err != nil || len(toks) == 0 {
		t.Fatalf("OrgAuthTokens = %v, %v", toks, err)
	}
	for _, tok := range toks {
		if !slices.Equal(tok.Scopes, []string{"org:ci"}) {
			t.Errorf("token %s scopes = %v, want [org:ci]", tok.Name, tok.Scopes)
		}
	}
}

func TestPitfall02_APITokensAreSessionOnly(t *testing.T) {
	t.Parallel()
	s := newSim(t, nil, sentrysim.Options{})
	// Even the owner's broadest token is anonymous to /api-tokens/.
	s.do(t, "GET", "/api/0/api-tokens/", sentrysim.DemoOwnerToken, nil).want(t, http.StatusUnauthorized)

	toks, err := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{}).APITokens(context.Background())
	if !errors.Is(err, sentry.ErrSessionOnly) {
		t.Errorf("APITokens err = %v, want ErrSessionOnly", err)
	}
	if toks != nil {
		t.Errorf("APITokens = %v, want nil (never an empty list that looks like 'no tokens')", toks)
	}
}

func TestPitfall03_OrgRoleChangeNeedsUserToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})

	// The Access Sync integration holds member:admin, yet integration
	// tokens get no assignable roles: Sentry answers 400
	// (test_organization_member_details.py::test_with_internal_integration).
	integ := newClient(t, s.url, sentrysim.DemoIntegrationToken, clientOpts{})
	if _, err := integ.SetOrgRole(ctx, memberPaul, "manager"); !errors.Is(err, sentry.ErrInvalid) {
		t.Errorf("SetOrgRole with an integration token: err = %v, want ErrInvalid", err)
	}
	owner := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{})
	if m, _ := owner.Member(ctx, memberPaul); m == nil || m.OrgRole != "member" {
		t.Fatalf("Paul after the refused change = %+v, want still member", m)
	}
	// An owner's user token may.
	m, err := owner.SetOrgRole(ctx, memberPaul, "manager")
	if err != nil || m.OrgRole != "manager" {
		t.Errorf("SetOrgRole with the owner's user token = %+v, %v; want manager", m, err)
	}
}

func TestPitfall04_TeamRolesReplaceTheWholeTeamSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	teamsOf := func(t *testing.T, c *sentry.Client, id string) []string {
		t.Helper()
		m, err := c.Member(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tr := range m.TeamRoles {
			out = append(out, tr.TeamSlug)
		}
		slices.Sort(out)
		return out
	}

	t.Run("client SetOrgRole keeps every team", func(t *testing.T) {
		t.Parallel()
		s := newSim(t, nil, sentrysim.Options{})
		c := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{})
		before := teamsOf(t, c, memberPriya) // payments (admin), backend-eng
		if len(before) != 2 {
			t.Fatalf("Priya's teams = %v, want two", before)
		}
		if _, err := c.SetOrgRole(ctx, memberPriya, "manager"); err != nil {
			t.Fatal(err)
		}
		if got := teamsOf(t, c, memberPriya); !slices.Equal(got, before) {
			t.Errorf("teams after SetOrgRole = %v, want %v", got, before)
		}
	})
	t.Run("a raw PUT with a partial teamRoles drops the others", func(t *testing.T) {
		t.Parallel()
		s := newSim(t, nil, sentrysim.Options{})
		c := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{})
		s.do(t, "PUT", orgPath+"/members/"+memberPriya+"/", sentrysim.DemoOwnerToken, map[string]any{
			"orgRole":   "member",
			"teamRoles": []map[string]any{{"teamSlug": "payments", "role": "admin"}},
		}).want(t, http.StatusOK)
		if got, want := teamsOf(t, c, memberPriya), []string{"payments"}; !slices.Equal(got, want) {
			t.Errorf("teams after a partial PUT = %v, want %v (backend-eng dropped)", got, want)
		}
	})
}

func TestPitfall05_NullTeamRoleMeansMinimum(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})
	c := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{})
	const (
		memberMaya   = "1002" // manager on payments: minimum team role admin
		memberPaula  = "1015" // member on payments as contributor
		teamPayments = "payments"
	)
	tests := []struct {
		name, member, role string
		want               *string
	}{
		{"admin for a manager is the minimum, stored as null", memberMaya, "admin", nil},
		{"contributor for a member is the minimum, stored as null", memberPaula, "contributor", nil},
		{"admin for a member is above the minimum, stored", memberPaula, "admin", ptr("admin")},
	}
	for _, tt := range tests { // sequential: one simulator
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.SetTeamRole(ctx, tt.member, teamPayments, tt.role)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("stored role = %v, want %v", deref(got), deref(tt.want))
			}
		})
	}
	t.Run("team members list shows the stored null", func(t *testing.T) {
		ms, err := c.ListTeamMembers(ctx, teamPayments)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(ms, func(m sentry.TeamMember) bool { return m.ID == memberMaya })
		if i < 0 || ms[i].TeamRole != nil {
			t.Errorf("Maya on payments = %+v, want teamRole null", ms)
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func TestPitfall06_OpenMembershipGivesEveryProject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})
	owner := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{})
	priya := newClient(t, s.url, sentrysim.DemoMemberToken, clientOpts{}) // payments, backend-eng

	access := func(t *testing.T) map[string]bool {
		t.Helper()
		ps, err := priya.Projects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, p := range ps {
			out[p.Slug] = p.HasAccess
		}
		return out
	}
	closed := access(t)
	if !closed["payment-api"] || closed["sso-gateway"] {
		t.Fatalf("closed membership: payment-api %v, sso-gateway %v; want true, false", closed["payment-api"], closed["sso-gateway"])
	}
	on := true
	if _, err := owner.UpdateOrganization(ctx, sentry.OrganizationUpdate{OpenMembership: &on}); err != nil {
		t.Fatal(err)
	}
	for slug, ok := range access(t) {
		if !ok {
			t.Errorf("open membership: %s hasAccess = false, want true", slug)
		}
	}
	ts, err := priya.ListTeams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range ts {
		if !tm.HasAccess {
			t.Errorf("open membership: team %s hasAccess = false, want true", tm.Slug)
		}
	}
}

func TestPitfall07_AuditLogNeedsOrgWriteAndIsWrapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})

	_, err := newClient(t, s.url, sentrysim.DemoMemberToken, clientOpts{}).ListAuditLogs(ctx, sentry.AuditQuery{})
	var apiErr *sentry.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || !slices.Equal(apiErr.RequiredScopes, []string{"org:write"}) {
		t.Errorf("member reading the audit log: err = %v, want 403 naming org:write", err)
	}

	var body map[string]any
	s.do(t, "GET", orgPath+"/audit-logs/?per_page=5", sentrysim.DemoManagerToken, nil).want(t, http.StatusOK).decode(t, &body)
	rows, rok := body["rows"].([]any)
	opts, ook := body["options"].([]any)
	if !rok || !ook || len(rows) == 0 || len(opts) == 0 {
		t.Fatalf("audit-log body keys = %v, want {rows: [...], options: [...]}", keys(body))
	}

	page, err := newClient(t, s.url, sentrysim.DemoManagerToken, clientOpts{}).ListAuditLogs(ctx, sentry.AuditQuery{Event: "team.create"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rows) != 7 || !slices.Contains(page.Options, "member.edit") {
		t.Errorf("team.create rows = %d (want 7, one per demo team), options has member.edit = %v", len(page.Rows), slices.Contains(page.Options, "member.edit"))
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPitfall08_SCIMGroupIDsAreNumericAndPatchLocksTheTeam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})
	c := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{scimToken: sentrysim.DemoSCIMToken})
	const paymentsID = "100"

	// Today's Sentry looks groups up by id or slug (slug__id_or_slug in
	// src/sentry/core/endpoints/scim/teams.py); older versions by numeric
	// id only, so the client sends ids and refuses slugs.
	s.do(t, "GET", orgPath+"/scim/v2/Groups/payments", sentrysim.DemoSCIMToken, nil).want(t, http.StatusOK)
	s.do(t, "GET", orgPath+"/scim/v2/Groups/"+paymentsID, sentrysim.DemoSCIMToken, nil).want(t, http.StatusOK)
	before := c.Requests()
	if _, err := c.SCIMGroup(ctx, "payments"); !errors.Is(err, sentry.ErrInvalid) {
		t.Errorf("SCIMGroup(slug) err = %v, want ErrInvalid", err)
	}
	if c.Requests() != before {
		t.Errorf("SCIMGroup(slug) sent a request; it should refuse locally")
	}

	// Before any PATCH the owner can add members to payments...
	if _, err := c.AddMemberToTeam(ctx, memberDana, "payments"); err != nil {
		t.Fatalf("add before PATCH: %v", err)
	}
	// ...after one, the team is IdP-provisioned and locked.
	if err := c.RenameSCIMGroup(ctx, paymentsID, "Payments"); err != nil {
		t.Fatal(err)
	}
	ts, err := c.ListTeams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ts, func(tm sentry.Team) bool { return tm.Slug == "payments" })
	if i < 0 || !ts[i].Flags.IDPProvisioned {
		t.Errorf("payments after a SCIM PATCH: idp:provisioned = false, want true")
	}
	if _, err := c.AddMemberToTeam(ctx, "1019", "payments"); !errors.Is(err, sentry.ErrForbidden) {
		t.Errorf("add after PATCH: err = %v, want ErrForbidden", err)
	}
	if err := c.RemoveMemberFromTeam(ctx, memberDana, "payments"); !errors.Is(err, sentry.ErrForbidden) {
		t.Errorf("remove after PATCH: err = %v, want ErrForbidden", err)
	}
}

func TestPitfall09_SCIMDeactivateDeletesAndCannotProvisionOwners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})
	c := newClient(t, s.url, sentrysim.DemoOwnerToken, clientOpts{scimToken: sentrysim.DemoSCIMToken})

	if err := c.DeactivateSCIMUser(ctx, memberPaul); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Member(ctx, memberPaul); !errors.Is(err, sentry.ErrNotFound) {
		t.Errorf("member after SCIM active=false: err = %v, want ErrNotFound (deleted, not suspended)", err)
	}

	before := c.Requests()
	if _, err := c.CreateSCIMUser(ctx, "new.owner@acme.test", "owner"); !errors.Is(err, sentry.ErrInvalid) {
		t.Errorf("CreateSCIMUser(owner) err = %v, want ErrInvalid", err)
	}
	if c.Requests() != before {
		t.Errorf("CreateSCIMUser(owner) sent a request; it should refuse locally")
	}
	s.do(t, "POST", orgPath+"/scim/v2/Users", sentrysim.DemoSCIMToken, map[string]any{
		"schemas": []string{sentry.SCIMUserSchema}, "userName": "new.owner@acme.test", "sentryOrgRole": "owner",
	}).want(t, http.StatusBadRequest)
}

// clock is a fake clock shared by simulator and client; sleeping advances
// it, so rate-limit windows pass without real time.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waited = append(c.waited, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waited)
}

func TestPitfall10_RateLimitWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		headers bool
		window  time.Duration
	}{
		{"sentry.io sends X-Sentry-Rate-Limit-* but no Retry-After", true, time.Second},
		{"self-hosted sends no rate-limit headers at all", false, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{now: sentrysim.DemoEpoch()}
			s := newSim(t, nil, sentrysim.Options{Now: clk.Now,
				RateLimit: sentrysim.RateLimit{PerWindow: 1, Window: tt.window, Headers: tt.headers}})

			s.do(t, "GET", orgPath+"/", sentrysim.DemoOwnerToken, nil).want(t, http.StatusOK)
			r := s.do(t, "GET", orgPath+"/", sentrysim.DemoOwnerToken, nil).want(t, http.StatusTooManyRequests)
			if v := r.header.Get("Retry-After"); v != "" {
				t.Errorf("Retry-After = %q, want none", v)
			}
			if got := r.header.Get("X-Sentry-Rate-Limit-Reset") != ""; got != tt.headers {
				t.Errorf("X-Sentry-Rate-Limit-Reset present = %v, want %v", got, tt.headers)
			}

			// A fresh client meets the spent window and must wait, then
			// succeed.
			c, err := sentry.New(sentry.Config{BaseURL: s.url, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken,
				Now: clk.Now, Sleep: clk.Sleep})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Organization(ctx); err != nil {
				t.Fatalf("Organization after waiting: %v", err)
			}
			waits := clk.Waits()
			if len(waits) == 0 {
				t.Fatal("client did not wait")
			}
			if tt.headers {
				// Reset is the next window: DemoEpoch + 1s.
				if !slices.Equal(waits, []time.Duration{time.Second}) {
					t.Errorf("waits = %v, want [1s] (from X-Sentry-Rate-Limit-Reset)", waits)
				}
			} else {
				for _, w := range waits {
					if w <= 0 || w > time.Second {
						t.Errorf("backoff wait %v, want a short exponential backoff", w)
					}
				}
			}
		})
	}
}

func TestPitfall11_ProjectListIsAllProjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t, nil, sentrysim.Options{})
	const allProjects = 18

	ps, err := newClient(t, s.url, sentrysim.DemoMemberToken, clientOpts{}).Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != allProjects {
		t.Errorf("a member sees %d projects, want all %d", len(ps), allProjects)
	}
	var noAccess int
	for _, p := range ps {
		if !p.HasAccess {
			noAccess++
		}
	}
	if noAccess == 0 {
		t.Errorf("every project has hasAccess=true for a member under closed membership; want the list unfiltered by access")
	}

	// An integration token acts through its proxy user, so it sees every
	// project too, legacy-monolith (no team) included; only tokens without
	// a user (API keys) see just projects with a team
	// (src/sentry/core/endpoints/organization_projects.py).
	ips, err := newClient(t, s.url, sentrysim.DemoIntegrationToken, clientOpts{}).Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ips) != allProjects || !slices.ContainsFunc(ips, func(p sentry.Project) bool { return p.Slug == "legacy-monolith" }) {
		t.Errorf("integration token sees %d projects, want all %d with legacy-monolith", len(ips), allProjects)
	}
}

func TestPitfall12_SSONotRequiredForTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Cleo Chan's SSO link is invalid and Eli Evans never linked, in an
	// org that requires SSO; their tokens still work.
	fx := sentrysim.DemoFixture()
	const cleo, eli = "sntryu_contract_cleo_0000000000000000000000000000000000000000000000", "sntryu_contract_eli_00000000000000000000000000000000000000000000000"
	fx.UserTokens = append(fx.UserTokens,
		sentrysim.UserTokenFixture{Name: "cleo", Token: cleo, Member: "cleo.chan@acme.test", Scopes: []string{"org:read", "member:read"}, DateCreated: sentrysim.DemoEpoch()},
		sentrysim.UserTokenFixture{Name: "eli", Token: eli, Member: "eli.evans@acme.test", Scopes: []string{"org:read", "member:read"}, DateCreated: sentrysim.DemoEpoch()},
	)
	s := newSim(t, fx, sentrysim.Options{})
	for _, tok := range []string{cleo, eli} {
		c := newClient(t, s.url, tok, clientOpts{})
		o, err := c.Organization(ctx)
		if err != nil {
			t.Fatalf("Organization: %v", err)
		}
		if !o.RequiresSSO {
			t.Fatalf("requiresSso = false; the demo org requires SSO")
		}
		if _, err := c.ListMembers(ctx, sentry.MemberQuery{}); err != nil {
			t.Errorf("ListMembers with a token of a member without a valid SSO link: %v", err)
		}
	}
}
