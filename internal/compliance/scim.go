package compliance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// SCIM and SSO drift rules.
const (
	// RuleNotProvisioned: an active member is not idp:provisioned while
	// SCIM is on.
	RuleNotProvisioned Rule = "scim-member-not-provisioned"
	// RuleSCIMUserMissing: a SCIM user has no member in Sentry.
	RuleSCIMUserMissing Rule = "scim-user-missing"
	// RuleDeprovisionedMember: the IdP deprovisioned someone who is still a
	// member.
	RuleDeprovisionedMember Rule = "scim-deprovisioned-member"
	// RuleGroupNoTeam: a SCIM group matches no team.
	RuleGroupNoTeam Rule = "scim-group-without-team"
	// RuleTeamNoGroup: an idp-provisioned team has no SCIM group.
	RuleTeamNoGroup Rule = "scim-team-without-group"
	// RuleGroupNameDrift: a group's displayName differs from its team's name.
	RuleGroupNameDrift Rule = "scim-group-name-drift"
	// RuleGroupMembersDrift: a group's members differ from its team's.
	RuleGroupMembersDrift Rule = "scim-group-members-drift"
	// RulePendingInvite: an invite has been pending a long time.
	RulePendingInvite Rule = "invite-pending"
	// RuleExpiredInvite: an invite expired.
	RuleExpiredInvite Rule = "invite-expired"
	// RuleSSONotLinked: an active member has no linked SSO identity while
	// SSO is required.
	RuleSSONotLinked Rule = "sso-not-linked"
	// RuleRoleRestricted: the member's org role is set by the IdP.
	RuleRoleRestricted Rule = "scim-role-restricted"
	// RuleNotVisible: a rule could not run because its data is not visible.
	RuleNotVisible Rule = "not-visible"
)

// scimOn reports whether SCIM is enabled, from the auth provider when it
// is visible, else from the snapshot.
func (inv *Inventory) scimOn() bool {
	if inv.AuthProvider != nil {
		return inv.AuthProvider.SCIMEnabled
	}
	return inv.Snapshot != nil && inv.Snapshot.Org.SCIMEnabled
}

// ssoRequired reports whether members must link SSO: the provider's
// require_link (= not allow_unlinked), else the org's requiresSso
// (docs/sentry-access-model.md#auth-provider-and-sso, #effective-access).
func (inv *Inventory) ssoRequired() bool {
	if inv.AuthProvider != nil {
		return inv.AuthProvider.RequireLink
	}
	return inv.Snapshot != nil && inv.Snapshot.Org.RequiresSSO
}

