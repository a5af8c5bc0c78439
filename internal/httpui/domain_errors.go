package httpui

import (
	"errors"
	"strings"

	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/changes"
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

// domainSentinels maps each service's sentinel errors to the domain code
// the error handler turns into a status. It is the one table of them.
func domainSentinels() []struct {
	sentinel error
	code     string
} {
	return []struct {
		sentinel error
		code     string
	}{
		{changes.ErrNotFound, "not_found"}, {review.ErrNotFound, "not_found"},
		{notify.ErrNotFound, "not_found"}, {store.ErrNotFound, "not_found"},
		{changes.ErrForbidden, "forbidden"}, {review.ErrForbidden, "forbidden"},
		{changes.ErrConflict, "conflict"}, {review.ErrConflict, "conflict"},
		{changes.ErrInvalid, "invalid"}, {review.ErrInvalid, "invalid"},
		{notify.ErrInvalid, "invalid"}, {auditlog.ErrInvalid, "invalid"},
		{store.ErrInvalid, "invalid"},
	}
}

// domainError classifies an error of the changes, review, notify, auditlog
// or store packages: it gets the sentinel's code and, except for "not
// found", the part of its message after the sentinel, which states the
// rule that was broken. Other errors pass through unchanged.
func domainError(err error) error {
	if err == nil {
		return nil
	}
	var ce codedError
	if errors.As(err, &ce) {
		return err
	}
	for _, m := range domainSentinels() {
		if errors.Is(err, m.sentinel) {
			msg := ""
			if m.code != "not_found" {
				msg = publicPart(err.Error(), m.sentinel.Error())
			}
			return codedError{code: m.code, msg: msg, err: err}
		}
	}
	return err
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
