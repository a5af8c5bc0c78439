// Package samlauth makes the dashboard a SAML 2.0 service provider. It wraps
// crewjam/saml's samlsp middleware: SP metadata at /saml/metadata, the
// assertion consumer service at /saml/acs (HTTP-POST), single logout at
// /saml/slo, SP-initiated login with signed (RSA-SHA256) AuthnRequests, and
// optional IdP-initiated login guarded by a replay cache. A successful login
// is turned into an Identity (email, name, groups, dashboard role) by an
// attribute mapping with presets for common identity providers, and handed
// to a Sessions implementation (internal/session) that keeps it in the
// dashboard's own cookie.
package samlauth

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Identity is the signed-in user, as mapped from a SAML assertion.
type Identity struct {
	Email        string
	Name         string
	Groups       []string
	Role         sentryaccess.Role
	NameID       string
	SessionIndex string
}

// Actor is the signed-in user as the services see them: the email and the
// dashboard role.
func (id Identity) Actor() sentryaccess.Actor {
	return sentryaccess.Actor{Email: id.Email, Role: id.Role}
}

// AttributeNames lists, for each field of Identity, the SAML attribute names
// to look for, in order; the first one present wins. Names are matched
// against both the attribute's Name and its FriendlyName, case-sensitively
// (SAML attribute names are case-sensitive).
type AttributeNames struct {
	Email     []string
	Name      []string
	GivenName []string // used with Surname when no Name attribute arrived
	Surname   []string
	Groups    []string
}

// Preset names a built-in AttributeNames for a common identity provider.
type Preset string

// Attribute-name presets.
const (
	PresetGeneric  Preset = "generic" // eduPerson/LDAP names: mail, displayName, cn, eduPersonAffiliation (SimpleSAMLphp, crewjam samlidp)
	PresetOkta     Preset = "okta"
	PresetEntraID  Preset = "entra"
	PresetGoogle   Preset = "google"
	PresetADFS     Preset = "adfs"
	PresetKeycloak Preset = "keycloak"
)

// Claim URIs used by Microsoft identity providers (Entra ID, AD FS).
const (
	claimEmail       = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	claimName        = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	claimUPN         = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	claimGivenName   = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
	claimSurname     = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
	claimDisplayName = "http://schemas.microsoft.com/identity/claims/displayname"
	claimGroups      = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
	claimRole        = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
	claimADFSGroup   = "http://schemas.xmlsoap.org/claims/Group"
	oidMail          = "urn:oid:0.9.2342.19200300.100.1.3"
	oidDisplayName   = "urn:oid:2.16.840.1.113730.3.1.241"
	oidGivenName     = "urn:oid:2.5.4.42"
	oidSurname       = "urn:oid:2.5.4.4"
	oidCommonName    = "urn:oid:2.5.4.3"
	oidAffiliation   = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
	oidPKCS9Email    = "urn:oid:1.2.840.113549.1.9.1"
)

// Presets returns every built-in preset, in a stable order.
func Presets() []Preset {
	return []Preset{PresetGeneric, PresetOkta, PresetEntraID, PresetGoogle, PresetADFS, PresetKeycloak}
}

// PresetAttributes returns the attribute names of a preset.
//
//   - generic: mail / displayName, cn / givenName, sn / eduPersonAffiliation, groups, memberOf
//   - okta: email / displayName / firstName, lastName / groups (Okta's app
//     "attribute statements" and "group attribute statements", named as in
//     Okta's SAML setup guide)
//   - entra: the long claim URIs Entra ID sends (…/claims/emailaddress,
//     …/identity/claims/displayname, …/claims/givenname, …/claims/surname,
//     …/2008/06/identity/claims/groups and …/role)
//   - google: email / firstName, lastName / groups (Google Workspace custom
//     SAML app mapping and group membership attribute)
//   - adfs: …/claims/emailaddress, …/claims/upn / …/claims/name /
//     …/claims/Group and …/role
//   - keycloak: email / firstName, lastName / groups, Role, member (the
//     names of Keycloak's built-in X500 and group-list mappers)
func PresetAttributes(p Preset) (AttributeNames, error) {
	switch p {
	case PresetGeneric, "":
		return AttributeNames{
			Email:     []string{"mail", "email", oidMail, "emailAddress"},
			Name:      []string{"displayName", oidDisplayName, "cn", oidCommonName, "name"},
			GivenName: []string{"givenName", oidGivenName},
			Surname:   []string{"sn", oidSurname},
			Groups:    []string{"groups", "eduPersonAffiliation", oidAffiliation, "memberOf"},
		}, nil
	case PresetOkta:
		return AttributeNames{
			Email:     []string{"email", "Email", "mail"},
			Name:      []string{"displayName", "name"},
			GivenName: []string{"firstName", "givenName"},
			Surname:   []string{"lastName", "surname"},
			Groups:    []string{"groups", "Groups"},
		}, nil
	case PresetEntraID:
		return AttributeNames{
			Email:     []string{claimEmail, claimName, "email"},
			Name:      []string{claimDisplayName},
			GivenName: []string{claimGivenName},
			Surname:   []string{claimSurname},
			Groups:    []string{claimGroups, claimRole},
		}, nil
	case PresetGoogle:
		return AttributeNames{
			Email:     []string{"email", "mail"},
			Name:      []string{"name", "displayName"},
			GivenName: []string{"firstName"},
			Surname:   []string{"lastName"},
			Groups:    []string{"groups"},
		}, nil
	case PresetADFS:
		return AttributeNames{
			Email:     []string{claimEmail, claimUPN},
			Name:      []string{claimName, claimDisplayName},
			GivenName: []string{claimGivenName},
			Surname:   []string{claimSurname},
			Groups:    []string{claimADFSGroup, claimRole, claimGroups},
		}, nil
	case PresetKeycloak:
		return AttributeNames{
			Email:     []string{"email", oidPKCS9Email, "mail"},
			Name:      []string{"displayName", "name"},
			GivenName: []string{"firstName", "givenName"},
			Surname:   []string{"lastName", "surname"},
			Groups:    []string{"groups", "Role", "member"},
		}, nil
	}
	return AttributeNames{}, fmt.Errorf("unknown attribute preset %q", p)
}

