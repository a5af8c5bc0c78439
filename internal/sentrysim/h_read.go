package sentrysim

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

func (s *Server) apiOrg(p *principal) sentry.Organization {
	st := s.st
	o := st.org
	out := sentry.Organization{ID: id(o.id), Slug: o.slug, Name: o.name, DateCreated: o.dateCreated,
		OpenMembership: o.openMembership, AllowMemberProjectCreation: o.allowMemberProjectCreation,
		AllowMemberInvite: o.allowMemberInvite, EventsMemberAdmin: o.eventsMemberAdmin,
		AlertsMemberWrite: o.alertsMemberWrite, Require2FA: o.require2FA, AllowJoinRequests: o.allowJoinRequests,
		HasAuthProvider: st.authProvider != nil, RequiresSSO: st.authProvider != nil && st.authProvider.requireLink,
		DefaultRole: o.defaultRole, PendingAccessRequests: len(st.accessRequests), Access: slices.Clone(p.scopes),
		Features: slices.Clone(o.features)}
	if p.isMemberUser() {
		// orgRole, and the deprecated role (src/sentry/api/serializers/models/organization.py).
		out.OrgRole, out.Role = p.member.role, p.member.role
	}
	prio := -1
	if slices.Contains(p.scopes, "member:admin") {
		prio = st.callerPriority(p)
	}
	out.OrgRoleList = st.roles.apiOrgRoles(prio)
	out.TeamRoleList = st.roles.apiTeamRoles(slices.Contains(p.scopes, "member:admin") || slices.Contains(p.scopes, "team:admin"))
	return out
}

func (s *Server) getOrg(c *call) { c.json(http.StatusOK, s.orgBody(c)) }

// orgBody is the organization detail with its links, relative to the
// caller.
func (s *Server) orgBody(c *call) sentry.Organization {
	o := s.apiOrg(c.p)
	o.Links = s.orgLinks(c)
	return o
}

