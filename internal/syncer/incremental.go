package syncer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Incremental builds a new snapshot from the current one and what the audit
// log names since it was taken (with Options.AuditOverlap of overlap):
//
//   - member.* events: the member's detail is refetched (gone ⇒ removed),
//     and so are the member lists of the teams it was on, is on now, or the
//     entry names;
//   - team.* events: the team list, the member lists of new teams, and the
//     projects (their team slugs) are refetched;
//   - project.* and project-team.* events: the projects;
//   - sso.* events: the auth provider;
//   - sentry-app.*, internal-integration.*, integration.* events: the apps;
//   - the organization (settings and role lists) is always refetched;
//   - other events (alert rules, keys, monitors…) do not change access.
//
// It does a full sync instead, and says why in Result.Fallback, when there
// is no current snapshot, when the audit log cannot be read (it needs
// org:write: GET /organizations/{org}/audit-logs/ answers 403 otherwise,
// src/sentry/api/bases/organization.py OrganizationAuditPermission), or when
// an entry names a member it cannot place. Changes Sentry does not audit
// (a user's 2FA enrolment, last login) wait for the next full sync.
//
// When nothing changed it saves no snapshot and reports Unchanged.
func (s *Syncer) Incremental(ctx context.Context) (Result, error) {
	return s.IncrementalTouched(ctx, Touched{})
}

// Touched names objects a change made through sentry-access touched,
// which an incremental sync re-reads whatever the audit log says: a change
// Sentry does not audit (an IdP's SCIM PUT of a role), an entry not in the
// log yet, or a member known only by email (just invited or provisioned)
// is then in the next snapshot.
type Touched struct {
	// Members are member ids; Emails members found by email.
	Members []string
	Emails  []string
	// Teams are team slugs whose member lists are re-read.
	Teams []string
	// TeamList re-reads the team list and the projects (a team was
	// created, deleted or renamed); Projects the projects.
	TeamList bool
	Projects bool
}

// IncrementalTouched is Incremental that also re-reads what t names.
func (s *Syncer) IncrementalTouched(ctx context.Context, t Touched) (Result, error) {
	if !s.runMu.TryLock() {
		return Result{}, ErrBusy
	}
	defer s.runMu.Unlock()
	return s.run(ctx, store.KindIncremental, func(r *run) (*access.Snapshot, error) { return s.incremental(r, t) })
}

// addTouched adds what t names to p, finding members named by email.
func (s *Syncer) addTouched(ctx context.Context, p *plan, t Touched) error {
	for _, id := range t.Members {
		p.members[id] = true
	}
	for _, email := range t.Emails {
		for m, err := range s.src.Members(ctx, sentry.MemberQuery{Email: email}) {
			if err != nil {
				return fmt.Errorf("find member %s: %w", email, err)
			}
			if strings.EqualFold(m.Email, email) {
				p.members[m.ID] = true
			}
		}
	}
	for _, slug := range t.Teams {
		p.teams[slug] = true
	}
	p.teamList = p.teamList || t.TeamList
	p.projects = p.projects || t.Projects || t.TeamList
	return nil
}

// fallback turns the run into a full sync, saying why.
func (s *Syncer) fallback(r *run, reason string) (*access.Snapshot, error) {
	s.log.Info("incremental sync falls back to a full sync", slog.String("reason", reason))
	r.res.Fallback, r.baseID = reason, 0
	r.res.AuditRead, r.res.AuditAdded = 0, 0
	return s.full(r)
}

// plan is what an incremental run refetches.
type plan struct {
	members      map[string]bool // member ids
	teams        map[string]bool // team slugs whose member lists are refetched
	teamList     bool
	projects     bool
	apps         bool
	authProvider bool
}

