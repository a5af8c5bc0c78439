package sentrysim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Fixture is the initial state of one simulated Sentry organization. It is
// read from YAML by LoadFixture (strictly: unknown keys are errors) or built
// in Go (DemoFixture, Generate). IDs left at zero are assigned in order.
type Fixture struct {
	Org            OrgFixture             `yaml:"org"`
	Teams          []TeamFixture          `yaml:"teams"`
	Projects       []ProjectFixture       `yaml:"projects"`
	Members        []MemberFixture        `yaml:"members"`
	Integrations   []IntegrationFixture   `yaml:"integrations"`
	OrgAuthTokens  []OrgAuthTokenFixture  `yaml:"orgAuthTokens"`
	UserTokens     []UserTokenFixture     `yaml:"userTokens"`
	AuthProvider   *AuthProviderFixture   `yaml:"authProvider"`
	AccessRequests []AccessRequestFixture `yaml:"accessRequests"`
	AuditLog       []AuditEntryFixture    `yaml:"auditLog"`
}

// OrgFixture holds the organization and its access settings. Settings that
// Sentry turns on by default are pointers: nil means Sentry's default (on).
type OrgFixture struct {
	ID                         int64     `yaml:"id"`
	Slug                       string    `yaml:"slug"`
	Name                       string    `yaml:"name"`
	DateCreated                time.Time `yaml:"dateCreated"`
	OpenMembership             *bool     `yaml:"openMembership"`
	AllowMemberInvite          *bool     `yaml:"allowMemberInvite"`
	AllowMemberProjectCreation *bool     `yaml:"allowMemberProjectCreation"`
	EventsMemberAdmin          *bool     `yaml:"eventsMemberAdmin"`
	AlertsMemberWrite          *bool     `yaml:"alertsMemberWrite"`
	AllowJoinRequests          *bool     `yaml:"allowJoinRequests"`
	Require2FA                 bool      `yaml:"require2FA"`
	DefaultRole                string    `yaml:"defaultRole"`
	// Features are the organization's feature flags; nil means
	// DefaultFeatures (team roles on, billing invites allowed).
	Features []string `yaml:"features"`
}

// DefaultFeatures are the organization features a fixture gets when it
// names none.
func DefaultFeatures() []string {
	return []string{"organizations:team-roles", "organizations:invite-members", "organizations:invite-billing"}
}

// TeamFixture is one team.
type TeamFixture struct {
	ID             int64     `yaml:"id"`
	Slug           string    `yaml:"slug"`
	Name           string    `yaml:"name"`
	IDPProvisioned bool      `yaml:"idpProvisioned"`
	DateCreated    time.Time `yaml:"dateCreated"`
}

// ProjectFixture is one project and the slugs of the teams it belongs to.
type ProjectFixture struct {
	ID          int64     `yaml:"id"`
	Slug        string    `yaml:"slug"`
	Name        string    `yaml:"name"`
	Platform    string    `yaml:"platform"`
	Teams       []string  `yaml:"teams"`
	DateCreated time.Time `yaml:"dateCreated"`
}

// MemberFixture is one organization member: an active user, a pending
// invite (Pending: no user yet) or an invite/join request (InviteStatus).
type MemberFixture struct {
	ID     int64  `yaml:"id"`
	UserID int64  `yaml:"userId"`
	Email  string `yaml:"email"`
	Name   string `yaml:"name"`
	// Role is the org role id (billing, member, admin, manager, owner).
	Role    string `yaml:"role"`
	Pending bool   `yaml:"pending"`
	Expired bool   `yaml:"expired"`
	// InviteStatus is approved (default), requested_to_be_invited or
	// requested_to_join.
	InviteStatus string `yaml:"inviteStatus"`
	// Inviter is the email of the member who sent the invite.
	Inviter string `yaml:"inviter"`
	// Flags are member flags by API name, e.g. sso:linked, idp:provisioned.
	Flags       []string         `yaml:"flags"`
	Has2FA      bool             `yaml:"has2fa"`
	LastLogin   *time.Time       `yaml:"lastLogin"`
	DateCreated time.Time        `yaml:"dateCreated"`
	Teams       []TeamMembership `yaml:"teams"`
}

// TeamMembership is a member's membership of a team. An empty Role is
// Sentry's stored null (the minimum team role of the member's org role).
type TeamMembership struct {
	Team string `yaml:"team"`
	Role string `yaml:"role"`
}

