package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/unapproved"
)

// ChangesInboxView is the change-request inbox: what waits for the user's
// approval, the user's own requests, time-bound access about to expire,
// Sentry's own team access requests and the most recent requests.
type ChangesInboxView struct {
	changes.Inbox
}

// AccessRequestsNote explains an empty list of Sentry's access requests.
func (v ChangesInboxView) AccessRequestsNote() string {
	if !v.AccessRequestsRead {
		return "Sentry's access requests have not been read yet (they arrive with the next full sync)."
	}
	return "Sentry has no pending team access request."
}

// Option is one choice of a select.
type Option struct {
	Value string
	Label string
}

// StepRow is one step of the change form, as typed. Role is the org role
// or the team role, as the kind says; Team is a new team's slug for
// team-create.
type StepRow struct {
	Kind          string
	Member        string
	Team          string
	Project       string
	Role          string
	Email         string
	Name          string
	TeamID        string
	AccessRequest string
	Add           string // comma-separated member ids (SCIM group members)
	Remove        string
}

// ChangeFormView is the form that composes a change request.
type ChangeFormView struct {
	Rows          []StepRow
	Title         string
	Justification string
	// Expiry is "", "1d", "1w", "2w" or "custom" (then ExpiryDate,
	// YYYY-MM-DD).
	Expiry     string
	ExpiryDate string
	// Viewer is set for viewers, who may only ask for team changes of
	// their own member (SelfID).
	Viewer    bool
	SelfID    string
	SelfEmail string
	// MemberReplaced is set when a viewer's link named another member,
	// whom the form replaced with the viewer.
	MemberReplaced bool
	// UnknownMember is what a link named as the member when it is no
	// member's email or id in the current snapshot (the form then picks
	// none and says so).
	UnknownMember string
	Options       StepOptions
	Error         string
}

// Filled reports whether any step names what it acts on (a kind alone is
// the untouched default of a new form).
func (v ChangeFormView) Filled() bool {
	self := ""
	if v.Viewer {
		// A viewer's own member is filled in for her: it is not input.
		self = v.SelfID
	}
	return slices.ContainsFunc(v.Rows, func(r StepRow) bool { return r.FilledBesides(self) })
}

// FilledBesides is Filled, not counting a member that is self (the
// viewer's own member, which the form fills in).
func (r StepRow) FilledBesides(self string) bool {
	if self != "" && r.Member == self {
		r.Member = ""
	}
	return r.Filled()
}

// Filled reports whether the row names what it acts on: a member, team,
// project or any other target field besides the kind.
func (r StepRow) Filled() bool {
	return r.Member != "" || r.Team != "" || r.Project != "" || r.Role != "" || r.Email != "" || r.Name != "" ||
		r.TeamID != "" || r.AccessRequest != "" || r.Add != "" || r.Remove != ""
}

// Shows reports whether the row shows field (a form field name) for its
// kind: each kind shows only what it needs, the rest stay in the form
// hidden so that the rows' fields keep their order.
func (r StepRow) Shows(field string) bool {
	need := map[changes.Kind][]string{
		changes.KindTeamAdd: {"member", "team"}, changes.KindTeamRemove: {"member", "team"},
		changes.KindTeamRole: {"member", "team", "team_role"}, changes.KindOrgRole: {"member", "org_role"},
		changes.KindMemberRemove: {"member"}, changes.KindMemberInvite: {"email", "org_role"},
		changes.KindProjectLink: {"team", "project"}, changes.KindProjectUnlink: {"team", "project"},
		changes.KindTeamCreate: {"slug", "name"}, changes.KindTeamDelete: {"team"},
		changes.KindEndDate:              {"member", "team", "project"},
		changes.KindAccessRequestApprove: {"access_request"}, changes.KindAccessRequestDeny: {"access_request"},
		changes.KindSCIMUserCreate: {"email", "org_role"}, changes.KindSCIMUserDeactivate: {"member"},
		changes.KindSCIMGroupCreate: {"name"}, changes.KindSCIMGroupRename: {"team_id", "name"},
		changes.KindSCIMGroupMembers: {"team_id", "add", "remove"},
	}[changes.Kind(r.Kind)]
	return slices.Contains(need, field)
}

