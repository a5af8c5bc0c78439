package changes

import (
	"context"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
)

// Snapshots gives the current access snapshot of the organization.
type Snapshots interface {
	// Current returns the latest synced snapshot. It may be shared with
	// the dashboard's read model: it must not be modified.
	Current(ctx context.Context) (*access.Snapshot, error)
}

// Previewer computes what steps would do to a snapshot. Sentry acts as
// the owner of the configured token (s.Caller), not as whoever asks, so
// nothing about the requester enters the preview. EnginePreviewer is the
// implementation over internal/access.
type Previewer interface {
	Preview(s *access.Snapshot, steps []Step) (Preview, error)
}

// Preview is what a request would change: who Sentry will act as, the
// rule violations that block it or warn, who gains or loses access to
// which project, whose effective access changes at all, and what an
// org-role change does to stored team roles.
type Preview struct {
	ComputedAt time.Time `json:"computedAt"`
	// ActingAs says who Sentry will act as ("Sentry will act as
	// olivia@acme.test (the owner of the configured token, owner).").
	ActingAs   string        `json:"actingAs,omitempty"`
	Violations []Violation   `json:"violations,omitempty"`
	Deltas     []AccessDelta `json:"deltas,omitempty"`
	// Affected are the members whose effective access changes in any
	// way: project access or scopes, org role or org scopes, team
	// memberships or effective team roles, or removal. Nobody among them
	// decides on the request (Policy.CanDecide).
	Affected []AffectedMember `json:"affected,omitempty"`
	// TeamRoles are the stored team roles org-role steps touch.
	TeamRoles []TeamRoleEffect `json:"teamRoles,omitempty"`
}

// Blocking returns the violations that forbid the request.
func (p *Preview) Blocking() []Violation {
	if p == nil {
		return nil
	}
	var out []Violation
	for _, v := range p.Violations {
		if v.Blocking {
			out = append(out, v)
		}
	}
	return out
}

// Warnings returns the violations that do not block: what depends on the
// Sentry version or could not be checked.
func (p *Preview) Warnings() []Violation {
	if p == nil {
		return nil
	}
	var out []Violation
	for _, v := range p.Violations {
		if !v.Blocking {
			out = append(out, v)
		}
	}
	return out
}

// GrantChanges counts the member×project grants the request adds and
// removes (deltas that gain or lose project access).
func (p *Preview) GrantChanges() (added, removed int) {
	if p == nil {
		return 0, 0
	}
	for _, d := range p.Deltas {
		switch {
		case d.GainsAccess:
			added++
		case d.LosesAccess:
			removed++
		}
	}
	return added, removed
}

// Affects reports whether the member with email is among those whose
// access the request changes, and how ("" when not).
func (p *Preview) Affects(email string) (string, bool) {
	if p == nil || strings.TrimSpace(email) == "" {
		return "", false
	}
	for _, a := range p.Affected {
		if strings.EqualFold(strings.TrimSpace(a.Email), strings.TrimSpace(email)) {
			return a.How, true
		}
	}
	return "", false
}

// Violation is a rule a step breaks (own role change, retired admin role,
// IdP-provisioned team, last owner, …). Step is the step index, -1 for the
// request as a whole. A violation that does not block is a warning: Sentry
// may refuse the step depending on its version, or what the rule depends
// on could not be checked.
type Violation struct {
	Step     int    `json:"step"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Blocking bool   `json:"blocking"`
}

// AccessDelta is one member's change of access to one project.
type AccessDelta struct {
	Member  string `json:"member"`
	Email   string `json:"email"`
	Project string `json:"project"`
	// GainsAccess and LosesAccess report a change of project access itself;
	// Gained and Lost are scopes on the project.
	GainsAccess bool     `json:"gainsAccess,omitempty"`
	LosesAccess bool     `json:"losesAccess,omitempty"`
	Gained      []string `json:"gained,omitempty"`
	Lost        []string `json:"lost,omitempty"`
	// Via names the roles whose scopes the member holds on the project
	// (after the change, or before it for a loss): "team payments as
	// contributor, org role member". The preview shows it instead of the
	// scope list, which it keeps folded.
	Via string `json:"via,omitempty"`
}

// AffectedMember is one member whose effective access the request
// changes; How says how, in words ("gains payment-api", "org role member →
// manager").
type AffectedMember struct {
	Member string `json:"member"`
	Email  string `json:"email"`
	How    string `json:"how"`
}

// TeamRoleEffect is what an org-role step does to one of the member's
// stored team roles. Sentry's versions differ: older ones reset a stored
// role at or below the new role's minimum team role to null (Reset); the
// newest code leaves it (docs/sentry-access-model.md#team-roles-and-the-minimum-team-role).
// The effective role is the same either way until a later change of org
// role. EffectiveBefore and EffectiveAfter are the member's effective
// team role on Team around the step; Restore, when set, is a team-role step
// that keeps EffectiveBefore after the step (the step lowers it).
type TeamRoleEffect struct {
	Step            int    `json:"step"`
	Member          string `json:"member"`
	Email           string `json:"email"`
	Team            string `json:"team"`
	Stored          string `json:"stored,omitempty"`
	Reset           bool   `json:"reset,omitempty"`
	EffectiveBefore string `json:"effectiveBefore"`
	EffectiveAfter  string `json:"effectiveAfter"`
	Restore         *Step  `json:"restore,omitempty"`
}

// memberByEmail returns the member of s with email (case-insensitive).
func memberByEmail(s *access.Snapshot, email string) (access.Member, bool) {
	if s == nil {
		return access.Member{}, false
	}
	for _, m := range s.Members {
		if strings.EqualFold(m.Email, email) {
			return m, true
		}
	}
	return access.Member{}, false
}

// memberByID returns the member of s with id.
func memberByID(s *access.Snapshot, id string) (access.Member, bool) {
	if s == nil {
		return access.Member{}, false
	}
	for _, m := range s.Members {
		if m.ID == id {
			return m, true
		}
	}
	return access.Member{}, false
}

// fillPreviousRoles records, for role steps, the role the member holds in
// s, so that a grant can restore it.
func fillPreviousRoles(s *access.Snapshot, steps []Step) {
	for i := range steps {
		st := &steps[i]
		m, ok := memberByID(s, st.Params.Member)
		if !ok || st.Params.PreviousRole != "" {
			continue
		}
		switch st.Kind {
		case KindOrgRole:
			st.Params.PreviousRole = m.OrgRole
		case KindTeamRole:
			for _, t := range m.Teams {
				if t.Team == st.Params.Team {
					st.Params.PreviousRole = t.Role
					if st.Params.PreviousRole == "" {
						st.Params.PreviousRole = access.MinimumTeamRole(s, m.OrgRole)
					}
				}
			}
		}
	}
}

// fillMemberEmails sets the email of every step that names a member to
// that member's email in snap. The email is what approvers read in titles
// and the trail, and what CanDecide matches approvers against, so it must
// be Sentry's, never one the requester typed beside a member id.
func fillMemberEmails(snap *access.Snapshot, steps []Step) {
	for i := range steps {
		p := &steps[i].Params
		if p.Member == "" {
			continue
		}
		if m, ok := memberByID(snap, p.Member); ok {
			p.Email = m.Email
		}
	}
}
