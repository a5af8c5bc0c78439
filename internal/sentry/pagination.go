package sentry

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strings"
)

// Cursor is Sentry's opaque pagination cursor ("<value>:<offset>:<is_prev>",
// e.g. "0:100:0"). Copy it from a Link header; never build one.
type Cursor string

// defaultPerPage is Sentry's maximum page size for Endpoint.paginate.
const defaultPerPage = 100

// ParseLink reads a Sentry Link header and returns the cursor of the next
// page. ok is false when there is no rel="next" link, when that link says
// results="false" (Sentry always sends both rels and marks the empty side
// this way: src/sentry/api/base.py CURSOR_LINK_HEADER,
// docs/api/pagination.mdx), or when it carries no cursor. The cursor comes
// from the link's cursor="…" attribute, else from the URL's cursor query
// parameter.
func ParseLink(header string) (next Cursor, ok bool) {
	for _, l := range parseLinks(header) {
		if !hasToken(l.params["rel"], "next") {
			continue
		}
		if r, present := l.params["results"]; present && !strings.EqualFold(r, "true") {
			return "", false
		}
		c := l.params["cursor"]
		if c == "" {
			if u, err := url.Parse(l.target); err == nil {
				c = u.Query().Get("cursor")
			}
		}
		if c == "" {
			return "", false
		}
		return Cursor(c), true
	}
	return "", false
}

func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

type link struct {
	target string
	params map[string]string
}

// parseLinks parses an RFC 8288 Link header: comma-separated
// `<target>; key=value; key="quoted, value"` entries. Malformed entries are
// skipped; it never fails.
func parseLinks(h string) []link {
	var out []link
	i := 0
	for i < len(h) {
		// Find the start of the next target.
		lt := strings.IndexByte(h[i:], '<')
		if lt < 0 {
			break
		}
		i += lt + 1
		gt := strings.IndexByte(h[i:], '>')
		if gt < 0 {
			break
		}
		l := link{target: h[i : i+gt], params: map[string]string{}}
		i += gt + 1
		// Parameters until a comma outside quotes.
		for i < len(h) {
			for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
				i++
			}
			if i >= len(h) {
				break
			}
			if h[i] == ',' {
				i++
				break
			}
			if h[i] != ';' {
				// Garbage: skip to the next separator.
				i++
				continue
			}
			i++
			for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
				i++
			}
			start := i
			for i < len(h) && h[i] != '=' && h[i] != ';' && h[i] != ',' {
				i++
			}
			key := strings.ToLower(strings.TrimSpace(h[start:i]))
			var val string
			if i < len(h) && h[i] == '=' {
				i++
				for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
					i++
				}
				if i < len(h) && h[i] == '"' {
					i++
					var b strings.Builder
					for i < len(h) && h[i] != '"' {
						if h[i] == '\\' && i+1 < len(h) {
							i++
						}
						b.WriteByte(h[i])
						i++
					}
					i++ // closing quote (or end)
					val = b.String()
				} else {
					start := i
					for i < len(h) && h[i] != ';' && h[i] != ',' {
						i++
					}
					val = strings.TrimSpace(h[start:i])
				}
			}
			if key != "" {
				if _, dup := l.params[key]; !dup {
					l.params[key] = val
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// paginate fetches a Link-paginated list page by page, asking for
// Sentry's largest page, and yields its elements (see follow).
func paginate[T any](ctx context.Context, c *Client, req request) iter.Seq2[T, error] {
	if req.query.Get("per_page") == "" {
		req.query = cloneValues(req.query)
		req.query.Set("per_page", fmt.Sprint(defaultPerPage))
	}
	return follow[T](ctx, c, req)
}

// follow fetches a list and yields its elements, following the Link
// header's rel="next"; results="true" wherever a server sends one, also on
// lists meant to be unpaginated (older servers page them). It stops at the
// first error (yielded once), when there is no next link or it says
// results="false", or when the server repeats a cursor.
func follow[T any](ctx context.Context, c *Client, req request) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var cursor Cursor
		seen := map[Cursor]bool{}
		for {
			r := req
			r.query = cloneValues(req.query)
			if cursor != "" {
				r.query.Set("cursor", string(cursor))
			}
			var page []T
			resp, err := c.do(ctx, r, &page)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range page {
				if !yield(item, nil) {
					return
				}
			}
			next, ok := ParseLink(resp.header.Get("Link"))
			if !ok {
				return
			}
			if seen[next] {
				yield(zero, fmt.Errorf("sentry: %s %s: server repeated cursor %q", r.method, r.endpoint, next))
				return
			}
			seen[next] = true
			cursor = next
		}
	}
}

// collect drains an iterator into a slice, stopping at the first error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	out := []T{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
