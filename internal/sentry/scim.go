package sentry

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// SCIM v2 (/organizations/{org}/scim/v2/…) is served by Sentry only when
// the org's SAML provider has SCIM enabled, and authenticates with the
// token of the auto-generated "SCIM Internal Integration" (Config.SCIMToken),
// not the REST token. Lists page by startIndex/count and carry no Link
// header. Sources: src/sentry/scim/endpoints/{members,teams,utils}.py,
// docs/sentry-access-model.md#scim.

const (
	// scimPageSize is Sentry's documented maximum SCIM page size.
	scimPageSize = 100
	// scimMaxOps is the most operations Sentry accepts in one PATCH.
	scimMaxOps = 100
)

// SCIMFilterEq builds the only filter form Sentry understands:
// `<attr> eq "<value>"`, attr being userName, value or displayName.
func SCIMFilterEq(attr, value string) (string, error) {
	switch attr {
	case "userName", "value", "displayName":
	default:
		return "", fmt.Errorf("scim filter: attribute %q not supported (userName, value, displayName): %w", attr, ErrInvalid)
	}
	v := strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `"`, `\"`)
	return attr + ` eq "` + v + `"`, nil
}

// scimList pages a SCIM list by startIndex (1-based) and count.
func scimList[T any](ctx context.Context, c *Client, req request) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		start := 1
		for {
			r := req
			r.query = cloneValues(req.query)
			r.query.Set("startIndex", strconv.Itoa(start))
			r.query.Set("count", strconv.Itoa(scimPageSize))
			var page SCIMListResponse[T]
			if _, err := c.do(ctx, r, &page); err != nil {
				yield(zero, err)
				return
			}
			for _, res := range page.Resources {
				if !yield(res, nil) {
					return
				}
			}
			start += len(page.Resources)
			if len(page.Resources) == 0 || start > page.TotalResults {
				return
			}
		}
	}
}

func (c *Client) scimRequest(method, endpoint string, params ...string) request {
	r := c.newRequest(method, endpoint, params...)
	r.scim = true
	return r
}

// validNumericID reports whether id is a decimal number, as SCIM member and
// group ids are.
func validNumericID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func checkIDs(what string, ids []string) error {
	for _, id := range ids {
		if !validNumericID(id) {
			return fmt.Errorf("scim: %s id %q is not numeric: %w", what, id, ErrInvalid)
		}
	}
	return nil
}

// SCIMUsers iterates over SCIM users (= approved org members), ordered by
// email. filter is empty or built with SCIMFilterEq; userName matches the
// email case-insensitively.
func (c *Client) SCIMUsers(ctx context.Context, filter string) iter.Seq2[SCIMUser, error] {
	req := c.scimRequest(http.MethodGet, epSCIMUsers)
	if filter != "" {
		req.query.Set("filter", filter)
	}
	return scimList[SCIMUser](ctx, c, req)
}

// SCIMUser returns one SCIM user by member id.
func (c *Client) SCIMUser(ctx context.Context, id string) (*SCIMUser, error) {
	var u SCIMUser
	if err := c.getJSON(ctx, c.scimRequest(http.MethodGet, epSCIMUser, id), &u); err != nil {
		return nil, fmt.Errorf("get scim user %s: %w", id, err)
	}
	return &u, nil
}

// SCIMUserCreate is the body of POST /scim/v2/Users.
type SCIMUserCreate struct {
	Schemas       []string `json:"schemas"`
	UserName      string   `json:"userName"`
	SentryOrgRole string   `json:"sentryOrgRole,omitempty"`
}

// NewSCIMUserCreate builds the body that provisions userName (an email)
// with sentryOrgRole (empty = the org's default role). SCIM cannot grant
// org:admin, so "owner" is refused here rather than by a 400 from Sentry
// (src/sentry/scim/endpoints/members.py).
func NewSCIMUserCreate(userName, sentryOrgRole string) (SCIMUserCreate, error) {
	if strings.TrimSpace(userName) == "" {
		return SCIMUserCreate{}, fmt.Errorf("scim user: userName is required: %w", ErrInvalid)
	}
	if sentryOrgRole == "owner" || sentryOrgRole == "org:admin" {
		return SCIMUserCreate{}, fmt.Errorf("scim user: role %q carries org:admin, which Sentry never provisions through SCIM; assign it in Sentry: %w", sentryOrgRole, ErrInvalid)
	}
	return SCIMUserCreate{Schemas: []string{SCIMUserSchema}, UserName: userName, SentryOrgRole: sentryOrgRole}, nil
}

// CreateSCIMUser provisions a member (flagged idp:provisioned, and
// idp:role-restricted when a role is given). An existing member is a 409.
func (c *Client) CreateSCIMUser(ctx context.Context, userName, sentryOrgRole string) (*SCIMUser, error) {
	body, err := NewSCIMUserCreate(userName, sentryOrgRole)
	if err != nil {
		return nil, fmt.Errorf("create scim user: %w", err)
	}
	req := c.scimRequest(http.MethodPost, epSCIMUsers)
	req.body = body
	var u SCIMUser
	if _, err := c.do(ctx, req, &u); err != nil {
		return nil, fmt.Errorf("create scim user: %w", err)
	}
	return &u, nil
}

