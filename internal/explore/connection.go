package explore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// ConnectionConfig is the configured Sentry connection. Token is used only
// to tell its kind and last characters; it is never returned.
type ConnectionConfig struct {
	SentryURL string
	Org       string
	Token     string
	// SCIMConfigured reports whether a SCIM bearer token is configured.
	SCIMConfigured bool
	// Scopes, when set, returns the token's scopes on the org: the
	// "access" list of GET /api/0/organizations/{org}/ (docs/sentry-access-model.md#organization-settings-that-change-access).
	// The lead wires it to the Sentry client. Its error should carry a
	// sentryaccess.Error whose message says what the failure means and
	// what to do, and wrap ErrTokenRejected when Sentry rejected the token.
	Scopes func(ctx context.Context) ([]string, error)
}

// ErrTokenRejected marks a Scopes failure where Sentry rejected the token
// itself (401): wrong, expired or revoked.
var ErrTokenRejected = errors.New("token rejected")

// Token kinds, by the prefixes of AuthTokenType (src/sentry/types/token.py).
const (
	TokenUser        = "user"        // sntryu_: a user auth token
	TokenOrg         = "org"         // sntrys_: an org auth token (org:ci only)
	TokenIntegration = "integration" // sntryi_: an internal integration's token
	TokenUserApp     = "user-app"    // sntrya_: an OAuth application's token for a user
	TokenOther       = "other"       // unprefixed: created before Sentry prefixed tokens
	TokenNone        = "none"
)

// Connection is the Connection page: where the dashboard reads from, with
// which kind of credential, what it may do and what that leaves out.
type Connection struct {
	SentryURL string
	Org       string
	TokenKind string
	TokenHint string // the last four characters, never more
	Scopes    []string
	ScopesErr string // why the scopes are unknown, and what to do, if they are
	// TokenRejected reports whether Sentry rejected the token (401).
	TokenRejected bool
	Features      []Feature
	// Caller is who Sentry sees when the dashboard calls it, and Server
	// what the server revealed, both as of the current snapshot; nil
	// before the first sync.
	Caller *CallerView
	Server *ServerView
}

// CallerView is the acting identity as the Connection page shows it.
type CallerView struct {
	access.ActingIdentity
	// Recorded is false for a snapshot taken before the identity was
	// recorded.
	Recorded bool
	// Summary says who Sentry sees and what that means, in words.
	Summary string
}

// ServerView is what the Sentry server revealed about itself in the sync
// of the current snapshot.
type ServerView struct {
	access.Server
	SnapshotID uint64
	// Recorded is false for a snapshot taken before this was recorded.
	Recorded bool
	// Assumed counts the fields whose value was assumed.
	Assumed int
}

// Feature is one dashboard feature with whether the credential allows it.
type Feature struct {
	Name      string
	Available bool
	Why       string
}

// TokenKind tells a token's kind from its prefix (AuthTokenType in
// src/sentry/types/token.py): sntryu_ user tokens, sntrys_ org auth tokens,
// sntryi_ integration tokens, sntrya_ OAuth application tokens; tokens
// created before the prefixes have none.
func TokenKind(token string) string {
	switch {
	case token == "":
		return TokenNone
	case strings.HasPrefix(token, "sntryu_"):
		return TokenUser
	case strings.HasPrefix(token, "sntrys_"):
		return TokenOrg
	case strings.HasPrefix(token, "sntryi_"):
		return TokenIntegration
	case strings.HasPrefix(token, "sntrya_"):
		return TokenUserApp
	}
	return TokenOther
}

// TokenHint returns at most the last four characters of token.
func TokenHint(token string) string {
	if len(token) < 12 {
		return ""
	}
	return "…" + token[len(token)-4:]
}

// Connection describes the configured connection. A failing Scopes call is
// shown as ScopesErr, not returned.
func (s *Service) Connection(ctx context.Context) (Connection, error) {
	cfg := s.opts.Connection
	c := Connection{SentryURL: cfg.SentryURL, Org: cfg.Org, TokenKind: TokenKind(cfg.Token), TokenHint: TokenHint(cfg.Token)}
	known := false
	switch {
	case cfg.Scopes == nil:
		c.ScopesErr = "The token's scopes are not known to this dashboard."
	default:
		scopes, err := cfg.Scopes(ctx)
		if err != nil {
			s.log.WarnContext(ctx, "read token scopes", "err", err)
			c.TokenRejected = errors.Is(err, ErrTokenRejected)
			if c.ScopesErr = sentryaccess.ErrorMessage(err); c.ScopesErr == "" {
				c.ScopesErr = "Sentry could not be asked for the token's scopes (the organization could not be read); the dashboard's log has the details."
			}
		} else {
			c.Scopes, known = slices.Sorted(slices.Values(scopes)), true
		}
	}
	c.Features = features(c.TokenKind, c.Scopes, known, c.TokenRejected, cfg.SCIMConfigured)
	if st := s.cur.Load(); st != nil {
		c.Caller, c.Server = callerView(st.snap.Caller), serverView(st.meta.ID, st.snap.Server)
	}
	return c, ctx.Err()
}

