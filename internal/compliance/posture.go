package compliance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// CheckStatus is the outcome of a posture check.
type CheckStatus string

// Check outcomes. Manual checks cannot be read through the API; Unknown
// ones could not be read with this credential.
const (
	StatusPass    CheckStatus = "pass"
	StatusFail    CheckStatus = "fail"
	StatusWarn    CheckStatus = "warn"
	StatusManual  CheckStatus = "manual"
	StatusUnknown CheckStatus = "unknown"
)

// PostureCheck is one item of the security-posture checklist.
type PostureCheck struct {
	ID     string
	Title  string
	Status CheckStatus
	Detail string
	// Where says where in Sentry to look or change it.
	Where string
	// Assumed says, when the check rests on a setting the server did not
	// send, which and what was assumed (older and self-hosted servers).
	Assumed string
}

// Posture returns the checklist. Without a snapshot every data check is
// unknown. Each check mirrors an org setting of docs/sentry-access-model.md#organization-settings-that-change-access:
//
//   - sso-required: a provider with require_link (allow_unlinked off);
//   - 2fa-required: require2FA (session users without 2FA get 401
//     2fa-required; tokens are not gated, docs/sentry-access-model.md#effective-access);
//   - open-membership: allow_joinleave gives every member global access
//     (has_global_access, src/sentry/auth/access.py); fail when teams
//     should be isolated;
//   - member-project-creation: with allowMemberProjectCreation members can
//     create projects, each creating a team (warn);
//   - owners: between MinOwners and MaxOwners; managers at most MaxManagers
//     (both roles are global: they reach everything);
//   - member-invite: allowMemberInvite (not flags.disable_member_invite)
//     lets members, who hold member:invite without member:admin, invite
//     people into the organization (warn);
//   - join-requests: allowJoinRequests (option sentry:join_requests,
//     default on) lets people outside the org ask to join it (warn);
//   - legacy-admins: members still holding the retired admin org role,
//     which keeps team:admin, project:admin and org:integrations but can no
//     longer be given (is_retired in SENTRY_ROLES, src/sentry/conf/server.py;
//     warn, naming them);
//   - integration-scopes: internal integrations holding org:admin or
//     member:admin act with them on every team (OrganizationGlobalMembership);
//   - ip-allowlist: not exposed by the API: a manual check.
func Posture(inv *Inventory) []PostureCheck {
	st := inv.Settings
	base, org := inv.sentryURL(), inv.orgSlug()
	general := base + "/settings/" + org + "/"
	authURL := base + "/settings/" + org + "/auth/"
	security := base + "/settings/" + org + "/security-and-privacy/"
	s := inv.Snapshot
	var out []PostureCheck
	unknown := func(id, title, where string) PostureCheck {
		return PostureCheck{ID: id, Title: title, Status: StatusUnknown, Detail: "No snapshot yet: run a sync with Sentry first.", Where: where}
	}

	sso := SSO(inv)
	c := PostureCheck{ID: "sso-required", Title: "SSO required", Where: "Settings → Auth (" + authURL + ")"}
	switch {
	case !sso.Visible && s == nil:
		c.Status, c.Detail = StatusUnknown, "The auth provider "+inv.Hidden[PartAuthProvider]
	case !sso.Configured:
		c.Status, c.Detail = StatusFail, "No SSO provider is configured: members sign in with passwords."
	case !sso.RequireLink:
		c.Status, c.Detail = StatusFail, "An SSO provider ("+sso.Provider+") is configured but members may skip it (\"Require SSO\" is off)."
	default:
		c.Status, c.Detail = StatusPass, "SSO is required for every member."
		if sso.PendingLinks > 0 {
			c.Detail += fmt.Sprintf(" %d member(s) have not linked their identity yet.", sso.PendingLinks)
		}
	}
	out = append(out, c)

	if s == nil {
		out = append(out, unknown("2fa-required", "Two-factor authentication required", security),
			unknown("open-membership", "Open membership off", general),
			unknown("member-project-creation", "Members cannot create projects", general),
			unknown("owners", "Number of owners and managers", general),
			unknown("member-invite", "Members cannot invite", general),
			unknown("join-requests", "Join requests off", general),
			unknown("legacy-admins", "No legacy admins", general))
	} else {
		c = PostureCheck{ID: "2fa-required", Title: "Two-factor authentication required", Where: "Settings → Security & Privacy → Require Two-Factor Authentication (" + security + ")"}
		without := 0
		for _, m := range s.Members {
			if m.State == access.StateActive && !m.Has2FA {
				without++
			}
		}
		if s.Org.Require2FA {
			c.Status, c.Detail = StatusPass, "Members must enable 2FA to use the organization."
		} else {
			c.Status, c.Detail = StatusFail, fmt.Sprintf("2FA is not required; %d active member(s) have not enabled it. (With SSO required, enforce 2FA in the IdP instead.)", without)
		}
		out = append(out, c)

		c = PostureCheck{ID: "open-membership", Title: "Open membership off", Where: "Settings → General Settings → Open Membership (" + general + ")"}
		switch {
		case !s.Org.OpenMembership:
			c.Status, c.Detail = StatusPass, "Members reach only their teams' projects."
		case st.IsolateTeams:
			c.Status, c.Detail = StatusFail, "Open membership is on: every member can join any team and reach every project, so teams are not isolated."
		default:
			c.Status, c.Detail = StatusWarn, "Open membership is on: every member reaches every project."
		}
		out = append(out, c)

		c = PostureCheck{ID: "member-project-creation", Title: "Members cannot create projects", Where: "Settings → General Settings → Let Members Create Projects (" + general + ")"}
		if s.Org.AllowMemberProjectCreation {
			c.Status, c.Detail = StatusWarn, "Members may create projects; each creation also creates a team with its creator as Team Admin."
		} else {
			c.Status, c.Detail = StatusPass, "Creating projects needs org:write (managers and owners)."
		}
		out = append(out, c)

		owners, managers := roleHolders(s, "owner"), roleHolders(s, "manager")
		c = PostureCheck{ID: "owners", Title: "Number of owners and managers", Where: "Settings → Members (" + base + "/settings/" + org + "/members/)"}
		switch {
		case len(owners) < st.MinOwners:
			c.Status = StatusFail
			c.Detail = fmt.Sprintf("%d owner(s): fewer than %d means nobody can recover the org if an owner leaves.", len(owners), st.MinOwners)
		case len(owners) > st.MaxOwners || len(managers) > st.MaxManagers:
			c.Status = StatusWarn
			c.Detail = fmt.Sprintf("%d owner(s) (at most %d advised) and %d manager(s) (at most %d advised): both roles reach every team and project.", len(owners), st.MaxOwners, len(managers), st.MaxManagers)
		default:
			c.Status = StatusPass
			c.Detail = fmt.Sprintf("%d owner(s) and %d manager(s).", len(owners), len(managers))
		}
		if len(owners) > 0 {
			c.Detail += " Owners: " + strings.Join(owners, ", ") + "."
		}
		out = append(out, c)
		out = append(out, memberSettingChecks(s, general, base+"/settings/"+org+"/members/")...)
	}

	c = PostureCheck{ID: "integration-scopes", Title: "No integrations with broad scopes", Where: "Settings → Custom Integrations (" + base + "/settings/" + org + "/developer-settings/)"}
	if !inv.Visible(PartSentryApps) {
		c.Status, c.Detail = StatusUnknown, "Integrations are "+inv.Hidden[PartSentryApps]
	} else {
		var broad []string
		for _, a := range inv.SentryApps {
			if a.Status == "internal" && len(intersect(a.Scopes, broadScopes())) > 0 {
				broad = append(broad, a.Name+" ("+strings.Join(intersect(a.Scopes, broadScopes()), ", ")+")")
			}
		}
		if len(broad) == 0 {
			c.Status, c.Detail = StatusPass, "No internal integration holds org:admin or member:admin."
		} else {
			c.Status, c.Detail = StatusFail, "Internal integrations with broad scopes act on every team and project: "+strings.Join(broad, "; ")+"."
		}
	}
	out = append(out, c)

	out = append(out, PostureCheck{ID: "ip-allowlist", Title: "IP allowlisting", Status: StatusManual,
		Detail: "Sentry's API does not expose IP restrictions, so this cannot be checked here. Check them by hand, and enforce network conditions in your IdP's sign-on policy.",
		Where:  "Settings → Security & Privacy (" + security + ") and your IdP's sign-on policy"})
	return assumedChecks(out, s)
}

