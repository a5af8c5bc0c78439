package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sentry-access/sentry-access/internal/devidp"
)

// NewClient returns an HTTP client with its own cookie jar (one browser)
// that does not follow redirects.
func NewClient(timeout time.Duration) *http.Client {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	return &http.Client{
		Jar: jar, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// A page is tens of kilobytes: read it in large pieces, so the
		// generator's share of the CPU is not mostly read system calls.
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second, ReadBufferSize: 64 << 10},
	}
}

// Login signs c in to the dashboard at baseURL as u through the dev IdP,
// the way a browser does: GET /login, post the AuthnRequest to the IdP,
// post the credentials, post the SAMLResponse to the ACS. It fails unless
// the ACS answers with a redirect (a session cookie was set).
func Login(ctx context.Context, c *http.Client, baseURL string, u devidp.User) error {
	resp, body, err := do(ctx, c, http.MethodGet, baseURL+"/login", nil)
	if err != nil {
		return fmt.Errorf("login: GET /login: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login: GET /login: status %d", resp.StatusCode)
	}
	action, fields, err := firstForm(body)
	if err != nil {
		return fmt.Errorf("login: AuthnRequest form: %w", err)
	}
	ssoURL := resolve(resp.Request.URL, action)
	resp, body, err = do(ctx, c, http.MethodPost, ssoURL, fields)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login: IdP SSO: status %d: %w", status(resp), err)
	}
	action, fields, err = firstForm(body)
	if err != nil {
		return fmt.Errorf("login: IdP login form: %w", err)
	}
	fields.Set("user", u.Username)
	fields.Set("password", u.Password)
	resp, body, err = do(ctx, c, http.MethodPost, resolve(resp.Request.URL, action), fields)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login: IdP credentials: status %d: %w", status(resp), err)
	}
	action, fields, err = firstForm(body)
	if err != nil {
		return fmt.Errorf("login: SAMLResponse form: %w", err)
	}
	resp, _, err = do(ctx, c, http.MethodPost, resolve(resp.Request.URL, action), fields)
	if err != nil {
		return fmt.Errorf("login: ACS: %w", err)
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("login: ACS: status %d, want a redirect", resp.StatusCode)
	}
	return nil
}

func status(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

func resolve(base *url.URL, ref string) string {
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(r).String()
}

// do sends a request and reads the whole body.
func do(ctx context.Context, c *http.Client, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// firstForm returns the first form's action and named input values.
func firstForm(page []byte) (string, url.Values, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return "", nil, err
	}
	f := doc.Find("form").First()
	if f.Length() == 0 {
		return "", nil, fmt.Errorf("no form in %.200q", page)
	}
	action, _ := f.Attr("action")
	vals := url.Values{}
	f.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		vals.Set(name, val)
	})
	return action, vals, nil
}
