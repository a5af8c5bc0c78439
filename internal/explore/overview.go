package explore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// TopN is how many items the overview lists per kind of change.
const TopN = 5

// Overview is the overview page: the org settings that matter, members per
// role, findings, the last sync and what changed in it.
type Overview struct {
	HasSnapshot bool
	Snapshot    SnapshotInfo
	Org         access.Org
	// Assumed are the settings the server did not send, by API name, with
	// the default used (see Snapshot.Assumed).
	Assumed  map[string]access.FieldSource
	Members  int
	Active   int
	Teams    int
	Projects int
	ByRole   []RoleRow
	Findings []Finding
	LastSync *SyncRun // nil before the first sync
	Changes  *ChangeSummary
}

// RoleRow is the members holding one org role: Members counts them all,
// Invited those whose invite is not accepted yet (pending or expired).
type RoleRow struct {
	access.RoleCount
	Invited int
}

// Finding is one risk with its count and the filtered list it links to.
// Note says what Count leaves out, when that makes it differ from a count
// shown elsewhere (e.g. owners with an invite not yet accepted).
type Finding struct {
	Kind    string
	Label   string
	Count   int
	Note    string
	Href    string
	Warning bool // needs attention when Count > 0
}

// SyncRun is a sync run as pages show it. Duration and Requests are the
// run's own, also when it found nothing new (Unchanged) and kept the
// current snapshot, which an earlier run saved.
type SyncRun struct {
	ID       uint64
	Kind     string
	Started  time.Time
	Finished time.Time
	Running  bool
	OK       bool
	// Error says, for people, why the run failed and what to do.
	Error string
	Stage string
	// StageText is Stage in words ("reading the teams' members").
	StageText string
	Done      int
	Total     int
	Duration  time.Duration
	Requests  int64
	// Unchanged reports whether the run found nothing new: SnapshotID is
	// the snapshot that was current before it.
	Unchanged  bool
	SnapshotID uint64
}

func syncRun(s store.SyncStatus, meta *store.SnapshotMeta) *SyncRun {
	r := &SyncRun{ID: s.ID, Kind: string(s.Kind), Started: s.Started, Finished: s.Finished, Running: s.Running(),
		OK: s.OK, Error: s.Error, Stage: s.Stage, StageText: StageText(s.Stage), Done: s.Progress.Done, Total: s.Progress.Total,
		Requests: s.Requests, SnapshotID: s.SnapshotID}
	if !s.Finished.IsZero() {
		r.Duration = s.Finished.Sub(s.Started)
	}
	r.Unchanged = s.OK && meta != nil && meta.ID == s.SnapshotID && meta.Created.Before(s.Started)
	return r
}

// StageText says a sync stage (internal/syncer's Stage* names) in words,
// as "the sync failed while <StageText>" reads.
func StageText(stage string) string {
	switch stage {
	case "start":
		return "starting"
	case "audit-log":
		return "reading the audit log"
	case "organization":
		return "reading the organization"
	case "auth-provider":
		return "reading the auth provider"
	case "members":
		return "reading the members"
	case "teams":
		return "reading the teams"
	case "team-members":
		return "reading the teams' members"
	case "projects":
		return "reading the projects"
	case "integrations":
		return "reading the integrations"
	case "save":
		return "saving the snapshot"
	case "done":
		return "finishing up"
	case "":
		return "starting"
	}
	return stage
}

// ChangeSummary is what changed between the previous snapshot and the
// current one: counts per kind and the first TopN items of each.
type ChangeSummary struct {
	FromID, ToID uint64
	Counts       []ChangeCount
	Items        []string // the top items, as sentences
	Empty        bool
}

// ChangeCount is the number of changes of one kind.
type ChangeCount struct {
	Label string
	Count int
}