// IntegrationFixture is an internal integration (a Sentry App with status
// internal): its tokens act org-wide with Scopes.
type IntegrationFixture struct {
	UUID        string    `yaml:"uuid"`
	Slug        string    `yaml:"slug"`
	Name        string    `yaml:"name"`
	Scopes      []string  `yaml:"scopes"`
	Events      []string  `yaml:"events"`
	Tokens      []string  `yaml:"tokens"`
	DateCreated time.Time `yaml:"dateCreated"`
}

// OrgAuthTokenFixture is an organization auth token (sntrys_…, scope org:ci).
type OrgAuthTokenFixture struct {
	ID              int64      `yaml:"id"`
	Name            string     `yaml:"name"`
	Token           string     `yaml:"token"`
	DateCreated     time.Time  `yaml:"dateCreated"`
	DateLastUsed    *time.Time `yaml:"dateLastUsed"`
	ProjectLastUsed string     `yaml:"projectLastUsed"`
}

// UserTokenFixture is a user auth token belonging to the member with
// Member's email. Its effective scopes are Scopes ∩ the member's role scopes.
type UserTokenFixture struct {
	Name        string     `yaml:"name"`
	Token       string     `yaml:"token"`
	Member      string     `yaml:"member"`
	Scopes      []string   `yaml:"scopes"`
	DateCreated time.Time  `yaml:"dateCreated"`
	ExpiresAt   *time.Time `yaml:"expiresAt"`
}

// AuthProviderFixture is the organization's SSO provider.
type AuthProviderFixture struct {
	Provider    string `yaml:"provider"`
	RequireLink bool   `yaml:"requireLink"`
	DefaultRole string `yaml:"defaultRole"`
	SCIMEnabled bool   `yaml:"scimEnabled"`
	SCIMToken   string `yaml:"scimToken"`
	// AzureAD makes SCIM user resources omit "active", as Sentry does for
	// the Azure AD provider.
	AzureAD bool `yaml:"azureAD"`
}

// AccessRequestFixture is a pending request by Member (email) to join Team
// (slug), optionally made by Requester (email) on the member's behalf.
type AccessRequestFixture struct {
	Member    string `yaml:"member"`
	Team      string `yaml:"team"`
	Requester string `yaml:"requester"`
}

// AuditEntryFixture is one audit-log entry. Actor is a member email, or a
// label such as an integration name.
type AuditEntryFixture struct {
	Event        string         `yaml:"event"`
	Actor        string         `yaml:"actor"`
	TargetObject int64          `yaml:"targetObject"`
	TargetUser   string         `yaml:"targetUser"`
	IPAddress    string         `yaml:"ipAddress"`
	Note         string         `yaml:"note"`
	Data         map[string]any `yaml:"data"`
	DateCreated  time.Time      `yaml:"dateCreated"`
}

// LoadFixture reads a YAML fixture strictly: unknown keys and malformed
// values are reported as one error, and the fixture is validated.
func LoadFixture(r io.Reader) (*Fixture, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	var fx Fixture
	if err := decodeStrict(data, &fx); err != nil {
		return nil, err
	}
	if err := fx.Validate(); err != nil {
		return nil, err
	}
	return &fx, nil
}

// memberFlagNames are the member flags the API knows.
func memberFlagNames() []string {
	return []string{"idp:provisioned", "idp:role-restricted", "sso:linked", "sso:invalid",
		"member-limit:restricted", "partnership:restricted"}
}