// OrgRoleKind reports whether the row's Role is an org role (else a team
// role).
func (r StepRow) OrgRoleKind() bool { return r.Shows("org_role") }

// KindHint says what a row of no kind yet needs.
func (r StepRow) KindHint() string {
	if r.Kind == "" {
		return "Pick what the step does; the fields it needs appear."
	}
	return ""
}

// StepOptions are the choices of the step rows' selects.
type StepOptions struct {
	Kinds     []Option
	Members   []Option
	Teams     []Option
	Projects  []Option
	OrgRoles  []Option
	TeamRoles []Option
	// members, teams and projects are the option tags of Members, Teams
	// and Projects when PrepareStepOptions rendered them.
	members, teams, projects string
}

// PrepareStepOptions returns o with the option tags of its members,
// teams and projects rendered once, for every step row shown until the
// snapshot changes: at 10,000 members they were most of the change
// form's cost. A row's selection is marked in the prepared tags
// (withSelected).
func PrepareStepOptions(ctx context.Context, o StepOptions) (StepOptions, error) {
	for _, p := range []struct {
		opts []Option
		html *string
	}{{o.Members, &o.members}, {o.Teams, &o.teams}, {o.Projects, &o.projects}} {
		var b strings.Builder
		if err := optionTagsOf(p.opts, "").Render(ctx, &b); err != nil {
			return StepOptions{}, err
		}
		*p.html = b.String()
	}
	return o, nil
}

// WithKinds returns o offering the step kinds c allows, the one choice
// that depends on the user.
func (o StepOptions) WithKinds(c changes.Choices) StepOptions {
	o.Kinds = nil
	for _, k := range c.Kinds {
		o.Kinds = append(o.Kinds, Option{Value: string(k), Label: k.Label()})
	}
	return o
}

// withSelected returns the prepared option tags html with the option of
// value cur selected, as optionTagsOf(opts, cur) renders it.
func withSelected(html, cur string) string {
	if cur == "" {
		return html
	}
	tag := `<option value="` + templ.EscapeString(cur) + `">`
	i := strings.Index(html, tag)
	if i < 0 {
		return html
	}
	return html[:i] + tag[:len(tag)-1] + " selected>" + html[i+len(tag):]
}

