package sentry

import (
	"encoding/json"
	"time"
)

// This file holds the JSON shapes of the Sentry REST API (/api/0) that
// sentry-access reads and writes. Field names and meanings follow Sentry's
// serializers (src/sentry/api/serializers/models/*) and the public OpenAPI
// schema; see docs/sentry-access-model.md. The simulator
// (internal/sentrysim) serves exactly these shapes.

// OrgRole is one entry of an organization's orgRoleList
// (src/sentry/api/serializers/models/role.py). Entries are ordered by
// priority, lowest first.
//
// Older servers leave fields out (see UnmarshalJSON); Absent lists those
// the server did not send.
type OrgRole struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Desc               string   `json:"desc"`
	Scopes             []string `json:"scopes"`
	Allowed            bool     `json:"allowed"`
	IsAllowed          bool     `json:"isAllowed"`
	IsRetired          bool     `json:"isRetired"`
	IsGlobal           bool     `json:"isGlobal"`
	IsTeamRolesAllowed bool     `json:"isTeamRolesAllowed"`
	MinimumTeamRole    string   `json:"minimumTeamRole"`
	// Absent lists, sorted, the fields of OrgRoleFields the server left
	// out or sent as null; nil when it sent them all or when the value was
	// not decoded from a response.
	Absent []string `json:"-"`
}

// TeamRole is one entry of an organization's teamRoleList, ordered by
// priority, lowest first. IsMinimumRoleFor names the org role (if any) for
// which this team role is the minimum.
type TeamRole struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Desc             string   `json:"desc"`
	Scopes           []string `json:"scopes"`
	Allowed          bool     `json:"allowed"`
	IsAllowed        bool     `json:"isAllowed"`
	IsRetired        bool     `json:"isRetired"`
	IsMinimumRoleFor *string  `json:"isMinimumRoleFor"`
}

// Organization is the body of GET /api/0/organizations/{org}/ reduced to the
// fields that change access. OrgRole (Role on older servers) and Access
// describe the caller.
//
// Older servers leave fields out (see UnmarshalJSON): a boolean left out
// decodes as false, so read Absent (or Has) before trusting one.
type Organization struct {
	ID                         string     `json:"id"`
	Slug                       string     `json:"slug"`
	Name                       string     `json:"name"`
	DateCreated                time.Time  `json:"dateCreated"`
	OpenMembership             bool       `json:"openMembership"`
	AllowMemberProjectCreation bool       `json:"allowMemberProjectCreation"`
	AllowMemberInvite          bool       `json:"allowMemberInvite"`
	EventsMemberAdmin          bool       `json:"eventsMemberAdmin"`
	AlertsMemberWrite          bool       `json:"alertsMemberWrite"`
	Require2FA                 bool       `json:"require2FA"`
	RequiresSSO                bool       `json:"requiresSso"`
	AllowJoinRequests          bool       `json:"allowJoinRequests"`
	HasAuthProvider            bool       `json:"hasAuthProvider"`
	DefaultRole                string     `json:"defaultRole"`
	PendingAccessRequests      int        `json:"pendingAccessRequests"`
	OrgRole                    string     `json:"orgRole"`
	Access                     []string   `json:"access"`
	Features                   []string   `json:"features"`
	OrgRoleList                []OrgRole  `json:"orgRoleList"`
	TeamRoleList               []TeamRole `json:"teamRoleList"`
	// Role is the deprecated name of OrgRole, the only one servers older
	// than team roles send.
	Role string `json:"role,omitempty"`
	// Links are the org's own and its region's URLs (newer servers only).
	Links *OrganizationLinks `json:"links,omitempty"`

	// Absent lists, sorted, the fields of OrganizationFields the server
	// left out or sent as null; nil when it sent them all or when the
	// value was not decoded from a response.
	Absent []string `json:"-"`
	// RateLimitHeaders reports whether Sentry's answer carried
	// X-Sentry-Rate-Limit-* headers: sentry.io sends them, self-hosted
	// Sentry (which skips rate limiting) never does.
	RateLimitHeaders bool `json:"-"`
}