// Validate reports every problem of the fixture at once: missing org slug,
// unknown roles, flags and scopes, duplicate slugs and emails, and
// references to unknown teams, projects and members.
func (fx *Fixture) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	rt := newRoleTable()
	if fx.Org.Slug == "" {
		bad("org.slug is required")
	}
	if fx.Org.DefaultRole != "" {
		if _, ok := rt.orgRole(fx.Org.DefaultRole); !ok {
			bad("org.defaultRole: unknown role %q", fx.Org.DefaultRole)
		}
	}
	teams := map[string]bool{}
	for i, t := range fx.Teams {
		if t.Slug == "" {
			bad("teams[%d]: slug is required", i)
		}
		if teams[t.Slug] {
			bad("teams[%d]: duplicate slug %q", i, t.Slug)
		}
		teams[t.Slug] = true
	}
	projects := map[string]bool{}
	for i, p := range fx.Projects {
		if p.Slug == "" {
			bad("projects[%d]: slug is required", i)
		}
		if projects[p.Slug] {
			bad("projects[%d]: duplicate slug %q", i, p.Slug)
		}
		projects[p.Slug] = true
		for _, t := range p.Teams {
			if !teams[t] {
				bad("projects[%d] %s: unknown team %q", i, p.Slug, t)
			}
		}
	}
	emails := map[string]bool{}
	for i, m := range fx.Members {
		if m.Email == "" {
			bad("members[%d]: email is required", i)
		}
		e := strings.ToLower(m.Email)
		if emails[e] {
			bad("members[%d]: duplicate email %q", i, m.Email)
		}
		emails[e] = true
		if _, ok := rt.orgRole(m.Role); !ok {
			bad("members[%d] %s: unknown role %q", i, m.Email, m.Role)
		}
		switch m.InviteStatus {
		case "", "approved", "requested_to_be_invited", "requested_to_join":
		default:
			bad("members[%d] %s: unknown inviteStatus %q", i, m.Email, m.InviteStatus)
		}
		for _, f := range m.Flags {
			if !slices.Contains(memberFlagNames(), f) {
				bad("members[%d] %s: unknown flag %q", i, m.Email, f)
			}
		}
		for _, tm := range m.Teams {
			if !teams[tm.Team] {
				bad("members[%d] %s: unknown team %q", i, m.Email, tm.Team)
			}
			if tm.Role != "" {
				if _, ok := rt.teamRole(tm.Role); !ok {
					bad("members[%d] %s: unknown team role %q", i, m.Email, tm.Role)
				}
			}
		}
	}
	for i, m := range fx.Members {
		if m.Inviter != "" && !emails[strings.ToLower(m.Inviter)] {
			bad("members[%d] %s: unknown inviter %q", i, m.Email, m.Inviter)
		}
	}
	tokens := map[string]bool{}
	token := func(where, v string) {
		if v == "" {
			bad("%s: token is required", where)
			return
		}
		if tokens[v] {
			bad("%s: duplicate token value", where)
		}
		tokens[v] = true
	}
	for i, in := range fx.Integrations {
		if in.Slug == "" {
			bad("integrations[%d]: slug is required", i)
		}
		for _, s := range in.Scopes {
			if !slices.Contains(allScopes(), s) {
				bad("integrations[%d] %s: unknown scope %q", i, in.Slug, s)
			}
		}
		for j, v := range in.Tokens {
			token(fmt.Sprintf("integrations[%d].tokens[%d]", i, j), v)
		}
	}
	for i, t := range fx.OrgAuthTokens {
		token(fmt.Sprintf("orgAuthTokens[%d]", i), t.Token)
		if t.ProjectLastUsed != "" && !projects[t.ProjectLastUsed] {
			bad("orgAuthTokens[%d]: unknown project %q", i, t.ProjectLastUsed)
		}
	}
	for i, t := range fx.UserTokens {
		token(fmt.Sprintf("userTokens[%d]", i), t.Token)
		if !emails[strings.ToLower(t.Member)] {
			bad("userTokens[%d]: unknown member %q", i, t.Member)
		}
		for _, s := range t.Scopes {
			if !slices.Contains(allScopes(), s) {
				bad("userTokens[%d]: unknown scope %q", i, s)
			}
		}
	}
	if ap := fx.AuthProvider; ap != nil && ap.SCIMToken != "" {
		token("authProvider.scimToken", ap.SCIMToken)
	}
	for i, ar := range fx.AccessRequests {
		if !emails[strings.ToLower(ar.Member)] {
			bad("accessRequests[%d]: unknown member %q", i, ar.Member)
		}
		if !teams[ar.Team] {
			bad("accessRequests[%d]: unknown team %q", i, ar.Team)
		}
		if ar.Requester != "" && !emails[strings.ToLower(ar.Requester)] {
			bad("accessRequests[%d]: unknown requester %q", i, ar.Requester)
		}
	}
	for i, a := range fx.AuditLog {
		if a.Event == "" {
			bad("auditLog[%d]: event is required", i)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid fixture: %w", errors.Join(errs...))
	}
	return nil
}

// decodeStrict decodes a fixture strictly. The YAML decoder panics on some
// malformed documents (a tagged scalar where a list belongs); a bad
// fixture file must be one clear error, not a crash.
func decodeStrict(data []byte, fx *Fixture) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode fixture: the YAML decoder cannot read it (%v)", r)
		}
	}()
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict()).Decode(fx); err != nil {
		return fmt.Errorf("decode fixture: %s", yaml.FormatError(err, false, true))
	}
	return nil
}