// NewStepOptions are the step rows' choices for the form's choices: the
// kinds the user may request, members by email, teams, projects, the org
// roles (the retired admin marked) and the team roles, each in its own
// picker.
func NewStepOptions(c changes.Choices) StepOptions {
	o := StepOptions{}.WithKinds(c)
	for _, m := range c.Members {
		o.Members = append(o.Members, Option{Value: m.ID, Label: m.Email})
	}
	for _, t := range c.Teams {
		o.Teams = append(o.Teams, Option{Value: t, Label: t})
	}
	for _, p := range c.Projects {
		o.Projects = append(o.Projects, Option{Value: p, Label: p})
	}
	for _, r := range c.OrgRoles {
		label := cmpOr(r.Name, r.ID)
		if r.Retired {
			label += " (retired: can no longer be given)"
		}
		o.OrgRoles = append(o.OrgRoles, Option{Value: r.ID, Label: label})
	}
	for _, r := range c.TeamRoles {
		o.TeamRoles = append(o.TeamRoles, Option{Value: r.ID, Label: cmpOr(r.Name, r.ID)})
	}
	return o
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// PreviewView is the live preview of the form's steps: the engine's
// what-if diff and the rules the request would break, plus the approvals
// it needs.
type PreviewView struct {
	changes.Draft
	// NextRow is the index the form's next step row gets (an offered
	// step is added there).
	NextRow int
	// Error is why no preview could be made (bad input, not allowed).
	Error string
	// Empty is set while no step names anything yet.
	Empty bool
	// TimeBound is set when the form has an expiry: the steps that cannot
	// be time-bound (Draft.Untimed) are said up front.
	TimeBound bool
}

// ChangeDetailView is one change request, as the user sees it.
type ChangeDetailView struct {
	changes.Detail
	Now time.Time
	// CanSeeTrail reports whether the viewer may open the audit trail
	// (approvers and admins).
	CanSeeTrail bool
	// SentryAudit links the steps sentry-access sent to the Sentry audit
	// entries that record them.
	SentryAudit []unapproved.StepAudit
}

// Polling reports whether the page should poll the apply status.
func (v ChangeDetailView) Polling() bool {
	return v.Request.State == changes.StateApproved || v.Request.State == changes.StateApplying
}

// BlueprintsView is the blueprint page: the shipped samples, the editor
// and, after planning, the plan.
type BlueprintsView struct {
	Samples    []changes.BlueprintSample
	YAML       string
	Plan       *BlueprintPlanView
	CanRequest bool
}

// BlueprintPlanView is a planned blueprint: the steps that make the
// organization match it and their effective-access preview.
type BlueprintPlanView struct {
	changes.Draft
	Name       string
	Expires    string
	YAML       string
	CanRequest bool
	Error      string
}

// TrailView is the dashboard's own audit trail page: the search's records
// newest first, how many the trail holds and whether its hash chain
// verified (Broken says where it breaks).
type TrailView struct {
	changes.TrailSearch
	Query TrailQuery
}

// TrailQuery is the trail page's search.
type TrailQuery struct {
	Actor   string
	Kind    string
	Request string
	From    string // YYYY-MM-DD
	To      string // YYYY-MM-DD, inclusive
}

// Encode returns the query string of q.
func (q TrailQuery) Encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "kind": q.Kind, "request": q.Request, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// TrailKinds are the kinds offered by the trail search.
func TrailKinds() []string {
	return []string{"request.", "request.created", "request.approved", "request.denied", "request.cancelled",
		"request.state", "step.", "step.applied", "step.failed", "step.retry", "grant.", "grant.created",
		"grant.expired", "grant.extended"}
}

// changeFormHref links to the change form with one step of kind
// prefilled with the object (param "team" or "project").
func changeFormHref(kind, param, value string) templ.SafeURL {
	return templ.SafeURL("/changes/new?" + url.Values{"kind": {kind}, param: {value}}.Encode())
}

func changeHrefID(id string) templ.SafeURL { return templ.SafeURL("/changes/" + url.PathEscape(id)) }

func changeActionURL(id, action string) string {
	return "/changes/" + url.PathEscape(id) + "/" + action
}

func grantExtendURL(id string) string { return "/grants/" + url.PathEscape(id) + "/extend" }

func grantRevokeURL(id string) string { return "/grants/" + url.PathEscape(id) + "/revoke" }

func memberRemoveHref(id string) string {
	return "/changes/new?" + url.Values{"kind": {string(changes.KindMemberRemove)}, "member": {id}}.Encode()
}

// scopeSummary folds a delta's scope lists into a count ("12 scopes
// gained").
func scopeSummary(d changes.AccessDelta) string {
	var parts []string
	if n := len(d.Gained); n > 0 {
		parts = append(parts, fmt.Sprintf("%d scope(s) gained", n))
	}
	if n := len(d.Lost); n > 0 {
		parts = append(parts, fmt.Sprintf("%d scope(s) lost", n))
	}
	return strings.Join(parts, ", ")
}

func accessRequestURL(id, decision string) string {
	return "/access-requests/" + url.PathEscape(id) + "/" + decision
}

func crTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func crTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return crTime(*t)
}

// crUntil says how long until t, from now ("in 6d 23h", "3h ago").
func crUntil(now, t time.Time) string {
	d := t.Sub(now)
	suffix := ""
	prefix := "in "
	if d < 0 {
		d, prefix, suffix = -d, "", " ago"
	}
	days := int(d / (24 * time.Hour))
	hours := int(d%(24*time.Hour)) / int(time.Hour)
	if days > 0 {
		return fmt.Sprintf("%s%dd %dh%s", prefix, days, hours, suffix)
	}
	return fmt.Sprintf("%s%dh %dm%s", prefix, hours, int(d%time.Hour)/int(time.Minute), suffix)
}

func requestStateClass(s changes.State) string {
	switch s {
	case changes.StateApplied:
		return "badge badge-ok"
	case changes.StateFailed, changes.StatePartiallyFailed, changes.StateDenied:
		return "badge badge-bad"
	case changes.StatePendingApproval, changes.StateApproved, changes.StateApplying:
		return "badge badge-warn"
	}
	return "badge"
}

func stepStateClass(s changes.StepState) string {
	switch s {
	case changes.StepApplied:
		return "badge badge-ok"
	case changes.StepFailed:
		return "badge badge-bad"
	case changes.StepApplying, changes.StepApproved:
		return "badge badge-warn"
	}
	return "badge"
}

