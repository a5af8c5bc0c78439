package explore_test

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/explore"
)

// Token prefixes are AuthTokenType's (src/sentry/types/token.py).
func TestTokenKindReadsSentrysPrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct{ token, want string }{
		{"sntryu_abc", explore.TokenUser},
		{"sntrys_abc", explore.TokenOrg},
		{"sntryi_abc", explore.TokenIntegration},
		{"sntrya_abc", explore.TokenUserApp},
		{strings.Repeat("a", 64), explore.TokenOther},
		{"", explore.TokenNone},
	}
	for _, tt := range tests {
		if got := explore.TokenKind(tt.token); got != tt.want {
			t.Errorf("TokenKind(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}
