package sentry

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit header names. Sentry documents them on every rate-limited
// response and sends no Retry-After (docs/api/ratelimits.mdx,
// src/sentry/middleware/ratelimit.py). Self-hosted Sentry skips rate
// limiting and sends none of them.
const (
	headerRateLimit               = "X-Sentry-Rate-Limit-Limit"
	headerRateRemaining           = "X-Sentry-Rate-Limit-Remaining"
	headerRateReset               = "X-Sentry-Rate-Limit-Reset"
	headerRateConcurrentLimit     = "X-Sentry-Rate-Limit-ConcurrentLimit"
	headerRateConcurrentRemaining = "X-Sentry-Rate-Limit-ConcurrentRemaining"
)

// Backoff bounds. maxRateLimitWait caps a wait computed from a Reset
// header, so a skewed clock cannot park the client for hours.
const (
	backoffBase      = 500 * time.Millisecond
	backoffMax       = 30 * time.Second
	maxRateLimitWait = 2 * time.Minute
)

// RateLimit is what a response said about the caller's rate limits. Fields
// whose header was absent are -1 (counts) or zero (Reset).
type RateLimit struct {
	Limit               int
	Remaining           int
	Reset               time.Time
	ConcurrentLimit     int
	ConcurrentRemaining int
}

// ParseRateLimit reads Sentry's X-Sentry-Rate-Limit-* headers. Reset is UTC
// epoch seconds (fractions accepted).
func ParseRateLimit(h http.Header) RateLimit {
	rl := RateLimit{
		Limit:               headerInt(h, headerRateLimit),
		Remaining:           headerInt(h, headerRateRemaining),
		ConcurrentLimit:     headerInt(h, headerRateConcurrentLimit),
		ConcurrentRemaining: headerInt(h, headerRateConcurrentRemaining),
	}
	if v := strings.TrimSpace(h.Get(headerRateReset)); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < math.MaxInt32*4 {
			sec, frac := math.Modf(f)
			rl.Reset = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		}
	}
	return rl
}

// Present reports whether the response carried any rate-limit header.
func (rl RateLimit) Present() bool {
	return rl.Limit >= 0 || rl.Remaining >= 0 || !rl.Reset.IsZero() ||
		rl.ConcurrentLimit >= 0 || rl.ConcurrentRemaining >= 0
}

// Exhausted reports whether the window (or the concurrency budget) is used
// up, so the next request would get a 429.
func (rl RateLimit) Exhausted() bool {
	return rl.Remaining == 0 || rl.ConcurrentRemaining == 0
}

// waitUntilReset returns how long to wait for the window to reset, and
// false when Reset is absent or not in the future.
func (rl RateLimit) waitUntilReset(now time.Time) (time.Duration, bool) {
	if rl.Reset.IsZero() {
		return 0, false
	}
	d := rl.Reset.Sub(now)
	if d <= 0 {
		return 0, false
	}
	return min(d, maxRateLimitWait), true
}

func headerInt(h http.Header, name string) int {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// backoff returns the wait before retry number attempt (0-based):
// exponential from backoffBase, capped at backoffMax, with jitter in
// [d/2, d] so that concurrent clients spread out.
func backoff(attempt int, jitter func(n int64) int64) time.Duration {
	d := backoffMax
	if attempt < 16 {
		d = min(backoffBase<<attempt, backoffMax)
	}
	half := int64(d / 2)
	return time.Duration(half + jitter(half+1))
}

// defaultJitter returns a random number in [0, n).
func defaultJitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}
