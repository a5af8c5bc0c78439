package sentrysim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The simulator keeps its state in maps indexed the ways requests look
// things up, so that no request does more than a linear pass.

type orgState struct {
	id                         int64
	slug, name                 string
	dateCreated                time.Time
	openMembership             bool
	allowMemberInvite          bool
	allowMemberProjectCreation bool
	eventsMemberAdmin          bool
	alertsMemberWrite          bool
	allowJoinRequests          bool
	require2FA                 bool
	defaultRole                string
	features                   []string
}

type user struct {
	id        int64
	name      string
	email     string
	has2fa    bool
	lastLogin *time.Time
	joined    time.Time
}

type member struct {
	id           int64
	email        string
	name         string
	user         *user // nil while the invite is pending
	role         string
	expired      bool
	inviteStatus string
	inviterID    int64
	flags        map[string]bool
	dateCreated  time.Time
	teams        map[int64]*string // team id → stored team role (nil = null)
}

type team struct {
	id             int64
	slug, name     string
	idpProvisioned bool
	dateCreated    time.Time
	members        map[int64]bool // member ids
	projects       map[int64]bool // project ids
}

type project struct {
	id          int64
	slug, name  string
	platform    string
	dateCreated time.Time
	teams       []int64 // in link order
}

type app struct {
	uuid, slug, name string
	scopes           []string
	events           []string
	dateCreated      time.Time
	scim             bool
}

type orgToken struct {
	id              int64
	name            string
	token           string
	dateCreated     time.Time
	dateLastUsed    *time.Time
	projectLastUsed int64
	active          bool
}

type userToken struct {
	name      string
	token     string
	memberID  int64
	scopes    []string
	created   time.Time
	expiresAt *time.Time
}

type accessRequest struct {
	id          int64
	memberID    int64
	teamID      int64
	requesterID int64 // user id, 0 when the member asked
}

type auditEntry struct {
	id           int64
	actorUserID  int64
	actorLabel   string
	event        string
	ipAddress    string
	note         string
	targetObject *int64
	targetUserID int64
	data         json.RawMessage
	dateCreated  time.Time
}

type authProvider struct {
	id          int64
	provider    string
	requireLink bool
	defaultRole string
	scimEnabled bool
	azureAD     bool
}

type state struct {
	org   orgState
	roles roleTable

	members       map[int64]*member
	memberByEmail map[string]*member
	users         map[int64]*user
	memberByUser  map[int64]*member
	teams         map[int64]*team
	teamBySlug    map[string]*team
	projects      map[int64]*project
	projectBySlug map[string]*project

	apps           []*app
	appByToken     map[string]*app
	orgTokens      map[int64]*orgToken
	orgTokenByVal  map[string]*orgToken
	userTokens     map[string]*userToken
	accessRequests map[int64]*accessRequest
	audit          []*auditEntry // oldest first
	authProvider   *authProvider
	scimToken      string

	nextID int64
}

