package access

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ChangeKind names a what-if change.
type ChangeKind string

// Change kinds and the Change fields each one reads.
const (
	ChangeOrgRole       ChangeKind = "org-role"       // Member, Role
	ChangeTeamAdd       ChangeKind = "team-add"       // Member, Team, Role (optional team role)
	ChangeTeamRemove    ChangeKind = "team-remove"    // Member, Team
	ChangeTeamRole      ChangeKind = "team-role"      // Member, Team, Role
	ChangeProjectLink   ChangeKind = "project-link"   // Project, Team
	ChangeProjectUnlink ChangeKind = "project-unlink" // Project, Team
	ChangeOrgSetting    ChangeKind = "org-setting"    // Setting, Value
	ChangeMemberRemove  ChangeKind = "member-remove"  // Member
	ChangeTeamCreate    ChangeKind = "team-create"    // Team
	ChangeTeamDelete    ChangeKind = "team-delete"    // Team
	ChangeMemberInvite  ChangeKind = "member-invite"  // Member (the email), Role
)

// Change is one proposed access change. Member is a member id or email;
// Team and Project are slugs; Role is an org role id (org-role) or a team
// role id (team-add, team-role); Setting is one of the Setting* names.
// For team-create, Member is the creating member, who joins the new team
// with a null team role as Sentry adds the creator (organization_teams.py,
// docs/sentry-access-model.md#teams); "" when the creator is no member.
// SCIM marks a change made through SCIM with the SCIM token (member-remove
// is a SCIM deactivation, team-add and team-remove a group PATCH): the
// rules of Sentry's REST endpoints and of the acting identity do not apply
// to it, SCIM's do (docs/sentry-access-model.md#scim).
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Member  string     `json:"member,omitempty"`
	Team    string     `json:"team,omitempty"`
	Project string     `json:"project,omitempty"`
	Role    string     `json:"role,omitempty"`
	Setting string     `json:"setting,omitempty"`
	Value   bool       `json:"value"`
	SCIM    bool       `json:"scim,omitempty"`
}

// Errors Apply wraps; test with errors.Is. ErrUnknownMember and
// ErrUnknownProject are shared with the Engine.
var (
	// ErrUnknownTeam means no team has that slug.
	ErrUnknownTeam = errors.New("unknown team")
	// ErrUnknownRole means no org or team role has that id.
	ErrUnknownRole = errors.New("unknown role")
	// ErrUnknownSetting means the setting is not one Change can set.
	ErrUnknownSetting = errors.New("unknown setting")
	// ErrInvalidChange means the change cannot apply to the snapshot as it is
	// (unknown kind, team role for a member not on the team, duplicate team).
	ErrInvalidChange = errors.New("invalid change")
)

// Apply returns a deep copy of s with changes applied in order; s is never
// modified. It applies Sentry's semantics: a team role at or below the
// member's minimum team role is stored as null ("") (PUT member-team in
// organization_member/team_details.py); an org-role change resets stored team
// roles at or below the new role's minimum to null
// (organization_member/details.py). Adding a member to a team it is on, or
// removing it from one it is not on, changes nothing. Apply does not enforce
// Sentry's permission rules: use Validate for those. Errors wrap
// ErrUnknownMember, ErrUnknownTeam, ErrUnknownProject, ErrUnknownRole,
// ErrUnknownSetting or ErrInvalidChange and name the change's index.
func Apply(s *Snapshot, changes []Change) (*Snapshot, error) {
	out := s.Clone()
	w := newWorkspace(out)
	for i, c := range changes {
		if err := w.apply(c); err != nil {
			return nil, fmt.Errorf("change %d (%s): %w", i, c.Kind, err)
		}
	}
	return out, nil
}

// workspace applies changes to a snapshot it owns.
type workspace struct {
	s         *Snapshot
	orgRoles  []OrgRole
	teamRoles []TeamRole
}

func newWorkspace(s *Snapshot) *workspace {
	w := &workspace{s: s}
	w.orgRoles, w.teamRoles = resolveRoles(s)
	return w
}

