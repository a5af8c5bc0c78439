package changes

import (
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Policy decides who may request and approve what. The zero value is not
// useful; start from DefaultPolicy.
type Policy struct {
	// DefaultApprovals is the number of distinct approvers a request needs.
	DefaultApprovals int
	// SensitiveApprovals is the number needed when any step is of a
	// SensitiveKinds kind.
	SensitiveApprovals int
	SensitiveKinds     []Kind
	// ApproverRoles may approve and deny.
	ApproverRoles []sentryaccess.Role
	// SelfServiceKinds are what a viewer may request, and only for their own
	// member.
	SelfServiceKinds []Kind
}

// DefaultPolicy returns the policy sentry-access ships with: org-role
// changes and member removals need two approvers, everything else one;
// approvers and admins decide; viewers may ask to join or leave teams
// themselves.
func DefaultPolicy() Policy {
	return Policy{
		DefaultApprovals:   1,
		SensitiveApprovals: 2,
		SensitiveKinds:     []Kind{KindOrgRole, KindMemberRemove, KindSCIMUserDeactivate},
		ApproverRoles:      []sentryaccess.Role{sentryaccess.RoleApprover, sentryaccess.RoleAdmin},
		SelfServiceKinds:   []Kind{KindTeamAdd, KindTeamRemove, KindTeamRole},
	}
}

// Required returns how many approvals steps need.
func (p Policy) Required(steps []Step) int {
	n := max(p.DefaultApprovals, 1)
	for _, s := range steps {
		if contains(p.SensitiveKinds, s.Kind) {
			n = max(n, p.SensitiveApprovals)
		}
	}
	return n
}

// CanRequest checks that actor may ask for steps. selfMember is the Sentry
// member id of the actor ("" when the actor is not a member); viewers may
// only request SelfServiceKinds steps that target it. The error wraps
// EFORBIDDEN.
func (p Policy) CanRequest(actor sentryaccess.Actor, selfMember string, steps []Step) error {
	switch actor.Role {
	case sentryaccess.RoleApprover, sentryaccess.RoleAdmin, sentryaccess.RoleSystem:
		return nil
	case sentryaccess.RoleViewer:
	default:
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Role %q may not request changes", actor.Role)
	}
	for _, s := range steps {
		if !contains(p.SelfServiceKinds, s.Kind) {
			return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "As a viewer you may ask only to join or leave a team, or to change your team role, for yourself; %q (step %d) needs an approver or an admin to request it.", s.Kind.Label(), s.Index+1)
		}
		if selfMember == "" {
			return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "As a viewer you may request changes only for yourself, and %s is not a member of the organization as last synced. Ask an approver to request it.", actor.Email)
		}
		if s.Params.Member != selfMember {
			other := s.Params.Email
			if other == "" {
				other = "another member"
			}
			return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "As a viewer you may request changes only for yourself (%s), and step %d names %s. Ask an approver to request it for them.", actor.Email, s.Index+1, other)
		}
	}
	return nil
}

// CanDecide checks that actor may approve or deny r: an approver role, not
// the requester, not the member whose access a step changes (else an
// approver could have a colleague file "give me admin", or turn her own
// Sentry access request into a change request, and approve it herself),
// and not having decided already. Step emails are the snapshot's (Create
// fills them from the member id). The error is EFORBIDDEN.
func (p Policy) CanDecide(actor sentryaccess.Actor, r *Request) error {
	if !p.Decides(actor) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Role %q may not approve or deny", actor.Role)
	}
	if strings.EqualFold(actor.Email, r.Requester) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody approves their own request")
	}
	for _, s := range r.Steps {
		if s.Params.Email != "" && strings.EqualFold(strings.TrimSpace(s.Params.Email), strings.TrimSpace(actor.Email)) {
			return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody decides on a change to their own access (step %d)", s.Index+1)
		}
	}
	for _, d := range r.Approvals {
		if strings.EqualFold(d.Actor, actor.Email) {
			return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "%s already decided on this request", actor.Email)
		}
	}
	return nil
}

// CanView reports whether actor may see request r: approvers and admins
// see every request; a viewer sees the requests she made and those that
// change her own access (a step naming her email). Requests carry
// justifications and Sentry's answers, which are not every employee's
// business.
func (p Policy) CanView(actor sentryaccess.Actor, r *Request) bool {
	if p.Decides(actor) || actor.Role == sentryaccess.RoleSystem {
		return true
	}
	if strings.EqualFold(actor.Email, r.Requester) {
		return true
	}
	for _, s := range r.Steps {
		if s.Params.Email != "" && strings.EqualFold(strings.TrimSpace(s.Params.Email), strings.TrimSpace(actor.Email)) {
			return true
		}
	}
	return false
}

// Decides reports whether actor's role approves and denies requests.
func (p Policy) Decides(actor sentryaccess.Actor) bool {
	return contains(p.ApproverRoles, actor.Role)
}

// SelfServiceOnly reports whether actor may only request SelfServiceKinds
// steps for their own member (viewers).
func (p Policy) SelfServiceOnly(actor sentryaccess.Actor) bool {
	return actor.Role == sentryaccess.RoleViewer
}

// CanCancel checks that actor may withdraw r: the requester or an admin,
// while r is pending approval or approved (not yet being applied). The
// error is EFORBIDDEN or ECONFLICT.
func (p Policy) CanCancel(actor sentryaccess.Actor, r *Request) error {
	if !strings.EqualFold(actor.Email, r.Requester) && actor.Role != sentryaccess.RoleAdmin {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Only the requester or an admin may cancel")
	}
	if r.State != StatePendingApproval && r.State != StateApproved {
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Request %s is %s", r.ID, r.State)
	}
	return nil
}

// CanExtend checks that actor may ask to prolong grant g: it must be
// active, and a viewer may only extend her own grants. The error is
// ECONFLICT or EFORBIDDEN.
func (p Policy) CanExtend(actor sentryaccess.Actor, g *Grant) error {
	if g.State != GrantActive {
		return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Grant %s is %s", g.ID, g.State)
	}
	if actor.Role == sentryaccess.RoleViewer && !strings.EqualFold(actor.Email, g.Requester) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Viewers may only extend their own grants")
	}
	return nil
}

// targetsMember reports the first step of steps that changes the access of
// member id (as its member, or among the members a SCIM group gains or
// loses), or -1.
func targetsMember(steps []Step, id string) int {
	if id == "" {
		return -1
	}
	for _, s := range steps {
		if s.Params.Member == id || contains(s.Params.Add, id) || contains(s.Params.Remove, id) {
			return s.Index
		}
	}
	return -1
}
