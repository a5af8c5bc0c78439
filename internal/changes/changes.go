// Package changes holds sentry-access's change requests: a manager asks for
// a set of steps (add a member to a team, link a project, change a role …),
// sees a preview of who gains or loses what, other people approve it under a
// policy, and an applier carries the steps out against Sentry one by one so
// that nothing approved is lost or applied twice, even across a crash. Every
// step is recorded in an append-only, hash-chained audit trail.
//
// The package is domain and service only: persistence is the Repo interface
// (implemented with bbolt in internal/store), Sentry is reached through the
// Executor interface, and the current access snapshot through Snapshots.
package changes

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Kind names what a step does in Sentry.
type Kind string

// Step kinds.
const (
	KindTeamCreate Kind = "team-create"
	KindTeamDelete Kind = "team-delete"
	// KindEndDate changes nothing now: it puts an end date on access that
	// already exists (a team membership, or a team's link to a project),
	// which the request's grant takes away at its expiry.
	KindEndDate              Kind = "end-date"
	KindProjectLink          Kind = "project-link"
	KindProjectUnlink        Kind = "project-unlink"
	KindTeamAdd              Kind = "team-add"
	KindTeamRemove           Kind = "team-remove"
	KindTeamRole             Kind = "team-role"
	KindOrgRole              Kind = "org-role"
	KindMemberRemove         Kind = "member-remove"
	KindMemberInvite         Kind = "member-invite"
	KindAccessRequestApprove Kind = "access-request-approve"
	KindAccessRequestDeny    Kind = "access-request-deny"
	KindSCIMUserCreate       Kind = "scim-user-create"
	KindSCIMUserDeactivate   Kind = "scim-user-deactivate"
	KindSCIMGroupCreate      Kind = "scim-group-create"
	KindSCIMGroupRename      Kind = "scim-group-rename"
	KindSCIMGroupMembers     Kind = "scim-group-members"
)

// Kinds returns every step kind in a stable order.
func Kinds() []Kind {
	return []Kind{
		KindTeamCreate, KindTeamDelete, KindProjectLink, KindProjectUnlink,
		KindTeamAdd, KindTeamRemove, KindTeamRole, KindOrgRole,
		KindMemberRemove, KindMemberInvite, KindEndDate, KindAccessRequestApprove,
		KindAccessRequestDeny, KindSCIMUserCreate, KindSCIMUserDeactivate,
		KindSCIMGroupCreate, KindSCIMGroupRename, KindSCIMGroupMembers,
	}
}

