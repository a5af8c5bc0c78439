package main

import "errors"

// Exit codes, documented in README.md.
const (
	exitOK        = 0
	exitFailure   = 1 // anything else: Sentry unreachable, store error, …
	exitUsage     = 2 // bad flags or configuration
	exitNotFound  = 3 // unknown member, project or snapshot
	exitDenied    = 4 // explain: the access asked about is denied
	exitNoSnaphot = 5 // no snapshot yet, or only one to compare (diff): run sentry-access sync
)

// usageError marks errors caused by how the command was called.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// notFoundError marks an unknown member, project or snapshot.
type notFoundError struct{ error }

func (e notFoundError) Unwrap() error { return e.error }

// deniedError is returned by explain when access is denied, so scripts can
// branch on the exit code; its text is the explanation.
type deniedError struct{ error }

func (e deniedError) Unwrap() error { return e.error }

// noSnapshotError says that the store holds no snapshot yet.
type noSnapshotError struct{ error }

func (e noSnapshotError) Unwrap() error { return e.error }

func exitCode(err error) int {
	var (
		u usageError
		n notFoundError
		d deniedError
		s noSnapshotError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &n):
		return exitNotFound
	case errors.As(err, &d):
		return exitDenied
	case errors.As(err, &s):
		return exitNoSnaphot
	default:
		return exitFailure
	}
}
