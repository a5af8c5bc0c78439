package changes

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sentry-access/sentry-access/internal/access"
)

// This file holds the sentences an approver reads: each names the member
// by email and says the fix, never a rule id, a kind id, a member id where
// an email is known, or a Go error.

// Label is the kind's name as the change form and messages show it.
func (k Kind) Label() string {
	switch k {
	case KindTeamAdd:
		return "Add member to team"
	case KindTeamRemove:
		return "Remove member from team"
	case KindTeamRole:
		return "Set team role"
	case KindOrgRole:
		return "Set org role"
	case KindMemberRemove:
		return "Remove member from org"
	case KindMemberInvite:
		return "Invite member"
	case KindProjectLink:
		return "Link team to project"
	case KindProjectUnlink:
		return "Unlink team from project"
	case KindTeamCreate:
		return "Create team"
	case KindTeamDelete:
		return "Delete team"
	case KindEndDate:
		return "Put an end date on existing access"
	case KindAccessRequestApprove:
		return "Approve Sentry access request"
	case KindAccessRequestDeny:
		return "Deny Sentry access request"
	case KindSCIMUserCreate:
		return "SCIM: provision user"
	case KindSCIMUserDeactivate:
		return "SCIM: deactivate user"
	case KindSCIMGroupCreate:
		return "SCIM: create group"
	case KindSCIMGroupRename:
		return "SCIM: rename group"
	case KindSCIMGroupMembers:
		return "SCIM: change group members"
	}
	return "an unknown kind of step"
}

// teamSlugPattern is Sentry's slug rule for teams: MIXED_SLUG_PATTERN in
// src/sentry/slug/patterns.py (lowercase letters, digits, underscores and
// hyphens), applied by SentrySerializerSlugField
// (src/sentry/api/fields/sentry_slug.py) in TeamPostSerializer
// (src/sentry/core/endpoints/organization_teams.py); "not entirely
// numeric" is checked apart, Go's regexp having no lookahead.
var teamSlugPattern = regexp.MustCompile(`^[a-z0-9_\-]+$`)

// Limits of TeamPostSerializer: slug max_length DEFAULT_SLUG_MAX_LENGTH
// (src/sentry/db/models/fields/slug.py), name max_length 64.
const (
	MaxTeamSlug = 50
	MaxTeamName = 64
)

// TeamSlugProblem returns why Sentry would refuse slug for a new team, as
// a sentence with the fix ("" when it is valid). Sentry's own message is
// DEFAULT_SLUG_ERROR_MESSAGE (src/sentry/slug/errors.py).
func TeamSlugProblem(slug string) string {
	switch {
	case slug == "":
		return "A new team needs a slug."
	case utf8.RuneCountInString(slug) > MaxTeamSlug:
		return fmt.Sprintf("The team slug %q has %d characters; Sentry allows at most %d.", slug, utf8.RuneCountInString(slug), MaxTeamSlug)
	case !teamSlugPattern.MatchString(slug):
		hint := ""
		if s := Slugify(slug); s != "" && s != slug {
			hint = fmt.Sprintf(" Try %q.", s)
		}
		return fmt.Sprintf("The team slug %q is not one Sentry accepts: use lowercase letters, numbers, underscores or hyphens only.%s", slug, hint)
	case strings.Trim(slug, "0123456789") == "":
		return fmt.Sprintf("The team slug %q is all digits; Sentry wants at least one letter, underscore or hyphen in it.", slug)
	}
	return ""
}

// who names the member a step acts on: the email when the snapshot (or
// the step) knows it.
func who(s *access.Snapshot, p Params) string {
	if p.Email != "" {
		return p.Email
	}
	if m, ok := memberByID(s, p.Member); ok && m.Email != "" {
		return m.Email
	}
	if p.Member == "" {
		return "the member"
	}
	// A member the snapshot does not know has no email to name; a raw
	// Sentry id means nothing to an approver.
	return "a member who is not in the organization as last synced"
}

// explainViolation turns a rule the access engine reports for step st
// into a sentence for the approver: who, what Sentry would do, the fix.
// prior are the steps before st (a team created by an earlier step
// exists for a later one).
func explainViolation(s *access.Snapshot, prior []Step, st Step, v access.Violation) string {
	p := st.Params
	email := who(s, p)
	n := st.Index + 1
	switch v.Rule {
	case access.RuleOwnRole:
		return fmt.Sprintf("Step %d changes the org role of %s, who owns the configured token: Sentry acts as %s and lets nobody change their own org role (\"You cannot make changes to your own role.\"), whoever asks here. Configure a user auth token of another owner or manager to make this change.", n, email, email)
	case access.RuleRetiredRole:
		return fmt.Sprintf("Step %d would give %s the retired Admin org role, which Sentry no longer lets anyone be given. Give them the Member org role with the Team Admin role on their teams, or the Manager org role.", n, email)
	case access.RuleNoTeamRoles:
		return fmt.Sprintf("After step %d %s would hold the %s org role, which cannot be on teams, while still on a team. Remove %s from their teams first, or pick another org role.", n, email, v.Change.Role, email)
	case access.RuleLastOwner:
		return fmt.Sprintf("Step %d would leave the organization without an owner or manager: %s is the last one, and Sentry keeps at least one. Make someone else owner or manager first.", n, email)
	case access.RuleIDPProvisioned:
		switch st.Kind {
		case KindOrgRole:
			return fmt.Sprintf("%s's org role is set by your identity provider through SCIM, so Sentry refuses to change it here (step %d). Change the role attribute for %s in the identity provider instead.", email, n, email)
		case KindMemberRemove:
			return fmt.Sprintf("%s was provisioned by your identity provider through SCIM, so Sentry refuses to remove them here (step %d). Unassign %s in the identity provider, or use a \"SCIM: deactivate user\" step.", email, n, email)
		default:
			verb := "add"
			prep := "to"
			if st.Kind == KindTeamRemove {
				verb, prep = "remove", "from"
			}
			return fmt.Sprintf("Team %s is managed by your identity provider through SCIM, so Sentry refuses to %s %s %s it here (step %d). %s %s %s the identity provider's group for %s instead.",
				p.Team, verb, email, prep, n, strings.ToUpper(verb[:1])+verb[1:], email, prep, p.Team)
		}
	case access.RuleUnknown:
		return explainUnknown(s, prior, st)
	}
	// The acting identity's rules and the others name the member, the
	// token's user and the fix already.
	return v.Message
}

