package unapproved

import (
	"slices"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
)

// Undone returns the steps sentry-access applied whose effect the
// snapshot after does not show, as KindUndone changes: someone changed it
// back in Sentry before the sync could see it, so the diff shows nothing
// (a time-bound grant revoked at expiry and granted again by hand looks
// like no change at all). steps must be applied steps that finished
// before the sync of after began, in the order they were applied; for each
// object only the last step counts. An object a change of cs already
// concerns is left to that change, and so is one whose member, team or
// project is gone (its removal is a change of its own).
//
// The effects checked: team-add and the approval of an access request (on
// the team), team-remove (off it), project-link and project-unlink,
// org-role, team-role (the role, or null when Sentry stores null for it),
// member-remove, team-create and team-delete. SCIM steps are not checked:
// the IdP may legitimately change the same groups again.
func Undone(steps []Applied, after *access.Snapshot, cs []Change) []Change {
	if after == nil {
		return nil
	}
	type key struct {
		what, member, team, project string
	}
	keyOf := func(st changes.Step) (key, bool) {
		p := st.Params
		switch st.Kind {
		case changes.KindTeamAdd, changes.KindTeamRemove, changes.KindAccessRequestApprove:
			return key{"membership", p.Member, p.Team, ""}, true
		case changes.KindProjectLink, changes.KindProjectUnlink:
			return key{"link", "", p.Team, p.Project}, true
		case changes.KindOrgRole:
			return key{"org-role", p.Member, "", ""}, true
		case changes.KindTeamRole:
			return key{"team-role", p.Member, p.Team, ""}, true
		case changes.KindMemberRemove:
			return key{"member", p.Member, "", ""}, true
		case changes.KindTeamCreate, changes.KindTeamDelete:
			return key{"team", "", p.Team, ""}, true
		}
		return key{}, false
	}
	concerned := map[key]bool{}
	for _, c := range cs {
		switch c.Kind {
		case KindTeamJoined, KindTeamLeft:
			concerned[key{"membership", c.Member, c.Team, ""}] = true
			concerned[key{"team-role", c.Member, c.Team, ""}] = true
		case KindTeamRole:
			concerned[key{"team-role", c.Member, c.Team, ""}] = true
		case KindProjectLinked, KindProjectUnlinked:
			concerned[key{"link", "", c.Team, c.Project}] = true
		case KindOrgRole:
			concerned[key{"org-role", c.Member, "", ""}] = true
		case KindMemberAdded, KindMemberRemoved:
			concerned[key{"member", c.Member, "", ""}] = true
		case KindTeamRemoved:
			concerned[key{"team", "", c.Team, ""}] = true
		}
	}
	last := map[key]int{}
	var order []key
	for i, a := range steps {
		if a.Step.State != changes.StepApplied {
			continue
		}
		k, ok := keyOf(a.Step)
		if !ok {
			continue
		}
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = i
	}
	teams := map[string]bool{}
	for _, t := range after.Teams {
		teams[t.Slug] = true
	}
	projects := map[string][]string{}
	for _, p := range after.Projects {
		projects[p.Slug] = p.Teams
	}
	var out []Change
	for _, k := range order {
		if concerned[k] {
			continue
		}
		a := steps[last[k]]
		p := a.Step.Params
		ref := a.Ref()
		u := Change{Kind: KindUndone, Member: p.Member, Email: p.Email, Team: p.Team, Project: p.Project, Undone: &ref}
		switch a.Step.Kind {
		case changes.KindTeamAdd, changes.KindAccessRequestApprove, changes.KindTeamRemove:
			m, ok := member(after, p.Member)
			if !ok || !teams[p.Team] {
				continue
			}
			_, on := teamRoleOf(after, p.Member, p.Team)
			want := a.Step.Kind != changes.KindTeamRemove
			if on == want {
				continue
			}
			u.Email, u.UserID, u.From, u.To = m.Email, m.UserID, onOff(want), onOff(on)
		case changes.KindProjectLink, changes.KindProjectUnlink:
			linked, ok := projects[p.Project]
			if !ok || !teams[p.Team] {
				continue
			}
			on := slices.Contains(linked, p.Team)
			want := a.Step.Kind == changes.KindProjectLink
			if on == want {
				continue
			}
			u.From, u.To = onOff(want), onOff(on)
		case changes.KindOrgRole:
			m, ok := member(after, p.Member)
			if !ok || m.OrgRole == p.Role {
				continue
			}
			u.Email, u.UserID, u.From, u.To = m.Email, m.UserID, p.Role, m.OrgRole
		case changes.KindTeamRole:
			m, ok := member(after, p.Member)
			if !ok {
				continue
			}
			r, on := teamRoleOf(after, p.Member, p.Team)
			if !on || r == p.Role || (r == "" && atOrBelow(after, p.Role, m.OrgRole)) {
				continue
			}
			u.Email, u.UserID, u.From, u.To = m.Email, m.UserID, p.Role, r
		case changes.KindMemberRemove:
			m, ok := member(after, p.Member)
			if !ok {
				continue
			}
			u.Email, u.UserID, u.From, u.To = m.Email, m.UserID, "off", "on"
		case changes.KindTeamCreate, changes.KindTeamDelete:
			want := a.Step.Kind == changes.KindTeamCreate
			if teams[p.Team] == want {
				continue
			}
			u.Member, u.Email = "", ""
			u.From, u.To = onOff(want), onOff(teams[p.Team])
		}
		out = append(out, u)
	}
	return out
}
