package sentryaccess

import (
	"errors"
	"fmt"
)

// Code names what kind of failure an Error is. The HTTP layer maps each code
// to a status and, for an Error without a message, a generic text
// (internal/httpui/errors.go is that one table); the CLI maps them to exit
// codes.
type Code string

// Error codes.
const (
	// EINVALID: the input is malformed or breaks a rule (422).
	EINVALID Code = "invalid"
	// ENOTFOUND: the thing does not exist, or the caller may not see it
	// (404: "not found" for what the caller may not see).
	ENOTFOUND Code = "not_found"
	// EFORBIDDEN: the caller may not do this (403).
	EFORBIDDEN Code = "forbidden"
	// ECONFLICT: the thing is not in a state that allows this (409).
	ECONFLICT Code = "conflict"
	// EUNAVAILABLE: not possible yet or right now, e.g. no snapshot before
	// the first sync (503).
	EUNAVAILABLE Code = "unavailable"
	// EINTERNAL: anything else; never shown beyond a generic message (500).
	EINTERNAL Code = "internal"
)

// Error is the one error type the services return for a failure the user
// should hear about. Message is written for people (it names the member by
// email and says the fix) and is safe to show; an empty Message leaves the
// wording to the HTTP layer's generic text for the code (used for "not
// found", which must not say more than that). Wrap it with fmt.Errorf("…:
// %w", err) to add context for the logs; ErrorCode and ErrorMessage find it
// through the wrapping.
type Error struct {
	Code    Code
	Message string
}

// Errorf returns an Error with code and the message format and args make
// (fmt.Sprintf). The message is shown to users as it is: write a sentence.
func Errorf(code Code, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Message: msg}
}

// Error implements error: the code and the message, for logs.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// ErrorCode returns the code of the first Error in err's chain: "" for a nil
// err, EINTERNAL for an error that carries none.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first Error in err's chain, or ""
// when there is none (or it has none): the part of err safe to show.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
