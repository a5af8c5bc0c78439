package devidp_test

import (
	"context"
	"testing"

	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func TestTheDevIdPListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:80"} {
		if idp, err := devidp.Start(t.Context(), devidp.Config{Addr: addr}); err == nil {
			_ = idp.Close()
			t.Errorf("Start(%q) succeeded, want a loopback-only error", addr)
		}
	}
}

func TestTheDevIdPHasADemoUserPerRoleWithFreshPasswords(t *testing.T) {
	t.Parallel()
	a, err := devidp.Start(context.Background(), devidp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	b, err := devidp.Start(context.Background(), devidp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })

	roles := map[sentryaccess.Role]int{}
	for i, u := range a.Users() {
		roles[u.Role]++
		if len(u.Password) < 16 || u.Password == b.Users()[i].Password {
			t.Errorf("%s: password %q is short or repeats across starts", u.Username, u.Password)
		}
		if got := devidp.RoleGroups().Resolve([]string{groupOf(u.Role)}); got != u.Role {
			t.Errorf("%s: the role groups map its group to %q, want %q", u.Username, got, u.Role)
		}
	}
	want := map[sentryaccess.Role]int{sentryaccess.RoleViewer: 1, sentryaccess.RoleApprover: 2, sentryaccess.RoleAdmin: 1}
	for r, n := range want {
		if roles[r] != n {
			t.Errorf("users with role %s = %d, want %d", r, roles[r], n)
		}
	}
}

func groupOf(r sentryaccess.Role) string {
	switch r {
	case sentryaccess.RoleAdmin:
		return devidp.GroupAdmins
	case sentryaccess.RoleApprover:
		return devidp.GroupApprovers
	}
	return devidp.GroupViewers
}
