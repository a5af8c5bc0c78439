package web

import (
	"strconv"
	"testing"

	"github.com/sentry-access/sentry-access/internal/compliance"
)

func TestSCIMPagesKeepOnePageOfEachTable(t *testing.T) {
	t.Parallel()
	rows := func(n int) []compliance.SCIMRow {
		out := make([]compliance.SCIMRow, n)
		for i := range out {
			out[i].Email = "m" + strconv.Itoa(i) + "@acme.test"
		}
		return out
	}
	tests := []struct {
		name                      string
		users, page               int
		wantPage, wantPages       int
		wantFrom, wantTo, wantLen int
	}{
		{"no users", 0, 0, 1, 1, 0, 0, 0},
		{"one short page", 40, 0, 1, 1, 1, 40, 40},
		{"the first of many", 10000, 1, 1, 100, 1, 100, 100},
		{"a middle page", 10000, 37, 37, 100, 3601, 3700, 100},
		{"the last, partial page", 250, 3, 3, 3, 201, 250, 50},
		{"past the end shows the last", 250, 9, 3, 3, 201, 250, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := compliance.SCIMView{Users: rows(tt.users), Findings: make([]compliance.Finding, tt.users), Teams: make([]compliance.TeamRow, tt.users)}
			got := SCIMPages(v, tt.page, tt.page, tt.page)
			for name, tp := range map[string]struct {
				p TablePage
				n int
			}{"users": {got.UsersPage, len(got.Users)}, "findings": {got.FindingsPage, len(got.Findings)}, "groups": {got.GroupsPage, len(got.Teams)}} {
				p := tp.p
				if p.Number != tt.wantPage || p.Pages != tt.wantPages || p.From != tt.wantFrom || p.To != tt.wantTo || tp.n != tt.wantLen || p.Total != tt.users {
					t.Errorf("%s: page %d/%d rows %d–%d (%d shown of %d), want %d/%d rows %d–%d (%d)",
						name, p.Number, p.Pages, p.From, p.To, tp.n, p.Total, tt.wantPage, tt.wantPages, tt.wantFrom, tt.wantTo, tt.wantLen)
				}
			}
		})
	}
}
