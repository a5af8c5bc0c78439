package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// loopback allows the local test receivers (refused by default).
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// receiver is a local webhook endpoint that answers the statuses in plan
// (then 200) and records what it got.
type receiver struct {
	mu   sync.Mutex
	plan []int
	got  []*http.Request
	body []string
	srv  *httptest.Server
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{plan: plan}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, req)
		r.body = append(r.body, string(b))
		status := http.StatusOK
		if len(r.plan) > 0 {
			status, r.plan = r.plan[0], r.plan[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

type env struct {
	n     *notify.Notifier
	st    *store.Store
	clock *time.Time
}

func newEnv(t *testing.T) env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := t0
	n := notify.New(notify.Config{
		Repo: notify.NewStoreRepo(st), Now: func() time.Time { return now }, BaseURL: "https://access.acme.test",
		Allow:       loopback,                             // the test receivers listen on 127.0.0.1
		Rand:        func(n int64) int64 { return n - 1 }, // the longest wait: deterministic
		MaxAttempts: 4, Backoff: time.Minute, MaxBackoff: 10 * time.Minute,
	})
	return env{n: n, st: st, clock: &now}
}

func (e env) subscribe(t *testing.T, url string, f notify.Format, events ...notify.EventKind) (notify.SubscriptionView, string) {
	t.Helper()
	v, secret, err := e.n.SaveSubscription(context.Background(), notify.SubscriptionInput{
		Name: "ops", URL: url, Format: f, Events: events, Enabled: true, RotateSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	return v, secret
}

func TestBackoffDoublesUpToTheCapWithEqualJitter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		rand    int64 // what Rand returns
		want    time.Duration
	}{
		{1, 0, 30 * time.Second},
		{1, 1 << 62, time.Minute}, // the largest jitter: the whole doubled wait
		{2, 0, time.Minute},
		{3, 0, 2 * time.Minute},
		{10, 0, 5 * time.Minute}, // capped at 10 min, half fixed
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.attempt), func(t *testing.T) {
			n := notify.New(notify.Config{Backoff: time.Minute, MaxBackoff: 10 * time.Minute,
				Rand: func(n int64) int64 { return min(tt.rand, n-1) }})
			if got := n.Backoff(tt.attempt); got != tt.want {
				t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestFailuresAreRetriedWithBackoffThenDelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t, 500, 503)
	_, secret := e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, notify.EventRequestAwaiting)

	r := &changes.Request{ID: "12", Title: "add ana to payments", Requester: "bo@acme.test", Required: 1,
		State: changes.StatePendingApproval, CreatedAt: t0}
	if err := e.n.RequestAwaitingApproval(ctx, r); err != nil {
		t.Fatal(err)
	}
	// Publishing the same request again queues nothing new.
	if err := e.n.RequestAwaitingApproval(ctx, r); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance      time.Duration
		wantAttempts int // receiver's total
		wantState    notify.DeliveryState
	}{
		{0, 1, notify.DeliveryPending},                 // 500
		{59 * time.Second, 1, notify.DeliveryPending},  // not due yet (backoff 1 min)
		{time.Second, 2, notify.DeliveryPending},       // 503
		{2 * time.Minute, 3, notify.DeliveryDelivered}, // 200
		{time.Hour, 3, notify.DeliveryDelivered},       // nothing left
	}
	for i, st := range steps {
		*e.clock = e.clock.Add(st.advance)
		if _, err := e.n.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rcv.count(); got != st.wantAttempts {
			t.Fatalf("step %d: receiver got %d requests, want %d", i, got, st.wantAttempts)
		}
		log, err := e.n.Deliveries(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].State != st.wantState {
			t.Fatalf("step %d: log = %+v, want one %s delivery", i, log, st.wantState)
		}
	}
	log, _ := e.n.Deliveries(ctx, 10)
	if d := log[0]; d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" || d.Delivered == nil {
		t.Errorf("delivery = %+v", d)
	}
	// Every attempt is signed over timestamp.body with the secret.
	req := rcv.got[2]
	ts, _ := strconv.ParseInt(req.Header.Get("X-Sentry-Access-Timestamp"), 10, 64)
	if got, want := req.Header.Get("X-Sentry-Access-Signature"), notify.Sign(secret, time.Unix(ts, 0), []byte(rcv.body[2])); got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(rcv.body[2]), &body); err != nil {
		t.Fatal(err)
	}
	if body["event"] != string(notify.EventRequestAwaiting) || body["link"] != "https://access.acme.test/changes/12" {
		t.Errorf("generic body = %v", body)
	}
}

func TestADeliveryIsGivenUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t, 500, 500, 500, 500, 500)
	e.subscribe(t, rcv.srv.URL, notify.FormatSlack, notify.EventGrantExpiring)
	g := changes.Grant{ID: "3", RequestID: "3", Title: "ana on payments", Member: "1", ExpiresAt: t0.Add(24 * time.Hour)}
	if err := e.n.GrantsExpiring(ctx, []changes.Grant{g}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := e.n.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		*e.clock = e.clock.Add(time.Hour)
	}
	log, _ := e.n.Deliveries(ctx, 10)
	if rcv.count() != 4 || log[0].State != notify.DeliveryFailed || !strings.Contains(log[0].LastError, "500") {
		t.Errorf("after 10 rounds: %d requests, delivery %+v; want 4 attempts then failed", rcv.count(), log[0])
	}
	if !strings.HasPrefix(rcv.body[0], `{"text":"*Time-bound access expires`) {
		t.Errorf("slack body = %s", rcv.body[0])
	}
}

func TestPendingDeliveriesSurviveARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sa.db")
	rcv := newReceiver(t)
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.New(notify.Config{Repo: notify.NewStoreRepo(st), Now: func() time.Time { return t0 }, Allow: loopback})
	if _, _, err := n.SaveSubscription(ctx, notify.SubscriptionInput{Name: "x", URL: rcv.srv.URL, Format: notify.FormatGeneric,
		Events: []notify.EventKind{notify.EventFindingsNew}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, notify.Event{Kind: notify.EventFindingsNew, ID: "9", Title: "x"}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close() // "crash" before delivering

	st, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n = notify.New(notify.Config{Repo: notify.NewStoreRepo(st), Now: func() time.Time { return t0 }, Allow: loopback})
	if got, err := n.DeliverDue(ctx); err != nil || got != 1 || rcv.count() != 1 {
		t.Errorf("after restart: attempted %d (%v), receiver got %d; want the queued delivery sent", got, err, rcv.count())
	}
}

func TestOnlyWantedEventsAreQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.subscribe(t, "http://127.0.0.1:9/a", notify.FormatGeneric, notify.EventAccessChanged)
	e.subscribe(t, "http://127.0.0.1:9/b", notify.FormatGeneric, notify.EventAccessChanged, notify.EventFindingsNew)
	tests := []struct {
		kind notify.EventKind
		want int
	}{
		{notify.EventAccessChanged, 2},
		{notify.EventFindingsNew, 1},
		{notify.EventGrantExpiring, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			got, err := e.n.Publish(ctx, notify.Event{Kind: tt.kind, ID: "1"})
			if err != nil || got != tt.want {
				t.Errorf("queued %d (%v), want %d", got, err, tt.want)
			}
		})
	}
}

