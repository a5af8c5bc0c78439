package sentry

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// sentryLink renders a Link header exactly as Sentry's CURSOR_LINK_HEADER
// does.
func sentryLink(base, prev string, prevResults bool, next string, nextResults bool) string {
	return fmt.Sprintf(`<%s&cursor=%s>; rel="previous"; results="%t"; cursor="%s", <%s&cursor=%s>; rel="next"; results="%t"; cursor="%s"`,
		base, prev, prevResults, prev, base, next, nextResults, next)
}

func TestParseLink(t *testing.T) {
	t.Parallel()
	const base = "https://sentry.io/api/0/organizations/acme/members/?"
	tests := []struct {
		name   string
		header string
		want   Cursor
		wantOK bool
	}{
		{"first page with more", sentryLink(base, "0:0:1", false, "0:100:0", true), "0:100:0", true},
		{"last page", sentryLink(base, "0:0:1", true, "0:200:0", false), "", false},
		{"date cursor", sentryLink(base, "1709294400000:0:1", false, "1709294300000:0:0", true), "1709294300000:0:0", true},
		{"cursor only in the URL", `<https://x/api/0/?cursor=0%3A100%3A0>; rel="next"; results="true"`, "0:100:0", true},
		{"no results attribute follows next", `<https://x/?cursor=a>; rel="next"; cursor="a"`, "a", true},
		{"results in other case", `<https://x/>; rel="next"; results="TRUE"; cursor="b"`, "b", true},
		{"unquoted params", `<https://x/>; rel=next; results=true; cursor=c:1:0`, "c:1:0", true},
		{"comma inside quoted cursor", `<https://x/>; rel="next"; results="true"; cursor="a,b"`, "a,b", true},
		{"rel with several values", `<https://x/>; rel="last next"; results="true"; cursor="d"`, "d", true},
		{"only previous", `<https://x/?cursor=0:0:1>; rel="previous"; results="true"; cursor="0:0:1"`, "", false},
		{"next without cursor", `<https://x/>; rel="next"; results="true"`, "", false},
		{"empty", ``, "", false},
		{"garbage", `not a link header, <<<>>>; ;;=`, "", false},
		{"unterminated", `<https://x/; rel="next"`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseLink(tt.header)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseLink(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMembersFollowsCursorsUntilResultsFalse(t *testing.T) {
	t.Parallel()
	pages := map[string]struct{ body, link string }{
		"":        {`[{"id":"1","email":"a@acme.com"},{"id":"2","email":"b@acme.com"}]`, sentryLink("http://x/?", "0:0:1", false, "0:2:0", true)},
		"0:2:0":   {`[{"id":"3","email":"c@acme.com"}]`, sentryLink("http://x/?", "0:0:1", true, "0:4:0", true)},
		"0:4:0":   {`[{"id":"4","email":"d@acme.com"}]`, sentryLink("http://x/?", "0:2:1", true, "0:6:0", false)},
		"0:6:0":   {`[{"id":"99","email":"never@acme.com"}]`, ""},
		"invalid": {`[]`, ""},
	}
	var gotQueries []string
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotQueries = append(gotQueries, r.URL.Query().Get("query"))
		if got := r.URL.Query().Get("per_page"); got != "100" {
			t.Errorf("per_page = %q, want 100", got)
		}
		p := pages[r.URL.Query().Get("cursor")]
		if p.link != "" {
			w.Header().Set("Link", p.link)
		}
		writeJSON(w, 200, p.body)
	})
	yes := true
	ms, err := c.ListMembers(t.Context(), MemberQuery{Role: "manager", SSOLinked: &yes})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if got, want := fmt.Sprint(ids), "[1 2 3 4]"; got != want {
		t.Errorf("ids = %s, want %s", got, want)
	}
	if got := h.srvHits.Load(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
	for _, q := range gotQueries {
		if q != "role:manager ssoLinked:true" {
			t.Errorf("query = %q, want the filter on every page", q)
		}
	}
}

func TestMembersIteratorStopsWhenCallerBreaks(t *testing.T) {
	t.Parallel()
	c, h := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", sentryLink("http://x/?", "0:0:1", false, "0:1:0", true))
		writeJSON(w, 200, `[{"id":"1"},{"id":"2"}]`)
	})
	for m, err := range c.Members(t.Context(), MemberQuery{}) {
		if err != nil || m.ID != "1" {
			t.Fatalf("first = %+v, %v", m, err)
		}
		break
	}
	if got := h.srvHits.Load(); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestPaginationDetectsARepeatedCursor(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", sentryLink("http://x/?", "0:0:1", false, "0:1:0", true))
		writeJSON(w, 200, `[{"id":"1","slug":"web"}]`)
	})
	_, err := c.ListTeams(t.Context())
	if err == nil {
		t.Fatal("ListTeams looped without error")
	}
}

func TestPaginationErrorMidwayIsYielded(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			w.Header().Set("Link", sentryLink("http://x/?", "0:0:1", false, "0:1:0", true))
			writeJSON(w, 200, `[{"id":"1"}]`)
			return
		}
		writeJSON(w, 400, `{"detail":"Invalid cursor parameter."}`)
	})
	var got []string
	var gotErr error
	for m, err := range c.TeamMembers(t.Context(), "web") {
		if err != nil {
			gotErr = err
			break
		}
		got = append(got, m.ID)
	}
	if fmt.Sprint(got) != "[1]" || !errors.Is(gotErr, ErrInvalid) {
		t.Errorf("got %v, %v; want [1] then ErrInvalid", got, gotErr)
	}
}

func TestMemberQueryEncode(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name string
		q    MemberQuery
		want string
	}{
		{"empty", MemberQuery{}, ""},
		{"every token", MemberQuery{Email: "ana@acme.com", Role: "owner", Scope: "member:admin", IsInvited: &no, SSOLinked: &yes, Has2FA: &no, Text: "ana"},
			"email:ana@acme.com role:owner scope:member:admin isInvited:false ssoLinked:true has2fa:false query:ana"},
		{"free text with spaces is quoted", MemberQuery{Text: `Ana "Bo" Li`}, `query:"Ana \"Bo\" Li"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.q.Encode(); got != tt.want {
				t.Errorf("Encode() = %q, want %q", got, tt.want)
			}
		})
	}
}