func (s *Syncer) incremental(r *run, t Touched) (*access.Snapshot, error) {
	ctx := r.ctx
	r.res.Kind = store.KindIncremental
	baseMeta, base, err := s.st.CurrentSnapshot(ctx)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return s.fallback(r, "there is no previous snapshot")
	}
	if err != nil {
		return nil, err
	}
	r.baseID, r.highWater = baseMeta.ID, baseMeta.AuditHighWater

	r.setStage(StageAuditLog, 0)
	since := baseMeta.AuditHighWater
	if !since.IsZero() {
		since = since.Add(-s.opts.AuditOverlap)
	}
	rows, err := s.readAudit(r, since)
	switch {
	case ctx.Err() != nil:
		return nil, err
	case errors.Is(err, sentry.ErrForbidden):
		return s.fallback(r, "the audit log is not readable with this token (403: it needs org:write)")
	case err != nil:
		return s.fallback(r, fmt.Sprintf("the audit log could not be read: %v", err))
	}
	p, err := planFor(rows, base)
	if err != nil {
		return s.fallback(r, err.Error())
	}
	if err := s.addTouched(ctx, &p, t); err != nil {
		return nil, err
	}

	r.setStage(StageOrganization, 1)
	o, err := s.src.Organization(ctx)
	if err != nil {
		return nil, err
	}
	r.step(1)
	org, orgRoles, teamRoles, fields := mapOrg(o, nil)
	if p.authProvider {
		r.setStage(StageAuthProvider, 1)
		ap, err := s.src.AuthProvider(ctx)
		if err != nil {
			return nil, err
		}
		org, orgRoles, teamRoles, fields = mapOrg(o, ap)
		r.step(1)
	} else {
		// What the auth provider said last time still holds.
		org.HasAuthProvider = o.HasAuthProvider || base.Org.HasAuthProvider
		org.SCIMEnabled = base.Org.SCIMEnabled
		if !o.Has("requiresSso") {
			org.RequiresSSO = base.Org.RequiresSSO
		}
		for i, f := range fields {
			if prev, ok := base.Server.Field(f.Field); ok && (f.Field == "hasAuthProvider" || f.Field == "requiresSso") && !o.Has(f.Field) {
				fields[i] = prev
			}
		}
	}

	members := memberIndex(base.Members)
	baseTeams := map[string]bool{}
	for _, t := range base.Teams {
		baseTeams[t.Slug] = true
	}
	if err := s.refetchMembers(r, members, slices.Sorted(maps.Keys(p.members)), p.teams); err != nil {
		return nil, err
	}

	teams := base.Teams
	for slug := range p.teams {
		if !baseTeams[slug] {
			p.teamList, p.projects = true, true
		}
	}
	if p.teamList {
		r.setStage(StageTeams, 0)
		sTeams, err := s.src.ListTeams(ctx)
		if err != nil {
			return nil, err
		}
		teams = make([]access.Team, 0, len(sTeams))
		now := map[string]bool{}
		for _, t := range sTeams {
			teams = append(teams, mapTeam(t))
			now[t.Slug] = true
			if !baseTeams[t.Slug] {
				p.teams[t.Slug] = true
			}
		}
		r.step(len(teams))
		for slug := range baseTeams {
			if !now[slug] {
				setTeamMembers(members, slug, nil) // the team is gone
			}
		}
		for slug := range p.teams {
			if !now[slug] {
				delete(p.teams, slug)
			}
		}
	}

	slugs := slices.Sorted(maps.Keys(p.teams))
	lists, err := s.teamMembers(r, slugs)
	if errors.Is(err, sentry.ErrNotFound) && ctx.Err() == nil {
		return s.fallback(r, fmt.Sprintf("a team vanished during the sync: %v", err))
	}
	if err != nil {
		return nil, err
	}
	for _, slug := range slugs {
		unknown := setTeamMembers(members, slug, lists[slug])
		if len(unknown) == 0 {
			continue
		}
		// Members the audit log did not name (or not in this window).
		if err := s.refetchMembers(r, members, unknown, nil); err != nil {
			return nil, err
		}
		if still := setTeamMembers(members, slug, lists[slug]); len(still) > 0 {
			return s.fallback(r, fmt.Sprintf("team %s lists members %v that Sentry does not return", slug, still))
		}
	}

	projects := base.Projects
	if p.projects {
		r.setStage(StageProjects, 1)
		sProjects, err := s.src.Projects(ctx)
		if err != nil {
			return nil, err
		}
		projects = make([]access.Project, 0, len(sProjects))
		for _, pr := range sProjects {
			projects = append(projects, mapProject(pr))
		}
		r.step(1)
	}

	integrations := base.Integrations
	if p.apps {
		r.setStage(StageIntegrations, 1)
		apps, err := s.src.SentryApps(ctx)
		if err != nil {
			return nil, err
		}
		integrations = mapIntegrations(apps)
		r.step(1)
	}

	r.setStage(StageCaller, 1)
	idx, idxErr := s.readCaller(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.step(1)

	snap := assemble(org, orgRoles, teamRoles, members, teams, projects, integrations)
	snap.Server = serverInfo(s.opts.SentryURL, o, r.auditLog, fields)
	snap.Caller = actingIdentity(idx, idxErr, o, snap.Members, snap.Integrations)
	if r.highWater.Equal(baseMeta.AuditHighWater) && sameSnapshot(snap, base) {
		r.res.Unchanged, r.res.Snapshot = true, baseMeta
		return nil, nil
	}
	return snap, nil
}

