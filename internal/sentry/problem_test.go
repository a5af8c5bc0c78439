package sentry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProblemSaysWhatAFailedCallMeansAndWhatToDo reads each answer Sentry
// gives a dashboard token through the real client and checks the sentence
// people see: what it means and the fix, never the raw error.
func TestProblemSaysWhatAFailedCallMeansAndWhatToDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"invalid token", 401, `{"detail":"Invalid token"}`, []string{"Sentry rejected the token (401)", "create a new user auth token", TokenScopes, "SENTRY_AUTH_TOKEN"}},
		{"expired token", 401, `{"detail":"Token expired"}`, []string{"Sentry rejected the token (401): it has expired", TokenScopes}},
		{"missing scope", 403, `{"detail":"You do not have permission to perform this action."}`, []string{"refused the token (403)", "org:read, org:write, org:admin"}},
		{"unknown org", 404, `{"detail":"The requested resource does not exist"}`, []string{"no organization by that slug", "SENTRY_ORG", "https://us.sentry.io"}},
		{"rate limit", 429, `{"detail":"You are attempting to use this endpoint too frequently."}`, []string{"429 (rate limit)", "SENTRY_ACCESS_SYNC_CONCURRENCY"}},
		{"server error", 502, `<html>bad gateway</html>`, []string{"failed (502 Bad Gateway)", "the next sync tries again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c, err := New(Config{BaseURL: srv.URL, Org: "acme", Token: "sntryu_secret_value_1234", MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Organization(context.Background())
			got := Problem(err)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Problem = %q, want it to contain %q", got, w)
				}
			}
			if strings.Contains(got, "sntryu_") || strings.Contains(got, "sentry: ") {
				t.Errorf("Problem = %q leaks the token or the raw error", got)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		c, err := New(Config{BaseURL: "http://" + addr, Org: "acme", Token: "t", MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Organization(context.Background())
		if got := Problem(err); !strings.Contains(got, "Sentry could not be reached") {
			t.Errorf("Problem = %q, want it to say Sentry could not be reached", got)
		}
	})
	t.Run("not a Sentry failure", func(t *testing.T) {
		t.Parallel()
		if got := Problem(errors.New("disk full")); got != "" {
			t.Errorf("Problem = %q, want empty", got)
		}
	})
}
