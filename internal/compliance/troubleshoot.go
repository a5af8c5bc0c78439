package compliance

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Diagnosis is the answer of one troubleshooting check.
type Diagnosis struct {
	Title string
	// Problem reports whether something is wrong.
	Problem bool
	// Lines explain what was found, one sentence each.
	Lines []string
	Fix   string
	// ChangeURL, when set, links to a prefilled change request that fixes
	// it; ChangeSteps are its steps.
	ChangeSteps []changes.Step
	ChangeURL   string
}

// EndpointScopes is one Sentry endpoint with the scopes it accepts (any
// one of them), from its scope_map.
type EndpointScopes struct {
	Key    string
	Method string
	Path   string
	Scopes []string
	Note   string
}

// Endpoints403 lists the team and member endpoints a 403 is diagnosed for,
// with their scope_maps (docs/sentry-access-model.md#teams, #member-and-team, #audit-log; src/sentry/api/bases/*.py,
// src/sentry/api/endpoints/organization_member/*.py).
func Endpoints403() []EndpointScopes {
	return []EndpointScopes{
		{"members-list", "GET", "/organizations/{org}/members/", []string{"member:read", "member:write", "member:admin"}, ""},
		{"member-update", "PUT", "/organizations/{org}/members/{member_id}/", []string{"member:invite", "member:write", "member:admin"},
			"Changing roles or teams also needs both member:invite and member:admin in the token's literal scope list, and a user (not integration) token."},
		{"member-delete", "DELETE", "/organizations/{org}/members/{member_id}/", []string{"member:read", "member:write", "member:admin"},
			"Removing someone else needs member:admin and a role at least theirs; idp-provisioned members can only be removed through SCIM."},
		{"teams-list", "GET", "/organizations/{org}/teams/", []string{"org:read", "org:write", "org:admin"}, ""},
		{"team-create", "POST", "/organizations/{org}/teams/", []string{"org:write", "org:admin", "team:write"}, ""},
		{"team-members", "GET", "/teams/{org}/{team}/members/", []string{"team:read", "team:write", "team:admin"}, ""},
		{"team-delete", "DELETE", "/teams/{org}/{team}/", []string{"team:admin"}, ""},
		{"member-team-add", "POST", "/organizations/{org}/members/{member_id}/teams/{team}/", []string{"org:read", "org:write", "team:write"},
			"Idp-provisioned teams answer 403 to every member-team change: change them through SCIM."},
		{"member-team-remove", "DELETE", "/organizations/{org}/members/{member_id}/teams/{team}/", []string{"org:read", "org:write", "org:admin", "team:admin"},
			"Idp-provisioned teams answer 403 to every member-team change: change them through SCIM."},
		{"audit-logs", "GET", "/organizations/{org}/audit-logs/", []string{"org:write"}, "Members and retired admins cannot read the audit log."},
	}
}

// ErrUnknownEndpoint reports an endpoint key Endpoints403 does not list.
var errUnknownEndpoint = errors.New("unknown endpoint")

// IsUnknownEndpoint reports whether err came from an unknown endpoint key.
func IsUnknownEndpoint(err error) bool { return errors.Is(err, errUnknownEndpoint) }

// DiagnoseForbidden explains a 403 on the endpoint named key: which scopes
// it accepts and, given the credential's scopes (have; may be empty when
// unknown), which one is missing. Endpoint checks compare literal scope
// strings (docs/sentry-access-model.md#scopes), so implied scopes are not counted.
func DiagnoseForbidden(key string, have []string) (Diagnosis, error) {
	i := slices.IndexFunc(Endpoints403(), func(e EndpointScopes) bool { return e.Key == key })
	if i < 0 {
		return Diagnosis{}, fmt.Errorf("diagnose 403 %q: %w", key, errUnknownEndpoint)
	}
	e := Endpoints403()[i]
	d := Diagnosis{Title: "403 on " + e.Method + " " + e.Path}
	d.Lines = append(d.Lines, "The endpoint accepts any one of: "+strings.Join(e.Scopes, ", ")+".")
	switch held := intersect(have, e.Scopes); {
	case len(have) == 0:
		d.Problem = true
		d.Lines = append(d.Lines, "Enter the token's scopes to see which is missing.")
		d.Fix = "Give the token (or its integration) one of " + strings.Join(e.Scopes, ", ") + ", spelled out literally."
	case len(held) == 0:
		d.Problem = true
		d.Lines = append(d.Lines, "The token holds none of them: that is the 403.")
		d.Fix = "Add " + e.Scopes[0] + " (the narrowest) to the token; a user token is also bounded by the user's org role."
	default:
		d.Lines = append(d.Lines, "The token holds "+strings.Join(held, ", ")+", so the scope is not the cause.")
		d.Fix = "Check the role rules below and the user's org role: a user token never exceeds its owner's role."
	}
	if e.Note != "" {
		d.Lines = append(d.Lines, e.Note)
	}
	return d, nil
}

