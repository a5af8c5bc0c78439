package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Repo persists subscriptions, the outbox and de-duplication marks. Every
// method is one transaction. Implemented with bbolt by store.NotifyRepo.
type Repo interface {
	// PutSubscription stores s, assigning s.ID when it is "".
	PutSubscription(ctx context.Context, s *Subscription) error
	// Subscription returns one subscription, or an ENOTFOUND error.
	Subscription(ctx context.Context, id string) (*Subscription, error)
	// Subscriptions returns every subscription in ID order.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteSubscription removes one subscription (ENOTFOUND if absent).
	DeleteSubscription(ctx context.Context, id string) error
	// Enqueue stores new deliveries, assigning their IDs.
	Enqueue(ctx context.Context, ds []Delivery) error
	// Due returns up to limit pending deliveries whose NextAttempt is not
	// after now, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// UpdateDelivery replaces the stored delivery with d.ID.
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries returns up to limit deliveries, newest first (the log).
	Deliveries(ctx context.Context, limit int) ([]Delivery, error)
	// MarkOnce records key and reports whether it was new.
	MarkOnce(ctx context.Context, key string, at time.Time) (bool, error)
}

// Config wires a Notifier. Repo is required.
type Config struct {
	Repo Repo
	// Allow lists the internal addresses webhooks may be posted to
	// (SENTRY_ACCESS_WEBHOOK_ALLOW): by default a receiver on a loopback,
	// private, link-local or cloud-metadata address is refused, checked on
	// the address dialled at send time.
	Allow []netip.Prefix
	// Timeout bounds one delivery attempt (default 10 s).
	Timeout time.Duration
	Now     func() time.Time
	// Sleep waits in Run; it returns ctx.Err() when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a uniform number in [0, n) for jitter (nil: crypto/rand).
	Rand func(n int64) int64
	// MaxAttempts is the number of tries before a delivery fails (default 6).
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each
	// further one (default 30 s), capped at MaxBackoff (default 1 h).
	Backoff, MaxBackoff time.Duration
	// PollInterval is how often Run looks for due deliveries (default 5 s).
	PollInterval time.Duration
	// BaseURL is the dashboard's URL, for links in messages.
	BaseURL string
	Logger  *slog.Logger
}

// Notifier publishes events to subscriptions and delivers them.
type Notifier struct {
	repo        Repo
	client      *http.Client
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error
	rand        func(int64) int64
	maxAttempts int
	backoff     time.Duration
	maxBackoff  time.Duration
	poll        time.Duration
	baseURL     string
	log         *slog.Logger
}

// New returns a Notifier.
func New(cfg Config) *Notifier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	n := &Notifier{repo: cfg.Repo, client: guardedClient(cfg.Timeout, cfg.Allow), now: cfg.Now, sleep: cfg.Sleep, rand: cfg.Rand,
		maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, maxBackoff: cfg.MaxBackoff, poll: cfg.PollInterval,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), log: cfg.Logger}
	if n.now == nil {
		n.now = time.Now
	}
	if n.sleep == nil {
		n.sleep = sleepCtx
	}
	if n.rand == nil {
		n.rand = cryptoRand
	}
	if n.maxAttempts <= 0 {
		n.maxAttempts = 6
	}
	if n.backoff <= 0 {
		n.backoff = 30 * time.Second
	}
	if n.maxBackoff <= 0 {
		n.maxBackoff = time.Hour
	}
	if n.poll <= 0 {
		n.poll = 5 * time.Second
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	return n
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func cryptoRand(n int64) int64 {
	if n <= 0 {
		return 0
	}
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0
	}
	return v.Int64()
}

// MaxAttempts is the number of tries before a delivery is given up.
func (n *Notifier) MaxAttempts() int { return n.maxAttempts }