// memberSettingChecks are the checks of who may bring people into the
// organization: member invites, join requests and the retired admin role.
func memberSettingChecks(s *access.Snapshot, general, members string) []PostureCheck {
	invite := PostureCheck{ID: "member-invite", Title: "Members cannot invite", Where: "Settings → General Settings → Let Members Invite Others (" + general + ")"}
	if s.Org.AllowMemberInvite {
		invite.Status, invite.Detail = StatusWarn, "Members may invite people into the organization (allowMemberInvite is on): anyone with the Member role can add an account, outside the approvals of sentry-access."
	} else {
		invite.Status, invite.Detail = StatusPass, "Only managers and owners (member:admin) invite people into the organization."
	}
	join := PostureCheck{ID: "join-requests", Title: "Join requests off", Where: "Settings → General Settings → Allow Join Requests (" + general + ")"}
	if s.Org.AllowJoinRequests {
		join.Status, join.Detail = StatusWarn, "Join requests are allowed (allowJoinRequests is on): people outside the organization can ask to join it, and an owner or manager can let them in from Sentry's own page."
	} else {
		join.Status, join.Detail = StatusPass, "Nobody outside the organization can ask to join it."
	}
	legacy := PostureCheck{ID: "legacy-admins", Title: "No legacy admins", Where: "Settings → Members (" + members + ")"}
	if admins := roleHolders(s, access.RoleAdmin); len(admins) > 0 {
		legacy.Status = StatusWarn
		legacy.Detail = fmt.Sprintf("%d member(s) still hold the retired Admin org role, which gives team:admin, project:admin and org:integrations and can no longer be given: %s. Move each to Member (with the Team Admin role where needed) or to Manager.",
			len(admins), strings.Join(admins, ", "))
	} else {
		legacy.Status, legacy.Detail = StatusPass, "No member holds the retired Admin org role."
	}
	return []PostureCheck{invite, join, legacy}
}

// roleHolders returns the emails of active members with the org role.
func roleHolders(s *access.Snapshot, role string) []string {
	var out []string
	for _, m := range s.Members {
		if m.OrgRole == role && m.State == access.StateActive {
			out = append(out, m.Email)
		}
	}
	slices.Sort(out)
	return out
}

// postureFields names the organization field each data check rests on.
var postureFields = map[string]string{
	"2fa-required":            "require2FA",
	"open-membership":         "openMembership",
	"member-project-creation": "allowMemberProjectCreation",
	"sso-required":            "requiresSso",
	"member-invite":           "allowMemberInvite",
	"join-requests":           "allowJoinRequests",
}

// assumedChecks marks the checks whose setting the server did not send.
func assumedChecks(out []PostureCheck, s *access.Snapshot) []PostureCheck {
	if s == nil {
		return out
	}
	for i, c := range out {
		if f, ok := s.Server.Field(postureFields[c.ID]); ok && f.Provenance == access.Assumed {
			out[i].Assumed = "Sentry did not send " + f.Field + "; " + f.Value + " is assumed (" + f.Note + ")."
		}
	}
	return out
}
