package web

import (
	"strconv"
	"testing"

	"github.com/sentry-access/sentry-access/internal/compliance"
)

func TestPageSCIMUsersKeepsOnePageOfRows(t *testing.T) {
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
			got := PageSCIMUsers(compliance.SCIMView{Users: rows(tt.users)}, tt.page)
			if got.Page != tt.wantPage || got.Pages != tt.wantPages || got.From != tt.wantFrom || got.To != tt.wantTo || len(got.Users) != tt.wantLen || got.TotalU != tt.users {
				t.Errorf("page %d/%d rows %d–%d (%d shown of %d), want %d/%d rows %d–%d (%d)",
					got.Page, got.Pages, got.From, got.To, len(got.Users), got.TotalU, tt.wantPage, tt.wantPages, tt.wantFrom, tt.wantTo, tt.wantLen)
			}
		})
	}
}
