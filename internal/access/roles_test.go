package access

import "testing"

// MinimumTeamRole is manager.py's rule over the snapshot's roles (Sentry's
// defaults without them); an org role nobody defined gets the lowest team
// role.
func TestMinimumTeamRoleOfAnOrgRole(t *testing.T) {
	t.Parallel()
	custom := &Snapshot{
		OrgRoles:  []OrgRole{{ID: "member"}, {ID: "lead"}, {ID: "boss"}},
		TeamRoles: []TeamRole{{ID: "contributor"}, {ID: "admin", IsMinimumRoleFor: "lead"}},
	}
	tests := []struct {
		snap *Snapshot
		role string
		want string
	}{
		{nil, RoleMember, TeamRoleContributor},
		{nil, RoleBilling, TeamRoleContributor},
		{nil, RoleAdmin, TeamRoleAdmin},
		{nil, RoleManager, TeamRoleAdmin},
		{nil, RoleOwner, TeamRoleAdmin},
		{nil, "nobody-defined-this", TeamRoleContributor},
		{custom, "member", "contributor"},
		{custom, "lead", "admin"},
		{custom, "boss", "admin"}, // the top org role gets the top team role
	}
	for _, tt := range tests {
		if got := MinimumTeamRole(tt.snap, tt.role); got != tt.want {
			t.Errorf("MinimumTeamRole(%q) = %q, want %q", tt.role, got, tt.want)
		}
	}
}
