package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/explore"
)

// The read pages (members, teams, projects, lookup, snapshots, graph,
// connection, sync) take the view-ready structs of internal/explore
// directly: explore builds them for display, so a second set of view
// models would only copy fields. The helpers below format them.

// SyncPanelView is the sync panel on the overview: the last run and
// whether the user may start one.
type SyncPanelView struct {
	Run     *explore.SyncRun
	CanSync bool
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtDuration(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func storedRole(s string) string {
	if s == "" {
		return "null (minimum)"
	}
	return s
}

func effectiveRole(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func join(s []string) string { return strings.Join(s, ", ") }

// query encodes non-empty pairs (name, value, name, value, …).
func query(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" && kv[i+1] != "0" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func memberQS(q explore.MemberQuery, page int, sort string) []string {
	return []string{"q", q.Q, "role", q.Role, "team", q.Team, "noteam", boolParam(q.NoTeam), "sso", q.SSO,
		"2fa", q.TwoFA, "state", q.State, "scim", q.SCIM, "sort", sort, "page", pageParam(page)}
}

func pageParam(p int) string {
	if p <= 1 {
		return ""
	}
	return strconv.Itoa(p)
}

// MembersURL is the shareable URL of a member list page.
func MembersURL(q explore.MemberQuery, page int) string {
	return query("/members", memberQS(q, page, q.Sort)...)
}

// sortURL toggles the sort on key: ascending first, then descending.
func memberSortURL(q explore.MemberQuery, key string) templ.SafeURL {
	s := key
	if q.Sort == key || (q.Sort == "" && key == "email") {
		s = "-" + key
	}
	if s == "email" {
		s = ""
	}
	return templ.SafeURL(query("/members", memberQS(q, 1, s)...))
}

// sortDir is the direction the member list runs in for column key under
// the sort cur: "ascending", "descending" or "none". Email runs A→Z as
// "email"; role and reach run highest first as "role" and "reach"
// (explore.MemberQuery.Sort); "-" reverses either.
func sortDir(cur, key string) string {
	plain := cur == key || (cur == "" && key == "email")
	rev := cur == "-"+key
	if !plain && !rev {
		return "none"
	}
	if (key == "email") == plain {
		return "ascending"
	}
	return "descending"
}

func sortMark(cur, key string) string {
	switch sortDir(cur, key) {
	case "ascending":
		return " ▲"
	case "descending":
		return " ▼"
	}
	return ""
}

func ariaSort(cur, key string) string { return sortDir(cur, key) }

func teamsURL(q explore.TeamQuery, page int) string {
	return query("/teams", "q", q.Q, "noproject", boolParam(q.NoProject), "scim", q.SCIM, "page", pageParam(page))
}

func projectsURL(q explore.ProjectQuery, page int) string {
	return query("/projects", "q", q.Q, "team", q.Team, "noteam", boolParam(q.NoTeam), "sort", q.Sort, "page", pageParam(page))
}

func memberHref(id string) templ.SafeURL { return templ.SafeURL("/members/" + url.PathEscape(id)) }
func teamHref(slug string) templ.SafeURL { return templ.SafeURL("/teams/" + url.PathEscape(slug)) }
func projectHref(slug string) templ.SafeURL {
	return templ.SafeURL("/projects/" + url.PathEscape(slug))
}

func changeHref(id string) templ.SafeURL {
	return templ.SafeURL("/changes/new?" + url.Values{"member": {id}}.Encode())
}

func lookupHref(member, project string) templ.SafeURL {
	return templ.SafeURL(query("/lookup", "member", member, "project", project))
}

func diffHref(from, to uint64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/snapshots/diff?from=%d&to=%d", from, to))
}

// memberProjectsHref is page n of a member's reached projects.
func memberProjectsHref(id string, n int) templ.SafeURL {
	return templ.SafeURL("/members/" + url.PathEscape(id) + "?page=" + strconv.Itoa(n) + "#projects")
}

func pathLabel(p access.Path) string {
	switch p.Kind {
	case access.PathTeam:
		return "team " + p.Team + " (" + p.TeamRole + ")"
	case access.PathOpenMembership:
		return "open membership"
	case access.PathGlobalRole:
		return "global org role"
	case access.PathIntegration:
		return "integration"
	}
	return string(p.Kind)
}

// MemberGrant is a member's time-bound membership of Team, granted by
// change request RequestID and removed at ExpiresAt.
type MemberGrant = changes.TimeBoundMembership

// grantFor is the grant of team, the one expiring last if several.
func grantFor(gs []MemberGrant, team string) (MemberGrant, bool) {
	var out MemberGrant
	found := false
	for _, g := range gs {
		if g.Team == team && (!found || g.ExpiresAt.After(out.ExpiresAt)) {
			out, found = g, true
		}
	}
	return out, found
}

// projectGrant is the grant a project is reached through, when every path
// to it goes through a time-bound team (a project also reached another
// way keeps its access after the expiry, so it is not marked).
func projectGrant(gs []MemberGrant, ps []access.Path) (MemberGrant, bool) {
	var out MemberGrant
	for _, p := range ps {
		g, ok := grantFor(gs, p.Team)
		if p.Team == "" || !ok {
			return MemberGrant{}, false
		}
		if g.ExpiresAt.After(out.ExpiresAt) {
			out = g
		}
	}
	return out, len(ps) > 0
}

func pathsSummary(ps []access.Path) string {
	var out []string
	for _, p := range ps {
		out = append(out, pathLabel(p))
	}
	return strings.Join(out, " · ")
}

func stateClass(s access.MemberState) string {
	switch s {
	case access.StatePending:
		return "badge badge-warn"
	case access.StateExpired:
		return "badge badge-bad"
	}
	return "badge"
}

func selected(cur, v string) bool { return cur == v }

func decisionClass(allowed bool) string {
	if allowed {
		return "decision decision-allowed"
	}
	return "decision decision-denied"
}

func decisionWord(allowed bool) string {
	if allowed {
		return "Allowed"
	}
	return "Denied"
}

func findingClass(f explore.Finding) string {
	if f.Warning && f.Count > 0 {
		return "finding finding-warn"
	}
	return "finding"
}

func changeKindClass(kind string) string { return "chg chg-" + kind }

// progressText says what a running sync is doing: the stage in words,
// with its count while items remain ("reading the teams' members: 3 of
// 40"). The last stages (saving, then loading the pages from the new
// snapshot) show no count: "4 of 4" would read as finished.
func progressText(r *explore.SyncRun) string {
	text := strings.ToUpper(r.StageText[:min(1, len(r.StageText))]) + r.StageText[min(1, len(r.StageText)):]
	switch {
	case r.Stage == "save" || r.Stage == "done":
		return text + "…"
	case r.Total > 0 && r.Done < r.Total:
		return fmt.Sprintf("%s: %d of %d", text, r.Done, r.Total)
	case r.Total == 0 && r.Done > 0:
		return fmt.Sprintf("%s: %d so far", text, r.Done)
	}
	return text + "…"
}

// svg helpers
// Edge labels sit where the layout put them: just after the edge's own
// port on the member node (explore.GraphEdge.LabelX/LabelY).
func midX(e explore.GraphEdge) string     { return itoa(e.LabelX) }
func midY(e explore.GraphEdge) string     { return itoa(e.LabelY) }
func edgePath(e explore.GraphEdge) string { return e.Path() }

func edgeClass(e explore.GraphEdge) string {
	if e.Grants {
		return "edge"
	}
	return "edge edge-none"
}

func nodeClass(n explore.GraphNode) string {
	c := "node node-" + n.Kind
	if n.Focused {
		c += " node-focus"
	}
	return c
}

// nodeName is a graph node's accessible name: what the node shows, in
// full (the drawn label may be truncated), then what it is and what the
// link does, e.g. "platform admin, team: focus the graph here".
func nodeName(n explore.GraphNode) string {
	switch {
	case n.Kind == "more" && n.Before > 0:
		return n.Label + " in this column: show them"
	case n.Kind == "more":
		return n.Label + " in this column: show the next ones"
	}
	name := n.Label
	if n.Sub != "" {
		name += " " + n.Sub
	}
	return name + ", " + n.Kind + ": focus the graph here"
}

// clipHead cuts s to at most n-1 characters for a label with an
// ellipsis, at a word boundary where there is one (so the drawn words are
// whole words of the node's accessible name, which screen-reader and
// voice-control users rely on: WCAG 2.5.3). It reports whether s was cut.
func clipHead(s string, n int) (string, bool) {
	r := []rune(s)
	if len(r) <= n {
		return s, false
	}
	head := r[:n-1]
	for i := len(head); i > 0; i-- {
		if !unicode.IsLetter(r[i]) && !unicode.IsDigit(r[i]) {
			if w := strings.TrimRightFunc(string(r[:i]), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) }); w != "" {
				return w, true
			}
		}
	}
	return string(head), true
}

func viewBox(g explore.Graph) string { return fmt.Sprintf("0 0 %d %d", g.Width, g.Height) }

func capAccess(m []access.MemberAccessChange) []access.MemberAccessChange {
	if len(m) > explore.DiffCap {
		return m[:explore.DiffCap]
	}
	return m
}

func countKind(ms []access.MemberScopeChange, kind string) int {
	n := 0
	for _, m := range ms {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

func tokenKindText(kind string) string {
	switch kind {
	case explore.TokenUser:
		return "user auth token (sntryu_)"
	case explore.TokenOrg:
		return "organization auth token (sntrys_, org:ci only)"
	case explore.TokenIntegration:
		return "internal integration token (sntryi_)"
	case explore.TokenUserApp:
		return "OAuth application token for a user (sntrya_)"
	case explore.TokenNone:
		return "none configured"
	}
	return "unprefixed token (created before Sentry prefixed its tokens: a user or integration token)"
}

// viaText is the member page's summary of paths, e.g. "Via team payments
// (contributor): 5 · team contractors-q1 (contributor): 2".
func viaText(via []explore.PathCount) string {
	parts := make([]string, len(via))
	for i, v := range via {
		parts[i] = pathLabel(v.Path) + ": " + itoa(v.Projects)
	}
	return "Via " + strings.Join(parts, " · ")
}

func scopesErrClass(rejected bool) string {
	if rejected {
		return "bad"
	}
	return "muted"
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func limitChangeText(restricted bool) string {
	if restricted {
		return "now over the plan's member limit: Sentry refuses the member in its UI"
	}
	return "has a seat again: no longer over the member limit"
}

func searchHref(q string) templ.SafeURL { return templ.SafeURL(query("/search", "q", q)) }

// searchSummary counts a search's matches, e.g. "2 members, 1 team and no
// project match “pay”."
func searchSummary(r explore.SearchResults) string {
	count := func(n int, one, many string) string {
		switch n {
		case 0:
			return "no " + one
		case 1:
			return "1 " + one
		}
		return itoa(n) + " " + many
	}
	return count(r.MembersTotal, "member", "members") + ", " + count(r.TeamsTotal, "team", "teams") + " and " +
		count(r.ProjectsTotal, "project", "projects") + " match “" + r.Query + "”."
}