// memberAndTeam resolves the member and checks the team a membership
// change names (c.Member, c.Team).
func (w *workspace) memberAndTeam(c Change) (*Member, error) {
	i, err := w.member(c.Member)
	if err != nil {
		return nil, err
	}
	if _, err := w.team(c.Team); err != nil {
		return nil, err
	}
	return &w.s.Members[i], nil
}

func (w *workspace) member(ref string) (int, error) {
	for i := range w.s.Members {
		if m := &w.s.Members[i]; m.ID == ref || strings.EqualFold(m.Email, ref) {
			return i, nil
		}
	}
	return -1, fmt.Errorf("member %q: %w", ref, ErrUnknownMember)
}

func (w *workspace) team(slug string) (int, error) {
	for i, t := range w.s.Teams {
		if t.Slug == slug {
			return i, nil
		}
	}
	return -1, fmt.Errorf("team %q: %w", slug, ErrUnknownTeam)
}

func (w *workspace) project(slug string) (int, error) {
	for i, p := range w.s.Projects {
		if p.Slug == slug {
			return i, nil
		}
	}
	return -1, fmt.Errorf("project %q: %w", slug, ErrUnknownProject)
}

func (w *workspace) orgRole(id string) (int, error) {
	for i, r := range w.orgRoles {
		if r.ID == id {
			return i, nil
		}
	}
	return -1, fmt.Errorf("org role %q: %w", id, ErrUnknownRole)
}

func (w *workspace) teamRole(id string) (int, error) {
	for i, r := range w.teamRoles {
		if r.ID == id {
			return i, nil
		}
	}
	return -1, fmt.Errorf("team role %q: %w", id, ErrUnknownRole)
}

// minTeamRole is the minimum team role index of a member's org role
// (0, the default, when its role is unknown).
func (w *workspace) minTeamRole(m *Member) int {
	r, err := w.orgRole(m.OrgRole)
	if err != nil {
		return 0
	}
	return minimumTeamRole(w.orgRoles, w.teamRoles, r)
}

// storedTeamRole is what Sentry stores for team role id: null when it is at
// or below the member's minimum team role.
func (w *workspace) storedTeamRole(m *Member, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	r, err := w.teamRole(id)
	if err != nil {
		return "", err
	}
	if r <= w.minTeamRole(m) {
		return "", nil
	}
	return id, nil
}

