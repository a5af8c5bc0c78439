package web

import (
	"strings"
	"testing"
)

// scopeCodes writes what the templ loop it replaces wrote, escaped.
func TestScopeCodesWritesEachScopeInACodeElement(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		scopes []string
		want   string
	}{
		{nil, ""},
		{[]string{"project:read"}, "<code>project:read</code>"},
		{[]string{"org:read", "team:write", "<b>&"}, "<code>org:read</code><code>team:write</code><code>&lt;b&gt;&amp;</code>"},
	} {
		var b strings.Builder
		if err := scopeCodes(tt.scopes).Render(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("scopeCodes(%q) = %q, want %q", tt.scopes, b.String(), tt.want)
		}
	}
}
