package unapproved

import (
	"fmt"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// RevertSteps returns the change request steps that undo what f says was
// made outside sentry-access, against the current snapshot cur: the
// inverse of the change, or for a partial verdict the inverse of the part
// no request explains (the role set outside goes back to the approved
// one). Errors are EINVALID with the sentence saying why no request can
// revert it and what to do instead (an organization setting; a member
// or team that is gone).
func RevertSteps(f *Finding, cur *access.Snapshot) ([]changes.Step, error) {
	c := f.Change
	p := changes.Params{Member: c.Member, Email: c.Email, Team: c.Team, Project: c.Project}
	one := func(k changes.Kind, p changes.Params) []changes.Step { return []changes.Step{{Kind: k, Params: p}} }
	with := func(role string) changes.Params { q := p; q.Role = role; return q }
	present := func() (*access.Member, error) {
		m, ok := member(cur, c.Member)
		if !ok {
			return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "%s is no longer a member: there is nothing to revert.", c.who())
		}
		return m, nil
	}
	minimum := func(m *access.Member) string { return access.MinimumTeamRole(cur, m.OrgRole) }
	if f.Verdict == Partial {
		switch c.Kind {
		case KindTeamJoined, KindTeamRole:
			m, err := present()
			if err != nil {
				return nil, err
			}
			return one(changes.KindTeamRole, with(cmpRole(f.Approved, minimum(m)))), nil
		case KindOrgRole, KindMemberAdded:
			return one(changes.KindOrgRole, with(f.Approved)), nil
		}
	}
	switch c.Kind {
	case KindTeamJoined:
		return one(changes.KindTeamRemove, p), nil
	case KindTeamLeft:
		steps := one(changes.KindTeamAdd, p)
		if c.From != "" {
			steps = append(steps, changes.Step{Kind: changes.KindTeamRole, Params: with(c.From)})
		}
		return steps, nil
	case KindTeamRole:
		m, err := present()
		if err != nil {
			return nil, err
		}
		return one(changes.KindTeamRole, with(cmpRole(c.From, minimum(m)))), nil
	case KindOrgRole:
		return one(changes.KindOrgRole, with(c.From)), nil
	case KindProjectLinked:
		return one(changes.KindProjectUnlink, p), nil
	case KindProjectUnlinked:
		return one(changes.KindProjectLink, p), nil
	case KindMemberAdded:
		return one(changes.KindMemberRemove, p), nil
	case KindMemberRemoved:
		return one(changes.KindMemberInvite, changes.Params{Email: c.Email, Role: c.From}), nil
	case KindTeamRemoved:
		steps := one(changes.KindTeamCreate, changes.Params{Team: c.Team})
		for _, email := range c.Members {
			if m, ok := memberByEmail(cur, email); ok {
				steps = append(steps, changes.Step{Kind: changes.KindTeamAdd, Params: changes.Params{Member: m.ID, Team: c.Team}})
			}
		}
		for _, pr := range c.Projects {
			steps = append(steps, changes.Step{Kind: changes.KindProjectLink, Params: changes.Params{Team: c.Team, Project: pr}})
		}
		return steps, nil
	case KindSetting:
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "%s", f.RevertBlocked())
	case KindUndone:
		return redo(c), nil
	}
	return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "This change cannot be reverted through a change request.")
}

// redo is the step that puts an undone step's effect back.
func redo(c Change) []changes.Step {
	p := changes.Params{Member: c.Member, Email: c.Email, Team: c.Team, Project: c.Project}
	k := changes.Kind("")
	switch c.undoneBy().Kind {
	case KindTeamLeft:
		k = changes.KindTeamAdd
	case KindTeamJoined:
		k = changes.KindTeamRemove
	case KindProjectUnlinked:
		k = changes.KindProjectLink
	case KindProjectLinked:
		k = changes.KindProjectUnlink
	case KindTeamRole, KindOrgRole:
		k, p.Role = changes.KindTeamRole, c.From
		if c.Team == "" {
			k = changes.KindOrgRole
		}
	case KindMemberAdded:
		k = changes.KindMemberRemove
	case KindTeamRemoved:
		k = changes.KindTeamCreate
	case kindTeamCreated:
		k = changes.KindTeamDelete
	}
	return []changes.Step{{Kind: k, Params: p}}
}

func cmpRole(r, fallback string) string {
	if r == "" {
		return fallback
	}
	return r
}

func memberByEmail(s *access.Snapshot, email string) (*access.Member, bool) {
	for i := range s.Members {
		if strings.EqualFold(s.Members[i].Email, email) {
			return &s.Members[i], true
		}
	}
	return nil, false
}

// RevertBlocked says why no change request can revert f and what to do
// instead; "" when one can.
func (f *Finding) RevertBlocked() string {
	if f.Change.Kind == KindSetting {
		return fmt.Sprintf("sentry-access does not change organization settings: switch %s back %s in Sentry (Settings → Organization), then accept this change with a note saying so.",
			SettingLabel(f.Change.Setting), f.Change.From)
	}
	return ""
}
