package sentry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestSetOrgRoleResendsTheFullTeamRoles(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var putBody map[string]any
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/0/organizations/acme/members/42/" {
			t.Errorf("path = %s", r.URL.Path)
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, `{"id":"42","email":"ana@acme.com","orgRole":"member",
				"teams":["web","payments","ops"],
				"teamRoles":[{"teamSlug":"web","role":"admin"},{"teamSlug":"payments","role":null},{"teamSlug":"ops","role":"contributor"}]}`)
		case http.MethodPut:
			mu.Lock()
			defer mu.Unlock()
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &putBody); err != nil {
				t.Errorf("PUT body %s: %v", b, err)
			}
			writeJSON(w, 200, `{"id":"42","orgRole":"manager","teamRoles":[{"teamSlug":"web","role":null},{"teamSlug":"payments","role":null},{"teamSlug":"ops","role":null}]}`)
		default:
			t.Errorf("unexpected %s", r.Method)
		}
	})
	m, err := c.SetOrgRole(t.Context(), "42", "manager")
	if err != nil {
		t.Fatal(err)
	}
	if m.OrgRole != "manager" {
		t.Errorf("orgRole = %q", m.OrgRole)
	}
	want := map[string]any{
		// Both: Sentry reads orgRole or its deprecated alias role, and
		// validates both alike (validate_role is validate_orgRole);
		// older servers read role only.
		"orgRole": "manager",
		"role":    "manager",
		"teamRoles": []any{
			map[string]any{"teamSlug": "web", "role": "admin"},
			map[string]any{"teamSlug": "payments", "role": nil}, // stored null sent as null: Sentry reads item["role"] of every entry
			map[string]any{"teamSlug": "ops", "role": "contributor"},
		},
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(putBody, want) {
		t.Errorf("PUT body = %v\nwant %v", putBody, want)
	}
}

func TestSetOrgRoleOfATeamlessMemberSendsAnEmptyList(t *testing.T) {
	t.Parallel()
	var raw string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"id":"5","orgRole":"member","teams":[],"teamRoles":[]}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		raw = string(b)
		writeJSON(w, 200, `{"id":"5","orgRole":"admin"}`)
	})
	if _, err := c.SetOrgRole(t.Context(), "5", "admin"); err != nil {
		t.Fatal(err)
	}
	if want := `{"orgRole":"admin","role":"admin","teamRoles":[]}`; raw != want {
		t.Errorf("PUT body = %s, want %s", raw, want)
	}
}

func TestSetOrgRoleDoesNotWriteWhenTheReadFails(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"detail":"The requested resource does not exist"}`)
	})
	if _, err := c.SetOrgRole(t.Context(), "5", "admin"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if got := h.srvHits.Load(); got != 1 {
		t.Errorf("requests = %d, want only the GET", got)
	}
}

func TestAddMemberToTeamReportsTheOutcomeByStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   JoinResult
	}{
		{201, JoinAdded}, {204, JoinAlreadyMember}, {202, JoinRequested},
	}
	for _, tt := range tests {
		t.Run(tt.want.String(), func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/api/0/organizations/acme/members/7/teams/web/" {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				if tt.status == 204 {
					w.WriteHeader(204)
					return
				}
				writeJSON(w, tt.status, `{"id":"3","slug":"web"}`)
			})
			got, err := c.AddMemberToTeam(t.Context(), "7", "web")
			if err != nil || got != tt.want {
				t.Errorf("AddMemberToTeam = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSetTeamRoleReturnsTheStoredRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *string
	}{
		{"stored as asked", `{"isActive":true,"teamRole":"admin"}`, ptr("admin")},
		{"at or below the minimum, null is stored", `{"isActive":true,"teamRole":null}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sent string
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				sent = string(b)
				writeJSON(w, 200, tt.body)
			})
			got, err := c.SetTeamRole(t.Context(), "7", "web", "admin")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("stored = %v, want %v", got, tt.want)
			}
			if sent != `{"teamRole":"admin"}` {
				t.Errorf("body = %s", sent)
			}
		})
	}
}

