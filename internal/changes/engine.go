package changes

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// EnginePreviewer previews steps with the access engine: it turns them into
// access.Changes, runs access.Validate (every violation blocks: Sentry would
// refuse the call) and access.Apply, and compares what each affected member
// reaches before and after.
type EnginePreviewer struct{}

// Preview implements Previewer.
func (EnginePreviewer) Preview(s *access.Snapshot, steps []Step, requester string) (Preview, error) {
	var p Preview
	changes, index := toChanges(s, steps)
	for _, v := range access.Validate(s, changes, requester) {
		step := -1
		msg := "The steps cannot be applied to the organization as last synced. Check what they name against the member, team and project pages, or run a sync."
		if v.Index >= 0 && v.Index < len(index) {
			step = index[v.Index]
			msg = explainViolation(s, steps[:step], steps[step], v)
		}
		p.Violations = append(p.Violations, Violation{Step: step, Code: string(v.Rule), Message: msg, Blocking: true})
	}
	for _, st := range steps {
		if st.Kind == KindEndDate {
			if msg := endDateProblem(s, st); msg != "" {
				p.Violations = append(p.Violations, Violation{Step: st.Index, Code: string(access.RuleUnknown), Message: msg, Blocking: true})
			}
		}
	}
	after, err := access.Apply(s, changes)
	if err != nil {
		if len(p.Violations) == 0 {
			p.Violations = append(p.Violations, Violation{Step: -1, Code: string(access.RuleUnknown), Blocking: true,
				Message: "The steps cannot be applied to the organization as last synced. Check what they name against the member, team and project pages, or run a sync."})
		}
		return p, nil
	}
	p.Deltas = diffMembers(s, after, affectedMembers(s, after, changes))
	return p, nil
}

// endDateProblem says why an end-date step has nothing to end ("" when
// the membership or link it names exists in s).
func endDateProblem(s *access.Snapshot, st Step) string {
	p := st.Params
	if p.Project != "" {
		i := slices.IndexFunc(s.Projects, func(x access.Project) bool { return x.Slug == p.Project })
		if i < 0 || !slices.Contains(s.Projects[i].Teams, p.Team) {
			return fmt.Sprintf("Team %s is not linked to project %s, so there is no link to put an end date on (step %d). Link it with a \"Link team to project\" step and an expiry instead.", p.Team, p.Project, st.Index+1)
		}
		return ""
	}
	m, ok := memberByID(s, p.Member)
	if !ok {
		return explainUnknown(s, nil, st)
	}
	if !slices.ContainsFunc(m.Teams, func(ms access.Membership) bool { return ms.Team == p.Team }) {
		return fmt.Sprintf("%s is not on team %s, so there is no membership to put an end date on (step %d). Add them with an \"Add member to team\" step and an expiry instead.", m.Email, p.Team, st.Index+1)
	}
	return ""
}

// toChanges maps steps to engine changes; index[i] is the step of change i.
// Steps with no effect on access (invites, denials, renames) map to none.
func toChanges(s *access.Snapshot, steps []Step) ([]access.Change, []int) {
	var out []access.Change
	var index []int
	add := func(i int, c access.Change) {
		out = append(out, c)
		index = append(index, i)
	}
	for i, st := range steps {
		p := st.Params
		switch st.Kind {
		case KindTeamCreate, KindTeamDelete, KindProjectLink, KindProjectUnlink,
			KindTeamAdd, KindTeamRemove, KindTeamRole, KindOrgRole, KindMemberRemove:
			add(i, access.Change{Kind: access.ChangeKind(st.Kind), Member: p.Member, Team: p.Team, Project: p.Project, Role: p.Role})
		case KindAccessRequestApprove:
			if p.Member != "" && p.Team != "" {
				add(i, access.Change{Kind: access.ChangeTeamAdd, Member: p.Member, Team: p.Team})
			}
		case KindSCIMUserDeactivate:
			add(i, access.Change{Kind: access.ChangeMemberRemove, Member: p.Member})
		case KindSCIMGroupCreate:
			add(i, access.Change{Kind: access.ChangeTeamCreate, Team: Slugify(p.Name)})
		case KindSCIMGroupMembers:
			team := p.Team
			if team == "" {
				team = teamSlugByID(s, p.TeamID)
			}
			for _, m := range p.Add {
				add(i, access.Change{Kind: access.ChangeTeamAdd, Member: m, Team: team})
			}
			for _, m := range p.Remove {
				add(i, access.Change{Kind: access.ChangeTeamRemove, Member: m, Team: team})
			}
		}
	}
	return out, index
}

