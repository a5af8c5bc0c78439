//go:build ignore

// Command subset cuts Sentry's public OpenAPI schema down to the paths and
// operations that internal/sentry calls, plus every component they
// reference, and writes it deterministically (sorted keys, two-space
// indent, trailing newline) so that regenerating from the same input gives
// the same bytes. See README.md beside this file.
//
//	go run ./internal/testing/contract/testdata/openapi/subset.go \
//	  -in /work/shared/sentry-openapi/openapi-derefed.json \
//	  -out internal/testing/contract/testdata/openapi/sentry-subset.json
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// keep lists the operations the client uses, by path and method.
// docs/sentry-access-model.md#the-openapi-schema ("Covered") names where each lives in the schema.
func keep() map[string][]string {
	const (
		org     = "/api/0/organizations/{organization_id_or_slug}"
		teams   = "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}"
		project = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"
	)
	return map[string][]string{
		org + "/":                     {"get", "put"},
		org + "/members/":             {"get", "post"},
		org + "/members/{member_id}/": {"get", "put", "delete"},
		org + "/members/{member_id}/teams/{team_id_or_slug}/": {"post", "put", "delete"},
		org + "/teams/":                           {"get", "post"},
		teams + "/":                               {"get", "delete"},
		teams + "/members/":                       {"get"},
		org + "/projects/":                        {"get"},
		org + "/sentry-apps/":                     {"get"},
		project + "/teams/":                       {"get"},
		project + "/teams/{team_id_or_slug}/":     {"post", "delete"},
		org + "/scim/v2/Users":                    {"get", "post"},
		org + "/scim/v2/Users/{member_id}":        {"get", "patch", "delete"},
		org + "/scim/v2/Groups":                   {"get", "post"},
		org + "/scim/v2/Groups/{team_id_or_slug}": {"get", "patch", "delete"},
	}
}

// httpMethods are the keys of a path item that are operations.
func httpMethods() []string {
	return []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
}

func main() {
	in := flag.String("in", "", "path of Sentry's openapi-derefed.json")
	out := flag.String("out", "", "path of the subset to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "subset:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" || out == "" {
		return errors.New("both -in and -out are required")
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers exactly as written
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("decode schema: %w", err)
	}
	sub, err := subset(doc, keep())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sub); err != nil { // maps encode with sorted keys
		return fmt.Errorf("encode subset: %w", err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write subset: %w", err)
	}
	return nil
}

// subset returns a new document holding only the kept operations and the
// components, tags and security schemes they reference.
func subset(doc map[string]any, want map[string][]string) (map[string]any, error) {
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return nil, errors.New("schema has no paths object")
	}
	outPaths := map[string]any{}
	for path, methods := range want {
		item, ok := paths[path].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("path %s not in schema", path)
		}
		newItem := map[string]any{}
		for k, v := range item {
			if !slices.Contains(httpMethods(), k) { // path-level parameters, summary…
				newItem[k] = v
			}
		}
		for _, m := range methods {
			op, ok := item[m]
			if !ok {
				return nil, fmt.Errorf("operation %s %s not in schema", strings.ToUpper(m), path)
			}
			newItem[m] = op
		}
		outPaths[path] = newItem
	}

	out := map[string]any{"paths": outPaths}
	for _, k := range []string{"openapi", "info", "servers", "externalDocs"} {
		if v, ok := doc[k]; ok {
			out[k] = v
		}
	}

	// Components referenced by $ref, transitively.
	comps, _ := doc["components"].(map[string]any)
	outComps := map[string]any{}
	queue := refs(outPaths)
	seen := map[string]bool{}
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		kind, name, ok := splitRef(ref)
		if !ok {
			return nil, fmt.Errorf("unsupported $ref %q", ref)
		}
		section, _ := comps[kind].(map[string]any)
		v, ok := section[name]
		if !ok {
			return nil, fmt.Errorf("$ref %q not found", ref)
		}
		if outComps[kind] == nil {
			outComps[kind] = map[string]any{}
		}
		outComps[kind].(map[string]any)[name] = v
		queue = append(queue, refs(v)...)
	}

	// Security schemes named by the operations' (or the document's)
	// security requirements, and tags named by the operations.
	schemes := map[string]bool{}
	tags := map[string]bool{}
	collectSecurity(doc["security"], schemes)
	for _, item := range outPaths {
		for m, op := range item.(map[string]any) {
			if !slices.Contains(httpMethods(), m) {
				continue
			}
			opm, _ := op.(map[string]any)
			collectSecurity(opm["security"], schemes)
			ts, _ := opm["tags"].([]any)
			for _, t := range ts {
				if s, ok := t.(string); ok {
					tags[s] = true
				}
			}
		}
	}
	if v, ok := doc["security"]; ok {
		out["security"] = v
	}
	if len(schemes) > 0 {
		all, _ := comps["securitySchemes"].(map[string]any)
		kept := map[string]any{}
		for name := range schemes {
			s, ok := all[name]
			if !ok {
				return nil, fmt.Errorf("security scheme %q not found", name)
			}
			kept[name] = s
		}
		outComps["securitySchemes"] = kept
	}
	if len(outComps) > 0 {
		out["components"] = outComps
	}
	if all, ok := doc["tags"].([]any); ok {
		var kept []any
		for _, t := range all {
			tm, _ := t.(map[string]any)
			if name, _ := tm["name"].(string); tags[name] {
				kept = append(kept, t)
			}
		}
		if len(kept) > 0 {
			out["tags"] = kept
		}
	}
	return out, nil
}

// refs returns every "$ref" string inside v.
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				out = append(out, r)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// splitRef splits "#/components/<kind>/<name>".
func splitRef(ref string) (kind, name string, ok bool) {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok {
		return "", "", false
	}
	kind, name, ok = strings.Cut(rest, "/")
	name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
	return kind, name, ok && !strings.Contains(name, "/")
}

func collectSecurity(v any, into map[string]bool) {
	reqs, _ := v.([]any)
	for _, r := range reqs {
		rm, _ := r.(map[string]any)
		for name := range rm {
			into[name] = true
		}
	}
}
