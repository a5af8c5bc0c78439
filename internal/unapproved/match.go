package unapproved

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
)

// StepRef names one step of a change request: the request's id and the
// step's index (0-based).
type StepRef struct {
	Request string `json:"request"`
	Step    int    `json:"step"`
}

// String is "#12 step 2" (the step counted from 1, as pages show it).
func (r StepRef) String() string { return fmt.Sprintf("#%s step %d", r.Request, r.Step+1) }

// Applied is a step sentry-access carried out for an approved request.
type Applied struct {
	Request string
	Step    changes.Step
}

// Ref names the step.
func (a Applied) Ref() StepRef { return StepRef{Request: a.Request, Step: a.Step.Index} }

// Carried reports whether sentry-access sent st to Sentry between from and
// to: it is applied, being applied, or failed after at least one call
// (Sentry may have made the change and then answered an error), it started
// no later than to, and it had not finished before from. Such a step was
// approved, so what it did is explained whatever Sentry answered.
func Carried(st changes.Step, from, to time.Time) bool {
	switch st.State {
	case changes.StepApplied, changes.StepApplying:
	case changes.StepFailed:
		if st.Attempts == 0 {
			return false
		}
	default:
		return false
	}
	if st.StartedAt == nil || st.StartedAt.After(to) {
		return false
	}
	return st.FinishedAt == nil || !st.FinishedAt.Before(from)
}

// Verdict is how the applied steps account for a change.
type Verdict string

// Verdicts.
const (
	// Explained: an applied step made this change.
	Explained Verdict = "explained"
	// Partial: an applied step made part of it; the rest (a role, say) was
	// made outside sentry-access.
	Partial Verdict = "partial"
	// Unexplained: no applied step made it: made outside sentry-access.
	Unexplained Verdict = "unexplained"
)

// Explanation is the verdict on one change, with the steps that explain
// it in whole or in part and, for a partial verdict, what they leave
// unexplained in words.
type Explanation struct {
	Change    Change
	Verdict   Verdict
	By        []StepRef
	Remainder string
	// Approved is, for a partial verdict, the role the steps asked for
	// ("" for a team join: Sentry's null): reverting the rest sets it.
	Approved string
}

// Flagged reports whether the change was made, at least in part, outside
// sentry-access.
func (e Explanation) Flagged() bool { return e.Verdict != Explained }

// Pair is the snapshot before and after the changes; the rules need
// their teams (SCIM groups are numbered by team id), members and roles.
type Pair struct {
	Before, After *access.Snapshot
}

// Explain decides, for each change, whether the applied steps explain it.
// The rules, as TestExplain's table states them:
//
//   - member added: by an invite (member-invite, scim-user-create) of the
//     same email; its org role too when the invite asked for it (an
//     invite without a role asks for member) or an org-role step set it,
//     else partial;
//   - member removed: by member-remove or scim-user-deactivate;
//   - org role: by org-role of the member to that role; to another role:
//     partial;
//   - team joined: by team-add, the approval of Sentry's access request,
//     a SCIM group change adding the member, the creation of the team by
//     the token's own member (Sentry puts the creator on it), or a SCIM
//     group rename that moved the membership; a stored team role
//     (anything but null) also needs a team-role step to that role, else
//     partial;
//   - team left: by team-remove, a SCIM group change removing the
//     member, or a rename;
//   - team role: by team-role to that role; to null by a team-role at or
//     below the member's minimum team role (Sentry stores null then,
//     _change_team_member_role) or by an org-role step whose new minimum
//     team role covers the old one (_change_org_role); to another role:
//     partial;
//   - project linked or unlinked: by project-link or project-unlink of
//     that pair, or a rename of the team;
//   - team removed: by team-delete, or a rename;
//   - an organization setting: never (no change request changes one).
func Explain(cs []Change, steps []Applied, p Pair) []Explanation {
	x := newIndex(steps, p)
	out := make([]Explanation, len(cs))
	for i, c := range cs {
		out[i] = x.explain(c)
	}
	return out
}

// index is the applied steps arranged for the rules.
type index struct {
	steps   []Applied
	p       Pair
	renames map[string]string // old slug → new slug (scim-group-rename)
}

func newIndex(steps []Applied, p Pair) *index {
	if p.Before == nil {
		p.Before = &access.Snapshot{}
	}
	if p.After == nil {
		p.After = &access.Snapshot{}
	}
	x := &index{steps: steps, p: p, renames: map[string]string{}}
	for _, a := range steps {
		if a.Step.Kind != changes.KindSCIMGroupRename {
			continue
		}
		old, okb := teamSlug(p.Before, a.Step.Params.TeamID)
		cur, oka := teamSlug(p.After, a.Step.Params.TeamID)
		if okb && oka && old != cur {
			x.renames[old] = cur
		}
	}
	return x
}

