package changes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Choices are what the change form offers from the current snapshot:
// members by email, teams, projects and org roles, each sorted, and who
// the actor is in it.
type Choices struct {
	Members  []MemberChoice
	Teams    []string
	Projects []string
	// OrgRoles are the organization's org roles, lowest first; TeamRoles
	// its team roles. A retired role (the legacy admin) is marked: Sentry
	// no longer lets anyone be given it.
	OrgRoles  []RoleChoice
	TeamRoles []RoleChoice
	// Kinds are the step kinds the actor may request, in the form's order
	// (a viewer: Policy.SelfServiceKinds).
	Kinds []Kind
	// SCIMTeams are the teams whose membership the IdP manages through
	// SCIM: Sentry refuses direct membership changes on them
	// (docs/sentry-access-model.md#scim).
	SCIMTeams []string
	// SelfID is the actor's own member id ("" when her email is not a
	// member); SelfServiceOnly reports that she may only ask for changes
	// of SelfID's team memberships (Policy.SelfServiceOnly).
	SelfID          string
	SelfServiceOnly bool
}

// Member returns the member choice whose id is ref or whose email is ref
// (in any case).
func (c Choices) Member(ref string) (MemberChoice, bool) {
	if ref == "" {
		return MemberChoice{}, false
	}
	for _, m := range c.Members {
		if m.ID == ref || strings.EqualFold(m.Email, ref) {
			return m, true
		}
	}
	return MemberChoice{}, false
}

// RoleChoice is one org or team role the form offers.
type RoleChoice struct {
	ID      string
	Name    string
	Retired bool
}

// MemberChoice is one member the form offers, with its state (invited,
// pending, active …).
type MemberChoice struct {
	ID    string
	Email string
	State access.MemberState
}

// Choices returns the form's choices for actor. Its slices are shared
// between callers (built once per snapshot) and must not be modified.
func (s *Service) Choices(ctx context.Context, actor sentryaccess.Actor) (Choices, error) {
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return Choices{}, fmt.Errorf("change form: snapshot: %w", err)
	}
	ix := s.index.of(snap)
	c := ix.choices
	c.SelfServiceOnly = s.policy.SelfServiceOnly(actor)
	c.Kinds = nil
	for _, k := range Kinds() {
		if !c.SelfServiceOnly || contains(s.policy.SelfServiceKinds, k) {
			c.Kinds = append(c.Kinds, k)
		}
	}
	if self, ok := ix.member(actor.Email); ok {
		c.SelfID = self.ID
	}
	return c, nil
}

// Draft is what steps not yet submitted would do: the steps as the request
// would hold them (member emails filled from the snapshot), the preview and
// the approvals the policy asks for.
type Draft struct {
	Steps    []Step
	Preview  *Preview
	Required int
	// Untimed says, for each step that cannot be time-bound, why
	// (UntimedReason): the form shows it as soon as an expiry is picked.
	Untimed []string
	// Sensitive says why Required is the sensitive count ("" when not).
	Sensitive string
}

// PreviewDraft validates steps and previews them for actor on the current
// snapshot, as Create would. Errors are EINVALID (a step misses what its
// kind needs) or EFORBIDDEN (the actor may not ask for them); blocking
// violations are not errors here: they are in the preview.
func (s *Service) PreviewDraft(ctx context.Context, actor sentryaccess.Actor, steps []Step) (Draft, error) {
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return Draft{}, fmt.Errorf("preview draft: snapshot: %w", err)
	}
	steps = slices.Clone(steps)
	for i := range steps {
		steps[i].Index = i
		if err := steps[i].Validate(); err != nil {
			return Draft{}, err
		}
	}
	fillMemberEmails(snap, steps)
	self, _ := memberByEmail(snap, actor.Email)
	if err := s.policy.CanRequest(actor, self.ID, steps); err != nil {
		return Draft{}, err
	}
	d, err := s.draft(snap, steps)
	if err != nil {
		return Draft{}, fmt.Errorf("preview draft: %w", err)
	}
	return d, nil
}

// draft previews steps on snap, with the approvals they need.
func (s *Service) draft(snap *access.Snapshot, steps []Step) (Draft, error) {
	pv, err := s.preview.Preview(snap, steps)
	if err != nil {
		return Draft{}, err
	}
	pv.ComputedAt = s.now().UTC()
	d := Draft{Steps: steps, Preview: &pv, Required: s.policy.Required(steps, &pv), Sensitive: s.policy.Sensitivity(steps, &pv)}
	for _, st := range steps {
		if msg := UntimedReason(snap, st); msg != "" {
			d.Untimed = append(d.Untimed, msg)
		}
	}
	return d, nil
}

// MayRequest reports, for each proposal (the steps of one change request a
// page offers, e.g. a lookup's "request adding paul to team X"), whether
// actor may file it: approvers and admins may file anything, a viewer only
// her own team changes (Policy.CanRequest). Pages offer only what the
// actor may submit.
func (s *Service) MayRequest(ctx context.Context, actor sentryaccess.Actor, proposals ...[]Step) ([]bool, error) {
	out := make([]bool, len(proposals))
	if len(proposals) == 0 {
		return out, nil
	}
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("may request: snapshot: %w", err)
	}
	self, _ := s.index.of(snap).member(actor.Email)
	for i, steps := range proposals {
		out[i] = len(steps) > 0 && s.policy.CanRequest(actor, self.ID, steps) == nil
	}
	return out, nil
}