// OrganizationLinks is the links object of an organization
// (src/sentry/api/serializers/models/organization.py): RegionURL is the
// API host of the org's region (https://us.sentry.io, https://de.sentry.io
// on sentry.io; the server's own URL on self-hosted).
type OrganizationLinks struct {
	OrganizationURL string `json:"organizationUrl"`
	RegionURL       string `json:"regionUrl"`
}

// OrganizationUpdate is the body of PUT /api/0/organizations/{org}/. Nil
// fields are left unchanged.
type OrganizationUpdate struct {
	OpenMembership             *bool `json:"openMembership,omitempty"`
	AllowMemberProjectCreation *bool `json:"allowMemberProjectCreation,omitempty"`
	AllowMemberInvite          *bool `json:"allowMemberInvite,omitempty"`
	EventsMemberAdmin          *bool `json:"eventsMemberAdmin,omitempty"`
	AlertsMemberWrite          *bool `json:"alertsMemberWrite,omitempty"`
	Require2FA                 *bool `json:"require2FA,omitempty"`
	AllowJoinRequests          *bool `json:"allowJoinRequests,omitempty"`
}

// User is the user object embedded in members and audit-log entries.
type User struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Username    string     `json:"username"`
	Email       string     `json:"email"`
	IsActive    bool       `json:"isActive"`
	Has2FA      bool       `json:"has2fa"`
	LastLogin   *time.Time `json:"lastLogin"`
	LastActive  *time.Time `json:"lastActive"`
	DateJoined  time.Time  `json:"dateJoined"`
	IsManaged   bool       `json:"isManaged"`
	HasPassword bool       `json:"hasPasswordAuth"`
}

// MemberFlags are the organization member bit flags as the API names them.
type MemberFlags struct {
	IDPProvisioned        bool `json:"idp:provisioned"`
	IDPRoleRestricted     bool `json:"idp:role-restricted"`
	SSOLinked             bool `json:"sso:linked"`
	SSOInvalid            bool `json:"sso:invalid"`
	MemberLimitRestricted bool `json:"member-limit:restricted"`
	PartnershipRestricted bool `json:"partnership:restricted"`
}

// MemberTeamRole is one element of a member's teamRoles. A nil Role is
// Sentry's stored null: the member holds the minimum team role of their org
// role (src/sentry/models/organizationmemberteam.py).
type MemberTeamRole struct {
	TeamSlug string  `json:"teamSlug"`
	Role     *string `json:"role"`
}

// Member is an organization member as returned by the member list and
// detail endpoints. Teams, TeamRoles, OrgRoleList and TeamRoleList are only
// present on the detail endpoint.
type Member struct {
	ID           string           `json:"id"`
	Email        string           `json:"email"`
	Name         string           `json:"name"`
	User         *User            `json:"user"`
	OrgRole      string           `json:"orgRole"`
	Role         string           `json:"role,omitempty"`
	RoleName     string           `json:"roleName,omitempty"`
	Pending      bool             `json:"pending"`
	Expired      bool             `json:"expired"`
	Flags        MemberFlags      `json:"flags"`
	DateCreated  time.Time        `json:"dateCreated"`
	InviteStatus string           `json:"inviteStatus"`
	InviterName  *string          `json:"inviterName"`
	Teams        []string         `json:"teams,omitempty"`
	TeamRoles    []MemberTeamRole `json:"teamRoles,omitempty"`
	IsOnlyOwner  *bool            `json:"isOnlyOwner,omitempty"` // detail only
	OrgRoleList  []OrgRole        `json:"orgRoleList,omitempty"`
	TeamRoleList []TeamRole       `json:"teamRoleList,omitempty"`
}

// TeamMember is an element of GET /teams/{org}/{team}/members/: the member
// fields plus the stored team role (nil = the minimum for the org role).
type TeamMember struct {
	Member
	TeamRole *string `json:"teamRole"`
	TeamSlug string  `json:"teamSlug"`
}

// TeamFlags are a team's flags.
type TeamFlags struct {
	IDPProvisioned bool `json:"idp:provisioned"`
}

