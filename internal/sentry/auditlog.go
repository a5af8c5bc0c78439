package sentry

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"time"
)

// AuditQuery filters GET /organizations/{org}/audit-logs/.
type AuditQuery struct {
	// Event is an event api_name such as "member.edit"; drive choices from
	// AuditLogPage.Options, unknown names give empty rows.
	Event string
	// ActorID is the acting user's id.
	ActorID string
	// Since stops the iteration at the first row older than it; zero reads
	// the whole log.
	Since time.Time
	// PerPage is the page size, at most 100; 100 when zero.
	PerPage int
}

// AuditLogs iterates over audit-log pages, newest first, following Link
// pagination. Each page is the endpoint's {rows, options} body (a bare
// list of rows from older servers, see AuditLogPage); rows older
// than q.Since are cut off and end the iteration. The first page is always
// yielded (it carries Options), even when no row is recent enough. Needs
// org:write (managers and owners).
func (c *Client) AuditLogs(ctx context.Context, q AuditQuery) iter.Seq2[AuditLogPage, error] {
	return func(yield func(AuditLogPage, error) bool) {
		req := c.newRequest(http.MethodGet, epAuditLogs)
		if q.Event != "" {
			req.query.Set("event", q.Event)
		}
		if q.ActorID != "" {
			req.query.Set("actor", q.ActorID)
		}
		perPage := defaultPerPage
		if q.PerPage > 0 {
			perPage = min(q.PerPage, defaultPerPage)
		}
		req.query.Set("per_page", strconv.Itoa(perPage))
		seen := map[Cursor]bool{}
		for first := true; ; first = false {
			var page AuditLogPage
			resp, err := c.do(ctx, req, &page)
			if err != nil {
				yield(AuditLogPage{}, fmt.Errorf("list audit logs: %w", err))
				return
			}
			done := false
			if !q.Since.IsZero() {
				for i, row := range page.Rows {
					if row.DateCreated.Before(q.Since) {
						page.Rows, done = page.Rows[:i], true
						break
					}
				}
			}
			if (len(page.Rows) > 0 || first) && !yield(page, nil) {
				return
			}
			next, ok := ParseLink(resp.header.Get("Link"))
			if done || !ok {
				return
			}
			if seen[next] {
				yield(AuditLogPage{}, fmt.Errorf("list audit logs: server repeated cursor %q", next))
				return
			}
			seen[next] = true
			req.query = cloneValues(req.query)
			req.query.Set("cursor", string(next))
		}
	}
}

// ListAuditLogs returns every row matching q in one page value, newest
// first, with the Options of the first page; BareList is set when the
// server answered bare lists (older servers, which send no Options).
func (c *Client) ListAuditLogs(ctx context.Context, q AuditQuery) (*AuditLogPage, error) {
	out := &AuditLogPage{Rows: []AuditLogEntry{}}
	for page, err := range c.AuditLogs(ctx, q) {
		if err != nil {
			return nil, err
		}
		if out.Options == nil {
			out.Options = page.Options
		}
		out.Rows = append(out.Rows, page.Rows...)
		out.BareList = out.BareList || page.BareList
	}
	return out, nil
}
