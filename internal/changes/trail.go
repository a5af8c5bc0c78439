package changes

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// TrailKind names what a trail record records.
type TrailKind string

// Trail record kinds.
const (
	TrailRequestCreated   TrailKind = "request.created"
	TrailRequestApproved  TrailKind = "request.approved" // one approval
	TrailRequestDenied    TrailKind = "request.denied"
	TrailRequestCancelled TrailKind = "request.cancelled"
	TrailRequestState     TrailKind = "request.state" // state transition
	TrailStepApplying     TrailKind = "step.applying"
	TrailStepApplied      TrailKind = "step.applied"
	TrailStepFailed       TrailKind = "step.failed"
	TrailStepRetry        TrailKind = "step.retry"
	TrailGrantCreated     TrailKind = "grant.created"
	TrailGrantExpired     TrailKind = "grant.expired"
	TrailGrantExtended    TrailKind = "grant.extended"
)

// TrailRecord is one entry of the dashboard's own audit trail. Records are
// append-only and hash-chained: PrevHash is the Hash of the record before,
// and Hash is the SHA-256 of the record's canonical bytes (the JSON of its
// stored form with Hash empty, store.TrailEntry.CanonicalBytes), so editing
// or deleting any record breaks the chain.
type TrailRecord struct {
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Kind      TrailKind `json:"kind"`
	RequestID string    `json:"requestId,omitempty"`
	GrantID   string    `json:"grantId,omitempty"`
	// Step is the step index plus one; 0 means the record is not about a step.
	Step   int    `json:"step,omitempty"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// SentryStatus and SentryResponse are Sentry's answer, for step records.
	SentryStatus   int    `json:"sentryStatus,omitempty"`
	SentryResponse string `json:"sentryResponse,omitempty"`
	Comment        string `json:"comment,omitempty"`
	PrevHash       string `json:"prevHash"`
	Hash           string `json:"hash"`
}

// TrailHead is the position of the last appended record; the zero head is
// the empty trail.
type TrailHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// CanonicalBytes returns the bytes hashed for r: those of its stored form
// (store.TrailEntry), so the hash covers what is on disk.
func (r TrailRecord) CanonicalBytes() []byte { return trailEntry(r).CanonicalBytes() }

// SealTrailRecord places r after head: it sets Seq, PrevHash and Hash and
// returns the sealed record and the new head (store.SealTrailEntry).
func SealTrailRecord(head TrailHead, r TrailRecord) (TrailRecord, TrailHead) {
	e, h := store.SealTrailEntry(store.TrailHead(head), trailEntry(r))
	return fromTrailEntry(e), TrailHead(h)
}

// VerifyTrail checks a whole trail, in append order, against the head the
// repository holds. It reports the first record that was edited, deleted or
// reordered, or a trail cut short of its head.
func VerifyTrail(recs []TrailRecord, head TrailHead) error {
	var prev TrailHead
	for _, r := range recs {
		if r.Seq != prev.Seq+1 {
			return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Trail record %d follows %d: a record was deleted or reordered.", r.Seq, prev.Seq)
		}
		if r.PrevHash != prev.Hash {
			return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Trail record %d does not chain to record %d: a record was edited or deleted.", r.Seq, prev.Seq)
		}
		sum := sha256.Sum256(r.CanonicalBytes())
		if hex.EncodeToString(sum[:]) != r.Hash {
			return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Trail record %d was edited: its hash does not match its content.", r.Seq)
		}
		prev = TrailHead{Seq: r.Seq, Hash: r.Hash}
	}
	if prev != head {
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "The trail ends at record %d but its head is record %d: records were removed from the end.", prev.Seq, head.Seq)
	}
	return nil
}

// TrailFilter selects trail records; zero fields match everything.
type TrailFilter struct {
	Actor     string
	Kind      TrailKind
	RequestID string
	From, To  time.Time // From inclusive, To exclusive
	Limit     int
}

// Match reports whether r passes the filter (Limit aside). Kind also matches
// a prefix ending in "." ("step." matches every step record).
func (f TrailFilter) Match(r *TrailRecord) bool {
	if f.Actor != "" && !strings.EqualFold(f.Actor, r.Actor) {
		return false
	}
	if f.Kind != "" && f.Kind != r.Kind && !(strings.HasSuffix(string(f.Kind), ".") && strings.HasPrefix(string(r.Kind), string(f.Kind))) {
		return false
	}
	if f.RequestID != "" && f.RequestID != r.RequestID {
		return false
	}
	if !f.From.IsZero() && r.At.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !r.At.Before(f.To) {
		return false
	}
	return true
}

// trailColumns are the CSV header of WriteTrailCSV.
func trailColumns() []string {
	return []string{"seq", "at", "actor", "kind", "request", "grant", "step", "before", "after",
		"sentry_status", "sentry_response", "comment", "prev_hash", "hash"}
}

// WriteTrailCSV writes records as CSV with a header row. Free-text cells
// (comments and justifications anyone may type, Sentry's answers) are
// defused against spreadsheet formulas; verify an export from its JSON.
func WriteTrailCSV(w io.Writer, recs []TrailRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(trailColumns()); err != nil {
		return fmt.Errorf("write trail csv: %w", err)
	}
	for _, r := range recs {
		step := ""
		if r.Step > 0 {
			step = strconv.Itoa(r.Step - 1)
		}
		status := ""
		if r.SentryStatus != 0 {
			status = strconv.Itoa(r.SentryStatus)
		}
		row := []string{strconv.FormatUint(r.Seq, 10), r.At.UTC().Format(time.RFC3339Nano), safeCell(r.Actor), string(r.Kind),
			safeCell(r.RequestID), safeCell(r.GrantID), step, safeCell(r.Before), safeCell(r.After), status,
			safeCell(r.SentryResponse), safeCell(r.Comment), r.PrevHash, r.Hash}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write trail csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write trail csv: %w", err)
	}
	return nil
}

// WriteTrailJSON writes records as an indented JSON array, hashes included,
// so an exported trail can be verified offline with VerifyTrail.
func WriteTrailJSON(w io.Writer, recs []TrailRecord) error {
	if recs == nil {
		recs = []TrailRecord{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(recs); err != nil {
		return fmt.Errorf("write trail json: %w", err)
	}
	return nil
}

// safeCell defuses spreadsheet formulas: a cell starting with = + - @ tab
// or CR gets a leading apostrophe (OWASP "CSV injection"), as
// auditlog.SafeCell does for the Sentry audit log export.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
