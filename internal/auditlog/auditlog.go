// Package auditlog is the explorer over the archived Sentry audit log
// (internal/store keeps every entry a sync read, not only Sentry's latest
// page): filtered, cursor-paged queries, the event names to filter by, a
// detail lookup, streaming CSV and JSON exports of a date range with their
// row count and SHA-256, and the reason an empty archive is empty.
package auditlog

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Archive is the part of the store the explorer reads.
type Archive interface {
	AuditEntries(ctx context.Context, f store.AuditFilter) ([]sentry.AuditLogEntry, string, error)
	AuditEntry(ctx context.Context, id string) (sentry.AuditLogEntry, error)
	AuditEvents(ctx context.Context) ([]string, error)
	LatestAuditTime(ctx context.Context) (time.Time, error)
	LastSyncStatus(ctx context.Context) (store.SyncStatus, error)
	GetMeta(ctx context.Context, key string) ([]byte, error)
	PutMeta(ctx context.Context, key string, value []byte) error
}

// keyAuditError is the setting holding why the last full sync could not
// read the audit log ("" when it could).
const keyAuditError = "auditlog.last_error"

// Service is the audit-log explorer.
type Service struct {
	a   Archive
	now func() time.Time
}

// New returns a Service over a (a *store.Store). now is the clock (nil:
// time.Now).
func New(a Archive, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{a: a, now: now}
}

// Page is one page of entries.
type Page struct {
	Entries []sentry.AuditLogEntry
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// Query returns one page of entries matching f, newest first. A malformed
// cursor or an inverted date range is EINVALID.
func (s *Service) Query(ctx context.Context, f store.AuditFilter) (Page, error) {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return Page{}, sentryaccess.Errorf(sentryaccess.EINVALID, "The end date is before the start date")
	}
	rows, next, err := s.a.AuditEntries(ctx, f)
	if sentryaccess.ErrorCode(err) == sentryaccess.EINVALID {
		return Page{}, fmt.Errorf("query audit log: %w", sentryaccess.Errorf(sentryaccess.EINVALID, "This page of the audit log no longer exists: start again from the first page."))
	}
	if err != nil {
		return Page{}, fmt.Errorf("query audit log: %w", err)
	}
	return Page{Entries: rows, Next: next}, nil
}

// Events returns the event names to filter by: Sentry's registered
// options and the names seen in the archive.
func (s *Service) Events(ctx context.Context) ([]string, error) {
	ev, err := s.a.AuditEvents(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	return ev, nil
}

// Entry returns one archived entry (errors wrap ENOTFOUND).
func (s *Service) Entry(ctx context.Context, id string) (sentry.AuditLogEntry, error) {
	e, err := s.a.AuditEntry(ctx, id)
	if err != nil {
		return sentry.AuditLogEntry{}, fmt.Errorf("audit entry: %w", err)
	}
	return e, nil
}

// NoteSync records the audit-log outcome of a sync (syncer.Result's
// AuditError; "" when the audit log was read), for EmptyReason. Wire it
// after every full sync.
func (s *Service) NoteSync(ctx context.Context, auditError string) error {
	if err := s.a.PutMeta(ctx, keyAuditError, []byte(auditError)); err != nil {
		return fmt.Errorf("note audit-log sync outcome: %w", err)
	}
	return nil
}

// Empty reasons.
const (
	ReasonNone        = ""
	ReasonNoSync      = "no-sync"
	ReasonForbidden   = "forbidden"
	ReasonPlan        = "plan"
	ReasonOtherError  = "error"
	ReasonNoneInRange = "none-yet"
)

// Emptiness says why the archive holds nothing, for the empty page.
type Emptiness struct {
	Reason  string
	Message string
}

// EmptyReason explains an empty archive from the last sync. Sentry's
// audit-log endpoint needs org:write (OrganizationAuditPermission,
// src/sentry/api/bases/organization.py): a token without it gets 403.
// Plans without the audit-log feature answer 403 too, with a detail that
// names the feature or plan.
func (s *Service) EmptyReason(ctx context.Context) (Emptiness, error) {
	latest, err := s.a.LatestAuditTime(ctx)
	if err != nil {
		return Emptiness{}, fmt.Errorf("audit archive state: %w", err)
	}
	if !latest.IsZero() {
		return Emptiness{}, nil
	}
	if _, err := s.a.LastSyncStatus(ctx); sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return Emptiness{ReasonNoSync, "No sync with Sentry has run yet, so no audit entries are archived. Run a sync from the Connection page."}, nil
	} else if err != nil {
		return Emptiness{}, fmt.Errorf("audit archive state: %w", err)
	}
	b, err := s.a.GetMeta(ctx, keyAuditError)
	if err != nil && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		return Emptiness{}, fmt.Errorf("audit archive state: %w", err)
	}
	return classifyAuditError(string(b)), nil
}