// Overview returns the overview. Before the first snapshot it returns an
// Overview with HasSnapshot false (and the last sync, if one failed).
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	var ov Overview
	st := s.cur.Load()
	last, err := s.src.LastSyncStatus(ctx)
	switch {
	case sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND:
	case err != nil:
		return ov, fmt.Errorf("overview: %w", err)
	default:
		var meta *store.SnapshotMeta
		if st != nil {
			meta = &st.meta
		}
		ov.LastSync = syncRun(last, meta)
	}
	if st == nil {
		return ov, nil
	}
	stats := st.eng.Stats()
	ov.HasSnapshot, ov.Snapshot, ov.Org = true, st.info(), st.snap.Org
	ov.Assumed = map[string]access.FieldSource{}
	for _, f := range st.snap.Server.Fields {
		if f.Provenance == access.Assumed {
			ov.Assumed[f.Field] = f
		}
	}
	ov.Members, ov.Active, ov.Teams, ov.Projects = stats.Members, stats.Active, len(st.teams), len(st.projects)
	top := ""
	if roles := st.eng.OrgRoles(); len(roles) > 0 {
		top = roles[len(roles)-1].ID
	}
	invited := map[string]int{}
	for _, r := range append(slices.Clone(stats.PendingInvites), stats.ExpiredInvites...) {
		invited[r.OrgRole]++
	}
	limitedOwners := 0
	for _, r := range stats.Restricted {
		if r.OrgRole == top {
			limitedOwners++
		}
	}
	for _, rc := range stats.ByOrgRole {
		ov.ByRole = append(ov.ByRole, RoleRow{RoleCount: rc, Invited: invited[rc.Role]})
	}
	ov.Findings = []Finding{
		{Kind: "owners", Label: "Owners", Count: stats.Owners, Note: ownersNote(invited[top], limitedOwners),
			Href: "/members?role=" + top + "&state=active", Warning: stats.Owners != 2 && stats.Owners != 3},
		{Kind: "restricted", Label: "Members over the member limit", Count: len(stats.Restricted), Href: "/members?state=restricted", Warning: true},
		{Kind: "without-sso", Label: "Members without SSO link", Count: len(stats.WithoutSSO), Href: "/members?sso=unlinked&state=active", Warning: true},
		{Kind: "without-2fa", Label: "Members without 2FA", Count: len(stats.Without2FA), Href: "/members?2fa=off&state=active", Warning: !st.snap.Org.Require2FA},
		{Kind: "pending", Label: "Pending invites", Count: len(stats.PendingInvites), Href: "/members?state=pending"},
		{Kind: "expired", Label: "Expired invites", Count: len(stats.ExpiredInvites), Href: "/members?state=expired", Warning: true},
		{Kind: "no-team", Label: "Members on no team", Count: len(stats.OnNoTeam), Href: "/members?noteam=1&state=active", Warning: true},
		{Kind: "team-no-project", Label: "Teams with no project", Count: len(stats.TeamsWithoutProjects), Href: "/teams?noproject=1"},
		{Kind: "project-no-team", Label: "Projects with no team", Count: len(stats.ProjectsWithoutTeams), Href: "/projects?noteam=1", Warning: true},
	}
	if st.diff != nil {
		ov.Changes = summarize(st.prev.ID, st.meta.ID, st.diff)
	}
	return ov, ctx.Err()
}

// ownersNote says which owners the owner finding leaves out: invites not
// accepted yet and owners over the member limit.
func ownersNote(invited, limited int) string {
	var parts []string
	if invited == 1 {
		parts = append(parts, "1 owner invite not accepted")
	} else if invited > 1 {
		parts = append(parts, fmt.Sprintf("%d owner invites not accepted", invited))
	}
	if limited > 0 {
		parts = append(parts, fmt.Sprintf("%d over the member limit", limited))
	}
	if len(parts) == 0 {
		return ""
	}
	return "not counted: " + strings.Join(parts, ", ")
}

func summarize(from, to uint64, d *access.SnapshotDiff) *ChangeSummary {
	cs := &ChangeSummary{FromID: from, ToID: to}
	add := func(label string, n int) {
		if n > 0 {
			cs.Counts = append(cs.Counts, ChangeCount{Label: label, Count: n})
		}
	}
	add("members added", len(d.MembersAdded))
	add("members removed", len(d.MembersRemoved))
	add("org role changes", len(d.OrgRoleChanges))
	add("invite state changes", len(d.StateChanges))
	add("member limit changes", len(d.LimitChanges))
	add("team joins", len(d.TeamsJoined))
	add("team leaves", len(d.TeamsLeft))
	add("team role changes", len(d.TeamRoleChanges))
	add("teams added", len(d.TeamsAdded))
	add("teams removed", len(d.TeamsRemoved))
	add("projects added", len(d.ProjectsAdded))
	add("projects removed", len(d.ProjectsRemoved))
	add("project links", len(d.ProjectsLinked)+len(d.ProjectsUnlinked))
	add("setting changes", len(d.SettingChanges))
	add("members whose access changed", len(d.Access.Members))
	cs.Empty = len(cs.Counts) == 0
	items := diffSentences(d)
	if len(items) > TopN {
		items = items[:TopN]
	}
	cs.Items = items
	return cs
}

// diffSentences describes the most important changes first: settings, org
// roles, added/removed members, then team changes.
func diffSentences(d *access.SnapshotDiff) []string {
	var out []string
	for _, c := range d.SettingChanges {
		out = append(out, fmt.Sprintf("%s turned %s", c.Setting, onOff(c.To)))
	}
	for _, c := range d.OrgRoleChanges {
		out = append(out, fmt.Sprintf("%s: org role %s → %s", c.Member.Email, c.From, c.To))
	}
	for _, m := range d.MembersAdded {
		out = append(out, fmt.Sprintf("%s added as %s", m.Email, m.OrgRole))
	}
	for _, m := range d.MembersRemoved {
		out = append(out, fmt.Sprintf("%s removed", m.Email))
	}
	for _, t := range d.TeamsJoined {
		out = append(out, fmt.Sprintf("%s joined team %s", t.Member.Email, t.Team))
	}
	for _, t := range d.TeamsLeft {
		out = append(out, fmt.Sprintf("%s left team %s", t.Member.Email, t.Team))
	}
	for _, t := range d.TeamRoleChanges {
		out = append(out, fmt.Sprintf("%s on %s: team role %s → %s", t.Member.Email, t.Team, nullRole(t.From), nullRole(t.To)))
	}
	for _, l := range d.ProjectsLinked {
		out = append(out, fmt.Sprintf("project %s linked to team %s", l.Project, l.Team))
	}
	for _, l := range d.ProjectsUnlinked {
		out = append(out, fmt.Sprintf("project %s unlinked from team %s", l.Project, l.Team))
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func nullRole(r string) string {
	if r == "" {
		return "(minimum)"
	}
	return r
}
