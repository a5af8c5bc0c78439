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

// A step row's select from prepared option tags is the select rendered
// option by option, whichever option is selected (none, the first, one
// in the middle, the last, one that needs escaping, one not offered).
func TestPreparedStepOptionsRenderTheSameSelects(t *testing.T) {
	t.Parallel()
	o := StepOptions{
		Members:  []Option{{Value: "1", Label: "ana@acme.test"}, {Value: "12", Label: "bob@acme.test"}, {Value: "a&b\"<c>", Label: "odd"}, {Value: "2", Label: "cat@acme.test"}},
		Teams:    []Option{{Value: "payments", Label: "payments"}, {Value: "web", Label: "web"}},
		Projects: []Option{{Value: "site", Label: "site"}},
	}
	prepared, err := PrepareStepOptions(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	render := func(o StepOptions, r StepRow) string {
		t.Helper()
		var b strings.Builder
		if err := StepRowFields(0, r, o).Render(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, r := range []StepRow{
		{Kind: "team-add"},
		{Kind: "team-add", Member: "1", Team: "payments"},
		{Kind: "team-add", Member: "12", Team: "web"},
		{Kind: "team-add", Member: "2"},
		{Kind: "team-add", Member: "a&b\"<c>"},
		{Kind: "team-add", Member: "99", Team: "nope"},
		{Kind: "project-link", Team: "web", Project: "site"},
	} {
		want, got := render(o, r), render(prepared, r)
		if got != want {
			t.Errorf("row %+v from prepared tags:\n%s\nwant\n%s", r, got, want)
		}
		if r.Member != "" && r.Member != "99" && !strings.Contains(got, " selected>") {
			t.Errorf("row %+v: nothing selected", r)
		}
	}
}