// CannotSeeProject explains, with the engine, why a member does not reach
// a project and offers the fix as a change request: add the member to a
// team linked to the project (or link a team when none is). It wraps
// access.ErrUnknownMember or access.ErrUnknownProject.
func CannotSeeProject(s *access.Snapshot, memberRef, project string) (Diagnosis, error) {
	if s == nil {
		return Diagnosis{}, errors.New("cannot see project: no snapshot yet")
	}
	return cannotSeeProject(access.New(s), memberRef, project)
}

// cannotSeeProject is CannotSeeProject with the snapshot's engine.
func cannotSeeProject(eng *access.Engine, memberRef, project string) (Diagnosis, error) {
	s := eng.Snapshot()
	dec, err := eng.Explain(memberRef, project, "")
	if err != nil {
		return Diagnosis{}, fmt.Errorf("cannot see project: %w", err)
	}
	d := Diagnosis{Title: memberRef + " and " + project, Problem: !dec.Allowed, Lines: dec.Reasons}
	var m access.Member
	for _, x := range s.Members {
		if x.ID == memberRef || strings.EqualFold(x.Email, memberRef) {
			m = x
		}
	}
	ssoGate := ssoBlocks(s, m)
	if ma, err := eng.MemberTeams(memberRef); err == nil && ma.Restriction != nil {
		// The member limit refuses the member whatever its teams
		// (docs/sentry-access-model.md#members-over-the-member-limit).
		d.Fix = m.Email + " holds a seat over the plan's member limit: Sentry refuses the member in its UI whatever the teams, so adding a team would not help. " +
			"An owner must free a seat (remove a member who no longer needs one) or raise the plan's member limit in Sentry; then the member reaches what the role and teams give."
		return d, nil
	}
	if dec.Allowed && ssoGate != "" {
		d.Problem = true
		d.Lines = append(d.Lines, ssoGate)
		d.Fix = ssoFix(m)
		return d, nil
	}
	if dec.Allowed {
		d.Fix = "The member reaches the project in the last snapshot, and nothing in it stops the member in Sentry's UI. If they still cannot see it, check that the snapshot is recent (sync now)."
		return d, nil
	}
	if ssoGate != "" {
		d.Lines = append(d.Lines, ssoGate+" Linking SSO is needed too, besides the fix below.")
	}
	var p access.Project
	for _, x := range s.Projects {
		if x.Slug == project {
			p = x
		}
	}
	switch {
	case m.State != access.StateActive:
		d.Fix = "The invite has not been accepted: the person must accept it (or be re-invited) before any team grants access."
	case m.OrgRole == "billing":
		d.Fix = "The billing role may not be given teams (Sentry refuses), so billing members reach projects only through open membership; change the org role through a change request."
		st := changes.Step{Kind: changes.KindOrgRole, Params: changes.Params{Member: m.ID, Email: m.Email, Role: "member"}}
		d.ChangeSteps, d.ChangeURL = []changes.Step{st}, changeURL(st)+"&project="+project
	case len(p.Teams) == 0:
		d.Fix = "The project is linked to no team; link one of the member's teams to it through a change request."
		team := ""
		if len(m.Teams) > 0 {
			team = m.Teams[0].Team
		}
		st := changes.Step{Kind: changes.KindProjectLink, Params: changes.Params{Project: project, Team: team}}
		d.ChangeSteps, d.ChangeURL = []changes.Step{st}, changeURL(st)+"&member="+m.ID
	default:
		// Prefer a team whose membership Sentry lets us change directly:
		// idp-provisioned teams refuse member-team changes (403) and take
		// them through SCIM group PATCHes only (docs/sentry-access-model.md#member-and-team, #scim).
		team, scim := p.Teams[0], true
		for _, slug := range p.Teams {
			if t, ok := teamBySlug(s, slug); ok && !t.IDPProvisioned {
				team, scim = slug, false
				break
			}
		}
		var st changes.Step
		if t, _ := teamBySlug(s, team); scim {
			d.Fix = fmt.Sprintf("Add the member to team %s, which is linked to %s; it is managed by SCIM, so the change goes through its SCIM group (better: add them to the group in the IdP).", team, project)
			st = changes.Step{Kind: changes.KindSCIMGroupMembers, Params: changes.Params{Team: team, TeamID: t.ID, Add: []string{m.ID}, Project: project}}
		} else {
			d.Fix = fmt.Sprintf("Add the member to team %s, which is linked to %s, through a change request.", team, project)
			st = changes.Step{Kind: changes.KindTeamAdd, Params: changes.Params{Member: m.ID, Email: m.Email, Team: team, Project: project}}
		}
		d.ChangeSteps, d.ChangeURL = []changes.Step{st}, changeURL(st)
		if scim {
			d.ChangeURL += "&member=" + m.ID
		}
	}
	return d, nil
}