// explainUnknown says what a step names that the organization, as last
// synced, does not have (or already has).
func explainUnknown(s *access.Snapshot, prior []Step, st Step) string {
	p := st.Params
	n := st.Index + 1
	created := func(team string) bool {
		return slices.ContainsFunc(prior, func(x Step) bool { return x.Kind == KindTeamCreate && x.Params.Team == team })
	}
	teamExists := func(team string) bool {
		return slices.ContainsFunc(s.Teams, func(t access.Team) bool { return t.Slug == team }) || created(team)
	}
	if p.Member != "" {
		if _, ok := memberByID(s, p.Member); !ok {
			if _, ok := memberByEmail(s, p.Member); !ok {
				return fmt.Sprintf("Step %d names a member who is not in the organization as last synced (they left, or their invite was cancelled). Pick a member from the list, or run a sync if they joined since.", n)
			}
		}
	}
	if st.Kind == KindTeamCreate {
		if teamExists(p.Team) {
			return fmt.Sprintf("Team %s already exists (step %d): Sentry answers 409 \"A team with this slug already exists.\" Pick another slug, or add people to the existing team.", p.Team, n)
		}
	} else if p.Team != "" && !teamExists(p.Team) {
		return fmt.Sprintf("Team %s does not exist in the organization as last synced (step %d). Create it with a \"Create team\" step before this one, or pick an existing team.", p.Team, n)
	}
	if p.Project != "" && !slices.ContainsFunc(s.Projects, func(x access.Project) bool { return x.Slug == p.Project }) {
		return fmt.Sprintf("Project %s does not exist in the organization as last synced (step %d). Pick a project from the list, or run a sync if it was created since.", p.Project, n)
	}
	switch st.Kind {
	case KindOrgRole:
		if !slices.ContainsFunc(orgRoles(s), func(r access.OrgRole) bool { return r.ID == p.Role }) {
			return fmt.Sprintf("Step %d would give %s the org role %q, which this organization does not have. Pick one of: %s.", n, who(s, p), p.Role, strings.Join(orgRoleIDs(s), ", "))
		}
	case KindTeamRole:
		if p.Role != "" && !slices.ContainsFunc(teamRoles(s), func(r access.TeamRole) bool { return r.ID == p.Role }) {
			return fmt.Sprintf("Step %d would give %s the team role %q, which does not exist. Pick contributor or admin.", n, who(s, p), p.Role)
		}
		if m, ok := memberByID(s, p.Member); ok && !slices.ContainsFunc(m.Teams, func(ms access.Membership) bool { return ms.Team == p.Team }) &&
			!slices.ContainsFunc(prior, func(x Step) bool {
				return x.Kind == KindTeamAdd && x.Params.Member == p.Member && x.Params.Team == p.Team
			}) {
			return fmt.Sprintf("%s is not on team %s, so there is no team role to set (step %d). Add %s to %s first with an \"Add member to team\" step before this one.", m.Email, p.Team, n, m.Email, p.Team)
		}
	}
	return fmt.Sprintf("Step %d (%s) cannot be applied to the organization as last synced. Check what it names against the member, team and project pages, or run a sync.", n, st.Describe())
}

func orgRoles(s *access.Snapshot) []access.OrgRole {
	if len(s.OrgRoles) > 0 {
		return s.OrgRoles
	}
	return access.DefaultOrgRoles()
}

func teamRoles(s *access.Snapshot) []access.TeamRole {
	if len(s.TeamRoles) > 0 {
		return s.TeamRoles
	}
	return access.DefaultTeamRoles()
}

// orgRoleIDs lists the org roles one may be given (the retired admin left
// out).
func orgRoleIDs(s *access.Snapshot) []string {
	var out []string
	for _, r := range orgRoles(s) {
		if !r.IsRetired {
			out = append(out, r.ID)
		}
	}
	return out
}

// UntimedReason says why step st cannot be time-bound, for the preview
// and the refusal ("" when it can). At the expiry sentry-access takes back
// what Sentry undoes in one call; the rest would stay.
func UntimedReason(s *access.Snapshot, st Step) string {
	if _, ok := st.Inverse(); ok {
		return ""
	}
	what := strings.ToUpper(st.Describe()[:1]) + st.Describe()[1:]
	switch st.Kind {
	case KindTeamRole, KindOrgRole:
		return fmt.Sprintf("%s cannot be time-bound: the role %s holds now is not known, so it could not be put back at the expiry. Run a sync, then file the request again.", what, who(s, st.Params))
	case KindAccessRequestDeny:
		return what + " cannot be time-bound: a denial gives no access to take back. Remove the expiry."
	}
	return fmt.Sprintf("%s cannot be time-bound: sentry-access takes back at the expiry only what Sentry undoes in one call (a team membership, a team or org role, a project link, a new team, an invite, an approved access request, or an end date on existing access). Remove the expiry, or file this step in a request of its own.", what)
}
