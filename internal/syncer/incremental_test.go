package syncer_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// Demo members the changes below touch (ids are 1000 + their place in the
// demo roster).
const (
	paulPayne = 1014 // member of payments
	danaDoyle = 1026 // plain member
	eliEvans  = 1027 // plain member
	kimKato   = 1032 // member of mobile
)

func memberAt(fx *sentrysim.Fixture, id int64) *sentrysim.MemberFixture {
	for i := range fx.Members {
		if fx.Members[i].ID == id {
			return &fx.Members[i]
		}
	}
	panic(fmt.Sprint("no member ", id))
}

// changedDemo is the demo org an hour after DemoEpoch, after these changes,
// each with the audit entry Sentry writes for it:
//   - Paul Payne left payments and joined platform as Team Admin;
//   - Dana Doyle became a manager;
//   - Eli Evans was removed;
//   - team sre was created and Kim Kato joined it;
//   - project sms-gateway was linked to team platform.
func changedDemo() *sentrysim.Fixture {
	fx := sentrysim.DemoFixture()
	at := sentrysim.DemoEpoch().Add(time.Hour)
	owner := sentrysim.DemoOwnerEmail
	audit := func(min int, event string, target int64, targetUser string, data map[string]any) {
		fx.AuditLog = append(fx.AuditLog, sentrysim.AuditEntryFixture{Event: event, Actor: owner,
			TargetObject: target, TargetUser: targetUser, Data: data, DateCreated: at.Add(time.Duration(min) * time.Minute)})
	}

	paul := memberAt(fx, paulPayne)
	paul.Teams = []sentrysim.TeamMembership{{Team: "platform", Role: "admin"}}
	audit(1, "member.leave-team", 90001, paul.Email, map[string]any{"team_slug": "payments", "member_id": paulPayne})
	audit(2, "member.join-team", 90002, paul.Email, map[string]any{"team_slug": "platform", "member_id": paulPayne})

	dana := memberAt(fx, danaDoyle)
	dana.Role = "manager"
	audit(3, "member.edit", danaDoyle, dana.Email, map[string]any{"id": danaDoyle, "role": "manager"})

	eli := memberAt(fx, eliEvans)
	audit(4, "member.remove", eliEvans, "", map[string]any{"id": eliEvans, "email": eli.Email})
	fx.Members = slices.DeleteFunc(fx.Members, func(m sentrysim.MemberFixture) bool { return m.ID == eliEvans })

	fx.Teams = append(fx.Teams, sentrysim.TeamFixture{ID: 150, Slug: "sre", Name: "SRE", DateCreated: at})
	audit(5, "team.create", 150, "", map[string]any{"id": 150, "slug": "sre", "name": "SRE"})
	kim := memberAt(fx, kimKato)
	kim.Teams = append(kim.Teams, sentrysim.TeamMembership{Team: "sre"})
	audit(6, "member.join-team", 90003, kim.Email, map[string]any{"team_slug": "sre", "member_id": kimKato})

	for i := range fx.Projects {
		if fx.Projects[i].Slug == "sms-gateway" {
			fx.Projects[i].Teams = append(fx.Projects[i].Teams, "platform")
		}
	}
	audit(7, "project-team.add", 211, "", map[string]any{"project_slug": "sms-gateway", "team_slug": "platform"})
	// Events that do not change access.
	audit(8, "rule.edit", 7, "", map[string]any{"id": 7})
	return fx
}

func TestIncrementalSyncMatchesAFullSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
	base, err := e.syncer.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.becomes(t, changedDemo())

	inc, err := e.syncer.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Kind != store.KindIncremental || inc.Fallback != "" || inc.Unchanged {
		t.Fatalf("got kind %s, fallback %q, unchanged %v; want a plain incremental sync", inc.Kind, inc.Fallback, inc.Unchanged)
	}
	if inc.Snapshot.BaseID != base.Snapshot.ID || inc.Snapshot.Kind != store.KindIncremental {
		t.Errorf("meta: got base %d kind %s, want base %d incremental", inc.Snapshot.BaseID, inc.Snapshot.Kind, base.Snapshot.ID)
	}
	_, got, err := e.st.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A full sync of the changed org, into a store of its own.
	ref := newEnv(t, changedDemo(), sentrysim.DemoOwnerToken, syncer.Options{})
	full, err := ref.syncer.Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := ref.st.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if inc.Requests >= full.Requests {
		t.Errorf("requests: incremental %d, full %d; want fewer", inc.Requests, full.Requests)
	}
	t.Logf("requests: incremental %d, full %d", inc.Requests, full.Requests)
	diffSnapshots(t, got, want)

	t.Run("the changes are in it", func(t *testing.T) {
		paul := findMember(got, "1014")
		if paul == nil || !reflect.DeepEqual(paul.Teams, []access.Membership{{Team: "platform", Role: "admin"}}) {
			t.Errorf("Paul's teams: got %+v", paul)
		}
		if dana := findMember(got, "1026"); dana == nil || dana.OrgRole != "manager" {
			t.Errorf("Dana: got %+v, want a manager", dana)
		}
		if findMember(got, "1027") != nil {
			t.Errorf("Eli is still a member")
		}
	})

	t.Run("a second run with no news saves nothing", func(t *testing.T) {
		again, err := e.syncer.Incremental(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Unchanged || again.Snapshot.ID != inc.Snapshot.ID {
			t.Errorf("got unchanged %v, snapshot %d; want unchanged at %d", again.Unchanged, again.Snapshot.ID, inc.Snapshot.ID)
		}
	})
}

