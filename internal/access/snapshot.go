package access

import "time"

// Snapshot is everything the engine needs to decide access in one
// organization at one moment. It is plain data: the engine never does I/O,
// and a Snapshot is never mutated once built (What-if works on a copy).
//
// OrgRoles and TeamRoles are ordered by priority, lowest first, as Sentry's
// orgRoleList and teamRoleList are. When they are empty the engine falls back
// to DefaultOrgRoles and DefaultTeamRoles (Sentry's SENTRY_ROLES and
// SENTRY_TEAM_ROLES from src/sentry/conf/server.py).
type Snapshot struct {
	Org          Org           `json:"org"`
	OrgRoles     []OrgRole     `json:"orgRoles"`
	TeamRoles    []TeamRole    `json:"teamRoles"`
	Members      []Member      `json:"members"`
	Teams        []Team        `json:"teams"`
	Projects     []Project     `json:"projects"`
	Integrations []Integration `json:"integrations"`
}

// Org holds the organization settings that change access
// (GET /api/0/organizations/{org}/).
type Org struct {
	ID                         string `json:"id"`
	Slug                       string `json:"slug"`
	Name                       string `json:"name"`
	OpenMembership             bool   `json:"openMembership"`
	AllowMemberProjectCreation bool   `json:"allowMemberProjectCreation"`
	AllowMemberInvite          bool   `json:"allowMemberInvite"`
	EventsMemberAdmin          bool   `json:"eventsMemberAdmin"`
	AlertsMemberWrite          bool   `json:"alertsMemberWrite"`
	Require2FA                 bool   `json:"require2FA"`
	RequiresSSO                bool   `json:"requiresSso"`
	AllowJoinRequests          bool   `json:"allowJoinRequests"`
	HasAuthProvider            bool   `json:"hasAuthProvider"`
	// SCIMEnabled reports whether the auth provider has SCIM on.
	SCIMEnabled bool `json:"scimEnabled"`
}

// OrgRole is an organization role definition (Sentry's orgRoleList entry).
type OrgRole struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Scopes             []string `json:"scopes"`
	IsGlobal           bool     `json:"isGlobal"`
	IsRetired          bool     `json:"isRetired"`
	IsTeamRolesAllowed bool     `json:"isTeamRolesAllowed"`
	MinimumTeamRole    string   `json:"minimumTeamRole"`
}

// TeamRole is a team role definition (Sentry's teamRoleList entry).
// IsMinimumRoleFor names the org role for which it is the minimum, if any.
type TeamRole struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Scopes           []string `json:"scopes"`
	IsMinimumRoleFor string   `json:"isMinimumRoleFor,omitempty"`
}

// MemberState is where a member is in Sentry's invite lifecycle.
type MemberState string

// Member states. Only active members reach anything.
const (
	StateActive  MemberState = "active"  // invite accepted: has a user
	StatePending MemberState = "pending" // invited, not yet accepted
	StateExpired MemberState = "expired" // invite token past its 30 days
)

// Member is an organization member with its team memberships.
type Member struct {
	ID      string      `json:"id"`
	Email   string      `json:"email"`
	Name    string      `json:"name"`
	UserID  string      `json:"userId,omitempty"`
	OrgRole string      `json:"orgRole"`
	State   MemberState `json:"state"`
	Flags   MemberFlags `json:"flags"`
	Has2FA  bool        `json:"has2fa"`
	// Teams are the member's team memberships.
	Teams       []Membership `json:"teams"`
	DateCreated time.Time    `json:"dateCreated"`
	LastLogin   *time.Time   `json:"lastLogin,omitempty"`
	LastActive  *time.Time   `json:"lastActive,omitempty"`
}

// MemberFlags mirror Sentry's OrganizationMember flags.
type MemberFlags struct {
	SSOLinked             bool `json:"ssoLinked,omitempty"`
	SSOInvalid            bool `json:"ssoInvalid,omitempty"`
	IDPProvisioned        bool `json:"idpProvisioned,omitempty"`
	IDPRoleRestricted     bool `json:"idpRoleRestricted,omitempty"`
	MemberLimitRestricted bool `json:"memberLimitRestricted,omitempty"`
	PartnershipRestricted bool `json:"partnershipRestricted,omitempty"`
}

// Membership is a member's place on a team. Role is the stored team role;
// "" is Sentry's null, meaning the minimum team role of the member's org role.
type Membership struct {
	Team string `json:"team"` // team slug
	Role string `json:"role,omitempty"`
}

// Team is a team. IDPProvisioned teams have their membership managed by SCIM.
type Team struct {
	ID             string    `json:"id"`
	Slug           string    `json:"slug"`
	Name           string    `json:"name"`
	IDPProvisioned bool      `json:"idpProvisioned,omitempty"`
	DateCreated    time.Time `json:"dateCreated"`
}

// Project is a project with the slugs of the teams it is linked to.
type Project struct {
	ID       string   `json:"id"`
	Slug     string   `json:"slug"`
	Name     string   `json:"name"`
	Platform string   `json:"platform,omitempty"`
	Teams    []string `json:"teams"`
}

// Integration is an internal integration (a Sentry App owned by the org).
// Its tokens act as a member of every team with Scopes
// (OrganizationGlobalMembership in src/sentry/auth/access.py).
type Integration struct {
	Slug   string   `json:"slug"`
	Name   string   `json:"name"`
	UUID   string   `json:"uuid"`
	Status string   `json:"status"`
	Scopes []string `json:"scopes"`
}