// NewSCIMDeactivatePatch builds the only User PATCH Sentry accepts:
// replace active=false.
func NewSCIMDeactivatePatch() SCIMPatch {
	return SCIMPatch{
		Schemas:    []string{SCIMPatchSchema},
		Operations: []SCIMPatchOp{{Op: "replace", Path: "active", Value: false}},
	}
}

// DeactivateSCIMUser sends PATCH replace active=false. Beware: Sentry does
// not suspend the member, it DELETES the organization member (204). PATCH
// is not retried.
func (c *Client) DeactivateSCIMUser(ctx context.Context, id string) error {
	if err := checkIDs("member", []string{id}); err != nil {
		return fmt.Errorf("deactivate scim user: %w", err)
	}
	req := c.scimRequest(http.MethodPatch, epSCIMUser, id)
	req.body = NewSCIMDeactivatePatch()
	if _, err := c.do(ctx, req, nil); err != nil {
		return fmt.Errorf("deactivate scim user %s: %w", id, err)
	}
	return nil
}

// DeleteSCIMUser removes the member. Removing the last owner is a 403.
func (c *Client) DeleteSCIMUser(ctx context.Context, id string) error {
	if _, err := c.do(ctx, c.scimRequest(http.MethodDelete, epSCIMUser, id), nil); err != nil {
		return fmt.Errorf("delete scim user %s: %w", id, err)
	}
	return nil
}

// SCIMGroups iterates over SCIM groups (= teams). filter is empty or built
// with SCIMFilterEq("displayName", …), which Sentry slugifies and matches
// against team slugs. excludeMembers drops the member lists.
func (c *Client) SCIMGroups(ctx context.Context, filter string, excludeMembers bool) iter.Seq2[SCIMGroup, error] {
	req := c.scimRequest(http.MethodGet, epSCIMGroups)
	if filter != "" {
		req.query.Set("filter", filter)
	}
	if excludeMembers {
		req.query.Set("excludedAttributes", "members")
	}
	return scimList[SCIMGroup](ctx, c, req)
}

// SCIMGroup returns one group by numeric team id (Sentry looks groups up
// by id only, whatever the OpenAPI schema says).
func (c *Client) SCIMGroup(ctx context.Context, id string) (*SCIMGroup, error) {
	if err := checkIDs("group", []string{id}); err != nil {
		return nil, fmt.Errorf("get scim group: %w", err)
	}
	var g SCIMGroup
	if err := c.getJSON(ctx, c.scimRequest(http.MethodGet, epSCIMGroup, id), &g); err != nil {
		return nil, fmt.Errorf("get scim group %s: %w", id, err)
	}
	return &g, nil
}

// CreateSCIMGroup creates a team with slug = slugify(displayName), marked
// idp-provisioned. A clash is a 409.
func (c *Client) CreateSCIMGroup(ctx context.Context, displayName string) (*SCIMGroup, error) {
	if strings.TrimSpace(displayName) == "" {
		return nil, fmt.Errorf("create scim group: displayName is required: %w", ErrInvalid)
	}
	req := c.scimRequest(http.MethodPost, epSCIMGroups)
	req.body = struct {
		Schemas     []string          `json:"schemas"`
		DisplayName string            `json:"displayName"`
		Members     []SCIMGroupMember `json:"members"`
	}{[]string{SCIMGroupSchema}, displayName, []SCIMGroupMember{}}
	var g SCIMGroup
	if _, err := c.do(ctx, req, &g); err != nil {
		return nil, fmt.Errorf("create scim group %q: %w", displayName, err)
	}
	return &g, nil
}

func memberValues(ids []string) []map[string]string {
	out := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]string{"value": id})
	}
	return out
}

// NewSCIMRenamePatch builds the Okta-style rename: replace without a path
// and value {"displayName": name}.
func NewSCIMRenamePatch(name string) (SCIMPatch, error) {
	if strings.TrimSpace(name) == "" {
		return SCIMPatch{}, fmt.Errorf("scim rename: empty name: %w", ErrInvalid)
	}
	return SCIMPatch{
		Schemas:    []string{SCIMPatchSchema},
		Operations: []SCIMPatchOp{{Op: "replace", Value: map[string]string{"displayName": name}}},
	}, nil
}

// NewSCIMAddMembersPatch builds one "add path=members" operation carrying
// every member id. Ids must be numeric member ids.
func NewSCIMAddMembersPatch(memberIDs ...string) (SCIMPatch, error) {
	if len(memberIDs) == 0 {
		return SCIMPatch{}, fmt.Errorf("scim add members: no member ids: %w", ErrInvalid)
	}
	if err := checkIDs("member", memberIDs); err != nil {
		return SCIMPatch{}, err
	}
	return SCIMPatch{
		Schemas:    []string{SCIMPatchSchema},
		Operations: []SCIMPatchOp{{Op: "add", Path: "members", Value: memberValues(memberIDs)}},
	}, nil
}

