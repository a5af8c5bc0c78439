package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// download clicks l and returns the downloaded file's bytes and name.
func download(t *testing.T, page playwright.Page, l playwright.Locator, what string) ([]byte, string) {
	t.Helper()
	dl, err := page.ExpectDownload(func() error { return l.First().Click() })
	if err != nil {
		t.Fatalf("download %s: %v", what, err)
	}
	path, err := dl.Path()
	if err != nil {
		t.Fatalf("download %s: %v", what, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, dl.SuggestedFilename()
}

func TestAReviewCampaignFromCreationToEvidenceDownload(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleAdmin, "/reviews")

	// Start a campaign over the privileged org roles.
	must(t, byTestID(page, "review-name").Fill("Q3 privileged access"), "name the campaign")
	_, err := byTestID(page, "review-scope").SelectOption(playwright.SelectOptionValues{Values: &[]string{"privileged-roles"}})
	must(t, err, "choose the scope")
	click(t, byTestID(page, "review-start"), "start review")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Q3 privileged access"), "campaign page after creation")
	must(t, expect().Locator(byTestID(page, "review-state")).ToHaveText("open"), "campaign is open")
	total, err := byTestID(page, "review-item").Count()
	must(t, err, "count items")
	if total == 0 {
		t.Fatal("the demo org has no privileged members to review")
	}
	screenshot(t, page, "review-open")

	// Comment on one item, then certify everything the admin may review in bulk.
	must(t, byTestID(page, "item-comment").First().Fill("checked with the team lead"), "write a comment")
	click(t, page.Locator(`[data-testid="review-item"] button[value="comment"]`), "comment")
	must(t, expect().Locator(byTestID(page, "review-message")).ToContainText("Recorded a comment"), "comment recorded")
	boxes := byTestID(page, "item-select")
	n, err := boxes.Count()
	must(t, err, "count checkboxes")
	for i := range n {
		must(t, boxes.Nth(i).Check(), "select an item")
	}
	click(t, byTestID(page, "bulk-certify"), "certify selected")
	must(t, expect().Locator(byTestID(page, "review-message")).ToContainText("Recorded certify"), "bulk certify recorded")
	check(t, expect().Locator(byTestID(page, "review-progress")).ToContainText("decided"), "progress shown")

	// Close: the confirm dialog is accepted, then the evidence is offered.
	page.OnDialog(func(d playwright.Dialog) { _ = d.Accept() })
	click(t, byTestID(page, "review-close"), "close review")
	must(t, expect().Locator(byTestID(page, "review-state")).ToHaveText("closed"), "campaign closed")
	zipped, name := download(t, page, byTestID(page, "review-evidence"), "evidence")
	if !strings.HasSuffix(name, "-evidence.zip") {
		t.Errorf("evidence file name = %q", name)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	must(t, err, "open the evidence zip")
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err, "open "+f.Name)
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		_ = rc.Close()
		files[f.Name[strings.LastIndex(f.Name, "/")+1:]] = b.Bytes()
	}
	for _, want := range []string{"items.csv", "items.json", "report.html"} {
		sum := sha256.Sum256(files[want])
		if !strings.Contains(string(files["manifest.txt"]), hex.EncodeToString(sum[:])+"  "+want) {
			t.Errorf("manifest lacks the sum of %s:\n%s", want, files["manifest.txt"])
		}
	}
	if !strings.Contains(string(files["items.csv"]), "checked with the team lead") {
		t.Error("the evidence CSV lacks the reviewer's comment")
	}
	screenshot(t, page, "review-closed")
}

func TestAuditLogExport(t *testing.T) {
	e := startDemo(t)
	page, _ := e.loginAs(t, sentryaccess.RoleApprover, "/audit")
	must(t, expect().Locator(byTestID(page, "page-title")).ToHaveText("Audit log"), "audit page")
	must(t, expect().Locator(byTestID(page, "audit-row").First()).ToBeVisible(), "archived entries listed")

	// Ask for the quarterly export's row count and hash, then download it.
	click(t, byTestID(page, "export-summary-csv"), "summary")
	must(t, expect().Locator(byTestID(page, "export-sha256")).ToHaveText(sha256Pattern()), "summary shows a SHA-256")
	want := textOf(t, byTestID(page, "export-sha256"))
	rows := textOf(t, byTestID(page, "export-rows"))
	body, name := download(t, page, byTestID(page, "export-csv"), "CSV export")
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("downloaded %s has SHA-256 %s, the page said %s", name, got, want)
	}
	if rows == "0" || !strings.HasPrefix(string(body), "id,date,event,") {
		t.Errorf("export of %s rows starts %.80q", rows, body)
	}
	screenshot(t, page, "audit-export")
}

// sha256Pattern matches a hex SHA-256.
func sha256Pattern() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) }
