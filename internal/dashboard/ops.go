package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/metrics"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// ExpiringGrantsWindow is how far ahead the expiring-grants gauge looks.
const ExpiringGrantsWindow = 7 * 24 * time.Hour

// Ops are the operational hooks of a server: metrics and error reporting.
// Build the Metrics before the Sentry client so its Observe can be
// Metrics.ObserveSentry.
type Ops struct {
	// Metrics, when set, records syncs and HTTP requests, reads the
	// pending-approval and expiring-grant gauges from the change service,
	// and is served at /metrics.
	Metrics *metrics.Metrics
	// ErrorReporter, when set, receives 5xx errors and panics
	// (*errreport.Reporter when SENTRY_DSN is set).
	ErrorReporter httpui.ErrorReporter
}

// onRun is the runner's OnRun hook (nil without metrics).
func (o Ops) onRun() func(context.Context, syncer.RunInfo) {
	if o.Metrics == nil {
		return nil
	}
	return o.Metrics.ObserveSync
}

// httpMetrics, metricsHandler and errorReporter give httpui.Deps its ops
// fields, nil (not typed-nil) when unset.
func (o Ops) httpMetrics() httpui.HTTPMetrics {
	if o.Metrics == nil {
		return nil
	}
	return o.Metrics
}

func (o Ops) metricsHandler() http.Handler {
	if o.Metrics == nil {
		return nil
	}
	return o.Metrics.Handler()
}

// observeSentry is the Sentry client's Observe hook (nil without metrics).
func (o Ops) observeSentry() func(sentry.RequestInfo) {
	if o.Metrics == nil {
		return nil
	}
	return o.Metrics.ObserveSentry
}

func (o Ops) errorReporter() httpui.ErrorReporter { return o.ErrorReporter }

// watchChanges points the scrape-time gauges at the change service.
func (o Ops) watchChanges(svc *changes.Service, now func() time.Time) {
	if o.Metrics == nil || svc == nil {
		return
	}
	o.Metrics.SetSources(metrics.Sources{
		PendingApprovals: func(ctx context.Context) (int, error) {
			rs, err := svc.List(ctx, changes.RequestFilter{States: []changes.State{changes.StatePendingApproval}})
			return len(rs), err
		},
		ExpiringGrants: func(ctx context.Context) (int, error) {
			gs, err := svc.Upcoming(ctx, now(), ExpiringGrantsWindow)
			return len(gs), err
		},
	})
}
