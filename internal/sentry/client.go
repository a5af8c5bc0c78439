// Package sentry is the Sentry REST API client of sentry-access: the only
// code in the product that speaks HTTP to Sentry. It pages through Link
// headers, honours Sentry's rate-limit headers, retries idempotent requests
// on transient failures, and reports every error as an *APIError matched by
// errors.Is sentinels. See docs/sentry-access-model.md for
// the Sentry behaviour it relies on.
package sentry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults applied by New.
const (
	DefaultUserAgent  = "sentry-access/dev"
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 3
	maxResponseBytes  = 64 << 20
)

// Config configures a Client.
type Config struct {
	// BaseURL is the Sentry host, e.g. "https://us.sentry.io" or a
	// self-hosted URL; "/api/0" is appended unless the path already ends
	// with it.
	BaseURL string
	// Org is the organization ID or slug.
	Org string
	// Token is the bearer token for the REST API: a user auth token (needed
	// for org-role changes) or an internal-integration token.
	Token string
	// SCIMToken is the bearer token of the org's SCIM internal integration,
	// used only by the SCIM methods.
	SCIMToken string
	// UserAgent is sent on every request; DefaultUserAgent when empty. Use
	// "sentry-access/<version>".
	UserAgent string
	// HTTPClient, when nil, is a client of our own with dial, TLS and
	// response-header timeouts.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxRetries bounds retries of one request (rate limits, 5xx, dropped
	// connections); DefaultMaxRetries when zero, none when negative.
	MaxRetries int
	// Logger receives debug lines per attempt and warnings per retry; it
	// never sees a token. Discarded when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Sleep waits for d or until ctx is done; every rate-limit and backoff
	// wait goes through it. A timer-based wait when nil.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, when set, is called after every HTTP attempt (metrics hook).
	Observe func(RequestInfo)
}

// String implements fmt.Stringer without the tokens.
func (c Config) String() string {
	return fmt.Sprintf("sentry.Config{BaseURL:%q Org:%q Token:%s SCIMToken:%s UserAgent:%q Timeout:%s MaxRetries:%d}",
		c.BaseURL, c.Org, redacted(c.Token), redacted(c.SCIMToken), c.UserAgent, c.Timeout, c.MaxRetries)
}

// GoString implements fmt.GoStringer without the tokens.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the tokens.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("org", c.Org),
		slog.String("token", redacted(c.Token)),
		slog.String("scim_token", redacted(c.SCIMToken)),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_retries", c.MaxRetries),
	)
}

func redacted(s string) string {
	if s == "" {
		return "unset"
	}
	return "[REDACTED]"
}

// RequestInfo describes one HTTP attempt, for metrics.
type RequestInfo struct {
	// Method and Endpoint (a path template such as
	// "/organizations/{org}/members/") name the request.
	Method, Endpoint string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Duration is the time of the HTTP exchange, waits excluded.
	Duration time.Duration
	// Attempt counts from 0 for the first try.
	Attempt int
	// RateLimitWait is the time waited for Sentry's rate limit before this
	// attempt (proactively, or after a 429).
	RateLimitWait time.Duration
	// RetryWait is the backoff waited before this attempt after a 5xx,
	// timeout or dropped connection.
	RetryWait time.Duration
	// RateLimit is what the response said about the rate limit.
	RateLimit RateLimit
	// Err is the transport error, if any.
	Err error
}

// Client talks to one Sentry organization. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	org        string
	token      string
	scimToken  string
	userAgent  string
	hc         *http.Client
	timeout    time.Duration
	maxRetries int
	log        *slog.Logger
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	observe    func(RequestInfo)
	jitter     func(n int64) int64

	requests atomic.Int64

	mu sync.Mutex
	// windows maps an endpoint template to what the client knows of its
	// current rate-limit window; see reserve.
	windows map[string]*rateWindow
	// limited maps "METHOD endpoint" to the last 429 it answered.
	limited map[string]RateLimitHit
}

// RateLimitHit is the last 429 one endpoint answered this client: when,
// and what its rate-limit headers said (Limit -1 and Reset zero when the
// server sent none, as self-hosted Sentry does).
type RateLimitHit struct {
	Method, Endpoint string
	At               time.Time
	Limit            int
	Reset            time.Time
}

// RateLimitHits returns the last 429 of each endpoint that answered one
// since the client was made, the latest first.
func (c *Client) RateLimitHits() []RateLimitHit {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]RateLimitHit, 0, len(c.limited))
	for _, h := range c.limited {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b RateLimitHit) int { return b.At.Compare(a.At) })
	return out
}

