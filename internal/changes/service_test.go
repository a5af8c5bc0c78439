package changes

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func addStep(member, team string) Step {
	return Step{Kind: KindTeamAdd, Params: Params{Member: member, Team: team}}
}

func TestPolicyRequiredApprovals(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	tests := []struct {
		name  string
		steps []Step
		want  int
		pv    *Preview
	}{
		{"a team add needs one approver", []Step{addStep("3", "payments")}, 1, nil},
		{"an org-role change needs two", []Step{{Kind: KindOrgRole, Params: Params{Member: "3", Role: "manager"}}}, 2, nil},
		{"a member removal needs two", []Step{{Kind: KindMemberRemove, Params: Params{Member: "3"}}}, 2, nil},
		{"one sensitive step makes the whole request need two", []Step{addStep("3", "payments"), {Kind: KindMemberRemove, Params: Params{Member: "4"}}}, 2, nil},
		{"deleting a team needs two", []Step{{Kind: KindTeamDelete, Params: Params{Team: "payments"}}}, 2, nil},
		{"a link that grants up to the limit needs one", []Step{{Kind: KindProjectLink, Params: Params{Team: "payments", Project: "auth-service"}}}, 1, grants(DefaultSensitiveGrants, 0)},
		{"a link that grants more than the limit needs two", []Step{{Kind: KindProjectLink, Params: Params{Team: "payments", Project: "auth-service"}}}, 2, grants(DefaultSensitiveGrants+1, 0)},
		{"an unlink that removes more than the limit needs two", []Step{{Kind: KindProjectUnlink, Params: Params{Team: "payments", Project: "payment-api"}}}, 2, grants(0, DefaultSensitiveGrants+1)},
		{"grants added and removed count together", []Step{addStep("3", "payments")}, 2, grants(DefaultSensitiveGrants/2+1, DefaultSensitiveGrants/2)},
		{"scope changes are not grants", []Step{addStep("3", "payments")}, 1, scopeChanges(DefaultSensitiveGrants + 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.Required(tt.steps, tt.pv); got != tt.want {
				t.Errorf("Required = %d, want %d", got, tt.want)
			}
		})
	}
}

// grants is a preview adding and removing that many member×project grants.
func grants(added, removed int) *Preview {
	p := &Preview{}
	for i := range added {
		p.Deltas = append(p.Deltas, AccessDelta{Member: fmt.Sprint(i), Project: "a", GainsAccess: true})
	}
	for i := range removed {
		p.Deltas = append(p.Deltas, AccessDelta{Member: fmt.Sprint(i), Project: "b", LosesAccess: true})
	}
	return p
}

// scopeChanges is a preview changing n members' scopes on a project they
// keep.
func scopeChanges(n int) *Preview {
	p := &Preview{}
	for i := range n {
		p.Deltas = append(p.Deltas, AccessDelta{Member: fmt.Sprint(i), Project: "a", Gained: []string{"project:write"}})
	}
	return p
}

func TestPolicyWhoMayRequestAndDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		actor   sentryaccess.Actor
		steps   []Step
		decider sentryaccess.Actor
		wantErr sentryaccess.Code // of Create, else of Approve
	}{
		{"a viewer may ask to join a team themselves", viewer, []Step{addStep("4", "payments")}, approver, ""},
		{"a viewer may not add someone else", viewer, []Step{addStep("3", "payments")}, approver, sentryaccess.EFORBIDDEN},
		{"a viewer may not create teams", viewer, []Step{{Kind: KindTeamCreate, Params: Params{Team: "x"}}}, approver, sentryaccess.EFORBIDDEN},
		{"an unknown role may not request", sentryaccess.Actor{Email: "x@acme.test", Role: "guest"}, []Step{addStep("3", "payments")}, approver, sentryaccess.EFORBIDDEN},
		{"an approver may approve another's request", owner, []Step{addStep("3", "payments")}, approver, ""},
		{"nobody approves their own request", approver, []Step{addStep("3", "payments")}, approver, sentryaccess.EFORBIDDEN},
		{"a viewer may not approve", owner, []Step{addStep("3", "payments")}, viewer, sentryaccess.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			r, err := h.svc.Create(ctx, tt.actor, NewRequest{Justification: "test", Steps: tt.steps})
			if err != nil {
				if sentryaccess.ErrorCode(err) != tt.wantErr {
					t.Fatalf("Create error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			_, err = h.svc.Approve(ctx, tt.decider, r.ID, "")
			if sentryaccess.ErrorCode(err) != tt.wantErr {
				t.Fatalf("Approve error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRequestStateMachine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	orgRole := Step{Kind: KindOrgRole, Params: Params{Member: "4", Role: "manager"}}
	type action struct {
		do      string // approve, deny, cancel
		by      sentryaccess.Actor
		comment string
		wantErr sentryaccess.Code
	}
	tests := []struct {
		name    string
		steps   []Step
		actions []action
		want    State
	}{
		{"one approval approves a team add", []Step{addStep("3", "payments")},
			[]action{{do: "approve", by: approver}}, StateApproved},
		{"an org-role change stays pending after one approval", []Step{orgRole},
			[]action{{do: "approve", by: approver}}, StatePendingApproval},
		{"an org-role change is approved by two people", []Step{orgRole},
			[]action{{do: "approve", by: approver}, {do: "approve", by: second}}, StateApproved},
		{"the same approver cannot count twice", []Step{orgRole},
			[]action{{do: "approve", by: approver}, {do: "approve", by: approver, wantErr: sentryaccess.EFORBIDDEN}}, StatePendingApproval},
		{"a denial ends it", []Step{orgRole},
			[]action{{do: "approve", by: approver}, {do: "deny", by: second, comment: "no"}, {do: "approve", by: sentryaccess.Actor{Email: "z@acme.test", Role: sentryaccess.RoleAdmin}, wantErr: sentryaccess.ECONFLICT}}, StateDenied},
		{"a denial needs a comment", []Step{addStep("3", "payments")},
			[]action{{do: "deny", by: approver, wantErr: sentryaccess.EINVALID}}, StatePendingApproval},
		{"the requester may cancel", []Step{addStep("3", "payments")},
			[]action{{do: "cancel", by: owner}, {do: "approve", by: approver, wantErr: sentryaccess.ECONFLICT}}, StateCancelled},
		{"someone else may not cancel", []Step{addStep("3", "payments")},
			[]action{{do: "cancel", by: approver, wantErr: sentryaccess.EFORBIDDEN}}, StatePendingApproval},
		{"the member whose access a step changes may not approve it", []Step{addStep("4", "identity"), addStep("3", "payments")},
			[]action{{do: "approve", by: second, wantErr: sentryaccess.EFORBIDDEN}}, StatePendingApproval},
		{"nor deny it", []Step{{Kind: KindMemberRemove, Params: Params{Member: "3"}}},
			[]action{{do: "deny", by: second, comment: "keep me", wantErr: sentryaccess.EFORBIDDEN}}, StatePendingApproval},
		{"nor approve a request that names someone else's email beside her member id",
			[]Step{{Kind: KindOrgRole, Params: Params{Member: "3", Email: "vic@acme.test", Role: "manager"}}},
			[]action{{do: "approve", by: second, wantErr: sentryaccess.EFORBIDDEN}, {do: "approve", by: approver}}, StatePendingApproval},
		{"nor a SCIM group change that adds her", []Step{{Kind: KindSCIMGroupMembers, Params: Params{TeamID: "10", Add: []string{"3"}}}},
			[]action{{do: "approve", by: second, wantErr: sentryaccess.EFORBIDDEN}}, StatePendingApproval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			r, err := h.svc.Create(ctx, owner, NewRequest{Steps: tt.steps, Justification: "because"})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tt.actions {
				switch a.do {
				case "approve":
					_, err = h.svc.Approve(ctx, a.by, r.ID, a.comment)
				case "deny":
					_, err = h.svc.Deny(ctx, a.by, r.ID, a.comment)
				case "cancel":
					_, err = h.svc.Cancel(ctx, a.by, r.ID, a.comment)
				}
				if sentryaccess.ErrorCode(err) != a.wantErr {
					t.Fatalf("%s by %s: error = %v, want %v", a.do, a.by.Email, err, a.wantErr)
				}
			}
			got, err := h.svc.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.want {
				t.Errorf("state = %s, want %s", got.State, tt.want)
			}
			if err := h.svc.VerifyTrail(ctx); err != nil {
				t.Errorf("trail: %v", err)
			}
		})
	}
}

func TestCreateRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	future := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   NewRequest
	}{
		{"no steps", NewRequest{}},
		{"no justification", NewRequest{Steps: []Step{addStep("3", "payments")}}},
		{"a justification of spaces", NewRequest{Justification: " \t ", Steps: []Step{addStep("3", "payments")}}},
		{"a step missing its team", NewRequest{Justification: "test", Steps: []Step{{Kind: KindTeamAdd, Params: Params{Member: "3"}}}}},
		{"an unknown kind", NewRequest{Justification: "test", Steps: []Step{{Kind: "rm-rf"}}}},
		{"a blocking violation in the preview", NewRequest{Justification: "test", Steps: []Step{{Kind: KindSCIMGroupCreate, Params: Params{Name: "blocked"}}}}},
		{"an expiry in the past", NewRequest{Justification: "test", Steps: []Step{addStep("3", "payments")}, ExpiresAt: &past}},
		{"an expiry on a step with no inverse", NewRequest{Justification: "test", Steps: []Step{{Kind: KindMemberRemove, Params: Params{Member: "3"}}}, ExpiresAt: &future}},
		{"a title longer than a heading", NewRequest{Steps: []Step{addStep("3", "payments")}, Title: strings.Repeat("T", MaxTitle+1), Justification: "j"}},
		{"a justification longer than the limit", NewRequest{Steps: []Step{addStep("3", "payments")}, Justification: strings.Repeat("j", MaxJustification+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			_, err := h.svc.Create(ctx, owner, tt.in)
			if sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
				t.Fatalf("Create error = %v, want EINVALID", err)
			}
		})
	}
}

func TestCreateStoresPreviewAndPreviousRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: []Step{
		addStep("3", "payments"),
		{Kind: KindTeamRole, Params: Params{Member: "2", Team: "payments", Role: "admin"}},
		{Kind: KindOrgRole, Params: Params{Member: "3", Role: "manager"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Preview == nil || len(r.Preview.Deltas) != 1 || r.Preview.Deltas[0].Member != "3" {
		t.Errorf("preview = %+v, want one delta for member 3", r.Preview)
	}
	if got, want := r.Steps[1].Params.PreviousRole, "contributor"; got != want {
		t.Errorf("team-role previous role = %q, want %q", got, want)
	}
	if got, want := r.Steps[2].Params.PreviousRole, "member"; got != want {
		t.Errorf("org-role previous role = %q, want %q", got, want)
	}
	if r.Title == "" || r.Required != 2 {
		t.Errorf("title %q required %d, want a default title and 2 approvals", r.Title, r.Required)
	}
}

func TestAStepsEmailIsTheMembersEmailInSentry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	forged := Step{Kind: KindTeamAdd, Params: Params{Member: "3", Email: "vic@acme.test", Team: "payments"}}
	r, err := h.svc.Create(context.Background(), owner, NewRequest{Steps: []Step{forged}, Justification: "because"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Steps[0].Params.Email, "bob@acme.test"; got != want {
		t.Errorf("step email = %q, want %q (member 3's, not the one typed)", got, want)
	}
	if strings.Contains(r.Title, "vic@") {
		t.Errorf("title %q names the typed email", r.Title)
	}
	if err := h.svc.Policy().CanDecide(second, r, nil); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Errorf("CanDecide(bob, request adding bob) = %v, want EFORBIDDEN", err)
	}
}

func TestPolicyWhoMaySeeARequest(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	r := &Request{Requester: "priya@acme.test", Steps: []Step{
		{Kind: KindTeamAdd, Params: Params{Member: "7", Email: "cody@acme.test", Team: "payments"}},
	}}
	tests := []struct {
		name  string
		actor sentryaccess.Actor
		want  bool
	}{
		{"the requester sees her request", sentryaccess.Actor{Email: "Priya@acme.test", Role: sentryaccess.RoleViewer}, true},
		{"the member whose access it changes sees it", sentryaccess.Actor{Email: "cody@acme.test", Role: sentryaccess.RoleViewer}, true},
		{"another viewer does not", sentryaccess.Actor{Email: "paul@acme.test", Role: sentryaccess.RoleViewer}, false},
		{"an approver sees every request", sentryaccess.Actor{Email: "maya@acme.test", Role: sentryaccess.RoleApprover}, true},
		{"an admin sees every request", sentryaccess.Actor{Email: "olivia@acme.test", Role: sentryaccess.RoleAdmin}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.CanView(tt.actor, r); got != tt.want {
				t.Errorf("CanView = %v, want %v", got, tt.want)
			}
		})
	}
}

// The service, not its caller, starts the apply: the approval that makes a
// request approved schedules it (Config.Background), and no earlier one
// does.
func TestTheLastApprovalStartsTheApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: []Step{{Kind: KindOrgRole, Params: Params{Member: "4", Role: "manager"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = h.svc.Approve(ctx, approver, r.ID, "one"); err != nil || r.State != StatePendingApproval {
		t.Fatalf("first of two approvals: %v, state %v", err, r)
	}
	if len(h.held) != 0 {
		t.Fatalf("the first of two approvals started %d applies", len(h.held))
	}
	if r, err = h.svc.Approve(ctx, second, r.ID, "two"); err != nil || r.State != StateApproved {
		t.Fatalf("second approval: %v, state %v", err, r)
	}
	if len(h.held) != 1 {
		t.Fatalf("the last approval started %d applies, want 1", len(h.held))
	}
	h.runHeld()
	if got, _ := h.svc.Get(ctx, r.ID); got.State != StateApplied {
		t.Errorf("after the scheduled apply the request is %s, want applied", got.State)
	}
}

// The request page offers Cancel and Extend exactly when the service would
// carry them out: both ask the same policy rule.
func TestTheDetailOffersWhatTheServiceAllows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		by     sentryaccess.Actor // who looks, then tries
		cancel bool
	}{
		{"the requester may cancel", owner, true},
		{"an admin may cancel anyone's", sentryaccess.Actor{Email: "root@acme.test", Role: sentryaccess.RoleAdmin}, true},
		{"an approver may not cancel another's", approver, false},
		{"a viewer may not cancel another's", viewer, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			r, err := h.svc.Create(ctx, owner, NewRequest{Justification: "test", Steps: []Step{addStep("3", "payments")}})
			if err != nil {
				t.Fatal(err)
			}
			d, err := h.svc.Detail(ctx, tt.by, r.ID)
			if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
				d.CanCancel = false // a viewer does not see another's request at all
			} else if err != nil {
				t.Fatal(err)
			}
			_, cerr := h.svc.Cancel(ctx, tt.by, r.ID, "")
			if d.CanCancel != tt.cancel || (cerr == nil) != tt.cancel {
				t.Errorf("offered Cancel = %v, Cancel error = %v; want allowed = %v", d.CanCancel, cerr, tt.cancel)
			}
		})
	}
}
