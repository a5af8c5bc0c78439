package unapproved

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// Sentry's audit log records each access change with an event name, a
// target and data (docs/sentry-access-model.md#audit-log):
//
//   - member.invite (member.add where invites are off) and member.remove:
//     target object the member's id, data its audit data (email, role,
//     teams …); member.edit of the org role likewise (data role the new
//     role);
//   - member.join-team, member.leave-team: target object the team
//     membership's own id (not the member's), target user the member's
//     user, data team_slug and email (and member_id when added through
//     the member↔team endpoint);
//   - member.edit of a team role: target object the membership's id,
//     data email, role, team_slug and team_role;
//   - project-team.add, project-team.remove: target object the project,
//     data team_slug and project_slug;
//   - team.remove: target object the team, data slug;
//   - org.edit: data names each changed field, organization flags by
//     their internal name (allow_joinleave for open membership,
//     require_2fa, disable_member_invite, disable_member_project_creation)
//     and options by their API name (eventsMemberAdmin, alertsMemberWrite,
//     allowJoinRequests).

// AuditEvents returns the audit-log event names that may record c.
func AuditEvents(c Change) []string {
	switch c.Kind {
	case KindMemberAdded:
		return []string{"member.invite", "member.add"}
	case KindMemberRemoved:
		return []string{"member.remove"}
	case KindOrgRole, KindTeamRole:
		return []string{"member.edit"}
	case KindTeamJoined:
		return []string{"member.join-team"}
	case KindTeamLeft:
		return []string{"member.leave-team"}
	case KindProjectLinked:
		return []string{"project-team.add"}
	case KindProjectUnlinked:
		return []string{"project-team.remove"}
	case KindTeamRemoved:
		return []string{"team.remove"}
	case kindTeamCreated:
		return []string{"team.create"}
	case KindSetting:
		switch c.Setting {
		case "requiresSso", "hasAuthProvider", "scimEnabled":
			return []string{"sso.enable", "sso.disable", "sso.edit"}
		}
		return []string{"org.edit"}
	case KindUndone:
		return AuditEvents(c.undoneBy())
	}
	return nil
}

// kindTeamCreated is a team created: no access change of its own (see
// Changes), but what undoes a team-delete.
const kindTeamCreated Kind = "team-created"

// undoneBy is the change that undid an applied step (KindUndone): a team
// left for a team-add undone, and so on.
func (c Change) undoneBy() Change {
	out := Change{Member: c.Member, Email: c.Email, UserID: c.UserID, Team: c.Team, Project: c.Project, From: c.From, To: c.To}
	flip := func(on, off Kind) Kind {
		if c.From == "on" {
			return on
		}
		return off
	}
	switch {
	case c.Project != "":
		out.Kind = flip(KindProjectUnlinked, KindProjectLinked)
	case c.Member != "" && c.Team != "" && (c.From == "on" || c.From == "off"):
		out.Kind = flip(KindTeamLeft, KindTeamJoined)
	case c.Member != "" && c.Team != "":
		out.Kind = KindTeamRole
	case c.Member != "" && c.From == "off":
		out.Kind = KindMemberAdded
	case c.Member != "":
		out.Kind = KindOrgRole
	case c.Team != "" && c.From == "on":
		out.Kind = KindTeamRemoved
	default:
		out.Kind = kindTeamCreated
	}
	return out
}

// settingKeys are the org.edit data keys that record a setting
// (OrganizationSerializer.save in organization_details.py): organization
// flags by their internal name, options by their API name. The API name is
// accepted for every one, as older servers and the simulator wrote it.
func settingKeys(s string) []string {
	switch s {
	case access.SettingOpenMembership:
		return []string{"allow_joinleave", s}
	case access.SettingRequire2FA:
		return []string{"require_2fa", s}
	case access.SettingAllowMemberInvite:
		return []string{"disable_member_invite", s}
	case access.SettingAllowMemberProjectCreation:
		return []string{"disable_member_project_creation", s}
	}
	return []string{s}
}

