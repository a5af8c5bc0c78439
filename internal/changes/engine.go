package changes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// EnginePreviewer previews steps with the access engine: it turns them into
// access.Changes, runs access.Validate against the acting identity (who
// Sentry sees: the owner of the configured token, recorded in the
// snapshot) and access.Apply, and compares what each affected member
// reaches before and after. A violation blocks unless the engine marks it
// a warning (the rule depends on the Sentry version, or on what could not
// be checked).
type EnginePreviewer struct{}

// Preview implements Previewer.
func (EnginePreviewer) Preview(s *access.Snapshot, steps []Step) (Preview, error) {
	p := Preview{ActingAs: access.CallerSentence(s.Caller)}
	changes, index := toChanges(s, steps)
	for _, v := range access.Validate(s, changes, s.Caller) {
		step := -1
		msg := v.Message
		if v.Rule == access.RuleUnknown {
			msg = "The steps cannot be applied to the organization as last synced. Check what they name against the member, team and project pages, or run a sync."
		}
		if v.Index >= 0 && v.Index < len(index) {
			step = index[v.Index]
			msg = explainViolation(s, steps[:step], steps[step], v)
		}
		p.Violations = append(p.Violations, Violation{Step: step, Code: string(v.Rule), Message: msg, Blocking: !v.Warning})
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
		if len(p.Blocking()) == 0 {
			p.Violations = append(p.Violations, Violation{Step: -1, Code: string(access.RuleUnknown), Blocking: true,
				Message: "The steps cannot be applied to the organization as last synced. Check what they name against the member, team and project pages, or run a sync."})
		}
		return p, nil
	}
	ids := affectedMembers(s, after, changes)
	p.Deltas = diffMembers(s, after, ids)
	p.Affected = affectedAccess(s, after, ids)
	p.TeamRoles = teamRoleEffects(s, changes, index)
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
// Steps with no effect on access (denials, renames) map to none. A team
// created through the REST API gets the acting identity's member on it, as
// Sentry adds the creator; SCIM steps are marked SCIM.
func toChanges(s *access.Snapshot, steps []Step) ([]access.Change, []int) {
	var out []access.Change
	var index []int
	add := func(i int, c access.Change) {
		out = append(out, c)
		index = append(index, i)
	}
	creator := ""
	if s.Caller.Kind == access.CallerUser {
		creator = s.Caller.MemberID
	}
	for i, st := range steps {
		p := st.Params
		switch st.Kind {
		case KindTeamCreate:
			add(i, access.Change{Kind: access.ChangeTeamCreate, Team: p.Team, Member: creator})
		case KindTeamDelete, KindProjectLink, KindProjectUnlink,
			KindTeamAdd, KindTeamRemove, KindTeamRole, KindOrgRole, KindMemberRemove:
			add(i, access.Change{Kind: access.ChangeKind(st.Kind), Member: p.Member, Team: p.Team, Project: p.Project, Role: p.Role})
		case KindMemberInvite:
			add(i, access.Change{Kind: access.ChangeMemberInvite, Member: p.Email, Role: p.Role})
		case KindAccessRequestApprove:
			if p.Member != "" && p.Team != "" {
				add(i, access.Change{Kind: access.ChangeTeamAdd, Member: p.Member, Team: p.Team})
			}
		case KindSCIMUserDeactivate:
			add(i, access.Change{Kind: access.ChangeMemberRemove, Member: p.Member, SCIM: true})
		case KindSCIMGroupCreate:
			add(i, access.Change{Kind: access.ChangeTeamCreate, Team: Slugify(p.Name), SCIM: true})
		case KindSCIMGroupMembers:
			team := p.Team
			if team == "" {
				team = teamSlugByID(s, p.TeamID)
			}
			for _, m := range p.Add {
				add(i, access.Change{Kind: access.ChangeTeamAdd, Member: m, Team: team, SCIM: true})
			}
			for _, m := range p.Remove {
				add(i, access.Change{Kind: access.ChangeTeamRemove, Member: m, Team: team, SCIM: true})
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

// affectedMembers are the members named by changes (the creator of a new
// team included) plus every member of a team the changes touch, before or
// after; when an org setting changes, every member.
func affectedMembers(before, after *access.Snapshot, changes []access.Change) []string {
	var ids []string
	seen := map[string]bool{}
	addID := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	addRef := func(ref string) {
		for _, s := range []*access.Snapshot{before, after} {
			for _, m := range s.Members {
				if m.ID == ref || strings.EqualFold(m.Email, ref) {
					addID(m.ID)
				}
			}
		}
	}
	teams := map[string]bool{}
	everyone := false
	for _, c := range changes {
		if c.Member != "" {
			addRef(c.Member)
		}
		if c.Team != "" {
			teams[c.Team] = true
		}
		everyone = everyone || c.Kind == access.ChangeOrgSetting
	}
	for _, s := range []*access.Snapshot{before, after} {
		for _, m := range s.Members {
			if everyone || slices.ContainsFunc(m.Teams, func(t access.Membership) bool { return teams[t.Team] }) {
				addID(m.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// reachOf is what member id reaches in e, by project (nil when e has no
// such member).
func reachOf(e *access.Engine, id string) (access.MemberAccess, map[string][]string, bool) {
	ma, err := e.Member(id)
	if err != nil {
		return access.MemberAccess{}, nil, false
	}
	out := make(map[string][]string, len(ma.Projects))
	for _, p := range ma.Projects {
		out[p.Slug] = p.Scopes
	}
	return ma, out, true
}

// viaOf names, by project, the roles that give ma its scopes there.
func viaOf(ma access.MemberAccess) map[string]string {
	via := make(map[string]string, len(ma.Projects))
	for _, p := range ma.Projects {
		via[p.Slug] = viaText(ma.Member.OrgRole, p.Paths)
	}
	return via
}

// diffMembers compares the project reach of members in two snapshots.
func diffMembers(before, after *access.Snapshot, ids []string) []AccessDelta {
	eb, ea := access.New(before), access.New(after)
	var deltas []AccessDelta
	for _, id := range ids {
		mb, b, _ := reachOf(eb, id)
		ma, a, _ := reachOf(ea, id)
		viaB, viaA := viaOf(mb), viaOf(ma)
		email := mb.Member.Email
		if email == "" {
			email = ma.Member.Email
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

// affectedAccess lists the members among ids whose effective access
// differs between the snapshots in any way, with how.
func affectedAccess(before, after *access.Snapshot, ids []string) []AffectedMember {
	eb, ea := access.New(before), access.New(after)
	var out []AffectedMember
	for _, id := range ids {
		mb, b, inB := reachOf(eb, id)
		ma, a, inA := reachOf(ea, id)
		var how []string
		switch {
		case inB && !inA:
			how = append(how, "removed from the organization")
		case !inB && inA:
			how = append(how, "invited")
		default:
			if mb.Member.OrgRole != ma.Member.OrgRole {
				how = append(how, fmt.Sprintf("org role %s → %s", mb.Member.OrgRole, ma.Member.OrgRole))
			} else if !slices.Equal(mb.OrgScopes, ma.OrgScopes) {
				how = append(how, "org scopes change")
			}
			how = append(how, teamChanges(mb.Teams, ma.Teams)...)
			var gains, losses, scopes []string
			for p := range a {
				if _, ok := b[p]; !ok {
					gains = append(gains, p)
				} else if !slices.Equal(a[p], b[p]) {
					scopes = append(scopes, p)
				}
			}
			for p := range b {
				if _, ok := a[p]; !ok {
					losses = append(losses, p)
				}
			}
			how = append(how, listed("gains", gains)...)
			how = append(how, listed("loses", losses)...)
			how = append(how, listed("scopes change on", scopes)...)
		}
		if len(how) == 0 {
			continue
		}
		email := mb.Member.Email
		if email == "" {
			email = ma.Member.Email
		}
		out = append(out, AffectedMember{Member: id, Email: email, How: strings.Join(how, "; ")})
	}
	return out
}

// teamChanges says which teams a member joins or leaves and whose
// effective team role changes.
func teamChanges(before, after []access.TeamAccess) []string {
	eff := func(ts []access.TeamAccess) map[string]string {
		m := make(map[string]string, len(ts))
		for _, t := range ts {
			m[t.Slug] = t.EffectiveRole
		}
		return m
	}
	b, a := eff(before), eff(after)
	var joins, leaves, roles []string
	for slug, r := range a {
		if old, ok := b[slug]; !ok {
			joins = append(joins, slug)
		} else if old != r {
			roles = append(roles, fmt.Sprintf("team role on %s %s → %s", slug, old, r))
		}
	}
	for slug := range b {
		if _, ok := a[slug]; !ok {
			leaves = append(leaves, slug)
		}
	}
	slices.Sort(roles)
	return slices.Concat(listed("joins", joins), listed("leaves", leaves), roles)
}

// listed is "verb a, b" for a non-empty, sorted list, at most 5 named.
func listed(verb string, xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	if len(xs) > 5 {
		return []string{fmt.Sprintf("%s %s and %d more", verb, strings.Join(xs[:5], ", "), len(xs)-5)}
	}
	return []string{verb + " " + strings.Join(xs, ", ")}
}

// teamRoleEffects describes, for each org-role change, what happens to
// the member's team roles: stored roles at or below the new minimum that
// older Sentry resets to null, and effective roles the change lowers, with
// the team-role step that keeps them.
func teamRoleEffects(s *access.Snapshot, changes []access.Change, index []int) []TeamRoleEffect {
	var out []TeamRoleEffect
	for k, c := range changes {
		if c.Kind != access.ChangeOrgRole {
			continue
		}
		before, err := access.Apply(s, changes[:k])
		if err != nil {
			return out
		}
		after, err := access.Apply(before, changes[k:k+1])
		if err != nil {
			return out
		}
		eb, ea := access.New(before), access.New(after)
		mb, errB := eb.Member(c.Member)
		ma, errA := ea.Member(c.Member)
		if errB != nil || errA != nil || mb.Member.OrgRole == ma.Member.OrgRole {
			continue
		}
		newMin := access.MinimumTeamRole(after, ma.Member.OrgRole)
		rank := teamRoleRanks(eb)
		effAfter := map[string]string{}
		for _, t := range ma.Teams {
			effAfter[t.Slug] = t.EffectiveRole
		}
		for _, t := range mb.Teams {
			e := TeamRoleEffect{Step: index[k], Member: mb.Member.ID, Email: mb.Member.Email, Team: t.Slug,
				Stored: t.StoredRole, EffectiveBefore: t.EffectiveRole, EffectiveAfter: effAfter[t.Slug]}
			e.Reset = t.StoredRole != "" && rank[t.StoredRole] <= rank[newMin]
			if rank[e.EffectiveAfter] < rank[e.EffectiveBefore] && !setLater(changes[k+1:], c.Member, mb.Member.ID, t.Slug) {
				e.Restore = &Step{Kind: KindTeamRole, Params: Params{Member: mb.Member.ID, Email: mb.Member.Email, Team: t.Slug, Role: e.EffectiveBefore}}
			}
			if e.Reset || e.Restore != nil {
				out = append(out, e)
			}
		}
	}
	return out
}

// setLater reports whether a later change sets the member's team role on
// team (the request restores it already).
func setLater(changes []access.Change, ref, id, team string) bool {
	return slices.ContainsFunc(changes, func(c access.Change) bool {
		return c.Kind == access.ChangeTeamRole && c.Team == team && (c.Member == ref || c.Member == id)
	})
}

// teamRoleRanks maps team role ids to their priority.
func teamRoleRanks(e *access.Engine) map[string]int {
	out := map[string]int{}
	for i, r := range e.TeamRoles() {
		out[r.ID] = i
	}
	return out
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
