package web

import (
	"net/url"
	"slices"
	"strconv"

	"github.com/sentry-access/sentry-access/internal/notify"
)

// NotificationsView is the webhook settings page.
type NotificationsView struct {
	Subscriptions []notify.SubscriptionView
	Deliveries    []notify.Delivery
	// NewSecret is a just-generated signing secret, shown once.
	NewSecret string
	Message   string
}

func eventLabel(k notify.EventKind) string {
	switch k {
	case notify.EventRequestAwaiting:
		return "Change request awaiting approval"
	case notify.EventRequestApplied:
		return "Change request applied"
	case notify.EventRequestDenied:
		return "Change request denied"
	case notify.EventRequestFailed:
		return "Change request failed"
	case notify.EventUnapproved:
		return "Access changed outside sentry-access"
	case notify.EventGrantExpiring:
		return "Grant about to expire"
	case notify.EventFindingsNew:
		return "New risk findings"
	case notify.EventAccessChanged:
		return "Access changes between snapshots"
	case notify.EventTest:
		return "Test"
	}
	return string(k)
}

func hasEvent(es []notify.EventKind, k notify.EventKind) bool { return slices.Contains(es, k) }

func subPath(id, rest string) string { return "/settings/notifications/" + url.PathEscape(id) + rest }

func deliveryClass(s notify.DeliveryState) string {
	switch s {
	case notify.DeliveryDelivered:
		return "badge badge-ok"
	case notify.DeliveryFailed:
		return "badge badge-bad"
	}
	return "badge badge-warn"
}

func statusCode(n int) string {
	if n == 0 {
		return "—"
	}
	return strconv.Itoa(n)
}