func findMember(s *access.Snapshot, id string) *access.Member {
	for i := range s.Members {
		if s.Members[i].ID == id {
			return &s.Members[i]
		}
	}
	return nil
}

// diffSnapshots reports every difference between two snapshots, part by
// part, so a failure says what differs.
func diffSnapshots(t *testing.T, got, want *access.Snapshot) {
	t.Helper()
	if !reflect.DeepEqual(got.Org, want.Org) {
		t.Errorf("org:\n got %+v\nwant %+v", got.Org, want.Org)
	}
	if !reflect.DeepEqual(got.OrgRoles, want.OrgRoles) || !reflect.DeepEqual(got.TeamRoles, want.TeamRoles) {
		t.Errorf("roles differ")
	}
	if !reflect.DeepEqual(got.Teams, want.Teams) {
		t.Errorf("teams:\n got %+v\nwant %+v", got.Teams, want.Teams)
	}
	if !reflect.DeepEqual(got.Projects, want.Projects) {
		t.Errorf("projects:\n got %+v\nwant %+v", got.Projects, want.Projects)
	}
	if !reflect.DeepEqual(got.Integrations, want.Integrations) {
		t.Errorf("integrations:\n got %+v\nwant %+v", got.Integrations, want.Integrations)
	}
	if len(got.Members) != len(want.Members) {
		t.Errorf("members: got %d, want %d", len(got.Members), len(want.Members))
	}
	for _, w := range want.Members {
		g := findMember(got, w.ID)
		if g == nil {
			t.Errorf("member %s missing", w.ID)
		} else if !reflect.DeepEqual(*g, w) {
			t.Errorf("member %s:\n got %+v\nwant %+v", w.ID, *g, w)
		}
	}
	// Each simulator answers its own URL as the region URL.
	gs, ws := got.Server, want.Server
	gs.RegionURL, ws.RegionURL = "", ""
	if !reflect.DeepEqual(gs, ws) {
		t.Errorf("server:\n got %+v\nwant %+v", gs, ws)
	}
	if !reflect.DeepEqual(got.Caller, want.Caller) {
		t.Errorf("caller:\n got %+v\nwant %+v", got.Caller, want.Caller)
	}
	g, w := *got, *want
	g.Server, w.Server = gs, ws
	if !t.Failed() && !reflect.DeepEqual(g, w) {
		t.Errorf("snapshots differ")
	}
}

func TestIncrementalFallsBackToFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("without a previous snapshot", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
		res, err := e.syncer.Incremental(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != store.KindFull || !strings.Contains(res.Fallback, "no previous snapshot") {
			t.Errorf("got kind %s, fallback %q", res.Kind, res.Fallback)
		}
		if last, _ := e.st.LastSyncStatus(ctx); !last.OK || last.Kind != store.KindFull || last.Fallback != res.Fallback {
			t.Errorf("status: got %+v", last)
		}
	})

	t.Run("when the audit log answers 403", func(t *testing.T) {
		t.Parallel()
		// A plain member's token reads members and teams but not the
		// audit log, which needs org:write.
		e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoMemberToken, syncer.Options{})
		first, err := e.syncer.Full(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(first.AuditError, "403") {
			t.Errorf("full sync audit error: got %q, want the 403", first.AuditError)
		}
		res, err := e.syncer.Incremental(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != store.KindFull || !strings.Contains(res.Fallback, "403") {
			t.Errorf("got kind %s, fallback %q; want a full sync because of the 403", res.Kind, res.Fallback)
		}
		if res.Snapshot.ID == first.Snapshot.ID || res.Snapshot.Kind != store.KindFull {
			t.Errorf("got snapshot %+v, want a new full one", res.Snapshot)
		}
	})

	t.Run("when an entry names no member it can place", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
		if _, err := e.syncer.Full(ctx); err != nil {
			t.Fatal(err)
		}
		fx := sentrysim.DemoFixture()
		fx.AuditLog = append(fx.AuditLog, sentrysim.AuditEntryFixture{Event: "member.edit", Actor: sentrysim.DemoOwnerEmail,
			DateCreated: sentrysim.DemoEpoch().Add(time.Hour)})
		e.becomes(t, fx)
		res, err := e.syncer.Incremental(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kind != store.KindFull || !strings.Contains(res.Fallback, "names no member") {
			t.Errorf("got kind %s, fallback %q", res.Kind, res.Fallback)
		}
	})
}

func TestOneSyncAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var e *env
	var inner error
	e = newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{Progress: func(p syncer.Progress) {
		if p.Stage == syncer.StageOrganization && inner == nil {
			_, inner = e.syncer.Incremental(ctx)
		}
	}})
	if _, err := e.syncer.Full(ctx); err != nil {
		t.Fatal(err)
	}
	if inner != syncer.ErrBusy {
		t.Errorf("sync during a sync: got %v, want ErrBusy", inner)
	}
}

func TestIncrementalAfterChangesMadeThroughTheClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
	if _, err := e.syncer.Full(ctx); err != nil {
		t.Fatal(err)
	}

	c := e.client
	steps := []struct {
		name string
		do   func() error
	}{
		{"Dana becomes a manager", func() error { _, err := c.SetOrgRole(ctx, "1026", "manager"); return err }},
		{"Paul leaves payments", func() error { return c.RemoveMemberFromTeam(ctx, "1014", "payments") }},
		{"Paul joins platform", func() error { _, err := c.AddMemberToTeam(ctx, "1014", "platform"); return err }},
		{"Paul is Team Admin of platform", func() error { _, err := c.SetTeamRole(ctx, "1014", "platform", "admin"); return err }},
		{"team sre is created", func() error { _, err := c.CreateTeam(ctx, "sre", "SRE"); return err }},
		{"Kim joins sre", func() error { _, err := c.AddMemberToTeam(ctx, "1032", "sre"); return err }},
		{"sms-gateway gets team platform", func() error { _, err := c.AddProjectTeam(ctx, "sms-gateway", "platform"); return err }},
		{"Eli is removed", func() error { return c.DeleteMember(ctx, "1027") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}

	inc, err := e.syncer.Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Kind != store.KindIncremental || inc.Fallback != "" {
		t.Fatalf("got kind %s, fallback %q; want incremental", inc.Kind, inc.Fallback)
	}
	_, got, err := e.st.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A full sync of the same simulator into a store of its own.
	refStore, err := store.Open(t.TempDir()+"/ref.db", store.Options{Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	defer refStore.Close()
	full, err := syncer.New(c, refStore, syncer.Options{Now: e.now, SentryURL: e.srv.URL}).Full(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := refStore.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Requests >= full.Requests {
		t.Errorf("requests: incremental %d, full %d; want fewer", inc.Requests, full.Requests)
	}
	t.Logf("requests: incremental %d, full %d", inc.Requests, full.Requests)
	diffSnapshots(t, got, want)
	if dana := findMember(got, "1026"); dana == nil || dana.OrgRole != "manager" {
		t.Errorf("Dana: got %+v, want a manager", dana)
	}
}

// What Sentry does not audit (an IdP's SCIM PUT of a member's role) an
// incremental sync cannot see; told which objects a change touched, it
// re-reads them all the same.
func TestIncrementalReReadsTheTouchedObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, sentrysim.DemoFixture(), sentrysim.DemoOwnerToken, syncer.Options{})
	if _, err := e.syncer.Full(ctx); err != nil {
		t.Fatal(err)
	}
	// The IdP sets Paul's org role through SCIM: no audit entry.
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/0/organizations/%s/scim/v2/Users/%d", e.srv.URL, sentrysim.DemoOrgSlug, paulPayne),
		strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"sentryOrgRole":"admin"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sentrysim.DemoSCIMToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SCIM PUT: %d", resp.StatusCode)
	}
	role := func() string {
		_, snap, err := e.st.CurrentSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m := findMember(snap, fmt.Sprint(paulPayne)); m != nil {
			return m.OrgRole
		}
		return "gone"
	}
	if _, err := e.syncer.Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	if got := role(); got != "member" {
		t.Fatalf("a plain incremental sync sees Paul as %s; the test needs a change it cannot see", got)
	}
	res, err := e.syncer.IncrementalTouched(ctx, syncer.Touched{Members: []string{fmt.Sprint(paulPayne)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := role(); got != "admin" || res.Kind != store.KindIncremental {
		t.Errorf("after re-reading the touched member: Paul is %s (%s sync), want admin from an incremental sync", got, res.Kind)
	}
	// A member known only by email (just provisioned) is found and read.
	idp, err := sentry.New(sentry.Config{BaseURL: e.srv.URL, Org: sentrysim.DemoOrgSlug, Token: sentrysim.DemoOwnerToken,
		SCIMToken: sentrysim.DemoSCIMToken, MaxRetries: -1, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	u, err := idp.CreateSCIMUser(ctx, "new.hire@acme.test", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.syncer.IncrementalTouched(ctx, syncer.Touched{Emails: []string{"New.Hire@acme.test"}}); err != nil {
		t.Fatal(err)
	}
	_, snap, _ := e.st.CurrentSnapshot(ctx)
	if m := findMember(snap, u.ID); m == nil || m.Email != "new.hire@acme.test" || !m.Flags.IDPProvisioned {
		t.Errorf("the provisioned member: %+v", m)
	}
}
