package review_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/review"
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
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func ptr(t time.Time) *time.Time { return &t }

// acme: ana owns the org, bo is a manager, cy is team admin of payments,
// dee a contributor on payments and web, eve a pending invite. SSO is on.
func acme() *access.Snapshot {
	return &access.Snapshot{
		Org: access.Org{Slug: "acme", HasAuthProvider: true, SCIMEnabled: true},
		Members: []access.Member{
			{ID: "1", Email: "ana@acme.test", Name: "Ana", OrgRole: "owner", State: access.StateActive, Has2FA: true,
				Flags: access.MemberFlags{SSOLinked: true}, LastLogin: ptr(t0.Add(-24 * time.Hour))},
			{ID: "2", Email: "bo@acme.test", Name: "Bo", OrgRole: "manager", State: access.StateActive,
				Teams: []access.Membership{{Team: "web"}}},
			{ID: "3", Email: "cy@acme.test", Name: "Cy", OrgRole: "member", State: access.StateActive, Has2FA: true,
				Flags: access.MemberFlags{SSOLinked: true, IDPProvisioned: true}, LastActive: ptr(t0.Add(-2 * time.Hour)),
				Teams: []access.Membership{{Team: "payments", Role: "admin"}}},
			{ID: "4", Email: "dee@acme.test", Name: "=Dee", OrgRole: "member", State: access.StateActive, Has2FA: true,
				Flags: access.MemberFlags{SSOLinked: true}, LastLogin: ptr(t0.Add(-90 * 24 * time.Hour)),
				Teams: []access.Membership{{Team: "payments"}, {Team: "web"}}},
			{ID: "5", Email: "eve@acme.test", OrgRole: "member", State: access.StatePending},
		},
		Teams: []access.Team{{ID: "10", Slug: "payments"}, {ID: "11", Slug: "web"}},
		Projects: []access.Project{
			{ID: "20", Slug: "checkout", Teams: []string{"payments"}},
			{ID: "21", Slug: "site", Teams: []string{"web"}},
		},
		Integrations: []access.Integration{{Slug: "deploy-bot", Name: "Deploy bot", Scopes: []string{"project:write", "project:read"}}},
	}
}

type snaps struct{ snap *access.Snapshot }

func (s snaps) CurrentSnapshot(context.Context) (uint64, *access.Snapshot, error) {
	return 7, s.snap, nil
}

// fakeChanges records the change requests it is asked to create.
type fakeChanges struct {
	got []changes.NewRequest
	err error
}

func (f *fakeChanges) Create(_ context.Context, actor sentryaccess.Actor, in changes.NewRequest) (*changes.Request, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.got = append(f.got, in)
	return &changes.Request{ID: fmt.Sprint(40 + len(f.got)), State: changes.StatePendingApproval}, nil
}

type env struct {
	svc   *review.Service
	ch    *fakeChanges
	clock *time.Time
}

func newEnv(t *testing.T) env {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	now := t0
	ch := &fakeChanges{}
	svc := review.New(review.Config{Repo: review.NewStoreRepo(s), Snapshots: snaps{acme()}, Changes: ch, Now: func() time.Time { return now }})
	return env{svc: svc, ch: ch, clock: &now}
}

var (
	admin    = sentryaccess.Actor{Email: "root@acme.test", Role: sentryaccess.RoleAdmin}
	approver = sentryaccess.Actor{Email: "bo@acme.test", Role: sentryaccess.RoleApprover}
	teamLead = sentryaccess.Actor{Email: "cy@acme.test", Role: sentryaccess.RoleViewer}
	viewer   = sentryaccess.Actor{Email: "dee@acme.test", Role: sentryaccess.RoleViewer}
)

