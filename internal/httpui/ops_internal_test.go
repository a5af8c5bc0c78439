package httpui

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A record that already names its request keeps that ID, once.
func TestLogHandlerKeepsARequestIDTheRecordAlreadyHas(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := context.WithValue(context.Background(), ctxRequestID, "from-context")
	log.With("request_id", "explicit").InfoContext(ctx, "with the logger's")
	log.InfoContext(ctx, "with the record's", "request_id", "own")
	log.InfoContext(ctx, "with none")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for i, want := range []string{`"request_id":"explicit"`, `"request_id":"own"`, `"request_id":"from-context"`} {
		if i >= len(lines) || !strings.Contains(lines[i], want) || strings.Count(lines[i], "request_id") != 1 {
			t.Errorf("line %d = %q, want %s once", i, lines[i], want)
		}
	}
}
