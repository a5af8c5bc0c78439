package samlauth

import (
	"net/url"
	"strings"
)

// SafeReturnPath returns p if it is a path on this site that is safe to
// redirect to after login, and ok = false otherwise. It refuses anything a
// browser could resolve to another origin: absolute URLs ("https://x"),
// scheme-relative ones ("//x"), backslashes ("/\x", which browsers read as
// "//x"), control characters (which browsers strip, "/\t/x"), and the same
// tricks percent-encoded once or more ("/%2F%2Fx", "%2F%5Cx"). An empty
// path is not ok; callers fall back to "/".
func SafeReturnPath(p string) (string, bool) {
	if p == "" || len(p) > 2048 {
		return "", false
	}
	cur := p
	for range 4 { // decode a few layers: "/%252F%252Fevil" must not slip through
		if !localPath(cur) {
			return "", false
		}
		dec, err := url.PathUnescape(cur)
		if err != nil {
			return "", false
		}
		if dec == cur {
			return p, true
		}
		cur = dec
	}
	return "", false // still changing after several decodes: refuse
}

func localPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}
