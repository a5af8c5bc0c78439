package web

import (
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// AuditFilterView is the audit-log explorer's filter form, as submitted.
// From and To are dates (YYYY-MM-DD, UTC).
type AuditFilterView struct {
	Event  string
	Actor  string
	Target string
	From   string
	To     string
}

// Query encodes the filter (plus extra key/value pairs) as a query string.
func (f AuditFilterView) Query(kv ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"event": f.Event, "actor": f.Actor, "target": f.Target, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v.Encode()
}

// AuditView is the audit-log explorer page.
type AuditView struct {
	Filter  AuditFilterView
	Events  []string
	Entries []sentry.AuditLogEntry
	Next    string
	// Empty explains an empty archive ("" when it has entries).
	Empty string
	// QuarterFrom and QuarterTo are the last 90 days, for the quarterly
	// export button.
	QuarterFrom, QuarterTo string
}

// Quarter is the filter of the last 90 days, for the quarterly exports.
func (v AuditView) Quarter() AuditFilterView {
	return AuditFilterView{From: v.QuarterFrom, To: v.QuarterTo}
}

// AuditExportSummary is what the export-summary fragment shows.
type AuditExportSummary struct {
	Format   string
	Filename string
	Rows     int
	Bytes    int64
	SHA256   string
}

func auditActor(a *sentry.AuditActor) string {
	if a == nil {
		return "—"
	}
	if a.Email != "" {
		return a.Email
	}
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

func auditTarget(e sentry.AuditLogEntry) string {
	if e.TargetUser != nil {
		return auditActor(e.TargetUser)
	}
	if e.TargetObject != nil {
		return "#" + strconv.FormatInt(*e.TargetObject, 10)
	}
	return "—"
}

func auditTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func auditHref(id string) templ.SafeURL { return templ.SafeURL("/audit/" + url.PathEscape(id)) }

func auditData(e sentry.AuditLogEntry) string {
	if len(e.Data) == 0 || string(e.Data) == "null" {
		return "—"
	}
	return string(e.Data)
}
