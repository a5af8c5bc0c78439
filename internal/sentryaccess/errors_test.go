package sentryaccess_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func TestErrorCodeAndMessageAreFoundThroughWrapping(t *testing.T) {
	t.Parallel()
	inner := sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody approves their own request.")
	tests := []struct {
		name     string
		err      error
		wantCode sentryaccess.Code
		wantMsg  string
	}{
		{"nil is no error", nil, "", ""},
		{"the error itself", inner, sentryaccess.EFORBIDDEN, "Nobody approves their own request."},
		{"wrapped for the logs", fmt.Errorf("approve request 7: %w", inner), sentryaccess.EFORBIDDEN, "Nobody approves their own request."},
		{"a plain error is internal and says nothing", errors.New("bolt: database not open"), sentryaccess.EINTERNAL, ""},
		{"an error without a message", sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""), sentryaccess.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sentryaccess.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := sentryaccess.ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestErrorfFormatsOnlyWithArguments(t *testing.T) {
	t.Parallel()
	if got := sentryaccess.Errorf(sentryaccess.EINVALID, "Pick a date.").Message; got != "Pick a date." {
		t.Errorf("message = %q", got)
	}
	if got := sentryaccess.Errorf(sentryaccess.EINVALID, "No member %q.", "ana@acme.test").Message; got != `No member "ana@acme.test".` {
		t.Errorf("message = %q", got)
	}
}

func TestRolesAreOrderedAndOnlyThreeCanSignIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role, min sentryaccess.Role
		want      bool
	}{
		{sentryaccess.RoleAdmin, sentryaccess.RoleApprover, true},
		{sentryaccess.RoleApprover, sentryaccess.RoleApprover, true},
		{sentryaccess.RoleViewer, sentryaccess.RoleApprover, false},
		{sentryaccess.RoleViewer, sentryaccess.RoleViewer, true},
		{sentryaccess.RoleNone, sentryaccess.RoleNone, false},
		{sentryaccess.RoleSystem, sentryaccess.RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.role.AtLeast(tt.min); got != tt.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", tt.role, tt.min, got, tt.want)
		}
	}
	for _, s := range []string{"viewer", " Approver ", "ADMIN"} {
		if _, err := sentryaccess.ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "system", "owner"} {
		if _, err := sentryaccess.ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted a role nobody signs in with", s)
		}
	}
}
