package explore

import (
	"context"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// TeamQuery filters and pages the team list.
type TeamQuery struct {
	Q         string // substring of slug or name
	NoProject bool   // only teams linked to no project
	SCIM      string // "", "yes", "no": idp-provisioned
	Page      int
}

// TeamRow is one team in the list.
type TeamRow struct {
	Slug           string
	Name           string
	IDPProvisioned bool
	Members        int
	Projects       int
}

// TeamList is a page of teams.
type TeamList struct {
	Snapshot SnapshotInfo
	Query    TeamQuery
	Rows     []TeamRow
	Page     Page
}

// Teams returns one page of the teams matching q, by slug.
func (s *Service) Teams(ctx context.Context, q TeamQuery) (TeamList, error) {
	st, err := s.load()
	if err != nil {
		return TeamList{}, err
	}
	if !slices.Contains([]string{"", "yes", "no"}, q.SCIM) {
		return TeamList{}, invalid("scim must be one of yes, no (got %q).", q.SCIM)
	}
	needle := strings.ToLower(strings.TrimSpace(q.Q))
	var hits []int
	for i, t := range st.teams {
		switch {
		case needle != "" && !strings.Contains(t.search, needle),
			q.NoProject && len(t.projects) > 0,
			q.SCIM == "yes" && !t.t.IDPProvisioned,
			q.SCIM == "no" && t.t.IDPProvisioned:
			continue
		}
		hits = append(hits, i)
	}
	page, lo, hi := paginate(len(hits), q.Page, PageSize)
	q.Page = page.Number
	out := TeamList{Snapshot: st.info(), Query: q, Page: page}
	for _, i := range hits[lo:hi] {
		out.Rows = append(out.Rows, st.teamRow(i))
	}
	return out, ctx.Err()
}

func (st *state) teamRow(i int) TeamRow {
	t := st.teams[i]
	return TeamRow{Slug: t.t.Slug, Name: t.t.Name, IDPProvisioned: t.t.IDPProvisioned, Members: t.members, Projects: len(t.projects)}
}

// TeamMember is one member of a team with its stored and effective team
// role and why.
type TeamMember struct {
	ID            string
	Email         string
	OrgRole       string
	State         access.MemberState
	StoredRole    string // "" is Sentry's null
	EffectiveRole string // "" when the membership grants nothing
	Reason        string
}

// TeamDetail is one team: its members (paged), linked projects and SCIM lock.
type TeamDetail struct {
	Snapshot SnapshotInfo
	Row      TeamRow
	Members  []TeamMember
	Page     Page
	Projects []string
	// Lock explains the idp-provisioned lock; empty when not locked.
	Lock string
}

// Team returns the team with this slug and one page of its members.
// Unknown teams are an ENOTFOUND error.
func (s *Service) Team(ctx context.Context, slug string, pageNo int) (TeamDetail, error) {
	st, err := s.load()
	if err != nil {
		return TeamDetail{}, err
	}
	ti, ok := st.teamBySlug[slug]
	if !ok {
		return TeamDetail{}, notFound("No team %q in snapshot %d.", slug, st.meta.ID)
	}
	seats := st.teamSeats[ti]
	page, lo, hi := paginate(len(seats), pageNo, PageSize)
	d := TeamDetail{Snapshot: st.info(), Row: st.teamRow(ti), Page: page, Projects: st.teams[ti].projects}
	if d.Row.IDPProvisioned {
		// SCIM Groups PATCH sets idp_provisioned; member-team POST/DELETE on
		// such a team return 403 (src/sentry/scim/endpoints/teams.py,
		// organization_member/team_details.py; docs/sentry-access-model.md#member-and-team, #scim).
		d.Lock = "Membership of this team is managed by the identity provider (SCIM): Sentry refuses to add or remove members here (403); change it in the IdP."
	}
	for _, mi := range seats[lo:hi] {
		m := st.members[mi].m
		tm := TeamMember{ID: m.ID, Email: m.Email, OrgRole: m.OrgRole, State: m.State}
		if ma, err := st.eng.MemberTeams(m.ID); err == nil {
			for _, ta := range ma.Teams {
				if ta.Slug == slug {
					tm.StoredRole, tm.EffectiveRole, tm.Reason = ta.StoredRole, ta.EffectiveRole, ta.Reason
				}
			}
		}
		d.Members = append(d.Members, tm)
	}
	return d, ctx.Err()
}
