package sentrysim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Pagination follows src/sentry/api/base.py and src/sentry/api/paginator.py:
// cursors "<value>:<offset>:<is_prev>", per_page default and max 100, and a
// Link header that always carries both rels.

const maxPerPage = 100

// cursor is a parsed Sentry cursor.
type cursor struct {
	value  int64
	offset int
	isPrev bool
}

func (c cursor) String() string {
	prev := 0
	if c.isPrev {
		prev = 1
	}
	return fmt.Sprintf("%d:%d:%d", c.value, c.offset, prev)
}

// parsePaging reads per_page and cursor; on error it writes Sentry's 400.
func (c *call) parsePaging() (perPage int, cur *cursor, ok bool) {
	q := c.r.URL.Query()
	perPage = maxPerPage
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			c.detail(http.StatusBadRequest, "Invalid per_page parameter.")
			return 0, nil, false
		}
		if n > maxPerPage {
			c.detail(http.StatusBadRequest, fmt.Sprintf("Invalid per_page value. Cannot exceed %d.", maxPerPage))
			return 0, nil, false
		}
		perPage = n
	}
	if v := q.Get("cursor"); v != "" {
		parsed, err := parseCursor(v)
		if err != nil {
			c.detail(http.StatusBadRequest, "Invalid cursor parameter.")
			return 0, nil, false
		}
		cur = &parsed
	}
	return perPage, cur, true
}

func parseCursor(v string) (cursor, error) {
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return cursor{}, fmt.Errorf("cursor %q: want 3 parts", v)
	}
	value, err := strconv.ParseFloat(parts[0], 64)
	if err != nil {
		return cursor{}, fmt.Errorf("cursor value: %w", err)
	}
	offset, err := strconv.Atoi(parts[1])
	if err != nil {
		return cursor{}, fmt.Errorf("cursor offset: %w", err)
	}
	prev, err := strconv.Atoi(parts[2])
	if err != nil {
		return cursor{}, fmt.Errorf("cursor is_prev: %w", err)
	}
	return cursor{value: int64(value), offset: offset, isPrev: prev != 0}, nil
}

// setLink writes Sentry's Link header for the previous and next cursors.
func (c *call) setLink(prev cursor, prevResults bool, next cursor, nextResults bool) {
	q := c.r.URL.Query()
	q.Del("cursor")
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	base := (&url.URL{Scheme: scheme, Host: c.r.Host, Path: c.r.URL.Path}).String() + "?" + q.Encode()
	link := func(rel string, cur cursor, results bool) string {
		return fmt.Sprintf(`<%s&cursor=%s>; rel="%s"; results="%t"; cursor="%s"`, base, cur, rel, results, cur)
	}
	c.w.Header().Set("Link", link("previous", prev, prevResults)+", "+link("next", next, nextResults))
}

// paginateOffset is Sentry's OffsetPaginator: the cursor value is the page
// size and the offset the page number. It writes the Link header and returns
// the page, or false after writing a 400.
func paginateOffset[T any](c *call, items []T) ([]T, bool) {
	limit, cur, ok := c.parsePaging()
	if !ok {
		return nil, false
	}
	page, size := 0, limit
	if cur != nil {
		page = max(cur.offset, 0)
		if cur.value > 0 {
			size = int(cur.value)
		}
	}
	start := min(page*size, len(items))
	end := min(start+limit, len(items))
	c.setLink(cursor{value: int64(limit), offset: page - 1, isPrev: true}, page > 0,
		cursor{value: int64(limit), offset: page + 1}, end < len(items))
	return items[start:end], true
}

// paginateByDate is Sentry's DateTimePaginator over rows ordered newest
// first by date: the cursor value is a row's date in epoch milliseconds
// and the offset skips rows sharing that date.
func paginateByDate[T any](c *call, rows []T, date func(T) time.Time) ([]T, bool) {
	limit, cur, ok := c.parsePaging()
	if !ok {
		return nil, false
	}
	key := func(i int) int64 { return date(rows[i]).UnixMilli() }
	// firstAtOrBelow is the first index whose key is <= v (rows are descending).
	firstAtOrBelow := func(v int64) int {
		lo, hi := 0, len(rows)
		for lo < hi {
			mid := (lo + hi) / 2
			if key(mid) <= v {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return lo
	}
	start, end := 0, 0
	switch {
	case cur == nil:
		start = 0
		end = min(limit, len(rows))
	case !cur.isPrev:
		start = min(firstAtOrBelow(cur.value)+max(cur.offset, 0), len(rows))
		end = min(start+limit, len(rows))
	default:
		end = max(min(firstAtOrBelow(cur.value-1)-max(cur.offset, 0), len(rows)), 0)
		start = max(end-limit, 0)
	}
	next := cursor{offset: 0}
	prev := cursor{isPrev: true}
	if end > start {
		lastKey := key(end - 1)
		next.value = lastKey
		next.offset = end - firstAtOrBelow(lastKey)
		firstKey := key(start)
		prev.value = firstKey
		prev.offset = firstAtOrBelow(firstKey-1) - start
	} else if cur != nil {
		next.value, prev.value = cur.value, cur.value
	}
	c.setLink(prev, start > 0, next, end < len(rows))
	return rows[start:end], true
}
