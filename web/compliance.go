package web

import (
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

// SCIMUsersPerPage is how many member/SCIM user rows the SCIM page shows at
// once; at 10,000 members the whole table is too long to render or read.
const SCIMUsersPerPage = 100

// SCIMPageView is the SCIM page: the service's view with one page of its
// user rows.
type SCIMPageView struct {
	compliance.SCIMView
	Page, Pages      int // 1-based
	From, To, TotalU int // the rows shown, 1-based and inclusive, of TotalU
}

// PageSCIMUsers keeps page (1-based; 0 is the first, past the end is the
// last) of v's user rows.
func PageSCIMUsers(v compliance.SCIMView, page int) SCIMPageView {
	n := len(v.Users)
	pages := max((n+SCIMUsersPerPage-1)/SCIMUsersPerPage, 1)
	page = min(max(page, 1), pages)
	lo := (page - 1) * SCIMUsersPerPage
	hi := min(lo+SCIMUsersPerPage, n)
	out := SCIMPageView{SCIMView: v, Page: page, Pages: pages, TotalU: n}
	out.Users = v.Users[lo:hi]
	if n > 0 {
		out.From, out.To = lo+1, hi
	}
	return out
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
