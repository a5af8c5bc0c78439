package web

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/explore"
)

func TestClipHeadCutsGraphLabelsAtWholeWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		n        int
		want     string
		wantCut  bool
	}{
		{"a label that fits is kept", "platform", 14, "platform", false},
		{"a cut ends at the last whole word", "5 members · SCIM", 14, "5 members", true},
		{"a hyphen is a word boundary", "javascript-react", 14, "javascript", true},
		{"an email is cut at a dot or an at sign", "christopher.longname@acme.test", 28, "christopher.longname@acme", true},
		{"one long word is cut where it must", "abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, cut := clipHead(tt.in, tt.n)
			if got != tt.want || cut != tt.wantCut {
				t.Errorf("clipHead(%q, %d) = %q, %v; want %q, %v", tt.in, tt.n, got, cut, tt.want, tt.wantCut)
			}
		})
	}
}

func TestViaTextSeparatesEachPath(t *testing.T) {
	t.Parallel()
	got := viaText([]explore.PathCount{
		{Path: access.Path{Kind: access.PathTeam, Team: "payments", TeamRole: "contributor"}, Projects: 5},
		{Path: access.Path{Kind: access.PathTeam, Team: "contractors-q1", TeamRole: "contributor"}, Projects: 2},
	})
	if !strings.Contains(got, ": 5 · ") || !strings.HasPrefix(got, "Via ") || !strings.HasSuffix(got, ": 2") {
		t.Errorf("viaText = %q", got)
	}
}
