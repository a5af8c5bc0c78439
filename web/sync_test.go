package web

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/explore"
)

// sameCount matches "N of N": a count that reads as finished.
var sameCount = regexp.MustCompile(`\b(\d+) of (\d+)\b`)

// TestSyncPanelNeverReadsAsFinishedWhileRunning: a running sync says what
// it is doing in words and never shows a count that reads as finished
// ("done: 4 of 4" while the new snapshot is still being loaded).
func TestSyncPanelNeverReadsAsFinishedWhileRunning(t *testing.T) {
	t.Parallel()
	for _, r := range []explore.SyncRun{
		{Running: true, Stage: "done", Done: 4, Total: 4},
		{Running: true, Stage: "save", Done: 4, Total: 4},
		{Running: true, Stage: "team-members", Done: 40, Total: 40},
		{Running: true, Stage: "team-members", Done: 3, Total: 40},
		{Running: true, Stage: "members", Done: 200},
	} {
		r.StageText = explore.StageText(r.Stage)
		var b strings.Builder
		if err := SyncPanel(SyncPanelView{Run: &r}).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		for _, m := range sameCount.FindAllStringSubmatch(got, -1) {
			if m[1] == m[2] {
				t.Errorf("stage %s %d/%d: the running panel says %q", r.Stage, r.Done, r.Total, m[0])
			}
		}
		if strings.Contains(got, "done") || !strings.Contains(got, "Sync running") {
			t.Errorf("stage %s: panel %q, want the stage in words while running", r.Stage, got)
		}
	}
}

// TestSyncPanelSummarisesTheRunItself: a run that found nothing new says
// so with its own duration and request count.
func TestSyncPanelSummarisesTheRunItself(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	r := explore.SyncRun{Kind: "incremental", OK: true, Finished: at, Duration: 300 * time.Millisecond, Requests: 3, Unchanged: true, SnapshotID: 7}
	var b strings.Builder
	if err := SyncPanel(SyncPanelView{Run: &r}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "3 requests") || !strings.Contains(got, "nothing new in Sentry") || !strings.Contains(got, "#7") {
		t.Errorf("summary %q, want its own 3 requests and that snapshot #7 stays current", got)
	}
}

// TestMemberSortArrowsSayTheDirection: the arrow and aria-sort of a column
// say the order the list is in (explore.MemberQuery.Sort): reach and role
// run highest first, email A→Z.
func TestMemberSortArrowsSayTheDirection(t *testing.T) {
	t.Parallel()
	tests := []struct{ cur, key, mark, aria string }{
		{"", "email", " ▲", "ascending"},
		{"-email", "email", " ▼", "descending"},
		{"reach", "reach", " ▼", "descending"},
		{"-reach", "reach", " ▲", "ascending"},
		{"role", "role", " ▼", "descending"},
		{"-role", "role", " ▲", "ascending"},
		{"reach", "email", "", "none"},
	}
	for _, tt := range tests {
		if got := sortMark(tt.cur, tt.key); got != tt.mark {
			t.Errorf("sort %q, column %s: mark %q, want %q", tt.cur, tt.key, got, tt.mark)
		}
		if got := ariaSort(tt.cur, tt.key); got != tt.aria {
			t.Errorf("sort %q, column %s: aria-sort %q, want %q", tt.cur, tt.key, got, tt.aria)
		}
	}
}
