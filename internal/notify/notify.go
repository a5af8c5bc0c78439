// Package notify sends outgoing webhooks about access events: change
// requests awaiting approval, applied, denied or failed, grants about to
// expire, new risk findings, access changes between snapshots and access
// changes made outside sentry-access. Subscriptions choose a URL, a body
// format (generic JSON or a Slack-compatible {"text": …}) and the events
// they want. Every delivery goes through an outbox persisted in bbolt, so a
// delivery survives a restart; failures are retried with exponential backoff
// and jitter, and every attempt's outcome is kept in a delivery log.
//
// Bodies are signed with HMAC-SHA256 when the subscription has a secret:
// header X-Sentry-Access-Signature is "sha256=" + hex(HMAC(secret,
// timestamp + "." + body)) and X-Sentry-Access-Timestamp the Unix seconds.
// Secrets are never logged nor rendered.
package notify

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Format is a webhook body format.
type Format string

// Formats.
const (
	FormatGeneric Format = "generic" // {"event", "id", "at", "title", "text", "link", "data"}
	FormatSlack   Format = "slack"   // {"text": …} for Slack incoming webhooks
)

// EventKind names an event a subscription can ask for.
type EventKind string

// Event kinds.
const (
	EventRequestAwaiting EventKind = "change-request.awaiting-approval"
	EventRequestApplied  EventKind = "change-request.applied"
	EventRequestDenied   EventKind = "change-request.denied"
	// EventRequestFailed is a request that failed or partially failed.
	EventRequestFailed EventKind = "change-request.failed"
	EventGrantExpiring EventKind = "grant.expiring"
	EventFindingsNew   EventKind = "findings.new"
	EventAccessChanged EventKind = "access.changed"
	// EventUnapproved is access changes made outside sentry-access.
	EventUnapproved EventKind = "access.unapproved"
	// EventTest is sent by "send test" to one subscription only.
	EventTest EventKind = "test"
)

// EventKinds returns the subscribable event kinds in display order.
func EventKinds() []EventKind {
	return []EventKind{EventRequestAwaiting, EventRequestApplied, EventRequestDenied, EventRequestFailed,
		EventGrantExpiring, EventFindingsNew, EventAccessChanged, EventUnapproved}
}

// Subscription is a webhook endpoint and what it wants.
type Subscription struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	URL     string      `json:"url"`
	Format  Format      `json:"format"`
	Events  []EventKind `json:"events"`
	Secret  string      `json:"secret,omitempty"`
	Enabled bool        `json:"enabled"`
	Created time.Time   `json:"created"`
}

// Wants reports whether the subscription is enabled and asked for kind.
func (s *Subscription) Wants(kind EventKind) bool {
	return s.Enabled && slices.Contains(s.Events, kind)
}

// Validate reports every problem with s at once, as one EINVALID error.
func (s *Subscription) Validate() error {
	var errs []string
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, "a name is required")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, "the URL must be an absolute http(s) URL")
	} else if u.User != nil {
		errs = append(errs, "the URL must not carry credentials; use the signing secret")
	}
	if s.Format != FormatGeneric && s.Format != FormatSlack {
		errs = append(errs, fmt.Sprintf("unknown format %q (generic or slack)", s.Format))
	}
	if len(s.Events) == 0 {
		errs = append(errs, "choose at least one event")
	}
	for _, e := range s.Events {
		if !slices.Contains(EventKinds(), e) {
			errs = append(errs, fmt.Sprintf("unknown event %q", e))
		}
	}
	if len(errs) > 0 {
		msg := strings.Join(errs, "; ")
		return sentryaccess.Errorf(sentryaccess.EINVALID, "%s%s", strings.ToUpper(msg[:1]), msg[1:])
	}
	return nil
}

// Event is something to tell subscribers. ID identifies it for the
// receiver (and for de-duplication); Data is the generic body's payload.
type Event struct {
	Kind  EventKind `json:"event"`
	ID    string    `json:"id"`
	At    time.Time `json:"at"`
	Title string    `json:"title"`
	Text  string    `json:"text"`
	Link  string    `json:"link,omitempty"`
	Data  any       `json:"data,omitempty"`
}

// DeliveryState is where a delivery is.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // gave up after MaxAttempts
)

// Delivery is one event on its way to one subscription: the outbox entry
// and its log.
type Delivery struct {
	ID             string        `json:"id"`
	SubscriptionID string        `json:"subscriptionId"`
	Subscription   string        `json:"subscription"` // its name, for the log
	Event          EventKind     `json:"event"`
	EventID        string        `json:"eventId"`
	Title          string        `json:"title"`
	Body           []byte        `json:"body"`
	State          DeliveryState `json:"state"`
	Attempts       int           `json:"attempts"`
	LastStatus     int           `json:"lastStatus,omitempty"`
	LastError      string        `json:"lastError,omitempty"`
	NextAttempt    time.Time     `json:"nextAttempt"`
	Created        time.Time     `json:"created"`
	Updated        time.Time     `json:"updated"`
	Delivered      *time.Time    `json:"delivered,omitempty"`
}