// SCIMTokenPrefix returns the Sentry token-type prefix of the SCIM token
// ("sntryu_", "sntrys_", "sntryi_", "sntrya_"; "" for a token without
// one) and whether a SCIM token is configured. The prefix is all of the
// token it tells: it names the token's kind (AuthTokenType,
// src/sentry/types/token.py), never its secret part.
func (c *Client) SCIMTokenPrefix() (string, bool) {
	if c.scimToken == "" {
		return "", false
	}
	for _, p := range []string{"sntryu_", "sntrys_", "sntryi_", "sntrya_"} {
		if strings.HasPrefix(c.scimToken, p) {
			return p, true
		}
	}
	return "", true
}

// New validates cfg and returns a Client. It reports every problem at once.
func New(cfg Config) (*Client, error) {
	var problems []error
	base, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	switch {
	case cfg.BaseURL == "":
		problems = append(problems, errors.New("BaseURL is required"))
	case err != nil:
		problems = append(problems, fmt.Errorf("BaseURL: %w", err))
	case base.Scheme != "http" && base.Scheme != "https" || base.Host == "":
		problems = append(problems, fmt.Errorf("BaseURL %q: want an http(s) URL with a host", cfg.BaseURL))
	}
	if cfg.Org == "" {
		problems = append(problems, errors.New("Org is required"))
	} else if strings.ContainsAny(cfg.Org, "/?#% ") {
		problems = append(problems, fmt.Errorf("Org %q: want an organization slug or id", cfg.Org))
	}
	if cfg.Token == "" && cfg.SCIMToken == "" {
		problems = append(problems, errors.New("one of Token and SCIMToken is required"))
	}
	if cfg.Timeout < 0 {
		problems = append(problems, errors.New("the Timeout must not be negative"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("sentry config: %w", errors.Join(problems...))
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	if !strings.HasSuffix(base.Path, "/api/0") {
		base.Path += "/api/0"
	}
	base.RawQuery, base.Fragment = "", ""

	c := &Client{
		base:       base,
		org:        cfg.Org,
		token:      cfg.Token,
		scimToken:  cfg.SCIMToken,
		userAgent:  cfg.UserAgent,
		hc:         cfg.HTTPClient,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		log:        cfg.Logger,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
		observe:    cfg.Observe,
		jitter:     defaultJitter,
		windows:    map[string]*rateWindow{},
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.observe == nil {
		c.observe = func(RequestInfo) {}
	}
	if c.hc == nil {
		c.hc = newHTTPClient(c.timeout)
	}
	// Requests are counted where they leave: at the transport, so that a
	// redirect followed or any request not made through attempt counts too.
	hc := *c.hc
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = countingTransport{base: rt, n: &c.requests}
	c.hc = &hc
	return c, nil
}

// countingTransport counts every request it sends.
type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

func newHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: tr}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Requests returns the number of HTTP requests (attempts, retries and
// redirects included) the client has sent, counted at its transport.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Org returns the organization the client is bound to.
func (c *Client) Org() string { return c.org }

// request is one logical API call.
type request struct {
	method   string
	endpoint string // template, e.g. epMember
	path     string // escaped path below /api/0
	query    url.Values
	body     any
	scim     bool
}

// newRequest fills the endpoint template: {org} from the client, every
// other placeholder from params in order, each path-escaped.
func (c *Client) newRequest(method, endpoint string, params ...string) request {
	var b strings.Builder
	rest := endpoint
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		closing := strings.IndexByte(rest[open:], '}')
		if closing < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		name := rest[open+1 : open+closing]
		var val string
		if name == "org" {
			val = c.org
		} else if len(params) > 0 {
			val, params = params[0], params[1:]
		}
		b.WriteString(url.PathEscape(val))
		rest = rest[open+closing+1:]
	}
	return request{method: method, endpoint: endpoint, path: b.String(), query: url.Values{}}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// idempotent reports whether a method may be retried after a failure whose
// outcome is unknown. POST and (SCIM) PATCH never are.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// do sends req with rate-limit waits and retries, decodes a 2xx JSON body
// into out (when out is non-nil and the body is not empty) and turns error
// statuses into *APIError.
func (c *Client) do(ctx context.Context, req request, out any) (*response, error) {
	token := c.token
	if req.scim {
		token = c.scimToken
	}
	if token == "" {
		kind := "Token"
		if req.scim {
			kind = "SCIMToken"
		}
		return nil, fmt.Errorf("sentry: %s %s: %s is not configured", req.method, req.endpoint, kind)
	}
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("sentry: %s %s: encode body: %w", req.method, req.endpoint, err)
		}
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + req.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("sentry: %s %s: bad path: %w", req.method, req.endpoint, err)
	}
	u.Path = p
	u.RawQuery = req.query.Encode()
	target := u.String()

	var rateWait, retryWait time.Duration
	waited := false // a 429 wait already covered this attempt's window
	for attempt := 0; ; attempt++ {
		// Proactive wait: the requests in flight on this endpoint use up
		// what the last responses said was left of the window. After the
		// wait, look again: others may have used the new window up. A
		// clock that did not pass the reset (a fixed test clock) gets one
		// wait per window, then the attempt goes ahead.
		var waitedFor time.Time
		for {
			w, reset := c.reserve(req.endpoint, waited)
			if w == 0 {
				break
			}
			if reset.Equal(waitedFor) {
				c.reserve(req.endpoint, true)
				break
			}
			c.log.DebugContext(ctx, "sentry rate limit exhausted, waiting for reset", "method", req.method, "endpoint", req.endpoint, "wait", w)
			if err := c.sleep(ctx, w); err != nil {
				return nil, fmt.Errorf("sentry: %s %s: wait for rate limit: %w", req.method, req.endpoint, err)
			}
			rateWait += w
			waitedFor = reset
		}
		waited = false
		resp, rl, err := c.attempt(ctx, req, target, token, body, attempt, rateWait, retryWait)
		c.release(req.endpoint, rl)
		rateWait, retryWait = 0, 0
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("sentry: %s %s: %w", req.method, req.endpoint, ctx.Err())
			}
			if idempotent(req.method) && attempt < c.maxRetries && retryableTransport(err) {
				retryWait = backoff(attempt, c.jitter)
				c.log.WarnContext(ctx, "sentry request failed, retrying", "method", req.method, "endpoint", req.endpoint, "attempt", attempt, "wait", retryWait, "err", err)
				if err := c.sleep(ctx, retryWait); err != nil {
					return nil, fmt.Errorf("sentry: %s %s: %w", req.method, req.endpoint, err)
				}
				continue
			}
			return nil, fmt.Errorf("sentry: %s %s: %w", req.method, req.endpoint, err)
		}

		switch {
		case resp.status == http.StatusTooManyRequests && attempt < c.maxRetries:
			// A 429 was rejected before any effect, so every method may be
			// retried. Sentry sends no Retry-After: wait for
			// X-Sentry-Rate-Limit-Reset, or back off when it is absent
			// (self-hosted sends no rate-limit headers).
			w, ok := rl.waitUntilReset(c.now())
			if !ok {
				w = backoff(attempt, c.jitter)
			}
			c.log.WarnContext(ctx, "sentry rate limited, waiting", "method", req.method, "endpoint", req.endpoint, "attempt", attempt, "wait", w)
			if err := c.sleep(ctx, w); err != nil {
				return nil, fmt.Errorf("sentry: %s %s: wait for rate limit: %w", req.method, req.endpoint, err)
			}
			rateWait, waited = w, true
			continue
		case resp.status >= 500 && idempotent(req.method) && attempt < c.maxRetries:
			retryWait = backoff(attempt, c.jitter)
			c.log.WarnContext(ctx, "sentry server error, retrying", "method", req.method, "endpoint", req.endpoint, "status", resp.status, "attempt", attempt, "wait", retryWait)
			if err := c.sleep(ctx, retryWait); err != nil {
				return nil, fmt.Errorf("sentry: %s %s: %w", req.method, req.endpoint, err)
			}
			continue
		case resp.status >= 400:
			return nil, c.apiError(req, resp)
		}
		if out != nil && len(bytes.TrimSpace(resp.body)) > 0 && resp.status != http.StatusNoContent {
			if err := json.Unmarshal(resp.body, out); err != nil {
				return nil, fmt.Errorf("sentry: %s %s: decode response: %w", req.method, req.endpoint, err)
			}
		}
		return resp, nil
	}
}

