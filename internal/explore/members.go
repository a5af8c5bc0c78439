package explore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// MemberQuery filters, sorts and pages the member list. Empty fields do not
// filter. Values come from the query string; Validate checks them.
type MemberQuery struct {
	Q      string // substring of email or name, case-insensitive
	Role   string // org role id
	Team   string // team slug the member is on
	NoTeam bool   // only members on no team
	SSO    string // "", "linked", "unlinked"
	TwoFA  string // "", "on", "off"
	// State is "", "active", "pending", "expired", "invited" (pending or
	// expired) or "restricted" (accepted, over the plan's member limit).
	State string
	SCIM  string // "", "yes", "no": provisioned by the identity provider
	// Sort is "email" (A first), "role" (highest first) or "reach" (most
	// projects first); a leading "-" reverses the order. Ties are by email.
	Sort string
	Page int // 1-based
}

// Allowed values of the enumerated MemberQuery fields.
func memberEnums() map[string][]string {
	return map[string][]string{
		"sso":   {"", "linked", "unlinked"},
		"2fa":   {"", "on", "off"},
		"state": {"", "active", "pending", "expired", "invited", "restricted"},
		"scim":  {"", "yes", "no"},
		"sort":  {"", "email", "-email", "role", "-role", "reach", "-reach"},
	}
}

// MemberSorts returns the sort keys the member list accepts.
func MemberSorts() []string { return memberEnums()["sort"][1:] }

// MemberRow is one member in the list.
type MemberRow struct {
	ID        string
	Email     string
	Name      string
	OrgRole   string
	State     access.MemberState
	Teams     []string
	SSOLinked bool
	Has2FA    bool
	SCIM      bool
	Reach     int    // projects reached
	Global    bool   // reaches every project
	GlobalBy  string // why, when Global
	// Restricted reports whether the member is over the plan's member
	// limit (member-limit:restricted): Sentry refuses it in its UI.
	Restricted  bool
	TeamsCount  int
	RoleUnknown bool
}

// MemberList is a page of members plus what the filter form needs.
type MemberList struct {
	Snapshot SnapshotInfo
	Query    MemberQuery
	Rows     []MemberRow
	Page     Page
	Roles    []access.OrgRole // for the role filter
	Teams    []string         // team slugs, for the team filter
}

// validate checks q against st and reports every problem at once.
func (q MemberQuery) validate(st *state) error {
	var problems []string
	enums := memberEnums()
	check := func(name, v string) {
		if !slices.Contains(enums[name], v) {
			problems = append(problems, name+" must be one of "+strings.Join(enums[name][1:], ", ")+" (got \""+v+"\")")
		}
	}
	check("sso", q.SSO)
	check("2fa", q.TwoFA)
	check("state", q.State)
	check("scim", q.SCIM)
	check("sort", q.Sort)
	if q.Role != "" {
		if _, ok := st.roleRank[q.Role]; !ok {
			problems = append(problems, "role \""+q.Role+"\" is not an org role")
		}
	}
	if q.Team != "" {
		if _, ok := st.teamBySlug[q.Team]; !ok {
			problems = append(problems, "team \""+q.Team+"\" does not exist")
		}
	}
	if q.Page < 0 {
		problems = append(problems, "page must be 1 or more")
	}
	if len(problems) > 0 {
		return invalid("%s.", strings.Join(problems, "; "))
	}
	return nil
}

// match reports whether row r passes q's filters other than the text
// search (Members applies that through st.memberText).
func (q MemberQuery) match(st *state, r *memberRow) bool {
	m := r.m
	if q.Role != "" && m.OrgRole != q.Role {
		return false
	}
	if q.Team != "" {
		if _, ok := slices.BinarySearch(r.teams, q.Team); !ok {
			return false
		}
	}
	if q.NoTeam && len(r.teams) > 0 {
		return false
	}
	linked := m.Flags.SSOLinked && !m.Flags.SSOInvalid
	switch q.SSO {
	case "linked":
		if !linked {
			return false
		}
	case "unlinked":
		if linked {
			return false
		}
	}
	switch q.TwoFA {
	case "on":
		if !m.Has2FA {
			return false
		}
	case "off":
		if m.Has2FA {
			return false
		}
	}
	state := m.State
	if state == "" {
		state = access.StateActive
	}
	switch q.State {
	case "active", "pending", "expired":
		if string(state) != q.State {
			return false
		}
	case "invited":
		if state == access.StateActive {
			return false
		}
	case "restricted":
		if !r.restricted {
			return false
		}
	}
	switch q.SCIM {
	case "yes":
		if !m.Flags.IDPProvisioned {
			return false
		}
	case "no":
		if m.Flags.IDPProvisioned {
			return false
		}
	}
	return true
}

