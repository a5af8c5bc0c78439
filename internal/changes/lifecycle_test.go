package changes

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Team slugs follow Sentry's TeamPostSerializer: MIXED_SLUG_PATTERN
// (src/sentry/slug/patterns.py) and at most DEFAULT_SLUG_MAX_LENGTH (50)
// characters; names at most 64.
func TestNewTeamSlugsAreValidatedAsSentryValidatesThem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		slug, name string
		ok         bool
		says       string
	}{
		{"contractors-q1", "Contractors Q1", true, ""},
		{"team_2", "", true, ""},
		{"Contractors", "", false, `Try "contractors"`},
		{"mobile team", "", false, `Try "mobile-team"`},
		{"2026", "", false, "all digits"},
		{strings.Repeat("a", 51), "", false, "at most 50"},
		{strings.Repeat("a", 50), "", true, ""},
		{"ok", strings.Repeat("n", 65), false, "at most 64"},
		{"", "", false, "needs a slug"},
	}
	for _, tt := range tests {
		err := Step{Kind: KindTeamCreate, Params: Params{Team: tt.slug, Name: tt.name}}.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("slug %q name %q: Validate() = %v, want ok %v", tt.slug, tt.name, err, tt.ok)
			continue
		}
		if err != nil && (sentryaccess.ErrorCode(err) != sentryaccess.EINVALID || !strings.Contains(sentryaccess.ErrorMessage(err), tt.says)) {
			t.Errorf("slug %q: error %q, want EINVALID saying %q", tt.slug, sentryaccess.ErrorMessage(err), tt.says)
		}
	}
}

// Revoking a grant early is a change request of the grant's revert steps
// that the approver approves as she files it, with her justification; the
// grant ends revoked, not expired.
func TestRevokeNowIsAnApprovedChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	expires := h.clock.Now().Add(14 * 24 * time.Hour)
	r := h.approved(t, NewRequest{Justification: "test", Steps: []Step{addStep("3", "payments")}, ExpiresAt: &expires, Title: "bob on payments"})
	if _, err := h.svc.Apply(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Revoke(ctx, viewer, r.ID, "done"); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Errorf("a viewer revoking: %v, want EFORBIDDEN", err)
	}
	if _, err := h.svc.Revoke(ctx, approver, r.ID, " "); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("revoking without a justification: %v, want EINVALID", err)
	}
	rev, err := h.svc.Revoke(ctx, approver, r.ID, "the contract ended early")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Source != SourceRevoke || rev.State != StateApproved || rev.Requester != approver.Email ||
		len(rev.Approvals) != 1 || rev.Approvals[0].Actor != approver.Email || rev.Approvals[0].Comment != "the contract ended early" {
		t.Fatalf("revoke request = %+v, want one approved by %s with her justification", rev, approver.Email)
	}
	h.runHeld()
	if _, ok := h.sentry.facts["member:3@team:payments"]; ok {
		t.Error("bob is still on payments after the revocation was applied")
	}
	gs, _ := h.svc.Grants(ctx, GrantFilter{})
	if len(gs) != 1 || gs[0].State != GrantRevoked || gs[0].RevokeRequestID != rev.ID {
		t.Fatalf("grants = %+v, want one revoked by request %s", gs, rev.ID)
	}
	trail, _ := h.svc.Trail(ctx, TrailFilter{})
	approved := false
	for _, rec := range trail {
		approved = approved || (rec.Kind == TrailRequestApproved && rec.Actor == approver.Email && rec.GrantID == r.ID)
	}
	if !approved {
		t.Error("the trail does not record the approver's approval of the revocation")
	}
	if _, err := h.svc.Revoke(ctx, approver, r.ID, "again"); sentryaccess.ErrorCode(err) != sentryaccess.ECONFLICT {
		t.Errorf("revoking twice: %v, want ECONFLICT", err)
	}
	// A later tick leaves the closed grant alone.
	if err := (&Scheduler{Service: h.svc}).Tick(ctx, expires.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if gs, _ := h.svc.Grants(ctx, GrantFilter{}); gs[0].State != GrantRevoked {
		t.Errorf("after the expiry the grant is %s, want it to stay revoked", gs[0].State)
	}
}

