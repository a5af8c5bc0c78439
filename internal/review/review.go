// Package review runs access reviews: a campaign freezes the current access
// snapshot, lists the items to review in its scope (team memberships, org
// roles, the org membership itself, internal integrations), routes each item
// to the people who may review it, records certify / revoke / comment
// decisions, reminds reviewers of open items, and on close turns the
// revocations into one change request (internal/changes) and produces an
// evidence package for auditors (CSV, JSON, a printable HTML report and a
// manifest of SHA-256 sums, zipped deterministically).
//
// Persistence is the Repo interface (bbolt in internal/store); the snapshot
// comes from Snapshots and change requests go through ChangeRequester.
package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Scope says what a campaign reviews.
type Scope string

// Scopes. A team scope is "team:<slug>" (see TeamScope).
const (
	ScopeOrg          Scope = "org"
	ScopePrivileged   Scope = "privileged-roles"
	ScopeIntegrations Scope = "integrations-and-tokens"
	teamScopePrefix         = "team:"
)

// TeamScope returns the scope reviewing one team's memberships.
func TeamScope(slug string) Scope { return Scope(teamScopePrefix + slug) }

// Team returns the team slug of a team scope and reports whether s is one.
func (s Scope) Team() (string, bool) {
	slug, ok := strings.CutPrefix(string(s), teamScopePrefix)
	return slug, ok && slug != ""
}

// Validate reports an unknown scope as an EINVALID error.
func (s Scope) Validate() error {
	switch s {
	case ScopeOrg, ScopePrivileged, ScopeIntegrations:
		return nil
	}
	if _, ok := s.Team(); ok {
		return nil
	}
	return sentryaccess.Errorf(sentryaccess.EINVALID, "Unknown scope %q (want org, team:<slug>, privileged-roles or integrations-and-tokens)", s)
}

// Label is the scope in words.
func (s Scope) Label() string {
	switch s {
	case ScopeOrg:
		return "Whole organization"
	case ScopePrivileged:
		return "Privileged org roles"
	case ScopeIntegrations:
		return "Integrations and tokens"
	}
	if t, ok := s.Team(); ok {
		return "Team " + t
	}
	return string(s)
}

// State is where a campaign is.
type State string

// Campaign states.
const (
	StateOpen   State = "open"
	StateClosed State = "closed"
)

// Campaign is one access review. Its items are reviewed against the
// snapshot SnapshotID, frozen when the campaign started: later syncs do not
// change what is being certified. TeamAdmins (team slug → emails, frozen
// from the same snapshot) are the reviewers of each team's items.
type Campaign struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Scope      Scope               `json:"scope"`
	Org        string              `json:"org"`
	SnapshotID uint64              `json:"snapshotId"`
	Due        time.Time           `json:"due"`
	CreatedBy  string              `json:"createdBy"`
	CreatedAt  time.Time           `json:"createdAt"`
	State      State               `json:"state"`
	TeamAdmins map[string][]string `json:"teamAdmins,omitempty"`
	ClosedBy   string              `json:"closedBy,omitempty"`
	ClosedAt   *time.Time          `json:"closedAt,omitempty"`
	// ChangeRequestID is the change request that carries the campaign's
	// revocations, created when it closed ("" when nothing was revoked).
	ChangeRequestID string `json:"changeRequestId,omitempty"`
	// ManualFollowUp lists revocations no change-request step can carry
	// out (internal integrations): they must be done in Sentry by hand.
	ManualFollowUp []string `json:"manualFollowUp,omitempty"`
	// OutsideChanges are the access changes made outside sentry-access
	// that the campaign's close recorded (Config.Outside): the ones still
	// flagged, and those detected in the quarter before, however answered.
	OutsideChanges []OutsideChange `json:"outsideChanges,omitempty"`
}

// OutsideChange is an access change that no change request applied
// through sentry-access explains (internal/unapproved), as the evidence
// records it.
type OutsideChange struct {
	ID         string    `json:"id"`
	Snapshot   uint64    `json:"snapshot"` // the snapshot that showed it
	DetectedAt time.Time `json:"detectedAt"`
	Change     string    `json:"change"`           // in words
	Member     string    `json:"member,omitempty"` // email
	Verdict    string    `json:"verdict"`          // "made outside sentry-access" or "partly outside sentry-access"
	// Audit is who made it as Sentry's audit log says (event, actor, time,
	// IP), or why that is unknown.
	Audit  string `json:"audit"`
	State  string `json:"state"`            // open, accepted, revert requested, reverted
	Answer string `json:"answer,omitempty"` // who accepted it with her note, or the revert request
}

// Overdue reports whether the campaign is open past its due date.
func (c *Campaign) Overdue(now time.Time) bool {
	return c.State == StateOpen && !c.Due.IsZero() && now.After(c.Due)
}

// ItemKind says what an item certifies.
type ItemKind string

// Item kinds.
const (
	// KindTeamMembership: a member's place on a team (revoke: team-remove).
	KindTeamMembership ItemKind = "team-membership"
	// KindOrgRole: a member's privileged org role (revoke: org-role back to
	// the organization's default role, "member").
	KindOrgRole ItemKind = "org-role"
	// KindOrgMembership: a member's membership of the organization (revoke:
	// member-remove).
	KindOrgMembership ItemKind = "org-membership"
	// KindIntegration: an internal integration's scopes (revoke: manual
	// follow-up, no Sentry API step exists in internal/changes).
	KindIntegration ItemKind = "integration"
)

