package sentry

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

// MemberQuery filters GET /organizations/{org}/members/ through Sentry's
// `query` tokens (src/sentry/api/endpoints/organization_member/index.py).
// Zero fields are not sent.
type MemberQuery struct {
	// Email matches the member's email (token email:).
	Email string
	// Role matches the org role id (token role:).
	Role string
	// Scope matches members whose role has this scope (token scope:).
	Scope string
	// IsInvited filters pending invites (token isInvited:).
	IsInvited *bool
	// SSOLinked filters on the sso:linked flag (token ssoLinked:).
	SSOLinked *bool
	// Has2FA filters on two-factor enrolment (token has2fa:).
	Has2FA *bool
	// Text is free text matched against names and emails (token query:).
	Text string
	// PerPage is the page size, at most 100; 100 when zero.
	PerPage int
}

// Encode returns the value of the `query` parameter, e.g.
// `email:ana@acme.com role:manager isInvited:false`. Values holding spaces
// or quotes are quoted, as Sentry's tokenize_query expects.
func (q MemberQuery) Encode() string {
	var toks []string
	add := func(key, val string) {
		if val != "" {
			toks = append(toks, key+":"+quoteToken(val))
		}
	}
	addBool := func(key string, b *bool) {
		if b != nil {
			toks = append(toks, key+":"+strconv.FormatBool(*b))
		}
	}
	add("email", q.Email)
	add("role", q.Role)
	add("scope", q.Scope)
	addBool("isInvited", q.IsInvited)
	addBool("ssoLinked", q.SSOLinked)
	addBool("has2fa", q.Has2FA)
	add("query", q.Text)
	return strings.Join(toks, " ")
}

func quoteToken(v string) string {
	if !strings.ContainsAny(v, " \t\"") {
		return v
	}
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}

// Members iterates over the organization's approved members (active users
// and pending email invites), ordered by id, following Link pagination.
// Needs member:read.
func (c *Client) Members(ctx context.Context, q MemberQuery) iter.Seq2[Member, error] {
	req := c.newRequest(http.MethodGet, epMembers)
	if s := q.Encode(); s != "" {
		req.query.Set("query", s)
	}
	if q.PerPage > 0 {
		req.query.Set("per_page", strconv.Itoa(min(q.PerPage, defaultPerPage)))
	}
	return paginate[Member](ctx, c, req)
}

