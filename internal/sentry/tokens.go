package sentry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// OrgAuthTokens returns the organization's active auth tokens. Their scopes
// are always ["org:ci"]: they cannot manage members or teams. The endpoint
// is not paginated; a Link header is followed all the same.
func (c *Client) OrgAuthTokens(ctx context.Context) ([]OrgAuthToken, error) {
	out, err := collect(follow[OrgAuthToken](ctx, c, c.newRequest(http.MethodGet, epOrgAuthTokens)))
	if err != nil {
		return nil, fmt.Errorf("list org auth tokens: %w", err)
	}
	return out, nil
}

// SentryApps returns the organization's Sentry Apps. Internal integrations
// (Status "internal") hold tokens that act on every team and project.
func (c *Client) SentryApps(ctx context.Context) ([]SentryApp, error) {
	out, err := collect(paginate[SentryApp](ctx, c, c.newRequest(http.MethodGet, epSentryApps)))
	if err != nil {
		return nil, fmt.Errorf("list sentry apps: %w", err)
	}
	return out, nil
}

// APITokens lists the calling user's personal auth tokens. Sentry serves
// /api/0/api-tokens/ to cookie sessions only
// (SessionNoAuthTokenAuthentication in src/sentry/api/endpoints/api_tokens.py):
// any request bearing an Authorization header is treated as anonymous. So
// with a token credential this returns an error matching ErrSessionOnly
// (and the underlying *APIError), never an empty list.
func (c *Client) APITokens(ctx context.Context) ([]APIToken, error) {
	out, err := collect(follow[APIToken](ctx, c, c.newRequest(http.MethodGet, epAPITokens)))
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden) {
		return nil, fmt.Errorf("list api tokens: %w: %w", ErrSessionOnly, err)
	}
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}