func create(t *testing.T, e env, scope review.Scope) (*review.Campaign, []review.Item) {
	t.Helper()
	c, err := e.svc.Create(context.Background(), approver, review.NewCampaign{Name: "Q1 2026", Scope: scope, Due: t0.Add(14 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c, items, err := e.svc.Get(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, items
}

func describe(items []review.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Describe())
	}
	return out
}

func TestScopesListTheirItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scope review.Scope
		want  []string
	}{
		{review.TeamScope("payments"), []string{"cy@acme.test on team payments (admin)", "dee@acme.test on team payments (contributor)"}},
		{review.ScopePrivileged, []string{"ana@acme.test has org role owner", "bo@acme.test has org role manager"}},
		{review.ScopeIntegrations, []string{"integration deploy-bot with project:read project:write"}},
		{review.ScopeOrg, []string{
			"ana@acme.test is a member (owner)", "bo@acme.test is a member (manager)", "bo@acme.test on team web (admin)",
			"cy@acme.test is a member (member)", "cy@acme.test on team payments (admin)",
			"dee@acme.test is a member (member)", "dee@acme.test on team payments (contributor)", "dee@acme.test on team web (contributor)",
			"eve@acme.test is a member (member)",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.scope), func(t *testing.T) {
			t.Parallel()
			items, _, err := review.BuildItems(acme(), tt.scope)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(items); !slices.Equal(got, tt.want) {
				t.Errorf("items:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, _, err := review.BuildItems(acme(), review.TeamScope("nope")); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("unknown team: %v, want EINVALID", err)
	}
}

// The retired admin role still grants team:admin, project:admin and
// org:integrations to the members who hold it: a privileged-role campaign
// that left them out would certify an org with hidden admins.
func TestPrivilegedRoleCampaignsIncludeLegacyAdmins(t *testing.T) {
	t.Parallel()
	snap := acme()
	snap.Members = append(snap.Members, access.Member{ID: "6", Email: "fay@acme.test", OrgRole: "admin", State: access.StateActive,
		Has2FA: true, Flags: access.MemberFlags{SSOLinked: true}})
	items, _, err := review.BuildItems(snap, review.ScopePrivileged)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ana@acme.test has org role owner", "bo@acme.test has org role manager",
		"fay@acme.test has org role admin (the retired legacy admin role)"}
	if got := describe(items); !slices.Equal(got, want) {
		t.Errorf("items:\n got %q\nwant %q", got, want)
	}
}

func TestItemsCarryTheReviewersContext(t *testing.T) {
	t.Parallel()
	items, _, err := review.BuildItems(acme(), review.TeamScope("payments"))
	if err != nil {
		t.Fatal(err)
	}
	cy := items[0].Context
	if !cy.SSOLinked || !cy.SCIMProvisioned || cy.LastActive == nil || cy.Projects != 1 {
		t.Errorf("cy's context = %+v, want SSO linked, SCIM, last active, 1 project", cy)
	}
	bo, _, _ := review.BuildItems(acme(), review.ScopePrivileged)
	if got := bo[1].Context.Risks; !slices.Equal(got, []string{"no valid SSO link", "no 2FA", "global access", "no recorded activity"}) {
		t.Errorf("bo's risks = %q", got)
	}
}

func TestWhoMayReviewWhat(t *testing.T) {
	t.Parallel()
	c := &review.Campaign{TeamAdmins: map[string][]string{"payments": {"cy@acme.test"}}}
	team := review.Item{Kind: review.KindTeamMembership, Team: "payments", MemberEmail: "dee@acme.test"}
	ownTeam := review.Item{Kind: review.KindTeamMembership, Team: "payments", MemberEmail: "cy@acme.test"}
	role := review.Item{Kind: review.KindOrgRole, MemberEmail: "ana@acme.test"}
	integration := review.Item{Kind: review.KindIntegration, Integration: "deploy-bot"}
	tests := []struct {
		name  string
		actor sentryaccess.Actor
		item  review.Item
		want  bool
	}{
		{"team admin reviews their team's items", teamLead, team, true},
		{"team admin does not review their own membership", teamLead, ownTeam, false},
		{"team admin does not review org roles", teamLead, role, false},
		{"approver does not review team items", approver, team, false},
		{"approver reviews org roles", approver, role, true},
		{"approver reviews integrations", approver, integration, true},
		{"viewer reviews nothing", viewer, role, false},
		{"admin reviews team items", admin, team, true},
		{"admin reviews org roles", admin, role, true},
		{"nobody reviews themselves, not even an admin", sentryaccess.Actor{Email: "ANA@acme.test", Role: sentryaccess.RoleAdmin}, role, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := review.CanReview(tt.actor, c, tt.item); got != tt.want {
				t.Errorf("CanReview = %v (%s), want %v", got, why, tt.want)
			}
		})
	}
}

func TestCampaignFreezesTeamAdminsFromTheSnapshot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _ := create(t, e, review.TeamScope("payments"))
	if got := c.TeamAdmins["payments"]; !slices.Equal(got, []string{"cy@acme.test"}) {
		t.Errorf("payments admins = %q, want cy", got)
	}
	if c.SnapshotID != 7 || c.State != review.StateOpen || c.CreatedBy != approver.Email {
		t.Errorf("campaign = %+v", c)
	}
}

func TestOnlyApproversStartCampaignsWithAFutureDueDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		actor sentryaccess.Actor
		in    review.NewCampaign
		want  sentryaccess.Code
	}{
		{"viewer", viewer, review.NewCampaign{Name: "x", Scope: review.ScopeOrg, Due: t0.Add(time.Hour)}, sentryaccess.EFORBIDDEN},
		{"past due date", approver, review.NewCampaign{Name: "x", Scope: review.ScopeOrg, Due: t0}, sentryaccess.EINVALID},
		{"unknown scope", approver, review.NewCampaign{Name: "x", Scope: "everything", Due: t0.Add(time.Hour)}, sentryaccess.EINVALID},
		{"no name", approver, review.NewCampaign{Scope: review.ScopeOrg, Due: t0.Add(time.Hour)}, sentryaccess.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.Create(ctx, tt.actor, tt.in); sentryaccess.ErrorCode(err) != tt.want {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBulkDecisionsAreAllOrNothingAndCountInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, items := create(t, e, review.ScopeOrg)
	ids := func(pred func(review.Item) bool) []string {
		var out []string
		for _, it := range items {
			if pred(it) {
				out = append(out, it.ID)
			}
		}
		return out
	}
	members := ids(func(it review.Item) bool {
		return it.Kind == review.KindOrgMembership && it.MemberEmail != approver.Email
	})
	// One forbidden item (bo's own membership) spoils the whole bulk action.
	withOwn := append(ids(func(it review.Item) bool {
		return it.MemberEmail == approver.Email && it.Kind == review.KindOrgMembership
	}), members...)
	if _, err := e.svc.Decide(ctx, approver, c.ID, review.DecisionInput{ItemIDs: withOwn, Decision: review.DecisionCertify}); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Fatalf("bulk with own item: %v, want EFORBIDDEN", err)
	}
	_, after, _ := e.svc.Get(ctx, c.ID)
	if p := review.ProgressOf(after); p.Decided != 0 {
		t.Fatalf("a refused bulk action decided %d items", p.Decided)
	}
	if _, err := e.svc.Decide(ctx, approver, c.ID, review.DecisionInput{ItemIDs: members, Decision: review.DecisionCertify}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Decide(ctx, approver, c.ID, review.DecisionInput{ItemIDs: members[:1], Decision: review.DecisionRevoke}); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("revoke without a reason: %v, want EINVALID", err)
	}
	_, after, _ = e.svc.Get(ctx, c.ID)
	got := review.ProgressOf(after)
	want := review.Progress{Total: 9, Decided: 4, Certified: 4}
	if got != want {
		t.Errorf("progress = %+v, want %+v", got, want)
	}
	if got.Percent() != 44 {
		t.Errorf("percent = %d, want 44", got.Percent())
	}
}

func TestRemindersGoToReviewersWithOpenItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	create(t, e, review.TeamScope("payments"))
	*e.clock = t0.Add(13 * 24 * time.Hour) // a day before the due date
	tests := []struct {
		actor sentryaccess.Actor
		open  int
	}{
		{teamLead, 1}, // dee's membership; not his own
		{approver, 0}, // team items are for team admins
		{admin, 2},
	}
	for _, tt := range tests {
		t.Run(tt.actor.Email, func(t *testing.T) {
			rs, err := e.svc.Reminders(ctx, tt.actor)
			if err != nil {
				t.Fatal(err)
			}
			if tt.open == 0 {
				if len(rs) != 0 {
					t.Errorf("reminders = %+v, want none", rs)
				}
				return
			}
			if len(rs) != 1 || rs[0].Open != tt.open || !rs[0].DueSoon || rs[0].Overdue {
				t.Errorf("reminders = %+v, want %d open items due soon", rs, tt.open)
			}
		})
	}
}

