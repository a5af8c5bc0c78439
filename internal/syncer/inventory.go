package syncer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Inventory parts, the keys of store.Inventory.Hidden (the same names as
// internal/compliance's Part constants).
const (
	PartOrgAuthTokens  = "org-auth-tokens"
	PartSentryApps     = "sentry-apps"
	PartAuthProvider   = "auth-provider"
	PartSCIMUsers      = "scim-users"
	PartSCIMGroups     = "scim-groups"
	PartAccessRequests = "access-requests"
	PartUserTokens     = "user-tokens"
	PartAuditLog       = "audit-log"
)

// InventorySource is the part of the Sentry client (*sentry.Client) the
// inventory stage reads. Errors match the sentry sentinels (ErrForbidden,
// ErrUnauthorized, ErrSessionOnly, ErrRateLimited …).
type InventorySource interface {
	// OrgAuthTokens lists the org auth tokens (org:read).
	OrgAuthTokens(ctx context.Context) ([]sentry.OrgAuthToken, error)
	// SentryApps lists the org's Sentry Apps.
	SentryApps(ctx context.Context) ([]sentry.SentryApp, error)
	// AuthProvider returns the SSO provider, nil when none.
	AuthProvider(ctx context.Context) (*sentry.AuthProvider, error)
	// AccessRequests lists pending team join requests.
	AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error)
	// SCIMUsers iterates over SCIM users (SCIM token).
	SCIMUsers(ctx context.Context, filter string) iter.Seq2[sentry.SCIMUser, error]
	// SCIMGroups iterates over SCIM groups (SCIM token).
	SCIMGroups(ctx context.Context, filter string, excludeMembers bool) iter.Seq2[sentry.SCIMGroup, error]
	// ListAuditLogs reads audit-log rows (org:write).
	ListAuditLogs(ctx context.Context, q sentry.AuditQuery) (*sentry.AuditLogPage, error)
}

// InventoryOptions configure FetchInventory.
type InventoryOptions struct {
	// SCIMConfigured reports whether a SCIM token is configured; without
	// one SCIM is recorded as not visible instead of being requested.
	SCIMConfigured bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives one line per part that could not be read.
	Logger *slog.Logger
}

