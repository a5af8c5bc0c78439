package explore

import (
	"iter"
	"strings"
)

// textIndex holds the lowercased search texts of a list's rows (members,
// teams or projects) joined into one string, so that a substring search
// is a few runs of strings.Index over it instead of one call per row: at
// 10,000 members that is what makes a search a lookup rather than a scan
// of 10,000 small strings per request.
type textIndex struct {
	text   string // every row's text, each followed by a NUL
	starts []int  // starts[i] is where row i's text begins; starts[n] is len(text)
}

// newTextIndex indexes n rows whose texts text(i) gives (already
// lowercased). A NUL in a text is kept out, so no match spans two rows.
func newTextIndex(n int, text func(i int) string) textIndex {
	var b strings.Builder
	starts := make([]int, 0, n+1)
	for i := range n {
		starts = append(starts, b.Len())
		b.WriteString(strings.ReplaceAll(text(i), "\x00", ""))
		b.WriteByte(0)
	}
	starts = append(starts, b.Len())
	return textIndex{text: b.String(), starts: starts}
}

// rows yields, in row order, each row whose text contains needle, with
// where in that row's text the first match starts. An empty needle, or
// one with a NUL, matches nothing.
func (x textIndex) rows(needle string) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		if needle == "" || strings.IndexByte(needle, 0) >= 0 {
			return
		}
		i := 0 // the row being searched; matches only move forward
		for off := 0; off < len(x.text); {
			at := strings.Index(x.text[off:], needle)
			if at < 0 {
				return
			}
			at += off
			for x.starts[i+1] <= at { // walk to the row holding at
				i++
			}
			if !yield(i, at-x.starts[i]) {
				return
			}
			i++
			off = x.starts[i]
		}
	}
}

// mask reports, for each of the n rows, whether its text contains needle.
func (x textIndex) mask(needle string) []bool {
	hit := make([]bool, len(x.starts)-1)
	for i := range x.rows(needle) {
		hit[i] = true
	}
	return hit
}

// everyRow yields 0..n-1, each at 0: what rows yields for a needle every
// row contains.
func everyRow(n int) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for i := range n {
			if !yield(i, 0) {
				return
			}
		}
	}
}
