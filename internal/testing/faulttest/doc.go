// Package faulttest holds the end-to-end fault tests of sentry-access: the
// real Sentry client, syncer, store, read model, change service and pages
// against the Sentry simulator while it injects faults (429 storms with
// and without rate-limit headers, 5xx bursts, timeouts, dropped
// connections, slow responses, answers lost after Sentry acted), and a
// real kill -9 of a process in the middle of applying a change request,
// followed by a restart that recovers it.
//
// The package has no code besides its tests; see the _test.go files:
// harness_test.go (the assembled dashboard over the simulator),
// sync_test.go (syncs under faults), apply_test.go (applying through the
// UI under faults) and kill_test.go (kill -9 mid-apply, then Recover).
package faulttest
