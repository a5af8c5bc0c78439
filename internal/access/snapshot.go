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
	// Server is what the Sentry server revealed about itself in the sync
	// that built the snapshot, and which org fields were assumed. The
	// engine does not read it; pages that depend on an assumed field say
	// so.
	Server Server `json:"server"`
	// Caller is the acting identity: who Sentry sees when sentry-access
	// calls it with the configured token.
	Caller ActingIdentity `json:"caller"`
}

// Hosting kinds of a Sentry server.
const (
	HostingSaaS       = "saas"        // sentry.io (a sentry.io host or region host)
	HostingSelfHosted = "self-hosted" // any other host
)

// Server is what a Sentry server revealed about itself during a sync
// (docs/sentry-access-model.md#older-and-self-hosted-servers). The zero
// value is a snapshot taken before this was recorded.
type Server struct {
	// Hosting is HostingSaaS or HostingSelfHosted ("" when not recorded);
	// HostingWhy says what it was told from.
	Hosting    string `json:"hosting,omitempty"`
	HostingWhy string `json:"hostingWhy,omitempty"`
	// Region is the sentry.io region ("us", "de"), "" when none is known.
	Region string `json:"region,omitempty"`
	// RegionURL is the organization's links.regionUrl, when sent.
	RegionURL string `json:"regionUrl,omitempty"`
	// RateLimitHeaders reports whether the organization detail came with
	// X-Sentry-Rate-Limit-* headers (sentry.io sends them; self-hosted
	// Sentry sends none).
	RateLimitHeaders bool `json:"rateLimitHeaders,omitempty"`
	// AuditLog is the audit log's shape: AuditLogRows, AuditLogBareList,
	// or "" when it was not read.
	AuditLog string `json:"auditLog,omitempty"`
	// Fields say, for each organization field the engine and the pages
	// rely on, whether the server sent it or a default was assumed, in
	// the order of the API names.
	Fields []FieldSource `json:"fields,omitempty"`
}

// Audit-log shapes.
const (
	AuditLogRows     = "rows and options" // {rows, options}
	AuditLogBareList = "bare list"        // older servers
)

// Provenance says where a value of the snapshot came from.
type Provenance string

// Provenances.
const (
	// Detected: the server sent the field (or it was read from another
	// endpoint that states it, named in FieldSource.Note).
	Detected Provenance = "detected"
	// Assumed: the server left the field out and Sentry's default for
	// servers of that era is used (FieldSource.Value, FieldSource.Note).
	Assumed Provenance = "assumed"
)

// FieldSource is one organization field and where its value came from.
type FieldSource struct {
	// Field is Sentry's API name, e.g. "eventsMemberAdmin", or
	// "orgRoleList.isTeamRolesAllowed" for a field of the role entries.
	Field      string     `json:"field"`
	Provenance Provenance `json:"provenance"`
	// Value is the value used, in words ("on", "off", "Sentry's built-in
	// roles").
	Value string `json:"value,omitempty"`
	// Note names where an assumed value comes from in Sentry's source, or
	// the endpoint a detected one was read from instead.
	Note string `json:"note,omitempty"`
}

// Field returns the source of an organization field (an API name) and
// whether it is recorded.
func (s Server) Field(name string) (FieldSource, bool) {
	for _, f := range s.Fields {
		if f.Field == name {
			return f, true
		}
	}
	return FieldSource{}, false
}

// Assumed returns the fields among names whose value was assumed, in the
// order given.
func (s Server) Assumed(names ...string) []FieldSource {
	var out []FieldSource
	for _, n := range names {
		if f, ok := s.Field(n); ok && f.Provenance == Assumed {
			out = append(out, f)
		}
	}
	return out
}

// Acting identity kinds.
const (
	// CallerUser is a user auth token of a member: Sentry checks every
	// caller-dependent rule against this member.
	CallerUser = "user"
	// CallerIntegration is an internal integration's token: its proxy
	// user is no member, Sentry grants the app's scopes on every team and
	// project, and it holds no org role.
	CallerIntegration = "integration"
	// CallerOrgToken is an org auth token: no user, org:ci only.
	CallerOrgToken = "org-token"
	// CallerUnknown: the identity could not be determined (Unknown says
	// why).
	CallerUnknown = "unknown"
)

// ActingIdentity is who Sentry sees when sentry-access calls it: the
// owner of the configured token, not the dashboard user who filed a
// request. Rules that depend on the caller (one's own role, the roles the
// caller may grant, members above the caller, team admin rights) are
// Sentry's checks against this identity
// (docs/sentry-access-model.md#the-acting-identity). It is read from
// GET /api/0/ (the token's user and scopes), the member list (the user's
// membership) and the organization detail (the caller's orgRole).
type ActingIdentity struct {
	// Kind is CallerUser, CallerIntegration, CallerOrgToken or
	// CallerUnknown; "" in snapshots taken before it was recorded.
	Kind string `json:"kind,omitempty"`
	// UserID, Username, Name and Email describe the token's user (an
	// integration's proxy user has only a username).
	UserID   string `json:"userId,omitempty"`
	Username string `json:"username,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	// MemberID is the user's membership in the organization, "" when the
	// user is no member.
	MemberID string `json:"memberId,omitempty"`
	// OrgRole is the caller's org role in the organization, "" when it has
	// none.
	OrgRole string `json:"orgRole,omitempty"`
	// Integration is the slug of the internal integration whose token it
	// is (Kind CallerIntegration), when it could be told.
	Integration string `json:"integration,omitempty"`
	// TokenScopes are the token's own scopes (GET /api/0/ auth.scopes).
	TokenScopes []string `json:"tokenScopes,omitempty"`
	// Unknown says, in words, what could not be determined and why; ""
	// when everything is known.
	Unknown string `json:"unknown,omitempty"`
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