// approvalsText is how many approvals a request has of those it needs
// ("1 of 2"); the column or heading says they are approvals.
func approvalsText(r changes.Request) string {
	return fmt.Sprintf("%d of %d", len(r.Approvers()), r.Required)
}

func decisionText(d changes.Decision) string {
	if d.Approve {
		return "approved"
	}
	return "denied"
}

func scopesText(xs []string) string { return strings.Join(xs, " ") }

func deltaText(d changes.AccessDelta) string {
	switch {
	case d.GainsAccess:
		return "gains access"
	case d.LosesAccess:
		return "loses access"
	}
	return "scopes change"
}

func deltaClass(d changes.AccessDelta) string {
	switch {
	case d.GainsAccess:
		return "badge badge-ok"
	case d.LosesAccess:
		return "badge badge-bad"
	}
	return "badge badge-warn"
}

func sentryStatus(st changes.Step) string {
	if st.SentryStatus == 0 {
		return ""
	}
	return strconv.Itoa(st.SentryStatus)
}

func trailStep(r changes.TrailRecord) string {
	if r.Step == 0 {
		return ""
	}
	return strconv.Itoa(r.Step)
}

func trailStatus(r changes.TrailRecord) string {
	if r.SentryStatus == 0 {
		return ""
	}
	return strconv.Itoa(r.SentryStatus)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func isSelected(cur, v string) bool { return cur == v }

// previewTrigger is when the form's preview runs: on every change, and at
// load too once a step names something (a prefilled form), so an untouched
// new form asks for nothing.
func previewTrigger(v ChangeFormView) string {
	if v.Filled() {
		return "load, change from:#change-form delay:300ms"
	}
	return "change from:#change-form delay:300ms"
}

func trailExportURL(q TrailQuery, ext string) templ.SafeURL {
	u := "/trail/export." + ext
	if e := q.Encode(); e != "" {
		u += "?" + e
	}
	return templ.SafeURL(u)
}

// teamPick is the team select's value: none for a new team (its slug is
// typed, not picked).
func teamPick(r StepRow) string {
	if r.Kind == string(changes.KindTeamCreate) {
		return ""
	}
	return r.Team
}

// newTeamSlug is the slug field's value for a new team.
func newTeamSlug(r StepRow) string {
	if r.Kind == string(changes.KindTeamCreate) {
		return r.Team
	}
	return ""
}

// teamRoleEffectText says what an org-role step does to one team role.
func teamRoleEffectText(e changes.TeamRoleEffect) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on team %s: ", e.Email, e.Team)
	if e.Reset {
		fmt.Fprintf(&b, "the stored %s role is at or below the new org role's minimum. Older Sentry resets it to null, Sentry's newest code keeps it (it depends on the server version); either way the member is %s on %s right after.", teamRoleName(e.Stored), teamRoleName(e.EffectiveAfter), e.Team)
		if e.Restore == nil {
			fmt.Fprintf(&b, " If the org role is lowered later, a reset member is left with the new role's minimum: set %s again then.", teamRoleName(e.Stored))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s becomes %s.", teamRoleName(e.EffectiveBefore), teamRoleName(e.EffectiveAfter))
	return b.String()
}

// teamRoleName is how pages name a team role id.
func teamRoleName(id string) string {
	switch id {
	case "admin":
		return "Team Admin"
	case "contributor":
		return "Contributor"
	case "":
		return "minimum"
	}
	return id
}

// restoreStepURL is the "Add step" fragment prefilled with st, as row i.
func restoreStepURL(st changes.Step, i int) string {
	return "/changes/new/step?" + url.Values{"i": {strconv.Itoa(i)}, "kind": {string(st.Kind)}, "member": {st.Params.Member},
		"team": {st.Params.Team}, "team_role": {st.Params.Role}}.Encode()
}

// restoreRequestHref is a new request prefilled with st.
func restoreRequestHref(st changes.Step) templ.SafeURL {
	return templ.SafeURL("/changes/new?" + url.Values{"kind": {string(st.Kind)}, "member": {st.Params.Member},
		"team": {st.Params.Team}, "role": {st.Params.Role}}.Encode())
}
