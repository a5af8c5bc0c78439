package changes

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/access"
)

// The member index finds a member exactly when a scan with
// strings.EqualFold does (memberByEmail), also for runes whose case
// folding leaves ASCII.
func TestFoldKeyAgreesWithEqualFold(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{
		{"Ana@Acme.test", "ana@acme.TEST"}, {"k@x", "\u212a@x"}, {"s@x", "\u017f@x"}, {"ß@x", "\u1e9e@x"},
		{"σ@x", "ς@x"}, {"Σ@x", "ς@x"}, {"a@x", "b@x"}, {"a\xff@x", "a\xfe@x"}, {"ab", "a"}, {"é", "É"}, {"i", "İ"},
	}
	alphabet := []rune("aAbBkKsSiI\u212a\u017fßẞσςΣéÉİı@.\xff")
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 20000 {
		pairs = append(pairs, [2]string{word(), word()})
	}
	for _, p := range pairs {
		if same, want := foldKey(p[0]) == foldKey(p[1]), strings.EqualFold(p[0], p[1]); same != want {
			t.Errorf("%q and %q: same key %v, EqualFold %v", p[0], p[1], same, want)
		}
	}
}

func TestTheIndexFindsTheMemberAScanFinds(t *testing.T) {
	t.Parallel()
	snap := &access.Snapshot{Members: []access.Member{
		{ID: "1", Email: "Ana@acme.test"}, {ID: "2", Email: "ana@ACME.test"}, {ID: "3", Email: "\u212ai@acme.test"},
	}}
	ix := newSnapIndex(snap)
	for _, email := range []string{"ana@acme.test", "ki@acme.test", "KI@ACME.TEST", "bob@acme.test", ""} {
		got, gotOK := ix.member(email)
		want, wantOK := memberByEmail(snap, email)
		if got.ID != want.ID || gotOK != wantOK {
			t.Errorf("%q: index found %q (%v), a scan %q (%v)", email, got.ID, gotOK, want.ID, wantOK)
		}
	}
}
