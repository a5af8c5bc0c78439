// Package web holds the dashboard's templ views: the page layout, the error
// pages, flash fragments and the pages themselves. Views take view models as
// parameters and hold no logic beyond formatting; handlers in
// internal/httpui build the view models.
package web

import (
	"strings"
	"time"
)

// NavKey names a left-navigation entry; Chrome.Active marks the current one.
type NavKey string

// The left-navigation entries, in display order (see Nav).
const (
	NavOverview   NavKey = "overview"
	NavGraph      NavKey = "graph"
	NavMembers    NavKey = "members"
	NavTeams      NavKey = "teams"
	NavProjects   NavKey = "projects"
	NavLookup     NavKey = "lookup"
	NavSnapshots  NavKey = "snapshots"
	NavChanges    NavKey = "changes"
	NavAuditLog   NavKey = "audit"
	NavTokens     NavKey = "tokens"
	NavReviews    NavKey = "reviews"
	NavConnection NavKey = "connection"
	NavMyAccess   NavKey = "me"
	NavBlueprints NavKey = "blueprints"
	NavTrail      NavKey = "trail"
	NavNotify     NavKey = "notifications"
	NavNone       NavKey = ""
)

// NavItem is one left-navigation link. Group is the heading it sits
// under; AdminOnly hides it from viewers and approvers (the route refuses
// them anyway).
type NavItem struct {
	Key       NavKey
	Label     string
	Href      string
	Group     string
	AdminOnly bool
	// ApproverOnly hides the entry from viewers (the route refuses them).
	ApproverOnly bool
}

// Nav returns the left navigation in display order. Adding a page means
// adding its entry here (if it belongs in the navigation) and its route in
// internal/httpui/routes.go.
func Nav() []NavItem {
	const (
		access   = "Access"
		change   = "Change"
		govern   = "Governance"
		settings = "Settings"
	)
	return []NavItem{
		{Key: NavOverview, Label: "Overview", Href: "/", Group: access},
		{Key: NavMyAccess, Label: "My access", Href: "/me", Group: access},
		{Key: NavMembers, Label: "Members", Href: "/members", Group: access},
		{Key: NavTeams, Label: "Teams", Href: "/teams", Group: access},
		{Key: NavProjects, Label: "Projects", Href: "/projects", Group: access},
		{Key: NavLookup, Label: "Lookup", Href: "/lookup", Group: access},
		{Key: NavGraph, Label: "Graph", Href: "/graph", Group: access},
		{Key: NavSnapshots, Label: "Snapshots", Href: "/snapshots", Group: access},
		{Key: NavChanges, Label: "Change requests", Href: "/changes", Group: change},
		{Key: NavBlueprints, Label: "Blueprints", Href: "/blueprints", Group: change},
		{Key: NavTrail, Label: "Audit trail", Href: "/trail", Group: change, ApproverOnly: true},
		{Key: NavReviews, Label: "Access reviews", Href: "/reviews", Group: govern},
		{Key: NavAuditLog, Label: "Sentry audit log", Href: "/audit", Group: govern, ApproverOnly: true},
		{Key: NavTokens, Label: "Tokens", Href: "/tokens", Group: govern},
		{Key: NavSCIM, Label: "SCIM", Href: "/scim", Group: govern},
		{Key: NavSSO, Label: "SSO", Href: "/sso", Group: govern},
		{Key: NavPosture, Label: "Posture", Href: "/posture", Group: govern},
		{Key: NavTroubleshoot, Label: "Troubleshoot", Href: "/troubleshoot", Group: govern},
		{Key: NavConnection, Label: "Connection", Href: "/connection", Group: settings},
		{Key: NavNotify, Label: "Notifications", Href: "/settings/notifications", Group: settings, AdminOnly: true},
	}
}

// navFor returns the navigation entries shown to a user with role.
func navFor(role string) []NavItem {
	all := Nav()
	out := all[:0] // filtered in place: one allocation per page
	for _, it := range all {
		if it.AdminOnly && role != "admin" {
			continue
		}
		if it.ApproverOnly && role != "admin" && role != "approver" {
			continue
		}
		out = append(out, it)
	}
	return out
}

// groupStarts reports whether entry i of items opens a new group.
func groupStarts(items []NavItem, i int) bool {
	return i == 0 || items[i].Group != items[i-1].Group
}

// UserView is the signed-in user as the page frame shows it.
type UserView struct {
	Email string
	Name  string
	Role  string // "viewer", "approver" or "admin"
}

// SyncState is the state of the last Sentry sync, as the banner shows it.
type SyncState string

// Sync states. SyncUnknown shows no banner.
const (
	SyncUnknown SyncState = ""
	SyncOK      SyncState = "ok"
	SyncRunning SyncState = "running"
	SyncFailed  SyncState = "failed"
	SyncNever   SyncState = "never"
)

// SyncStatus feeds the sync banner shown on every page. A failed sync is
// always visible; a healthy one shows nothing.
type SyncStatus struct {
	State SyncState
	// Message is a safe, user-facing sentence that continues "The last
	// sync with Sentry failed at <time>", e.g. "while reading the members:
	// Sentry rejected the token (401): …".
	Message string
	At      time.Time // when the last sync finished (zero if never)
}

// Assets are the cacheable URL paths of the static files.
type Assets struct {
	CSS   string
	HTMX  string
	AppJS string
	// Favicon is the cacheable path of the SVG icon.
	Favicon string
}

// Chrome is everything the page frame needs besides the content: title,
// current nav entry, user, sync banner and asset paths. internal/httpui
// fills it for every request.
type Chrome struct {
	Title     string
	Active    NavKey
	User      *UserView // nil when nobody is signed in
	Sync      SyncStatus
	Assets    Assets
	RequestID string
}

// FlashKind styles a flash message.
type FlashKind string

// Flash kinds.
const (
	FlashInfo  FlashKind = "info"
	FlashError FlashKind = "error"
)

func pageTitle(t string) string {
	if t == "" {
		return "sentry-access"
	}
	return t + " · sentry-access"
}

func ariaCurrent(active, key NavKey) string {
	if active == key {
		return "page"
	}
	return "false"
}

func syncClass(s SyncState) string {
	switch s {
	case SyncFailed:
		return "banner banner-bad"
	case SyncNever, SyncRunning:
		return "banner banner-warn"
	default:
		return "banner banner-ok"
	}
}

func showSync(s SyncStatus) bool {
	return s.State == SyncFailed || s.State == SyncNever || s.State == SyncRunning
}

func syncText(s SyncStatus) string {
	switch s.State {
	case SyncFailed:
		msg := "The last sync with Sentry failed"
		if !s.At.IsZero() {
			msg += " at " + s.At.UTC().Format("2006-01-02 15:04 UTC")
		}
		if s.Message != "" {
			msg += " " + s.Message
		}
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		return msg + " The data shown may be out of date."
	case SyncNever:
		return "No sync with Sentry has completed yet."
	case SyncRunning:
		return "A sync with Sentry is running."
	}
	return ""
}

func bannerRole(s SyncState) string {
	if s == SyncFailed {
		return "alert"
	}
	return "status"
}
