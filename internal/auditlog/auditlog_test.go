package auditlog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/auditlog"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %q\nwant: %q", name, got, want)
	}
}

var t0 = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// seed archives n entries, one a day from t0, alternating events and
// actors; entry 3 carries a formula-looking note.
func seed(t *testing.T, s *store.Store, n int) {
	t.Helper()
	var es []sentry.AuditLogEntry
	for i := 1; i <= n; i++ {
		obj := int64(100 + i)
		e := sentry.AuditLogEntry{
			ID: fmt.Sprint(i), Event: []string{"member.edit", "team.create", "member.remove"}[i%3],
			Actor:        &sentry.AuditActor{ID: fmt.Sprint(i % 2), Name: []string{"Ana", "Bo"}[i%2], Email: []string{"ana@acme.test", "bo@acme.test"}[i%2]},
			TargetObject: &obj, IPAddress: "10.0.0.1", Note: fmt.Sprintf("note %d, with \"quotes\"", i),
			Data: []byte(fmt.Sprintf(`{"id":%d}`, i)), DateCreated: t0.Add(time.Duration(i) * 24 * time.Hour),
		}
		if i == 3 {
			e.Note = "=HYPERLINK(\"http://evil\")"
		}
		es = append(es, e)
	}
	if _, err := s.AppendAuditEntries(context.Background(), es); err != nil {
		t.Fatal(err)
	}
}

func TestExportsMatchTheGoldenFilesAndReportTheirHash(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	seed(t, s, 5)
	svc := auditlog.New(s, nil)
	tests := []struct {
		name   string
		format auditlog.Format
		filter store.AuditFilter
		golden string
		rows   int
	}{
		{"csv of everything", auditlog.FormatCSV, store.AuditFilter{}, "export-all.csv", 5},
		{"json of everything", auditlog.FormatJSON, store.AuditFilter{}, "export-all.json", 5},
		{"csv of days 2 to 4", auditlog.FormatCSV, store.AuditFilter{From: t0.Add(48 * time.Hour), To: t0.Add(96 * time.Hour)}, "export-range.csv", 3},
		{"json of nothing", auditlog.FormatJSON, store.AuditFilter{Event: "org.remove"}, "export-empty.json", 0},
		{"review shape of days 2 to 4", auditlog.FormatReview, store.AuditFilter{From: t0.Add(48 * time.Hour), To: t0.Add(96 * time.Hour)}, "export-review.json", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			sum, err := svc.Export(context.Background(), &buf, tt.format, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, buf.Bytes())
			h := sha256.Sum256(buf.Bytes())
			if got, want := sum.SHA256, hex.EncodeToString(h[:]); got != want {
				t.Errorf("sha256 = %s, want %s (of the bytes written)", got, want)
			}
			if sum.Rows != tt.rows || sum.Bytes != int64(buf.Len()) {
				t.Errorf("summary = %+v, want %d rows and %d bytes", sum, tt.rows, buf.Len())
			}
		})
	}
}

// The quarterly review's shape is exactly {date, event, actor, target,
// ip}: no other key, every key present, actor and target by email.
func TestReviewExportIsAnArrayOfDateEventActorTargetIP(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	seed(t, s, 2)
	var buf bytes.Buffer
	if _, err := auditlog.New(s, nil).Export(context.Background(), &buf, auditlog.FormatReview, store.AuditFilter{}); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, buf.Bytes())
	}
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	want := map[string]any{"date": "2026-01-12T12:00:00Z", "event": "member.remove", "actor": "ana@acme.test", "target": "102", "ip": "10.0.0.1"}
	if !maps.Equal(rows[0], want) {
		t.Errorf("newest row = %v, want %v", rows[0], want)
	}
}

func TestExportFileNamesCarryTheDateRange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	q := store.AuditFilter{From: time.Date(2026, 9, 4, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 23, 59, 59, 0, time.UTC)}
	tests := []struct {
		format auditlog.Format
		filter store.AuditFilter
		want   string
	}{
		{auditlog.FormatCSV, q, "audit-log-2026-09-04-to-2026-12-03.csv"},
		{auditlog.FormatJSON, q, "audit-log-2026-09-04-to-2026-12-03.json"},
		{auditlog.FormatReview, q, "audit-log-2026-09-04-to-2026-12-03-review.json"},
		{auditlog.FormatCSV, store.AuditFilter{}, "audit-log-all-to-2026-12-03.csv"},
	}
	for _, tt := range tests {
		if got := auditlog.Filename(tt.format, tt.filter, now); got != tt.want {
			t.Errorf("Filename(%s, %v) = %q, want %q", tt.format, tt.filter, got, tt.want)
		}
	}
}

func TestExportWalksEveryPage(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	seed(t, s, 2503)
	sum, err := auditlog.New(s, nil).Export(context.Background(), &bytes.Buffer{}, auditlog.FormatCSV, store.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 2503 {
		t.Errorf("rows = %d, want all 2503 across pages", sum.Rows)
	}
}

func TestQueryFiltersAndPages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	seed(t, s, 9)
	svc := auditlog.New(s, nil)
	ctx := context.Background()
	p1, err := svc.Query(ctx, store.AuditFilter{Event: "member.edit", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Entries) != 2 || p1.Entries[0].ID != "9" || p1.Next == "" {
		t.Fatalf("page 1 = %+v", p1)
	}
	p2, err := svc.Query(ctx, store.AuditFilter{Event: "member.edit", Limit: 2, Cursor: p1.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Entries) != 1 || p2.Entries[0].ID != "3" || p2.Next != "" {
		t.Errorf("page 2 = %+v, want entry 3 and no next page", p2)
	}
	if _, err := svc.Query(ctx, store.AuditFilter{Cursor: "!!"}); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("bad cursor: %v, want EINVALID", err)
	}
	if _, err := svc.Query(ctx, store.AuditFilter{From: t0, To: t0.Add(-time.Hour)}); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("inverted range: %v, want EINVALID", err)
	}
}

func TestEmptyArchiveSaysWhy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		synced   bool
		auditErr string
		entries  int
		want     string
	}{
		{"never synced", false, "", 0, auditlog.ReasonNoSync},
		{"token without org:write", true, "sentry: GET /api/0/organizations/acme/audit-logs/: 403 forbidden (needs org:write)", 0, auditlog.ReasonForbidden},
		{"plan without audit logs", true, "sentry: 403: Your organization does not have access to this feature", 0, auditlog.ReasonPlan},
		{"read fine, nothing yet", true, "", 0, auditlog.ReasonNoneInRange},
		{"entries archived", true, "", 1, auditlog.ReasonNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			svc := auditlog.New(s, nil)
			if tt.synced {
				if _, err := s.RecordSyncStatus(ctx, store.SyncStatus{OK: true, Finished: t0}); err != nil {
					t.Fatal(err)
				}
				if err := svc.NoteSync(ctx, tt.auditErr); err != nil {
					t.Fatal(err)
				}
			}
			seed(t, s, tt.entries)
			got, err := svc.EmptyReason(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Reason != tt.want {
				t.Errorf("reason = %q (%s), want %q", got.Reason, got.Message, tt.want)
			}
		})
	}
}
