package sentrysim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFailNthAnswers500OnThatRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, DemoFixture(), Options{Faults: Faults{FailNth: []int{2}}})
	var got []int
	for range 3 {
		got = append(got, h.do("GET", org+"/", DemoOwnerToken, nil).status)
	}
	if want := []int{200, 500, 200}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

func TestErrorRateOneAlwaysFails(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	h.srv.SetFaults(Faults{ErrorRate: 1, Seed: 7})
	for range 5 {
		if s := h.do("GET", org+"/", DemoOwnerToken, nil).status; s < 500 {
			t.Errorf("status = %d, want 5xx", s)
		}
	}
	h.srv.SetFaults(Faults{})
	h.do("GET", org+"/", DemoOwnerToken, nil).want(t, 200)
}

func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, DemoFixture(), Options{Faults: Faults{DropRate: 1}})
	req, _ := http.NewRequest("GET", h.url+org+"/", nil)
	req.Header.Set("Authorization", "Bearer "+DemoOwnerToken)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
	}
}

func TestHungRequestIsReleasedByClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, DemoFixture(), Options{Faults: Faults{TimeoutRate: 1}})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", h.url+org+"/", nil)
		req.Header.Set("Authorization", "Bearer "+DemoOwnerToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for h.srv.Stats().Total == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("request finished before Close: %v", err)
	default:
	}
	h.srv.Close()
	if err := <-done; err == nil {
		t.Error("hung request got an answer, want an aborted connection")
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := DemoEpoch().Add(250 * time.Millisecond)
	tests := []struct {
		name        string
		headers     bool
		wantHeaders bool
	}{
		{"sentry.io sends rate-limit headers", true, true},
		{"self-hosted sends none", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, DemoFixture(), Options{Now: func() time.Time { return now },
				RateLimit: RateLimit{PerWindow: 2, Window: time.Second, Headers: tt.headers}})
			h.do("GET", org+"/", DemoOwnerToken, nil).want(t, 200)
			h.do("GET", org+"/", DemoOwnerToken, nil).want(t, 200)
			h.do("GET", org+"/teams/", DemoOwnerToken, nil).want(t, 200) // other endpoint, own window
			h.do("GET", org+"/", DemoManagerToken, nil).want(t, 200)     // other caller, own window
			r := h.do("GET", org+"/", DemoOwnerToken, nil).want(t, 429)
			if got := r.detail(t); got != `"You are attempting to use this endpoint too frequently. Limit is 2 requests in 1 seconds"` {
				t.Errorf("429 detail = %s", got)
			}
			if r.header.Get("Retry-After") != "" {
				t.Error("Sentry sets no Retry-After")
			}
			gotHeaders := r.header.Get("X-Sentry-Rate-Limit-Remaining") != ""
			if gotHeaders != tt.wantHeaders {
				t.Fatalf("rate-limit headers present = %v, want %v", gotHeaders, tt.wantHeaders)
			}
			if tt.wantHeaders {
				if r.header.Get("X-Sentry-Rate-Limit-Remaining") != "0" || r.header.Get("X-Sentry-Rate-Limit-Limit") != "2" {
					t.Errorf("headers = %v", r.header)
				}
				if got, want := r.header.Get("X-Sentry-Rate-Limit-Reset"), "1780304401"; got != want {
					t.Errorf("reset = %s, want %s (next window)", got, want)
				}
			}
		})
	}
}

func TestStatsCountPerEndpoint(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	h.do("GET", org+"/members/", DemoOwnerToken, nil)
	h.do("GET", org+"/members/", DemoOwnerToken, nil)
	h.do("GET", org+"/members/1009/", DemoOwnerToken, nil)
	st := h.srv.Stats()
	if got := st.Endpoints["GET /api/0/organizations/{org}/members/"]; got != 2 {
		t.Errorf("members list count = %d, want 2 (stats %v)", got, st.Endpoints)
	}
	if st.Total != 3 {
		t.Errorf("total = %d, want 3", st.Total)
	}
}

func TestTokensDescribeTheDemoCredentials(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	c := h.srv.Tokens()
	if c.Org != DemoOrgSlug || c.OwnerToken != DemoOwnerToken || c.OwnerEmail != DemoOwnerEmail || c.SCIMToken != DemoSCIMToken {
		t.Errorf("credentials = %+v", c)
	}
	if !strings.HasPrefix(c.IntegrationToken, "demo_integration_access_sync") {
		t.Errorf("integration token = %q", c.IntegrationToken)
	}
}
