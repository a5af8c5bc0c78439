package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/metrics"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("scrape status = %d: %s", w.Code, w.Body)
	}
	return w.Body.String()
}

func TestMetricsRecordSentryRequestsSyncsAndHTTP(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{Sources: metrics.Sources{
		PendingApprovals: func(context.Context) (int, error) { return 3, nil },
		ExpiringGrants:   func(context.Context) (int, error) { return 2, nil },
	}})
	ep := "/organizations/{org}/members/"
	m.ObserveSentry(sentry.RequestInfo{Method: "GET", Endpoint: ep, Status: 200, Duration: 30 * time.Millisecond})
	m.ObserveSentry(sentry.RequestInfo{Method: "GET", Endpoint: ep, Status: 429, Duration: 10 * time.Millisecond})
	m.ObserveSentry(sentry.RequestInfo{Method: "GET", Endpoint: ep, Status: 200, RateLimitWait: 1500 * time.Millisecond})
	finished := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	m.ObserveSync(context.Background(), syncer.RunInfo{Kind: store.KindFull, Duration: 12 * time.Second, Finished: finished})
	m.ObserveSync(context.Background(), syncer.RunInfo{Kind: store.KindIncremental, Err: errors.New("boom"), Duration: time.Second, Finished: finished.Add(time.Hour)})
	m.ObserveSync(context.Background(), syncer.RunInfo{Kind: store.KindFull, Err: fmt.Errorf("start: %w", syncer.ErrBusy)})
	m.ObserveHTTP("GET", "/members/:id", 200, 5*time.Millisecond)
	m.ObserveHTTP("GET", "", 404, time.Millisecond)

	body := scrape(t, m)
	for _, want := range []string{
		`sentry_access_sentry_requests_total{endpoint="/organizations/{org}/members/",method="GET",status="200"} 2`,
		`sentry_access_sentry_requests_total{endpoint="/organizations/{org}/members/",method="GET",status="429"} 1`,
		`sentry_access_sentry_request_duration_seconds_count{endpoint="/organizations/{org}/members/"} 3`,
		`sentry_access_sentry_rate_limit_wait_seconds_total 1.5`,
		`sentry_access_sync_duration_seconds_count{kind="full",result="ok"} 1`,
		`sentry_access_sync_duration_seconds_count{kind="incremental",result="error"} 1`,
		`sentry_access_sync_duration_seconds_count{kind="full",result="busy"} 1`,
		`sentry_access_last_sync_success_timestamp_seconds 1.7803`,
		`sentry_access_pending_approvals 3`,
		`sentry_access_expiring_grants 2`,
		`sentry_access_http_requests_total{method="GET",route="/members/:id",status="200"} 1`,
		`sentry_access_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

func TestAFailingSourceIsReportedNotFatal(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{Sources: metrics.Sources{
		PendingApprovals: func(context.Context) (int, error) { return 0, errors.New("store closed") },
	}})
	body := scrape(t, m)
	if strings.Contains(body, "sentry_access_pending_approvals ") {
		t.Errorf("a failed source still reported a value:\n%s", body)
	}
	if !strings.Contains(body, `sentry_access_scrape_source_errors{source="pending_approvals"} 1`) {
		t.Errorf("the failure is not reported:\n%s", body)
	}
	if mfs, err := m.Registry().Gather(); err != nil || len(mfs) == 0 {
		t.Errorf("gather = %d families, %v", len(mfs), err)
	}
}

func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		token  string
		remote string
		header map[string]string
		want   int
	}{
		{name: "no token: loopback scraper is served", remote: "127.0.0.1:9", want: 200},
		{name: "no token: IPv6 loopback is served", remote: "[::1]:9", want: 200},
		{name: "no token: another host is refused", remote: "192.0.2.7:9", want: 403},
		{name: "no token: a request forwarded by a local proxy is refused", remote: "127.0.0.1:9", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: 403},
		{name: "token: the right bearer token is served from anywhere", token: "s3cret-metrics", remote: "192.0.2.7:9", header: map[string]string{"Authorization": "Bearer s3cret-metrics"}, want: 200},
		{name: "token: a wrong token is refused", token: "s3cret-metrics", remote: "127.0.0.1:9", header: map[string]string{"Authorization": "Bearer nope"}, want: 401},
		{name: "token: loopback without the token is refused", token: "s3cret-metrics", remote: "127.0.0.1:9", want: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := metrics.New(metrics.Options{Token: tc.token})
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			m.Handler().ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status = %d, want %d", w.Code, tc.want)
			}
			if tc.token != "" && strings.Contains(w.Body.String(), tc.token) {
				t.Errorf("the token appears in the answer")
			}
		})
	}
}
