package changes

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// engineHarness is a Service over fakes that previews with the access
// engine, on a snapshot tests may change; known are the approvers the
// dashboard knows of.
type engineHarness struct {
	*harness
	snap  *access.Snapshot
	known []KnownApprover
}

func (h *engineHarness) KnownApprovers(context.Context) ([]KnownApprover, error) { return h.known, nil }

func newEngineHarness(t *testing.T, mutate func(*access.Snapshot)) *engineHarness {
	t.Helper()
	h := &engineHarness{harness: newHarness(t), snap: demoSnapshot()}
	if mutate != nil {
		mutate(h.snap)
	}
	h.svc = New(Config{Repo: h.repo, Snapshots: fakeSnapshots{h.snap}, Previewer: EnginePreviewer{},
		Executor: h.sentry, Now: h.clock.Now, Approvers: h, Background: h.hold,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	return h
}

// Separation of duties over every path: nobody decides on a request whose
// preview shows their own effective access changing, whatever step or
// combination of steps changes it. ana (member 2) is on payments; bob
// (member 3) is on no team; the token is the owner's.
func TestNobodyDecidesOnAChangeToTheirOwnAccess(t *testing.T) {
	t.Parallel()
	ana := approver // ana@acme.test, member 2, on payments
	tests := []struct {
		name   string
		by     sentryaccess.Actor
		in     NewRequest
		mutate func(*access.Snapshot)
		bp     string // a blueprint to file instead of in
	}{
		{name: "a team link: ana's team gets a project", by: second, in: NewRequest{Justification: "test", Steps: []Step{
			{Kind: KindProjectLink, Params: Params{Team: "payments", Project: "auth-service"}}}}},
		{name: "a new team with members, linked to a project", by: second, in: NewRequest{Justification: "test", Steps: []Step{
			{Kind: KindTeamCreate, Params: Params{Team: "sre"}},
			{Kind: KindTeamAdd, Params: Params{Team: "sre", Member: "2"}},
			{Kind: KindProjectLink, Params: Params{Team: "sre", Project: "auth-service"}}}}},
		{name: "a team role: ana's role on payments", by: second, in: NewRequest{Justification: "test", Steps: []Step{
			{Kind: KindTeamRole, Params: Params{Team: "payments", Member: "2", Role: "admin"}}}}},
		{name: "an org role: ana becomes manager", by: owner, in: NewRequest{Justification: "test", Steps: []Step{
			{Kind: KindOrgRole, Params: Params{Member: "2", Role: "manager"}}}}},
		{name: "a blueprint linking ana's team", by: second,
			bp: "version: 1\nname: auth for payments\nteams:\n  - slug: payments\n    projects: [payment-api, auth-service]\n"},
		{name: "SCIM group membership naming ana by member id", by: second, in: NewRequest{Justification: "test", Steps: []Step{
			{Kind: KindSCIMGroupMembers, Params: Params{TeamID: "11", Add: []string{"2"}}}}}},
		{name: "a review revocation: ana's team loses a project", by: second, in: NewRequest{Justification: "test", Source: "access-review", Steps: []Step{
			{Kind: KindProjectUnlink, Params: Params{Team: "payments", Project: "payment-api"}}}}},
		{name: "a team the token's owner creates: the owner joins it", by: second,
			mutate: func(s *access.Snapshot) {
				s.Caller.MemberID, s.Caller.Email = "2", "ana@acme.test"
				s.Members[1].OrgRole = "owner"
			},
			in: NewRequest{Justification: "test", Steps: []Step{{Kind: KindTeamCreate, Params: Params{Team: "sre"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newEngineHarness(t, tt.mutate)
			h.known = []KnownApprover{{Email: ana.Email, Role: ana.Role}, {Email: tt.by.Email, Role: tt.by.Role}}
			var r *Request
			var err error
			if tt.bp != "" {
				bp, perr := ParseBlueprint([]byte(tt.bp))
				if perr != nil {
					t.Fatal(perr)
				}
				r, err = h.svc.CreateFromBlueprint(ctx, tt.by, bp, "because")
			} else {
				tt.in.Justification = "because"
				r, err = h.svc.Create(ctx, tt.by, tt.in)
			}
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			// The stored preview itself shows her access changing (the
			// rule does not rest on the steps naming her).
			if how, ok := r.Preview.Affects(ana.Email); !ok {
				t.Errorf("the preview does not show ana affected: %+v", r.Preview.Affected)
			} else if how == "" {
				t.Errorf("the preview shows ana affected without saying how")
			}
			for name, decide := range map[string]func() (*Request, error){
				"approve": func() (*Request, error) { return h.svc.Approve(ctx, ana, r.ID, "ok") },
				"deny":    func() (*Request, error) { return h.svc.Deny(ctx, ana, r.ID, "no") },
			} {
				if _, err := decide(); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN || !strings.Contains(sentryaccess.ErrorMessage(err), "own access") {
					t.Errorf("ana may %s: err = %v, want EFORBIDDEN about her own access", name, err)
				}
			}
			d, err := h.svc.Detail(ctx, ana, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.CanDecide || !strings.Contains(d.DecideReason, "ana@acme.test") {
				t.Errorf("request page for ana: may decide %v, reason %q; want refused naming her", d.CanDecide, d.DecideReason)
			}
			// The requester may not approve either, and the dashboard
			// knows nobody else: the request says it is stuck.
			if !d.Eligibility.Stuck || len(d.Eligibility.Eligible) != 0 || len(d.Eligibility.Excluded) != 2 {
				t.Errorf("eligibility = %+v, want stuck with both known approvers excluded", d.Eligibility)
			}
		})
	}
}

// The rule is about access, not names: an approver the request does not
// touch may decide it.
func TestAnApproverTheRequestDoesNotTouchMayDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newEngineHarness(t, nil)
	r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "because", Steps: []Step{
		{Kind: KindProjectLink, Params: Params{Team: "identity", Project: "payment-api"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = h.svc.Approve(ctx, approver, r.ID, "ok"); err != nil || r.State != StateApproved {
		t.Fatalf("ana approves a link of identity (not her team): %v, state %s", err, r.State)
	}
}

// A request no remaining known approver can approve says so, with who
// could; one that someone can approve names them.
func TestARequestSaysWhoCouldStillApproveIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newEngineHarness(t, nil)
	h.known = []KnownApprover{{Email: approver.Email, Role: approver.Role}, {Email: second.Email, Role: second.Role},
		{Email: "vic@acme.test", Role: sentryaccess.RoleViewer}}
	// ana's team gains auth-service: bob may approve, ana may not.
	r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "because", Steps: []Step{
		{Kind: KindProjectLink, Params: Params{Team: "payments", Project: "auth-service"}}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.svc.Detail(ctx, owner, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	e := d.Eligibility
	if e.Stuck || len(e.Eligible) != 1 || e.Eligible[0].Email != "bob@acme.test" || !strings.Contains(e.Summary(), "bob@acme.test") {
		t.Errorf("eligibility = %+v (%q), want bob alone", e, e.Summary())
	}
	// An org-role change of bob needs two approvals: only ana remains.
	r2, err := h.svc.Create(ctx, owner, NewRequest{Justification: "because", Steps: []Step{
		{Kind: KindOrgRole, Params: Params{Member: "3", Role: "manager"}}}})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := h.svc.Detail(ctx, owner, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e := d2.Eligibility; !e.Stuck || e.Needed != 2 || len(e.Eligible) != 1 || !strings.Contains(e.Summary(), "Only ana@acme.test") {
		t.Errorf("eligibility = %+v (%q), want stuck with only ana", e, e.Summary())
	}
	in, err := h.svc.Inbox(ctx, owner, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := in.Stuck[r2.ID]; !ok || len(in.Stuck) != 1 {
		t.Errorf("inbox stuck = %+v, want request %s alone", in.Stuck, r2.ID)
	}
}

// The rule holds on the organization as it is now, not only as it was
// when the request was filed: bob is on no team when the owner asks to
// link identity to payment-api, then joins identity; the link would now
// give him payment-api, so he may neither approve nor deny it.
func TestAnApproverWhoseAccessTheRequestChangesNowMayNotDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newEngineHarness(t, nil)
	r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "because", Steps: []Step{
		{Kind: KindProjectLink, Params: Params{Team: "identity", Project: "payment-api"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Preview.Affects(second.Email); ok {
		t.Fatalf("at filing the link already affects bob: %+v", r.Preview.Affected)
	}
	h.snap.Members[2].Teams = []access.Membership{{Team: "identity"}} // bob joins identity
	if _, err := h.svc.Approve(ctx, second, r.ID, "ok"); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN || !strings.Contains(sentryaccess.ErrorMessage(err), "gains payment-api") {
		t.Errorf("bob approves after joining identity: %v, want EFORBIDDEN saying he gains payment-api", err)
	}
	if _, err := h.svc.Deny(ctx, second, r.ID, "no"); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Errorf("bob denies after joining identity: %v, want EFORBIDDEN", err)
	}
	if _, err := h.svc.Approve(ctx, approver, r.ID, "ok"); err != nil {
		t.Errorf("ana, untouched, approves: %v", err)
	}
}

// Caller-dependent rules are Sentry's checks of the token's owner, never
// of the person who files the request. The token is the owner's: bob's
// request to change the owner's org role is refused (Sentry would answer
// "You cannot make changes to your own role."), and the owner's own
// request to change bob's role, or bob's request to change his own, is
// not refused as one's own role.
func TestCallerRulesAreCheckedAgainstTheTokensOwnerNotTheRequester(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newEngineHarness(t, nil)
	ownRole := func(p *Preview) bool {
		return p != nil && slices.ContainsFunc(p.Violations, func(v Violation) bool { return v.Code == string(access.RuleOwnRole) })
	}
	_, err := h.svc.Create(ctx, second, NewRequest{Justification: "because", Steps: []Step{
		{Kind: KindOrgRole, Params: Params{Member: "1", Role: "manager"}}}})
	if sentryaccess.ErrorCode(err) != sentryaccess.EINVALID || !strings.Contains(sentryaccess.ErrorMessage(err), "owner@acme.test") {
		t.Errorf("bob asks to change the token owner's role: %v, want refused naming the token's owner", err)
	}
	for _, by := range []sentryaccess.Actor{owner, second} {
		r, err := h.svc.Create(ctx, by, NewRequest{Justification: "because", Steps: []Step{
			{Kind: KindOrgRole, Params: Params{Member: "3", Role: "manager"}}}})
		if err != nil || ownRole(r.Preview) {
			t.Errorf("%s asks to make bob a manager: %v, preview %+v; want filed (the token's owner changes bob's role)", by.Email, err, r)
			continue
		}
		if !strings.Contains(r.Preview.ActingAs, "owner@acme.test") {
			t.Errorf("%s's request: acting as %q, want the token's owner", by.Email, r.Preview.ActingAs)
		}
	}
}
