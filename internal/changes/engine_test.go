package changes

import (
	"slices"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
)

func TestEnginePreviewer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		steps     []Step
		wantCodes []string
		wantDelta string // "member project +/-" of the first delta
	}{
		{"adding bob to identity gives him auth-service", []Step{addStep("3", "identity")}, nil, "3 auth-service +"},
		{"removing ana from payments takes payment-api away", []Step{{Kind: KindTeamRemove, Params: Params{Member: "2", Team: "payments"}}}, nil, "2 payment-api -"},
		{"the token's owner cannot change its own org role, whoever asks", []Step{{Kind: KindOrgRole, Params: Params{Member: "1", Role: "manager"}}}, []string{"own-role"}, ""},
		{"another member's role is the owner's to change", []Step{{Kind: KindOrgRole, Params: Params{Member: "3", Role: "manager"}}}, nil, ""},
		{"the last owner cannot be removed", []Step{{Kind: KindMemberRemove, Params: Params{Member: "1"}}}, []string{"last-owner"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := EnginePreviewer{}.Preview(demoSnapshot(), tt.steps)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.ActingAs, "owner@acme.test") {
				t.Errorf("acting as = %q, want the token's owner named", p.ActingAs)
			}
			var codes []string
			for _, v := range p.Violations {
				codes = append(codes, v.Code)
				if !v.Blocking || v.Step != 0 {
					t.Errorf("violation %+v, want blocking on step 0", v)
				}
			}
			if !slices.Equal(codes, tt.wantCodes) {
				t.Errorf("violations = %v, want %v", codes, tt.wantCodes)
			}
			if tt.wantDelta == "" {
				return
			}
			if len(p.Deltas) == 0 {
				t.Fatalf("no deltas, want %q", tt.wantDelta)
			}
			d := p.Deltas[0]
			sign := "-"
			if d.GainsAccess {
				sign = "+"
			}
			if got := d.Member + " " + d.Project + " " + sign; got != tt.wantDelta || (d.GainsAccess && len(d.Gained) == 0) {
				t.Errorf("first delta = %q (%+v), want %q", got, d, tt.wantDelta)
			}
		})
	}
}

