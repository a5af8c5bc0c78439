package changes

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
)

// SentryAPI is the part of *sentry.Client the executor uses.
type SentryAPI interface {
	CreateTeam(ctx context.Context, slug, name string) (*sentry.Team, error)
	DeleteTeam(ctx context.Context, slug string) error
	ListTeams(ctx context.Context) ([]sentry.Team, error)
	AddProjectTeam(ctx context.Context, project, team string) (*sentry.Project, error)
	RemoveProjectTeam(ctx context.Context, project, team string) (*sentry.Project, error)
	ProjectTeams(ctx context.Context, project string) ([]sentry.Team, error)
	AddMemberToTeam(ctx context.Context, memberID, team string) (sentry.JoinResult, error)
	RemoveMemberFromTeam(ctx context.Context, memberID, team string) error
	SetTeamRole(ctx context.Context, memberID, team, role string) (*string, error)
	ListTeamMembers(ctx context.Context, teamSlug string) ([]sentry.TeamMember, error)
	SetOrgRole(ctx context.Context, memberID, orgRole string) (*sentry.Member, error)
	Member(ctx context.Context, id string) (*sentry.Member, error)
	ListMembers(ctx context.Context, q sentry.MemberQuery) ([]sentry.Member, error)
	DeleteMember(ctx context.Context, id string) error
	InviteMember(ctx context.Context, inv sentry.Invite) (*sentry.Member, error)
	AccessRequests(ctx context.Context) ([]sentry.AccessRequest, error)
	ResolveAccessRequest(ctx context.Context, id string, approve bool) error
	CreateSCIMUser(ctx context.Context, userName, sentryOrgRole string) (*sentry.SCIMUser, error)
	SCIMUsers(ctx context.Context, filter string) iter.Seq2[sentry.SCIMUser, error]
	SCIMUser(ctx context.Context, id string) (*sentry.SCIMUser, error)
	DeactivateSCIMUser(ctx context.Context, id string) error
	CreateSCIMGroup(ctx context.Context, displayName string) (*sentry.SCIMGroup, error)
	SCIMGroups(ctx context.Context, filter string, excludeMembers bool) iter.Seq2[sentry.SCIMGroup, error]
	SCIMGroup(ctx context.Context, id string) (*sentry.SCIMGroup, error)
	RenameSCIMGroup(ctx context.Context, id, name string) error
	AddSCIMGroupMembers(ctx context.Context, id string, memberIDs ...string) error
	RemoveSCIMGroupMembers(ctx context.Context, id string, memberIDs ...string) error
}

// SentryExecutor carries out steps with the Sentry client and reads their
// effect back. Sentry's errors become *ExecError: 429 and 5xx (and
// transport errors) are retryable, other statuses are not.
type SentryExecutor struct {
	API SentryAPI
}

