package web

import (
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/review"
)

// ReviewListView is the access-review list page.
type ReviewListView struct {
	Campaigns []review.Summary
	Reminders []review.Reminder
	// CanCreate reports whether the user may start campaigns (approver+).
	CanCreate bool
	// Teams are the team slugs offered as scopes.
	Teams []string
	// DefaultDue is the form's default due date (YYYY-MM-DD).
	DefaultDue string
}

// ReviewItemView is an item with what the signed-in user may do with it.
type ReviewItemView = review.ItemView

// ReviewView is one campaign's page.
type ReviewView struct {
	Campaign review.Campaign
	Items    []ReviewItemView
	Progress review.Progress
	// Mine reports whether only the user's reviewable items are listed.
	Mine bool
	// Reviewable counts the open items the user may decide on.
	Reviewable int
	// CanClose reports whether the user may close it (approver+, open).
	CanClose bool
	// CanDownload reports whether the evidence may be downloaded.
	CanDownload bool
	Overdue     bool
	Message     string // result of the last action, if any
}

func reviewHref(id string) templ.SafeURL { return templ.SafeURL("/reviews/" + url.PathEscape(id)) }

func reviewPath(id, rest string) string { return "/reviews/" + url.PathEscape(id) + rest }

func reviewDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

func reviewProgressText(p review.Progress) string {
	return strconv.Itoa(p.Decided) + " of " + strconv.Itoa(p.Total) + " decided (" + strconv.Itoa(p.Percent()) + "%)"
}

func decisionBadge(d review.Decision) string {
	switch d {
	case review.DecisionCertify:
		return "badge badge-ok"
	case review.DecisionRevoke:
		return "badge badge-bad"
	}
	return "badge"
}

func reminderText(r review.Reminder) string {
	s := strconv.Itoa(r.Open) + " item(s) wait for your review in \"" + r.Name + "\", due " + reviewDate(r.Due)
	switch {
	case r.Overdue:
		s += " (overdue)"
	case r.DueSoon:
		s += " (due soon)"
	}
	return s
}

func reminderClass(r review.Reminder) string {
	if r.Overdue {
		return "banner banner-bad"
	}
	return "banner banner-warn"
}
