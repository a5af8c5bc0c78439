// Package metrics exposes the dashboard's Prometheus metrics: Sentry API
// requests (by endpoint template, method and status), their duration, time
// spent waiting for Sentry's rate limit, sync runs, the last successful
// sync, pending approvals, expiring grants and HTTP requests by route.
//
// Everything is registered on a registry built by New, never on the
// process-wide default one, so tests and several servers in one process do
// not collide. Gauges that come from the store (pending approvals, expiring
// grants) are read at scrape time through the Sources functions.
//
// Access: Handler serves /metrics to a request carrying
// "Authorization: Bearer <token>" when a token is configured
// (SENTRY_ACCESS_METRICS_TOKEN); without a token it serves only requests
// from a loopback address that carry no proxy forwarding header, so a
// scraper on the same host works and a reverse proxy cannot expose it.
package metrics

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// namespace prefixes every metric name.
const namespace = "sentry_access"

// scrapeTimeout bounds the store reads of a scrape.
const scrapeTimeout = 5 * time.Second

// Sources are read at scrape time. A nil function leaves its gauge out.
type Sources struct {
	// PendingApprovals counts change requests waiting for approval.
	PendingApprovals func(ctx context.Context) (int, error)
	// ExpiringGrants counts temporary grants expiring within the next
	// ExpiringWithin (the gauge's help text says the window).
	ExpiringGrants func(ctx context.Context) (int, error)
}

// Options configure New.
type Options struct {
	Sources Sources
	// Token, when set, is the bearer token /metrics requires.
	Token  string
	Logger *slog.Logger
	// ProcessCollectors adds the Go runtime and process collectors.
	ProcessCollectors bool
}

// Metrics holds the collectors. Its methods are safe for concurrent use.
type Metrics struct {
	reg   *prometheus.Registry
	token string
	log   *slog.Logger

	sentryRequests *prometheus.CounterVec
	sentryDuration *prometheus.HistogramVec
	rateLimitWait  prometheus.Counter
	retryWait      prometheus.Counter
	syncDuration   *prometheus.HistogramVec
	lastSync       prometheus.Gauge
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	src            *sourceCollector
}

// SetSources replaces the scrape-time sources (the dashboard sets them
// once its services exist, after the Sentry client got ObserveSentry).
func (m *Metrics) SetSources(s Sources) { m.src.set(s) }

// New builds the registry and registers every collector on it.
func New(o Options) *Metrics {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), token: o.Token, log: o.Logger}
	m.sentryRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "sentry_requests_total",
		Help: "Sentry API HTTP attempts by endpoint template, method and status (0: no response).",
	}, []string{"endpoint", "method", "status"})
	m.sentryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "sentry_request_duration_seconds",
		Help:    "Duration of Sentry API HTTP exchanges, waits excluded.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"endpoint"})
	m.rateLimitWait = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "sentry_rate_limit_wait_seconds_total",
		Help: "Time spent waiting for Sentry's rate limit before requests.",
	})
	m.retryWait = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "sentry_retry_wait_seconds_total",
		Help: "Backoff time spent before retrying Sentry requests after 5xx, timeouts or dropped connections.",
	})
	m.syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "sync_duration_seconds",
		Help:    "Duration of sync runs by kind (full, incremental) and result (ok, unchanged, error, busy).",
		Buckets: []float64{.1, .5, 1, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"kind", "result"})
	m.lastSync = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "last_sync_success_timestamp_seconds",
		Help: "Unix time of the last successful sync (0: none since start).",
	})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "Dashboard HTTP requests by route template, method and status.",
	}, []string{"route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help:    "Dashboard HTTP request duration by route template.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	m.reg.MustRegister(m.sentryRequests, m.sentryDuration, m.rateLimitWait, m.retryWait,
		m.syncDuration, m.lastSync, m.httpRequests, m.httpDuration)
	m.src = &sourceCollector{log: o.Logger,
		pending:  prometheus.NewDesc(namespace+"_pending_approvals", "Change requests waiting for approval.", nil, nil),
		expiring: prometheus.NewDesc(namespace+"_expiring_grants", "Temporary grants that expire soon.", nil, nil),
		failed:   prometheus.NewDesc(namespace+"_scrape_source_errors", "1 for each scrape-time source that failed in this scrape.", []string{"source"}, nil),
	}
	m.src.set(o.Sources)
	m.reg.MustRegister(m.src)
	if o.ProcessCollectors {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveSentry records one Sentry API attempt. Its signature matches
// sentry.Config.Observe.
func (m *Metrics) ObserveSentry(info sentry.RequestInfo) {
	endpoint := info.Endpoint
	if endpoint == "" {
		endpoint = "unknown"
	}
	m.sentryRequests.WithLabelValues(endpoint, info.Method, strconv.Itoa(info.Status)).Inc()
	m.sentryDuration.WithLabelValues(endpoint).Observe(info.Duration.Seconds())
	if info.RateLimitWait > 0 {
		m.rateLimitWait.Add(info.RateLimitWait.Seconds())
	}
	if info.RetryWait > 0 {
		m.retryWait.Add(info.RetryWait.Seconds())
	}
}

// ObserveSync records a sync run; its signature matches
// syncer.RunnerOptions.OnRun.
func (m *Metrics) ObserveSync(_ context.Context, run syncer.RunInfo) {
	kind := string(run.Kind)
	if kind == "" {
		kind = "unknown"
	}
	result := "ok"
	switch {
	case errors.Is(run.Err, syncer.ErrBusy):
		result = "busy"
	case run.Err != nil:
		result = "error"
	case run.Result.Unchanged:
		result = "unchanged"
	}
	m.syncDuration.WithLabelValues(kind, result).Observe(run.Duration.Seconds())
	if run.Err == nil {
		m.lastSync.Set(float64(run.Finished.UnixNano()) / 1e9)
	}
}

// ObserveHTTP records one dashboard HTTP request. route is the route
// template ("/members/:id"), never the raw path, to keep cardinality
// bounded; "" (no route matched) is recorded as "unmatched".
func (m *Metrics) ObserveHTTP(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format, guarded as the
// package documentation says.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogPromLogger{m.log}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.allowed(r) {
			w.Header().Set("Cache-Control", "no-store")
			if m.token != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "metrics need a bearer token", http.StatusUnauthorized)
				return
			}
			http.Error(w, "metrics are served to loopback scrapers only", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (m *Metrics) allowed(r *http.Request) bool {
	if m.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && subtle.ConstantTimeCompare([]byte(got), []byte(m.token)) == 1
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sourceCollector reads the scrape-time gauges.
type sourceCollector struct {
	mu                        sync.Mutex
	src                       Sources
	log                       *slog.Logger
	pending, expiring, failed *prometheus.Desc
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.expiring
	ch <- c.failed
}

func (c *sourceCollector) set(s Sources) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.src = s
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	for _, g := range []struct {
		name string
		desc *prometheus.Desc
		read func(context.Context) (int, error)
	}{
		{"pending_approvals", c.pending, src.PendingApprovals},
		{"expiring_grants", c.expiring, src.ExpiringGrants},
	} {
		if g.read == nil {
			continue
		}
		n, err := g.read(ctx)
		if err != nil {
			c.log.Warn("metrics: read gauge", "gauge", g.name, "err", err)
			ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, 1, g.name)
			continue
		}
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
	}
}

// slogPromLogger adapts slog for promhttp's error log.
type slogPromLogger struct{ log *slog.Logger }

// Println logs one promhttp error.
func (l slogPromLogger) Println(v ...any) {
	l.log.Error("metrics: serve", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}
