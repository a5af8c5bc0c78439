package syncer

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// This file reads what a Sentry server revealed about itself: which
// organization fields it sent and which were assumed (older and self-hosted
// servers send fewer, docs/sentry-access-model.md#older-and-self-hosted-servers),
// where it runs, and who the configured token acts as
// (docs/sentry-access-model.md#the-acting-identity). It is pure.

// orgSetting is an organization setting older servers may leave out, with
// Sentry's default for it: the value a server that did not send the field
// applied (the option or flag did not exist yet, or had its default).
type orgSetting struct {
	field   string
	dst     func(*access.Org) *bool
	src     func(*sentry.Organization) bool
	deflt   bool
	whyDflt string
}

// orgSettings are the settings mapOrg reads, in API-name order.
var orgSettings = []orgSetting{
	{"alertsMemberWrite", func(o *access.Org) *bool { return &o.AlertsMemberWrite }, func(o *sentry.Organization) bool { return o.AlertsMemberWrite },
		true, "Sentry's default, ALERTS_MEMBER_WRITE_DEFAULT in src/sentry/constants.py"},
	{"allowJoinRequests", func(o *access.Org) *bool { return &o.AllowJoinRequests }, func(o *sentry.Organization) bool { return o.AllowJoinRequests },
		true, "Sentry's default, JOIN_REQUESTS_DEFAULT in src/sentry/constants.py"},
	{"allowMemberInvite", func(o *access.Org) *bool { return &o.AllowMemberInvite }, func(o *sentry.Organization) bool { return o.AllowMemberInvite },
		true, "Sentry's default: the disable_member_invite flag is off (src/sentry/models/organization.py)"},
	{"allowMemberProjectCreation", func(o *access.Org) *bool { return &o.AllowMemberProjectCreation }, func(o *sentry.Organization) bool { return o.AllowMemberProjectCreation },
		true, "Sentry's default: the disable_member_project_creation flag is off (src/sentry/models/organization.py)"},
	{"eventsMemberAdmin", func(o *access.Org) *bool { return &o.EventsMemberAdmin }, func(o *sentry.Organization) bool { return o.EventsMemberAdmin },
		true, "Sentry's default, EVENTS_MEMBER_ADMIN_DEFAULT in src/sentry/constants.py"},
	{"openMembership", func(o *access.Org) *bool { return &o.OpenMembership }, func(o *sentry.Organization) bool { return o.OpenMembership },
		true, "Sentry's default: the allow_joinleave flag is on (src/sentry/models/organization.py)"},
	{"require2FA", func(o *access.Org) *bool { return &o.Require2FA }, func(o *sentry.Organization) bool { return o.Require2FA },
		false, "Sentry's default: the require_2fa flag is off (src/sentry/models/organization.py)"},
}

// mapOrg maps the organization detail and the auth provider (nil when SSO is
// not configured) to the engine's org and role lists, and says for each
// field whether the server sent it or Sentry's default was assumed. A
// missing setting takes Sentry's default, never "off" for want of a value;
// missing role lists leave the snapshot's lists empty, so the engine uses
// Sentry's built-in roles (access.DefaultOrgRoles, DefaultTeamRoles).
func mapOrg(o *sentry.Organization, ap *sentry.AuthProvider) (access.Org, []access.OrgRole, []access.TeamRole, []access.FieldSource) {
	org := access.Org{ID: o.ID, Slug: o.Slug, Name: o.Name, SCIMEnabled: ap != nil && ap.SCIMEnabled}
	var fields []access.FieldSource
	for _, s := range orgSettings {
		v, fs := s.src(o), access.FieldSource{Field: s.field, Provenance: access.Detected}
		if !o.Has(s.field) {
			v, fs.Provenance, fs.Note = s.deflt, access.Assumed, s.whyDflt
		}
		fs.Value = onOff(v)
		*s.dst(&org) = v
		fields = append(fields, fs)
	}
	org.HasAuthProvider = o.HasAuthProvider || ap != nil
	fields = append(fields, viaAuthProvider(o, "hasAuthProvider", org.HasAuthProvider, "read from GET /organizations/{org}/auth-provider/"))
	org.RequiresSSO = o.RequiresSSO
	if !o.Has("requiresSso") {
		org.RequiresSSO = ap != nil && ap.RequireLink
	}
	fields = append(fields, viaAuthProvider(o, "requiresSso", org.RequiresSSO, "read from the auth provider's require_link"))

	orgRoles, roleFields := mapOrgRoles(o)
	fields = append(fields, roleFields...)
	teamRoles := make([]access.TeamRole, 0, len(o.TeamRoleList))
	for _, r := range o.TeamRoleList {
		tr := access.TeamRole{ID: r.ID, Name: r.Name, Scopes: slices.Clone(r.Scopes)}
		if r.IsMinimumRoleFor != nil {
			tr.IsMinimumRoleFor = *r.IsMinimumRoleFor
		}
		teamRoles = append(teamRoles, tr)
	}
	tf := access.FieldSource{Field: "teamRoleList", Provenance: access.Detected, Value: fmt.Sprintf("%d team roles", len(teamRoles))}
	if !o.Has("teamRoleList") {
		teamRoles = nil
		tf = access.FieldSource{Field: "teamRoleList", Provenance: access.Assumed, Value: "Sentry's built-in team roles",
			Note: "SENTRY_TEAM_ROLES in src/sentry/conf/server.py: Contributor and Team Admin (servers before team roles gave every team member the org role's scopes, which these reproduce)"}
	}
	fields = append(fields, tf)
	slices.SortFunc(fields, func(a, b access.FieldSource) int { return cmp.Compare(a.Field, b.Field) })
	return org, orgRoles, teamRoles, fields
}