// AuditFor returns the newest of entries that records c, or nil: the
// event is one of AuditEvents(c) and its target and data name c's
// member, team, project or setting. Callers pass the entries of the time
// window the change happened in.
func AuditFor(c Change, entries []sentry.AuditLogEntry) *sentry.AuditLogEntry {
	if c.Kind == KindUndone {
		return AuditFor(c.undoneBy(), entries)
	}
	events := AuditEvents(c)
	var best *sentry.AuditLogEntry
	for i := range entries {
		e := &entries[i]
		if !contains(events, e.Event) || !records(c, e) {
			continue
		}
		if best == nil || e.DateCreated.After(best.DateCreated) {
			best = e
		}
	}
	return best
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// records reports whether entry e (of one of c's events) is about c.
func records(c Change, e *sentry.AuditLogEntry) bool {
	data := map[string]any{}
	_ = json.Unmarshal(e.Data, &data) // data that is no object names nothing
	str := func(k string) string {
		switch v := data[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		}
		return ""
	}
	target := ""
	if e.TargetObject != nil {
		target = strconv.FormatInt(*e.TargetObject, 10)
	}
	// isMember: the entry names c's member by the member id (target
	// object or data's member_id), the target user or the email.
	isMember := func(byTarget bool) bool {
		if c.Member != "" && ((byTarget && target == c.Member) || str("member_id") == c.Member) {
			return true
		}
		if tu := e.TargetUser; tu != nil {
			if (c.UserID != "" && tu.ID == c.UserID) || (c.Email != "" && strings.EqualFold(tu.Email, c.Email)) {
				return true
			}
		}
		return c.Email != "" && strings.EqualFold(str("email"), c.Email)
	}
	teamSlug := func() string {
		for _, k := range []string{"team_slug", "teamSlug"} {
			if v := str(k); v != "" {
				return v
			}
		}
		return ""
	}
	switch c.Kind {
	case KindMemberAdded, KindMemberRemoved:
		return isMember(true)
	case KindOrgRole:
		return teamSlug() == "" && isMember(true) && (str("role") == "" || str("role") == c.To)
	case KindTeamRole:
		return teamSlug() == c.Team && isMember(false)
	case KindTeamJoined, KindTeamLeft:
		return teamSlug() == c.Team && isMember(false)
	case KindProjectLinked, KindProjectUnlinked:
		return teamSlug() == c.Team && str("project_slug") == c.Project
	case KindTeamRemoved, kindTeamCreated:
		return str("slug") == c.Team
	case KindSetting:
		if e.Event != "org.edit" {
			return true
		}
		for _, k := range settingKeys(c.Setting) {
			if _, ok := data[k]; ok {
				return true
			}
		}
	}
	return false
}

// StepChange is the change step st makes when it is applied, as AuditFor
// matches it: the Sentry audit entries of a step sentry-access applied are
// found by it. ok is false for steps the audit log records in no way this
// package reads (access request denials, SCIM group changes).
func StepChange(st changes.Step) (Change, bool) {
	p := st.Params
	c := Change{Member: p.Member, Email: p.Email, Team: p.Team, Project: p.Project, To: p.Role}
	switch st.Kind {
	case changes.KindTeamAdd, changes.KindAccessRequestApprove:
		c.Kind = KindTeamJoined
		c.To = ""
	case changes.KindTeamRemove:
		c.Kind = KindTeamLeft
	case changes.KindTeamRole:
		c.Kind = KindTeamRole
	case changes.KindOrgRole:
		c.Kind = KindOrgRole
	case changes.KindMemberRemove, changes.KindSCIMUserDeactivate:
		c.Kind = KindMemberRemoved
	case changes.KindMemberInvite, changes.KindSCIMUserCreate:
		c.Kind = KindMemberAdded
		c.Member = ""
	case changes.KindProjectLink:
		c.Kind = KindProjectLinked
	case changes.KindProjectUnlink:
		c.Kind = KindProjectUnlinked
	case changes.KindTeamDelete:
		c.Kind = KindTeamRemoved
	default:
		return Change{}, false
	}
	return c, true
}

// AuditEntry is an archived Sentry audit-log entry as a finding or a
// request page cites it: who did it, when, from where.
type AuditEntry struct {
	ID    string `json:"id"`
	Event string `json:"event"`
	// Actor is the actor's name and email as Sentry gave them ("Jane Doe
	// <jane@acme.test>"), or the name of an integration or "Sentry".
	Actor string    `json:"actor"`
	IP    string    `json:"ip,omitempty"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// CiteAudit turns an archived entry into the citation findings keep.
func CiteAudit(e sentry.AuditLogEntry) AuditEntry {
	actor := "Sentry"
	if a := e.Actor; a != nil {
		switch {
		case a.Name != "" && a.Email != "" && !strings.EqualFold(a.Name, a.Email):
			actor = fmt.Sprintf("%s <%s>", a.Name, a.Email)
		case a.Email != "":
			actor = a.Email
		case a.Name != "":
			actor = a.Name
		}
	}
	return AuditEntry{ID: e.ID, Event: e.Event, Actor: actor, IP: e.IPAddress, At: e.DateCreated.UTC(), Note: e.Note}
}