// attempt performs one HTTP exchange under the per-request timeout.
func (c *Client) attempt(ctx context.Context, req request, target, token string, body []byte, attempt int, rateWait, retryWait time.Duration) (*response, RateLimit, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, target, rdr)
	if err != nil {
		return nil, RateLimit{}, fmt.Errorf("build request: %w", err)
	}
	hreq.Header.Set("Authorization", "Bearer "+token)
	hreq.Header.Set("User-Agent", c.userAgent)
	if req.scim {
		hreq.Header.Set("Accept", "application/scim+json, application/json")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if body != nil {
		// Sentry's SCIM endpoints accept application/json as well as their
		// own SCIM media type (src/sentry/scim/endpoints/utils.py).
		hreq.Header.Set("Content-Type", "application/json")
	}

	start := c.now()
	hresp, err := c.hc.Do(hreq)
	info := RequestInfo{Method: req.method, Endpoint: req.endpoint, Attempt: attempt, RateLimitWait: rateWait, RetryWait: retryWait}
	if err != nil {
		err = scrubURLError(err)
		// A bare "context deadline exceeded" reaches the sync banner and
		// the change page: say what happened.
		var ne net.Error
		switch {
		case actx.Err() != nil && ctx.Err() == nil || errors.As(err, &ne) && ne.Timeout():
			err = fmt.Errorf("no answer within %s (timeout): %w", c.timeout, err)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
			err = fmt.Errorf("the connection closed before Sentry answered: %w", err)
		}
		info.Duration, info.Err = c.now().Sub(start), err
		c.observe(info)
		c.log.DebugContext(ctx, "sentry request", "method", req.method, "endpoint", req.endpoint, "attempt", attempt, "err", err)
		return nil, RateLimit{}, err
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes))
	rl := ParseRateLimit(hresp.Header)
	info.Status, info.Duration, info.RateLimit = hresp.StatusCode, c.now().Sub(start), rl
	if err != nil {
		info.Err = fmt.Errorf("read response: %w", err)
		c.observe(info)
		return nil, rl, info.Err
	}
	c.observe(info)
	if hresp.StatusCode == http.StatusTooManyRequests {
		c.mu.Lock()
		if c.limited == nil {
			c.limited = map[string]RateLimitHit{}
		}
		c.limited[req.method+" "+req.endpoint] = RateLimitHit{Method: req.method, Endpoint: req.endpoint, At: c.now().UTC(), Limit: rl.Limit, Reset: rl.Reset}
		c.mu.Unlock()
	}
	c.log.DebugContext(ctx, "sentry request", "method", req.method, "endpoint", req.endpoint, "attempt", attempt, "status", hresp.StatusCode, "duration", info.Duration)
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, rl, nil
}