// viaAuthProvider records a field the auth-provider endpoint states when
// the organization detail does not.
func viaAuthProvider(o *sentry.Organization, field string, v bool, note string) access.FieldSource {
	fs := access.FieldSource{Field: field, Provenance: access.Detected, Value: onOff(v)}
	if !o.Has(field) {
		fs.Note = note
	}
	return fs
}

// mapOrgRoles maps orgRoleList. Fields an entry leaves out take the value
// of Sentry's built-in role of that id (SENTRY_ROLES in
// src/sentry/conf/server.py); for a role Sentry does not ship, Role's own
// defaults: team roles allowed (Sentry's tests only turn them off on
// purpose, tests/sentry/api/endpoints/test_organization_member_index.py),
// not global, not retired. A missing minimumTeamRole is left empty: the
// engine computes it as src/sentry/roles/manager.py does.
func mapOrgRoles(o *sentry.Organization) ([]access.OrgRole, []access.FieldSource) {
	if !o.Has("orgRoleList") {
		return nil, []access.FieldSource{{Field: "orgRoleList", Provenance: access.Assumed, Value: "Sentry's built-in roles",
			Note: "SENTRY_ROLES in src/sentry/conf/server.py: member, admin, manager and owner (billing on sentry.io)"}}
	}
	builtin := map[string]access.OrgRole{}
	for _, r := range access.DefaultOrgRoles() {
		builtin[r.ID] = r
	}
	assumed := map[string]bool{}
	out := make([]access.OrgRole, 0, len(o.OrgRoleList))
	for _, r := range o.OrgRoleList {
		role := access.OrgRole{ID: r.ID, Name: r.Name, Scopes: slices.Clone(r.Scopes),
			IsGlobal: r.IsGlobal, IsRetired: r.IsRetired, IsTeamRolesAllowed: r.IsTeamRolesAllowed, MinimumTeamRole: r.MinimumTeamRole}
		b, known := builtin[r.ID]
		if !known {
			b = access.OrgRole{IsTeamRolesAllowed: true}
		}
		for _, f := range r.Absent {
			assumed[f] = true
			switch f {
			case "isGlobal":
				role.IsGlobal = b.IsGlobal
			case "isRetired":
				role.IsRetired = b.IsRetired
			case "isTeamRolesAllowed":
				role.IsTeamRolesAllowed = b.IsTeamRolesAllowed
			case "minimumTeamRole":
				role.MinimumTeamRole = ""
			}
		}
		out = append(out, role)
	}
	fields := []access.FieldSource{{Field: "orgRoleList", Provenance: access.Detected, Value: fmt.Sprintf("%d org roles", len(out))}}
	notes := map[string]string{
		"isGlobal":           "as Sentry's built-in role of the same id (SENTRY_ROLES): manager and owner are global",
		"isRetired":          "as Sentry's built-in role of the same id (SENTRY_ROLES): admin is retired",
		"isTeamRolesAllowed": "as Sentry's built-in role of the same id (SENTRY_ROLES): every role but billing may hold team roles",
		"minimumTeamRole":    "computed from the team roles as src/sentry/roles/manager.py does",
	}
	for _, f := range sentry.OrgRoleFields {
		fs := access.FieldSource{Field: "orgRoleList." + f, Provenance: access.Detected}
		if assumed[f] {
			fs.Provenance, fs.Value, fs.Note = access.Assumed, "Sentry's defaults", notes[f]
		}
		fields = append(fields, fs)
	}
	return out, fields
}

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