// previewOf previews steps on the demo snapshot changed by mutate.
func previewOf(t *testing.T, mutate func(*access.Snapshot), steps ...Step) Preview {
	t.Helper()
	s := demoSnapshot()
	if mutate != nil {
		mutate(s)
	}
	for i := range steps {
		steps[i].Index = i
	}
	p, err := EnginePreviewer{}.Preview(s, steps)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func codes(p Preview) []string {
	var out []string
	for _, v := range p.Violations {
		out = append(out, v.Code)
	}
	return out
}

// A team created through the dashboard has the token's owner on it, as
// Sentry adds the creator: the preview says so and what it brings.
func TestATeamCreatedThroughTheDashboardHasTheTokenOwnerOnIt(t *testing.T) {
	t.Parallel()
	p := previewOf(t, func(s *access.Snapshot) { s.Members[0].OrgRole = "member"; s.Members[1].OrgRole = "owner" },
		Step{Kind: KindTeamCreate, Params: Params{Team: "sre"}},
		Step{Kind: KindProjectLink, Params: Params{Team: "sre", Project: "auth-service"}})
	how, ok := p.Affects("owner@acme.test")
	if !ok || !strings.Contains(how, "joins sre") || !strings.Contains(how, "gains auth-service") {
		t.Errorf("the token's owner: affected %v (%q), want joins sre and gains auth-service; preview %+v", ok, how, p)
	}
	if !slices.ContainsFunc(p.Deltas, func(d AccessDelta) bool { return d.Member == "1" && d.Project == "auth-service" && d.GainsAccess }) {
		t.Errorf("deltas = %+v, want the token's owner gaining auth-service", p.Deltas)
	}
	// A SCIM group is created with the SCIM token: nobody joins it.
	scim := previewOf(t, nil, Step{Kind: KindSCIMGroupCreate, Params: Params{Name: "SRE"}})
	if len(scim.Affected) != 0 {
		t.Errorf("SCIM group creation affects %+v, want nobody", scim.Affected)
	}
}

// SCIM deactivation is the path Sentry intends for an IdP-provisioned
// member; the REST removal is refused and says to use it.
func TestSCIMDeactivationOfAnIdPProvisionedMemberPreviewsClean(t *testing.T) {
	t.Parallel()
	provisioned := func(s *access.Snapshot) { s.Members[2].Flags.IDPProvisioned = true }
	scim := previewOf(t, provisioned, Step{Kind: KindSCIMUserDeactivate, Params: Params{Member: "3"}})
	if b := scim.Blocking(); len(b) != 0 {
		t.Errorf("SCIM deactivation blocked: %+v", b)
	}
	if how, ok := scim.Affects("bob@acme.test"); !ok || how != "removed from the organization" {
		t.Errorf("bob affected %v %q, want removed", ok, how)
	}
	rest := previewOf(t, provisioned, Step{Kind: KindMemberRemove, Params: Params{Member: "3"}})
	if b := rest.Blocking(); len(b) != 1 || b[0].Code != "idp-provisioned" || !strings.Contains(b[0].Message, "SCIM") {
		t.Errorf("REST removal: %+v, want refused with the SCIM way out", b)
	}
	// SCIM group membership of an IdP-provisioned team passes too.
	group := previewOf(t, func(s *access.Snapshot) { s.Teams[1].IDPProvisioned = true },
		Step{Kind: KindSCIMGroupMembers, Params: Params{TeamID: "11", Add: []string{"3"}}})
	if b := group.Blocking(); len(b) != 0 {
		t.Errorf("SCIM group add blocked: %+v", b)
	}
}

// An integration token cannot remove members: the preview says so up
// front, with what to configure instead.
func TestAnIntegrationTokenCannotRemoveMembers(t *testing.T) {
	t.Parallel()
	p := previewOf(t, func(s *access.Snapshot) {
		s.Caller = access.ActingIdentity{Kind: access.CallerIntegration, Username: "access-sync", Integration: "access-sync"}
	}, Step{Kind: KindMemberRemove, Params: Params{Member: "3"}})
	b := p.Blocking()
	if len(b) != 1 || b[0].Code != string(access.RuleTokenKind) || !strings.Contains(b[0].Message, "user auth token of an owner or manager") {
		t.Errorf("blocking = %+v, want the integration token refused with the fix", b)
	}
	if !strings.Contains(p.ActingAs, "access-sync") {
		t.Errorf("acting as = %q", p.ActingAs)
	}
}

// When who acts is unknown nothing is refused on a guess: the preview
// says what it could not check.
func TestAnUnknownActingIdentityIsSaidNotGuessed(t *testing.T) {
	t.Parallel()
	p := previewOf(t, func(s *access.Snapshot) { s.Caller = access.ActingIdentity{} },
		Step{Kind: KindOrgRole, Params: Params{Member: "1", Role: "manager"}}, Step{Kind: KindMemberRemove, Params: Params{Member: "3"}})
	if got := codes(p); !slices.Equal(got, []string{"caller-unknown"}) {
		t.Errorf("violations = %v", got)
	}
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0].Message, "Not checked") {
		t.Errorf("warnings = %+v", w)
	}
	if !strings.Contains(p.ActingAs, "not known") {
		t.Errorf("acting as = %q", p.ActingAs)
	}
}

// An org-role change says what happens to the member's stored team roles:
// a promotion's reset depends on the server version; a demotion that
// lowers an effective team role offers the step that keeps it.
func TestOrgRoleChangesPreviewTheirTeamRoles(t *testing.T) {
	t.Parallel()
	promote := previewOf(t, func(s *access.Snapshot) { s.Members[1].Teams[0].Role = "admin" },
		Step{Kind: KindOrgRole, Params: Params{Member: "2", Role: "manager"}})
	if len(promote.TeamRoles) != 1 || !promote.TeamRoles[0].Reset || promote.TeamRoles[0].Team != "payments" || promote.TeamRoles[0].Restore != nil {
		t.Errorf("promotion team roles = %+v, want payments' stored Team Admin reset (version-dependent), nothing to restore", promote.TeamRoles)
	}
	demote := func(s *access.Snapshot) { s.Members[1].OrgRole = "manager"; s.Members[1].Teams[0].Role = "" }
	d := previewOf(t, demote, Step{Kind: KindOrgRole, Params: Params{Member: "2", Role: "member"}})
	if len(d.TeamRoles) != 1 || d.TeamRoles[0].EffectiveBefore != "admin" || d.TeamRoles[0].EffectiveAfter != "contributor" ||
		d.TeamRoles[0].Restore == nil || d.TeamRoles[0].Restore.Kind != KindTeamRole || d.TeamRoles[0].Restore.Params.Role != "admin" {
		t.Errorf("demotion team roles = %+v, want Team Admin → Contributor on payments with a restoring step", d.TeamRoles)
	}
	kept := previewOf(t, demote, Step{Kind: KindOrgRole, Params: Params{Member: "2", Role: "member"}},
		Step{Kind: KindTeamRole, Params: Params{Member: "2", Team: "payments", Role: "admin"}})
	if len(kept.TeamRoles) != 0 {
		t.Errorf("with the restoring step: team roles = %+v, want nothing left to restore", kept.TeamRoles)
	}
	if _, ok := kept.Affects("ana@acme.test"); !ok {
		t.Error("the demotion still changes ana's org role")
	}
}