func teamSlugByID(s *access.Snapshot, id string) string {
	for _, t := range s.Teams {
		if t.ID == id {
			return t.Slug
		}
	}
	return ""
}

// Slugify turns a display name into a Sentry slug the way SCIM group
// creation does (lower case, runs of other characters become "-").
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// affectedMembers are the members named by changes plus every member of a
// team the changes touch, before or after.
func affectedMembers(before, after *access.Snapshot, changes []access.Change) []string {
	var ids []string
	addID := func(ref string) {
		for _, s := range []*access.Snapshot{before, after} {
			for _, m := range s.Members {
				if (m.ID == ref || strings.EqualFold(m.Email, ref)) && !slices.Contains(ids, m.ID) {
					ids = append(ids, m.ID)
				}
			}
		}
	}
	teams := map[string]bool{}
	for _, c := range changes {
		if c.Member != "" {
			addID(c.Member)
		}
		if c.Team != "" {
			teams[c.Team] = true
		}
	}
	for _, s := range []*access.Snapshot{before, after} {
		for _, m := range s.Members {
			for _, t := range m.Teams {
				if teams[t.Team] {
					addID(m.ID)
				}
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// diffMembers compares the project reach of members in two snapshots.
func diffMembers(before, after *access.Snapshot, ids []string) []AccessDelta {
	eb, ea := access.New(before), access.New(after)
	reach := func(e *access.Engine, id string) (access.MemberRef, map[string][]string, map[string]string) {
		ma, err := e.Member(id)
		if errors.Is(err, access.ErrUnknownMember) || err != nil {
			return access.MemberRef{}, nil, nil
		}
		out, via := map[string][]string{}, map[string]string{}
		for _, p := range ma.Projects {
			out[p.Slug] = p.Scopes
			via[p.Slug] = viaText(ma.Member.OrgRole, p.Paths)
		}
		return ma.Member, out, via
	}
	var deltas []AccessDelta
	for _, id := range ids {
		refB, b, viaB := reach(eb, id)
		refA, a, viaA := reach(ea, id)
		email := refB.Email
		if email == "" {
			email = refA.Email
		}
		var projects []string
		for p := range b {
			projects = append(projects, p)
		}
		for p := range a {
			if _, ok := b[p]; !ok {
				projects = append(projects, p)
			}
		}
		slices.Sort(projects)
		for _, p := range projects {
			sb, inB := b[p]
			sa, inA := a[p]
			d := AccessDelta{Member: id, Email: email, Project: p, GainsAccess: inA && !inB, LosesAccess: inB && !inA, Via: viaA[p]}
			if !inA {
				d.Via = viaB[p]
			}
			for _, sc := range sa {
				if !slices.Contains(sb, sc) {
					d.Gained = append(d.Gained, sc)
				}
			}
			for _, sc := range sb {
				if !slices.Contains(sa, sc) {
					d.Lost = append(d.Lost, sc)
				}
			}
			if d.GainsAccess || d.LosesAccess || len(d.Gained)+len(d.Lost) > 0 {
				deltas = append(deltas, d)
			}
		}
	}
	return deltas
}

// viaText names the roles that give a member its scopes on a project:
// each path (a team with its effective team role, a global org role, open
// membership) and the member's org role.
func viaText(orgRole string, paths []access.Path) string {
	var parts []string
	for _, p := range paths {
		switch p.Kind {
		case access.PathTeam:
			parts = append(parts, fmt.Sprintf("team %s as %s", p.Team, p.TeamRole))
		case access.PathGlobalRole:
			parts = append(parts, "the "+orgRole+" org role's global access")
		case access.PathOpenMembership:
			parts = append(parts, "open membership")
		}
	}
	parts = append(parts, "org role "+orgRole)
	return strings.Join(parts, ", ")
}