func classifyAuditError(msg string) Emptiness {
	low := strings.ToLower(msg)
	switch {
	case msg == "":
		return Emptiness{ReasonNoneInRange, "Sentry returned no audit entries yet."}
	case strings.Contains(low, "feature") || strings.Contains(low, "plan") || strings.Contains(low, "subscription"):
		return Emptiness{ReasonPlan, "Sentry refused the audit log: the organization's plan does not include audit logs."}
	case strings.Contains(low, "403") || strings.Contains(low, "forbidden"):
		return Emptiness{ReasonForbidden, "Sentry refused the audit log (403): reading it needs a token with the org:write scope (a Manager or Owner)."}
	}
	return Emptiness{ReasonOtherError, "The audit log could not be read during the last sync."}
}

// Format is an export format.
type Format string

// Export formats. FormatCSV and FormatJSON carry every field Sentry sent;
// FormatReview is the quarterly access review's evidence shape: a JSON
// array of {date, event, actor, target, ip}, one object per entry.
const (
	FormatCSV    Format = "csv"
	FormatJSON   Format = "json"
	FormatReview Format = "review"
)

// Valid reports whether f is one of the export formats.
func (f Format) Valid() bool {
	return f == FormatCSV || f == FormatJSON || f == FormatReview
}

// ContentType returns the MIME type of the format.
func (f Format) ContentType() string {
	if f == FormatJSON || f == FormatReview {
		return "application/json"
	}
	return "text/csv; charset=utf-8"
}

// Ext returns the file extension of the format, without the dot.
func (f Format) Ext() string {
	if f == FormatReview {
		return "json"
	}
	return string(f)
}

// Summary is what an export wrote.
type Summary struct {
	Rows   int
	Bytes  int64
	SHA256 string
}

// exportPage is the page size of the export's walk through the archive.
const exportPage = 1000