// Params are a step's arguments. Which fields a kind needs is checked by
// Step.Validate. Member is a Sentry organization member id, Team a team slug
// (TeamID the numeric id, needed by SCIM groups), Project a project slug.
type Params struct {
	Member  string `json:"member,omitempty"`
	Email   string `json:"email,omitempty"`
	Team    string `json:"team,omitempty"`
	TeamID  string `json:"teamId,omitempty"`
	Project string `json:"project,omitempty"`
	// Role is the org role (org-role, member-invite, scim-user-create) or
	// the team role (team-role) to set.
	Role string `json:"role,omitempty"`
	// PreviousRole is the role before the change, filled from the snapshot
	// when the request is created; the inverse change of a grant restores it.
	PreviousRole string `json:"previousRole,omitempty"`
	// Name is a team's display name (team-create, scim-group-*).
	Name string `json:"name,omitempty"`
	// AccessRequest is the id of one of Sentry's access requests.
	AccessRequest string `json:"accessRequest,omitempty"`
	// Add and Remove are member ids for scim-group-members.
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// StepState is where a step is in its life: pending → approved → applying →
// applied | failed.
type StepState string

// Step states.
const (
	StepPending  StepState = "pending"
	StepApproved StepState = "approved"
	StepApplying StepState = "applying"
	StepApplied  StepState = "applied"
	StepFailed   StepState = "failed"
)

// Step is one Sentry operation of a request, with its apply record.
// Attempts counts the Sentry calls made for it; SentryStatus and SentryError
// hold Sentry's answer to the last one.
type Step struct {
	Index        int        `json:"index"`
	Kind         Kind       `json:"kind"`
	Params       Params     `json:"params"`
	State        StepState  `json:"state"`
	Attempts     int        `json:"attempts"`
	SentryStatus int        `json:"sentryStatus,omitempty"`
	SentryError  string     `json:"sentryError,omitempty"`
	StartedAt    *time.Time `json:"startedAt,omitempty"`
	FinishedAt   *time.Time `json:"finishedAt,omitempty"`
	Result       string     `json:"result,omitempty"`
}

// Validate reports a missing parameter for the step's kind, a new team's
// slug or name that Sentry would refuse (TeamSlugProblem), or an unknown
// kind, as an EINVALID error.
func (s Step) Validate() error {
	p := s.Params
	need := func(ok bool, what string) error {
		if !ok {
			return sentryaccess.Errorf(sentryaccess.EINVALID, "Step %d (%s) needs %s.", s.Index+1, s.Kind.Label(), what)
		}
		return nil
	}
	switch s.Kind {
	case KindTeamCreate:
		if msg := TeamSlugProblem(p.Team); msg != "" {
			return sentryaccess.Errorf(sentryaccess.EINVALID, "Step %d (%s): %s", s.Index+1, s.Kind.Label(), msg)
		}
		if n := utf8.RuneCountInString(p.Name); n > MaxTeamName {
			return sentryaccess.Errorf(sentryaccess.EINVALID, "Step %d (%s): the team name has %d characters; Sentry allows at most %d.", s.Index+1, s.Kind.Label(), n, MaxTeamName)
		}
		return nil
	case KindTeamDelete:
		return need(p.Team != "", "a team")
	case KindEndDate:
		return need(p.Team != "" && (p.Member != "") != (p.Project != ""), "a team and either a member (their membership) or a project (the team's link to it)")
	case KindProjectLink, KindProjectUnlink:
		return need(p.Team != "" && p.Project != "", "a team and a project")
	case KindTeamAdd, KindTeamRemove:
		return need(p.Team != "" && p.Member != "", "a team and a member")
	case KindTeamRole:
		return need(p.Team != "" && p.Member != "" && p.Role != "", "a team, a member and a team role")
	case KindOrgRole:
		return need(p.Member != "" && p.Role != "", "a member and an org role")
	case KindMemberRemove, KindSCIMUserDeactivate:
		return need(p.Member != "", "a member")
	case KindMemberInvite, KindSCIMUserCreate:
		return need(p.Email != "", "an email")
	case KindAccessRequestApprove, KindAccessRequestDeny:
		return need(p.AccessRequest != "", "an access request id")
	case KindSCIMGroupCreate:
		return need(p.Name != "", "a group name")
	case KindSCIMGroupRename:
		return need(p.TeamID != "" && p.Name != "", "a team id and a new name")
	case KindSCIMGroupMembers:
		return need(p.TeamID != "" && len(p.Add)+len(p.Remove) > 0, "a team id and members to add or remove")
	}
	return sentryaccess.Errorf(sentryaccess.EINVALID, "Step %d has no kind sentry-access knows: pick one from the list.", s.Index+1)
}

// Inverse returns the step that undoes s, used to revoke time-bound access.
// It reports false for kinds that cannot be undone by one step. An invite
// is undone by removing the member, which also cancels an invite not yet
// accepted (both are DELETE of the organization member in Sentry,
// docs/sentry-access-model.md#members): Params.Member is the member id
// Sentry gave the invite, recorded when the step is applied. An approved
// access request is undone by removing the member from its team; an end
// date by removing the membership or the link it names.
func (s Step) Inverse() (Step, bool) {
	inv := Step{Kind: s.Kind, Params: s.Params}
	switch s.Kind {
	case KindTeamAdd, KindAccessRequestApprove:
		inv.Kind = KindTeamRemove
		inv.Params.AccessRequest = ""
	case KindMemberInvite:
		inv.Kind = KindMemberRemove
		inv.Params.Role = ""
	case KindEndDate:
		inv.Kind = KindTeamRemove
		if s.Params.Project != "" {
			inv.Kind = KindProjectUnlink
		}
	case KindTeamRemove:
		inv.Kind = KindTeamAdd
	case KindProjectLink:
		inv.Kind = KindProjectUnlink
	case KindProjectUnlink:
		inv.Kind = KindProjectLink
	case KindTeamCreate:
		inv.Kind = KindTeamDelete
	case KindTeamRole, KindOrgRole:
		if s.Params.PreviousRole == "" {
			return Step{}, false
		}
		inv.Params.Role, inv.Params.PreviousRole = s.Params.PreviousRole, s.Params.Role
	default:
		return Step{}, false
	}
	return inv, true
}

// State is where a request is in its life.
type State string

// Request states.
const (
	StatePendingApproval State = "pending-approval"
	StateApproved        State = "approved"
	StateDenied          State = "denied"
	StateApplying        State = "applying"
	StateApplied         State = "applied"
	StatePartiallyFailed State = "partially-failed"
	StateFailed          State = "failed"
	StateCancelled       State = "cancelled"
)

// Final reports whether no further transition can happen.
func (s State) Final() bool {
	switch s {
	case StateDenied, StateApplied, StatePartiallyFailed, StateFailed, StateCancelled:
		return true
	}
	return false
}

// Source says where a request came from.
type Source string

// Request sources.
const (
	SourceForm          Source = "form"
	SourceMemberPage    Source = "member-page"
	SourceBlueprint     Source = "blueprint"
	SourceAccessRequest Source = "sentry-access-request"
	SourceExpiry        Source = "expiry"
	// SourceRevoke marks the request that takes a grant away before its
	// expiry, on an approver's word.
	SourceRevoke Source = "revoke"
)

// Decision is one approver's approval or denial.
type Decision struct {
	Actor   string            `json:"actor"`
	Role    sentryaccess.Role `json:"role"`
	Approve bool              `json:"approve"`
	Comment string            `json:"comment,omitempty"`
	At      time.Time         `json:"at"`
}

// Request is a change request: steps to carry out in Sentry once approved.
// ExpiresAt makes the access time-bound: once applied, a Grant revokes it at
// that time. ExtendsGrant names the grant an extension request prolongs.
type Request struct {
	ID            string            `json:"id"`
	Title         string            `json:"title"`
	Requester     string            `json:"requester"`
	RequesterRole sentryaccess.Role `json:"requesterRole"`
	Justification string            `json:"justification,omitempty"`
	Steps         []Step            `json:"steps"`
	ExpiresAt     *time.Time        `json:"expiresAt,omitempty"`
	ExtendsGrant  string            `json:"extendsGrant,omitempty"`
	// RevokesGrant names the grant an expiry request revokes.
	RevokesGrant string `json:"revokesGrant,omitempty"`
	// GrantID is set once an applied time-bound request has its grant (or
	// an applied extension has moved its grant's expiry).
	GrantID   string     `json:"grantId,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	State     State      `json:"state"`
	Approvals []Decision `json:"approvals,omitempty"`
	Source    Source     `json:"source"`
	// Required is the number of distinct approvals the policy asked for.
	Required int `json:"required"`
	// Preview is the preview computed when the request was created.
	Preview *Preview `json:"preview,omitempty"`
}

// Approvers returns the actors who approved r, in order.
func (r *Request) Approvers() []string {
	var out []string
	for _, d := range r.Approvals {
		if d.Approve {
			out = append(out, d.Actor)
		}
	}
	return out
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	c := *r
	c.Steps = slices.Clone(r.Steps)
	for i := range c.Steps {
		c.Steps[i].Params.Add = slices.Clone(r.Steps[i].Params.Add)
		c.Steps[i].Params.Remove = slices.Clone(r.Steps[i].Params.Remove)
	}
	c.Approvals = slices.Clone(r.Approvals)
	if r.Preview != nil {
		p := *r.Preview
		c.Preview = &p
	}
	return &c
}

// SystemExpiry is the requester of the revocations made when grants expire.
const SystemExpiry = "system:expiry"