// Merge returns a copy of a where every non-empty field of custom replaces
// the preset's.
func (a AttributeNames) Merge(custom AttributeNames) AttributeNames {
	pick := func(preset, c []string) []string {
		if len(c) > 0 {
			return slices.Clone(c)
		}
		return slices.Clone(preset)
	}
	return AttributeNames{
		Email:     pick(a.Email, custom.Email),
		Name:      pick(a.Name, custom.Name),
		GivenName: pick(a.GivenName, custom.GivenName),
		Surname:   pick(a.Surname, custom.Surname),
		Groups:    pick(a.Groups, custom.Groups),
	}
}

// RoleGroups maps identity-provider groups to dashboard roles. A user gets
// the highest role any of their groups grants; with no matching group they
// get Default, and with Default = sentryaccess.RoleNone they are refused. Group names are
// compared case-insensitively.
type RoleGroups struct {
	Viewer   []string
	Approver []string
	Admin    []string
	Default  sentryaccess.Role
}

// Resolve returns the role the groups grant.
func (g RoleGroups) Resolve(groups []string) sentryaccess.Role {
	has := func(names []string) bool {
		for _, want := range names {
			for _, got := range groups {
				if strings.EqualFold(strings.TrimSpace(got), strings.TrimSpace(want)) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(g.Admin):
		return sentryaccess.RoleAdmin
	case has(g.Approver):
		return sentryaccess.RoleApprover
	case has(g.Viewer):
		return sentryaccess.RoleViewer
	}
	return g.Default
}

// Attributes are the attributes of an assertion keyed by both Name and
// FriendlyName, with the original Names kept for error reports.
type Attributes struct {
	values map[string][]string
	names  []string
}

// NewAttributes builds Attributes from (Name, FriendlyName, values) triples
// as they appear in an assertion.
func NewAttributes() *Attributes {
	return &Attributes{values: map[string][]string{}}
}

// Add records one attribute. An empty friendlyName is ignored.
func (a *Attributes) Add(name, friendlyName string, values ...string) {
	label := name
	if friendlyName != "" && friendlyName != name {
		label = name + " (" + friendlyName + ")"
	}
	if !slices.Contains(a.names, label) {
		a.names = append(a.names, label)
	}
	for _, key := range []string{name, friendlyName} {
		if key == "" {
			continue
		}
		for _, v := range values {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(a.values[key], v) {
				a.values[key] = append(a.values[key], v)
			}
		}
	}
}

// Names returns the names of the attributes that arrived, sorted, as
// "Name (FriendlyName)" when a FriendlyName differs.
func (a *Attributes) Names() []string {
	out := slices.Clone(a.names)
	sort.Strings(out)
	return out
}

func (a *Attributes) first(names []string) []string {
	for _, n := range names {
		if v := a.values[n]; len(v) > 0 {
			return v
		}
	}
	return nil
}

// ErrMissingAttribute is matched (errors.Is) by *MissingAttributeError.
var ErrMissingAttribute = errors.New("required SAML attribute missing")

// ErrNoRole is returned when the user's groups grant no dashboard role and
// there is no default role.
var ErrNoRole = errors.New("no dashboard role for this user")

// MissingAttributeError reports that the assertion lacked a required
// attribute. Arrived lists the attribute names that did arrive (never their
// values), for the error page.
type MissingAttributeError struct {
	Field   string   // "email"
	Wanted  []string // the names looked for
	Arrived []string
}

// Error implements error.
func (e *MissingAttributeError) Error() string {
	return fmt.Sprintf("SAML assertion has no %s attribute (looked for %s; got %s)",
		e.Field, strings.Join(e.Wanted, ", "), strings.Join(e.Arrived, ", "))
}

// Is makes errors.Is(err, ErrMissingAttribute) true.
func (e *MissingAttributeError) Is(target error) bool { return target == ErrMissingAttribute }

// MapIdentity builds an Identity from the attributes with the given names
// and role groups. The email attribute is required (*MissingAttributeError
// otherwise); a user whose groups grant no role and with no default role
// gets ErrNoRole (wrapped, with the identity still returned for logging).
func MapIdentity(attrs *Attributes, names AttributeNames, roles RoleGroups, nameID, sessionIndex string) (Identity, error) {
	id := Identity{NameID: nameID, SessionIndex: sessionIndex}
	email := attrs.first(names.Email)
	if len(email) == 0 || !strings.Contains(email[0], "@") {
		return id, &MissingAttributeError{Field: "email", Wanted: slices.Clone(names.Email), Arrived: attrs.Names()}
	}
	id.Email = strings.ToLower(email[0])
	if n := attrs.first(names.Name); len(n) > 0 {
		id.Name = n[0]
	} else {
		var parts []string
		if g := attrs.first(names.GivenName); len(g) > 0 {
			parts = append(parts, g[0])
		}
		if s := attrs.first(names.Surname); len(s) > 0 {
			parts = append(parts, s[0])
		}
		id.Name = strings.Join(parts, " ")
	}
	id.Groups = slices.Clone(attrs.first(names.Groups))
	id.Role = roles.Resolve(id.Groups)
	if !id.Role.Valid() {
		return id, fmt.Errorf("map %s: %w", id.Email, ErrNoRole)
	}
	return id, nil
}
