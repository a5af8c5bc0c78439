package explore

import (
	"slices"
	"strings"
	"testing"
)

// A text index finds exactly the rows whose own text contains the needle,
// where strings.Contains would, and never a match across two rows.
func TestTextIndexMatchesWhatContainsMatches(t *testing.T) {
	t.Parallel()
	texts := []string{"ana@acme.test ana", "", "bob@acme.test bob", "ana", "nab\x00a", "x"}
	x := newTextIndex(len(texts), func(i int) string { return texts[i] })
	for _, needle := range []string{"ana", "a", "acme", "test ana", "ob@", "anax", "x", "t\x00b", "a\x00", "", "na", "bob"} {
		var want []int
		var wantAt []int
		for i, s := range texts {
			s = strings.ReplaceAll(s, "\x00", "")
			if needle != "" && !strings.Contains(needle, "\x00") && strings.Contains(s, needle) {
				want = append(want, i)
				wantAt = append(wantAt, strings.Index(s, needle))
			}
		}
		var got, gotAt []int
		for i, at := range x.rows(needle) {
			got, gotAt = append(got, i), append(gotAt, at)
		}
		if !slices.Equal(got, want) || !slices.Equal(gotAt, wantAt) {
			t.Errorf("rows(%q) = %v at %v, want %v at %v", needle, got, gotAt, want, wantAt)
		}
		mask := x.mask(needle)
		for i := range texts {
			if mask[i] != slices.Contains(want, i) {
				t.Errorf("mask(%q)[%d] = %v, want %v", needle, i, mask[i], !mask[i])
			}
		}
	}
}

func TestTextIndexOfNoRows(t *testing.T) {
	t.Parallel()
	x := newTextIndex(0, nil)
	for range x.rows("a") {
		t.Fatal("a row matched in an empty index")
	}
	if len(x.mask("a")) != 0 {
		t.Fatal("mask of an empty index is not empty")
	}
}