// refetchMembers refetches each member's detail into members (removing
// those Sentry no longer has) and, when teams is not nil, adds to it the
// teams each member was on and is on now.
func (s *Syncer) refetchMembers(r *run, members map[string]*access.Member, ids []string, teams map[string]bool) error {
	if len(ids) == 0 {
		return nil
	}
	r.setStage(StageMembers, len(ids))
	for _, id := range ids {
		old := members[id]
		if teams != nil && old != nil {
			for _, ms := range old.Teams {
				teams[ms.Team] = true
			}
		}
		m, err := s.src.Member(r.ctx, id)
		switch {
		case errors.Is(err, sentry.ErrNotFound) && r.ctx.Err() == nil:
			delete(members, id)
		case err != nil:
			return err
		default:
			mm := mapMember(*m)
			if old != nil {
				mm.Teams = old.Teams // team lists decide memberships
			}
			members[id] = &mm
			if teams != nil {
				for _, tr := range m.TeamRoles {
					teams[tr.TeamSlug] = true
				}
				for _, slug := range m.Teams {
					teams[slug] = true
				}
			}
		}
		r.step(1)
	}
	return nil
}

// planFor decides what the audit rows make an incremental run refetch.
func planFor(rows []sentry.AuditLogEntry, base *access.Snapshot) (plan, error) {
	p := plan{members: map[string]bool{}, teams: map[string]bool{}}
	for _, e := range rows {
		data := decodeData(e.Data)
		switch ev := e.Event; {
		case strings.HasPrefix(ev, "member."):
			id := memberIDOf(e, data, base)
			if id == "" {
				return plan{}, fmt.Errorf("audit entry %s (%s) names no member this sync can place", e.ID, ev)
			}
			p.members[id] = true
			if slug := dataString(data, "team_slug", "teamSlug", "team"); slug != "" {
				p.teams[slug] = true
			}
		case strings.HasPrefix(ev, "team."):
			p.teamList, p.projects = true, true
			if slug := dataString(data, "slug"); slug != "" {
				p.teams[slug] = true
			}
		case strings.HasPrefix(ev, "project.") || strings.HasPrefix(ev, "project-team."):
			p.projects = true
		case ev == "sso-identity.link":
			if id := memberIDOf(e, data, base); id != "" {
				p.members[id] = true
			}
		case strings.HasPrefix(ev, "sso."):
			p.authProvider = true
		case strings.HasPrefix(ev, "sentry-app.") || strings.HasPrefix(ev, "internal-integration.") || strings.HasPrefix(ev, "integration."):
			p.apps = true
		}
	}
	return p, nil
}

// memberIDOf finds the member an entry is about: data's member_id, then
// (except for team-membership events, whose target object may be the
// membership row rather than the member) data's id and the target object,
// then the base member whose user is the target user or whose email is
// data's email.
func memberIDOf(e sentry.AuditLogEntry, data map[string]any, base *access.Snapshot) string {
	if id := dataString(data, "member_id", "memberId"); id != "" {
		return id
	}
	if e.Event != "member.join-team" && e.Event != "member.leave-team" {
		if id := dataString(data, "id"); id != "" {
			return id
		}
		if e.TargetObject != nil {
			return strconv.FormatInt(*e.TargetObject, 10)
		}
	}
	var userID, email string
	if tu := e.TargetUser; tu != nil {
		userID, email = tu.ID, tu.Email
	}
	email = cmp.Or(email, dataString(data, "email"))
	for _, m := range base.Members {
		if (userID != "" && m.UserID == userID) || (email != "" && strings.EqualFold(m.Email, email)) {
			return m.ID
		}
	}
	return ""
}

// decodeData decodes an entry's data object; anything else gives nil.
func decodeData(raw json.RawMessage) map[string]any {
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil
	}
	return out
}

// dataString returns the first of keys present in data as a string
// (numbers in decimal).
func dataString(data map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := data[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case json.Number:
			return v.String()
		}
	}
	return ""
}

// sameSnapshot reports whether two snapshots hold the same data, compared
// through their JSON form (which is how the store keeps them).
func sameSnapshot(a, b *access.Snapshot) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
