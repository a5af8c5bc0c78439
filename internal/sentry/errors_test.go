package sentry

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrorBodyUnderstandsEverySentryShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   APIError
	}{
		{"DRF string detail", 403, `{"detail":"You do not have permission to perform this action."}`,
			APIError{Status: 403, Detail: "You do not have permission to perform this action."}},
		{"structured SentryAPIException with extra", 401, `{"detail":{"code":"sso-required","message":"Must login via SSO","extra":{"loginUrl":"https://sentry.io/auth/login/acme/"}}}`,
			APIError{Status: 401, Code: "sso-required", Detail: "Must login via SSO", Extra: map[string]any{"loginUrl": "https://sentry.io/auth/login/acme/"}}},
		{"list detail (project-team DELETE)", 403, `{"detail":["You do not have permission to perform this action."]}`,
			APIError{Status: 403, Detail: "You do not have permission to perform this action."}},
		{"per-field serializer errors", 400, `{"email":["The user ana@acme.com is already a member"]}`,
			APIError{Status: 400, Detail: "email: The user ana@acme.com is already a member", Fields: map[string][]string{"email": {"The user ana@acme.com is already a member"}}}},
		{"field with a bare string", 403, `{"role":"You do not have permission to assign the given role."}`,
			APIError{Status: 403, Detail: "role: You do not have permission to assign the given role.", Fields: map[string][]string{"role": {"You do not have permission to assign the given role."}}}},
		{"non_field_errors plus detail (409 team)", 409, `{"non_field_errors":["A team with this slug already exists."],"detail":"A team with this slug already exists."}`,
			APIError{Status: 409, Detail: "A team with this slug already exists.", Fields: map[string][]string{"non_field_errors": {"A team with this slug already exists."}}}},
		{"SCIM error with scimType", 400, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidFilter"}`,
			APIError{Status: 400, SCIM: true, Code: "invalidFilter"}},
		{"SCIM error with detail", 409, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User already exists in the database."}`,
			APIError{Status: 409, SCIM: true, Detail: "User already exists in the database."}},
		{"bare JSON list", 400, `["Invalid team", "Another"]`, APIError{Status: 400, Detail: "Invalid team; Another"}},
		{"bare JSON string", 400, `"nope"`, APIError{Status: 400, Detail: "nope"}},
		{"HTML page from a proxy", 502, "<html>\n <body>Bad   Gateway</body>\n</html>", APIError{Status: 502, Detail: "<html> <body>Bad Gateway</body> </html>"}},
		{"empty body", 404, ``, APIError{Status: 404}},
		{"JSON number", 500, `42`, APIError{Status: 500, Detail: "42"}},
		{"org invite feature off", 403, `{"organization":"Your organization is not allowed to invite members"}`,
			APIError{Status: 403, Detail: "organization: Your organization is not allowed to invite members", Fields: map[string][]string{"organization": {"Your organization is not allowed to invite members"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseErrorBody(tt.status, []byte(tt.body))
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("ParseErrorBody(%d, %s)\n got %#v\nwant %#v", tt.status, tt.body, *got, tt.want)
			}
		})
	}
}

func TestParseErrorBodyTruncatesLongText(t *testing.T) {
	t.Parallel()
	got := ParseErrorBody(500, []byte(strings.Repeat("x", 5000)))
	if n := len([]rune(got.Detail)); n != maxDetailLen+1 {
		t.Errorf("detail has %d runes, want %d (+ ellipsis)", n, maxDetailLen+1)
	}
}

func TestAPIErrorMatchesSentinelByStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   error
	}{
		{401, ErrUnauthorized}, {403, ErrForbidden}, {404, ErrNotFound}, {409, ErrConflict},
		{429, ErrRateLimited}, {400, ErrInvalid}, {422, ErrInvalid},
	}
	all := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrRateLimited, ErrInvalid, ErrSessionOnly}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			err := error(&APIError{Status: tt.status})
			for _, s := range all {
				if got, want := errors.Is(err, s), s == tt.want; got != want {
					t.Errorf("errors.Is(%d, %v) = %v, want %v", tt.status, s, got, want)
				}
			}
		})
	}
	if errors.Is(&APIError{Status: 500}, ErrInvalid) {
		t.Error("a 500 matched ErrInvalid")
	}
}

func TestForbiddenNamesTheScopesTheEndpointNeeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		call       func(c *Client) error
		wantScopes []string
	}{
		{"audit log needs org:write", func(c *Client) error { _, err := c.ListAuditLogs(t.Context(), AuditQuery{}); return err }, []string{"org:write"}},
		{"members list needs member:read", func(c *Client) error { _, err := c.ListMembers(t.Context(), MemberQuery{}); return err }, []string{"member:read", "member:write", "member:admin"}},
		{"team delete needs team:admin", func(c *Client) error { return c.DeleteTeam(t.Context(), "web") }, []string{"team:admin"}},
		{"project-team unlink needs project:write", func(c *Client) error { _, err := c.RemoveProjectTeam(t.Context(), "api", "web"); return err }, []string{"project:write", "project:admin"}},
		{"SCIM user delete needs member:admin", func(c *Client) error { return c.DeleteSCIMUser(t.Context(), "4") }, []string{"member:admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 403, `{"detail":"You do not have permission to perform this action."}`)
			})
			err := tt.call(c)
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			var apiErr *APIError
			errors.As(err, &apiErr)
			if !reflect.DeepEqual(apiErr.RequiredScopes, tt.wantScopes) {
				t.Errorf("RequiredScopes = %v, want %v", apiErr.RequiredScopes, tt.wantScopes)
			}
			if !strings.Contains(err.Error(), strings.Join(tt.wantScopes, ", ")) {
				t.Errorf("Error() = %q does not name the scopes", err)
			}
		})
	}
}

func TestAPIErrorMessageNamesTemplateNotConcreteURL(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"detail":"The requested resource does not exist"}`)
	})
	_, err := c.Member(t.Context(), "4242")
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.Method != "GET" || apiErr.Endpoint != epMember {
		t.Errorf("Method, Endpoint = %q, %q", apiErr.Method, apiErr.Endpoint)
	}
	want := "sentry: GET /organizations/{org}/members/{member_id}/: 404 Not Found: The requested resource does not exist"
	if apiErr.Error() != want {
		t.Errorf("Error() = %q, want %q", apiErr.Error(), want)
	}
}
