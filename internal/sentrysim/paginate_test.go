package sentrysim

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

var linkPattern = regexp.MustCompile(`<([^>]*)>; rel="(previous|next)"; results="(true|false)"; cursor="([^"]*)"`)

type link struct{ url, results, cursor string }

func parseLink(t *testing.T, header string) map[string]link {
	t.Helper()
	out := map[string]link{}
	for _, m := range linkPattern.FindAllStringSubmatch(header, -1) {
		out[m[2]] = link{url: m[1], results: m[3], cursor: m[4]}
	}
	if len(out) != 2 {
		t.Fatalf("Link %q lacks both rels", header)
	}
	return out
}

func TestOffsetPaginationLikeSentry(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	r := h.do("GET", org+"/members/?per_page=10", DemoOwnerToken, nil).want(t, 200)
	links := parseLink(t, r.header.Get("Link"))
	if links["previous"].results != "false" || links["next"].results != "true" || links["next"].cursor != "10:1:0" {
		t.Errorf("first page links = %+v", links)
	}
	seen := map[string]bool{}
	path := org + "/members/?per_page=10"
	for range 10 {
		var page []sentry.Member
		r := h.do("GET", path, DemoOwnerToken, nil).want(t, 200)
		r.decode(t, &page)
		for _, m := range page {
			if seen[m.ID] {
				t.Fatalf("member %s on two pages", m.ID)
			}
			seen[m.ID] = true
		}
		next := parseLink(t, r.header.Get("Link"))["next"]
		if next.results == "false" {
			break
		}
		path = strings.TrimPrefix(next.url, h.url)
	}
	if len(seen) != 40 {
		t.Errorf("paged through %d members, want 40", len(seen))
	}
}

func TestPaginationErrors(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	tests := []struct{ query, want string }{
		{"per_page=abc", `"Invalid per_page parameter."`},
		{"per_page=101", `"Invalid per_page value. Cannot exceed 100."`},
		{"cursor=garbage", `"Invalid cursor parameter."`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := h.do("GET", org+"/teams/?"+tt.query, DemoOwnerToken, nil).want(t, 400)
			if got := r.detail(t); got != tt.want {
				t.Errorf("detail = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAuditLogPagesByDate(t *testing.T) {
	t.Parallel()
	h := demoHarness(t)
	var total int
	seen := map[string]bool{}
	path := org + "/audit-logs/?per_page=37"
	var last sentry.AuditLogEntry
	for range 100 {
		var page sentry.AuditLogPage
		r := h.do("GET", path, DemoOwnerToken, nil).want(t, 200)
		r.decode(t, &page)
		for _, e := range page.Rows {
			if seen[e.ID] {
				t.Fatalf("entry %s on two pages", e.ID)
			}
			if last.ID != "" && e.DateCreated.After(last.DateCreated) {
				t.Fatal("not newest first across pages")
			}
			seen[e.ID], last = true, e
		}
		total += len(page.Rows)
		next := parseLink(t, r.header.Get("Link"))["next"]
		if next.results == "false" {
			break
		}
		path = strings.TrimPrefix(next.url, h.url)
	}
	if want := len(DemoFixture().AuditLog); total != want {
		t.Errorf("paged through %d entries, want %d", total, want)
	}
}