// ListMembers returns every member matching q.
func (c *Client) ListMembers(ctx context.Context, q MemberQuery) ([]Member, error) {
	ms, err := collect(c.Members(ctx, q))
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// Member returns one member with its detail-only fields (teamRoles,
// orgRoleList, teamRoleList).
func (c *Client) Member(ctx context.Context, id string) (*Member, error) {
	var m Member
	if err := c.getJSON(ctx, c.newRequest(http.MethodGet, epMember, id), &m); err != nil {
		return nil, fmt.Errorf("get member %s: %w", id, err)
	}
	return &m, nil
}

// Invite is the body of POST /organizations/{org}/members/.
type Invite struct {
	// Email is required.
	Email string `json:"email"`
	// OrgRole defaults to Sentry's default role ("member") when empty.
	// Integration tokens may invite only as "member".
	OrgRole string `json:"orgRole,omitempty"`
	// TeamRoles are the teams to add the member to. Sentry joins them
	// with a null team role whatever role is given ("Do not set team-roles
	// when inviting members", organization_member_index.py).
	TeamRoles []MemberTeamRole `json:"teamRoles,omitempty"`
	// SendInvite reports whether Sentry emails the invitation. Note that
	// Sentry's own default is true; the zero value here sends false.
	SendInvite bool `json:"sendInvite"`
}

// InviteMember invites a member by email and returns the pending member.
// Needs member:invite (own teams only when open membership is off),
// member:write or member:admin.
func (c *Client) InviteMember(ctx context.Context, inv Invite) (*Member, error) {
	if strings.TrimSpace(inv.Email) == "" {
		return nil, fmt.Errorf("invite member: email is required: %w", ErrInvalid)
	}
	req := c.newRequest(http.MethodPost, epMembers)
	req.body = inv
	var m Member
	if _, err := c.do(ctx, req, &m); err != nil {
		return nil, fmt.Errorf("invite member: %w", err)
	}
	return &m, nil
}

// DeleteMember removes a member (or revokes an invite). Sentry refuses to
// remove the last owner and IdP-provisioned members (403).
func (c *Client) DeleteMember(ctx context.Context, id string) error {
	if _, err := c.do(ctx, c.newRequest(http.MethodDelete, epMember, id), nil); err != nil {
		return fmt.Errorf("delete member %s: %w", id, err)
	}
	return nil
}

// memberUpdate is the body of PUT /organizations/{org}/members/{id}/. It is
// unexported on purpose: a teamRoles list sent here REPLACES the member's
// whole team set (save_team_assignments deletes every membership and
// recreates the listed ones), and a PUT without teamRoles or teams clears
// every team (save_team_assignments(member, None) in
// src/sentry/core/endpoints/organization_member_details.py;
// docs/sentry-access-model.md#members). So the only way to send one is
// SetOrgRole, which always sends the member's complete current list.
//
// The org role goes as orgRole and as its deprecated alias role: today's
// Sentry takes orgRole or role and validates both alike
// (OrganizationMemberRequestSerializer: validate_role is
// validate_orgRole; the PUT reads result.get("orgRole") or
// result.get("role")), while older servers' serializer has role only
// (src/sentry/api/endpoints/organization_member/details.py at 00c84af3,
// docs/sentry-access-model.md#members).
type memberUpdate struct {
	OrgRole   string               `json:"orgRole"`
	Role      string               `json:"role"`
	TeamRoles []teamRoleAssignment `json:"teamRoles"`
}

// teamRoleAssignment is one element of a member PUT's teamRoles. A stored
// null role is sent as "role": null, never left out: Sentry's
// validate_teamRoles reads item["role"] of every entry, so an entry
// without "role" is a 500 (docs/sentry-access-model.md#members).
type teamRoleAssignment struct {
	TeamSlug string  `json:"teamSlug"`
	Role     *string `json:"role"`
}

// SetOrgRole changes a member's organization role without touching their
// teams. Sentry's member PUT replaces the entire team set with the body's
// teamRoles (and clears it when teamRoles is absent), so SetOrgRole
// first reads the member and re-sends its full current teamRoles (a stored
// null role as "role": null) with the new orgRole. A team change made between
// the read and the write can be lost; Sentry offers no precondition.
//
// It needs a user auth token holding member:admin: a new role the caller
// may not assign is 400 (so is any role change by an integration token,
// which has no assignable roles), a member whose current role is above the
// caller's is 403. Whether Sentry then resets the member's stored team
// roles at or below the new minimum team role to null depends on its
// version: older versions do, the newest code read does not
// (docs/sentry-access-model.md#team-roles-and-the-minimum-team-role).
func (c *Client) SetOrgRole(ctx context.Context, memberID, orgRole string) (*Member, error) {
	if orgRole == "" {
		return nil, fmt.Errorf("set org role of member %s: empty role: %w", memberID, ErrInvalid)
	}
	cur, err := c.Member(ctx, memberID)
	if err != nil {
		return nil, fmt.Errorf("set org role: %w", err)
	}
	body := memberUpdate{OrgRole: orgRole, Role: orgRole, TeamRoles: []teamRoleAssignment{}}
	for _, tr := range cur.TeamRoles {
		body.TeamRoles = append(body.TeamRoles, teamRoleAssignment(tr))
	}
	if cur.TeamRoles == nil {
		// Older servers list only team slugs; keep them with stored
		// (minimum) roles.
		for _, slug := range cur.Teams {
			body.TeamRoles = append(body.TeamRoles, teamRoleAssignment{TeamSlug: slug})
		}
	}
	req := c.newRequest(http.MethodPut, epMember, memberID)
	req.body = body
	var m Member
	if _, err := c.do(ctx, req, &m); err != nil {
		return nil, fmt.Errorf("set org role of member %s to %s: %w", memberID, orgRole, err)
	}
	return &m, nil
}