// Execute implements Executor.
func (x SentryExecutor) Execute(ctx context.Context, st Step) (Outcome, error) {
	p := st.Params
	api := x.API
	ok := func(status int, format string, args ...any) (Outcome, error) {
		return Outcome{Status: status, Result: fmt.Sprintf(format, args...)}, nil
	}
	var err error
	switch st.Kind {
	case KindTeamCreate:
		name := p.Name
		if name == "" {
			name = p.Team
		}
		if _, err = api.CreateTeam(ctx, p.Team, name); err == nil {
			return ok(201, "created team %s", p.Team)
		}
	case KindTeamDelete:
		if err = api.DeleteTeam(ctx, p.Team); err == nil || errors.Is(err, sentry.ErrNotFound) {
			return ok(204, "deleted team %s", p.Team)
		}
	case KindProjectLink:
		if _, err = api.AddProjectTeam(ctx, p.Project, p.Team); err == nil {
			return ok(201, "linked %s to %s", p.Project, p.Team)
		}
	case KindProjectUnlink:
		if _, err = api.RemoveProjectTeam(ctx, p.Project, p.Team); err == nil {
			return ok(200, "unlinked %s from %s", p.Project, p.Team)
		}
	case KindTeamAdd:
		var res sentry.JoinResult
		if res, err = api.AddMemberToTeam(ctx, p.Member, p.Team); err == nil {
			switch res {
			case sentry.JoinAlreadyMember:
				return ok(204, "member %s already on %s", p.Member, p.Team)
			case sentry.JoinRequested:
				return Outcome{}, &ExecError{Status: 202, Message: "Sentry created an access request instead of adding the member: the credential may not add members to this team"}
			}
			return ok(201, "added member %s to %s", p.Member, p.Team)
		}
	case KindTeamRemove:
		if err = api.RemoveMemberFromTeam(ctx, p.Member, p.Team); err == nil {
			return ok(200, "removed member %s from %s", p.Member, p.Team)
		}
	case KindTeamRole:
		var stored *string
		if stored, err = api.SetTeamRole(ctx, p.Member, p.Team, p.Role); err == nil {
			if stored == nil {
				return ok(200, "team role %s is the member's minimum: Sentry stored null", p.Role)
			}
			return ok(200, "team role on %s set to %s", p.Team, *stored)
		}
	case KindOrgRole:
		if _, err = api.SetOrgRole(ctx, p.Member, p.Role); err == nil {
			return ok(200, "org role set to %s", p.Role)
		}
	case KindMemberRemove:
		// DELETE of the organization member removes a member and cancels
		// an invite alike; one already gone is the state asked for.
		id := p.Member
		if id == "" { // the revert of an invite whose member id was not recorded
			var found bool
			if id, found, err = memberIDByEmail(ctx, api, p.Email); err != nil {
				return Outcome{}, execError(err)
			} else if !found {
				return ok(204, "%s is no longer a member or invited", p.Email)
			}
		}
		if err = api.DeleteMember(ctx, id); err == nil || errors.Is(err, sentry.ErrNotFound) {
			return ok(204, "removed member %s", cmpOr(p.Email, id))
		}
	case KindMemberInvite:
		var m *sentry.Member
		if m, err = api.InviteMember(ctx, sentry.Invite{Email: p.Email, OrgRole: p.Role, SendInvite: true}); err == nil {
			return Outcome{Status: 201, Result: fmt.Sprintf("invited %s as member %s", p.Email, m.ID), Member: m.ID}, nil
		}
	case KindEndDate:
		// Nothing changes in Sentry now: the grant takes the access away
		// at the expiry.
		return ok(200, "nothing changed now; taken away at the expiry")
	case KindAccessRequestApprove, KindAccessRequestDeny:
		approve := st.Kind == KindAccessRequestApprove
		if err = api.ResolveAccessRequest(ctx, p.AccessRequest, approve); err == nil {
			return ok(204, "access request %s resolved (approved: %t)", p.AccessRequest, approve)
		}
	case KindSCIMUserCreate:
		var u *sentry.SCIMUser
		if u, err = api.CreateSCIMUser(ctx, p.Email, p.Role); err == nil {
			return ok(201, "provisioned %s as member %s", p.Email, u.ID)
		}
	case KindSCIMUserDeactivate:
		if err = api.DeactivateSCIMUser(ctx, p.Member); err == nil {
			return ok(204, "deactivated (deleted) member %s", p.Member)
		}
	case KindSCIMGroupCreate:
		var g *sentry.SCIMGroup
		if g, err = api.CreateSCIMGroup(ctx, p.Name); err == nil {
			return ok(201, "created group %s as team %s", p.Name, g.ID)
		}
	case KindSCIMGroupRename:
		if err = api.RenameSCIMGroup(ctx, p.TeamID, p.Name); err == nil {
			return ok(204, "renamed group %s to %s", p.TeamID, p.Name)
		}
	case KindSCIMGroupMembers:
		if len(p.Add) > 0 {
			err = api.AddSCIMGroupMembers(ctx, p.TeamID, p.Add...)
		}
		if err == nil && len(p.Remove) > 0 {
			err = api.RemoveSCIMGroupMembers(ctx, p.TeamID, p.Remove...)
		}
		if err == nil {
			return ok(204, "group %s: +%d -%d members", p.TeamID, len(p.Add), len(p.Remove))
		}
	default:
		return Outcome{}, &ExecError{Message: msgUnknownKind}
	}
	return Outcome{}, execError(err)
}

// memberIDByEmail finds the member (or invite) with email.
func memberIDByEmail(ctx context.Context, api SentryAPI, email string) (string, bool, error) {
	ms, err := api.ListMembers(ctx, sentry.MemberQuery{Email: email})
	if err != nil {
		return "", false, err
	}
	for _, m := range ms {
		if strings.EqualFold(m.Email, email) {
			return m.ID, true, nil
		}
	}
	return "", false, nil
}

// execError turns a client error into an *ExecError; transport errors are
// returned as they are (classify treats network errors as retryable).
func execError(err error) error {
	var ae *sentry.APIError
	if errors.As(err, &ae) {
		msg := ae.Detail
		if msg == "" {
			msg = ae.Error()
		}
		return &ExecError{Status: ae.Status, Message: msg, Retryable: ae.Status == 429 || ae.Status >= 500, Err: err}
	}
	return err
}