// ssoBlocks says why Sentry's UI asks member m to sign in through SSO
// before it shows anything, or "" when it does not: the org requires SSO
// (the provider does not allow unlinked members) and m has no valid linked
// identity. An owner is let through when no other owner has one (the
// owner exception of _sso_params in src/sentry/auth/access.py). The gate
// applies to browser sessions only (docs/sentry-access-model.md#effective-access).
func ssoBlocks(s *access.Snapshot, m access.Member) string {
	if !s.Org.HasAuthProvider || !s.Org.RequiresSSO || m.Email == "" || (m.State != access.StateActive && m.State != "") {
		return ""
	}
	if m.Flags.SSOLinked && !m.Flags.SSOInvalid {
		return ""
	}
	if m.OrgRole == access.RoleOwner {
		other := slices.ContainsFunc(s.Members, func(x access.Member) bool {
			return x.ID != m.ID && x.OrgRole == access.RoleOwner && (x.State == access.StateActive || x.State == "") && x.Flags.SSOLinked && !x.Flags.SSOInvalid
		})
		if !other {
			return ""
		}
	}
	why := "has not linked an SSO identity"
	if m.Flags.SSOInvalid {
		why = "has an SSO link that is no longer valid (sso:invalid)"
	}
	return "The organization requires SSO and " + m.Email + " " + why + ": Sentry's UI answers every page with \"sign in through SSO\" (401 sso-required) until the member does."
}

// ssoFix is the fix for a member stopped by the SSO gate.
func ssoFix(m access.Member) string {
	return m.Email + " must sign in to Sentry once through the organization's SSO login, which links the identity; an owner can resend the link email from Sentry's member settings. " +
		"Team changes would not help: the member already reaches the project. (API tokens are not stopped by SSO.)"
}

// Symptom is one row of the SSO login failure table.
type Symptom struct {
	Symptom string
	Cause   string
	Fix     string
}

// SSOLoginFailures is the table of common SSO login failures and their
// fixes (docs/sentry-access-model.md#effective-access, #error-bodies: sso-required is a session-only 401 with
// extra.loginUrl).
func SSOLoginFailures() []Symptom {
	return []Symptom{
		{"Sentry answers 401 sso-required", "The org requires SSO and the session did not come through it. Tokens are never blocked by it.", "Sign in through the org's SSO login URL (the error's loginUrl)."},
		{"\"Your account is not linked\" after the IdP login", "The member has no linked identity (sso:linked off) or it was invalidated (sso:invalid).", "Sign in once through SSO while signed in to Sentry to link; an owner can resend the link email."},
		{"The IdP shows an error after the redirect", "The ACS URL or audience in the IdP does not match Sentry's.", "Use the checker on the SSO page."},
		{"Sentry rejects the assertion as expired", "Clock skew between the IdP and Sentry, or the assertion was replayed.", "Fix the IdP's clock (NTP); start the login again from Sentry."},
		{"Login works but the email is wrong or missing", "The email attribute mapping points at the wrong IdP attribute.", "Map User Email to the attribute in the setup assistant."},
		{"Login works but the user lands with the wrong role", "Roles provisioned by SCIM (idp:role-restricted) come from sentryOrgRole.", "Change the role in the IdP."},
	}
}