func (w *workspace) apply(c Change) error {
	switch c.Kind {
	case ChangeOrgRole:
		i, err := w.member(c.Member)
		if err != nil {
			return err
		}
		if _, err := w.orgRole(c.Role); err != nil {
			return err
		}
		m := &w.s.Members[i]
		m.OrgRole = c.Role
		minimum := w.minTeamRole(m)
		for k := range m.Teams {
			if r, err := w.teamRole(m.Teams[k].Role); err == nil && r <= minimum {
				m.Teams[k].Role = ""
			}
		}
	case ChangeTeamAdd, ChangeTeamRole:
		m, err := w.memberAndTeam(c)
		if err != nil {
			return err
		}
		stored, err := w.storedTeamRole(m, c.Role)
		if err != nil {
			return err
		}
		k := slices.IndexFunc(m.Teams, func(ms Membership) bool { return ms.Team == c.Team })
		switch {
		case k >= 0 && c.Kind == ChangeTeamRole:
			m.Teams[k].Role = stored
		case k < 0 && c.Kind == ChangeTeamRole:
			return fmt.Errorf("member %q is not on team %q: %w", c.Member, c.Team, ErrInvalidChange)
		case k < 0:
			m.Teams = append(m.Teams, Membership{Team: c.Team, Role: stored})
		}
		w.markSCIM(c)
	case ChangeTeamRemove:
		m, err := w.memberAndTeam(c)
		if err != nil {
			return err
		}
		m.Teams = slices.DeleteFunc(m.Teams, func(ms Membership) bool { return ms.Team == c.Team })
		w.markSCIM(c)
	case ChangeProjectLink, ChangeProjectUnlink:
		p, err := w.project(c.Project)
		if err != nil {
			return err
		}
		if _, err := w.team(c.Team); err != nil {
			return err
		}
		pr := &w.s.Projects[p]
		linked := slices.Contains(pr.Teams, c.Team)
		switch {
		case c.Kind == ChangeProjectLink && !linked:
			pr.Teams = append(pr.Teams, c.Team)
		case c.Kind == ChangeProjectUnlink:
			pr.Teams = slices.DeleteFunc(pr.Teams, func(t string) bool { return t == c.Team })
		}
	case ChangeOrgSetting:
		return setOrgSetting(&w.s.Org, c.Setting, c.Value)
	case ChangeMemberRemove:
		i, err := w.member(c.Member)
		if err != nil {
			return err
		}
		w.s.Members = slices.Delete(w.s.Members, i, i+1)
	case ChangeMemberInvite:
		if _, err := w.member(c.Member); err == nil {
			return fmt.Errorf("%s is already a member or invited: %w", c.Member, ErrInvalidChange)
		}
		role := c.Role
		if role == "" {
			role = RoleMember
		}
		if _, err := w.orgRole(role); err != nil {
			return err
		}
		// An invite reaches nothing until it is accepted.
		w.s.Members = append(w.s.Members, Member{ID: "invite:" + c.Member, Email: c.Member, OrgRole: role, State: StatePending})
	case ChangeTeamCreate:
		if c.Team == "" {
			return fmt.Errorf("team slug is empty: %w", ErrInvalidChange)
		}
		if _, err := w.team(c.Team); err == nil {
			return fmt.Errorf("a team with slug %q already exists: %w", c.Team, ErrInvalidChange)
		}
		w.s.Teams = append(w.s.Teams, Team{Slug: c.Team, Name: c.Team, IDPProvisioned: c.SCIM})
		if c.Member != "" {
			i, err := w.member(c.Member)
			if err != nil {
				return err
			}
			m := &w.s.Members[i]
			m.Teams = append(m.Teams, Membership{Team: c.Team})
		}
	case ChangeTeamDelete:
		t, err := w.team(c.Team)
		if err != nil {
			return err
		}
		w.s.Teams = slices.Delete(w.s.Teams, t, t+1)
		for i := range w.s.Members {
			m := &w.s.Members[i]
			m.Teams = slices.DeleteFunc(m.Teams, func(ms Membership) bool { return ms.Team == c.Team })
		}
		for i := range w.s.Projects {
			p := &w.s.Projects[i]
			p.Teams = slices.DeleteFunc(p.Teams, func(s string) bool { return s == c.Team })
		}
	default:
		return fmt.Errorf("kind %q: %w", c.Kind, ErrInvalidChange)
	}
	return nil
}

// markSCIM marks the team of a SCIM membership change IdP-provisioned:
// any successful group PATCH does (docs/sentry-access-model.md#scim).
func (w *workspace) markSCIM(c Change) {
	if !c.SCIM {
		return
	}
	if t, err := w.team(c.Team); err == nil {
		w.s.Teams[t].IDPProvisioned = true
	}
}

func setOrgSetting(o *Org, name string, v bool) error {
	switch name {
	case SettingOpenMembership:
		o.OpenMembership = v
	case SettingEventsMemberAdmin:
		o.EventsMemberAdmin = v
	case SettingAlertsMemberWrite:
		o.AlertsMemberWrite = v
	case SettingAllowMemberInvite:
		o.AllowMemberInvite = v
	case SettingAllowMemberProjectCreation:
		o.AllowMemberProjectCreation = v
	case SettingAllowJoinRequests:
		o.AllowJoinRequests = v
	case SettingRequire2FA:
		o.Require2FA = v
	default:
		return fmt.Errorf("setting %q: %w", name, ErrUnknownSetting)
	}
	return nil
}

// Rule names a Sentry rule a change would break.
type Rule string