func (s *state) newID() int64 {
	s.nextID++
	return s.nextID
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// newState builds the state from a validated fixture.
func newState(fx *Fixture, now time.Time) (*state, error) {
	if err := fx.Validate(); err != nil {
		return nil, err
	}
	st := &state{
		roles:          newRoleTable(),
		members:        map[int64]*member{},
		memberByEmail:  map[string]*member{},
		users:          map[int64]*user{},
		memberByUser:   map[int64]*member{},
		teams:          map[int64]*team{},
		teamBySlug:     map[string]*team{},
		projects:       map[int64]*project{},
		projectBySlug:  map[string]*project{},
		appByToken:     map[string]*app{},
		orgTokens:      map[int64]*orgToken{},
		orgTokenByVal:  map[string]*orgToken{},
		userTokens:     map[string]*userToken{},
		accessRequests: map[int64]*accessRequest{},
	}
	// Explicit ids first, so that assigned ones never collide.
	bump := func(id int64) {
		if id > st.nextID {
			st.nextID = id
		}
	}
	bump(fx.Org.ID)
	for _, t := range fx.Teams {
		bump(t.ID)
	}
	for _, p := range fx.Projects {
		bump(p.ID)
	}
	for _, m := range fx.Members {
		bump(m.ID)
		bump(m.UserID)
	}
	for _, t := range fx.OrgAuthTokens {
		bump(t.ID)
	}
	idOr := func(id int64) int64 {
		if id != 0 {
			return id
		}
		return st.newID()
	}
	dateOr := func(t time.Time) time.Time {
		if t.IsZero() {
			return now
		}
		return t
	}

	o := fx.Org
	st.org = orgState{
		id: idOr(o.ID), slug: o.Slug, name: cmp.Or(o.Name, o.Slug), dateCreated: dateOr(o.DateCreated),
		openMembership:             boolOr(o.OpenMembership, true),
		allowMemberInvite:          boolOr(o.AllowMemberInvite, true),
		allowMemberProjectCreation: boolOr(o.AllowMemberProjectCreation, true),
		eventsMemberAdmin:          boolOr(o.EventsMemberAdmin, true),
		alertsMemberWrite:          boolOr(o.AlertsMemberWrite, true),
		allowJoinRequests:          boolOr(o.AllowJoinRequests, true),
		require2FA:                 o.Require2FA,
		defaultRole:                cmp.Or(o.DefaultRole, "member"),
		features:                   o.Features,
	}
	if st.org.features == nil {
		st.org.features = DefaultFeatures()
	}

	for _, tf := range fx.Teams {
		t := &team{id: idOr(tf.ID), slug: tf.Slug, name: cmp.Or(tf.Name, tf.Slug), idpProvisioned: tf.IDPProvisioned,
			dateCreated: dateOr(tf.DateCreated), members: map[int64]bool{}, projects: map[int64]bool{}}
		if st.teams[t.id] != nil {
			return nil, fmt.Errorf("team %s: duplicate id %d", t.slug, t.id)
		}
		st.teams[t.id] = t
		st.teamBySlug[t.slug] = t
	}
	for _, pf := range fx.Projects {
		p := &project{id: idOr(pf.ID), slug: pf.Slug, name: cmp.Or(pf.Name, pf.Slug), platform: pf.Platform,
			dateCreated: dateOr(pf.DateCreated)}
		st.projects[p.id] = p
		st.projectBySlug[p.slug] = p
		for _, ts := range pf.Teams {
			st.linkProject(p, st.teamBySlug[ts])
		}
	}
	for _, mf := range fx.Members {
		m := &member{id: idOr(mf.ID), email: mf.Email, name: cmp.Or(mf.Name, mf.Email), role: mf.Role,
			expired: mf.Expired, inviteStatus: cmp.Or(mf.InviteStatus, "approved"), flags: map[string]bool{},
			dateCreated: dateOr(mf.DateCreated), teams: map[int64]*string{}}
		for _, f := range mf.Flags {
			m.flags[f] = true
		}
		if !mf.Pending && m.inviteStatus == "approved" {
			u := &user{id: idOr(mf.UserID), name: m.name, email: mf.Email, has2fa: mf.Has2FA, lastLogin: mf.LastLogin,
				joined: m.dateCreated}
			m.user = u
			st.users[u.id] = u
			st.memberByUser[u.id] = m
		}
		if st.members[m.id] != nil {
			return nil, fmt.Errorf("member %s: duplicate id %d", m.email, m.id)
		}
		st.members[m.id] = m
		st.memberByEmail[strings.ToLower(m.email)] = m
		for _, tm := range mf.Teams {
			var role *string
			if tm.Role != "" {
				role = &tm.Role
			}
			st.addToTeam(m, st.teamBySlug[tm.Team], role)
		}
	}
	for _, mf := range fx.Members {
		if mf.Inviter != "" {
			st.memberByEmail[strings.ToLower(mf.Email)].inviterID = st.memberByEmail[strings.ToLower(mf.Inviter)].id
		}
	}
	for _, in := range fx.Integrations {
		a := &app{uuid: cmp.Or(in.UUID, fmt.Sprintf("%08x-0000-4000-8000-%012x", st.newID(), len(st.apps)+1)),
			slug: in.Slug, name: cmp.Or(in.Name, in.Slug), scopes: slices.Clone(in.Scopes), events: in.Events,
			dateCreated: dateOr(in.DateCreated)}
		st.apps = append(st.apps, a)
		for _, v := range in.Tokens {
			st.appByToken[v] = a
		}
	}
	for _, tf := range fx.OrgAuthTokens {
		t := &orgToken{id: idOr(tf.ID), name: tf.Name, token: tf.Token, dateCreated: dateOr(tf.DateCreated),
			dateLastUsed: tf.DateLastUsed, active: true}
		if tf.ProjectLastUsed != "" {
			t.projectLastUsed = st.projectBySlug[tf.ProjectLastUsed].id
		}
		st.orgTokens[t.id] = t
		st.orgTokenByVal[t.token] = t
	}
	for _, tf := range fx.UserTokens {
		st.userTokens[tf.Token] = &userToken{name: tf.Name, token: tf.Token,
			memberID: st.memberByEmail[strings.ToLower(tf.Member)].id, scopes: withImpliedScopes(tf.Scopes),
			created: dateOr(tf.DateCreated), expiresAt: tf.ExpiresAt}
	}
	if ap := fx.AuthProvider; ap != nil {
		st.authProvider = &authProvider{id: st.newID(), provider: cmp.Or(ap.Provider, "saml2"),
			requireLink: ap.RequireLink, defaultRole: cmp.Or(ap.DefaultRole, "member"), scimEnabled: ap.SCIMEnabled,
			azureAD: ap.AzureAD}
		if ap.SCIMEnabled && ap.SCIMToken != "" {
			st.scimToken = ap.SCIMToken
			st.apps = append(st.apps, &app{uuid: fmt.Sprintf("5c1a0000-0000-4000-8000-%012d", st.authProvider.id),
				slug: "scim-internal-integration", name: "SCIM Internal Integration",
				scopes: scimScopes(), dateCreated: st.org.dateCreated, scim: true})
		}
	}
	for _, af := range fx.AccessRequests {
		ar := &accessRequest{id: st.newID(), memberID: st.memberByEmail[strings.ToLower(af.Member)].id,
			teamID: st.teamBySlug[af.Team].id}
		if af.Requester != "" {
			if u := st.memberByEmail[strings.ToLower(af.Requester)].user; u != nil {
				ar.requesterID = u.id
			}
		}
		st.accessRequests[ar.id] = ar
	}
	entries := slices.Clone(fx.AuditLog)
	slices.SortStableFunc(entries, func(a, b AuditEntryFixture) int { return a.DateCreated.Compare(b.DateCreated) })
	for _, af := range entries {
		e := &auditEntry{id: st.newID(), event: af.Event, ipAddress: cmp.Or(af.IPAddress, "127.0.0.1"),
			note: af.Note, dateCreated: dateOr(af.DateCreated)}
		if m := st.memberByEmail[strings.ToLower(af.Actor)]; m != nil && m.user != nil {
			e.actorUserID = m.user.id
		} else {
			e.actorLabel = af.Actor
		}
		if m := st.memberByEmail[strings.ToLower(af.TargetUser)]; m != nil && m.user != nil {
			e.targetUserID = m.user.id
		}
		if af.TargetObject != 0 {
			v := af.TargetObject
			e.targetObject = &v
		}
		data := af.Data
		if data == nil {
			data = map[string]any{}
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("audit entry %s: data: %w", af.Event, err)
		}
		e.data = raw
		st.audit = append(st.audit, e)
	}
	return st, nil
}

// scimScopes are the scopes given to the SCIM internal integration
// (Sentry's exact list is unconfirmed; these cover the SCIM scope maps).
func scimScopes() []string {
	return []string{"member:read", "member:write", "member:admin", "team:read", "team:write", "team:admin"}
}

func (st *state) linkProject(p *project, t *team) {
	if t.projects[p.id] {
		return
	}
	t.projects[p.id] = true
	p.teams = append(p.teams, t.id)
}

func (st *state) unlinkProject(p *project, t *team) {
	delete(t.projects, p.id)
	p.teams = slices.DeleteFunc(p.teams, func(id int64) bool { return id == t.id })
}

func (st *state) addToTeam(m *member, t *team, role *string) {
	m.teams[t.id] = role
	t.members[m.id] = true
}

func (st *state) removeFromTeam(m *member, t *team) {
	delete(m.teams, t.id)
	delete(t.members, m.id)
}

func (st *state) deleteMember(m *member) {
	for tid := range m.teams {
		delete(st.teams[tid].members, m.id)
	}
	delete(st.members, m.id)
	delete(st.memberByEmail, strings.ToLower(m.email))
	if m.user != nil {
		delete(st.memberByUser, m.user.id)
	}
	for tok, ut := range st.userTokens {
		if ut.memberID == m.id {
			delete(st.userTokens, tok)
		}
	}
	for id, ar := range st.accessRequests {
		if ar.memberID == m.id {
			delete(st.accessRequests, id)
		}
	}
}

func (st *state) deleteTeam(t *team) {
	for mid := range t.members {
		delete(st.members[mid].teams, t.id)
	}
	for pid := range t.projects {
		p := st.projects[pid]
		p.teams = slices.DeleteFunc(p.teams, func(id int64) bool { return id == t.id })
	}
	for id, ar := range st.accessRequests {
		if ar.teamID == t.id {
			delete(st.accessRequests, id)
		}
	}
	delete(st.teams, t.id)
	delete(st.teamBySlug, t.slug)
}

// sortedMembers returns the members ordered by id.
func (st *state) sortedMembers() []*member {
	out := make([]*member, 0, len(st.members))
	for _, m := range st.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *member) int { return cmp.Compare(a.id, b.id) })
	return out
}

