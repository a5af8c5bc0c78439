// Package conformance holds the simulator's conformance suite: one table
// case per Sentry rule, each taken from the assertions of Sentry's own
// endpoint tests or source (getsentry/sentry) and naming the file and test
// it comes from. The cases run against internal/sentrysim over real HTTP
// and, for effective access (tests/sentry/auth/test_access.py), against the
// access engine too, so the simulator, the client's expectations and the
// engine are held to Sentry's behaviour rather than to each other.
//
// docs/sentry-access-model.md#conformance maps the cases to Sentry's tests.
// The package has only tests.
package conformance