// DriftFindings compares SCIM users and groups with Sentry's members and
// teams and checks invites and SSO links. Without a snapshot it returns
// nothing. Each rule mirrors Sentry's SCIM and member model
// (src/sentry/scim/endpoints/{members,teams}.py, docs/sentry-access-model.md#scim, #effective-access member
// model):
//
//   - scim-member-not-provisioned (low; info for owners): with SCIM on, an
//     active member without idp:provisioned was added outside the IdP.
//     Owners cannot be provisioned by SCIM (a role with org:admin is refused).
//   - scim-user-missing (medium): a SCIM user (SCIM Users are the org's
//     approved members) whose id and email match no member of the snapshot.
//   - scim-deprovisioned-member (high): a SCIM user with active=false is
//     still listed, or an idp:provisioned member is no longer a SCIM user.
//     Fix: deactivate through SCIM, which deletes the member.
//   - scim-group-without-team / scim-team-without-group (medium): groups
//     are joined to teams by numeric team id (Sentry looks groups up by id).
//   - scim-group-name-drift (low): the group's displayName is not the
//     team's name; a SCIM rename sets the team name.
//   - scim-group-members-drift (medium): members of the group and of the
//     team differ.
//   - invite-pending (low) / invite-expired (medium): invites not accepted
//     within InviteStaleDays, or past Sentry's 30 days (INVITE_DAYS_VALID).
//   - sso-not-linked (medium): SSO is required but the member has no
//     sso:linked flag; it cannot sign in to Sentry until it links.
//   - scim-role-restricted (info): idp:role-restricted members get their
//     org role from the IdP (sentryOrgRole); changes in Sentry are refused.
func DriftFindings(inv *Inventory, now time.Time) []Finding {
	s := inv.Snapshot
	if s == nil {
		return nil
	}
	var out []Finding
	scimOn := inv.scimOn()
	for _, m := range s.Members {
		switch m.State {
		case access.StatePending:
			if inv.Settings.InviteStaleDays > 0 && now.Sub(m.DateCreated) > time.Duration(inv.Settings.InviteStaleDays)*24*time.Hour {
				out = append(out, withChange(Finding{Rule: RulePendingInvite, Severity: SeverityLow, Subject: m.Email,
					Detail: fmt.Sprintf("invited %d days ago and not accepted.", daysSince(now, m.DateCreated)),
					Fix:    "Remind the person, or withdraw the invite through a change request."},
					changes.Step{Kind: changes.KindMemberRemove, Params: changes.Params{Member: m.ID, Email: m.Email}}))
			}
			continue
		case access.StateExpired:
			out = append(out, withChange(Finding{Rule: RuleExpiredInvite, Severity: SeverityMedium, Subject: m.Email,
				Detail: "the invite expired (Sentry invites are valid for 30 days) and still occupies a member row.",
				Fix:    "Remove the expired invite through a change request, or re-invite the person in Sentry."},
				changes.Step{Kind: changes.KindMemberRemove, Params: changes.Params{Member: m.ID, Email: m.Email}}))
			continue
		}
		if scimOn && !m.Flags.IDPProvisioned {
			f := Finding{Rule: RuleNotProvisioned, Severity: SeverityLow, Subject: m.Email,
				Detail: "SCIM is on but this member lacks Sentry's idp:provisioned flag: they were added in Sentry, not by the identity provider. " +
					"(Sentry's SCIM user list shows every approved member, so appearing there does not mean the IdP manages them.)",
				Fix: "Assign the person to the Sentry application in the IdP so that SCIM manages (and later removes) them."}
			if m.OrgRole == "owner" {
				f.Severity = SeverityInfo
				f.Detail = "an owner, which Sentry's SCIM cannot provision (roles with org:admin are refused); expected."
				f.Fix = "Nothing to do; review owners on the posture page."
			}
			out = append(out, f)
		}
		if inv.ssoRequired() && !m.Flags.SSOLinked {
			out = append(out, Finding{Rule: RuleSSONotLinked, Severity: SeverityMedium, Subject: m.Email,
				Detail: "SSO is required but this member has not linked an SSO identity, so they cannot sign in to Sentry.",
				Fix:    "Ask them to sign in once through the SSO login URL to link their identity; if they have left, remove them through a change request."})
		}
		if m.Flags.IDPRoleRestricted {
			out = append(out, Finding{Rule: RuleRoleRestricted, Severity: SeverityInfo, Subject: m.Email,
				Detail: fmt.Sprintf("the org role (%s) is managed by the IdP's sentryOrgRole attribute; Sentry refuses role changes made elsewhere.", m.OrgRole),
				Fix:    "Change the role in the IdP, not through a change request."})
		}
	}
	if !scimOn {
		SortFindings(out)
		return out
	}
	out = append(out, userDrift(inv)...)
	out = append(out, groupDrift(inv)...)
	SortFindings(out)
	return out
}

// notVisible reports a rule that could not run.
func notVisible(inv *Inventory, p Part, what string) Finding {
	return Finding{Rule: RuleNotVisible, Severity: SeverityInfo, Subject: what,
		Detail: "could not be checked: " + inv.Hidden[p], Fix: "See the troubleshooting page for how to make it visible."}
}