// Members returns one page of the members matching q, sorted as q says.
// It fails with an EINVALID error naming every bad value.
func (s *Service) Members(ctx context.Context, q MemberQuery) (MemberList, error) {
	st, err := s.load()
	if err != nil {
		return MemberList{}, err
	}
	if err := q.validate(st); err != nil {
		return MemberList{}, err
	}
	var text []bool // members whose email or name contains the search, if any
	if needle := strings.ToLower(strings.TrimSpace(q.Q)); needle != "" {
		text = st.memberText.mask(needle)
	}
	order := st.orderFor(q.Sort)
	// One pass counts the matches and keeps the asked page's; a page past
	// the last is clamped by paginate and read in a second pass.
	window := func(from int) (rows []int, total int) {
		for _, i := range order {
			if (text == nil || text[i]) && q.match(st, &st.members[i]) {
				if total >= from && total < from+PageSize {
					rows = append(rows, i)
				}
				total++
			}
		}
		return rows, total
	}
	asked := max(q.Page, 1)
	rows, total := window((asked - 1) * PageSize)
	page, lo, _ := paginate(total, q.Page, PageSize)
	if page.Number != asked {
		rows, _ = window(lo)
	}
	q.Page = page.Number
	out := MemberList{Snapshot: st.info(), Query: q, Page: page, Roles: st.eng.OrgRoles(), Rows: make([]MemberRow, 0, len(rows))}
	for _, i := range rows {
		out.Rows = append(out.Rows, st.memberRow(i))
	}
	out.Teams = st.teamSlugs
	return out, ctx.Err()
}