// NewSCIMRemoveMembersPatch builds one `remove path=members[value eq "id"]`
// operation per member, at most 100 (Sentry's per-PATCH limit). Ids must
// be numeric, which also keeps them from escaping the filter.
func NewSCIMRemoveMembersPatch(memberIDs ...string) (SCIMPatch, error) {
	if len(memberIDs) == 0 {
		return SCIMPatch{}, fmt.Errorf("scim remove members: no member ids: %w", ErrInvalid)
	}
	if len(memberIDs) > scimMaxOps {
		return SCIMPatch{}, fmt.Errorf("scim remove members: %d operations exceed Sentry's limit of %d: %w", len(memberIDs), scimMaxOps, ErrInvalid)
	}
	if err := checkIDs("member", memberIDs); err != nil {
		return SCIMPatch{}, err
	}
	p := SCIMPatch{Schemas: []string{SCIMPatchSchema}}
	for _, id := range memberIDs {
		p.Operations = append(p.Operations, SCIMPatchOp{Op: "remove", Path: `members[value eq "` + id + `"]`})
	}
	return p, nil
}

// NewSCIMReplaceMembersPatch builds "replace path=members", which sets the
// group's whole member list; no ids empties the group.
func NewSCIMReplaceMembersPatch(memberIDs ...string) (SCIMPatch, error) {
	if err := checkIDs("member", memberIDs); err != nil {
		return SCIMPatch{}, err
	}
	return SCIMPatch{
		Schemas:    []string{SCIMPatchSchema},
		Operations: []SCIMPatchOp{{Op: "replace", Path: "members", Value: memberValues(memberIDs)}},
	}, nil
}

// patchGroup sends a SCIM PATCH to a group. Any PATCH marks the team
// idp-provisioned, after which Sentry refuses (403) ordinary member-team
// changes on it. PATCH is never retried.
func (c *Client) patchGroup(ctx context.Context, id string, p SCIMPatch) error {
	if err := checkIDs("group", []string{id}); err != nil {
		return err
	}
	req := c.scimRequest(http.MethodPatch, epSCIMGroup, id)
	req.body = p
	_, err := c.do(ctx, req, nil)
	return err
}

// RenameSCIMGroup renames a group (the team's name).
func (c *Client) RenameSCIMGroup(ctx context.Context, id, name string) error {
	p, err := NewSCIMRenamePatch(name)
	if err == nil {
		err = c.patchGroup(ctx, id, p)
	}
	if err != nil {
		return fmt.Errorf("rename scim group %s: %w", id, err)
	}
	return nil
}

// AddSCIMGroupMembers adds members to a group. Unknown members are a 404.
func (c *Client) AddSCIMGroupMembers(ctx context.Context, id string, memberIDs ...string) error {
	p, err := NewSCIMAddMembersPatch(memberIDs...)
	if err == nil {
		err = c.patchGroup(ctx, id, p)
	}
	if err != nil {
		return fmt.Errorf("add members to scim group %s: %w", id, err)
	}
	return nil
}

// RemoveSCIMGroupMembers removes members from a group, in PATCHes of at
// most 100 operations.
func (c *Client) RemoveSCIMGroupMembers(ctx context.Context, id string, memberIDs ...string) error {
	if len(memberIDs) == 0 {
		return fmt.Errorf("remove members from scim group %s: no member ids: %w", id, ErrInvalid)
	}
	for chunk := range slices.Chunk(memberIDs, scimMaxOps) {
		p, err := NewSCIMRemoveMembersPatch(chunk...)
		if err == nil {
			err = c.patchGroup(ctx, id, p)
		}
		if err != nil {
			return fmt.Errorf("remove members from scim group %s: %w", id, err)
		}
	}
	return nil
}

// ReplaceSCIMGroupMembers sets a group's members to exactly memberIDs.
func (c *Client) ReplaceSCIMGroupMembers(ctx context.Context, id string, memberIDs ...string) error {
	p, err := NewSCIMReplaceMembersPatch(memberIDs...)
	if err == nil {
		err = c.patchGroup(ctx, id, p)
	}
	if err != nil {
		return fmt.Errorf("replace members of scim group %s: %w", id, err)
	}
	return nil
}

// DeleteSCIMGroup deletes the group's team.
func (c *Client) DeleteSCIMGroup(ctx context.Context, id string) error {
	if err := checkIDs("group", []string{id}); err != nil {
		return fmt.Errorf("delete scim group: %w", err)
	}
	if _, err := c.do(ctx, c.scimRequest(http.MethodDelete, epSCIMGroup, id), nil); err != nil {
		return fmt.Errorf("delete scim group %s: %w", id, err)
	}
	return nil
}