// callerView describes the acting identity
// (docs/sentry-access-model.md#the-acting-identity).
func callerView(id access.ActingIdentity) *CallerView {
	v := &CallerView{ActingIdentity: id, Recorded: id.Kind != ""}
	who := cmp.Or(id.Email, id.Username, "the token's user")
	switch id.Kind {
	case "":
		v.Summary = "Not recorded: the current snapshot predates it. The next sync reads it."
	case access.CallerUser:
		if id.MemberID != "" {
			v.Summary = who + ", " + cmp.Or(id.OrgRole, "no org role") + " in the organization: Sentry checks every rule that depends on the caller " +
				"(changing one's own role, the roles one may grant, members above one's role, team admin rights) against this member, not against the dashboard user who files a request."
		} else {
			v.Summary = who + " is no member of the organization: rules that depend on the caller's role cannot be checked."
		}
	case access.CallerIntegration:
		v.Summary = "An internal integration's token (" + cmp.Or(id.Integration, who) + "): no member and no org role. Sentry grants the app's scopes on every team and project; it cannot change org roles."
	case access.CallerOrgToken:
		v.Summary = "An organization auth token: it has no user and no org role, and holds only org:ci."
	default:
		v.Summary = "Could not be determined."
	}
	if id.Unknown != "" {
		v.Summary += " " + upperFirst(id.Unknown) + "."
	}
	return v
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func serverView(snapshotID uint64, srv access.Server) *ServerView {
	v := &ServerView{Server: srv, SnapshotID: snapshotID, Recorded: srv.Hosting != ""}
	for _, f := range srv.Fields {
		if f.Provenance == access.Assumed {
			v.Assumed++
		}
	}
	return v
}

// features applies the rules of docs/sentry-access-model.md#endpoints to the credential.
func features(kind string, scopes []string, known, rejected, scim bool) []Feature {
	has := func(want ...string) bool {
		for _, w := range want {
			if !slices.Contains(scopes, w) {
				return false
			}
		}
		return true
	}
	f := func(name string, ok bool, yes, no string) Feature {
		switch {
		case rejected:
			return Feature{Name: name, Available: false, Why: "Sentry rejects the token (401): nothing works until it is replaced. " + no}
		case !known && kind != TokenOrg:
			return Feature{Name: name, Available: false, Why: "unknown: the token's scopes could not be read. " + no}
		}
		if ok {
			return Feature{Name: name, Available: true, Why: yes}
		}
		return Feature{Name: name, Available: false, Why: no}
	}
	orgCI := kind == TokenOrg
	return []Feature{
		f("Read members, teams and projects", !orgCI && has("org:read", "member:read", "team:read", "project:read"),
			"the token holds org:read, member:read, team:read and project:read.",
			"needs org:read, member:read, team:read and project:read; org auth tokens (sntrys_) hold only org:ci."),
		f("Audit log and incremental sync", !orgCI && has("org:write"),
			"the token holds org:write, which GET audit-logs requires.",
			"GET /organizations/{org}/audit-logs/ requires org:write; syncs fall back to full syncs."),
		f("Change org roles", kind == TokenUser && has("member:invite", "member:admin"),
			"a user token holding member:invite and member:admin.",
			"org-role changes need a user token (sntryu_) of a member, listing member:invite and member:admin; integration tokens get no assignable roles."),
		f("Change team memberships", !orgCI && (has("org:write") || has("team:write")),
			"the token holds org:write or team:write.",
			"adding or removing members on teams needs org:write or team:write (team:admin to remove)."),
		{Name: "List user auth tokens", Available: false,
			Why: "GET /api-tokens/ accepts only a browser session (cookie), never a token, and lists only the caller's own tokens."},
		scimFeature(scim),
	}
}

func scimFeature(configured bool) Feature {
	if configured {
		return Feature{Name: "SCIM provisioning", Available: true, Why: "a SCIM bearer token is configured."}
	}
	return Feature{Name: "SCIM provisioning", Available: false,
		Why: "needs the org's SCIM token (from Sentry's Auth settings, SAML with SCIM on); the API token cannot call SCIM."}
}