func TestAuthProvider(t *testing.T) {
	t.Parallel()
	t.Run("204 means no provider", func(t *testing.T) {
		t.Parallel()
		c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		p, err := c.AuthProvider(t.Context())
		if p != nil || err != nil {
			t.Errorf("AuthProvider = %v, %v; want nil, nil", p, err)
		}
	})
	t.Run("configured provider", func(t *testing.T) {
		t.Parallel()
		c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"id":"1","provider_name":"saml2","pending_links_count":2,"login_url":"https://x/","default_role":"member","require_link":true,"scim_enabled":true}`)
		})
		p, err := c.AuthProvider(t.Context())
		if err != nil || p == nil || !p.SCIMEnabled || p.PendingLinksCount != 2 {
			t.Errorf("AuthProvider = %+v, %v", p, err)
		}
	})
}

func TestAPITokensIsSessionOnlyNeverAnEmptyList(t *testing.T) {
	t.Parallel()
	for _, status := range []int{401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/0/api-tokens/" {
					t.Errorf("path = %s", r.URL.Path)
				}
				writeJSON(w, status, `{"detail":"Authentication credentials were not provided."}`)
			})
			toks, err := c.APITokens(t.Context())
			if toks != nil || !errors.Is(err, ErrSessionOnly) {
				t.Errorf("APITokens = %v, %v; want nil, ErrSessionOnly", toks, err)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != status {
				t.Errorf("err = %v, want the underlying %d too", err, status)
			}
		})
	}
}

func TestProjectsAskForAllProjectsUnpaginated(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("all_projects") != "1" || r.URL.Query().Has("cursor") {
			t.Errorf("query = %s", r.URL.RawQuery)
		}
		writeJSON(w, 200, `[{"id":"1","slug":"api","teams":[{"id":"3","slug":"web","name":"Web"}]}]`)
	})
	ps, err := c.Projects(t.Context())
	if err != nil || len(ps) != 1 || ps[0].Teams[0].Slug != "web" {
		t.Errorf("Projects = %+v, %v", ps, err)
	}
}

func TestResolveAccessRequestSendsIsApproved(t *testing.T) {
	t.Parallel()
	var sent string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/api/0/organizations/acme/access-requests/9/" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		sent = string(b)
		w.WriteHeader(204)
	})
	if err := c.ResolveAccessRequest(t.Context(), "9", false); err != nil {
		t.Fatal(err)
	}
	if sent != `{"isApproved":false}` {
		t.Errorf("body = %s", sent)
	}
}

func TestAuditLogsStopAtSince(t *testing.T) {
	t.Parallel()
	row := func(id string, at time.Time) string {
		return fmt.Sprintf(`{"id":%q,"event":"member.edit","actor":{"id":"1","name":"Ana"},"dateCreated":%q,"data":{}}`, id, at.Format(time.RFC3339))
	}
	since := t0.Add(-90 * time.Minute)
	pages := map[string]struct{ body, link string }{
		"": {fmt.Sprintf(`{"rows":[%s,%s],"options":["member.edit","team.create"]}`, row("10", t0), row("9", t0.Add(-time.Hour))),
			sentryLink("http://x/?", "1:0:1", false, "1709:0:0", true)},
		"1709:0:0": {fmt.Sprintf(`{"rows":[%s,%s],"options":["member.edit","team.create"]}`, row("8", t0.Add(-80*time.Minute)), row("7", t0.Add(-2*time.Hour))),
			sentryLink("http://x/?", "1:0:1", true, "1708:0:0", true)},
		"1708:0:0": {`{"rows":[],"options":[]}`, ""},
	}
	var gotQuery string
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.Query().Get("event") + "|" + r.URL.Query().Get("actor")
		p := pages[r.URL.Query().Get("cursor")]
		if p.link != "" {
			w.Header().Set("Link", p.link)
		}
		writeJSON(w, 200, p.body)
	})
	got, err := c.ListAuditLogs(t.Context(), AuditQuery{Event: "member.edit", ActorID: "1", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got.Rows {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[10 9 8]" {
		t.Errorf("rows = %v, want [10 9 8]", ids)
	}
	if fmt.Sprint(got.Options) != "[member.edit team.create]" {
		t.Errorf("options = %v", got.Options)
	}
	if h.srvHits.Load() != 2 {
		t.Errorf("requests = %d, want 2 (stop at the old row)", h.srvHits.Load())
	}
	if gotQuery != "member.edit|1" {
		t.Errorf("event|actor = %q", gotQuery)
	}
}
