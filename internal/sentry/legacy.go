package sentry

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"slices"
)

// Older and self-hosted Sentry servers answer with fewer fields than
// sentry.io does today (docs/sentry-access-model.md#older-and-self-hosted-servers).
// The decoders below read what they send and record what they left out,
// so that a missing boolean is reported as unknown rather than read as
// false.

// OrganizationFields are the fields of the organization detail that
// sentry-access reads and that older servers may leave out, by their API
// names. DetailedOrganizationSerializer before team roles
// (src/sentry/api/serializers/models/organization.py, 2020) sent
// openMembership, require2FA, allowJoinRequests and access, the caller's
// role as "role", and none of the others.
var OrganizationFields = []string{
	"access", "alertsMemberWrite", "allowJoinRequests", "allowMemberInvite", "allowMemberProjectCreation",
	"eventsMemberAdmin", "hasAuthProvider", "openMembership", "orgRole", "orgRoleList", "require2FA",
	"requiresSso", "teamRoleList",
}

// OrgRoleFields are the fields of an orgRoleList entry that older servers
// may leave out (src/sentry/api/serializers/models/role.py; the first
// releases with team roles sent is_global in snake case).
var OrgRoleFields = []string{"isGlobal", "isRetired", "isTeamRolesAllowed", "minimumTeamRole"}

// UnmarshalJSON decodes the organization detail and records in Absent
// which of OrganizationFields the server left out or sent as null.
func (o *Organization) UnmarshalJSON(b []byte) error {
	type plain Organization
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	*o = Organization(p)
	o.Absent = absent(keys, OrganizationFields)
	return nil
}

// Has reports whether the server sent field (an API name from
// OrganizationFields) with a value. A value not decoded from a response
// has every field.
func (o *Organization) Has(field string) bool { return !slices.Contains(o.Absent, field) }

// CallerRole returns the caller's org role: orgRole, or the deprecated
// role that older servers send instead; "" for callers without a
// membership (integration and org auth tokens).
func (o *Organization) CallerRole() string { return cmp.Or(o.OrgRole, o.Role) }

// UnmarshalJSON decodes an orgRoleList entry, reads is_global where
// isGlobal is missing, and records in Absent which of OrgRoleFields the
// server left out or sent as null.
func (r *OrgRole) UnmarshalJSON(b []byte) error {
	type plain OrgRole
	var p struct {
		plain
		SnakeIsGlobal *bool `json:"is_global"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	*r = OrgRole(p.plain)
	if absentKey(keys, "isGlobal") && p.SnakeIsGlobal != nil {
		r.IsGlobal = *p.SnakeIsGlobal
		keys["isGlobal"] = keys["is_global"]
	}
	r.Absent = absent(keys, OrgRoleFields)
	return nil
}

// UnmarshalJSON reads {rows, options} and, from older servers, a bare list
// of rows.
func (p *AuditLogPage) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '[':
		var rows []AuditLogEntry
		if err := json.Unmarshal(b, &rows); err != nil {
			return err
		}
		*p = AuditLogPage{Rows: rows, BareList: true}
		return nil
	case len(b) > 0 && b[0] == '{':
		type plain AuditLogPage
		var v plain
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*p = AuditLogPage(v)
		p.BareList = false
		return nil
	}
	return errors.New("audit log: want {rows, options} or a list of rows")
}

// absent returns, sorted, the fields missing from keys or null there.
func absent(keys map[string]json.RawMessage, fields []string) []string {
	var out []string
	for _, f := range fields {
		if absentKey(keys, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func absentKey(keys map[string]json.RawMessage, f string) bool {
	v, ok := keys[f]
	return !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}
