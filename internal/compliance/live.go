package compliance

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Live is the configured Sentry, asked by the troubleshooting checks that
// run on demand (*sentry.Client).
type Live interface {
	// APIIndex is GET /api/0/: the token's own scopes.
	APIIndex(ctx context.Context) (*sentry.APIIndex, error)
	// ListAuditLogs reads one page of the audit log.
	ListAuditLogs(ctx context.Context, q sentry.AuditQuery) (*sentry.AuditLogPage, error)
	// SCIMUsers lists SCIM users with the SCIM token.
	SCIMUsers(ctx context.Context, filter string) iter.Seq2[sentry.SCIMUser, error]
	// SCIMTokenPrefix says the SCIM token's kind prefix and whether one
	// is configured.
	SCIMTokenPrefix() (string, bool)
	// RateLimitHits are the last 429 of each endpoint since start.
	RateLimitHits() []sentry.RateLimitHit
	// Organization reads the organization (and whether the server sends
	// rate-limit headers).
	Organization(ctx context.Context) (*sentry.Organization, error)
}

// LiveCheck is the result of the checks run against the configured Sentry
// at At: what SCIM, the audit log and the rate limits answered.
type LiveCheck struct {
	At        time.Time
	SCIM      Diagnosis
	AuditLog  Diagnosis
	RateLimit Diagnosis
}

// CheckLive runs the checks against the configured Sentry now (a few
// requests: the SCIM users list filtered to nobody, one audit-log entry,
// GET /api/0/ and the organization) and keeps the result, which
// Troubleshoot shows until the next run: page views never call Sentry.
// Without a configured Sentry it is EUNAVAILABLE.
func (s *Service) CheckLive(ctx context.Context) (LiveCheck, error) {
	if s.opts.Live == nil {
		return LiveCheck{}, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "No Sentry is configured to check against.")
	}
	lc := runLiveChecks(ctx, s.opts.Live, s.opts.Now().UTC())
	s.live.Store(&lc)
	return lc, nil
}

// runLiveChecks asks live and explains each answer.
func runLiveChecks(ctx context.Context, live Live, now time.Time) LiveCheck {
	lc := LiveCheck{At: now}
	var scopes []string
	idx, idxErr := live.APIIndex(ctx)
	if idxErr == nil && idx != nil && idx.Auth != nil {
		scopes = idx.Auth.Scopes
	}
	lc.SCIM = checkSCIM(ctx, live)
	lc.AuditLog = checkAuditLog(ctx, live, scopes, idxErr == nil && idx != nil && idx.Auth != nil)
	lc.RateLimit = checkRateLimits(ctx, live, now)
	return lc
}

// tokenKindWords names a token kind by its prefix.
func tokenKindWords(prefix string) string {
	switch prefix {
	case "sntryu_":
		return "a user auth token (sntryu_…)"
	case "sntrys_":
		return "an org auth token (sntrys_…)"
	case "sntryi_":
		return "an internal integration's token (sntryi_…)"
	case "sntrya_":
		return "an OAuth application's token (sntrya_…)"
	}
	return "a token without a type prefix"
}

// checkSCIM lists SCIM users filtered to an address no user has: one
// request that needs the SCIM token and answers nothing.
func checkSCIM(ctx context.Context, live Live) Diagnosis {
	d := Diagnosis{Title: "SCIM, checked against Sentry"}
	prefix, configured := live.SCIMTokenPrefix()
	if !configured {
		d.Lines = []string{"No SCIM token is configured (SENTRY_SCIM_TOKEN), so SCIM was not asked."}
		d.Fix = "To see and change SCIM users and groups, set SENTRY_SCIM_TOKEN to the token Sentry shows for the \"SCIM Internal Integration\" on Settings → Auth."
		return d
	}
	f, err := sentry.SCIMFilterEq("userName", "sentry-access-probe@invalid.example")
	if err != nil {
		d.Problem, d.Lines = true, []string{"The SCIM check could not be built."}
		return d
	}
	for _, e := range live.SCIMUsers(ctx, f) {
		err = e
		break
	}
	kind := tokenKindWords(prefix)
	var ae *sentry.APIError
	switch {
	case err == nil:
		d.Lines = []string{"Sentry answered GET /scim/v2/Users with the SCIM token (" + kind + "): SCIM works."}
	case errors.As(err, &ae) && ae.Status == 401:
		d.Problem = true
		d.Lines = []string{"Sentry answered 401 to the SCIM token, which is " + kind + ": Sentry rejected the token itself (it is wrong, revoked, from another Sentry, or was regenerated when SCIM was turned off and on again)."}
		d.Fix = "Copy the token Sentry shows for the \"SCIM Internal Integration\" on Settings → Auth into SENTRY_SCIM_TOKEN, and restart."
	case errors.As(err, &ae) && ae.Status == 403 && prefix == "sntrys_":
		d.Problem = true
		d.Lines = []string{"Sentry answered 403 to the SCIM token, which is " + kind + ": an org auth token carries only org:ci, and SCIM needs member:read (users) and team:read (groups)."}
		d.Fix = "Use the token Sentry shows for the \"SCIM Internal Integration\" on Settings → Auth as SENTRY_SCIM_TOKEN."
	case errors.As(err, &ae) && (ae.Status == 403 || ae.Status == 404):
		d.Problem = true
		d.Lines = []string{fmt.Sprintf("Sentry answered %d on SCIM to %s: %s", ae.Status, kind, apiDetail(ae))}
		d.Fix = "SCIM needs a SAML provider with SCIM enabled (Settings → Auth → Enable SCIM; on sentry.io a Business or Enterprise plan) and a token with member:read and team:read: the SCIM Internal Integration's."
	default:
		d.Problem, d.Lines = true, []string{"Sentry could not be reached for the SCIM check."}
		d.Fix = "Check SENTRY_URL and the network; the Connection page says what the last sync could reach."
	}
	return d
}

