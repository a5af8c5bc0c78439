package contract

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// How schema deviations are handled
//
// Every request and response is validated in full (response bodies
// included, undocumented statuses rejected). A violation passes only when:
//
//  1. it is named in deviations() below, with the reason (docs/sentry-access-model.md) why
//     Sentry's real behaviour (or the simulator's known gap) differs from
//     the schema; every entry must still occur, or the test reports it as
//     stale; or
//  2. it is a "required" property missing from a simulator response that
//     the client never decodes (readByClient): the simulator serves the
//     access-related subset of Sentry's serializers and leaves out, for
//     example, avatars, feature flags and the "hasInsights*" project
//     booleans. A missing property the client DOES decode fails the test.
//
// Nothing else is tolerated: a wrong type, enum, format or an extra
// required property the client reads always fails.

// deviations is the explicit allowlist: deviation key (see deviationKeys)
// → why it is accepted.
func deviations() map[string]string {
	const (
		org       = "/api/0/organizations/{organization_id_or_slug}"
		scimGroup = org + "/scim/v2/Groups/{team_id_or_slug}"
	)
	return map[string]string{
		// docs/sentry-access-model.md#teams: a duplicate team slug is a 409 in Sentry's
		// code; the schema documents 404 only.
		"POST " + org + "/teams/ 409 status is not supported": "schema documents the slug conflict as 404; Sentry answers 409 (docs/sentry-access-model.md#teams, #the-openapi-schema)",
		// docs/sentry-access-model.md#scim: Sentry's SCIM Group PATCH takes "add"/"replace"
		// path=members with an ARRAY value [{value: id}]; the schema types
		// every operation's value as an object.
		"PATCH " + scimGroup + " request /Operations/*/value type": "member add/replace values are arrays in Sentry's SCIM code (docs/sentry-access-model.md#scim); schema says object",
		// docs/sentry-access-model.md#members: validate_teamRoles reads
		// item["role"] of every entry, so a stored null must be sent as
		// "role": null (an entry without "role" is a 500); the schema does
		// not mark role nullable.
		"PUT " + org + "/members/{member_id}/ request /teamRoles/*/role nullable": "Sentry needs \"role\": null for a null team role (docs/sentry-access-model.md#members); schema says not nullable",
	}
}

// responseTypes maps each documented operation to the Go type the client
// decodes its success body into; nil means the client reads no body.
func responseTypes() map[string]reflect.Type {
	const (
		org     = "/api/0/organizations/{organization_id_or_slug}"
		team    = "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}"
		project = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
	)
	of := func(v any) reflect.Type { return reflect.TypeOf(v) }
	return map[string]reflect.Type{
		"GET " + org + "/":                                              of(sentry.Organization{}),
		"PUT " + org + "/":                                              of(sentry.Organization{}),
		"GET " + org + "/members/":                                      of([]sentry.Member{}),
		"POST " + org + "/members/":                                     of(sentry.Member{}),
		"GET " + org + "/members/{member_id}/":                          of(sentry.Member{}),
		"PUT " + org + "/members/{member_id}/":                          of(sentry.Member{}),
		"DELETE " + org + "/members/{member_id}/":                       nil,
		"POST " + org + "/members/{member_id}/teams/{team_id_or_slug}/": nil,
		"PUT " + org + "/members/{member_id}/teams/{team_id_or_slug}/": of(struct {
			IsActive bool    `json:"isActive"`
			TeamRole *string `json:"teamRole"`
		}{}),
		"DELETE " + org + "/members/{member_id}/teams/{team_id_or_slug}/": nil,
		"GET " + org + "/teams/":                              of([]sentry.Team{}),
		"POST " + org + "/teams/":                             of(sentry.Team{}),
		"GET " + team + "/":                                   of(sentry.Team{}),
		"DELETE " + team + "/":                                nil,
		"GET " + team + "/members/":                           of([]sentry.TeamMember{}),
		"GET " + org + "/projects/":                           of([]sentry.Project{}),
		"GET " + org + "/sentry-apps/":                        of([]sentry.SentryApp{}),
		"GET " + project + "/teams/":                          of([]sentry.Team{}),
		"POST " + project + "/teams/{team_id_or_slug}/":       of(sentry.Project{}),
		"DELETE " + project + "/teams/{team_id_or_slug}/":     of(sentry.Project{}),
		"GET " + org + "/scim/v2/Users":                       of(sentry.SCIMListResponse[sentry.SCIMUser]{}),
		"POST " + org + "/scim/v2/Users":                      of(sentry.SCIMUser{}),
		"GET " + org + "/scim/v2/Users/{member_id}":           of(sentry.SCIMUser{}),
		"PATCH " + org + "/scim/v2/Users/{member_id}":         nil,
		"DELETE " + org + "/scim/v2/Users/{member_id}":        nil,
		"GET " + org + "/scim/v2/Groups":                      of(sentry.SCIMListResponse[sentry.SCIMGroup]{}),
		"POST " + org + "/scim/v2/Groups":                     of(sentry.SCIMGroup{}),
		"GET " + org + "/scim/v2/Groups/{team_id_or_slug}":    of(sentry.SCIMGroup{}),
		"PATCH " + org + "/scim/v2/Groups/{team_id_or_slug}":  nil,
		"DELETE " + org + "/scim/v2/Groups/{team_id_or_slug}": nil,
	}
}

// readByClient reports whether decoding into t reads the JSON value at
// pointer (array indexes given as "*"). A json.RawMessage, interface or map
// reads everything below it.
func readByClient(t reflect.Type, pointer []string) bool {
	for _, p := range pointer {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == reflect.TypeOf(json.RawMessage{}) || t.Kind() == reflect.Interface || t.Kind() == reflect.Map {
			return true
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			if p != "*" {
				return false
			}
			t = t.Elem()
		case reflect.Struct:
			f, ok := jsonField(t, p)
			if !ok {
				return false
			}
			t = f
		default:
			return false
		}
	}
	return true
}

// jsonField finds the type of the field that encoding/json decodes the key
// name into, looking through embedded structs.
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		key, _, _ := strings.Cut(tag, ",")
		if key == "-" {
			continue
		}
		if f.Anonymous && key == "" {
			if ft, ok := jsonField(f.Type, name); ok {
				return ft, true
			}
			continue
		}
		if key == "" {
			key = f.Name
		}
		if strings.EqualFold(key, name) && f.IsExported() {
			return f.Type, true
		}
	}
	return nil, false
}
