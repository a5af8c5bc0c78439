package changes

import (
	"fmt"
	"strings"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Policy decides who may request and approve what. The zero value is not
// useful; start from DefaultPolicy.
type Policy struct {
	// DefaultApprovals is the number of distinct approvers a request needs.
	DefaultApprovals int
	// SensitiveApprovals is the number needed when any step is of a
	// SensitiveKinds kind, or when the request's preview adds or removes
	// more than SensitiveGrants member×project grants in total.
	SensitiveApprovals int
	SensitiveKinds     []Kind
	// SensitiveGrants is the blast radius above which a request needs
	// SensitiveApprovals (SENTRY_ACCESS_SENSITIVE_GRANTS); 0 is the
	// default, DefaultSensitiveGrants.
	SensitiveGrants int
	// ApproverRoles may approve and deny.
	ApproverRoles []sentryaccess.Role
	// SelfServiceKinds are what a viewer may request, and only for their own
	// member.
	SelfServiceKinds []Kind
}

// DefaultSensitiveGrants is how many member×project grants a request may
// add or remove, in total, before it needs the sensitive approval count.
const DefaultSensitiveGrants = 20

// DefaultPolicy returns the policy sentry-access ships with: org-role
// changes, member removals, SCIM deactivations, team deletions and
// requests that add or remove more than DefaultSensitiveGrants
// member×project grants need two approvers, everything else one;
// approvers and admins decide; viewers may ask to join or leave teams
// themselves.
func DefaultPolicy() Policy {
	return Policy{
		DefaultApprovals:   1,
		SensitiveApprovals: 2,
		SensitiveKinds:     []Kind{KindOrgRole, KindMemberRemove, KindSCIMUserDeactivate, KindTeamDelete},
		SensitiveGrants:    DefaultSensitiveGrants,
		ApproverRoles:      []sentryaccess.Role{sentryaccess.RoleApprover, sentryaccess.RoleAdmin},
		SelfServiceKinds:   []Kind{KindTeamAdd, KindTeamRemove, KindTeamRole},
	}
}

// Required returns how many approvals steps need, with pv their preview:
// the sensitive count when a step is of a sensitive kind or the preview
// adds or removes more than SensitiveGrants member×project grants (the
// blast radius), the default count otherwise.
func (p Policy) Required(steps []Step, pv *Preview) int {
	n := max(p.DefaultApprovals, 1)
	if p.sensitive(steps, pv) != "" {
		n = max(n, p.SensitiveApprovals)
	}
	return n
}

// sensitive says why steps need the sensitive approval count ("" when
// they do not).
func (p Policy) sensitive(steps []Step, pv *Preview) string {
	for _, s := range steps {
		if contains(p.SensitiveKinds, s.Kind) {
			return fmt.Sprintf("step %d, %s, is sensitive", s.Index+1, s.Describe())
		}
	}
	limit := p.SensitiveGrants
	if limit <= 0 {
		limit = DefaultSensitiveGrants
	}
	if added, removed := pv.GrantChanges(); added+removed > limit {
		return fmt.Sprintf("it adds %d and removes %d member×project grants, more than %d", added, removed, limit)
	}
	return ""
}

// Sensitivity says why steps with preview pv need the sensitive approval
// count, or "" when they need the default.
func (p Policy) Sensitivity(steps []Step, pv *Preview) string { return p.sensitive(steps, pv) }

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
// the requester, not having decided already, and not a member whose own
// effective access the request changes. That last rule covers every path
// a change reaches someone by (team links, new teams with their members,
// team and org roles, blueprints, SCIM group membership, review
// revocations): the approver is matched by email to the members the
// previews show affected, the stored one (r.Preview) and live, the one on
// the current snapshot (nil when not computed), and to the members the
// steps name (Create fills their emails from the snapshot). Otherwise an
// approver could have a colleague file "give me admin", or link her team
// to a project, and approve it herself. The error is EFORBIDDEN.
func (p Policy) CanDecide(actor sentryaccess.Actor, r *Request, live *Preview) error {
	if !p.Decides(actor) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Role %q may not approve or deny", actor.Role)
	}
	if strings.EqualFold(actor.Email, r.Requester) {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody approves their own request")
	}
	for _, d := range r.Approvals {
		if strings.EqualFold(d.Actor, actor.Email) {
			return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "%s already decided on this request", actor.Email)
		}
	}
	if why := ownAccess(actor.Email, r, live); why != "" {
		return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody decides on a change to their own access: %s", why)
	}
	return nil
}

// ownAccess says how r changes the access of the member with email, or ""
// when it does not.
func ownAccess(email string, r *Request, live *Preview) string {
	for _, pv := range []*Preview{live, r.Preview} {
		if how, ok := pv.Affects(email); ok {
			return fmt.Sprintf("this request changes %s's access (%s)", email, how)
		}
	}
	for _, s := range r.Steps {
		if s.Params.Email != "" && strings.EqualFold(strings.TrimSpace(s.Params.Email), strings.TrimSpace(email)) {
			return fmt.Sprintf("step %d names %s", s.Index+1, email)
		}
	}
	return ""
}

// CanView reports whether actor may see request r: approvers and admins
// see every request; a viewer sees the requests she made and those that
// change her own access (a step naming her email, or her among the
// members the stored preview shows affected). Requests carry
// justifications and Sentry's answers, which are not every employee's
// business.
func (p Policy) CanView(actor sentryaccess.Actor, r *Request) bool {
	if p.Decides(actor) || actor.Role == sentryaccess.RoleSystem {
		return true
	}
	if strings.EqualFold(actor.Email, r.Requester) {
		return true
	}
	return ownAccess(actor.Email, r, nil) != ""
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
