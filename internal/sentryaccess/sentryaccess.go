// Package sentryaccess is the dashboard's shared vocabulary, in the style of
// the root package of benbjohnson/wtf: who acts (a dashboard Role and the
// Actor holding it) and how a failure is named (a Code and the one Error
// type every service returns). It imports nothing of the project's, so every
// other package may import it.
//
// Sentry's own roles (org roles, team roles) are not here: they are strings
// of the access engine (internal/access). A Role here is a role on the
// dashboard, given by the identity provider at login.
package sentryaccess

import (
	"fmt"
	"strings"
)

// Role is a dashboard role. Roles are ordered: an admin can do everything an
// approver can, and an approver everything a viewer can.
type Role string

// Dashboard roles, lowest first. RoleNone means no access; RoleSystem is
// the dashboard itself acting (a grant's expiry), never a signed-in user.
const (
	RoleNone     Role = ""
	RoleViewer   Role = "viewer"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
	RoleSystem   Role = "system"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleApprover:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r grants everything min grants. RoleNone and
// RoleSystem grant nothing here, not even themselves: they are not roles a
// person signs in with.
func (r Role) AtLeast(min Role) bool {
	return r.rank() > 0 && r.rank() >= min.rank()
}

// Valid reports whether r is one of viewer, approver or admin: a role a
// person can sign in with.
func (r Role) Valid() bool { return r.rank() > 0 }

// ParseRole parses "viewer", "approver" or "admin" (case-insensitive).
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return RoleNone, fmt.Errorf("unknown dashboard role %q (want viewer, approver or admin)", s)
	}
	return r, nil
}

// Actor is who acts: the email the identity provider signed for and the
// dashboard role it maps to. Services decide what an actor may do; the HTTP
// layer only says who is asking.
type Actor struct {
	Email string
	Role  Role
}
