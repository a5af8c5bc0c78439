package gosentry

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jianyuan/go-sentry/v2/sentry"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// TestRateLimit: sentry.io's 429 carries X-Sentry-Rate-Limit-* headers,
// which go-sentry turns into its *sentry.RateLimitError with the window's
// figures; self-hosted Sentry sends no headers, so go-sentry returns a
// plain *sentry.ErrorResponse 429. Both with Sentry's message
// (src/sentry/middleware/ratelimit.py).
func TestRateLimit(t *testing.T) {
	t.Parallel()
	const msg = "You are attempting to use this endpoint too frequently. Limit is 1 requests in 1 seconds"
	for _, headers := range []bool{true, false} {
		s := start(t, sentrysim.DemoFixture(), sentrysim.Options{RateLimit: sentrysim.RateLimit{PerWindow: 1, Headers: headers}})
		c := s.owner()
		_, _, err := c.Teams.Get(ctx, org, "payments")
		must(t, "Teams.Get (first in the window)", err)
		_, _, err = c.Teams.Get(ctx, org, "payments")
		if !headers {
			refused(t, "Teams.Get over the limit, self-hosted", err, http.StatusTooManyRequests, msg, false)
			continue
		}
		var rl *sentry.RateLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("Teams.Get over the limit: err = %v (%T), want *sentry.RateLimitError", err, err)
		}
		want := sentry.Rate{Limit: 1, Remaining: 0, Reset: sentrysim.DemoEpoch().Add(time.Second), ConcurrentLimit: 100, ConcurrentRemaining: 99}
		if rl.Rate != want || rl.Detail != msg {
			t.Errorf("RateLimitError = rate %+v detail %q, want %+v %q", rl.Rate, rl.Detail, want, msg)
		}
	}
}

// TestLegacyServer: go-sentry reads an older self-hosted server
// (sentrysim.Options.Legacy: an organization without the team-role era's
// fields, a projects list that pages) without an error, and pages it
// to the end.
func TestLegacyServer(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 105, Teams: 105, Projects: 105, Seed: 9})
	c := start(t, fx, sentrysim.Options{Legacy: true}).owner()
	o, _, err := c.Organizations.Get(ctx, org)
	must(t, "Organizations.Get", err)
	if str(o.Slug) != org || o.OrgRoleList != nil {
		t.Errorf("Organizations.Get on a legacy server = slug %s orgRoleList %v, want %s without orgRoleList", str(o.Slug), o.OrgRoleList, org)
	}
	orgs, _ := listAll(t, "Organizations.List", func(p *sentry.ListCursorParams) ([]*sentry.Organization, *sentry.Response, error) {
		return c.Organizations.List(ctx, p)
	})
	members, _ := listAll(t, "OrganizationMembers.List", func(p *sentry.ListCursorParams) ([]*sentry.OrganizationMember, *sentry.Response, error) {
		return c.OrganizationMembers.List(ctx, org, p)
	})
	teams, _ := listAll(t, "Teams.List", func(p *sentry.ListCursorParams) ([]*sentry.Team, *sentry.Response, error) {
		return c.Teams.List(ctx, org, p)
	})
	projects, _ := listAll(t, "OrganizationProjects.List", func(p *sentry.ListCursorParams) ([]*sentry.Project, *sentry.Response, error) {
		return c.OrganizationProjects.List(ctx, org, &sentry.ListOrganizationProjectsParams{ListCursorParams: *p})
	})
	if len(orgs) != 1 || len(members) != len(fx.Members) || len(teams) != len(fx.Teams) || len(projects) != len(fx.Projects) {
		t.Errorf("legacy server: %d organizations, %d members, %d teams, %d projects; want 1, %d, %d, %d",
			len(orgs), len(members), len(teams), len(projects), len(fx.Members), len(fx.Teams), len(fx.Projects))
	}
	p, _, err := c.Projects.Get(ctx, org, projects[0].Slug)
	must(t, "Projects.Get", err)
	if str(p.Organization.Slug) != org {
		t.Errorf("Projects.Get on a legacy server: organization.slug %q", str(p.Organization.Slug))
	}
}
