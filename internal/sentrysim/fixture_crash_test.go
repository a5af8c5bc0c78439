package sentrysim

import (
	"strings"
	"testing"
)

// A document that makes the YAML decoder panic (found by fuzzing the
// blueprint parser) is a clear error.
func TestLoadFixtureSurvivesADecoderPanic(t *testing.T) {
	t.Parallel()
	_, err := LoadFixture(strings.NewReader("teams:\n  - projects: !00\n00000000 0000000000000000"))
	if err == nil || !strings.Contains(err.Error(), "decode fixture") {
		t.Fatalf("got %v, want a decode error", err)
	}
}