// orderFor returns the member indexes in the order of sort (a
// MemberQuery.Sort value).
func (st *state) orderFor(sort string) []int {
	switch sort {
	case "role":
		return st.byRole
	case "-role":
		return st.byRoleAsc
	case "reach":
		return st.byReach
	case "-reach":
		return st.byReachAsc
	case "-email":
		return st.inEmailOrderDesc
	}
	return st.inEmailOrder
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func (st *state) memberRow(i int) MemberRow {
	r := &st.members[i]
	m := r.m
	state := m.State
	if state == "" {
		state = access.StateActive
	}
	_, known := st.roleRank[m.OrgRole]
	return MemberRow{
		ID: m.ID, Email: m.Email, Name: m.Name, OrgRole: m.OrgRole, State: state, Teams: r.teams,
		SSOLinked: m.Flags.SSOLinked && !m.Flags.SSOInvalid, Has2FA: m.Has2FA, SCIM: m.Flags.IDPProvisioned,
		Reach: r.reach, Global: r.global, GlobalBy: r.globalBy, Restricted: r.restricted, TeamsCount: len(r.teams), RoleUnknown: !known,
	}
}

// MemberDetail is one member: what its org role grants, its teams with
// stored and effective roles, every project it reaches and why, and what
// changed for it since the previous snapshot.
type MemberDetail struct {
	Snapshot SnapshotInfo
	Row      MemberRow
	Role     access.OrgRole // the org role's definition (zero if unknown)
	Access   access.MemberAccess
	Changes  MemberChanges
	// Projects is one page of the projects the member reaches (by slug)
	// and ProjectPage says which: a member with global access reaches
	// every project (3,000 in a large org), too many rows for one page.
	// Access.Projects is left empty.
	Projects    []access.ProjectReach
	ProjectPage Page
	// Via counts every reached project (not only this page's) by path,
	// most projects first: "open membership: 3,000", "team payments: 12".
	// A project reached by two paths counts under both.
	Via []PathCount
}

// ProjectPageSize is how many reached projects a member page lists at once.
const ProjectPageSize = 100

// PathCount is how many of a member's projects one path reaches. Path's
// Detail is empty: it names a project.
type PathCount struct {
	Path     access.Path
	Projects int
}

// sortPathCounts orders path counts most projects first, then by kind
// and team, with the paths' Detail (which names a project) cleared.
func sortPathCounts(via []access.PathCount) []PathCount {
	out := make([]PathCount, 0, len(via))
	for _, v := range via {
		v.Path.Detail = ""
		out = append(out, PathCount{Path: v.Path, Projects: v.Projects})
	}
	slices.SortStableFunc(out, func(a, b PathCount) int {
		if a.Projects != b.Projects {
			return b.Projects - a.Projects
		}
		return cmpStrings(string(a.Path.Kind), string(b.Path.Kind), a.Path.Team, b.Path.Team)
	})
	return out
}

// MemberChanges is what changed for one member between the previous
// snapshot and the current one. HasPrevious is false after the first sync.
type MemberChanges struct {
	HasPrevious bool
	FromID      uint64
	Added       bool
	OrgRole     *access.OrgRoleChange
	State       *access.StateChange
	TeamsJoined []access.TeamMembership
	TeamsLeft   []access.TeamMembership
	TeamRoles   []access.TeamRoleChange
	Projects    []access.ProjectScopeChange
}

// Empty reports whether nothing changed for the member.
func (c MemberChanges) Empty() bool {
	return !c.Added && c.OrgRole == nil && c.State == nil && len(c.TeamsJoined) == 0 &&
		len(c.TeamsLeft) == 0 && len(c.TeamRoles) == 0 && len(c.Projects) == 0
}

// Member returns the member with this id (or email), listing page
// projectPage (1-based, clamped into range) of the projects it reaches.
// Unknown members are a ENOTFOUND error.
func (s *Service) Member(ctx context.Context, ref string, projectPage int) (MemberDetail, error) {
	st, err := s.load()
	if err != nil {
		return MemberDetail{}, err
	}
	ma, err := st.eng.MemberTeams(ref)
	if errors.Is(err, access.ErrUnknownMember) {
		return MemberDetail{}, notFound("No member %q in snapshot %d.", ref, st.meta.ID)
	}
	if err != nil {
		return MemberDetail{}, err
	}
	// The page number is clamped against the total, which the first
	// call returns; a page past the last is asked again.
	asked := max(projectPage, 1)
	mp, err := st.eng.MemberProjects(ref, (asked-1)*ProjectPageSize, ProjectPageSize)
	if err != nil {
		return MemberDetail{}, err
	}
	page, lo, _ := paginate(mp.Total, projectPage, ProjectPageSize)
	if page.Number != asked {
		if mp, err = st.eng.MemberProjects(ref, lo, ProjectPageSize); err != nil {
			return MemberDetail{}, err
		}
	}
	i := st.byID[ma.Member.ID]
	d := MemberDetail{Snapshot: st.info(), Row: st.memberRow(i), Access: ma,
		Projects: mp.Projects, ProjectPage: page, Via: sortPathCounts(mp.Via)}
	for _, r := range st.eng.OrgRoles() {
		if r.ID == ma.Member.OrgRole {
			d.Role = r
		}
	}
	d.Changes = st.memberChanges(ma.Member.ID)
	return d, ctx.Err()
}

func (st *state) memberChanges(id string) MemberChanges {
	var c MemberChanges
	if st.diff == nil {
		return c
	}
	d := st.diff
	c.HasPrevious, c.FromID = true, st.prev.ID
	for _, m := range d.MembersAdded {
		if m.ID == id {
			c.Added = true
		}
	}
	for i := range d.OrgRoleChanges {
		if d.OrgRoleChanges[i].Member.ID == id {
			c.OrgRole = &d.OrgRoleChanges[i]
		}
	}
	for i := range d.StateChanges {
		if d.StateChanges[i].Member.ID == id {
			c.State = &d.StateChanges[i]
		}
	}
	for _, t := range d.TeamsJoined {
		if t.Member.ID == id {
			c.TeamsJoined = append(c.TeamsJoined, t)
		}
	}
	for _, t := range d.TeamsLeft {
		if t.Member.ID == id {
			c.TeamsLeft = append(c.TeamsLeft, t)
		}
	}
	for _, t := range d.TeamRoleChanges {
		if t.Member.ID == id {
			c.TeamRoles = append(c.TeamRoles, t)
		}
	}
	for _, m := range d.Access.Members {
		if m.ID == id {
			c.Projects = m.Projects
		}
	}
	return c
}