// Export streams every entry matching f (newest first, f.Cursor and
// f.Limit ignored) to w in format, computing the row count and the SHA-256
// of exactly the bytes written as it goes.
func (s *Service) Export(ctx context.Context, w io.Writer, format Format, f store.AuditFilter) (Summary, error) {
	if !format.Valid() {
		return Summary{}, sentryaccess.Errorf(sentryaccess.EINVALID, "Pick an export format: CSV, JSON or the quarterly review's JSON.")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return Summary{}, sentryaccess.Errorf(sentryaccess.EINVALID, "The end date is before the start date")
	}
	hw := &hashWriter{w: w, h: sha256.New()}
	bw := bufio.NewWriterSize(hw, 64<<10)
	enc := newEncoder(format, bw)
	if err := enc.begin(); err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	rows := 0
	f.Cursor, f.Limit = "", exportPage
	for {
		es, next, err := s.a.AuditEntries(ctx, f)
		if err != nil {
			return Summary{}, fmt.Errorf("export: %w", err)
		}
		for _, e := range es {
			if err := enc.row(e); err != nil {
				return Summary{}, fmt.Errorf("export: %w", err)
			}
			rows++
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if err := enc.end(); err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	return Summary{Rows: rows, Bytes: hw.n, SHA256: hex.EncodeToString(hw.h.Sum(nil))}, nil
}

// Filename is the download name of an export of f made at now: the date
// range it covers, as YYYY-MM-DD to YYYY-MM-DD (an open start is "all",
// an open end is now's day), then "-review" for the review shape, e.g.
// audit-log-2026-09-04-to-2026-12-03-review.json.
func Filename(format Format, f store.AuditFilter, now time.Time) string {
	from, to := "all", now.UTC().Format(time.DateOnly)
	if !f.From.IsZero() {
		from = f.From.UTC().Format(time.DateOnly)
	}
	if !f.To.IsZero() {
		to = f.To.UTC().Format(time.DateOnly)
	}
	suffix := ""
	if format == FormatReview {
		suffix = "-review"
	}
	return fmt.Sprintf("audit-log-%s-to-%s%s.%s", from, to, suffix, format.Ext())
}

type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

type encoder interface {
	begin() error
	row(e sentry.AuditLogEntry) error
	end() error
}

func newEncoder(f Format, w io.Writer) encoder {
	switch f {
	case FormatJSON:
		return &jsonEncoder{w: w, shape: func(e sentry.AuditLogEntry) any { return e }}
	case FormatReview:
		return &jsonEncoder{w: w, shape: func(e sentry.AuditLogEntry) any { return ReviewRow(e) }}
	}
	return &csvEncoder{w: csv.NewWriter(w)}
}

// ReviewEntry is one audit-log entry in the quarterly review's shape.
// Actor is the actor's email (else its name, else its id; "" for Sentry
// itself), Target the target user's email (else name or id) or the
// target object's id, IP the address Sentry recorded.
type ReviewEntry struct {
	Date   string `json:"date"`
	Event  string `json:"event"`
	Actor  string `json:"actor"`
	Target string `json:"target"`
	IP     string `json:"ip"`
}

// ReviewRow returns e in the review shape; Date is RFC 3339 in UTC.
func ReviewRow(e sentry.AuditLogEntry) ReviewEntry {
	who := func(a *sentry.AuditActor) string {
		if a == nil {
			return ""
		}
		for _, s := range []string{a.Email, a.Name, a.ID} {
			if s != "" {
				return s
			}
		}
		return ""
	}
	target := who(e.TargetUser)
	if target == "" && e.TargetObject != nil {
		target = strconv.FormatInt(*e.TargetObject, 10)
	}
	return ReviewEntry{Date: e.DateCreated.UTC().Format(time.RFC3339), Event: e.Event, Actor: who(e.Actor), Target: target, IP: e.IPAddress}
}

// CSVHeader is the export CSV's header row.
func CSVHeader() []string {
	return []string{"id", "date", "event", "actor_id", "actor_name", "actor_email", "target_object",
		"target_user_id", "target_user_name", "target_user_email", "ip_address", "note", "data"}
}

type csvEncoder struct{ w *csv.Writer }

func (c *csvEncoder) begin() error { return c.w.Write(CSVHeader()) }

func (c *csvEncoder) row(e sentry.AuditLogEntry) error {
	var actor, target sentry.AuditActor
	if e.Actor != nil {
		actor = *e.Actor
	}
	if e.TargetUser != nil {
		target = *e.TargetUser
	}
	obj := ""
	if e.TargetObject != nil {
		obj = strconv.FormatInt(*e.TargetObject, 10)
	}
	data := ""
	if len(e.Data) > 0 && string(e.Data) != "null" {
		data = string(e.Data)
	}
	rec := []string{e.ID, e.DateCreated.UTC().Format(time.RFC3339Nano), e.Event, actor.ID, actor.Name, actor.Email, obj,
		target.ID, target.Name, target.Email, e.IPAddress, e.Note, data}
	for i := range rec {
		rec[i] = SafeCell(rec[i])
	}
	return c.w.Write(rec)
}

func (c *csvEncoder) end() error {
	c.w.Flush()
	return c.w.Error()
}

// SafeCell defuses spreadsheet formulas: a cell starting with = + - @ tab
// or CR gets a leading apostrophe (OWASP "CSV injection").
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// jsonEncoder writes a JSON array with one entry per line, each entry as
// shape makes it.
type jsonEncoder struct {
	w     io.Writer
	rows  int
	shape func(sentry.AuditLogEntry) any
}

func (j *jsonEncoder) begin() error {
	_, err := io.WriteString(j.w, "[")
	return err
}

func (j *jsonEncoder) row(e sentry.AuditLogEntry) error {
	e.DateCreated = e.DateCreated.UTC()
	b, err := json.Marshal(j.shape(e))
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.rows == 0 {
		sep = "\n"
	}
	j.rows++
	if _, err := io.WriteString(j.w, sep); err != nil {
		return err
	}
	_, err = j.w.Write(b)
	return err
}

func (j *jsonEncoder) end() error {
	_, err := io.WriteString(j.w, "\n]\n")
	return err
}

// QuarterRange is the seed's quarterly-review range: the 90 days up to now.
func QuarterRange(now time.Time) (from, to time.Time) {
	return now.Add(-90 * 24 * time.Hour).UTC(), now.UTC()
}
