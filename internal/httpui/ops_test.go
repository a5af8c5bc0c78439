package httpui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/httpui"
	"github.com/sentry-access/sentry-access/internal/httpui/uitest"
	"github.com/sentry-access/sentry-access/internal/metrics"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

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
	// The read model the dashboard wires, over a store that fails: the
	// overview answers 500.
	st, ex := syncedStore(t, 3, 1, 1)
	env, c := signedIn(t, uitest.Options{Deps: func(d *httpui.Deps) {
		d.Explore, d.HTTPMetrics, d.Metrics, d.ErrorReporter = ex, m, m.Handler(), rep
	}}, sentryaccess.RoleViewer)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	resp := get(t, c, env.URL+"/?q=alice@acme.test", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("/ over a closed store = %d, want 500", resp.StatusCode)
	}
	reqID := resp.Header.Get("X-Request-Id")
	get(t, c, env.URL+"/no-such-page", nil)

	// The access log line is written once the handler returned, which can
	// be after the client read the answer.
	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lines = lines[:0]
		for _, rec := range jsonLines(t, env.Logs(), "http request") {
			if rec["request_id"] == reqID {
				lines = append(lines, rec)
			}
		}
		if len(lines) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d access log lines for request %s, want 1; logs:\n%s", len(lines), reqID, env.Logs())
	}
	line := lines[0]
	if line["route"] != "/" || line["status"] != float64(500) || line["method"] != "GET" {
		t.Errorf("access line = %v, want route /, status 500, GET", line)
	}
	// Either leak fails: the query's email, or the query string itself.
	if logs := env.Logs(); strings.Contains(logs, "alice@acme.test") || strings.Contains(logs, "q=alice") {
		t.Errorf("the query string reached the logs")
	}

	rep.mu.Lock()
	if len(rep.got) != 1 || rep.got[0].requestID != reqID || rep.got[0].route != "/" || !strings.Contains(rep.got[0].err.Error(), "database not open") {
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

// A service that logs with the request's context (the change-request
// inbox, when Sentry's access requests have not been read yet) gets the
// request's ID on its line, through the handler cmd/sentry-access wires.
func TestLogHandlerAddsTheRequestIDFromTheContext(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	st, _ := syncedStore(t, 3, 1, 1)
	svc := changes.New(changes.Config{Repo: changes.NewStoreRepo(st), Snapshots: changeData{st}, AccessRequests: changeData{st},
		Previewer: changes.EnginePreviewer{}, Executor: changes.SentryExecutor{}, Logger: slogNew(httpui.LogHandler(jsonHandler(w)))})
	env, c := signedIn(t, uitest.Options{Deps: func(d *httpui.Deps) { d.Changes = svc }}, sentryaccess.RoleViewer)
	resp := get(t, c, env.URL+"/changes", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/changes = %d", resp.StatusCode)
	}
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if got := jsonLines(t, logs, "read Sentry's access requests"); len(got) != 1 || got[0]["request_id"] != resp.Header.Get("X-Request-Id") {
		t.Errorf("service line = %v, want request_id %s; logs:\n%s", got, resp.Header.Get("X-Request-Id"), logs)
	}
}