// Decision is a reviewer's verdict on an item.
type Decision string

// Decisions. An item with DecisionNone is still open; a comment alone does
// not close it.
const (
	DecisionNone    Decision = ""
	DecisionCertify Decision = "certify"
	DecisionRevoke  Decision = "revoke"
)

// ItemContext is what a reviewer needs beside an item, frozen from the
// campaign's snapshot.
type ItemContext struct {
	MemberState string     `json:"memberState,omitempty"`
	LastLogin   *time.Time `json:"lastLogin,omitempty"`
	LastActive  *time.Time `json:"lastActive,omitempty"`
	// Projects is how many projects the member (or integration) reaches.
	Projects int `json:"projects"`
	// Global reports whether the member reaches every team and project.
	Global          bool     `json:"global,omitempty"`
	SSOLinked       bool     `json:"ssoLinked,omitempty"`
	SSOInvalid      bool     `json:"ssoInvalid,omitempty"`
	SCIMProvisioned bool     `json:"scimProvisioned,omitempty"`
	Has2FA          bool     `json:"has2fa,omitempty"`
	Risks           []string `json:"risks,omitempty"`
}

// Item is one thing to certify or revoke.
type Item struct {
	ID          string      `json:"id"`
	Kind        ItemKind    `json:"kind"`
	MemberID    string      `json:"memberId,omitempty"`
	MemberEmail string      `json:"memberEmail,omitempty"`
	MemberName  string      `json:"memberName,omitempty"`
	OrgRole     string      `json:"orgRole,omitempty"`
	Team        string      `json:"team,omitempty"`
	TeamRole    string      `json:"teamRole,omitempty"` // effective team role
	Integration string      `json:"integration,omitempty"`
	Scopes      []string    `json:"scopes,omitempty"`
	Context     ItemContext `json:"context"`
	Decision    Decision    `json:"decision,omitempty"`
	Comment     string      `json:"comment,omitempty"`
	Reviewer    string      `json:"reviewer,omitempty"`
	DecidedAt   *time.Time  `json:"decidedAt,omitempty"`
}

// Subject names who or what the item is about.
func (it Item) Subject() string {
	if it.Kind == KindIntegration {
		return "integration " + it.Integration
	}
	return it.MemberEmail
}

// Describe is the item in words, e.g. "ana@acme.test on team payments (admin)".
func (it Item) Describe() string {
	switch it.Kind {
	case KindTeamMembership:
		return fmt.Sprintf("%s on team %s (%s)", it.MemberEmail, it.Team, it.TeamRole)
	case KindOrgRole:
		if it.OrgRole == access.RoleAdmin {
			return fmt.Sprintf("%s has org role admin (the retired legacy admin role)", it.MemberEmail)
		}
		return fmt.Sprintf("%s has org role %s", it.MemberEmail, it.OrgRole)
	case KindOrgMembership:
		return fmt.Sprintf("%s is a member (%s)", it.MemberEmail, it.OrgRole)
	case KindIntegration:
		return fmt.Sprintf("integration %s with %s", it.Integration, strings.Join(it.Scopes, " "))
	}
	return string(it.Kind)
}

// Progress counts a campaign's decisions.
type Progress struct {
	Total     int `json:"total"`
	Decided   int `json:"decided"`
	Certified int `json:"certified"`
	Revoked   int `json:"revoked"`
}

// Percent is the share of decided items, 0–100 (100 for an empty campaign).
func (p Progress) Percent() int {
	if p.Total == 0 {
		return 100
	}
	return p.Decided * 100 / p.Total
}

// ProgressOf counts the decisions among items.
func ProgressOf(items []Item) Progress {
	p := Progress{Total: len(items)}
	for _, it := range items {
		switch it.Decision {
		case DecisionCertify:
			p.Decided++
			p.Certified++
		case DecisionRevoke:
			p.Decided++
			p.Revoked++
		}
	}
	return p
}

// CanReview reports whether actor may decide on item in c, and if not, why.
// The rules:
//   - nobody reviews their own access;
//   - dashboard admins may review every other item;
//   - team-membership items are reviewed by the team's admins (effective
//     team role admin in the frozen snapshot), whatever their dashboard role;
//   - org-role, org-membership and integration items are reviewed by
//     dashboard approvers.
func CanReview(actor sentryaccess.Actor, c *Campaign, it Item) (bool, string) {
	email := strings.ToLower(strings.TrimSpace(actor.Email))
	if email == "" {
		return false, "no signed-in email"
	}
	if it.MemberEmail != "" && strings.EqualFold(it.MemberEmail, email) {
		return false, "nobody reviews their own access"
	}
	if actor.Role == sentryaccess.RoleAdmin {
		return true, ""
	}
	if it.Kind == KindTeamMembership {
		for _, a := range c.TeamAdmins[it.Team] {
			if strings.EqualFold(a, email) {
				return true, ""
			}
		}
		return false, "team items are reviewed by the admins of team " + it.Team
	}
	if actor.Role == sentryaccess.RoleApprover {
		return true, ""
	}
	return false, "org roles, memberships and integrations are reviewed by approvers"
}
