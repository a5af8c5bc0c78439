package changes

import (
	"context"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

func TestGrantExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	start := h.clock.Now()
	expires := start.Add(14 * 24 * time.Hour)
	steps := []Step{addStep("3", "payments"), {Kind: KindProjectLink, Params: Params{Team: "payments", Project: "auth-service"}}}
	r := h.approved(t, NewRequest{Justification: "test", Steps: steps, ExpiresAt: &expires, Title: "contractor access"})
	r, err := h.svc.Apply(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.GrantID != r.ID {
		t.Fatalf("GrantID = %q, want the request id %q", r.GrantID, r.ID)
	}
	sched := &Scheduler{Service: h.svc}

	up, err := h.svc.Upcoming(ctx, start, 30*24*time.Hour)
	if err != nil || len(up) != 1 || !up[0].ExpiresAt.Equal(expires) {
		t.Fatalf("Upcoming = %+v, %v; want the grant expiring %s", up, err, expires)
	}
	if up, _ := h.svc.Upcoming(ctx, start, 24*time.Hour); len(up) != 0 {
		t.Errorf("Upcoming within a day = %d grants, want 0", len(up))
	}

	// Before expiry a tick does nothing.
	if err := sched.Tick(ctx, expires.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if h.sentry.facts["member:3@team:payments"] != "yes" {
		t.Fatal("access was revoked before expiry")
	}

	// At expiry it is revoked, in reverse order, by system:expiry.
	h.clock.Set(expires)
	if err := sched.Tick(ctx, expires); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.sentry.facts["member:3@team:payments"]; ok {
		t.Error("member 3 still on payments after expiry")
	}
	if _, ok := h.sentry.facts["project:auth-service@team:payments"]; ok {
		t.Error("auth-service still linked after expiry")
	}
	gs, _ := h.svc.Grants(ctx, GrantFilter{})
	if len(gs) != 1 || gs[0].State != GrantExpired || gs[0].RevokeRequestID == "" {
		t.Fatalf("grants = %+v, want one expired grant with its revoke request", gs)
	}
	rev, err := h.svc.Get(ctx, gs[0].RevokeRequestID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Requester != SystemExpiry || rev.State != StateApplied || rev.Steps[0].Kind != KindProjectUnlink || rev.Steps[1].Kind != KindTeamRemove {
		t.Errorf("revoke request = %s by %s, steps %v %v", rev.State, rev.Requester, rev.Steps[0].Kind, rev.Steps[1].Kind)
	}

	// A second tick changes nothing.
	calls := h.sentry.calls
	if err := sched.Tick(ctx, expires.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if h.sentry.calls != calls {
		t.Errorf("a second tick made %d Sentry calls", h.sentry.calls-calls)
	}
	if err := h.svc.VerifyTrail(ctx); err != nil {
		t.Error(err)
	}
}

func TestGrantExtension(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	expires := h.clock.Now().Add(24 * time.Hour)
	r := h.approved(t, NewRequest{Justification: "test", Steps: []Step{addStep("4", "payments")}, ExpiresAt: &expires})
	if _, err := h.svc.Apply(ctx, r.ID); err != nil {
		t.Fatal(err)
	}

	if _, err := h.svc.RequestExtension(ctx, viewer, r.ID, expires.Add(time.Hour), "not mine"); sentryaccess.ErrorCode(err) != sentryaccess.EFORBIDDEN {
		t.Errorf("a viewer extending someone else's grant: error = %v, want EFORBIDDEN", err)
	}
	if _, err := h.svc.RequestExtension(ctx, owner, r.ID, expires.Add(-time.Hour), "shorter"); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("an extension to an earlier time: error = %v, want EINVALID", err)
	}
	later := expires.Add(7 * 24 * time.Hour)
	ext, err := h.svc.RequestExtension(ctx, owner, r.ID, later, "project slipped")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Approve(ctx, approver, ext.ID, "fine"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Apply(ctx, ext.ID); err != nil {
		t.Fatal(err)
	}
	if err := (&Scheduler{Service: h.svc}).Tick(ctx, expires.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	gs, _ := h.svc.Grants(ctx, GrantFilter{})
	if len(gs) != 1 || !gs[0].ExpiresAt.Equal(later) || gs[0].State != GrantActive {
		t.Fatalf("grant = %+v, want active until %s", gs, later)
	}
	if h.sentry.facts["member:4@team:payments"] != "yes" {
		t.Error("extended access was revoked at the old expiry")
	}
}
