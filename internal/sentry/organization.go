package sentry

import (
	"context"
	"fmt"
	"net/http"
)

// Organization returns the organization's settings that change access,
// its role lists and the caller's own role and scopes.
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	var o Organization
	if err := c.getJSON(ctx, c.newRequest(http.MethodGet, epOrganization), &o); err != nil {
		return nil, fmt.Errorf("get organization: %w", err)
	}
	return &o, nil
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
// resolve (all of them with org:write). The endpoint is not paginated.
func (c *Client) AccessRequests(ctx context.Context) ([]AccessRequest, error) {
	out := []AccessRequest{}
	if err := c.getJSON(ctx, c.newRequest(http.MethodGet, epAccessRequests), &out); err != nil {
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
