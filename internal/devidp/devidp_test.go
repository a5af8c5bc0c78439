package devidp_test

import (
	"context"
	"testing"

	"github.com/sentry-access/sentry-access/internal/devidp"
	"github.com/sentry-access/sentry-access/internal/samlauth"
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

	roles := map[samlauth.Role]int{}
	for i, u := range a.Users() {
		roles[u.Role]++
		if len(u.Password) < 16 || u.Password == b.Users()[i].Password {
			t.Errorf("%s: password %q is short or repeats across starts", u.Username, u.Password)
		}
		if got := devidp.RoleGroups().Resolve([]string{groupOf(u.Role)}); got != u.Role {
			t.Errorf("%s: the role groups map its group to %q, want %q", u.Username, got, u.Role)
		}
	}
	want := map[samlauth.Role]int{samlauth.RoleViewer: 1, samlauth.RoleApprover: 2, samlauth.RoleAdmin: 1}
	for r, n := range want {
		if roles[r] != n {
			t.Errorf("users with role %s = %d, want %d", r, roles[r], n)
		}
	}
}

func groupOf(r samlauth.Role) string {
	switch r {
	case samlauth.RoleAdmin:
		return devidp.GroupAdmins
	case samlauth.RoleApprover:
		return devidp.GroupApprovers
	}
	return devidp.GroupViewers
}
