// Package unapproved tells approved access from access nobody approved: it
// matches every access change a new snapshot shows against the change
// requests sentry-access carried out, flags what no request explains as
// made outside sentry-access (with the Sentry audit-log entry behind it,
// when one is archived), and keeps the approvers' answers: accepted with a
// note, or reverted through a prefilled change request.
//
// The matching is pure (Changes, Explain, Undone, AuditFor): a snapshot
// diff and the applied steps in, verdicts out. The Service runs it as a
// step after each sync and stores its findings (Repo, bbolt in
// internal/store).
package unapproved

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// Kind names what an access change changed.
type Kind string

// Change kinds.
const (
	KindMemberAdded     Kind = "member-added"     // invited or added to the organization
	KindMemberRemoved   Kind = "member-removed"   // removed from the organization (or the invite cancelled)
	KindOrgRole         Kind = "org-role"         // org role changed
	KindTeamJoined      Kind = "team-joined"      // joined a team (To: the stored team role)
	KindTeamLeft        Kind = "team-left"        // left a team
	KindTeamRole        Kind = "team-role"        // stored team role changed
	KindProjectLinked   Kind = "project-linked"   // a team linked to a project
	KindProjectUnlinked Kind = "project-unlinked" // a team unlinked from a project
	KindTeamRemoved     Kind = "team-removed"     // a team deleted, with its memberships and links
	KindSetting         Kind = "setting"          // an organization setting switched
	// KindUndone is a step sentry-access applied whose effect the snapshot
	// no longer shows: undone in Sentry before the sync could see it.
	KindUndone Kind = "undone"
)

