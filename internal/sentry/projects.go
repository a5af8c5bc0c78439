package sentry

import (
	"context"
	"fmt"
	"net/http"
)

// Projects returns every active project of the organization, asking for
// them unpaginated (all_projects=1); servers that ignore it answer in
// pages, which are followed. The list is not filtered by the caller's
// access; use IsMember/HasAccess. Tokens without a user see only projects
// with a team.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	req := c.newRequest(http.MethodGet, epProjects)
	req.query.Set("all_projects", "1")
	ps, err := collect(follow[Project](ctx, c, req))
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return ps, nil
}

// ProjectTeams returns the teams attached to a project.
func (c *Client) ProjectTeams(ctx context.Context, project string) ([]Team, error) {
	ts, err := collect(paginate[Team](ctx, c, c.newRequest(http.MethodGet, epProjectTeams, project)))
	if err != nil {
		return nil, fmt.Errorf("list teams of project %s: %w", project, err)
	}
	return ts, nil
}

// AddProjectTeam gives a team access to a project and returns the project.
// Needs project:write.
func (c *Client) AddProjectTeam(ctx context.Context, project, team string) (*Project, error) {
	var p Project
	if _, err := c.do(ctx, c.newRequest(http.MethodPost, epProjectTeam, project, team), &p); err != nil {
		return nil, fmt.Errorf("add team %s to project %s: %w", team, project, err)
	}
	return &p, nil
}

// RemoveProjectTeam removes a team's access to a project and returns the
// project. Besides project:write at org level, Sentry requires project:write
// on the team itself, so Team Admins can only unlink their own teams (403
// with a list-shaped detail otherwise).
func (c *Client) RemoveProjectTeam(ctx context.Context, project, team string) (*Project, error) {
	var p Project
	if _, err := c.do(ctx, c.newRequest(http.MethodDelete, epProjectTeam, project, team), &p); err != nil {
		return nil, fmt.Errorf("remove team %s from project %s: %w", team, project, err)
	}
	return &p, nil
}