// ProjectRef is the short project shape embedded in a detailed team.
type ProjectRef struct {
	ID       string `json:"id"`
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	Platform string `json:"platform"`
}

// Team is an element of GET /organizations/{org}/teams/. IsMember, TeamRole,
// Access and HasAccess are relative to the caller. Projects is present when
// the list is detailed (the default).
type Team struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	DateCreated time.Time `json:"dateCreated"`
	IsMember    bool      `json:"isMember"`
	TeamRole    *string   `json:"teamRole"`
	Flags       TeamFlags `json:"flags"`
	Access      []string  `json:"access"`
	HasAccess   bool      `json:"hasAccess"`
	IsPending   bool      `json:"isPending"`
	// MemberCount is the team's approved memberships (pending invites and
	// deactivated users included); nil when the server left it out.
	MemberCount *int         `json:"memberCount"`
	Projects    []ProjectRef `json:"projects,omitempty"`
}

// TeamRef is the short team shape embedded in a project.
type TeamRef struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Project is an element of GET /organizations/{org}/projects/.
type Project struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Platform    string    `json:"platform"`
	DateCreated time.Time `json:"dateCreated"`
	IsMember    bool      `json:"isMember"`
	HasAccess   bool      `json:"hasAccess"`
	Access      []string  `json:"access"`
	Team        *TeamRef  `json:"team"`
	Teams       []TeamRef `json:"teams"`
	Status      string    `json:"status"`
}

// AccessRequest is an element of GET /organizations/{org}/access-requests/:
// a request to join a team under closed membership.
type AccessRequest struct {
	ID        string `json:"id"`
	Member    Member `json:"member"`
	Team      Team   `json:"team"`
	Requester *User  `json:"requester"`
}

// OrgAuthToken is an element of GET /organizations/{org}/org-auth-tokens/.
// Scopes are always ["org:ci"]. Token is only present in the POST response.
type OrgAuthToken struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Scopes              []string   `json:"scopes"`
	TokenLastCharacters string     `json:"tokenLastCharacters"`
	DateCreated         time.Time  `json:"dateCreated"`
	DateLastUsed        *time.Time `json:"dateLastUsed"`
	ProjectLastUsedID   *string    `json:"projectLastUsedId"`
	Token               string     `json:"token,omitempty"`
}

// APIToken is an element of GET /api/0/api-tokens/: a user's personal auth
// token (src/sentry/api/serializers/models/apitoken.py). The endpoint
// answers browser sessions only; the token value itself is never listed.
type APIToken struct {
	ID                  string     `json:"id"`
	Name                *string    `json:"name"`
	Scopes              []string   `json:"scopes"`
	ExpiresAt           *time.Time `json:"expiresAt"`
	DateCreated         time.Time  `json:"dateCreated"`
	TokenLastCharacters string     `json:"tokenLastCharacters"`
}

// SentryApp is an element of GET /organizations/{org}/sentry-apps/. Internal
// integrations have Status "internal"; their tokens act with Scopes on every
// team and project of the org.
type SentryApp struct {
	UUID          string    `json:"uuid"`
	Slug          string    `json:"slug"`
	Name          string    `json:"name"`
	Author        string    `json:"author"`
	Status        string    `json:"status"`
	Scopes        []string  `json:"scopes"`
	Events        []string  `json:"events"`
	Overview      string    `json:"overview"`
	IsAlertable   bool      `json:"isAlertable"`
	WebhookURL    *string   `json:"webhookUrl"`
	DateCreated   time.Time `json:"dateCreated,omitzero"`
	Owner         *OwnerRef `json:"owner,omitempty"`
	VerifyInstall bool      `json:"verifyInstall"`
}

// OwnerRef names the organization that owns a Sentry App.
type OwnerRef struct {
	ID   int    `json:"id"`
	Slug string `json:"slug"`
}

// AuthProvider is the body of GET /organizations/{org}/auth-provider/ when
// SSO is configured (the endpoint answers 204 when it is not).
type AuthProvider struct {
	ID                string `json:"id"`
	ProviderName      string `json:"provider_name"`
	PendingLinksCount int    `json:"pending_links_count"`
	LoginURL          string `json:"login_url"`
	DefaultRole       string `json:"default_role"`
	RequireLink       bool   `json:"require_link"`
	SCIMEnabled       bool   `json:"scim_enabled"`
}

