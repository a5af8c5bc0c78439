package changes

import (
	"slices"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/sentry-access/sentry-access/internal/access"
)

// snapIndex is what the change forms read from one snapshot, built once
// per snapshot: every page that offers a change asks for the actor's
// member and the form's choices, and at 10,000 members a scan and a sort
// per page view cost more than the page. Nothing in it may be modified.
type snapIndex struct {
	snap *access.Snapshot
	// choices are the form's choices, without the actor's SelfID and
	// SelfServiceOnly.
	choices Choices
	// byEmail maps foldKey(email) to the index of the first member with
	// that email: the member memberByEmail finds.
	byEmail map[string]int
}

// indexCache holds the index of the last snapshot asked for.
type indexCache struct{ last atomic.Pointer[snapIndex] }

// of returns snap's index, building it when snap is not the last one
// indexed (the snapshot Snapshots hands out is shared until the next
// sync, so this is once per snapshot).
func (c *indexCache) of(snap *access.Snapshot) *snapIndex {
	if ix := c.last.Load(); ix != nil && ix.snap == snap {
		return ix
	}
	ix := newSnapIndex(snap)
	c.last.Store(ix)
	return ix
}

func newSnapIndex(snap *access.Snapshot) *snapIndex {
	ix := &snapIndex{snap: snap, byEmail: make(map[string]int, len(snap.Members))}
	c := &ix.choices
	for i, m := range snap.Members {
		if k := foldKey(m.Email); !hasKey(ix.byEmail, k) {
			ix.byEmail[k] = i
		}
		c.Members = append(c.Members, MemberChoice{ID: m.ID, Email: m.Email, State: m.State})
	}
	slices.SortFunc(c.Members, func(a, b MemberChoice) int { return strings.Compare(a.Email, b.Email) })
	for _, t := range snap.Teams {
		c.Teams = append(c.Teams, t.Slug)
		if t.IDPProvisioned {
			c.SCIMTeams = append(c.SCIMTeams, t.Slug)
		}
	}
	slices.Sort(c.Teams)
	slices.Sort(c.SCIMTeams)
	for _, p := range snap.Projects {
		c.Projects = append(c.Projects, p.Slug)
	}
	slices.Sort(c.Projects)
	for _, r := range orgRoles(snap) {
		c.OrgRoles = append(c.OrgRoles, RoleChoice{ID: r.ID, Name: r.Name, Retired: r.IsRetired})
	}
	for _, r := range teamRoles(snap) {
		c.TeamRoles = append(c.TeamRoles, RoleChoice{ID: r.ID, Name: r.Name})
	}
	return ix
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// member returns the first member whose email equals email under
// strings.EqualFold, as memberByEmail does.
func (ix *snapIndex) member(email string) (access.Member, bool) {
	i, ok := ix.byEmail[foldKey(email)]
	if !ok {
		return access.Member{}, false
	}
	return ix.snap.Members[i], true
}

// foldKey maps s to a key that two strings share exactly when
// strings.EqualFold holds for them: each rune becomes the smallest rune of
// its simple case-folding orbit (unicode.SimpleFold), as EqualFold
// compares rune by rune.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// The smallest rune of an ASCII letter's orbit is its upper
		// case (k, K and the Kelvin sign: K).
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
