package sentrysim

import "strings"

// parseQuery is Sentry's tokenize_query (src/sentry/search/utils.py),
// simplified: space-separated tokens, "key:value" tokens grouped by key
// (values may be double-quoted), everything else joined under "query".
func parseQuery(q string) map[string][]string {
	out := map[string][]string{}
	var free []string
	for _, tok := range splitQuoted(q) {
		key, value, ok := strings.Cut(tok, ":")
		if !ok || key == "" {
			free = append(free, strings.Trim(tok, `"`))
			continue
		}
		out[key] = append(out[key], strings.Trim(value, `"`))
	}
	if len(free) > 0 {
		out["query"] = append(out["query"], strings.Join(free, " "))
	}
	return out
}

func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// boolValue parses "true"/"false" query values.
func boolValue(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func containsFold(haystack, needle string) bool {
	return strings.Contains(strings.ToLower(haystack), strings.ToLower(needle))
}
