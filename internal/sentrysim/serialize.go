package sentrysim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// Serializers follow src/sentry/api/serializers/models/{organization_member,
// team,project,auditlogentry}.py as reduced by internal/sentry/types.go.

func id(v int64) string { return fmt.Sprint(v) }

func apiUser(u *user) *sentry.User {
	if u == nil {
		return nil
	}
	return &sentry.User{ID: id(u.id), Name: u.name, Username: u.email, Email: u.email, IsActive: true,
		Has2FA: u.has2fa, LastLogin: u.lastLogin, LastActive: u.lastLogin, DateJoined: u.joined, HasPassword: true}
}

func (st *state) apiMember(m *member) sentry.Member {
	r, _ := st.roles.orgRole(m.role)
	out := sentry.Member{ID: id(m.id), Email: m.email, Name: m.name, User: apiUser(m.user), OrgRole: m.role,
		Role: m.role, RoleName: r.name, Pending: m.user == nil, Expired: m.expired,
		Flags: sentry.MemberFlags{
			IDPProvisioned: m.flags["idp:provisioned"], IDPRoleRestricted: m.flags["idp:role-restricted"],
			SSOLinked: m.flags["sso:linked"], SSOInvalid: m.flags["sso:invalid"],
			MemberLimitRestricted: m.flags["member-limit:restricted"],
			PartnershipRestricted: m.flags["partnership:restricted"],
		},
		DateCreated: m.dateCreated, InviteStatus: m.inviteStatus}
	if inv := st.members[m.inviterID]; inv != nil {
		out.InviterName = &inv.name
	}
	return out
}

// apiMemberDetail adds teams, teamRoles and the role lists relative to the
// caller.
func (st *state) apiMemberDetail(p *principal, m *member) sentry.Member {
	out := st.apiMember(m)
	out.Teams = []string{}
	out.TeamRoles = []sentry.MemberTeamRole{}
	for _, t := range st.memberTeams(m) {
		out.Teams = append(out.Teams, t.slug)
		var role *string
		if r := m.teams[t.id]; r != nil {
			v := *r
			role = &v
		}
		out.TeamRoles = append(out.TeamRoles, sentry.MemberTeamRole{TeamSlug: t.slug, Role: role})
	}
	onlyOwner := m.role == "owner" && st.ownerCount() == 1
	out.IsOnlyOwner = &onlyOwner
	prio := -1
	if slices.Contains(p.scopes, "member:admin") {
		prio = st.callerPriority(p)
	}
	out.OrgRoleList = st.roles.apiOrgRoles(prio)
	out.TeamRoleList = st.roles.apiTeamRoles(slices.Contains(p.scopes, "member:admin") || slices.Contains(p.scopes, "team:admin"))
	return out
}

// memberTeams returns m's teams ordered by slug.
func (st *state) memberTeams(m *member) []*team {
	out := make([]*team, 0, len(m.teams))
	for tid := range m.teams {
		out = append(out, st.teams[tid])
	}
	slices.SortFunc(out, func(a, b *team) int { return strings.Compare(a.slug, b.slug) })
	return out
}

// approvedMemberCount is the team's memberCount: its approved memberships,
// pending invites included (get_member_totals in
// src/sentry/api/serializers/models/team.py counts OrganizationMemberTeam
// rows of members with invite_status approved).
func (st *state) approvedMemberCount(t *team) int {
	n := 0
	for mid := range t.members {
		if st.members[mid].inviteStatus == "approved" {
			n++
		}
	}
	return n
}

func (st *state) hasPendingRequest(m *member, t *team) bool {
	for _, ar := range st.accessRequests {
		if ar.memberID == m.id && ar.teamID == t.id {
			return true
		}
	}
	return false
}

// apiTeam serializes a team relative to the caller (team serializer
// per-caller fields, docs/sentry-access-model.md#effective-access).
func (st *state) apiTeam(p *principal, t *team, detailed bool) sentry.Team {
	out := sentry.Team{ID: id(t.id), Slug: t.slug, Name: t.name, DateCreated: t.dateCreated,
		Flags: sentry.TeamFlags{IDPProvisioned: t.idpProvisioned}, Access: []string{},
		MemberCount: ptr(st.approvedMemberCount(t))}
	if p != nil && p.isMemberUser() {
		stored, isMember := p.member.teams[t.id]
		out.IsMember = isMember
		r, _ := st.roles.orgRole(p.member.role)
		out.HasAccess = isMember || st.org.openMembership || r.global
		if out.HasAccess {
			role := st.effectiveTeamRole(p.member, stored)
			out.Access = st.teamScopes(role)
			if isMember {
				out.TeamRole = &role
			}
		}
		out.IsPending = st.hasPendingRequest(p.member, t)
	} else if p != nil {
		out.HasAccess = true
	}
	if detailed {
		out.Projects = []sentry.ProjectRef{}
		for _, pr := range st.teamProjects(t) {
			out.Projects = append(out.Projects, sentry.ProjectRef{ID: id(pr.id), Slug: pr.slug, Name: pr.name,
				Platform: pr.platform})
		}
	}
	return out
}