// Verify implements Executor: it reads Sentry's state to tell whether the
// step's effect is there.
func (x SentryExecutor) Verify(ctx context.Context, st Step) (bool, error) {
	p := st.Params
	api := x.API
	switch st.Kind {
	case KindTeamCreate, KindTeamDelete:
		teams, err := api.ListTeams(ctx)
		if err != nil {
			return false, execError(err)
		}
		has := slices.ContainsFunc(teams, func(t sentry.Team) bool { return t.Slug == p.Team })
		return has == (st.Kind == KindTeamCreate), nil
	case KindProjectLink, KindProjectUnlink:
		teams, err := api.ProjectTeams(ctx, p.Project)
		if err != nil {
			return false, execError(err)
		}
		has := slices.ContainsFunc(teams, func(t sentry.Team) bool { return t.Slug == p.Team })
		return has == (st.Kind == KindProjectLink), nil
	case KindTeamAdd, KindTeamRemove, KindTeamRole:
		members, err := api.ListTeamMembers(ctx, p.Team)
		if err != nil {
			return false, execError(err)
		}
		i := slices.IndexFunc(members, func(m sentry.TeamMember) bool { return m.ID == p.Member })
		switch st.Kind {
		case KindTeamAdd:
			return i >= 0, nil
		case KindTeamRemove:
			return i < 0, nil
		}
		if i < 0 {
			return false, nil
		}
		m := members[i]
		if m.TeamRole != nil {
			return *m.TeamRole == p.Role, nil
		}
		// Stored null: the member holds the minimum of its org role.
		return teamRoleRank(p.Role) <= teamRoleRank(access.MinimumTeamRole(nil, m.OrgRole)), nil
	case KindEndDate:
		return true, nil
	case KindMemberRemove, KindOrgRole:
		if st.Kind == KindMemberRemove && p.Member == "" {
			_, found, err := memberIDByEmail(ctx, api, p.Email)
			if err != nil {
				return false, execError(err)
			}
			return !found, nil
		}
		m, err := api.Member(ctx, p.Member)
		if errors.Is(err, sentry.ErrNotFound) {
			return st.Kind == KindMemberRemove, nil
		}
		if err != nil {
			return false, execError(err)
		}
		return st.Kind == KindOrgRole && m.OrgRole == p.Role, nil
	case KindMemberInvite:
		ms, err := api.ListMembers(ctx, sentry.MemberQuery{Email: p.Email})
		if err != nil {
			return false, execError(err)
		}
		return slices.ContainsFunc(ms, func(m sentry.Member) bool { return strings.EqualFold(m.Email, p.Email) }), nil
	case KindAccessRequestApprove, KindAccessRequestDeny:
		rs, err := api.AccessRequests(ctx)
		if err != nil {
			return false, execError(err)
		}
		return !slices.ContainsFunc(rs, func(r sentry.AccessRequest) bool { return r.ID == p.AccessRequest }), nil
	case KindSCIMUserCreate:
		f, err := sentry.SCIMFilterEq("userName", p.Email)
		if err != nil {
			return false, err
		}
		for u, err := range api.SCIMUsers(ctx, f) {
			if err != nil {
				return false, execError(err)
			}
			if strings.EqualFold(u.UserName, p.Email) {
				return true, nil
			}
		}
		return false, nil
	case KindSCIMUserDeactivate:
		_, err := api.SCIMUser(ctx, p.Member)
		if errors.Is(err, sentry.ErrNotFound) {
			return true, nil
		}
		return false, execError(err)
	case KindSCIMGroupCreate:
		f, err := sentry.SCIMFilterEq("displayName", p.Name)
		if err != nil {
			return false, err
		}
		for _, err := range api.SCIMGroups(ctx, f, true) {
			if err != nil {
				return false, execError(err)
			}
			return true, nil
		}
		return false, nil
	case KindSCIMGroupRename, KindSCIMGroupMembers:
		g, err := api.SCIMGroup(ctx, p.TeamID)
		if err != nil {
			return false, execError(err)
		}
		if st.Kind == KindSCIMGroupRename {
			return g.DisplayName == p.Name, nil
		}
		in := func(id string) bool {
			return slices.ContainsFunc(g.Members, func(m sentry.SCIMGroupMember) bool { return m.Value == id })
		}
		for _, id := range p.Add {
			if !in(id) {
				return false, nil
			}
		}
		for _, id := range p.Remove {
			if in(id) {
				return false, nil
			}
		}
		return true, nil
	}
	return false, &ExecError{Message: msgUnknownKind}
}

// msgUnknownKind is what a step of a kind this version cannot carry out
// says (a request stored by another version of sentry-access).
const msgUnknownKind = "This version of sentry-access cannot carry out this kind of step. File the change again from the change form."

func teamRoleRank(role string) int {
	if role == "admin" {
		return 1
	}
	return 0
}
