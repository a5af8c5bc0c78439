package sentry

import (
	"context"
	"fmt"
	"net/http"
)

// Organization returns the organization's settings that change access,
// its role lists and the caller's own role and scopes. Fields an older
// server left out are listed in Absent; RateLimitHeaders tells whether the
// answer carried Sentry's rate-limit headers.
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	var o Organization
	resp, err := c.do(ctx, c.newRequest(http.MethodGet, epOrganization), &o)
	if err != nil {
		return nil, fmt.Errorf("get organization: %w", err)
	}
	o.RateLimitHeaders = ParseRateLimit(resp.header).Present()
	return &o, nil
}

// APIIndex returns who the credential authenticates as (GET /api/0/): the
// user of a user token, the proxy user of an internal integration's token,
// no user for an org auth token. It needs no scope.
func (c *Client) APIIndex(ctx context.Context) (*APIIndex, error) {
	var idx APIIndex
	if err := c.getJSON(ctx, c.newRequest(http.MethodGet, epAPIIndex), &idx); err != nil {
		return nil, fmt.Errorf("get the API index: %w", err)
	}
	return &idx, nil
}

// UpdateOrganization changes the non-nil settings in u and returns the
// updated organization. Needs org:write.
func (c *Client) UpdateOrganization(ctx context.Context, u OrganizationUpdate) (*Organization, error) {
	req := c.newRequest(http.MethodPut, epOrganization)
	req.body = u
	var o Organization
	if _, err := c.do(ctx, req, &o); err != nil {
		return nil, fmt.Errorf("update organization: %w", err)
	}
	return &o, nil
}

// AccessRequests returns the pending team-join requests the caller may
// resolve (all of them with org:write). The endpoint is not paginated; a
// Link header is followed all the same.
func (c *Client) AccessRequests(ctx context.Context) ([]AccessRequest, error) {
	out, err := collect(follow[AccessRequest](ctx, c, c.newRequest(http.MethodGet, epAccessRequests)))
	if err != nil {
		return nil, fmt.Errorf("list access requests: %w", err)
	}
	return out, nil
}

// ResolveAccessRequest approves or denies a team-join request. Sentry
// deletes the request either way; approval creates the team membership.
func (c *Client) ResolveAccessRequest(ctx context.Context, id string, approve bool) error {
	req := c.newRequest(http.MethodPut, epAccessRequest, id)
	req.body = struct {
		IsApproved bool `json:"isApproved"`
	}{approve}
	if _, err := c.do(ctx, req, nil); err != nil {
		return fmt.Errorf("resolve access request %s: %w", id, err)
	}
	return nil
}

// AuthProvider returns the organization's SSO provider, or nil and no
// error when none is configured (Sentry answers 204).
func (c *Client) AuthProvider(ctx context.Context) (*AuthProvider, error) {
	var p AuthProvider
	resp, err := c.do(ctx, c.newRequest(http.MethodGet, epAuthProvider), &p)
	if err != nil {
		return nil, fmt.Errorf("get auth provider: %w", err)
	}
	if resp.status == http.StatusNoContent || len(resp.body) == 0 {
		return nil, nil
	}
	return &p, nil
}