// Change is one access change between two snapshots. Which fields are set
// depends on Kind: Member and Email name the member; From and To are the
// roles (org role, stored team role; "" is Sentry's null, the minimum team
// role), the setting's value ("on"/"off") or, for a member added or
// removed, its org role.
type Change struct {
	Kind   Kind   `json:"kind"`
	Member string `json:"member,omitempty"`
	Email  string `json:"email,omitempty"`
	// UserID is the member's user, as the audit log names a target user.
	UserID  string `json:"userId,omitempty"`
	Team    string `json:"team,omitempty"`
	Project string `json:"project,omitempty"`
	Setting string `json:"setting,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	// Members (emails) and Projects are what a removed team took with it:
	// its memberships and its project links.
	Members  []string `json:"members,omitempty"`
	Projects []string `json:"projects,omitempty"`
	// Undone is the step whose effect was undone (KindUndone).
	Undone *StepRef `json:"undone,omitempty"`
}

// Key identifies the change within one diff: its kind and subject.
func (c Change) Key() string {
	parts := []string{string(c.Kind)}
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("member", c.Member)
	add("team", c.Team)
	add("project", c.Project)
	add("setting", c.Setting)
	if c.Undone != nil {
		add("request", c.Undone.Request)
		add("step", fmt.Sprint(c.Undone.Step))
	}
	return strings.Join(parts, " ")
}

// who is the member as a sentence names it.
func (c Change) who() string { return cmp.Or(c.Email, "member "+c.Member) }

// roleText is a stored team role in words ("" is the minimum team role).
func roleText(r string) string {
	if r == "" {
		return "the minimum team role of the org role"
	}
	return r
}

// Describe says what changed in one sentence.
func (c Change) Describe() string {
	switch c.Kind {
	case KindMemberAdded:
		return fmt.Sprintf("%s was added to the organization as %s", c.who(), cmp.Or(c.To, "member"))
	case KindMemberRemoved:
		return fmt.Sprintf("%s (%s) was removed from the organization", c.who(), cmp.Or(c.From, "member"))
	case KindOrgRole:
		return fmt.Sprintf("%s's org role changed from %s to %s", c.who(), c.From, c.To)
	case KindTeamJoined:
		if c.To != "" {
			return fmt.Sprintf("%s joined team %s as %s", c.who(), c.Team, c.To)
		}
		return fmt.Sprintf("%s joined team %s", c.who(), c.Team)
	case KindTeamLeft:
		return fmt.Sprintf("%s left team %s", c.who(), c.Team)
	case KindTeamRole:
		return fmt.Sprintf("%s's team role on %s changed from %s to %s", c.who(), c.Team, roleText(c.From), roleText(c.To))
	case KindProjectLinked:
		return fmt.Sprintf("team %s was given access to project %s", c.Team, c.Project)
	case KindProjectUnlinked:
		return fmt.Sprintf("team %s lost access to project %s", c.Team, c.Project)
	case KindTeamRemoved:
		return fmt.Sprintf("team %s was deleted (%d member(s), %d project(s))", c.Team, len(c.Members), len(c.Projects))
	case KindSetting:
		return fmt.Sprintf("the organization setting %s was switched %s", SettingLabel(c.Setting), c.To)
	case KindUndone:
		return "sentry-access's change was undone in Sentry: " + c.undoneText()
	}
	return string(c.Kind)
}

func (c Change) undoneText() string {
	switch {
	case c.Member != "" && c.Team != "" && c.From == "on":
		return fmt.Sprintf("%s is no longer on team %s", c.who(), c.Team)
	case c.Member != "" && c.Team != "" && c.From == "off":
		return fmt.Sprintf("%s is on team %s again", c.who(), c.Team)
	case c.Project != "" && c.From == "on":
		return fmt.Sprintf("team %s no longer has access to project %s", c.Team, c.Project)
	case c.Project != "" && c.From == "off":
		return fmt.Sprintf("team %s has access to project %s again", c.Team, c.Project)
	case c.Team != "" && c.Member != "":
		return fmt.Sprintf("%s's team role on %s is %s, not %s", c.who(), c.Team, roleText(c.To), roleText(c.From))
	case c.Member != "" && c.From == "off":
		return fmt.Sprintf("%s is a member again", c.who())
	case c.Member != "":
		return fmt.Sprintf("%s's org role is %s, not %s", c.who(), c.To, c.From)
	case c.Team != "" && c.From == "on":
		return fmt.Sprintf("team %s no longer exists", c.Team)
	case c.Team != "":
		return fmt.Sprintf("team %s exists again", c.Team)
	}
	return "its effect is gone"
}

// SettingLabel is an organization setting as Sentry's settings page names it.
func SettingLabel(s string) string {
	switch s {
	case access.SettingOpenMembership:
		return "Open Membership"
	case access.SettingEventsMemberAdmin:
		return "Let Members Delete Events"
	case access.SettingAlertsMemberWrite:
		return "Let Members Create and Edit Alerts"
	case access.SettingAllowMemberInvite:
		return "Let Members Invite Others"
	case access.SettingAllowMemberProjectCreation:
		return "Let Members Create Projects"
	case access.SettingAllowJoinRequests:
		return "Allow Join Requests"
	case access.SettingRequire2FA:
		return "Require Two-Factor Authentication"
	case "requiresSso":
		return "Require SSO"
	case "hasAuthProvider":
		return "SSO auth provider"
	case "scimEnabled":
		return "SCIM"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Changes lists the access changes of d, the diff from before to after,
// in the diff's order. What counts:
//
//   - members added and removed, org role changes;
//   - team joins, departures and stored team role changes, of members in
//     both snapshots and of the members added;
//   - project links and unlinks between teams and projects in both
//     snapshots (a new project comes with the team that created it, and a
//     deleted one takes its links along: sentry-access neither creates
//     nor deletes projects);
//   - a team deleted, as one change carrying its memberships and links;
//   - every access-relevant organization setting that switched.
//
// Not counted: an invite accepted or expired (the invitee's doing, not an
// access grant), a member going over or back under the member limit (the
// plan's), a team created (it reaches nothing until someone joins it or a
// project is linked, which count), internal integrations (no change
// request kind carries them).
func Changes(d *access.SnapshotDiff, before, after *access.Snapshot) []Change {
	if d == nil {
		return nil
	}
	var out []Change
	for _, m := range d.MembersAdded {
		out = append(out, Change{Kind: KindMemberAdded, Member: m.ID, Email: m.Email, To: m.OrgRole})
	}
	for _, m := range d.MembersRemoved {
		out = append(out, Change{Kind: KindMemberRemoved, Member: m.ID, Email: m.Email, From: m.OrgRole})
	}
	for _, c := range d.OrgRoleChanges {
		out = append(out, Change{Kind: KindOrgRole, Member: c.Member.ID, Email: c.Member.Email, From: c.From, To: c.To})
	}
	removedTeams := map[string]*Change{}
	for _, t := range d.TeamsRemoved {
		removedTeams[t] = &Change{Kind: KindTeamRemoved, Team: t}
	}
	for _, j := range d.TeamsJoined {
		out = append(out, Change{Kind: KindTeamJoined, Member: j.Member.ID, Email: j.Member.Email, Team: j.Team, To: j.Role})
	}
	for _, l := range d.TeamsLeft {
		if rt, ok := removedTeams[l.Team]; ok {
			rt.Members = append(rt.Members, l.Member.Email)
			continue
		}
		out = append(out, Change{Kind: KindTeamLeft, Member: l.Member.ID, Email: l.Member.Email, Team: l.Team, From: l.Role})
	}
	for _, c := range d.TeamRoleChanges {
		out = append(out, Change{Kind: KindTeamRole, Member: c.Member.ID, Email: c.Member.Email, Team: c.Team, From: c.From, To: c.To})
	}
	newProjects := toSet(d.ProjectsAdded)
	goneProjects := toSet(d.ProjectsRemoved)
	for _, l := range d.ProjectsLinked {
		if !newProjects[l.Project] {
			out = append(out, Change{Kind: KindProjectLinked, Team: l.Team, Project: l.Project})
		}
	}
	for _, l := range d.ProjectsUnlinked {
		if rt, ok := removedTeams[l.Team]; ok {
			rt.Projects = append(rt.Projects, l.Project)
			continue
		}
		if !goneProjects[l.Project] {
			out = append(out, Change{Kind: KindProjectUnlinked, Team: l.Team, Project: l.Project})
		}
	}
	for _, t := range d.TeamsRemoved {
		out = append(out, *removedTeams[t])
	}
	for _, s := range d.SettingChanges {
		out = append(out, Change{Kind: KindSetting, Setting: s.Setting, From: onOff(s.From), To: onOff(s.To)})
	}
	users := userIDs(before, after)
	for i := range out {
		out[i].UserID = users[out[i].Member]
	}
	return out
}

// userIDs maps member ids to their users' ids, from both snapshots.
func userIDs(snaps ...*access.Snapshot) map[string]string {
	out := map[string]string{}
	for _, s := range snaps {
		if s == nil {
			continue
		}
		for _, m := range s.Members {
			if m.UserID != "" {
				out[m.ID] = m.UserID
			}
		}
	}
	return out
}

func toSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
