package review

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Evidence file names inside the package's folder.
const (
	EvidenceCSV      = "items.csv"
	EvidenceJSON     = "items.json"
	EvidenceHTML     = "report.html"
	EvidenceManifest = "manifest.txt"
)

// EvidenceFile is one file of an evidence package.
type EvidenceFile struct {
	Name string
	Body []byte
}

// EvidenceFolder is the folder the package's files sit in inside the zip.
func EvidenceFolder(c *Campaign) string { return "access-review-" + c.ID }

// EvidenceFiles builds the package's files, in zip order: the CSV, the
// JSON, the printable HTML report, and manifest.txt listing the SHA-256 of
// the other three in `sha256sum -c` format. The output depends only on
// the campaign and items (the timestamp is the campaign's close time), so
// the same campaign always yields the same bytes.
func EvidenceFiles(c *Campaign, items []Item) ([]EvidenceFile, error) {
	csvBody, err := evidenceCSV(items)
	if err != nil {
		return nil, err
	}
	jsonBody, err := evidenceJSON(c, items)
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := Report(reportView(c, items)).Render(context.Background(), &html); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	files := []EvidenceFile{{EvidenceCSV, csvBody}, {EvidenceJSON, jsonBody}, {EvidenceHTML, html.Bytes()}}
	var m strings.Builder
	for _, f := range files {
		sum := sha256.Sum256(f.Body)
		fmt.Fprintf(&m, "%s  %s\n", hex.EncodeToString(sum[:]), f.Name)
	}
	return append(files, EvidenceFile{EvidenceManifest, []byte(m.String())}), nil
}

// Evidence zips EvidenceFiles under EvidenceFolder, every entry stamped
// with the campaign's close time (its creation time while open).
func Evidence(c *Campaign, items []Item) ([]byte, error) {
	files, err := EvidenceFiles(c, items)
	if err != nil {
		return nil, fmt.Errorf("build evidence: %w", err)
	}
	stamp := c.CreatedAt
	if c.ClosedAt != nil {
		stamp = *c.ClosedAt
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: EvidenceFolder(c) + "/" + f.Name, Method: zip.Deflate, Modified: stamp.UTC()})
		if err != nil {
			return nil, fmt.Errorf("build evidence: %w", err)
		}
		if _, err := w.Write(f.Body); err != nil {
			return nil, fmt.Errorf("build evidence: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("build evidence: %w", err)
	}
	return buf.Bytes(), nil
}

// csvHeader is the evidence CSV's header row.
func csvHeader() []string {
	return []string{"item", "kind", "subject", "member_id", "member_name", "org_role", "team", "team_role", "scopes",
		"member_state", "last_login", "last_active", "projects", "global_access", "sso_linked", "scim_provisioned",
		"has_2fa", "risks", "decision", "reviewer", "decided_at", "comment"}
}

// safeCell defuses spreadsheet formulas: a cell starting with = + - @ or a
// control character gets a leading apostrophe (OWASP CSV injection).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// DecisionText is the decision as the evidence states it.
func DecisionText(d Decision) string {
	if d == DecisionNone {
		return "not reviewed"
	}
	return string(d)
}

func evidenceCSV(items []Item) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(csvHeader()); err != nil {
		return nil, fmt.Errorf("evidence csv: %w", err)
	}
	for _, it := range items {
		x := it.Context
		row := []string{it.ID, string(it.Kind), it.Subject(), it.MemberID, it.MemberName, it.OrgRole, it.Team, it.TeamRole,
			strings.Join(it.Scopes, " "), x.MemberState, fmtTime(x.LastLogin), fmtTime(x.LastActive), strconv.Itoa(x.Projects),
			strconv.FormatBool(x.Global), strconv.FormatBool(x.SSOLinked), strconv.FormatBool(x.SCIMProvisioned),
			strconv.FormatBool(x.Has2FA), strings.Join(x.Risks, "; "), DecisionText(it.Decision), it.Reviewer,
			fmtTime(it.DecidedAt), it.Comment}
		for i := range row {
			row[i] = safeCell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("evidence csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("evidence csv: %w", err)
	}
	return buf.Bytes(), nil
}

// evidenceDoc is the JSON evidence document.
type evidenceDoc struct {
	Campaign *Campaign `json:"campaign"`
	Progress Progress  `json:"progress"`
	Items    []Item    `json:"items"`
}

func evidenceJSON(c *Campaign, items []Item) ([]byte, error) {
	if items == nil {
		items = []Item{}
	}
	b, err := json.MarshalIndent(evidenceDoc{Campaign: c, Progress: ProgressOf(items), Items: items}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("evidence json: %w", err)
	}
	return append(b, '\n'), nil
}

// ReportView is the printable report's view model.
type ReportView struct {
	Campaign *Campaign
	Items    []Item
	Progress Progress
	Closed   string
}

func reportView(c *Campaign, items []Item) ReportView {
	v := ReportView{Campaign: c, Items: items, Progress: ProgressOf(items), Closed: "still open"}
	if c.ClosedAt != nil {
		v.Closed = c.ClosedAt.UTC().Format("2006-01-02 15:04 UTC") + " by " + c.ClosedBy
	}
	return v
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func ptrDateText(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return dateText(*t)
}
