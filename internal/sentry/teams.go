package sentry

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strings"
)

// JoinResult is the outcome of AddMemberToTeam, told by the status of
// POST /organizations/{org}/members/{id}/teams/{team}/
// (src/sentry/api/endpoints/organization_member/team_details.py).
type JoinResult int

// JoinResult values.
const (
	// JoinAdded: 201, the member was added to the team.
	JoinAdded JoinResult = iota + 1
	// JoinAlreadyMember: 204, the member already was on the team.
	JoinAlreadyMember
	// JoinRequested: 202, the caller may not add members to this team, so
	// Sentry created an access request instead.
	JoinRequested
)

// String returns "added", "already-member" or "requested".
func (r JoinResult) String() string {
	switch r {
	case JoinAdded:
		return "added"
	case JoinAlreadyMember:
		return "already-member"
	case JoinRequested:
		return "requested"
	}
	return fmt.Sprintf("JoinResult(%d)", int(r))
}

// Teams iterates over the organization's teams, detailed (with projects),
// ordered by slug. Per-caller fields (isMember, teamRole, hasAccess) are
// relative to the token's user.
func (c *Client) Teams(ctx context.Context) iter.Seq2[Team, error] {
	return paginate[Team](ctx, c, c.newRequest(http.MethodGet, epTeams))
}

// ListTeams returns every team.
func (c *Client) ListTeams(ctx context.Context) ([]Team, error) {
	ts, err := collect(c.Teams(ctx))
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return ts, nil
}

// CreateTeam creates a team. A duplicate slug is a 409 (ErrConflict); the
// OpenAPI schema wrongly documents it as 404.
func (c *Client) CreateTeam(ctx context.Context, slug, name string) (*Team, error) {
	if strings.TrimSpace(slug) == "" && strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("create team: slug or name is required: %w", ErrInvalid)
	}
	req := c.newRequest(http.MethodPost, epTeams)
	req.body = struct {
		Slug string `json:"slug,omitempty"`
		Name string `json:"name,omitempty"`
	}{slug, name}
	var t Team
	if _, err := c.do(ctx, req, &t); err != nil {
		return nil, fmt.Errorf("create team %s: %w", slug, err)
	}
	return &t, nil
}

// DeleteTeam deletes a team (needs team:admin).
func (c *Client) DeleteTeam(ctx context.Context, slug string) error {
	if _, err := c.do(ctx, c.newRequest(http.MethodDelete, epTeam, slug), nil); err != nil {
		return fmt.Errorf("delete team %s: %w", slug, err)
	}
	return nil
}

// TeamMembers iterates over a team's members (pending invites excluded),
// each with its stored team role.
func (c *Client) TeamMembers(ctx context.Context, teamSlug string) iter.Seq2[TeamMember, error] {
	return paginate[TeamMember](ctx, c, c.newRequest(http.MethodGet, epTeamMembers, teamSlug))
}

// ListTeamMembers returns every member of a team.
func (c *Client) ListTeamMembers(ctx context.Context, teamSlug string) ([]TeamMember, error) {
	ms, err := collect(c.TeamMembers(ctx, teamSlug))
	if err != nil {
		return nil, fmt.Errorf("list members of team %s: %w", teamSlug, err)
	}
	return ms, nil
}

// AddMemberToTeam adds a member to a team. Sentry answers 201 (added), 204
// (already a member) or 202 (the caller may not add members here, so an
// access request was created); see JoinResult. It needs a user token; an
// IdP-provisioned team answers 403.
func (c *Client) AddMemberToTeam(ctx context.Context, memberID, team string) (JoinResult, error) {
	resp, err := c.do(ctx, c.newRequest(http.MethodPost, epMemberTeam, memberID, team), nil)
	if err != nil {
		return 0, fmt.Errorf("add member %s to team %s: %w", memberID, team, err)
	}
	switch resp.status {
	case http.StatusCreated, http.StatusOK:
		return JoinAdded, nil
	case http.StatusNoContent:
		return JoinAlreadyMember, nil
	case http.StatusAccepted:
		return JoinRequested, nil
	}
	return 0, fmt.Errorf("add member %s to team %s: unexpected status %d", memberID, team, resp.status)
}

// SetTeamRole sets a member's role on a team ("contributor" or "admin")
// and returns the role Sentry stored. Sentry stores null (nil here) when
// the role is at or below the member's minimum team role: the effective
// role is then that minimum. The member must already be on the team.
func (c *Client) SetTeamRole(ctx context.Context, memberID, team, role string) (stored *string, err error) {
	req := c.newRequest(http.MethodPut, epMemberTeam, memberID, team)
	req.body = struct {
		TeamRole string `json:"teamRole"`
	}{role}
	var out struct {
		IsActive bool    `json:"isActive"`
		TeamRole *string `json:"teamRole"`
	}
	if _, err := c.do(ctx, req, &out); err != nil {
		return nil, fmt.Errorf("set role of member %s on team %s: %w", memberID, team, err)
	}
	return out.TeamRole, nil
}

// RemoveMemberFromTeam removes a member from a team.
func (c *Client) RemoveMemberFromTeam(ctx context.Context, memberID, team string) error {
	if _, err := c.do(ctx, c.newRequest(http.MethodDelete, epMemberTeam, memberID, team), nil); err != nil {
		return fmt.Errorf("remove member %s from team %s: %w", memberID, team, err)
	}
	return nil
}