// scrubURLError drops the URL from a transport error: it names the
// endpoint template instead, and an URL could carry query values.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryableTransport reports whether a transport error is worth retrying:
// timeouts, resets, EOFs — anything but certificate failures.
func retryableTransport(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return false
	}
	return true
}

func (c *Client) apiError(req request, resp *response) error {
	e := ParseErrorBody(resp.status, resp.body)
	e.Method, e.Endpoint = req.method, req.endpoint
	if resp.status == http.StatusForbidden {
		e.RequiredScopes = requiredScopes(req.method, req.endpoint)
	}
	e.redact(c.token, c.scimToken)
	return e
}

// rateWindow is what the client knows of one endpoint's fixed rate-limit
// window: when it resets (zero when unknown), the fewest requests a
// response said were left in it, and how many requests this client has in
// flight on the endpoint. Sentry counts a request when it arrives, so a
// request in flight may or may not be in a response's count yet; it is
// treated as counted against what is left.
type rateWindow struct {
	reset     time.Time
	remaining int
	inflight  int
}

// reserve asks to send one request on endpoint. It returns 0 and counts the
// request in flight when the window has room for it (or is unknown, or
// force is set), else how long to wait for the window to reset, and when. Goroutines
// sharing the client thus share the window instead of each learning from
// its own 429 that it is used up. Every request counted in flight must be
// released once its attempt is over.
func (c *Client) reserve(endpoint string, force bool) (time.Duration, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.windows[endpoint]
	if w == nil {
		w = &rateWindow{}
		c.windows[endpoint] = w
	}
	if !force && !w.reset.IsZero() {
		wait, ok := RateLimit{Reset: w.reset}.waitUntilReset(c.now())
		switch {
		case !ok:
			w.reset = time.Time{} // a new window; the next response describes it
		case w.remaining-w.inflight <= 0:
			return wait, w.reset
		}
	}
	w.inflight++
	return 0, time.Time{}
}

// release ends a request counted in flight by reserve and records what its
// response (if any) said about the window. A response on a newer window
// replaces the record; one on the same window can only lower the count.
// Responses without Remaining and a future Reset say nothing usable, and a
// spent concurrency budget frees as requests finish, so it is not tracked.
func (c *Client) release(endpoint string, rl RateLimit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.windows[endpoint]
	if w == nil {
		return
	}
	w.inflight = max(0, w.inflight-1)
	if rl.Remaining < 0 {
		return
	}
	if _, ok := rl.waitUntilReset(c.now()); !ok {
		return
	}
	switch {
	case rl.Reset.After(w.reset):
		w.reset, w.remaining = rl.Reset, rl.Remaining
	case rl.Reset.Equal(w.reset):
		w.remaining = min(w.remaining, rl.Remaining)
	}
}

// getJSON is a GET of a single object.
func (c *Client) getJSON(ctx context.Context, req request, out any) error {
	_, err := c.do(ctx, req, out)
	return err
}