// FetchInventory reads the data the snapshot does not hold (org auth
// tokens, Sentry Apps, the auth provider, SCIM users and groups, access
// requests) and saves it in st. A part Sentry refuses (403, 401, no SCIM
// token, SCIM off, session-only) is recorded in Hidden with the reason,
// never as an empty list; only a cancelled ctx or a store failure is an
// error. Personal tokens are always hidden: Sentry serves
// /api/0/api-tokens/ to browser sessions only (docs/sentry-access-model.md#user-auth-tokens).
func FetchInventory(ctx context.Context, src InventorySource, st *store.Store, opts InventoryOptions) (store.Inventory, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	inv := store.Inventory{FetchedAt: now().UTC(), Hidden: map[string]string{
		PartUserTokens: "not visible with any API credential: Sentry lists personal auth tokens only to their owner's browser session (/api/0/api-tokens/ refuses token authentication)",
	}}
	hide := func(part string, err error) {
		inv.Hidden[part] = hiddenReason(part, err)
		log.LogAttrs(ctx, slog.LevelWarn, "inventory part not visible", slog.String("part", part), slog.String("error", err.Error()))
	}

	if v, err := src.OrgAuthTokens(ctx); err != nil {
		hide(PartOrgAuthTokens, err)
	} else {
		inv.OrgAuthTokens = v
	}
	if v, err := src.SentryApps(ctx); err != nil {
		hide(PartSentryApps, err)
	} else {
		inv.SentryApps = v
	}
	if v, err := src.AccessRequests(ctx); err != nil {
		hide(PartAccessRequests, err)
	} else {
		inv.AccessRequests = v
	}
	if _, err := src.ListAuditLogs(ctx, sentry.AuditQuery{Since: inv.FetchedAt, PerPage: 1}); err != nil {
		hide(PartAuditLog, err)
	}
	ap, apErr := src.AuthProvider(ctx)
	switch {
	case apErr != nil:
		hide(PartAuthProvider, apErr)
	default:
		inv.AuthProvider = ap
	}
	if err := ctx.Err(); err != nil {
		return store.Inventory{}, fmt.Errorf("fetch inventory: %w", err)
	}

	scimWhy := ""
	switch {
	case apErr == nil && ap == nil:
		scimWhy = "not available: the organization has no SSO provider, and Sentry serves SCIM only with a SAML provider that has SCIM enabled"
	case apErr == nil && !ap.SCIMEnabled:
		scimWhy = "not available: SCIM is not enabled on the organization's SSO provider"
	case !opts.SCIMConfigured:
		scimWhy = "not visible with this configuration: no SCIM token is configured (it is the token of the \"SCIM Internal Integration\" shown in Sentry's Auth settings)"
	}
	if scimWhy != "" {
		inv.Hidden[PartSCIMUsers], inv.Hidden[PartSCIMGroups] = scimWhy, scimWhy
	} else {
		users, err := collectSeq(src.SCIMUsers(ctx, ""))
		if err != nil {
			hide(PartSCIMUsers, err)
		} else {
			inv.SCIMUsers = users
		}
		groups, err := collectSeq(src.SCIMGroups(ctx, "", false))
		if err != nil {
			hide(PartSCIMGroups, err)
		} else {
			inv.SCIMGroups = groups
		}
	}
	if err := ctx.Err(); err != nil {
		return store.Inventory{}, fmt.Errorf("fetch inventory: %w", err)
	}
	if err := st.SaveInventory(ctx, inv); err != nil {
		return store.Inventory{}, fmt.Errorf("fetch inventory: %w", err)
	}
	return inv, nil
}

func collectSeq[T any](seq iter.Seq2[T, error]) ([]T, error) {
	out := []T{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// hiddenReason turns a read failure into a sentence for the page.
func hiddenReason(part string, err error) string {
	scim := strings.HasPrefix(part, "scim-")
	var apiErr *sentry.APIError
	errors.As(err, &apiErr)
	switch {
	case errors.Is(err, sentry.ErrSessionOnly):
		return "not visible with this credential: Sentry serves this to browser sessions only"
	case scim && errors.Is(err, sentry.ErrUnauthorized):
		return "not visible with this credential: Sentry answered 401 to the SCIM token; use the token of the \"SCIM Internal Integration\" from Sentry's Auth settings, not a user, org or integration token"
	case scim && errors.Is(err, sentry.ErrForbidden):
		return "not visible with this credential: Sentry answered 403 on SCIM (SCIM is off, the plan lacks it, or the token is not the SCIM integration's)"
	case errors.Is(err, sentry.ErrForbidden):
		msg := "not visible with this credential: Sentry answered 403"
		if apiErr != nil && len(apiErr.RequiredScopes) > 0 {
			msg += " (the endpoint needs one of " + strings.Join(apiErr.RequiredScopes, ", ") + ")"
		}
		if part == PartAuditLog {
			msg += "; reading the audit log needs org:write (a manager or owner's token)"
		}
		return msg
	case errors.Is(err, sentry.ErrUnauthorized):
		return "not visible with this credential: Sentry answered 401 (the token is invalid, expired or of the wrong kind)"
	case errors.Is(err, sentry.ErrNotFound):
		return "not available: Sentry answered 404 (the endpoint does not exist on this Sentry version or plan)"
	case errors.Is(err, sentry.ErrRateLimited):
		return "not read this time: Sentry rate-limited the request (429) after retries; the next sync tries again"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "not read: the request was cancelled or timed out"
	}
	return "not read: the request failed (" + err.Error() + ")"
}
