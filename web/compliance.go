package web

import (
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/compliance"
)

// Navigation keys of the compliance pages. They are reached from the
// Tokens entry and the compliance sub-navigation on each of them.
const (
	NavSCIM         NavKey = "scim"
	NavSSO          NavKey = "sso"
	NavPosture      NavKey = "posture"
	NavTroubleshoot NavKey = "troubleshoot"
)

// complianceNav is the sub-navigation shared by the compliance pages.
func complianceNav() []NavItem {
	return []NavItem{
		{Key: NavTokens, Label: "Tokens", Href: "/tokens"},
		{Key: NavSCIM, Label: "SCIM", Href: "/scim"},
		{Key: NavSSO, Label: "SSO", Href: "/sso"},
		{Key: NavPosture, Label: "Posture", Href: "/posture"},
		{Key: NavTroubleshoot, Label: "Troubleshoot", Href: "/troubleshoot"},
	}
}

// TroubleshootAnswers are the troubleshooting page's forms as asked, with
// their answers rendered in place (a diagnosis URL opened directly), or
// empty.
type TroubleshootAnswers struct {
	Member, Project  string
	ProjectResult    templ.Component
	Endpoint, Scopes string
	ForbiddenResult  templ.Component
}

// SCIMRowsPerPage is how many rows each table of the SCIM page (drift
// findings, members and SCIM users, teams and SCIM groups) shows at once;
// at 10,000 members a whole table is too long to render or read.
const SCIMRowsPerPage = 100

// SCIMPageView is the SCIM page: the service's view with one page of each
// of its tables.
type SCIMPageView struct {
	compliance.SCIMView
	// UsersPage, FindingsPage and GroupsPage say which page of each table
	// is shown (Users, Findings and Teams hold only that page).
	UsersPage, FindingsPage, GroupsPage TablePage
}

// TablePage is one page of a table: Number of Pages (1-based), and the
// rows From–To (1-based, inclusive) of Total.
type TablePage struct {
	Number, Pages   int
	From, To, Total int
}

// pageRows returns page n (1-based; 0 is the first, past the end is the
// last) of n rows with per rows a page, and the slice bounds.
func pageRows(total, n, per int) (p TablePage, lo, hi int) {
	pages := max((total+per-1)/per, 1)
	n = min(max(n, 1), pages)
	lo = (n - 1) * per
	hi = min(lo+per, total)
	p = TablePage{Number: n, Pages: pages, Total: total}
	if total > 0 {
		p.From, p.To = lo+1, hi
	}
	return p, lo, hi
}

// SCIMPages keeps the asked page of each of v's tables: users (members
// and SCIM users), findings and groups (teams and SCIM groups).
func SCIMPages(v compliance.SCIMView, users, findings, groups int) SCIMPageView {
	out := SCIMPageView{SCIMView: v}
	var lo, hi int
	out.UsersPage, lo, hi = pageRows(len(v.Users), users, SCIMRowsPerPage)
	out.Users = v.Users[lo:hi]
	out.FindingsPage, lo, hi = pageRows(len(v.Findings), findings, SCIMRowsPerPage)
	out.Findings = v.Findings[lo:hi]
	out.GroupsPage, lo, hi = pageRows(len(v.Teams), groups, SCIMRowsPerPage)
	out.Teams = v.Teams[lo:hi]
	return out
}

// pageURL is the SCIM page with each table on the given page, at the
// table named by anchor.
func (v SCIMPageView) pageURL(users, findings, groups int, anchor string) templ.SafeURL {
	q := url.Values{}
	for k, n := range map[string]int{"page": users, "findings": findings, "groups": groups} {
		if n > 1 {
			q.Set(k, strconv.Itoa(n))
		}
	}
	u := "/scim"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return templ.SafeURL(u + "#" + anchor)
}

// TokensPageView is the token page's view model: the service's view and
// whether the viewer may record intents.
type TokensPageView struct {
	compliance.TokensView
	CanRecord bool
}

// IntentForm is the token helper form's state: values and an error.
type IntentForm struct {
	Purpose     string
	Environment string
	Note        string
	Expires     string
	Error       string
}

func coTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

func coTimePtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return coTime(*t)
}

func coOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func sevClass(s compliance.Severity) string { return "badge sev sev-" + string(s) }

func statusClass(s compliance.CheckStatus) string {
	switch s {
	case compliance.StatusPass:
		return "badge badge-ok"
	case compliance.StatusFail:
		return "badge badge-bad"
	case compliance.StatusWarn:
		return "badge badge-warn"
	}
	return "badge"
}

func coURL(s string) templ.SafeURL { return templ.SafeURL(s) }

func coYes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