func userDrift(inv *Inventory) []Finding {
	if !inv.Visible(PartSCIMUsers) {
		return []Finding{notVisible(inv, PartSCIMUsers, "SCIM users")}
	}
	s := inv.Snapshot
	var out []Finding
	scimByID := map[string]sentry.SCIMUser{}
	scimByEmail := map[string]sentry.SCIMUser{}
	for _, u := range inv.SCIMUsers {
		scimByID[u.ID] = u
		scimByEmail[strings.ToLower(u.UserName)] = u
	}
	members := map[string]access.Member{}
	for _, m := range s.Members {
		members[m.ID] = m
		members[strings.ToLower(m.Email)] = m
	}
	for _, u := range inv.SCIMUsers {
		m, ok := members[u.ID]
		if !ok {
			m, ok = members[strings.ToLower(u.UserName)]
		}
		if !ok {
			out = append(out, Finding{Rule: RuleSCIMUserMissing, Severity: SeverityMedium, Subject: u.UserName,
				Detail: "the IdP lists this SCIM user but Sentry's member list has no such member.",
				Fix:    "Sync again; if it persists, push the user again from the IdP (Sentry answers 409 if the member exists under another email)."})
			continue
		}
		if u.Active != nil && !*u.Active {
			out = append(out, withChange(Finding{Rule: RuleDeprovisionedMember, Severity: SeverityHigh, Subject: m.Email,
				Detail: "the IdP marks this user inactive but they are still a member of the organization.",
				Fix:    "Deactivate the SCIM user through a change request (Sentry deletes the member on active=false)."},
				changes.Step{Kind: changes.KindSCIMUserDeactivate, Params: changes.Params{Member: m.ID, Email: m.Email}}))
		}
	}
	for _, m := range s.Members {
		if !m.Flags.IDPProvisioned || m.State != access.StateActive {
			continue
		}
		_, byID := scimByID[m.ID]
		_, byEmail := scimByEmail[strings.ToLower(m.Email)]
		if !byID && !byEmail {
			out = append(out, withChange(Finding{Rule: RuleDeprovisionedMember, Severity: SeverityHigh, Subject: m.Email,
				Detail: "provisioned by the IdP, but the IdP no longer lists them as a SCIM user; they keep their access.",
				Fix:    "Deactivate them through a change request (SCIM active=false deletes the member), or re-assign them in the IdP if they should stay."},
				changes.Step{Kind: changes.KindSCIMUserDeactivate, Params: changes.Params{Member: m.ID, Email: m.Email}}))
		}
	}
	return out
}

func groupDrift(inv *Inventory) []Finding {
	if !inv.Visible(PartSCIMGroups) {
		return []Finding{notVisible(inv, PartSCIMGroups, "SCIM groups")}
	}
	s := inv.Snapshot
	var out []Finding
	teamByID := map[string]access.Team{}
	for _, t := range s.Teams {
		teamByID[t.ID] = t
	}
	memberByID := map[string]access.Member{}
	teamSeats := map[string][]string{} // team slug → member ids
	for _, m := range s.Members {
		memberByID[m.ID] = m
		for _, ms := range m.Teams {
			teamSeats[ms.Team] = append(teamSeats[ms.Team], m.ID)
		}
	}
	grouped := map[string]bool{}
	for _, g := range inv.SCIMGroups {
		t, ok := teamByID[g.ID]
		if !ok {
			out = append(out, Finding{Rule: RuleGroupNoTeam, Severity: SeverityMedium, Subject: g.DisplayName,
				Detail: fmt.Sprintf("SCIM group %s (id %s) matches no team: its members get no team access.", g.DisplayName, g.ID),
				Fix:    "Sync again; if the team was deleted in Sentry, push the group again from the IdP, which creates the team."})
			continue
		}
		grouped[t.ID] = true
		if g.DisplayName != t.Name {
			out = append(out, withChange(Finding{Rule: RuleGroupNameDrift, Severity: SeverityLow, Subject: t.Slug,
				Detail: fmt.Sprintf("the IdP group is named %q, the team %q.", g.DisplayName, t.Name),
				Fix:    "Rename the group in the IdP, or rename the team to the IdP's name through a change request."},
				changes.Step{Kind: changes.KindSCIMGroupRename, Params: changes.Params{Team: t.Slug, TeamID: t.ID, Name: g.DisplayName}}))
		}
		var inGroup []string
		for _, gm := range g.Members {
			inGroup = append(inGroup, gm.Value)
		}
		seats := teamSeats[t.Slug]
		add, remove := minus(inGroup, seats), minus(seats, inGroup)
		if len(add)+len(remove) > 0 {
			out = append(out, withChange(Finding{Rule: RuleGroupMembersDrift, Severity: SeverityMedium, Subject: t.Slug,
				Detail: fmt.Sprintf("in the IdP group but not on the team: %s; on the team but not in the group: %s.", emails(memberByID, add), emails(memberByID, remove)),
				Fix:    "Fix the group in the IdP (the next push overwrites the team), or align the team through a change request."},
				changes.Step{Kind: changes.KindSCIMGroupMembers, Params: changes.Params{Team: t.Slug, TeamID: t.ID, Add: add, Remove: remove}}))
		}
	}
	for _, t := range s.Teams {
		if t.IDPProvisioned && !grouped[t.ID] {
			out = append(out, Finding{Rule: RuleTeamNoGroup, Severity: SeverityMedium, Subject: t.Slug,
				Detail: "the team is idp-provisioned (its membership can only change through SCIM) but no SCIM group maps to it.",
				Fix:    "Push a group for it from the IdP, or delete the team if it is no longer used."})
		}
	}
	return out
}