// checkAuditLog reads one audit-log entry. scopes are the token's own
// scopes when known (known).
func checkAuditLog(ctx context.Context, live Live, scopes []string, known bool) Diagnosis {
	d := Diagnosis{Title: "Audit log, checked against Sentry"}
	page, err := live.ListAuditLogs(ctx, sentry.AuditQuery{PerPage: 1})
	var ae *sentry.APIError
	switch {
	case err == nil && page != nil && len(page.Rows) > 0:
		d.Lines = []string{"Sentry answered the audit log: the latest entry is " + page.Rows[0].Event + " at " + page.Rows[0].DateCreated.UTC().Format("2006-01-02 15:04 UTC") + "."}
	case err == nil:
		d.Problem = true
		d.Lines = []string{"Sentry answered the audit log with no entry at all: the token may read it, but it is empty."}
		d.Fix = "If Sentry's own Audit Log page shows entries, they are older than the plan keeps (on sentry.io the retention depends on the plan); otherwise nothing has been logged yet."
	case errors.As(err, &ae) && ae.Status == 401:
		d.Problem, d.Lines = true, []string{"Sentry answered 401: it rejected the token itself (wrong, expired or revoked)."}
		d.Fix = "Create a new user auth token of a manager or owner with org:write and set SENTRY_AUTH_TOKEN."
	case errors.As(err, &ae) && ae.Status == 403:
		d.Problem = true
		detail := apiDetail(ae)
		low := strings.ToLower(detail)
		switch {
		case strings.Contains(low, "feature") || strings.Contains(low, "plan") || strings.Contains(low, "subscription"):
			d.Lines = []string{"Sentry answered 403 on the audit log because of the plan: " + detail}
			d.Fix = "On sentry.io the audit log comes with the Business plan and above; nothing on the token side changes that."
		case known && !slices.Contains(scopes, "org:write"):
			d.Lines = []string{"Sentry answered 403 on the audit log: the token's scopes (" + strings.Join(scopes, " ") + ") lack org:write, the only scope the endpoint accepts."}
			d.Fix = "Create a user auth token that lists org:write (its user a manager or owner) and set SENTRY_AUTH_TOKEN."
		case known:
			d.Lines = []string{"Sentry answered 403 on the audit log although the token lists org:write: its user's org role is below manager, which bounds a user token (" + detail + ")."}
			d.Fix = "Use a token of a manager or owner."
		default:
			d.Lines = []string{"Sentry answered 403 on the audit log: " + detail}
			d.Fix = "Reading the audit log needs org:write (a manager's or owner's token) and, on sentry.io, a plan that includes it."
		}
	default:
		d.Problem, d.Lines = true, []string{"Sentry could not be reached for the audit-log check."}
		d.Fix = "Check SENTRY_URL and the network; the Connection page says what the last sync could reach."
	}
	return d
}

// checkRateLimits names the endpoints that answered 429 since start, with
// their windows, and asks the organization to see the headers now.
func checkRateLimits(ctx context.Context, live Live, now time.Time) Diagnosis {
	d := Diagnosis{Title: "Rate limits, checked against Sentry"}
	org, err := live.Organization(ctx)
	var ae *sentry.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == 429:
		d.Problem = true
		d.Lines = append(d.Lines, "The organization answered 429 just now: the token is over its limit at this moment.")
	case err != nil:
		d.Lines = append(d.Lines, "The organization could not be read just now, so today's headers are unknown.")
	case org.RateLimitHeaders:
		d.Lines = append(d.Lines, "The organization answered just now, with rate-limit headers (X-Sentry-Rate-Limit-*): the client paces itself by them.")
	default:
		d.Lines = append(d.Lines, "The organization answered just now without rate-limit headers (as self-hosted Sentry does): a 429 would come without a reset time.")
	}
	hits := live.RateLimitHits()
	if len(hits) == 0 {
		d.Lines = append(d.Lines, "No endpoint has answered 429 since sentry-access started.")
		if !d.Problem {
			d.Fix = "Nothing to do."
		}
		return d
	}
	d.Problem = true
	for i, h := range hits {
		if i == 5 {
			d.Lines = append(d.Lines, fmt.Sprintf("And %d more endpoints.", len(hits)-5))
			break
		}
		line := fmt.Sprintf("%s %s answered 429 at %s", h.Method, h.Endpoint, h.At.UTC().Format("2006-01-02 15:04:05 UTC"))
		if h.Limit >= 0 {
			line += fmt.Sprintf(" (%d requests a window)", h.Limit)
		}
		switch {
		case h.Reset.IsZero():
			line += "; Sentry sent no reset time."
		case h.Reset.After(now):
			line += fmt.Sprintf("; its window resets at %s, in %s.", h.Reset.UTC().Format("15:04:05 UTC"), h.Reset.Sub(now).Round(time.Second))
		default:
			line += fmt.Sprintf("; its window reset at %s.", h.Reset.UTC().Format("15:04:05 UTC"))
		}
		d.Lines = append(d.Lines, line)
	}
	d.Fix = "The client waits for the reset and retries; if syncs still fail, sync less often, prefer incremental syncs and lower SENTRY_ACCESS_SYNC_CONCURRENCY."
	return d
}

// apiDetail is Sentry's message of e, or its status when it sent none.
func apiDetail(e *sentry.APIError) string {
	if e.Detail != "" {
		return e.Detail
	}
	return fmt.Sprintf("status %d", e.Status)
}