// AuditActor is the actor of an audit-log entry: a user, or only a name for
// integrations and the SCIM internal integration.
type AuditActor struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// AuditLogEntry is one row of GET /organizations/{org}/audit-logs/.
type AuditLogEntry struct {
	ID           string          `json:"id"`
	Actor        *AuditActor     `json:"actor"`
	Event        string          `json:"event"`
	IPAddress    string          `json:"ipAddress"`
	Note         string          `json:"note"`
	TargetObject *int64          `json:"targetObject"`
	TargetUser   *AuditActor     `json:"targetUser"`
	Data         json.RawMessage `json:"data"`
	DateCreated  time.Time       `json:"dateCreated"`
}

// AuditLogPage is the body of GET /organizations/{org}/audit-logs/:
// {rows, options} on current servers, where Options lists every registered
// event name; older servers answer the rows as a bare list, which
// UnmarshalJSON also reads (BareList is then true and Options nil).
type AuditLogPage struct {
	Rows    []AuditLogEntry `json:"rows"`
	Options []string        `json:"options"`
	// BareList reports whether the server answered a bare JSON list.
	BareList bool `json:"-"`
}

// APIIndex is the body of GET /api/0/ (src/sentry/api/endpoints/index.py):
// who the credential authenticates as. User is nil for credentials without
// a user (org auth tokens); an internal integration's token answers the
// integration's proxy user, who is no member of any organization.
type APIIndex struct {
	Version string        `json:"version"`
	Auth    *APIIndexAuth `json:"auth"`
	User    *User         `json:"user"`
}

// APIIndexAuth is the auth object of GET /api/0/: the credential's own
// scopes (before any role bounds them).
type APIIndexAuth struct {
	Scopes []string `json:"scopes"`
}

// SCIM schema URNs used by Sentry's SCIM v2 endpoints.
const (
	SCIMUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	SCIMGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SCIMListSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SCIMPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SCIMErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// SCIMEmail is an element of a SCIM user's emails.
type SCIMEmail struct {
	Primary bool   `json:"primary"`
	Value   string `json:"value"`
	Type    string `json:"type"`
}

// SCIMName is a SCIM user's name; Sentry always answers "N/A".
type SCIMName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

// SCIMMeta is the meta object of a SCIM resource.
type SCIMMeta struct {
	ResourceType string `json:"resourceType"`
}

// SCIMUser is a SCIM v2 User: an organization member. ID is the member id.
// Active is omitted for the Azure AD provider.
type SCIMUser struct {
	Schemas       []string    `json:"schemas"`
	ID            string      `json:"id"`
	UserName      string      `json:"userName"`
	Emails        []SCIMEmail `json:"emails"`
	Name          SCIMName    `json:"name"`
	Active        *bool       `json:"active,omitempty"`
	Meta          SCIMMeta    `json:"meta"`
	SentryOrgRole string      `json:"sentryOrgRole"`
}

// SCIMGroupMember is an element of a SCIM group's members: Value is the
// member id as a string, Display the member's email.
type SCIMGroupMember struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

// SCIMGroup is a SCIM v2 Group: a team. ID is the numeric team id.
type SCIMGroup struct {
	Schemas     []string          `json:"schemas"`
	ID          string            `json:"id"`
	DisplayName string            `json:"displayName"`
	Members     []SCIMGroupMember `json:"members"`
	Meta        SCIMMeta          `json:"meta"`
}

// SCIMListResponse is the body of a SCIM list. SCIM lists page by
// startIndex (1-based) and count, and carry no Link header.
type SCIMListResponse[T any] struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []T      `json:"Resources"`
}

// SCIMPatchOp is one operation of a SCIM PATCH body.
type SCIMPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// SCIMPatch is the body of a SCIM PATCH request.
type SCIMPatch struct {
	Schemas    []string      `json:"schemas"`
	Operations []SCIMPatchOp `json:"Operations"`
}
