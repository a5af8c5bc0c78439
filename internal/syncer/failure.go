package syncer

import (
	"context"
	"errors"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// failureText is what a failed run records as its error, for the people
// reading the sync panel and banner: what the failure means and what to do
// (sentry.Problem for a failed Sentry call). The raw error goes to the log.
func failureText(err error) string {
	if p := sentry.Problem(err); p != "" {
		return p
	}
	if errors.Is(err, context.Canceled) {
		return "The sync was stopped before it finished (the dashboard shut down); the previous snapshot stays current and the next sync starts over."
	}
	if m := sentryaccess.ErrorMessage(err); m != "" {
		return m
	}
	return "The sync failed on the dashboard's side (its log has the details); the previous snapshot stays current."
}