func teamSlug(s *access.Snapshot, id string) (string, bool) {
	if id == "" {
		return "", false
	}
	for _, t := range s.Teams {
		if t.ID == id {
			return t.Slug, true
		}
	}
	return "", false
}

func member(s *access.Snapshot, id string) (*access.Member, bool) {
	for i := range s.Members {
		if s.Members[i].ID == id {
			return &s.Members[i], true
		}
	}
	return nil, false
}

// teamRoleOf returns the stored team role of member id on team, and
// whether the member is on it.
func teamRoleOf(s *access.Snapshot, id, team string) (string, bool) {
	m, ok := member(s, id)
	if !ok {
		return "", false
	}
	for _, ms := range m.Teams {
		if ms.Team == team {
			return ms.Role, true
		}
	}
	return "", false
}

// find returns the steps for which match holds.
func (x *index) find(match func(k changes.Kind, p changes.Params) bool) []Applied {
	var out []Applied
	for _, a := range x.steps {
		if match(a.Step.Kind, a.Step.Params) {
			out = append(out, a)
		}
	}
	return out
}

func refs(as ...[]Applied) []StepRef {
	var out []StepRef
	for _, list := range as {
		for _, a := range list {
			if r := a.Ref(); !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

func requestsText(as []Applied) string {
	var ids []string
	for _, a := range as {
		if id := "#" + a.Request; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 1 {
		return "change request " + ids[0]
	}
	return "change requests " + strings.Join(ids, ", ")
}

// atOrBelow reports whether team role r is at or below the minimum team
// role of orgRole, by the team roles' priority (their order, lowest first).
func atOrBelow(s *access.Snapshot, r, orgRole string) bool {
	roles := s.TeamRoles
	if len(roles) == 0 {
		roles = access.DefaultTeamRoles()
	}
	idx := func(id string) int {
		return slices.IndexFunc(roles, func(t access.TeamRole) bool { return t.ID == id })
	}
	ri, mi := idx(r), idx(access.MinimumTeamRole(s, orgRole))
	return ri >= 0 && mi >= 0 && ri <= mi
}

func (x *index) explain(c Change) Explanation {
	e := Explanation{Change: c, Verdict: Unexplained}
	// explained is the verdict of the steps found; none found is none.
	explained := func(by ...[]Applied) Explanation {
		if r := refs(by...); len(r) > 0 {
			e.Verdict, e.By = Explained, r
		}
		return e
	}
	partial := func(approved, rest string, by ...[]Applied) Explanation {
		e.Verdict, e.By, e.Remainder, e.Approved = Partial, refs(by...), rest, approved
		return e
	}
	is := func(p changes.Params) bool { return p.Member == c.Member }
	switch c.Kind {
	case KindMemberAdded:
		invites := x.find(func(k changes.Kind, p changes.Params) bool {
			return (k == changes.KindMemberInvite || k == changes.KindSCIMUserCreate) && strings.EqualFold(p.Email, c.Email)
		})
		if len(invites) == 0 {
			return e
		}
		role := x.find(func(k changes.Kind, p changes.Params) bool {
			return k == changes.KindOrgRole && is(p) && p.Role == c.To
		})
		asked := slices.ContainsFunc(invites, func(a Applied) bool {
			r := a.Step.Params.Role
			if r == "" {
				r = access.RoleMember
			}
			return c.To == "" || r == c.To
		})
		if asked || len(role) > 0 {
			return explained(invites, role)
		}
		return partial(inviteRole(invites), fmt.Sprintf("%s invited %s as %s; the org role %s was set outside sentry-access",
			requestsText(invites), c.who(), inviteRole(invites), c.To), invites)
	case KindMemberRemoved:
		return explained(x.find(func(k changes.Kind, p changes.Params) bool {
			return (k == changes.KindMemberRemove || k == changes.KindSCIMUserDeactivate) && is(p)
		}))
	case KindOrgRole:
		all := x.find(func(k changes.Kind, p changes.Params) bool { return k == changes.KindOrgRole && is(p) })
		exact := filter(all, func(p changes.Params) bool { return p.Role == c.To })
		switch {
		case len(exact) > 0:
			return explained(exact)
		case len(all) > 0:
			last := all[len(all)-1].Step.Params.Role
			return partial(last, fmt.Sprintf("%s set the org role to %s; it is %s now: changed again outside sentry-access",
				requestsText(all), last, c.To), all)
		}
	case KindTeamJoined:
		joins := x.joins(c)
		if len(joins) == 0 {
			return e
		}
		if c.To == "" {
			return explained(joins)
		}
		roles := x.find(func(k changes.Kind, p changes.Params) bool {
			return k == changes.KindTeamRole && is(p) && p.Team == c.Team && p.Role == c.To
		})
		if len(roles) > 0 || x.renamedWithRole(c) {
			return explained(joins, roles)
		}
		return partial("", fmt.Sprintf("%s added %s to team %s; the team role %s was set outside sentry-access",
			requestsText(joins), c.who(), c.Team, c.To), joins)
	case KindTeamLeft:
		return explained(x.find(func(k changes.Kind, p changes.Params) bool {
			switch k {
			case changes.KindTeamRemove:
				return is(p) && p.Team == c.Team
			case changes.KindSCIMGroupMembers:
				slug, _ := teamSlug(x.p.Before, p.TeamID)
				return slug == c.Team && slices.Contains(p.Remove, c.Member)
			case changes.KindSCIMGroupRename:
				slug, _ := teamSlug(x.p.Before, p.TeamID)
				return slug == c.Team && x.renames[slug] != ""
			}
			return false
		}))
	case KindTeamRole:
		all := x.find(func(k changes.Kind, p changes.Params) bool {
			return k == changes.KindTeamRole && is(p) && p.Team == c.Team
		})
		exact := filter(all, func(p changes.Params) bool {
			return p.Role == c.To || (c.To == "" && x.nullFor(c.Member, p.Role))
		})
		if len(exact) > 0 {
			return explained(exact)
		}
		if c.To == "" {
			byOrgRole := x.find(func(k changes.Kind, p changes.Params) bool {
				return k == changes.KindOrgRole && is(p) && (c.From == "" || atOrBelow(x.p.After, c.From, p.Role))
			})
			if len(byOrgRole) > 0 {
				return explained(byOrgRole)
			}
		}
		if len(all) > 0 {
			last := all[len(all)-1].Step.Params.Role
			return partial(last, fmt.Sprintf("%s set the team role to %s; it is %s now: changed again outside sentry-access",
				requestsText(all), last, roleText(c.To)), all)
		}
	case KindProjectLinked, KindProjectUnlinked:
		kind := changes.KindProjectLink
		if c.Kind == KindProjectUnlinked {
			kind = changes.KindProjectUnlink
		}
		return explained(x.find(func(k changes.Kind, p changes.Params) bool {
			return k == kind && p.Team == c.Team && p.Project == c.Project
		}), x.renameSteps(c.Team))
	case KindTeamRemoved:
		return explained(x.find(func(k changes.Kind, p changes.Params) bool {
			return k == changes.KindTeamDelete && p.Team == c.Team
		}), x.renameSteps(c.Team))
	}
	return e
}

// joins are the steps that put c's member on c's team.
func (x *index) joins(c Change) []Applied {
	caller := x.p.After.Caller.MemberID
	return x.find(func(k changes.Kind, p changes.Params) bool {
		switch k {
		case changes.KindTeamAdd, changes.KindAccessRequestApprove:
			return p.Member == c.Member && p.Team == c.Team
		case changes.KindSCIMGroupMembers:
			slug, _ := teamSlug(x.p.After, p.TeamID)
			return slug == c.Team && slices.Contains(p.Add, c.Member)
		case changes.KindTeamCreate:
			// Sentry puts the member who creates a team on it
			// (organization_teams.py, post): here the token's member.
			return p.Team == c.Team && caller != "" && caller == c.Member
		case changes.KindSCIMGroupRename:
			slug, _ := teamSlug(x.p.After, p.TeamID)
			if slug != c.Team {
				return false
			}
			for old, cur := range x.renames {
				if cur == slug {
					_, was := teamRoleOf(x.p.Before, c.Member, old)
					return was
				}
			}
		}
		return false
	})
}

// renamedWithRole reports whether c's membership moved by a rename with
// its stored role.
func (x *index) renamedWithRole(c Change) bool {
	for old, cur := range x.renames {
		if cur == c.Team {
			r, was := teamRoleOf(x.p.Before, c.Member, old)
			return was && r == c.To
		}
	}
	return false
}

// renameSteps are the SCIM group renames that gave team slug to another
// team or took it from one.
func (x *index) renameSteps(slug string) []Applied {
	return x.find(func(k changes.Kind, p changes.Params) bool {
		if k != changes.KindSCIMGroupRename {
			return false
		}
		old, _ := teamSlug(x.p.Before, p.TeamID)
		cur, _ := teamSlug(x.p.After, p.TeamID)
		return old != cur && (old == slug || cur == slug)
	})
}

// nullFor reports whether Sentry stores null when team role r is set for
// member id: r is at or below the minimum team role of its org role
// (_change_team_member_role in organization_member_team_details.py).
func (x *index) nullFor(id, r string) bool {
	m, ok := member(x.p.After, id)
	return ok && atOrBelow(x.p.After, r, m.OrgRole)
}

func filter(as []Applied, keep func(changes.Params) bool) []Applied {
	var out []Applied
	for _, a := range as {
		if keep(a.Step.Params) {
			out = append(out, a)
		}
	}
	return out
}

func inviteRole(as []Applied) string {
	for _, a := range as {
		if a.Step.Params.Role != "" {
			return a.Step.Params.Role
		}
	}
	return access.RoleMember
}
