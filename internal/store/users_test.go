package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// The dashboard knows its users from their sign-ins: the latest role and
// time win, across a restart.
func TestDashboardUsersKeepTheLastSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sa.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	u := st.DashboardUsers()
	for _, l := range []struct {
		email string
		role  sentryaccess.Role
		at    time.Time
	}{
		{"Maya@acme.test", sentryaccess.RoleViewer, t0},
		{"marco@acme.test", sentryaccess.RoleApprover, t0},
		{"maya@acme.test", sentryaccess.RoleApprover, t0.Add(time.Hour)},
	} {
		if err := u.RecordLogin(ctx, l.email, "", l.role, l.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.RecordLogin(ctx, " ", "", sentryaccess.RoleViewer, t0); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("empty email: %v, want EINVALID", err)
	}
	_ = st.Close()
	st, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.DashboardUsers().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Email != "marco@acme.test" || got[1].Role != sentryaccess.RoleApprover ||
		!got[1].LastLogin.Equal(t0.Add(time.Hour)) || got[1].Logins != 2 {
		t.Errorf("users = %+v", got)
	}
}