// When an expiry removes a member from the only team she was on, the
// request pages say so and offer her removal from the organization.
func TestAnExpiryThatLeavesAMemberOnNoTeamSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	expires := h.clock.Now().Add(24 * time.Hour)
	// bob (3) is on no team before the grant.
	r := h.approved(t, NewRequest{Justification: "test", Steps: []Step{addStep("3", "identity")}, ExpiresAt: &expires})
	if _, err := h.svc.Apply(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(expires)
	if err := (&Scheduler{Service: h.svc}).Tick(ctx, expires); err != nil {
		t.Fatal(err)
	}
	d, err := h.svc.Detail(ctx, owner, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.LeftOnNoTeam) != 1 || d.LeftOnNoTeam[0].Email != "bob@acme.test" {
		t.Fatalf("left on no team = %+v, want bob", d.LeftOnNoTeam)
	}
	rev, err := h.svc.Detail(ctx, owner, d.Grant.RevokeRequestID)
	if err != nil || len(rev.LeftOnNoTeam) != 1 {
		t.Errorf("the revocation's own page: left on no team = %+v, %v", rev.LeftOnNoTeam, err)
	}
}

// Invites and approved Sentry access requests can be time-bound; the
// preview says up front which steps cannot, and Create refuses them with
// the same sentence.
func TestAKindThatCannotBeTimeBoundIsSaidUpFront(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	d, err := h.svc.PreviewDraft(ctx, owner, []Step{addStep("3", "payments"), {Kind: KindMemberRemove, Params: Params{Member: "4"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Untimed) != 1 || !strings.Contains(d.Untimed[0], "vic@acme.test") || !strings.Contains(d.Untimed[0], "cannot be time-bound") {
		t.Fatalf("untimed = %q, want one sentence about removing vic@acme.test", d.Untimed)
	}
	expires := h.clock.Now().Add(time.Hour)
	_, err = h.svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: []Step{{Kind: KindMemberRemove, Params: Params{Member: "4"}}}, ExpiresAt: &expires})
	if sentryaccess.ErrorCode(err) != sentryaccess.EINVALID || sentryaccess.ErrorMessage(err) != d.Untimed[0] {
		t.Errorf("Create = %v, want EINVALID %q", err, d.Untimed[0])
	}
	for _, st := range []Step{
		{Kind: KindMemberInvite, Params: Params{Email: "new@acme.test", Role: "member"}},
		{Kind: KindAccessRequestApprove, Params: Params{AccessRequest: "7", Member: "3", Team: "payments"}},
		{Kind: KindEndDate, Params: Params{Member: "2", Team: "payments"}},
	} {
		if msg := UntimedReason(demoSnapshot(), st); msg != "" {
			t.Errorf("%s: %q, want it time-boundable", st.Describe(), msg)
		}
	}
	// An end date without an expiry ends nothing.
	if _, err := h.svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: []Step{{Kind: KindEndDate, Params: Params{Member: "2", Team: "payments"}}}}); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("an end date without an expiry: %v, want EINVALID", err)
	}
}

