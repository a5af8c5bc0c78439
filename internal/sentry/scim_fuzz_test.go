package sentry

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// FuzzSCIMFilterEq checks that a filter built from any value reads back as
// exactly `attr eq "value"`: the value cannot close the quotes early and
// smuggle in another clause.
func FuzzSCIMFilterEq(f *testing.F) {
	for _, s := range []string{"ana@acme.test", `a" or userName eq "b`, `back\slash`, "", `\"`, "ünï©ødé"} {
		f.Add("userName", s)
	}
	f.Add("displayName", "Payments Team")
	f.Add("emails", "x")
	f.Fuzz(func(t *testing.T, attr, value string) {
		got, err := SCIMFilterEq(attr, value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		prefix := attr + ` eq "`
		if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, `"`) {
			t.Fatalf("filter %q is not %s\"…\"", got, prefix)
		}
		inner := got[len(prefix) : len(got)-1]
		var b strings.Builder
		for i := 0; i < len(inner); i++ {
			switch inner[i] {
			case '\\':
				if i+1 == len(inner) {
					t.Fatalf("filter %q ends in a lone backslash", got)
				}
				i++
				b.WriteByte(inner[i])
			case '"':
				t.Fatalf("filter %q has an unescaped quote inside the value", got)
			default:
				b.WriteByte(inner[i])
			}
		}
		if b.String() != value {
			t.Fatalf("filter %q reads back as %q, want %q", got, b.String(), value)
		}
	})
}

// memberPath is the only remove path NewSCIMRemoveMembersPatch may build.
var memberPath = regexp.MustCompile(`^members\[value eq "[0-9]+"\]$`)

// FuzzSCIMPatchBuilders feeds arbitrary member ids, names and roles to the
// SCIM request builders: they either refuse with ErrInvalid or build a body
// that is valid JSON in the shapes Sentry accepts (docs/sentry-access-model.md#scim).
func FuzzSCIMPatchBuilders(f *testing.F) {
	f.Add("1,2,3", "Payments", "ana@acme.test", "member")
	f.Add(`1"],x[`, " ", "", "owner")
	f.Add("", "Team\x00Name", "bob@acme.test", "org:admin")
	f.Add("007,42", "Identity", "c@acme.test", "manager")
	f.Fuzz(func(t *testing.T, ids, name, userName, role string) {
		var memberIDs []string
		if ids != "" {
			memberIDs = strings.Split(ids, ",")
		}
		check := func(what string, p SCIMPatch, err error) {
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("%s: error %v is not ErrInvalid", what, err)
				}
				return
			}
			if len(p.Schemas) != 1 || p.Schemas[0] != SCIMPatchSchema {
				t.Fatalf("%s: schemas %v", what, p.Schemas)
			}
			if len(p.Operations) == 0 || len(p.Operations) > scimMaxOps {
				t.Fatalf("%s: %d operations", what, len(p.Operations))
			}
			if _, err := json.Marshal(p); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		rm, err := NewSCIMRemoveMembersPatch(memberIDs...)
		check("remove", rm, err)
		if err == nil {
			for _, op := range rm.Operations {
				if op.Op != "remove" || !memberPath.MatchString(op.Path) {
					t.Fatalf("remove operation %+v escapes its filter", op)
				}
			}
		}
		add, err := NewSCIMAddMembersPatch(memberIDs...)
		check("add", add, err)
		rep, err := NewSCIMReplaceMembersPatch(memberIDs...)
		if err == nil && (len(rep.Operations) != 1 || rep.Operations[0].Path != "members") {
			t.Fatalf("replace %+v", rep)
		}
		ren, err := NewSCIMRenamePatch(name)
		check("rename", ren, err)
		u, err := NewSCIMUserCreate(userName, role)
		if err == nil {
			if role == "owner" || strings.TrimSpace(userName) == "" {
				t.Fatalf("built a SCIM user for userName %q role %q", userName, role)
			}
			if _, err := json.Marshal(u); err != nil {
				t.Fatal(err)
			}
		}
	})
}