// memberMatches applies the members-list query tokens
// (src/sentry/api/endpoints/organization_member/index.py); an unknown key
// matches nothing.
func (st *state) memberMatches(m *member, q map[string][]string) bool {
	for key, values := range q {
		for _, v := range values {
			var ok bool
			switch key {
			case "email":
				ok = strings.EqualFold(m.email, v)
			case "id":
				ok = id(m.id) == v
			case "user.id":
				ok = m.user != nil && id(m.user.id) == v
			case "role":
				ok = m.role == v
			case "scope":
				r, _ := st.roles.orgRole(m.role)
				ok = slices.Contains(r.scopes, v)
			case "isInvited":
				b, valid := boolValue(v)
				ok = valid && (m.user == nil) == b
			case "ssoLinked":
				b, valid := boolValue(v)
				ok = valid && m.flags["sso:linked"] == b
			case "has2fa":
				b, valid := boolValue(v)
				ok = valid && (m.user != nil && m.user.has2fa) == b
			case "hasExternalUsers":
				b, valid := boolValue(v)
				ok = valid && !b
			case "query":
				ok = containsFold(m.email, v) || containsFold(m.name, v)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func (s *Server) listMembers(c *call) {
	st := s.st
	q := parseQuery(c.r.URL.Query().Get("query"))
	var out []sentry.Member
	all := st.sortedMembers()
	matched := all[:0:0]
	for _, m := range all {
		if m.inviteStatus == "approved" && st.memberMatches(m, q) {
			matched = append(matched, m)
		}
	}
	page, ok := paginateOffset(c, matched)
	if !ok {
		return
	}
	out = make([]sentry.Member, 0, len(page))
	for _, m := range page {
		out = append(out, st.apiMember(m))
	}
	c.json(http.StatusOK, out)
}

// approvedMember looks up the {member} path value among approved members,
// writing 404 when absent.
func (c *call) approvedMember() *member {
	m := c.st().lookupMember(c.r.PathValue("member"), c.p)
	if m == nil || m.inviteStatus != "approved" {
		c.detail(http.StatusNotFound, msgNotFound)
		return nil
	}
	return m
}

func (c *call) pathTeam() *team {
	t := c.st().lookupTeam(c.r.PathValue("team"))
	if t == nil {
		c.detail(http.StatusNotFound, msgNotFound)
	}
	return t
}

func (c *call) pathProject() *project {
	p := c.st().lookupProject(c.r.PathValue("project"))
	if p == nil {
		c.detail(http.StatusNotFound, msgNotFound)
	}
	return p
}

func (s *Server) getMember(c *call) {
	if m := c.approvedMember(); m != nil {
		c.json(http.StatusOK, s.st.apiMemberDetail(c.p, m))
	}
}

func (st *state) teamMatches(t *team, q map[string][]string) bool {
	for key, values := range q {
		for _, v := range values {
			var ok bool
			switch key {
			case "query":
				ok = containsFold(t.slug, v) || containsFold(t.name, v)
			case "slug":
				ok = t.slug == v
			case "id":
				ok = id(t.id) == v
			case "hasExternalTeams":
				b, valid := boolValue(v)
				ok = valid && !b
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func (s *Server) listTeams(c *call) {
	st := s.st
	q := parseQuery(c.r.URL.Query().Get("query"))
	for _, v := range q["id"] {
		if _, err := strconv.Atoi(v); err != nil {
			c.detail(http.StatusBadRequest, "Invalid id value")
			return
		}
	}
	detailed := c.r.URL.Query().Get("detailed") != "0"
	var matched []*team
	for _, t := range st.sortedTeams() {
		if st.teamMatches(t, q) {
			matched = append(matched, t)
		}
	}
	st.writeTeams(c, matched, detailed)
}

// writeTeams answers one offset page of teams as the caller sees them.
func (st *state) writeTeams(c *call, teams []*team, detailed bool) {
	page, ok := paginateOffset(c, teams)
	if !ok {
		return
	}
	out := make([]sentry.Team, 0, len(page))
	for _, t := range page {
		out = append(out, st.apiTeam(c.p, t, detailed))
	}
	c.json(http.StatusOK, out)
}

// userTeams is GET /organizations/{org}/user-teams/: the caller's teams,
// for user auth tokens only.
func (s *Server) userTeams(c *call) {
	st := s.st
	if !c.p.isMemberUser() {
		c.detail(http.StatusBadRequest, "This endpoint requires user info")
		return
	}
	out := []sentry.Team{}
	for _, t := range st.memberTeams(c.p.member) {
		out = append(out, st.apiTeam(c.p, t, true))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) getTeam(c *call) {
	if t := c.pathTeam(); t != nil {
		c.json(http.StatusOK, s.st.apiTeam(c.p, t, true))
	}
}

// teamMembers lists a team's members, excluding pending invites, ordered
// by email.
func (s *Server) teamMembers(c *call) {
	st := s.st
	t := c.pathTeam()
	if t == nil {
		return
	}
	var ms []*member
	for mid := range t.members {
		if m := st.members[mid]; m.user != nil && m.inviteStatus == "approved" {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Compare(a.id, b.id) })
	page, ok := paginateOffset(c, ms)
	if !ok {
		return
	}
	out := make([]sentry.TeamMember, 0, len(page))
	for _, m := range page {
		out = append(out, st.apiTeamMember(m, t))
	}
	c.json(http.StatusOK, out)
}

func (st *state) projectMatches(p *principal, pr *project, q map[string][]string) bool {
	for key, values := range q {
		for _, v := range values {
			var ok bool
			switch key {
			case "query":
				ok = containsFold(pr.slug, v) || containsFold(pr.name, v)
			case "slug":
				ok = pr.slug == v
			case "id":
				ok = id(pr.id) == v
			case "team", "!team":
				in := false
				if t := st.teamBySlug[v]; t != nil {
					in = t.projects[pr.id]
				}
				ok = in == (key == "team")
			case "is_member":
				// Any value keeps the caller's projects only: Sentry
				// filters on the user's team memberships and ignores it.
				if p.isMemberUser() {
					for _, tid := range pr.teams {
						if _, on := p.member.teams[tid]; on {
							ok = true
						}
					}
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// listProjects returns all projects regardless of the caller's access;
// tokens without a user (org auth tokens) see only projects with at least
// one team, integration tokens (a proxy user) all of them; all_projects=1
// is unpaginated (src/sentry/core/endpoints/organization_projects.py),
// except in legacy mode.
func (s *Server) listProjects(c *call) {
	st := s.st
	q := parseQuery(c.r.URL.Query().Get("query"))
	for _, v := range q["id"] {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			c.json(http.StatusBadRequest, map[string]any{"error": map[string]any{"params": map[string]any{
				"stats_period": map[string]any{"message": "All 'id' values must be integers."}}}})
			return
		}
	}
	var matched []*project
	for _, pr := range st.sortedProjects() {
		if c.p.kind == kindOrgToken && len(pr.teams) == 0 {
			continue
		}
		if st.projectMatches(c.p, pr, q) {
			matched = append(matched, pr)
		}
	}
	page := matched
	// Legacy servers ignore all_projects and page the list.
	if s.legacy || c.r.URL.Query().Get("all_projects") != "1" {
		var ok bool
		if page, ok = paginateOffset(c, matched); !ok {
			return
		}
	}
	out := make([]sentry.Project, 0, len(page))
	for _, pr := range page {
		out = append(out, st.apiProject(c.p, pr))
	}
	c.json(http.StatusOK, out)
}

// getProject is GET /projects/{org}/{project}/ (project_details.py):
// ProjectPermission, org-level project:read with access to the project or
// project:read through a team of the project. The answer carries the
// project's organization (DetailedProjectSerializer's "organization", the
// OrganizationSerializer summary; src/sentry/api/serializers/models/project.py).
func (s *Server) getProject(c *call) {
	st := s.st
	pr := c.pathProject()
	if pr == nil {
		return
	}
	if !st.hasAnyProjectScope(c.p, pr, "project:read", "project:write", "project:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	c.json(http.StatusOK, projectWithOrg{Project: st.apiProject(c.p, pr), Organization: s.orgSummaryBody(c)})
}

// projectWithOrg is a project with its organization
// (ProjectWithOrganizationSerializer, and the organization of
// DetailedProjectSerializer).
type projectWithOrg struct {
	sentry.Project
	Organization any `json:"organization"`
}

// listYourProjects is GET /api/0/projects/
// (src/sentry/core/endpoints/project_index.py, ProjectIndexEndpoint; tests
// in tests/sentry/core/endpoints/test_project_index.py). ProjectPermission
// without an object checks the token's own scopes for project:read,
// project:write or project:admin (ScopedPermission.has_permission in
// src/sentry/api/permissions.py; a session passes). A user sees the projects of the teams it is on,
// whatever its org role (test_show_all_without_superuser: an owner on no
// team sees none); an internal integration (a Sentry App) and a token
// without a user every project of its organization
// (test_valid_with_internal_integration). status (default active; the
// simulator has no deleted projects), organizationId and the query
// tokens query, slug, name, platform, id and dsn (the simulator has no
// client keys: it matches nothing) filter; any other key matches nothing.
// Newest first, DateTimePaginator; each project with its organization
// (ProjectWithOrganizationSerializer, test_member_constraints). See
// docs/sentry-access-model.md#projects-and-teams.
func (s *Server) listYourProjects(c *call) {
	st := s.st
	if !c.p.session && !hasAny(c.p.upper, "project:read", "project:write", "project:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	params := c.r.URL.Query()
	q := parseQuery(params.Get("query"))
	for _, v := range q["id"] {
		if _, err := strconv.Atoi(v); err != nil {
			c.detail(http.StatusBadRequest, "Invalid project ID: "+v)
			return
		}
	}
	status := "active"
	if params.Has("status") {
		status = params.Get("status")
	}
	orgID := params.Get("organizationId")
	var rows []*project
	for _, pr := range st.projects {
		switch {
		case status != "active" && status != "":
			continue
		case c.p.kind == kindUser && !st.onProjectTeam(c.p.member, pr):
			continue
		case c.p.kind != kindOrgToken && orgID != "" && orgID != id(st.org.id):
			continue
		case !yourProjectMatches(pr, q):
			continue
		}
		rows = append(rows, pr)
	}
	slices.SortFunc(rows, func(a, b *project) int {
		return cmp.Or(b.dateCreated.Compare(a.dateCreated), cmp.Compare(b.id, a.id))
	})
	page, ok := paginateByDate(c, rows, func(pr *project) time.Time { return pr.dateCreated })
	if !ok {
		return
	}
	org := s.orgSummaryBody(c)
	out := make([]projectWithOrg, 0, len(page))
	for _, pr := range page {
		out = append(out, projectWithOrg{Project: st.apiProject(c.p, pr), Organization: org})
	}
	c.json(http.StatusOK, out)
}

// onProjectTeam reports whether m is on one of pr's teams.
func (st *state) onProjectTeam(m *member, pr *project) bool {
	for _, tid := range pr.teams {
		if _, on := m.teams[tid]; on {
			return true
		}
	}
	return false
}

// yourProjectMatches applies project_index.py's query tokens: query is
// a case-insensitive substring of the name or slug, slug and name match
// any value case-insensitively, platform and id any value exactly.
func yourProjectMatches(pr *project, q map[string][]string) bool {
	for key, values := range q {
		var ok bool
		switch key {
		case "query":
			v := strings.Join(values, " ")
			ok = containsFold(pr.name, v) || containsFold(pr.slug, v)
		case "slug":
			ok = slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, pr.slug) })
		case "name":
			ok = slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, pr.name) })
		case "platform":
			ok = slices.Contains(values, pr.platform)
		case "id":
			ok = slices.Contains(values, id(pr.id))
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *Server) projectTeams(c *call) {
	st := s.st
	pr := c.pathProject()
	if pr == nil {
		return
	}
	if !st.hasAnyProjectScope(c.p, pr, "project:read", "project:write", "project:admin") {
		c.detail(http.StatusForbidden, msgForbidden)
		return
	}
	teams := make([]*team, 0, len(pr.teams))
	for _, tid := range pr.teams {
		teams = append(teams, st.teams[tid])
	}
	slices.SortFunc(teams, func(a, b *team) int { return strings.Compare(a.slug, b.slug) })
	st.writeTeams(c, teams, false)
}

// listAccessRequests is unpaginated; callers without org:write see only
// requests for teams where they hold team:write.
func (s *Server) listAccessRequests(c *call) {
	st := s.st
	var ars []*accessRequest
	for _, ar := range st.accessRequests {
		t := st.teams[ar.teamID]
		if _, done := st.members[ar.memberID].teams[t.id]; done {
			continue
		}
		if slices.Contains(c.p.scopes, "org:write") || st.hasTeamScope(c.p, t, "team:write") {
			ars = append(ars, ar)
		}
	}
	slices.SortFunc(ars, func(a, b *accessRequest) int { return cmp.Compare(a.id, b.id) })
	out := make([]sentry.AccessRequest, 0, len(ars))
	for _, ar := range ars {
		item := sentry.AccessRequest{ID: id(ar.id), Member: st.apiMember(st.members[ar.memberID]),
			Team: st.apiTeam(nil, st.teams[ar.teamID], false)}
		if u := st.users[ar.requesterID]; u != nil {
			item.Requester = apiUser(u)
		}
		out = append(out, item)
	}
	c.json(http.StatusOK, out)
}

// listOrgTokens lists active org auth tokens, most recently used first.
func (s *Server) listOrgTokens(c *call) {
	st := s.st
	var toks []*orgToken
	for _, t := range st.orgTokens {
		if t.active {
			toks = append(toks, t)
		}
	}
	slices.SortFunc(toks, func(a, b *orgToken) int {
		switch {
		case a.dateLastUsed == nil && b.dateLastUsed == nil:
		case a.dateLastUsed == nil:
			return 1
		case b.dateLastUsed == nil:
			return -1
		default:
			if n := b.dateLastUsed.Compare(*a.dateLastUsed); n != 0 {
				return n
			}
		}
		return cmp.Or(strings.Compare(a.name, b.name), b.dateCreated.Compare(a.dateCreated), cmp.Compare(a.id, b.id))
	})
	out := make([]sentry.OrgAuthToken, 0, len(toks))
	for _, t := range toks {
		out = append(out, st.apiOrgToken(t))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) listApps(c *call) {
	st := s.st
	out := make([]sentry.SentryApp, 0, len(st.apps))
	for _, a := range st.apps {
		events := a.events
		if events == nil {
			events = []string{}
		}
		out = append(out, sentry.SentryApp{UUID: a.uuid, Slug: a.slug, Name: a.name, Author: st.org.name,
			Status: "internal", Scopes: slices.Clone(a.scopes), Events: events,
			DateCreated: a.dateCreated, Owner: &sentry.OwnerRef{ID: int(st.org.id), Slug: st.org.slug}})
	}
	c.json(http.StatusOK, out)
}

// getAuthProvider answers 204 when the org has no SSO provider.
func (s *Server) getAuthProvider(c *call) {
	st := s.st
	ap := st.authProvider
	if ap == nil {
		c.noContent()
		return
	}
	pending := 0
	for _, m := range st.members {
		if m.user != nil && !m.flags["sso:linked"] {
			pending++
		}
	}
	c.json(http.StatusOK, sentry.AuthProvider{ID: id(ap.id), ProviderName: ap.provider, PendingLinksCount: pending,
		LoginURL: "/organizations/" + st.org.slug + "/issues/", DefaultRole: ap.defaultRole,
		RequireLink: ap.requireLink, SCIMEnabled: ap.scimEnabled})
}

// listAudit serves {rows, options}, newest first, filtered by event and
// actor, paginated by date (src/sentry/api/endpoints/organization_auditlogs.py);
// in legacy mode the rows as a bare list, as the endpoint answered before
// (self.paginate with on_results=serialize, at commit 5841509b).
func (s *Server) listAudit(c *call) {
	st := s.st
	q := c.r.URL.Query()
	event, actor := q.Get("event"), q.Get("actor")
	var actorID int64 = -1
	if actor != "" {
		n, err := strconv.ParseInt(actor, 10, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			c.json(http.StatusBadRequest, map[string][]string{"actor": {"A valid integer is required."}})
			return
		case err != nil || n > 2147483647:
			c.json(http.StatusBadRequest, map[string][]string{"actor": {"Ensure this value is less than or equal to 2147483647."}})
			return
		}
		actorID = n
	}
	from, to, ok := c.auditRange()
	if !ok {
		return
	}
	// An event name Sentry does not know matches nothing.
	known := event == "" || slices.Contains(auditEventNames(), event)
	rows := make([]*auditEntry, 0, len(st.audit))
	for i := len(st.audit) - 1; i >= 0 && known; i-- {
		e := st.audit[i]
		if (event == "" || e.event == event) && (actorID < 0 || e.actorUserID == actorID) &&
			(from.IsZero() || !e.dateCreated.Before(from)) && (to.IsZero() || !e.dateCreated.After(to)) {
			rows = append(rows, e)
		}
	}
	page, ok := paginateByDate(c, rows, func(e *auditEntry) time.Time { return e.dateCreated })
	if !ok {
		return
	}
	out := sentry.AuditLogPage{Rows: make([]sentry.AuditLogEntry, 0, len(page)), Options: auditEventNames()}
	for _, e := range page {
		out.Rows = append(out.Rows, st.apiAudit(e))
	}
	if s.legacy {
		c.json(http.StatusOK, out.Rows) // older servers: a bare list
		return
	}
	c.json(http.StatusOK, out)
}

// auditRange reads start/end (ISO 8601) or statsPeriod (e.g. 24h, 14d),
// as get_date_range_from_stats_period(optional=True) does; zero times mean
// no bound.
func (c *call) auditRange() (from, to time.Time, ok bool) {
	q := c.r.URL.Query()
	if p := q.Get("statsPeriod"); p != "" {
		d, valid := statsPeriod(p)
		if !valid {
			c.detail(http.StatusBadRequest, "Invalid statsPeriod: "+p)
			return from, to, false
		}
		now := c.s.now()
		return now.Add(-d), now, true
	}
	start, end := q.Get("start"), q.Get("end")
	if start == "" || end == "" {
		return from, to, true
	}
	var err1, err2 error
	from, err1 = time.Parse(time.RFC3339Nano, start)
	to, err2 = time.Parse(time.RFC3339Nano, end)
	if err1 != nil || err2 != nil {
		c.detail(http.StatusBadRequest, "Invalid date range")
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}

// statsPeriod parses Sentry's period syntax: a number and s, m, h, d or w.
func statsPeriod(p string) (time.Duration, bool) {
	if len(p) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(p[:len(p)-1])
	if err != nil || n <= 0 {
		return 0, false
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[p[len(p)-1]]
	if unit == 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
