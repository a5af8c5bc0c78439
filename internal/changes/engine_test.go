package changes

import (
	"slices"
	"testing"
)

func TestEnginePreviewer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		steps     []Step
		requester string
		wantCodes []string
		wantDelta string // "member project +/-" of the first delta
	}{
		{"adding bob to identity gives him auth-service", []Step{addStep("3", "identity")}, "owner@acme.test", nil, "3 auth-service +"},
		{"removing ana from payments takes payment-api away", []Step{{Kind: KindTeamRemove, Params: Params{Member: "2", Team: "payments"}}}, "owner@acme.test", nil, "2 payment-api -"},
		{"nobody changes their own org role", []Step{{Kind: KindOrgRole, Params: Params{Member: "3", Role: "manager"}}}, "bob@acme.test", []string{"own-role"}, ""},
		{"the last owner cannot be removed", []Step{{Kind: KindMemberRemove, Params: Params{Member: "1"}}}, "ana@acme.test", []string{"last-owner"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := EnginePreviewer{}.Preview(demoSnapshot(), tt.steps, tt.requester)
			if err != nil {
				t.Fatal(err)
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