// emails names member ids by email; "none" for an empty list.
func emails(byID map[string]access.Member, ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	var out []string
	for _, id := range ids {
		if m, ok := byID[id]; ok {
			out = append(out, m.Email)
		} else {
			out = append(out, "member "+id)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// SCIMRow pairs a SCIM user with its member, or a member with no SCIM user.
type SCIMRow struct {
	Email    string
	MemberID string
	OrgRole  string
	// SCIMUser reports whether Sentry's SCIM Users list has the member.
	// That list is every approved member, provisioned or not (docs/sentry-access-model.md#scim,
	// src/sentry/scim/endpoints/members.py), so it is no sign that the
	// IdP manages them: Provisioned (the idp:provisioned flag) is.
	SCIMUser   bool
	SCIMActive bool
	// Provisioned reports whether the member has idp:provisioned, set when
	// the IdP created it through SCIM; the scim-member-not-provisioned
	// finding is raised exactly for active members without it.
	Provisioned bool
	SSOLinked   bool
}

// TeamRow pairs a SCIM group with its team by numeric id.
type TeamRow struct {
	TeamID      string
	TeamSlug    string
	TeamName    string
	GroupName   string
	HasGroup    bool
	HasTeam     bool
	GroupSize   int
	TeamSize    int
	Provisioned bool
}

// SCIMSideBySide lists SCIM users beside members and SCIM groups beside
// teams.
func SCIMSideBySide(inv *Inventory) ([]SCIMRow, []TeamRow) {
	s := inv.Snapshot
	if s == nil {
		return nil, nil
	}
	users := map[string]sentry.SCIMUser{}
	for _, u := range inv.SCIMUsers {
		users[strings.ToLower(u.UserName)] = u
	}
	var rows []SCIMRow
	for _, m := range s.Members {
		u, ok := users[strings.ToLower(m.Email)]
		rows = append(rows, SCIMRow{Email: m.Email, MemberID: m.ID, OrgRole: m.OrgRole, SCIMUser: ok,
			SCIMActive: ok && (u.Active == nil || *u.Active), Provisioned: m.Flags.IDPProvisioned, SSOLinked: m.Flags.SSOLinked})
	}
	slices.SortFunc(rows, func(a, b SCIMRow) int { return strings.Compare(a.Email, b.Email) })
	groups := map[string]sentry.SCIMGroup{}
	for _, g := range inv.SCIMGroups {
		groups[g.ID] = g
	}
	seats := map[string]int{}
	for _, m := range s.Members {
		for _, ms := range m.Teams {
			seats[ms.Team]++
		}
	}
	var teams []TeamRow
	seen := map[string]bool{}
	for _, t := range s.Teams {
		g, ok := groups[t.ID]
		seen[t.ID] = true
		teams = append(teams, TeamRow{TeamID: t.ID, TeamSlug: t.Slug, TeamName: t.Name, GroupName: g.DisplayName, HasGroup: ok,
			HasTeam: true, GroupSize: len(g.Members), TeamSize: seats[t.Slug], Provisioned: t.IDPProvisioned})
	}
	for _, g := range inv.SCIMGroups {
		if !seen[g.ID] {
			teams = append(teams, TeamRow{TeamID: g.ID, GroupName: g.DisplayName, HasGroup: true, GroupSize: len(g.Members)})
		}
	}
	return rows, teams
}
