// Package gosentry runs a real third-party client against the simulator:
// github.com/jianyuan/go-sentry/v2 (the client under the Terraform
// provider for Sentry), pinned in go.mod as a test-only dependency.
//
// Its tests call go-sentry's own services — Organizations,
// OrganizationMembers, Teams, TeamMembers, OrganizationProjects, Projects —
// against sentrysim served by httptest, and hold the answers to go-sentry's
// expectations: every call decodes without error into go-sentry's types,
// the fields those types declare carry the values the simulated
// organization holds, go-sentry's Link cursor (rel="next" with
// results="true") reaches every item of a list longer than one page, and
// a refusal comes back as go-sentry's *sentry.ErrorResponse (or
// *sentry.RateLimitError for a 429) with the message Sentry sends. An
// answer go-sentry cannot use fails a test here; the fix belongs in the
// simulator, traced to Sentry's source (docs/sentry-access-model.md).
//
// The package has only tests.
package gosentry
