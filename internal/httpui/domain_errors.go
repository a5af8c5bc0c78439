package httpui

import (
	"errors"
	"strings"

	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/store"
)

// codedError gives a service's sentinel error the code the error handler
// maps to a status, and the part of its message safe to show.
type codedError struct {
	code string
	msg  string
	err  error
}

func (e codedError) Error() string         { return e.err.Error() }
func (e codedError) Unwrap() error         { return e.err }
func (e codedError) ErrorCode() string     { return e.code }
func (e codedError) PublicMessage() string { return e.msg }

// domainError classifies errors of the review, notify, and auditlog
// services. Policy and validation messages are shown (they
// explain the rule); "not found" shows the generic text.
func domainError(err error) error {
	if err == nil {
		return nil
	}
	var code string
	var sentinel error
	switch {
	case errors.Is(err, review.ErrNotFound), errors.Is(err, notify.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return codedError{code: "not_found", err: err}
	case errors.Is(err, review.ErrForbidden):
		code, sentinel = "forbidden", review.ErrForbidden
	case errors.Is(err, review.ErrConflict):
		code, sentinel = "conflict", review.ErrConflict
	case errors.Is(err, review.ErrInvalid):
		code, sentinel = "invalid", review.ErrInvalid
	case errors.Is(err, notify.ErrInvalid):
		code, sentinel = "invalid", notify.ErrInvalid
	case errors.Is(err, auditlog.ErrInvalid):
		code, sentinel = "invalid", auditlog.ErrInvalid
	default:
		return err
	}
	return codedError{code: code, msg: publicPart(err.Error(), sentinel.Error()), err: err}
}

// publicPart is the message after the sentinel's text ("…: forbidden: why"
// → "Why"), or "" when it cannot be found.
func publicPart(msg, sentinel string) string {
	i := strings.LastIndex(msg, sentinel+": ")
	if i < 0 {
		return ""
	}
	rest := strings.TrimSpace(msg[i+len(sentinel)+2:])
	if rest == "" {
		return ""
	}
	return strings.ToUpper(rest[:1]) + rest[1:]
}