// SCIMDiagnostics checks SCIM: whether it can be read (a 401 means the
// wrong token type) and which groups map to no team.
func SCIMDiagnostics(inv *Inventory) []Diagnosis {
	var out []Diagnosis
	d := Diagnosis{Title: "SCIM access"}
	switch why, hidden := inv.Hidden[PartSCIMUsers]; {
	case hidden && strings.Contains(why, "401"):
		d.Problem, d.Lines = true, []string{"Sentry answered 401 on SCIM: " + why}
		d.Fix = "SCIM authenticates only with the token of the auto-generated \"SCIM Internal Integration\", shown on Sentry's Settings → Auth page; a user token, org auth token or another integration's token is the wrong type."
	case hidden:
		d.Problem, d.Lines = true, []string{"SCIM is " + why}
		d.Fix = "Enable SCIM on the SAML provider (Settings → Auth) and configure its token here."
	default:
		d.Lines = []string{fmt.Sprintf("SCIM is readable: %d users, %d groups.", len(inv.SCIMUsers), len(inv.SCIMGroups))}
	}
	out = append(out, d)
	if !inv.Visible(PartSCIMGroups) || inv.Snapshot == nil {
		return out
	}
	g := Diagnosis{Title: "SCIM groups not mapped to teams"}
	for _, f := range groupDrift(inv) {
		if f.Rule == RuleGroupNoTeam || f.Rule == RuleTeamNoGroup {
			g.Problem = true
			g.Lines = append(g.Lines, f.Subject+": "+f.Detail)
		}
	}
	if g.Problem {
		g.Fix = "Groups map to teams by numeric team id: push the group again from the IdP (it creates the team), and do not rename or recreate SCIM teams in Sentry."
	} else {
		g.Lines = []string{"Every SCIM group maps to a team, and every idp-provisioned team to a group."}
	}
	return append(out, g)
}

// AuditLogDiagnosis explains an empty audit archive: the credential lacks
// org:write (the endpoint's only scope), the plan does not include the
// audit log (SaaS), or nothing happened yet.
func AuditLogDiagnosis(inv *Inventory, archived int) Diagnosis {
	d := Diagnosis{Title: "Audit log"}
	switch why, hidden := inv.Hidden[PartAuditLog]; {
	case hidden:
		d.Problem, d.Lines = true, []string{"The audit log is " + why}
		d.Fix = "Use a token whose user is a manager or owner and that lists org:write; on sentry.io the audit log also needs a plan that includes it (Business)."
	case archived == 0:
		d.Problem, d.Lines = true, []string{"The audit log is readable but no entry is archived."}
		d.Fix = "If Sentry's own Audit Log page is empty too, the plan may not include it, or nothing has happened yet; otherwise run a full sync."
	default:
		d.Lines = []string{"The audit log is readable and entries are archived."}
	}
	return d
}

// RateLimitDiagnosis summarises the 429s the recent syncs met and what the
// sync did: the client waits until X-Sentry-Rate-Limit-Reset (Sentry sends
// no Retry-After, docs/sentry-access-model.md#rate-limits) and retries; a sync that still fails leaves
// the previous snapshot current.
func RateLimitDiagnosis(history []store.SyncStatus) Diagnosis {
	d := Diagnosis{Title: "Rate limits (429)"}
	var hit []store.SyncStatus
	for _, h := range history {
		if strings.Contains(strings.ToLower(h.Error), "rate limit") || strings.Contains(h.Error, "429") {
			hit = append(hit, h)
		}
	}
	if len(hit) == 0 {
		d.Lines = []string{fmt.Sprintf("None of the last %d syncs failed on a rate limit.", len(history))}
		d.Fix = "Nothing to do. When Sentry answers 429 the client waits until the window resets and retries."
		return d
	}
	d.Problem = true
	last := hit[0]
	d.Lines = []string{
		fmt.Sprintf("%d of the last %d syncs failed on a rate limit; the latest at %s in stage %s.", len(hit), len(history), last.Finished.UTC().Format("2006-01-02 15:04 UTC"), last.Stage),
		"The sync waited for X-Sentry-Rate-Limit-Reset and retried before giving up; the previous snapshot stayed current.",
	}
	d.Fix = "Sync less often, prefer incremental syncs (they read the audit log and refetch only what changed), and lower the sync concurrency."
	return d
}

// teamBySlug finds a team of the snapshot.
func teamBySlug(s *access.Snapshot, slug string) (access.Team, bool) {
	for _, t := range s.Teams {
		if t.Slug == slug {
			return t, true
		}
	}
	return access.Team{}, false
}