func TestSnapshotChangesAnnounceFindingsAndAccessChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t)
	e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, notify.EventAccessChanged, notify.EventFindingsNew)
	before := &access.Snapshot{
		Org:     access.Org{Slug: "acme", Require2FA: true},
		Members: []access.Member{{ID: "1", Email: "ana@acme.test", OrgRole: "owner", State: access.StateActive}, {ID: "2", Email: "bo@acme.test", OrgRole: "owner", State: access.StateActive}},
	}
	after := before.Clone()
	after.Members = after.Members[:1] // bo left: a single owner remains
	d := access.Diff(before, after)
	if err := e.n.SnapshotChanged(ctx, 1, 2, access.New(before), access.New(after), &d); err != nil {
		t.Fatal(err)
	}
	if _, err := e.n.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range rcv.got {
		events = append(events, r.Header.Get("X-Sentry-Access-Event"))
	}
	if strings.Join(events, ",") != "findings.new,access.changed" {
		t.Fatalf("events = %v", events)
	}
	if !strings.Contains(rcv.body[0], "only one active owner") || !strings.Contains(rcv.body[1], "1 member(s) removed: bo@acme.test") {
		t.Errorf("bodies = %s\n%s", rcv.body[0], rcv.body[1])
	}
}

func TestSecretsAreNeverShownAfterCreation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	v, secret := e.subscribe(t, "https://hooks.example.test/x", notify.FormatSlack, notify.EventFindingsNew)
	if !strings.HasPrefix(secret, "whsec_") || !v.HasSecret {
		t.Fatalf("secret = %q, view = %+v", secret, v)
	}
	// Editing without a new secret keeps the old one.
	if _, shown, err := e.n.SaveSubscription(ctx, notify.SubscriptionInput{ID: v.ID, Name: "ops2", URL: v.URL, Format: v.Format, Events: v.Events, Enabled: true}); err != nil || shown != "" {
		t.Fatalf("edit: shown %q, %v", shown, err)
	}
	sub, _ := notify.NewStoreRepo(e.st).Subscription(ctx, v.ID)
	if sub.Secret != secret {
		t.Error("editing lost the secret")
	}
	list, _ := e.n.Subscriptions(ctx)
	if b, _ := json.Marshal(list); strings.Contains(string(b), secret) {
		t.Errorf("the subscription list carries the secret: %s", b)
	}
}

func TestSubscriptionValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sub  notify.Subscription
		want string
	}{
		{"relative URL", notify.Subscription{Name: "x", URL: "/hook", Format: notify.FormatGeneric, Events: notify.EventKinds()}, "absolute http(s)"},
		{"credentials in URL", notify.Subscription{Name: "x", URL: "https://u:p@h/x", Format: notify.FormatGeneric, Events: notify.EventKinds()}, "credentials"},
		{"no events", notify.Subscription{Name: "x", URL: "https://h/x", Format: notify.FormatGeneric}, "at least one event"},
		{"bad format", notify.Subscription{Name: "x", URL: "https://h/x", Format: "xml", Events: notify.EventKinds()}, "unknown format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sub.Validate()
			if msg := strings.ToLower(sentryaccess.ErrorMessage(err)); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID || !strings.Contains(msg, tt.want) {
				t.Errorf("err = %v, want an EINVALID error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDriftFindingsAreAnnouncedOnceEach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t)
	e.subscribe(t, rcv.srv.URL, notify.FormatGeneric, notify.EventFindingsNew)
	stale := notify.Finding{Key: "token-unused:ci-prod", Title: "Token unused", Detail: "ci-prod unused for 120 days", Link: "/tokens"}
	drift := notify.Finding{Key: "scim-missing:ana@acme.test", Title: "SCIM user missing", Detail: "ana@acme.test", Link: "/scim"}

	deliveries := func() int {
		ds, err := e.n.Deliveries(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	if err := e.n.DriftFindings(ctx, []notify.Finding{stale}); err != nil {
		t.Fatal(err)
	}
	if got := deliveries(); got != 1 {
		t.Fatalf("first sync: %d deliveries, want 1", got)
	}
	// The next sync still finds the stale token and one new drift: only
	// the new one is announced.
	if err := e.n.DriftFindings(ctx, []notify.Finding{stale, drift}); err != nil {
		t.Fatal(err)
	}
	if got := deliveries(); got != 2 {
		t.Fatalf("second sync: %d deliveries, want 2 (one event per sync with new findings)", got)
	}
	// Nothing new: nothing sent.
	if err := e.n.DriftFindings(ctx, []notify.Finding{stale, drift}); err != nil {
		t.Fatal(err)
	}
	if got := deliveries(); got != 2 {
		t.Fatalf("third sync: %d deliveries, want still 2", got)
	}
}

// Webhooks go to receivers outside the network the dashboard runs in: a
// URL whose host is, or resolves to, a loopback, private, link-local or
// cloud-metadata address is refused at send time, on the address actually
// dialled, unless the allowlist names it.
func TestInternalAddressesAreRefusedUnlessAllowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rcv := newReceiver(t)
	_, port, _ := strings.Cut(strings.TrimPrefix(rcv.srv.URL, "http://"), ":")
	tests := []struct {
		name  string
		url   string
		allow []netip.Prefix
		sent  bool
	}{
		{"loopback by IP", rcv.srv.URL, nil, false},
		{"loopback by a name that resolves to it", "http://localhost:" + port + "/", nil, false},
		{"IPv6 loopback", "http://[::1]:" + port + "/", nil, false},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + port + "/", nil, false},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", nil, false},
		{"link-local IPv6", "http://[fe80::1]:80/", nil, false},
		{"private 10/8", "http://10.1.2.3:80/", nil, false},
		{"private 192.168/16", "http://192.168.0.10:80/", nil, false},
		{"private 172.16/12", "http://172.20.0.1:80/", nil, false},
		{"unique local IPv6", "http://[fd00:ec2::254]:80/", nil, false},
		{"carrier-grade NAT (Alibaba's metadata address)", "http://100.100.100.200/", nil, false},
		{"unspecified", "http://0.0.0.0:" + port + "/", nil, false},
		{"an allowlisted internal receiver", rcv.srv.URL, loopback, true},
		{"an allowlist of another range", rcv.srv.URL, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false},
	}
	for _, tt := range tests {
		// One at a time: every case counts the one receiver's requests.
		t.Run(tt.name, func(t *testing.T) {
			st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			n := notify.New(notify.Config{Repo: notify.NewStoreRepo(st), Now: func() time.Time { return t0 }, Allow: tt.allow, Timeout: 2 * time.Second})
			v, _, err := n.SaveSubscription(ctx, notify.SubscriptionInput{Name: "x", URL: tt.url, Format: notify.FormatGeneric,
				Events: []notify.EventKind{notify.EventFindingsNew}, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			before := rcv.count()
			d, err := n.SendTest(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.State == notify.DeliveryDelivered; got != tt.sent {
				t.Fatalf("delivered = %v (%+v), want %v", got, d, tt.sent)
			}
			if tt.sent {
				return
			}
			if strings.Contains(tt.url, port) && rcv.count() != before {
				t.Error("the refused address was connected to")
			}
			if !strings.Contains(d.LastError, "internal address") || !strings.Contains(d.LastError, "SENTRY_ACCESS_WEBHOOK_ALLOW") {
				t.Errorf("last error = %q, want it to say the address is internal and how to allow it", d.LastError)
			}
		})
	}
}

// What an admin reads after a failed send is a sentence, the same for
// every way a connection can fail: it does not tell a closed port from a
// filtered one or a name that does not resolve.
func TestAFailedSendSaysTheSameForEveryNetworkError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, url := range []string{closedURL, "http://no-such-host.invalid/hook"} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			n := notify.New(notify.Config{Repo: notify.NewStoreRepo(st), Now: func() time.Time { return t0 }, Allow: loopback, Timeout: 2 * time.Second})
			v, _, err := n.SaveSubscription(ctx, notify.SubscriptionInput{Name: "x", URL: url, Format: notify.FormatGeneric,
				Events: []notify.EventKind{notify.EventFindingsNew}, Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			d, err := n.SendTest(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.LastError != "The receiver could not be reached." {
				t.Errorf("last error = %q, want the generic sentence", d.LastError)
			}
		})
	}
}