// Backoff returns the wait after the attempt-th failure: Backoff·2^(attempt−1)
// capped at MaxBackoff, with "equal jitter" (half fixed, half random), so the
// wait lies in [d/2, d].
func (n *Notifier) Backoff(attempt int) time.Duration {
	d := n.backoff
	for i := 1; i < attempt && d < n.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, n.maxBackoff)
	half := d / 2
	return half + time.Duration(n.rand(int64(d-half)+1))
}

// Publish queues ev for every enabled subscription that wants its kind and
// returns how many deliveries it queued. An event whose kind and ID were
// published before is skipped, so publishers may repeat themselves.
func (n *Notifier) Publish(ctx context.Context, ev Event) (int, error) {
	if ev.At.IsZero() {
		ev.At = n.now().UTC()
	}
	first, err := n.repo.MarkOnce(ctx, string(ev.Kind)+":"+ev.ID, n.now())
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	if !first {
		return 0, nil
	}
	subs, err := n.repo.Subscriptions(ctx)
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	var ds []Delivery
	for i := range subs {
		if subs[i].Wants(ev.Kind) {
			d, err := n.newDelivery(&subs[i], ev)
			if err != nil {
				return 0, fmt.Errorf("publish %s: %w", ev.Kind, err)
			}
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return 0, nil
	}
	if err := n.repo.Enqueue(ctx, ds); err != nil {
		return 0, fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	return len(ds), nil
}

func (n *Notifier) newDelivery(s *Subscription, ev Event) (Delivery, error) {
	body, err := Body(s.Format, ev)
	if err != nil {
		return Delivery{}, err
	}
	now := n.now().UTC()
	return Delivery{SubscriptionID: s.ID, Subscription: s.Name, Event: ev.Kind, EventID: ev.ID, Title: ev.Title,
		Body: body, State: DeliveryPending, NextAttempt: now, Created: now, Updated: now}, nil
}

// Body renders ev in format f.
func Body(f Format, ev Event) ([]byte, error) {
	var v any = ev
	if f == FormatSlack {
		text := "*" + slackEscape(ev.Title) + "*"
		if ev.Text != "" {
			text += "\n" + slackEscape(ev.Text)
		}
		if ev.Link != "" {
			text += "\n<" + ev.Link + "|Open in sentry-access>"
		}
		v = struct {
			Text string `json:"text"`
		}{text}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s body: %w", f, err)
	}
	return b, nil
}

// slackEscape escapes Slack's control characters (&, <, >), per Slack's
// "Formatting text for app surfaces" guide.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Sign returns the X-Sentry-Access-Signature value for body sent at ts.
func Sign(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// DeliverDue makes one attempt at every due delivery and returns how many
// it attempted. A failure schedules the next attempt after Backoff, or gives
// the delivery up after MaxAttempts.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	ds, err := n.repo.Due(ctx, n.now(), 100)
	if err != nil {
		return 0, fmt.Errorf("deliver due: %w", err)
	}
	for _, d := range ds {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := n.attempt(ctx, d); err != nil {
			return 0, err
		}
	}
	return len(ds), nil
}

// attempt sends d once and records the outcome.
func (n *Notifier) attempt(ctx context.Context, d Delivery) (Delivery, error) {
	sub, err := n.repo.Subscription(ctx, d.SubscriptionID)
	var status int
	var sendErr error
	retryAfter := time.Duration(0)
	if err != nil {
		sendErr = sentryaccess.Errorf(sentryaccess.ENOTFOUND, "The webhook was deleted before this delivery.")
		d.Attempts = n.maxAttempts - 1 // nothing to retry
	} else {
		status, retryAfter, sendErr = n.send(ctx, sub, d)
	}
	now := n.now().UTC()
	d.Attempts++
	d.Updated = now
	d.LastStatus = status
	if sendErr == nil {
		d.State, d.LastError, d.Delivered = DeliveryDelivered, "", &now
	} else {
		// The delivery log is shown to admins: it keeps a sentence, and the
		// Go error (addresses, TLS detail) goes to the log.
		if d.LastError = sentryaccess.ErrorMessage(sendErr); d.LastError == "" {
			d.LastError = "The request could not be sent."
		}
		if d.Attempts >= n.maxAttempts {
			d.State = DeliveryFailed
		} else {
			d.NextAttempt = now.Add(max(n.Backoff(d.Attempts), retryAfter))
		}
		n.log.WarnContext(ctx, "webhook delivery failed", "delivery", d.ID, "subscription", d.SubscriptionID,
			"event", string(d.Event), "attempt", d.Attempts, "status", status, "err", sendErr, "state", string(d.State))
	}
	if err := n.repo.UpdateDelivery(ctx, d); err != nil {
		return d, fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	return d, nil
}

// send posts d to sub. It returns the HTTP status, a Retry-After wait the
// receiver asked for, and an error unless the status is 2xx: an
// EUNAVAILABLE sentryaccess.Error whose message says what went wrong in
// words (see unreachable), wrapping the transport error for the log. Errors
// never contain the secret.
func (n *Notifier) send(ctx context.Context, sub *Subscription, d Delivery) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	ts := n.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sentry-access-webhooks/1")
	req.Header.Set("X-Sentry-Access-Event", string(d.Event))
	req.Header.Set("X-Sentry-Access-Delivery", d.ID)
	req.Header.Set("X-Sentry-Access-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	if sub.Secret != "" {
		req.Header.Set("X-Sentry-Access-Signature", Sign(sub.Secret, ts, d.Body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("post: %w: %w", err, unreachable(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	var wait time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		wait = min(time.Duration(secs)*time.Second, n.maxBackoff)
	}
	return resp.StatusCode, wait, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "The receiver answered %d %s.", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// unreachable says in words why a post did not reach the receiver: that
// the destination is internal (and how to allow it), or one sentence for
// every network failure. Which one (refused, timed out, unresolved, TLS)
// goes to the server log only: shown to the person who typed the URL it
// would make the test button a scanner of the dashboard's network.
func unreachable(err error) error {
	if errors.Is(err, errInternalAddress) {
		return sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "The webhook's host is an internal address (loopback, private, link-local or cloud metadata), which webhooks may not reach; list it in SENTRY_ACCESS_WEBHOOK_ALLOW if the receiver is internal.")
	}
	return sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "The receiver could not be reached.")
}

// Run delivers due deliveries every PollInterval until ctx ends. Pending
// deliveries left by a previous process are picked up on the first round.
func (n *Notifier) Run(ctx context.Context) error {
	for {
		if _, err := n.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			n.log.ErrorContext(ctx, "deliver webhooks", "err", err)
		}
		if err := n.sleep(ctx, n.poll); err != nil {
			return nil
		}
	}
}

// SendTest queues a test event for one subscription and attempts it at
// once, returning the delivery as recorded (delivered, or pending a retry).
func (n *Notifier) SendTest(ctx context.Context, subID string) (Delivery, error) {
	sub, err := n.repo.Subscription(ctx, subID)
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	now := n.now().UTC()
	ev := Event{Kind: EventTest, ID: "test-" + strconv.FormatInt(now.UnixNano(), 10), At: now,
		Title: "Test message from sentry-access", Text: "Webhook " + sub.Name + " is set up.", Link: n.link("/settings/notifications")}
	d, err := n.newDelivery(sub, ev)
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	ds := []Delivery{d}
	if err := n.repo.Enqueue(ctx, ds); err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	return n.attempt(ctx, ds[0])
}

func (n *Notifier) link(path string) string {
	if n.baseURL == "" {
		return ""
	}
	return n.baseURL + path
}

// Deliveries returns the delivery log, newest first.
func (n *Notifier) Deliveries(ctx context.Context, limit int) ([]Delivery, error) {
	ds, err := n.repo.Deliveries(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("delivery log: %w", err)
	}
	return ds, nil
}