// sortedTeams returns the teams ordered by slug.
func (st *state) sortedTeams() []*team {
	out := make([]*team, 0, len(st.teams))
	for _, t := range st.teams {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *team) int { return strings.Compare(a.slug, b.slug) })
	return out
}

// sortedProjects returns the projects ordered by slug.
func (st *state) sortedProjects() []*project {
	out := make([]*project, 0, len(st.projects))
	for _, p := range st.projects {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *project) int { return strings.Compare(a.slug, b.slug) })
	return out
}

// lookupTeam finds a team by id or slug.
func (st *state) lookupTeam(idOrSlug string) *team {
	if t := st.teamBySlug[idOrSlug]; t != nil {
		return t
	}
	var id int64
	if _, err := fmt.Sscan(idOrSlug, &id); err == nil {
		return st.teams[id]
	}
	return nil
}

// lookupProject finds a project by id or slug.
func (st *state) lookupProject(idOrSlug string) *project {
	if p := st.projectBySlug[idOrSlug]; p != nil {
		return p
	}
	var id int64
	if _, err := fmt.Sscan(idOrSlug, &id); err == nil {
		return st.projects[id]
	}
	return nil
}

// lookupMember finds a member by id, or "me" for the calling user.
func (st *state) lookupMember(idStr string, caller *principal) *member {
	if idStr == "me" && caller != nil {
		return caller.member
	}
	var id int64
	if _, err := fmt.Sscan(idStr, &id); err == nil {
		return st.members[id]
	}
	return nil
}