// A time-bound invite is taken back at its expiry: the member the invite
// made is removed, which cancels the invite if it is still pending (both
// are DELETE of the member in Sentry).
func TestATimeBoundInviteIsCancelledAtItsExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSimWorld(t)
	svc := simService(w, newMemRepo())
	expires := w.Now().Add(7 * 24 * time.Hour)
	r, err := svc.Create(ctx, owner, NewRequest{Steps: []Step{{Kind: KindMemberInvite, Params: Params{Email: "temp.contractor@acme.test", Role: "member"}}},
		ExpiresAt: &expires, Justification: "audit week"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, approver, r.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if r, err = svc.Apply(ctx, r.ID); err != nil || r.State != StateApplied {
		t.Fatalf("apply: %v, %+v", err, r)
	}
	id := w.memberID(t, "temp.contractor@acme.test")
	gs, _ := svc.Grants(ctx, GrantFilter{})
	if len(gs) != 1 || len(gs[0].Revert) != 1 || gs[0].Revert[0].Kind != KindMemberRemove || gs[0].Revert[0].Params.Member != id {
		t.Fatalf("grant = %+v, want its revert to remove member %s", gs, id)
	}
	w.Sleep(ctx, 8*24*time.Hour)
	if err := (&Scheduler{Service: svc}).Tick(ctx, w.Now()); err != nil {
		t.Fatal(err)
	}
	if ms, err := w.client.ListMembers(ctx, sentry.MemberQuery{Email: "temp.contractor@acme.test"}); err != nil || len(ms) != 0 {
		t.Errorf("after the expiry: %d members with that email (%v), want the invite cancelled", len(ms), err)
	}
	if gs, _ := svc.Grants(ctx, GrantFilter{}); gs[0].State != GrantExpired {
		t.Errorf("grant %s, want expired", gs[0].State)
	}
}

// Approving one of Sentry's access requests with an end date adds the
// member to the team until then.
func TestAnApprovedAccessRequestWithAnEndDateLeavesTheTeamAtExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSimWorld(t)
	svc := New(Config{Repo: newMemRepo(), Snapshots: fakeSnapshots{demoSnapshot()}, Previewer: fakePreviewer{},
		Executor: SentryExecutor{API: w.client}, Now: w.Now, Sleep: w.Sleep, AccessRequests: w.client, Background: applyExplicitly})
	ars, err := w.client.AccessRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dana sentry.AccessRequest
	for _, ar := range ars {
		if ar.Member.Email == "dana.doyle@acme.test" {
			dana = ar
		}
	}
	expires := w.Now().Add(24 * time.Hour)
	r, err := svc.RequestAccessDecision(ctx, approver, dana.ID, true, &expires)
	if err != nil {
		t.Fatal(err)
	}
	if r.ExpiresAt == nil || !r.ExpiresAt.Equal(expires) {
		t.Fatalf("request expires %v, want %s", r.ExpiresAt, expires)
	}
	if _, err := svc.Approve(ctx, second, r.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if r, err = svc.Apply(ctx, r.ID); err != nil || r.State != StateApplied {
		t.Fatalf("apply: %v %+v", err, r)
	}
	onTeam := func() bool {
		ms, err := w.client.ListTeamMembers(ctx, dana.Team.Slug)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.ID == dana.Member.ID {
				return true
			}
		}
		return false
	}
	if !onTeam() {
		t.Fatal("dana is not on the team after the approval")
	}
	w.Sleep(ctx, 25*time.Hour)
	if err := (&Scheduler{Service: svc}).Tick(ctx, w.Now()); err != nil {
		t.Fatal(err)
	}
	if onTeam() {
		t.Error("dana is still on the team after the end date")
	}
}