// Rules Validate checks, besides the acting identity's (caller.go).
const (
	// RuleUnknown: the change names a member, team, project, role or setting
	// that does not exist, or cannot apply as written.
	RuleUnknown Rule = "unknown"
	// RuleRetiredRole: a retired role (admin) cannot be newly assigned
	// (organization_member/details.py, docs/sentry-access-model.md#organization-roles).
	RuleRetiredRole Rule = "retired-role"
	// RuleNoTeamRoles: a role with isTeamRolesAllowed off (billing) cannot be
	// on teams (docs/sentry-access-model.md#members, PUT member).
	RuleNoTeamRoles Rule = "no-team-roles"
	// RuleLastOwner: the last owner or manager (the last member whose role
	// holds org:write) cannot be removed or demoted
	// (docs/sentry-access-model.md#members, DELETE member); through SCIM,
	// the last owner (docs/sentry-access-model.md#scim).
	RuleLastOwner Rule = "last-owner"
	// RuleIDPProvisioned: SCIM-managed teams and members cannot be changed
	// through Sentry's REST API, only through SCIM
	// (docs/sentry-access-model.md#teams, #members, #scim).
	RuleIDPProvisioned Rule = "idp-provisioned"
	// RuleIDPRoleRestricted: the member's org role is locked to the IdP
	// (idp:role-restricted); older Sentry refuses an org-role change of
	// it, the newest does not (a warning; docs/sentry-access-model.md#members).
	RuleIDPRoleRestricted Rule = "idp-role-restricted"
	// RulePartnership: a member managed by an active partnership cannot
	// be changed or removed (docs/sentry-access-model.md#members-over-the-member-limit).
	RulePartnership Rule = "partnership"
	// RuleOwnRole: nobody can change their own org role; "own" is the
	// acting identity's (docs/sentry-access-model.md#members).
	RuleOwnRole Rule = "own-role"
)

// Violation is one Sentry rule that change number Index would break (Index
// -1: the request as a whole). A Warning is a rule Sentry may apply: its
// versions differ, or what it depends on could not be checked; it does not
// block.
type Violation struct {
	Index   int    `json:"index"`
	Change  Change `json:"change"`
	Rule    Rule   `json:"rule"`
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
}

// Validate reports every Sentry rule the changes, applied in order to s,
// would break when made by caller, the acting identity (who Sentry sees:
// the owner of the configured token, s.Caller for the token the snapshot
// was synced with), in change order. When caller is not known the rules
// that depend on it are not checked, and one warning (Index -1) says so.
// s is not modified.
func Validate(s *Snapshot, changes []Change, caller ActingIdentity) []Violation {
	w := newWorkspace(s.Clone())
	cf := newCallerFacts(caller)
	// Sentry keeps the last accepted member whose role holds org:write
	// (an owner or a manager): is_only_member_with_org_write in
	// organization_member_details.py (docs/sentry-access-model.md#members);
	// SCIM keeps the last owner (is_only_owner).
	count := func(scim bool) int {
		n := 0
		for _, m := range w.s.Members {
			if m.State != StateActive && m.State != "" {
				continue
			}
			r, err := w.orgRole(m.OrgRole)
			if err != nil {
				continue
			}
			if (scim && m.OrgRole == RoleOwner) || (!scim && slices.Contains(w.orgRoles[r].Scopes, "org:write")) {
				n++
			}
		}
		return n
	}
	var out []Violation
	add := func(i int, v Violation) {
		v.Index = i
		if i >= 0 {
			v.Change = changes[i]
		}
		out = append(out, v)
	}
	checked := false            // a change the acting identity matters to
	touched := map[string]int{} // member id → last index of a change putting a role or team on it
	for i, c := range changes {
		if v, ok := w.precheck(c); ok {
			add(i, v)
		}
		for _, v := range w.callerCheck(c, cf) {
			add(i, v)
		}
		checked = checked || (!c.SCIM && c.Kind != ChangeOrgSetting)
		before := count(c.SCIM)
		if err := w.apply(c); err != nil {
			add(i, Violation{Rule: RuleUnknown, Message: err.Error()})
			continue
		}
		if before > 0 && count(c.SCIM) == 0 {
			msg := "You cannot remove the only remaining owner or manager of the organization."
			if c.SCIM {
				msg = "You cannot remove the only remaining owner of the organization."
			}
			add(i, Violation{Rule: RuleLastOwner, Message: msg})
		}
		if c.Kind == ChangeOrgRole || c.Kind == ChangeTeamAdd || c.Kind == ChangeTeamRole {
			if k, err := w.member(c.Member); err == nil {
				touched[w.s.Members[k].ID] = i
			}
		}
	}
	for _, m := range w.s.Members {
		i, ok := touched[m.ID]
		if !ok || len(m.Teams) == 0 {
			continue
		}
		if r, err := w.orgRole(m.OrgRole); err == nil && !w.orgRoles[r].IsTeamRolesAllowed {
			add(i, Violation{Rule: RuleNoTeamRoles, Message: fmt.Sprintf("The user with a '%s' role cannot have team-level permissions.", m.OrgRole)})
		}
	}
	if checked && !cf.known {
		add(-1, Violation{Rule: RuleCallerUnknown, Warning: true, Message: "Not checked: " + CallerUnknownReason(caller) +
			". Sentry checks every change against the owner of the configured token (its own org role, the roles it may give, members above it, its team admin rights), so Sentry may still refuse a step."})
	}
	slices.SortStableFunc(out, func(a, b Violation) int { return a.Index - b.Index })
	return out
}