// isOwner reports whether m is an active owner.
func (st *state) ownerCount() int {
	n := 0
	for _, m := range st.members {
		if m.role == "owner" && m.inviteStatus == "approved" && m.user != nil {
			n++
		}
	}
	return n
}

// minimumTeamRole returns the minimum team role of an org role.
func (st *state) minimumTeamRole(orgRole string) string {
	r, _ := st.roles.orgRole(orgRole)
	return r.minimumTeamRole
}

// effectiveTeamRole is max(stored role or contributor, minimum team role).
func (st *state) effectiveTeamRole(m *member, stored *string) string {
	role := "contributor"
	if stored != nil {
		role = *stored
	}
	minRole := st.minimumTeamRole(m.role)
	a, _ := st.roles.teamRole(role)
	b, _ := st.roles.teamRole(minRole)
	if b.priority > a.priority {
		return minRole
	}
	return role
}

// orgScopes returns the scopes of an org role after the org's settings.
func (st *state) orgScopes(role string) []string {
	r, _ := st.roles.orgRole(role)
	return filterScopes(r.scopes, st.org.eventsMemberAdmin, st.org.alertsMemberWrite)
}

// teamScopes returns the scopes of a team role after the org's settings.
func (st *state) teamScopes(role string) []string {
	r, _ := st.roles.teamRole(role)
	return filterScopes(r.scopes, st.org.eventsMemberAdmin, st.org.alertsMemberWrite)
}

func (st *state) hasFeature(f string) bool {
	return slices.Contains(st.org.features, "organizations:"+f)
}
