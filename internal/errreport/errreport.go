// Package errreport reports the dashboard's own server errors (5xx answers
// and panics) to Sentry with sentry-go, when SENTRY_DSN is set.
//
// What is sent is deliberately small: the error chain's messages, the
// request method and route path, and the request ID as a tag. Request
// headers, cookies, query strings and bodies are never attached, and
// BeforeSend replaces every configured secret (Sentry tokens, the SCIM
// token, the session key, the SP key) and anything shaped like a bearer
// token with "[redacted]" in whatever is left.
package errreport

import (
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	sentrygo "github.com/getsentry/sentry-go"
)

// Options configure New.
type Options struct {
	// DSN is the Sentry project DSN (SENTRY_DSN). Required.
	DSN         string
	Environment string
	Release     string
	// Secrets are strings that must never leave the process; BeforeSend
	// redacts them wherever they appear.
	Secrets []string
	Logger  *slog.Logger
	// Transport replaces sentry-go's HTTP transport (tests).
	Transport sentrygo.Transport
}

// Reporter sends errors to Sentry. It is safe for concurrent use.
type Reporter struct {
	hub *sentrygo.Hub
	log *slog.Logger
}

// minSecretLen skips redacting empty or trivially short secrets, which
// would mangle every message.
const minSecretLen = 8

// tokenPattern matches "Bearer xxx" and Sentry token shapes (sntrys_,
// sntryu_, 64-hex user tokens) so a token nobody listed is still redacted.
func tokenPattern() *regexp.Regexp {
	return regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}|sntry[su]_[A-Za-z0-9_=+/-]{8,}|\b[a-f0-9]{64}\b`)
}

// Scrubber redacts secrets from text.
type Scrubber struct {
	secrets []string
	tokens  *regexp.Regexp
}

// NewScrubber returns a Scrubber for secrets (those shorter than 8 bytes
// are ignored: they would mangle every message).
func NewScrubber(secrets []string) *Scrubber {
	sc := &Scrubber{tokens: tokenPattern()}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= minSecretLen {
			sc.secrets = append(sc.secrets, s)
		}
	}
	return sc
}

// Scrub replaces each secret, and anything shaped like a bearer or Sentry
// token, with "[redacted]".
func (sc *Scrubber) Scrub(s string) string {
	for _, sec := range sc.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return sc.tokens.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(strings.ToLower(m), "bearer") {
			return "Bearer [redacted]"
		}
		return "[redacted]"
	})
}

// New builds a Reporter for o.DSN.
func New(o Options) (*Reporter, error) {
	if o.DSN == "" {
		return nil, errors.New("errreport: a DSN is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	scrub := NewScrubber(o.Secrets).Scrub
	client, err := sentrygo.NewClient(sentrygo.ClientOptions{
		Dsn: o.DSN, Environment: o.Environment, Release: o.Release,
		Transport: o.Transport, SendDefaultPII: false, AttachStacktrace: false,
		BeforeSend: func(ev *sentrygo.Event, _ *sentrygo.EventHint) *sentrygo.Event {
			return scrubEvent(ev, scrub)
		},
	})
	if err != nil {
		// The DSN itself may hold the project key: do not echo it.
		return nil, errors.New("errreport: invalid SENTRY_DSN")
	}
	return &Reporter{hub: sentrygo.NewHub(client, sentrygo.NewScope()), log: o.Logger}, nil
}

// ReportError sends err, which happened serving r, to Sentry. requestID
// and route (the route template) are attached as tags.
func (rep *Reporter) ReportError(r *http.Request, requestID, route string, err error) {
	hub := rep.hub.Clone()
	hub.WithScope(func(scope *sentrygo.Scope) {
		scope.SetTag("request_id", requestID)
		scope.SetTag("route", route)
		scope.SetTag("method", r.Method)
		if id := hub.CaptureException(err); id != nil {
			rep.log.InfoContext(r.Context(), "reported error to Sentry", "event_id", string(*id), "request_id", requestID)
		}
	})
}

// Flush waits up to timeout for queued events to be sent.
func (rep *Reporter) Flush(timeout time.Duration) bool { return rep.hub.Flush(timeout) }

// scrubEvent removes request details and redacts secrets in what remains.
func scrubEvent(ev *sentrygo.Event, scrub func(string) string) *sentrygo.Event {
	if ev == nil {
		return nil
	}
	if ev.Request != nil {
		ev.Request = &sentrygo.Request{Method: ev.Request.Method, URL: scrubURL(ev.Request.URL)}
	}
	ev.User = sentrygo.User{}
	ev.Message = scrub(ev.Message)
	for i := range ev.Exception {
		ev.Exception[i].Value = scrub(ev.Exception[i].Value)
	}
	for _, b := range ev.Breadcrumbs {
		b.Message = scrub(b.Message)
		b.Data = nil
	}
	for k, v := range ev.Tags {
		ev.Tags[k] = scrub(v)
	}
	return ev
}

// scrubURL drops the query and fragment, which may carry search terms or
// tokens.
func scrubURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
