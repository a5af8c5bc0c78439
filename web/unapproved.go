package web

import (
	"net/url"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/unapproved"
)

// OutsideView is what a member, team or project page shows of the changes
// made outside sentry-access that concern it: the flagged ones.
// CanDecide reports whether the viewer may accept or revert them (and see
// the audit entries' IP addresses).
type OutsideView struct {
	Findings  []unapproved.Finding
	CanDecide bool
}

// OutsideListView is /outside: the flagged findings, or every one.
type OutsideListView struct {
	Findings  []unapproved.Finding
	All       bool
	CanDecide bool
}

// OutsideDetailView is /outside/:id.
type OutsideDetailView struct {
	Finding   unapproved.Finding
	CanDecide bool
}

// OutsideRevertView is the prefilled change request reverting a finding.
type OutsideRevertView struct {
	unapproved.RevertDraft
}

// OutsideMarks are the findings of the snapshots a diff page compares,
// looked up by the change a diff row shows.
type OutsideMarks struct {
	List      []unapproved.Finding
	byKey     map[string]*unapproved.Finding
	CanDecide bool
}

// NewOutsideMarks indexes fs for a diff page.
func NewOutsideMarks(fs []unapproved.Finding, canDecide bool) OutsideMarks {
	m := OutsideMarks{List: fs, byKey: map[string]*unapproved.Finding{}, CanDecide: canDecide}
	for i := range fs {
		m.byKey[fs[i].Change.Key()] = &fs[i]
	}
	return m
}

func (m OutsideMarks) find(c unapproved.Change) *unapproved.Finding { return m.byKey[c.Key()] }

func (m OutsideMarks) member(k unapproved.Kind, r access.MemberRef) *unapproved.Finding {
	return m.find(unapproved.Change{Kind: k, Member: r.ID})
}

func (m OutsideMarks) team(k unapproved.Kind, t access.TeamMembership) *unapproved.Finding {
	return m.find(unapproved.Change{Kind: k, Member: t.Member.ID, Team: t.Team})
}

func (m OutsideMarks) link(k unapproved.Kind, l access.ProjectLink) *unapproved.Finding {
	return m.find(unapproved.Change{Kind: k, Team: l.Team, Project: l.Project})
}

func (m OutsideMarks) setting(s access.SettingChange) *unapproved.Finding {
	return m.find(unapproved.Change{Kind: unapproved.KindSetting, Setting: s.Setting})
}

func outsideHref(id string) templ.SafeURL { return templ.SafeURL("/outside/" + url.PathEscape(id)) }

func outsideActionURL(id, action string) string {
	return "/outside/" + url.PathEscape(id) + "/" + action
}

// verdictText is how much of a change was made outside sentry-access.
func verdictText(f unapproved.Finding) string { return f.VerdictText() }

// outsideStateText is where a finding is, in words.
func outsideStateText(f unapproved.Finding) string { return f.State.Text() }

func outsideStateClass(s unapproved.State) string {
	switch s {
	case unapproved.StateAccepted, unapproved.StateReverted:
		return "badge badge-ok"
	case unapproved.StateReverting:
		return "badge badge-warn"
	}
	return "badge badge-bad"
}

// auditWho is who Sentry's audit log says made a change, and when; the IP
// address is shown to approvers only, as on the audit-log pages.
func auditWho(f unapproved.Finding, showIP bool) string {
	a := f.Audit
	if f.AuditStatus != unapproved.AuditFound || a == nil {
		return f.AuditText()
	}
	s := a.Actor + " · " + fmtTime(a.At) + " · " + a.Event
	switch {
	case !showIP:
	case a.IP != "":
		s += " · from " + a.IP
	default:
		s += " · no IP recorded"
	}
	return s
}

// windowText is when a change happened at the earliest and the latest.
func windowText(f unapproved.Finding) string {
	return "between " + fmtTime(f.From) + " and " + fmtTime(f.To)
}
