package sentry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestSCIMUsersPageByStartIndexWithTheSCIMToken(t *testing.T) {
	t.Parallel()
	const total = 5
	var starts []string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.Header.Get("Authorization"), "Bearer "+testSCIMToken; got != want {
			t.Errorf("Authorization = %q, want the SCIM token", got)
		}
		if r.URL.Path != "/api/0/organizations/acme/scim/v2/Users" {
			t.Errorf("path = %s", r.URL.Path)
		}
		if got := r.URL.Query().Get("filter"); got != `userName eq "ana@acme.com"` {
			t.Errorf("filter = %q", got)
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		starts = append(starts, r.URL.Query().Get("startIndex"))
		// The server pages by 2 whatever count says.
		var res []string
		for i := start; i < start+2 && i <= total; i++ {
			res = append(res, fmt.Sprintf(`{"id":"%d","userName":"u%d@acme.com","active":true,"sentryOrgRole":"member"}`, i, i))
		}
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprintf(w, `{"schemas":[%q],"totalResults":%d,"startIndex":%d,"itemsPerPage":%d,"Resources":[%s]}`,
			SCIMListSchema, total, start, len(res), strings.Join(res, ","))
	})
	filter, err := SCIMFilterEq("userName", "ana@acme.com")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for u, err := range c.SCIMUsers(t.Context(), filter) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if fmt.Sprint(ids) != "[1 2 3 4 5]" {
		t.Errorf("ids = %v", ids)
	}
	if fmt.Sprint(starts) != "[1 3 5]" {
		t.Errorf("startIndex sequence = %v, want [1 3 5]", starts)
	}
}

func TestSCIMGroupsExcludeMembers(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("excludedAttributes") != "members" {
			t.Errorf("query = %s", r.URL.RawQuery)
		}
		fmt.Fprintf(w, `{"schemas":[%q],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{"id":"3","displayName":"Web"}]}`, SCIMListSchema)
	})
	var got []string
	for g, err := range c.SCIMGroups(t.Context(), "", true) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, g.DisplayName)
	}
	if fmt.Sprint(got) != "[Web]" {
		t.Errorf("groups = %v", got)
	}
}

func TestCreateSCIMUserRefusesOrgAdminRolesClientSide(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request sent") })
	_, err := c.CreateSCIMUser(t.Context(), "ana@acme.com", "owner")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "org:admin") {
		t.Errorf("err = %v, want ErrInvalid explaining org:admin", err)
	}
	if h.srvHits.Load() != 0 {
		t.Error("the server was called")
	}
}

func TestCreateSCIMUserSendsUserNameAndRole(t *testing.T) {
	t.Parallel()
	var body map[string]any
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		writeJSON(w, 201, `{"id":"8","userName":"ana@acme.com","sentryOrgRole":"manager"}`)
	})
	u, err := c.CreateSCIMUser(t.Context(), "ana@acme.com", "manager")
	if err != nil || u.ID != "8" {
		t.Fatalf("CreateSCIMUser = %+v, %v", u, err)
	}
	want := map[string]any{"schemas": []any{SCIMUserSchema}, "userName": "ana@acme.com", "sentryOrgRole": "manager"}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v, want %v", body, want)
	}
}

func TestSCIMConflictIsErrConflict(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 409, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User already exists in the database."}`)
	})
	_, err := c.CreateSCIMUser(t.Context(), "ana@acme.com", "")
	var apiErr *APIError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &apiErr) || !apiErr.SCIM {
		t.Errorf("err = %v, want a SCIM ErrConflict", err)
	}
}

func TestSCIMPatchBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(c *Client) error
		path string
		want string
	}{
		{"deactivate user", func(c *Client) error { return c.DeactivateSCIMUser(t.Context(), "12") }, "/Users/12",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`},
		{"add members", func(c *Client) error { return c.AddSCIMGroupMembers(t.Context(), "3", "12", "13") }, "/Groups/3",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"12"},{"value":"13"}]}]}`},
		{"remove members", func(c *Client) error { return c.RemoveSCIMGroupMembers(t.Context(), "3", "12", "13") }, "/Groups/3",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"12\"]"},{"op":"remove","path":"members[value eq \"13\"]"}]}`},
		{"replace members with none", func(c *Client) error { return c.ReplaceSCIMGroupMembers(t.Context(), "3") }, "/Groups/3",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[]}]}`},
		{"rename", func(c *Client) error { return c.RenameSCIMGroup(t.Context(), "3", "Web Team") }, "/Groups/3",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"displayName":"Web Team"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got, path string
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPatch {
					t.Errorf("method = %s", r.Method)
				}
				b, _ := io.ReadAll(r.Body)
				got, path = string(b), strings.TrimPrefix(r.URL.Path, "/api/0/organizations/acme/scim/v2")
				w.WriteHeader(204)
			})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if got != tt.want || path != tt.path {
				t.Errorf("PATCH %s %s\nwant  %s %s", path, got, tt.path, tt.want)
			}
		})
	}
}

func TestRemoveSCIMGroupMembersSplitsAtSentrysOperationLimit(t *testing.T) {
	t.Parallel()
	var opsPerPatch []int
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		var p SCIMPatch
		json.NewDecoder(r.Body).Decode(&p)
		opsPerPatch = append(opsPerPatch, len(p.Operations))
		w.WriteHeader(204)
	})
	ids := make([]string, 150)
	for i := range ids {
		ids[i] = strconv.Itoa(i + 1)
	}
	if err := c.RemoveSCIMGroupMembers(t.Context(), "3", ids...); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(opsPerPatch) != "[100 50]" {
		t.Errorf("operations per PATCH = %v, want [100 50]", opsPerPatch)
	}
}

func TestSCIMBuildersRejectBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{"group id must be numeric (not a slug)", checkIDs("group", []string{"web"})},
		{"member id cannot escape the filter", func() error { _, err := NewSCIMRemoveMembersPatch(`1"] or [value eq "2`); return err }()},
		{"no members to add", func() error { _, err := NewSCIMAddMembersPatch(); return err }()},
		{"more than 100 remove ops", func() error { _, err := NewSCIMRemoveMembersPatch(make([]string, 101)...); return err }()},
		{"empty rename", func() error { _, err := NewSCIMRenamePatch(" "); return err }()},
		{"unsupported filter attribute", func() error { _, err := SCIMFilterEq("emails", "x"); return err }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !errors.Is(tt.err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", tt.err)
			}
		})
	}
}

func TestSCIMFilterEqEscapesQuotes(t *testing.T) {
	t.Parallel()
	got, err := SCIMFilterEq("displayName", `Web "Core"`)
	if want := `displayName eq "Web \"Core\""`; err != nil || got != want {
		t.Errorf("SCIMFilterEq = %q, %v; want %q", got, err, want)
	}
}

func TestSCIMWithoutSCIMTokenFailsClearly(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {}, func(cfg *Config) { cfg.SCIMToken = "" })
	_, err := c.SCIMUser(t.Context(), "1")
	if err == nil || !strings.Contains(err.Error(), "SCIMToken is not configured") {
		t.Errorf("err = %v", err)
	}
	if h.srvHits.Load() != 0 {
		t.Error("request sent without a token")
	}
}