func (st *state) teamProjects(t *team) []*project {
	out := make([]*project, 0, len(t.projects))
	for pid := range t.projects {
		out = append(out, st.projects[pid])
	}
	slices.SortFunc(out, func(a, b *project) int { return strings.Compare(a.slug, b.slug) })
	return out
}

func teamRef(t *team) sentry.TeamRef { return sentry.TeamRef{ID: id(t.id), Slug: t.slug, Name: t.name} }

func (st *state) apiProject(p *principal, pr *project) sentry.Project {
	out := sentry.Project{ID: id(pr.id), Slug: pr.slug, Name: pr.name, Platform: pr.platform,
		DateCreated: pr.dateCreated, Teams: []sentry.TeamRef{}, Access: []string{}, Status: "active"}
	for _, tid := range pr.teams {
		t := st.teams[tid]
		out.Teams = append(out.Teams, teamRef(t))
		if p.isMemberUser() {
			if _, ok := p.member.teams[tid]; ok {
				out.IsMember = true
			}
		}
	}
	if len(out.Teams) > 0 {
		first := out.Teams[0]
		out.Team = &first
	}
	out.HasAccess = st.hasProjectAccess(p, pr)
	if !out.HasAccess {
		return out
	}
	if p.isMemberUser() {
		out.Access = st.projectTeamScopes(p.member, pr)
		return out
	}
	for _, s := range p.scopes {
		if strings.HasPrefix(s, "project:") || strings.HasPrefix(s, "event:") || strings.HasPrefix(s, "alerts:") {
			out.Access = append(out.Access, s)
		}
	}
	return out
}

// projectTeamScopes is the project serializer's per-caller "access" for a
// member with access to pr (get_access_by_project in
// src/sentry/api/serializers/models/project.py): the scopes of the
// member's team memberships on pr's teams (OrganizationMemberTeam.get_scopes:
// the effective team role through Organization.get_scopes, only with the
// team-roles feature) plus the raw scopes of the minimum team role of the
// member's org role. It holds no org-role scopes and, being computed for
// the user, is not bounded by the token's scopes. Sorted.
func (st *state) projectTeamScopes(m *member, pr *project) []string {
	var scopes []string
	if st.hasFeature("team-roles") {
		for _, tid := range pr.teams {
			if stored, ok := m.teams[tid]; ok {
				scopes = append(scopes, st.teamScopes(st.effectiveTeamRole(m, stored))...)
			}
		}
	}
	if minRole, ok := st.roles.teamRole(st.minimumTeamRole(m.role)); ok {
		scopes = append(scopes, minRole.scopes...)
	}
	slices.Sort(scopes)
	return slices.Compact(scopes)
}

func (st *state) apiTeamMember(m *member, t *team) sentry.TeamMember {
	var role *string
	if r := m.teams[t.id]; r != nil {
		v := *r
		role = &v
	}
	return sentry.TeamMember{Member: st.apiMember(m), TeamRole: role, TeamSlug: t.slug}
}

func (st *state) apiOrgToken(t *orgToken) sentry.OrgAuthToken {
	out := sentry.OrgAuthToken{ID: id(t.id), Name: t.name, Scopes: []string{"org:ci"},
		TokenLastCharacters: t.token[max(0, len(t.token)-4):], DateCreated: t.dateCreated, DateLastUsed: t.dateLastUsed}
	if t.projectLastUsed != 0 {
		v := id(t.projectLastUsed)
		out.ProjectLastUsedID = &v
	}
	return out
}

func (st *state) apiAuditActor(userID int64, label string) *sentry.AuditActor {
	if u := st.users[userID]; u != nil {
		return &sentry.AuditActor{ID: id(u.id), Name: u.name, Email: u.email}
	}
	if userID != 0 {
		return &sentry.AuditActor{ID: id(userID), Name: "(deleted user)"}
	}
	return &sentry.AuditActor{Name: cmp.Or(label, "Sentry")}
}

func (st *state) apiAudit(e *auditEntry) sentry.AuditLogEntry {
	out := sentry.AuditLogEntry{ID: id(e.id), Actor: st.apiAuditActor(e.actorUserID, e.actorLabel), Event: e.event,
		IPAddress: e.ipAddress, Note: e.note, TargetObject: e.targetObject, Data: e.data, DateCreated: e.dateCreated}
	if e.targetUserID != 0 {
		out.TargetUser = st.apiAuditActor(e.targetUserID, "")
	}
	return out
}
