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

// Previewer computes what steps would do to a snapshot on behalf of
// requester (an email). EnginePreviewer is the implementation over
// internal/access.
type Previewer interface {
	Preview(s *access.Snapshot, steps []Step, requester string) (Preview, error)
}

// Preview is what a request would change: the rule violations that block it
// or warn, and who gains or loses access to which project.
type Preview struct {
	ComputedAt time.Time     `json:"computedAt"`
	Violations []Violation   `json:"violations,omitempty"`
	Deltas     []AccessDelta `json:"deltas,omitempty"`
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

// Violation is a rule a step breaks (own role change, retired admin role,
// IdP-provisioned team, last owner, …). Step is the step index, -1 for the
// request as a whole.
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
