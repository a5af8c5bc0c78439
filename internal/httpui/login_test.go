package httpui_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/httpui/uitest"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func get(t *testing.T, c *http.Client, u string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func doc(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoginLandsOnTheReturnPathWithTheUsersEmailAndRole(t *testing.T) {
	t.Parallel()
	env := uitest.Start(t, uitest.Options{})
	c := env.Client(t)
	approver, _ := env.IdP.UserWithRole(sentryaccess.RoleApprover)

	resp := env.Login(t, c, approver, "/?tab=1")
	if got, want := resp.StatusCode, http.StatusFound; got != want {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("ACS status = %d, want %d; body %.400s\nlogs: %s", got, want, b, env.Logs())
	}
	if got, want := resp.Header.Get("Location"), "/?tab=1"; got != want {
		t.Errorf("ACS redirect = %q, want %q", got, want)
	}

	page := doc(t, get(t, c, env.URL+"/", nil))
	if got := page.Find(`[data-testid="user-email"]`).Text(); got != approver.Email {
		t.Errorf("user email shown = %q, want %q", got, approver.Email)
	}
	if got := page.Find(`[data-testid="user-role"]`).Text(); got != "approver" {
		t.Errorf("role shown = %q, want approver", got)
	}
	if !strings.Contains(page.Find("title").Text(), "Overview") {
		t.Errorf("title = %q, want the overview", page.Find("title").Text())
	}
}