func TestRevocationsBecomeOneChangeRequestOnClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, items := create(t, e, review.ScopeOrg)
	byDesc := map[string]string{}
	for _, it := range items {
		byDesc[it.Describe()] = it.ID
	}
	decide := func(actor sentryaccess.Actor, d review.Decision, comment string, descs ...string) {
		t.Helper()
		var ids []string
		for _, s := range descs {
			ids = append(ids, byDesc[s])
		}
		if _, err := e.svc.Decide(ctx, actor, c.ID, review.DecisionInput{ItemIDs: ids, Decision: d, Comment: comment}); err != nil {
			t.Fatal(err)
		}
	}
	decide(admin, review.DecisionRevoke, "left the web team", "dee@acme.test on team web (contributor)")
	decide(admin, review.DecisionRevoke, "left the company", "eve@acme.test is a member (member)")
	decide(admin, review.DecisionCertify, "", "ana@acme.test is a member (owner)")

	closed, err := e.svc.Close(ctx, approver, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ch.got) != 1 {
		t.Fatalf("change requests = %d, want 1 for the campaign", len(e.ch.got))
	}
	req := e.ch.got[0]
	var steps []string
	for _, st := range req.Steps {
		steps = append(steps, fmt.Sprintf("%d %s", st.Index, st.Describe()))
	}
	if want := []string{"0 remove member dee@acme.test from team web", "1 remove member eve@acme.test"}; !slices.Equal(steps, want) {
		t.Errorf("steps = %q, want %q", steps, want)
	}
	if req.Source != review.SourceAccessReview {
		t.Errorf("source = %q", req.Source)
	}
	if closed.State != review.StateClosed || closed.ChangeRequestID != "41" || closed.ClosedAt == nil {
		t.Errorf("closed campaign = %+v", closed)
	}
	if _, err := e.svc.Decide(ctx, admin, c.ID, review.DecisionInput{ItemIDs: []string{"1"}, Decision: review.DecisionCertify}); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("decide after close: %v, want ECONFLICT", err)
	}
	if _, err := e.svc.Close(ctx, approver, c.ID); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("close twice: %v, want ECONFLICT", err)
	}
}