// Every refusal an approver reads names the member by email and says the
// fix: no rule id, no step kind id, no Go error, no member id where the
// email is known.
func TestEveryRefusalNamesTheMemberAndTheFix(t *testing.T) {
	t.Parallel()
	snap := demoSnapshot()
	snap.OrgRoles = access.DefaultOrgRoles()
	snap.Members = append(snap.Members,
		access.Member{ID: "1010", Email: "sam.scim@acme.test", OrgRole: "member", State: access.StateActive,
			Flags: access.MemberFlags{IDPProvisioned: true, IDPRoleRestricted: true}, Teams: []access.Membership{{Team: "scim-team"}}})
	snap.Teams = append(snap.Teams, access.Team{ID: "12", Slug: "scim-team", IDPProvisioned: true})
	forbidden := regexp.MustCompile(`\b(retired-role|no-team-roles|last-owner|idp-provisioned|own-role|unknown member|unknown team|unknown project|unknown role|invalid change|has no inverse|targets member|team-add|team-remove|team-role|org-role|member-remove|member-invite|project-link|end-date|unknown step kind|dial tcp|connection refused|EOF|context deadline exceeded|sentry: )\b|\b(1010|999)\b|%!|<nil>`)
	tests := []struct {
		name  string
		steps []Step
		email string
	}{
		{"own org role", []Step{{Kind: KindOrgRole, Params: Params{Member: "1", Role: "manager"}}}, "owner@acme.test"},
		{"retired admin", []Step{{Kind: KindOrgRole, Params: Params{Member: "2", Role: "admin"}}}, "ana@acme.test"},
		{"billing on a team", []Step{{Kind: KindOrgRole, Params: Params{Member: "2", Role: "billing"}}}, "ana@acme.test"},
		{"last owner", []Step{{Kind: KindMemberRemove, Params: Params{Member: "1"}}}, "owner@acme.test"},
		{"SCIM team", []Step{addStep("3", "scim-team")}, "bob@acme.test"},
		{"SCIM team, leaving", []Step{{Kind: KindTeamRemove, Params: Params{Member: "1010", Team: "scim-team"}}}, "sam.scim@acme.test"},
		{"SCIM member removed", []Step{{Kind: KindMemberRemove, Params: Params{Member: "1010"}}}, "sam.scim@acme.test"},
		{"unknown team", []Step{addStep("3", "nope")}, ""},
		{"unknown project", []Step{{Kind: KindProjectLink, Params: Params{Team: "payments", Project: "nope"}}}, ""},
		{"unknown member", []Step{addStep("999", "payments")}, ""},
		{"unknown org role", []Step{{Kind: KindOrgRole, Params: Params{Member: "3", Role: "boss"}}}, "bob@acme.test"},
		{"team role off the team", []Step{{Kind: KindTeamRole, Params: Params{Member: "3", Team: "payments", Role: "admin"}}}, "bob@acme.test"},
		{"existing team created", []Step{{Kind: KindTeamCreate, Params: Params{Team: "payments"}}}, ""},
		{"end date on nothing", []Step{{Kind: KindEndDate, Params: Params{Member: "3", Team: "payments"}}}, "bob@acme.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps := append([]Step(nil), tt.steps...)
			for i := range steps {
				steps[i].Index = i
			}
			fillMemberEmails(snap, steps)
			p, err := EnginePreviewer{}.Preview(snap, steps)
			if err != nil {
				t.Fatal(err)
			}
			b := p.Blocking()
			if len(b) == 0 {
				t.Fatal("no blocking violation")
			}
			for _, v := range b {
				if m := forbidden.FindString(v.Message); m != "" {
					t.Errorf("message %q shows %q", v.Message, m)
				}
				if tt.email != "" && !strings.Contains(v.Message, tt.email) {
					t.Errorf("message %q does not name %s", v.Message, tt.email)
				}
			}
		})
	}
	// An IdP-role-restricted member's org role depends on the Sentry
	// version: a warning, in words, not a refusal.
	scimRole := []Step{{Index: 0, Kind: KindOrgRole, Params: Params{Member: "1010", Role: "manager"}}}
	fillMemberEmails(snap, scimRole)
	p, err := EnginePreviewer{}.Preview(snap, scimRole)
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Warnings(); len(p.Blocking()) != 0 || len(w) != 1 || !strings.Contains(w[0].Message, "sam.scim@acme.test") || forbidden.MatchString(w[0].Message) {
		t.Errorf("SCIM org role: blocking %+v, warnings %+v; want one warning in words naming the member", p.Blocking(), w)
	}
	// The refusals of Create and Validate too.
	msgs := []string{UntimedReason(snap, Step{Index: 0, Kind: KindMemberRemove, Params: Params{Member: "4", Email: "vic@acme.test"}})}
	for _, k := range Kinds() {
		msgs = append(msgs, sentryaccess.ErrorMessage(Step{Kind: k}.Validate()))
	}
	msgs = append(msgs, sentryaccess.ErrorMessage(DefaultPolicy().CanRequest(viewer, "4", []Step{{Kind: KindTeamAdd, Params: Params{Member: "3", Email: "bob@acme.test", Team: "a"}}})))
	msgs = append(msgs, sentryaccess.ErrorMessage(DefaultPolicy().CanRequest(viewer, "4", []Step{{Kind: KindOrgRole, Params: Params{Member: "4"}}})))
	// What the request page says of a step Sentry never answered: no Go
	// error text.
	for _, err := range []error{
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		io.ErrUnexpectedEOF,
		errors.New("encode body: json: unsupported value"),
	} {
		_, msg, _ := classify(err)
		msgs = append(msgs, msg)
	}
	_, err = SentryExecutor{}.Execute(t.Context(), Step{Kind: "retired-kind"})
	_, msg, _ := classify(err)
	msgs = append(msgs, msg)
	// A blueprint naming what the organization does not have.
	for _, doc := range []string{
		"version: 1\nname: n\nteams:\n  - slug: payments\n    projects: [nope]\n",
		"version: 1\nname: n\nteams:\n  - slug: payments\n    members:\n      - email: ghost@acme.test\n",
	} {
		bp, err := ParseBlueprint([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Plan(snap, bp)
		msgs = append(msgs, sentryaccess.ErrorMessage(err))
	}
	for _, m := range msgs {
		if f := forbidden.FindString(m); f != "" || m == "" {
			t.Errorf("message %q shows %q", m, f)
		}
	}
}
