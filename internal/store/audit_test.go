package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// auditBase is midnight, 1 February 2026.
func auditBase() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }

// auditDay returns an entry created at noon on day d of February 2026.
func auditDay(id string, d int, event, actor, target string) sentry.AuditLogEntry {
	obj := int64(d)
	return sentry.AuditLogEntry{
		ID:           id,
		Event:        event,
		Actor:        &sentry.AuditActor{ID: "u-" + actor, Name: actor, Email: actor + "@acme.test"},
		TargetUser:   &sentry.AuditActor{ID: "u-" + target, Name: target, Email: target + "@acme.test"},
		TargetObject: &obj,
		IPAddress:    "10.0.0.1",
		Note:         event + " " + target,
		Data:         json.RawMessage(`{"id":"` + id + `"}`),
		DateCreated:  auditBase().AddDate(0, 0, d-1).Add(12 * time.Hour),
	}
}

// auditFixture is ten entries, one a day on Feb 1..10.
func auditFixture() []sentry.AuditLogEntry {
	var out []sentry.AuditLogEntry
	for d := 1; d <= 10; d++ {
		event, actor := "member.edit", "ana"
		if d%2 == 0 {
			event, actor = "team.create", "bob"
		}
		out = append(out, auditDay(fmt.Sprint(d), d, event, actor, fmt.Sprintf("target%d", d)))
	}
	return out
}

func ids(rows []sentry.AuditLogEntry) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func TestAppendAuditEntriesIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	entries := auditFixture()

	added, err := s.AppendAuditEntries(ctx, entries[:6])
	if err != nil || added != 6 {
		t.Fatalf("first append: got %d, %v; want 6", added, err)
	}
	added, err = s.AppendAuditEntries(ctx, entries)
	if err != nil || added != 4 {
		t.Fatalf("overlapping append: got %d, %v; want 4", added, err)
	}
	rows, _, err := s.AuditEntries(ctx, store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 {
		t.Errorf("archived: got %d rows, want 10", len(rows))
	}
	if _, err := s.AppendAuditEntries(ctx, []sentry.AuditLogEntry{{Event: "x"}}); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("entry without id: got %v, want EINVALID", err)
	}
}

func TestAuditEntryRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	want := auditDay("77", 3, "member.edit", "ana", "bob")
	if _, err := s.AppendAuditEntries(ctx, []sentry.AuditLogEntry{want}); err != nil {
		t.Fatal(err)
	}
	rows, _, err := s.AuditEntries(ctx, store.AuditFilter{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("got %d rows, %v", len(rows), err)
	}
	if !reflect.DeepEqual(rows[0], want) {
		t.Errorf("got %+v, want %+v", rows[0], want)
	}
}

func TestAuditEntriesFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.AppendAuditEntries(ctx, auditFixture()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter store.AuditFilter
		want   []string
	}{
		{"everything newest first", store.AuditFilter{}, []string{"10", "9", "8", "7", "6", "5", "4", "3", "2", "1"}},
		{"by event", store.AuditFilter{Event: "team.create"}, []string{"10", "8", "6", "4", "2"}},
		{"by actor name, any case", store.AuditFilter{Actor: "ANA"}, []string{"9", "7", "5", "3", "1"}},
		{"by actor id", store.AuditFilter{Actor: "u-bob"}, []string{"10", "8", "6", "4", "2"}},
		{"by target email", store.AuditFilter{Target: "target3@acme"}, []string{"3"}},
		{"by target object id", store.AuditFilter{Target: "7"}, []string{"7"}},
		{"from a day (inclusive)", store.AuditFilter{From: auditBase().AddDate(0, 0, 7)}, []string{"10", "9", "8"}},
		{"to an instant (inclusive)", store.AuditFilter{To: auditBase().AddDate(0, 0, 2).Add(12 * time.Hour)}, []string{"3", "2", "1"}},
		{"a date range and an event", store.AuditFilter{
			From: auditBase().AddDate(0, 0, 2), To: auditBase().AddDate(0, 0, 7), Event: "member.edit",
		}, []string{"7", "5", "3"}},
		{"range before everything", store.AuditFilter{To: auditBase()}, []string{}},
		{"range after everything", store.AuditFilter{From: auditBase().AddDate(0, 1, 0)}, []string{}},
		{"unknown event", store.AuditFilter{Event: "org.remove"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, next, err := s.AuditEntries(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rows); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if next != "" {
				t.Errorf("next cursor: got %q, want none on the only page", next)
			}
		})
	}
}

func TestAuditEntriesPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.AppendAuditEntries(ctx, auditFixture()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter store.AuditFilter
		want   [][]string
	}{
		{"pages of three", store.AuditFilter{Limit: 3}, [][]string{{"10", "9", "8"}, {"7", "6", "5"}, {"4", "3", "2"}, {"1"}}},
		{"exact multiple has no empty last page", store.AuditFilter{Limit: 5}, [][]string{{"10", "9", "8", "7", "6"}, {"5", "4", "3", "2", "1"}}},
		{"filtered pages", store.AuditFilter{Limit: 2, Event: "member.edit"}, [][]string{{"9", "7"}, {"5", "3"}, {"1"}}},
		{"pages within a date range", store.AuditFilter{
			Limit: 2, From: auditBase().AddDate(0, 0, 2), To: auditBase().AddDate(0, 0, 6),
		}, [][]string{{"6", "5"}, {"4", "3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tt.filter
			var got [][]string
			for range 20 {
				rows, next, err := s.AuditEntries(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(rows))
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuditEntriesBadCursor(t *testing.T) {
	t.Parallel()
	s := mustOpen(t)
	_, _, err := s.AuditEntries(context.Background(), store.AuditFilter{Cursor: "!!not-a-cursor"})
	if sentryaccess.ErrorCode(err) != sentryaccess.EINVALID {
		t.Errorf("got %v, want EINVALID", err)
	}
}

func TestAuditEventsAndLatestTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	if got, err := s.LatestAuditTime(ctx); err != nil || !got.IsZero() {
		t.Errorf("empty archive: got %v, %v; want zero time", got, err)
	}
	if _, err := s.AppendAuditEntries(ctx, auditFixture()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAuditOptions(ctx, []string{"org.edit", "member.edit"}); err != nil {
		t.Fatal(err)
	}
	events, err := s.AuditEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"member.edit", "org.edit", "team.create"}; !reflect.DeepEqual(events, want) {
		t.Errorf("events: got %v, want %v", events, want)
	}
	latest, err := s.LatestAuditTime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := auditBase().AddDate(0, 0, 9).Add(12 * time.Hour); !latest.Equal(want) {
		t.Errorf("latest: got %v, want %v", latest, want)
	}
}

func TestAuditEventFilterMatchesTheEventNotAnotherFieldHoldingItsName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t)
	decoy := auditDay("1", 1, "member.edit", "ana", "bob")
	decoy.Note = "team.create" // the other event's name, quoted the same way in the record
	real := auditDay("2", 2, "team.create", "ana", "bob")
	odd := auditDay("3", 3, "odd<&>event", "ana", "bob") // a name JSON may escape
	if _, err := s.AppendAuditEntries(ctx, []sentry.AuditLogEntry{decoy, real, odd}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		event string
		want  []string
	}{
		{"team.create", []string{"2"}},
		{"member.edit", []string{"1"}},
		{"odd<&>event", []string{"3"}},
	} {
		rows, _, err := s.AuditEntries(ctx, store.AuditFilter{Event: tt.event})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(rows); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("event %s: got %v, want %v", tt.event, got, tt.want)
		}
	}
}
