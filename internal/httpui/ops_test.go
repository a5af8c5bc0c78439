package httpui_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/httpui/uitest"
	"github.com/sentry-access/sentry-access/internal/metrics"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// brokenHome fails, so "/" answers 500.
type brokenHome struct{}

func (brokenHome) Overview(context.Context) (web.OverviewView, error) {
	return web.OverviewView{}, errors.New("read model exploded")
}

type reported struct {
	requestID, route string
	err              error
}

type fakeReporter struct {
	mu  sync.Mutex
	got []reported
}

func (f *fakeReporter) ReportError(_ *http.Request, requestID, route string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, reported{requestID, route, err})
}

func jsonLines(t *testing.T, logs, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func TestEveryRequestGetsOneAccessLogLineMetricsAndServerErrorsAreReported(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	rep := &fakeReporter{}
	env, c := signedIn(t, uitest.Options{Home: brokenHome{}, Deps: func(d *httpui.Deps) {
		d.HTTPMetrics, d.Metrics, d.ErrorReporter = m, m.Handler(), rep
	}}, sentryaccess.RoleViewer)

	resp := get(t, c, env.URL+"/?q=alice@acme.test", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("/ with a broken home = %d, want 500", resp.StatusCode)
	}
	reqID := resp.Header.Get("X-Request-Id")
	get(t, c, env.URL+"/no-such-page", nil)

	var line map[string]any
	for _, rec := range jsonLines(t, env.Logs(), "http request") {
		if rec["request_id"] == reqID {
			if line != nil {
				t.Fatalf("two access log lines for request %s", reqID)
			}
			line = rec
		}
	}
	if line == nil {
		t.Fatalf("no access log line for request %s; logs:\n%s", reqID, env.Logs())
	}
	if line["route"] != "/" || line["status"] != float64(500) || line["method"] != "GET" {
		t.Errorf("access line = %v, want route /, status 500, GET", line)
	}
	if strings.Contains(env.Logs(), "alice@acme.test") && strings.Contains(env.Logs(), "q=alice") {
		t.Errorf("the query string reached the logs")
	}

	rep.mu.Lock()
	if len(rep.got) != 1 || rep.got[0].requestID != reqID || rep.got[0].route != "/" || !strings.Contains(rep.got[0].err.Error(), "read model exploded") {
		t.Errorf("reported = %+v, want the one 500 with its request ID and route", rep.got)
	}
	rep.mu.Unlock()

	mresp := get(t, c, env.URL+"/metrics", nil)
	body, _ := io.ReadAll(mresp.Body)
	if mresp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics from loopback = %d", mresp.StatusCode)
	}
	if want := `sentry_access_http_requests_total{method="GET",route="/",status="500"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %q:\n%s", want, body)
	}
	if strings.Contains(string(body), "no-such-page") {
		t.Errorf("an unknown path became a metric label (unbounded cardinality):\n%s", body)
	}
}

func TestLogHandlerAddsTheRequestIDFromTheContext(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	var seen string
	env, c := signedIn(t, uitest.Options{Home: ctxLoggingHome{log: func(ctx context.Context) {
		log := slogNew(httpui.LogHandler(jsonHandler(w)))
		log.InfoContext(ctx, "service line")
		log.With("request_id", "explicit").InfoContext(ctx, "explicit line")
	}}}, sentryaccess.RoleViewer)
	resp := get(t, c, env.URL+"/", nil)
	seen = resp.Header.Get("X-Request-Id")
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if got := jsonLines(t, logs, "service line"); len(got) != 1 || got[0]["request_id"] != seen {
		t.Errorf("service line = %v, want request_id %s", got, seen)
	}
	if got := jsonLines(t, logs, "explicit line"); len(got) != 1 || got[0]["request_id"] != "explicit" || strings.Count(logs[strings.Index(logs, "explicit line"):], "request_id") != 1 {
		t.Errorf("explicit line = %v; want its own request_id, once", got)
	}
}