// precheck checks the rules that depend on the state before change c and
// not on who makes it.
func (w *workspace) precheck(c Change) (Violation, bool) {
	var m *Member
	if c.Member != "" {
		if i, err := w.member(c.Member); err == nil {
			m = &w.s.Members[i]
		}
	}
	var t *Team
	if c.Team != "" {
		if i, err := w.team(c.Team); err == nil {
			t = &w.s.Teams[i]
		}
	}
	partnership := Violation{Rule: RulePartnership, Message: "This member is managed by an active partnership and cannot be modified until the end of the partnership."}
	switch c.Kind {
	case ChangeOrgRole:
		if m == nil || m.OrgRole == c.Role {
			return Violation{}, false
		}
		if m.Flags.PartnershipRestricted {
			return partnership, true
		}
		if r, err := w.orgRole(c.Role); err == nil && w.orgRoles[r].IsRetired {
			return Violation{Rule: RuleRetiredRole, Message: fmt.Sprintf("The role '%s' is deprecated and may no longer be assigned.", c.Role)}, true
		}
		if m.Flags.IDPRoleRestricted {
			return Violation{Rule: RuleIDPRoleRestricted, Warning: true, Message: fmt.Sprintf(
				"Depends on the Sentry version: %s's org role is managed by the identity provider (SCIM). Older Sentry refuses to change it here (403: the role is managed through the identity provider); the newest has that check switched off, and the IdP may set the role back at its next push. Change the role attribute in the identity provider to make it last.", m.Email)}, true
		}
	case ChangeTeamAdd, ChangeTeamRemove:
		if t != nil && t.IDPProvisioned && !c.SCIM {
			return Violation{Rule: RuleIDPProvisioned, Message: fmt.Sprintf("Team %s is managed through your organization's identity provider: change its members in the IdP, or with a SCIM group step.", t.Slug)}, true
		}
	case ChangeTeamDelete:
		if t != nil && t.IDPProvisioned {
			return Violation{Rule: RuleIDPProvisioned, Message: fmt.Sprintf("Team %s is managed through your organization's identity provider: delete the group in the IdP.", t.Slug)}, true
		}
	case ChangeMemberInvite:
		if r, err := w.orgRole(c.Role); err == nil && w.orgRoles[r].IsRetired {
			return Violation{Rule: RuleRetiredRole, Message: fmt.Sprintf("The role '%s' is deprecated, and members may no longer be invited with it.", c.Role)}, true
		}
	case ChangeMemberRemove:
		if m == nil {
			return Violation{}, false
		}
		if m.Flags.PartnershipRestricted {
			return partnership, true
		}
		if m.Flags.IDPProvisioned && !c.SCIM {
			return Violation{Rule: RuleIDPProvisioned, Message: fmt.Sprintf("%s is managed through your organization's identity provider: deactivate them through SCIM (the step \"SCIM: deactivate user\") or in the IdP.", m.Email)}, true
		}
	}
	return Violation{}, false
}
