package errreport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sentrygo "github.com/getsentry/sentry-go"

	"github.com/sentry-access/sentry-access/internal/errreport"
)

// fakeTransport keeps the events instead of sending them.
type fakeTransport struct {
	mu     sync.Mutex
	events []*sentrygo.Event
}

func (f *fakeTransport) Flush(time.Duration) bool              { return true }
func (f *fakeTransport) FlushWithContext(context.Context) bool { return true }
func (f *fakeTransport) Configure(sentrygo.ClientOptions)      {}
func (f *fakeTransport) Close()                                {}
func (f *fakeTransport) SendEvent(e *sentrygo.Event) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}
func (f *fakeTransport) sent() []*sentrygo.Event { f.mu.Lock(); defer f.mu.Unlock(); return f.events }

const (
	ownerToken = "sntryu_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	scimToken  = "scim-4f1c2d9e8b7a6c5d4e3f2a1b"
	sessionKey = "session-key-that-is-at-least-32-bytes!!"
)

func TestReportedErrorsCarryNoSecretsAndNoRequestDetails(t *testing.T) {
	t.Parallel()
	tr := &fakeTransport{}
	rep, err := errreport.New(errreport.Options{
		DSN: "https://public@sentry.example/1", Transport: tr,
		Secrets: []string{ownerToken, scimToken, sessionKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://access.example/members?q=alice@acme.test", nil)
	r.Header.Set("Cookie", "sa_session="+sessionKey)
	r.Header.Set("Authorization", "Bearer "+scimToken)
	cause := fmt.Errorf("list members with %s and scim %s: %w", ownerToken, scimToken, errors.New("Bearer abcdefghijklmnop refused"))
	rep.ReportError(r, "req-123", "/members", cause)
	rep.Flush(time.Second)

	events := tr.sent()
	if len(events) != 1 {
		t.Fatalf("events sent = %d, want 1", len(events))
	}
	ev := events[0]
	if got := ev.Tags["request_id"]; got != "req-123" {
		t.Errorf("request_id tag = %q, want req-123", got)
	}
	if got := ev.Tags["route"]; got != "/members" {
		t.Errorf("route tag = %q, want /members", got)
	}
	var text strings.Builder
	fmt.Fprintf(&text, "%s %+v %+v %+v", ev.Message, ev.Exception, ev.Tags, ev.Request)
	for _, secret := range []string{ownerToken, scimToken, sessionKey, "abcdefghijklmnop", "alice@acme.test", "sa_session"} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("event contains %q:\n%s", secret, text.String())
		}
	}
	if !strings.Contains(text.String(), "list members with [redacted]") {
		t.Errorf("event lost the error's message:\n%s", text.String())
	}
}

func TestScrubRedactsListedSecretsAndTokenShapes(t *testing.T) {
	t.Parallel()
	sc := errreport.NewScrubber([]string{scimToken, "short"})
	for _, tc := range []struct{ in, want string }{
		{"token " + scimToken + " failed", "token [redacted] failed"},
		{"Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [redacted]"},
		{"org token sntrys_eyJpYXQiOjE3MDB9_abcdef", "org token [redacted]"},
		{"user token " + strings.Repeat("ab", 32), "user token [redacted]"},
		{"a short secret stays: short", "a short secret stays: short"},
	} {
		if got := sc.Scrub(tc.in); got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewRefusesAMissingOrBadDSNWithoutEchoingIt(t *testing.T) {
	t.Parallel()
	if _, err := errreport.New(errreport.Options{}); err == nil {
		t.Error("no DSN accepted")
	}
	_, err := errreport.New(errreport.Options{DSN: "not a dsn secretkey123"})
	if err == nil || strings.Contains(err.Error(), "secretkey123") {
		t.Errorf("bad DSN: err = %v (must fail without echoing the DSN)", err)
	}
}