// serverInfo describes where the server runs: sentry.io when the
// configured URL or the organization's links.regionUrl is a sentry.io host
// (the region from the region host), self-hosted otherwise.
func serverInfo(sentryURL string, o *sentry.Organization, auditLog string, fields []access.FieldSource) access.Server {
	srv := access.Server{RateLimitHeaders: o.RateLimitHeaders, AuditLog: auditLog, Fields: fields}
	configured := hostOf(sentryURL)
	region := ""
	if o.Links != nil {
		srv.RegionURL = o.Links.RegionURL
		region = hostOf(o.Links.RegionURL)
	}
	switch {
	case sentry.SaaSHost(region):
		srv.Hosting, srv.Region = access.HostingSaaS, sentry.SaaSRegion(region)
		srv.HostingWhy = "the organization's region URL is " + o.Links.RegionURL
	case sentry.SaaSHost(configured):
		srv.Hosting, srv.Region = access.HostingSaaS, sentry.SaaSRegion(configured)
		srv.HostingWhy = "the configured URL is a sentry.io host"
	default:
		srv.Hosting = access.HostingSelfHosted
		srv.HostingWhy = "the host is not sentry.io"
		if srv.RegionURL != "" {
			srv.HostingWhy = "neither the configured URL nor the organization's region URL is a sentry.io host"
		}
	}
	if !srv.RateLimitHeaders {
		srv.HostingWhy += "; no rate-limit headers (sentry.io sends them, self-hosted Sentry does not)"
	}
	return srv
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// actingIdentity works out who the token acts as from GET /api/0/ (idx, or
// the error that call failed with), the organization detail's caller role
// and the members and integrations of the snapshot.
func actingIdentity(idx *sentry.APIIndex, idxErr error, o *sentry.Organization, members []access.Member, integrations []access.Integration) access.ActingIdentity {
	var id access.ActingIdentity
	if idxErr != nil {
		id.Kind, id.OrgRole = access.CallerUnknown, o.CallerRole()
		id.Unknown = "Sentry did not say who the token belongs to (GET /api/0/ failed: " + publicError(idxErr) + ")"
		if id.OrgRole != "" {
			id.Unknown += "; the organization detail gives the token's org role"
		}
		return id
	}
	if idx.Auth != nil {
		id.TokenScopes = slices.Sorted(slices.Values(idx.Auth.Scopes))
	}
	u := idx.User
	if u == nil {
		id.Kind = access.CallerOrgToken
		if idx.Auth == nil {
			id.Kind, id.Unknown = access.CallerUnknown, "Sentry answered as if no token had been sent"
		}
		return id
	}
	id.UserID, id.Username, id.Name, id.Email = u.ID, u.Username, u.Name, u.Email
	for _, m := range members {
		if m.UserID != "" && m.UserID == u.ID {
			id.Kind, id.MemberID, id.OrgRole = access.CallerUser, m.ID, cmp.Or(o.CallerRole(), m.OrgRole)
			id.Email = cmp.Or(id.Email, m.Email)
			return id
		}
	}
	if u.Email == "" {
		// An internal integration's proxy user: named after the app, no
		// email, no membership.
		id.Kind = access.CallerIntegration
		for _, in := range integrations {
			if in.Slug == u.Username || in.Name == u.Name {
				id.Integration = in.Slug
			}
		}
		if id.Integration == "" {
			id.Unknown = "the token's user " + u.Username + " has no email and is no member: an integration's proxy user, but not one of the organization's internal integrations"
		}
		return id
	}
	id.Kind, id.OrgRole = access.CallerUser, o.CallerRole()
	id.Unknown = "the token's user " + u.Email + " is no member of this organization"
	return id
}

// publicError names a failed call without the error's internals.
func publicError(err error) string {
	var apiErr *sentry.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("HTTP %d", apiErr.Status)
	}
	return "no answer"
}