func TestAFailedChangeRequestKeepsTheCampaignOpen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, _ := create(t, e, review.ScopePrivileged)
	if _, err := e.svc.Decide(ctx, admin, c.ID, review.DecisionInput{ItemIDs: []string{"1"}, Decision: review.DecisionRevoke, Comment: "demote"}); err != nil {
		t.Fatal(err)
	}
	e.ch.err = sentryaccess.Errorf(sentryaccess.EINVALID, "would leave no owner")
	if _, err := e.svc.Close(ctx, approver, c.ID); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Fatalf("close: %v, want the change request's error", err)
	}
	got, _, _ := e.svc.Get(ctx, c.ID)
	if got.State != review.StateOpen {
		t.Errorf("state = %s, want open", got.State)
	}
	if _, err := e.svc.EvidenceZip(ctx, c.ID); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("evidence of an open campaign: %v, want ECONFLICT", err)
	}
}

func TestEvidencePackageMatchesTheGoldenFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, items := create(t, e, review.TeamScope("payments"))
	*e.clock = t0.Add(2 * time.Hour)
	if _, err := e.svc.Decide(ctx, teamLead, c.ID, review.DecisionInput{ItemIDs: []string{items[1].ID}, Decision: review.DecisionRevoke, Comment: "moved to web"}); err != nil {
		t.Fatal(err)
	}
	*e.clock = t0.Add(3 * time.Hour)
	if _, err := e.svc.Close(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	zipped, err := e.svc.EvidenceZip(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sums := map[string]string{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("%s modified %s, want the close time", f.Name, f.Modified)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		_ = rc.Close()
		base := strings.TrimPrefix(f.Name, "access-review-1/")
		golden(t, "evidence-"+base, b)
		h := sha256.Sum256(b)
		sums[base] = hex.EncodeToString(h[:])
	}
	want := []string{"access-review-1/items.csv", "access-review-1/items.json", "access-review-1/report.html", "access-review-1/manifest.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("zip entries = %q, want %q", names, want)
	}
	// The manifest lists the sums of the other files.
	f, _ := zr.Open("access-review-1/manifest.txt")
	manifest, _ := io.ReadAll(f)
	for _, n := range []string{"items.csv", "items.json", "report.html"} {
		if !strings.Contains(string(manifest), sums[n]+"  "+n+"\n") {
			t.Errorf("manifest lacks %s's sum %s:\n%s", n, sums[n], manifest)
		}
	}
	// The same campaign always zips to the same bytes.
	c2, items2, _ := e.svc.Get(ctx, c.ID)
	again, err := review.Evidence(c2, items2)
	if err != nil || !bytes.Equal(again, zipped) {
		t.Errorf("rebuilding the evidence gave different bytes (%v)", err)
	}
}

// A campaign's detail says what each signed-in user may do: approvers and
// admins close an open campaign and download a closed one's evidence,
// nobody else; "mine" lists only the open items the user may decide on.
func TestTheDetailSaysWhoClosesDownloadsAndReviewsWhat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, items := create(t, e, review.ScopeOrg)
	for _, tt := range []struct {
		name          string
		actor         sentryaccess.Actor
		close, reads  bool
		wantReviewing int
	}{
		{"an approver closes an open campaign", approver, true, false, len(review.Reviewable(approver, c, items))},
		{"an admin closes an open campaign", admin, true, false, len(review.Reviewable(admin, c, items))},
		{"a viewer does not close it", viewer, false, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.svc.Detail(ctx, tt.actor, c.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if d.CanClose != tt.close || d.CanDownload != tt.reads {
				t.Errorf("CanClose %v, CanDownload %v; want %v, %v", d.CanClose, d.CanDownload, tt.close, tt.reads)
			}
			if len(d.Items) != len(items) || d.Reviewable != tt.wantReviewing {
				t.Errorf("%d items, %d reviewable; want %d, %d", len(d.Items), d.Reviewable, len(items), tt.wantReviewing)
			}
			mine, err := e.svc.Detail(ctx, tt.actor, c.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(mine.Items) != tt.wantReviewing {
				t.Errorf("mine lists %d items, want the %d she may decide on", len(mine.Items), tt.wantReviewing)
			}
			for _, it := range mine.Items {
				if !it.CanReview || it.Item.Decision != review.DecisionNone {
					t.Errorf("mine lists %s (may review %v, decision %q)", it.Item.Describe(), it.CanReview, it.Item.Decision)
				}
			}
		})
	}
	if _, err := e.svc.Close(ctx, approver, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		actor sentryaccess.Actor
		want  bool
	}{
		{"an approver downloads a closed campaign's evidence", approver, true},
		{"a viewer does not", viewer, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.svc.Detail(ctx, tt.actor, c.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if d.CanClose || d.CanDownload != tt.want {
				t.Errorf("closed: CanClose %v, CanDownload %v; want false, %v", d.CanClose, d.CanDownload, tt.want)
			}
		})
	}
}

// Closing a campaign records the changes made outside sentry-access that
// its Outside source gives for the close time, in the campaign of
// items.json and in a section of the printable report.
func TestClosingRecordsTheChangesMadeOutsideSentryAccess(t *testing.T) {
	t.Parallel()
	s, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	closeAt := t0.Add(time.Hour)
	var asked time.Time
	outside := []review.OutsideChange{{ID: "8-1", Snapshot: 8, DetectedAt: t0, Change: "wendy@acme.test joined team web",
		Member: "wendy@acme.test", Verdict: "made outside sentry-access", Audit: "member.join-team by Owen <owen@acme.test> at 2026-01-05 09:00 UTC from 203.0.113.7",
		State: "accepted", Answer: "accepted by bo@acme.test at 2026-01-05 09:30 UTC: on-call cover (INC-42)"}}
	svc := review.New(review.Config{Repo: review.NewStoreRepo(s), Snapshots: snaps{acme()}, Changes: &fakeChanges{},
		Now: func() time.Time { return closeAt },
		Outside: func(_ context.Context, at time.Time) ([]review.OutsideChange, error) {
			asked = at
			return outside, nil
		}})
	ctx := context.Background()
	c, err := svc.Create(ctx, approver, review.NewCampaign{Name: "Q1 2026", Scope: review.TeamScope("payments"), Due: t0.Add(14 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := svc.Close(ctx, approver, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !asked.Equal(closeAt) || len(closed.OutsideChanges) != 1 {
		t.Fatalf("asked for %s, recorded %+v; want the close time and the change", asked, closed.OutsideChanges)
	}
	_, items, err := svc.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	files, err := review.EvidenceFiles(closed, items)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]string{}
	for _, f := range files {
		body[f.Name] = string(f.Body)
	}
	for _, want := range []string{`"outsideChanges"`, `"change": "wendy@acme.test joined team web"`, `"audit": "member.join-team by Owen`, `on-call cover (INC-42)`} {
		if !strings.Contains(body[review.EvidenceJSON], want) {
			t.Errorf("items.json lacks %s", want)
		}
	}
	for _, want := range []string{"Changes made outside sentry-access", "wendy@acme.test joined team web", "from 203.0.113.7", "on-call cover (INC-42)"} {
		if !strings.Contains(body[review.EvidenceHTML], want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// countingSnaps counts the snapshots it decodes and says the current id.
type countingSnaps struct {
	id    uint64
	snap  *access.Snapshot
	reads int
}

func (s *countingSnaps) CurrentSnapshot(context.Context) (uint64, *access.Snapshot, error) {
	s.reads++
	return s.id, s.snap.Clone(), nil
}

func (s *countingSnaps) CurrentSnapshotID(context.Context) (uint64, error) { return s.id, nil }

// The scope picker's teams are read once per snapshot: a new snapshot
// (a new id) is read again, with its own teams.
func TestTeamsAreReadOncePerSnapshot(t *testing.T) {
	t.Parallel()
	src := &countingSnaps{id: 7, snap: &access.Snapshot{Teams: []access.Team{{Slug: "web"}, {Slug: "payments"}}}}
	st, err := store.Open(filepath.Join(t.TempDir(), "sa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := review.New(review.Config{Repo: review.NewStoreRepo(st), Snapshots: src})
	for range 3 {
		got, err := svc.Teams(t.Context())
		if err != nil || !slices.Equal(got, []string{"payments", "web"}) {
			t.Fatalf("Teams = %v, %v; want payments, web", got, err)
		}
	}
	if src.reads != 1 {
		t.Errorf("three views read the snapshot %d times, want once", src.reads)
	}
	src.id, src.snap = 8, &access.Snapshot{Teams: []access.Team{{Slug: "ops"}}}
	if got, err := svc.Teams(t.Context()); err != nil || !slices.Equal(got, []string{"ops"}) || src.reads != 2 {
		t.Errorf("after a new snapshot: Teams = %v, %v after %d reads; want ops, read again", got, err, src.reads)
	}
}
