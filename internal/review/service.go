package review

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Repo persists campaigns, their items and evidence packages. Every method
// is one transaction. Implemented with bbolt by store.ReviewRepo.
type Repo interface {
	// CreateCampaign stores c with items, assigning c.ID (an increasing
	// decimal sequence). Item IDs are set by the caller.
	CreateCampaign(ctx context.Context, c *Campaign, items []Item) error
	// Campaign returns the campaign with id, or an ENOTFOUND error.
	Campaign(ctx context.Context, id string) (*Campaign, error)
	// Campaigns returns every campaign, newest first.
	Campaigns(ctx context.Context) ([]Campaign, error)
	// Items returns the campaign's items in ID order.
	Items(ctx context.Context, id string) ([]Item, error)
	// UpdateCampaign reads the campaign and its items, calls fn and, if fn
	// returns no error, writes back the campaign and every item fn changed.
	// Errors: ENOTFOUND, or fn's error unchanged.
	UpdateCampaign(ctx context.Context, id string, fn func(c *Campaign, items []Item) error) (*Campaign, []Item, error)
	// PutEvidence stores the campaign's evidence package.
	PutEvidence(ctx context.Context, id string, zip []byte) error
	// Evidence returns the stored evidence package, or ENOTFOUND.
	Evidence(ctx context.Context, id string) ([]byte, error)
}

// Snapshots gives the snapshot a campaign freezes.
type Snapshots interface {
	// CurrentSnapshot returns the newest snapshot and its id.
	CurrentSnapshot(ctx context.Context) (id uint64, snap *access.Snapshot, err error)
}

// SnapshotIDs is what Snapshots may also do: say the newest snapshot's id
// without decoding it. With it, Teams reads a snapshot once per id (at
// 10,000 members, copying the snapshot for the scope picker on every view
// of the reviews page was most of its cost).
type SnapshotIDs interface {
	CurrentSnapshotID(ctx context.Context) (uint64, error)
}

// ChangeRequester creates change requests (*changes.Service).
type ChangeRequester interface {
	Create(ctx context.Context, actor sentryaccess.Actor, in changes.NewRequest) (*changes.Request, error)
}

// SourceAccessReview marks change requests made by closing a campaign.
const SourceAccessReview changes.Source = "access-review"

// Config wires a Service. Repo and Snapshots are required; without Changes
// a campaign with revocations cannot close.
type Config struct {
	Repo      Repo
	Snapshots Snapshots
	Changes   ChangeRequester
	Now       func() time.Time
	Logger    *slog.Logger
	// DueSoon is how close to its due date a campaign's reminders turn
	// urgent (default three days).
	DueSoon time.Duration
	// Outside returns the changes made outside sentry-access a campaign
	// closing at the given time records in its evidence; nil records none.
	Outside func(ctx context.Context, at time.Time) ([]OutsideChange, error)
}

// Service runs access reviews.
type Service struct {
	repo    Repo
	snaps   Snapshots
	changes ChangeRequester
	now     func() time.Time
	log     *slog.Logger
	dueSoon time.Duration
	outside func(ctx context.Context, at time.Time) ([]OutsideChange, error)

	// teams are the team slugs of snapshot teamsOf, for Teams.
	teamsMu sync.Mutex
	teamsOf uint64
	teams   []string
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{repo: cfg.Repo, snaps: cfg.Snapshots, changes: cfg.Changes, now: cfg.Now, log: cfg.Logger, dueSoon: cfg.DueSoon, outside: cfg.Outside}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.dueSoon <= 0 {
		s.dueSoon = 72 * time.Hour
	}
	return s
}

// NewCampaign is what a campaign creator submits.
type NewCampaign struct {
	Name  string
	Scope Scope
	Due   time.Time
}

// Create starts a campaign: it freezes the current snapshot and lists the
// scope's items with their context. Only approvers and admins create
// campaigns. Errors are EFORBIDDEN or EINVALID (unknown scope or team,
// due date not in the future, no snapshot yet).
func (s *Service) Create(ctx context.Context, actor sentryaccess.Actor, in NewCampaign) (*Campaign, error) {
	if actor.Role != sentryaccess.RoleApprover && actor.Role != sentryaccess.RoleAdmin {
		return nil, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Only approvers and admins start access reviews")
	}
	if err := in.Scope.Validate(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "A campaign needs a name")
	}
	if !in.Due.After(now) {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The due date must be in the future")
	}
	snapID, snap, err := s.snaps.CurrentSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("create campaign: snapshot: %w", err)
	}
	if snap == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "No snapshot yet: run a sync first")
	}
	items, admins, err := BuildItems(snap, in.Scope)
	if err != nil {
		return nil, err
	}
	c := &Campaign{
		Name: name, Scope: in.Scope, Org: snap.Org.Slug, SnapshotID: snapID, Due: in.Due.UTC(),
		CreatedBy: actor.Email, CreatedAt: now, State: StateOpen, TeamAdmins: admins,
	}
	if err := s.repo.CreateCampaign(ctx, c, items); err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	s.log.InfoContext(ctx, "access review started", "campaign", c.ID, "scope", string(c.Scope), "items", len(items), "by", actor.Email)
	return c, nil
}

// privileged reports whether an org role is privileged: global access,
// any of org:write, org:admin, member:write, member:admin (Sentry's manager
// and owner roles; src/sentry/conf/server.py SENTRY_ROLES), or the retired
// legacy admin role (is_retired in SENTRY_ROLES: it keeps team:admin,
// project:admin and org:integrations, and a member can still hold it
// though no one can be given it any more).
func privileged(r access.OrgRole) bool {
	if r.IsGlobal || r.IsRetired || r.ID == access.RoleAdmin {
		return true
	}
	for _, sc := range r.Scopes {
		switch sc {
		case "org:write", "org:admin", "member:write", "member:admin":
			return true
		}
	}
	return false
}

// BuildItems lists the items of scope in snap, sorted (members by email,
// then team), with IDs "1", "2", …, and the admins of every team involved.
// An unknown team is EINVALID.
func BuildItems(snap *access.Snapshot, scope Scope) ([]Item, map[string][]string, error) {
	e := access.New(snap)
	team, isTeam := scope.Team()
	if isTeam && !slices.ContainsFunc(snap.Teams, func(t access.Team) bool { return t.Slug == team }) {
		return nil, nil, sentryaccess.Errorf(sentryaccess.EINVALID, "No team %q in the snapshot", team)
	}
	roles := map[string]access.OrgRole{}
	for _, r := range e.OrgRoles() {
		roles[r.ID] = r
	}
	topTeamRole := ""
	if tr := e.TeamRoles(); len(tr) > 0 {
		topTeamRole = tr[len(tr)-1].ID
	}
	reach := map[string]access.MemberReach{}
	for _, r := range e.Stats().Reach {
		reach[r.ID] = r
	}
	var items []Item
	admins := map[string][]string{}
	members := slices.Clone(snap.Members)
	slices.SortFunc(members, func(a, b access.Member) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)), cmp.Compare(a.ID, b.ID))
	})
	for _, m := range members {
		ma, err := e.Member(m.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("build items: %w", err)
		}
		ctx := memberContext(snap, m, reach[m.ID])
		base := Item{MemberID: m.ID, MemberEmail: m.Email, MemberName: m.Name, OrgRole: m.OrgRole, Context: ctx}
		teams := slices.Clone(ma.Teams)
		slices.SortFunc(teams, func(a, b access.TeamAccess) int { return cmp.Compare(a.Slug, b.Slug) })
		for _, ta := range teams {
			if m.State == access.StateActive && ta.EffectiveRole != "" && ta.EffectiveRole == topTeamRole {
				admins[ta.Slug] = append(admins[ta.Slug], strings.ToLower(m.Email))
			}
		}
		switch {
		case scope == ScopeOrg:
			it := base
			it.Kind = KindOrgMembership
			items = append(items, it)
			items = append(items, teamItems(base, teams, "")...)
		case isTeam:
			items = append(items, teamItems(base, teams, team)...)
		case scope == ScopePrivileged:
			if r, ok := roles[m.OrgRole]; ok && privileged(r) && m.State == access.StateActive {
				it := base
				it.Kind = KindOrgRole
				it.Scopes = slices.Clone(ma.OrgScopes)
				items = append(items, it)
			}
		}
	}
	if scope == ScopeIntegrations {
		ins := slices.Clone(snap.Integrations)
		slices.SortFunc(ins, func(a, b access.Integration) int { return cmp.Compare(a.Slug, b.Slug) })
		for _, in := range ins {
			sc := slices.Clone(in.Scopes)
			slices.Sort(sc)
			items = append(items, Item{Kind: KindIntegration, Integration: in.Slug, MemberName: in.Name, Scopes: sc,
				Context: ItemContext{Projects: len(snap.Projects), Global: true, Risks: []string{"reaches every project"}}})
		}
	}
	for i := range items {
		items[i].ID = strconv.Itoa(i + 1)
	}
	// Keep only the admins of the teams the items name.
	keep := map[string][]string{}
	for _, it := range items {
		if it.Kind == KindTeamMembership {
			if a, ok := admins[it.Team]; ok {
				keep[it.Team] = a
			}
		}
	}
	return items, keep, nil
}

func teamItems(base Item, teams []access.TeamAccess, only string) []Item {
	var out []Item
	for _, ta := range teams {
		if only != "" && ta.Slug != only {
			continue
		}
		it := base
		it.Kind = KindTeamMembership
		it.Team = ta.Slug
		it.TeamRole = ta.EffectiveRole
		if it.TeamRole == "" {
			it.TeamRole = "none"
		}
		out = append(out, it)
	}
	return out
}

// memberContext freezes what a reviewer sees beside a member's items.
func memberContext(snap *access.Snapshot, m access.Member, r access.MemberReach) ItemContext {
	c := ItemContext{
		MemberState: string(m.State), LastLogin: m.LastLogin, LastActive: m.LastActive,
		Projects: r.Projects, Global: r.Global,
		SSOLinked: m.Flags.SSOLinked, SSOInvalid: m.Flags.SSOInvalid, SCIMProvisioned: m.Flags.IDPProvisioned,
		Has2FA: m.Has2FA,
	}
	if m.State != access.StateActive {
		c.Risks = append(c.Risks, "invite "+string(m.State))
	}
	if snap.Org.HasAuthProvider && (!m.Flags.SSOLinked || m.Flags.SSOInvalid) {
		c.Risks = append(c.Risks, "no valid SSO link")
	}
	if m.State == access.StateActive && !m.Has2FA {
		c.Risks = append(c.Risks, "no 2FA")
	}
	if r.Global {
		c.Risks = append(c.Risks, "global access")
	}
	if m.State == access.StateActive && m.LastActive == nil && m.LastLogin == nil {
		c.Risks = append(c.Risks, "no recorded activity")
	}
	return c
}

// Get returns a campaign and its items.
func (s *Service) Get(ctx context.Context, id string) (*Campaign, []Item, error) {
	c, err := s.repo.Campaign(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("get campaign %s: %w", id, err)
	}
	items, err := s.repo.Items(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("get campaign %s: %w", id, err)
	}
	return c, items, nil
}

// closes reports whether actor's role closes campaigns and downloads their
// evidence: approvers and admins.
func closes(actor sentryaccess.Actor) bool {
	return actor.Role == sentryaccess.RoleApprover || actor.Role == sentryaccess.RoleAdmin
}

// ItemView is one item of a campaign as one actor sees it: whether she may
// decide on it (CanReview) and, when not, why.
type ItemView struct {
	Item      Item
	CanReview bool
	Why       string
}

// Detail is one campaign as one actor sees it, with what she may do.
type Detail struct {
	Campaign Campaign
	Progress Progress
	// Items are every item or, for "mine", only the open ones she may
	// decide on.
	Items []ItemView
	// Reviewable counts the open items she may decide on.
	Reviewable int
	Overdue    bool
	// CanClose: her role closes campaigns (Close) and this one is open.
	CanClose bool
	// CanDownload: her role downloads evidence and the campaign is closed
	// (the package is built on close).
	CanDownload bool
}

// Detail returns campaign id as actor sees it; mine keeps only the open
// items she may decide on. Errors are ENOTFOUND or the repository's.
func (s *Service) Detail(ctx context.Context, actor sentryaccess.Actor, id string, mine bool) (Detail, error) {
	c, items, err := s.Get(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Campaign: *c, Progress: ProgressOf(items), Overdue: c.Overdue(s.now())}
	for _, it := range items {
		ok, why := CanReview(actor, c, it)
		open := ok && it.Decision == DecisionNone
		if open {
			d.Reviewable++
		}
		if mine && !open {
			continue
		}
		d.Items = append(d.Items, ItemView{Item: it, CanReview: ok, Why: why})
	}
	d.CanClose = closes(actor) && c.State == StateOpen
	d.CanDownload = closes(actor) && c.State == StateClosed
	return d, nil
}

// Summary is a campaign with its progress, for lists.
type Summary struct {
	Campaign Campaign
	Progress Progress
}

// List returns every campaign with its progress, newest first.
func (s *Service) List(ctx context.Context) ([]Summary, error) {
	cs, err := s.repo.Campaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]Summary, 0, len(cs))
	for _, c := range cs {
		items, err := s.repo.Items(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		out = append(out, Summary{Campaign: c, Progress: ProgressOf(items)})
	}
	return out, nil
}

// DecisionInput is one decision on one or more items of a campaign.
// Decision "" with a Comment records a comment only.
type DecisionInput struct {
	ItemIDs  []string
	Decision Decision
	Comment  string
}

// Decide records a decision on every listed item (bulk when there are
// several). It is all or nothing: if the actor may not review any one
// item, nothing changes. A revocation needs a comment (the reason goes in
// the evidence). Errors are ENOTFOUND, EFORBIDDEN, EINVALID, or
// ECONFLICT when the campaign is closed.
func (s *Service) Decide(ctx context.Context, actor sentryaccess.Actor, campaignID string, in DecisionInput) ([]Item, error) {
	switch in.Decision {
	case DecisionNone, DecisionCertify, DecisionRevoke:
	default:
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Unknown decision %q", in.Decision)
	}
	comment := strings.TrimSpace(in.Comment)
	if in.Decision == DecisionNone && comment == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Write a comment")
	}
	if in.Decision == DecisionRevoke && comment == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "A revocation needs a reason in the comment")
	}
	if len(in.ItemIDs) == 0 {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Select at least one item")
	}
	now := s.now().UTC()
	var changed []Item
	_, _, err := s.repo.UpdateCampaign(ctx, campaignID, func(c *Campaign, items []Item) error {
		if c.State != StateOpen {
			return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Campaign %s is closed", c.ID)
		}
		index := make(map[string]int, len(items))
		for i, it := range items {
			index[it.ID] = i
		}
		for _, id := range in.ItemIDs {
			i, ok := index[id]
			if !ok {
				return fmt.Errorf("campaign %s has no item %s: %w", c.ID, id, sentryaccess.Errorf(sentryaccess.ENOTFOUND, ""))
			}
			if ok, why := CanReview(actor, c, items[i]); !ok {
				return sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Item %s (%s): %s", id, items[i].Describe(), why)
			}
		}
		for _, id := range in.ItemIDs {
			it := &items[index[id]]
			if in.Decision != DecisionNone {
				it.Decision = in.Decision
				it.Reviewer = strings.ToLower(actor.Email)
				t := now
				it.DecidedAt = &t
			}
			if comment != "" {
				it.Comment = comment
			}
			changed = append(changed, *it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("decide in campaign %s: %w", campaignID, err)
	}
	return changed, nil
}

// Reviewable returns the IDs of the open items actor may decide on.
func Reviewable(actor sentryaccess.Actor, c *Campaign, items []Item) []string {
	var ids []string
	for _, it := range items {
		if it.Decision != DecisionNone {
			continue
		}
		if ok, _ := CanReview(actor, c, it); ok {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// Reminder tells a reviewer about open items in a campaign.
type Reminder struct {
	CampaignID string
	Name       string
	Due        time.Time
	Open       int
	// Overdue reports whether the due date has passed; DueSoon whether it
	// is within the service's DueSoon window.
	Overdue bool
	DueSoon bool
}

// Reminders returns, for every open campaign where actor has open items to
// review, how many and how urgent, soonest due first.
func (s *Service) Reminders(ctx context.Context, actor sentryaccess.Actor) ([]Reminder, error) {
	cs, err := s.repo.Campaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("reminders: %w", err)
	}
	now := s.now()
	var out []Reminder
	for i := range cs {
		c := &cs[i]
		if c.State != StateOpen {
			continue
		}
		items, err := s.repo.Items(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("reminders: %w", err)
		}
		n := len(Reviewable(actor, c, items))
		if n == 0 {
			continue
		}
		out = append(out, Reminder{CampaignID: c.ID, Name: c.Name, Due: c.Due, Open: n,
			Overdue: c.Overdue(now), DueSoon: !c.Overdue(now) && c.Due.Sub(now) <= s.dueSoon})
	}
	slices.SortStableFunc(out, func(a, b Reminder) int { return a.Due.Compare(b.Due) })
	return out, nil
}

// RevocationSteps turns the revoked items into change-request steps, in item
// order: team-membership → team-remove, org-role → org-role "member",
// org-membership → member-remove. Integrations have no step; they are
// returned as manual follow-ups.
func RevocationSteps(items []Item) (steps []changes.Step, manual []string) {
	for _, it := range items {
		if it.Decision != DecisionRevoke {
			continue
		}
		p := changes.Params{Member: it.MemberID, Email: it.MemberEmail}
		switch it.Kind {
		case KindTeamMembership:
			p.Team = it.Team
			steps = append(steps, changes.Step{Kind: changes.KindTeamRemove, Params: p})
		case KindOrgRole:
			p.Role = "member"
			steps = append(steps, changes.Step{Kind: changes.KindOrgRole, Params: p})
		case KindOrgMembership:
			steps = append(steps, changes.Step{Kind: changes.KindMemberRemove, Params: p})
		case KindIntegration:
			manual = append(manual, "revoke internal integration "+it.Integration+" in Sentry (Settings → Custom Integrations)")
		}
	}
	// A member removed from the org need not also leave teams or change role.
	removed := map[string]bool{}
	for _, st := range steps {
		if st.Kind == changes.KindMemberRemove {
			removed[st.Params.Member] = true
		}
	}
	steps = slices.DeleteFunc(steps, func(st changes.Step) bool {
		return st.Kind != changes.KindMemberRemove && removed[st.Params.Member]
	})
	for i := range steps {
		steps[i].Index = i
	}
	return steps, manual
}

// Close ends a campaign. Revocations become ONE change request for the
// whole campaign (so approvers see the review's outcome together and the
// evidence names a single request); it is created first, and if that fails
// (for example its preview would remove the last owner) the campaign stays
// open and the error says why. Then the campaign is closed and its evidence
// package built and stored. Undecided items are reported as "not reviewed"
// in the evidence. Only approvers and admins close campaigns.
func (s *Service) Close(ctx context.Context, actor sentryaccess.Actor, id string) (*Campaign, error) {
	if !closes(actor) {
		return nil, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Only approvers and admins close access reviews")
	}
	c, items, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.State != StateOpen {
		return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "Campaign %s is already closed", id)
	}
	steps, manual := RevocationSteps(items)
	reqID := ""
	if len(steps) > 0 {
		if s.changes == nil {
			return nil, fmt.Errorf("close campaign %s: no change-request service configured", id)
		}
		p := ProgressOf(items)
		r, err := s.changes.Create(ctx, actor, changes.NewRequest{
			Title: fmt.Sprintf("Access review %q: %d revocation(s)", c.Name, len(steps)),
			Justification: fmt.Sprintf("Revoked in access review %s (%s, snapshot %d): %d of %d items revoked.",
				c.ID, c.Scope.Label(), c.SnapshotID, p.Revoked, p.Total),
			Steps:  steps,
			Source: SourceAccessReview,
		})
		if err != nil {
			// The changes service's error carries the code and the reason.
			return nil, fmt.Errorf("close campaign %s: the change request for the revocations was refused: %w", id, err)
		}
		reqID = r.ID
	}
	now := s.now().UTC()
	var outside []OutsideChange
	if s.outside != nil {
		if outside, err = s.outside(ctx, now); err != nil {
			return nil, fmt.Errorf("close campaign %s: changes made outside sentry-access: %w", id, err)
		}
	}
	closed, items, err := s.repo.UpdateCampaign(ctx, id, func(c *Campaign, _ []Item) error {
		if c.State != StateOpen {
			return sentryaccess.Errorf(sentryaccess.ECONFLICT, "Campaign %s is already closed", id)
		}
		c.State, c.ClosedBy, c.ClosedAt = StateClosed, actor.Email, &now
		c.ChangeRequestID, c.ManualFollowUp, c.OutsideChanges = reqID, manual, outside
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("close campaign %s: %w", id, err)
	}
	zip, err := Evidence(closed, items)
	if err != nil {
		return nil, fmt.Errorf("close campaign %s: %w", id, err)
	}
	if err := s.repo.PutEvidence(ctx, id, zip); err != nil {
		return nil, fmt.Errorf("close campaign %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "access review closed", "campaign", id, "change_request", reqID, "by", actor.Email)
	return closed, nil
}

// EvidenceZip returns the stored evidence package of a closed campaign.
func (s *Service) EvidenceZip(ctx context.Context, id string) ([]byte, error) {
	c, err := s.repo.Campaign(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("evidence %s: %w", id, err)
	}
	if c.State != StateClosed {
		return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "Campaign %s is still open; close it to produce evidence", id)
	}
	b, err := s.repo.Evidence(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("evidence %s: %w", id, err)
	}
	return b, nil
}

// Teams returns the team slugs of the current snapshot, sorted, for the
// scope picker. The slice is shared between callers and must not be
// modified.
func (s *Service) Teams(ctx context.Context) ([]string, error) {
	s.teamsMu.Lock()
	defer s.teamsMu.Unlock()
	if ids, ok := s.snaps.(SnapshotIDs); ok && s.teams != nil {
		if id, err := ids.CurrentSnapshotID(ctx); err == nil && id == s.teamsOf {
			return s.teams, nil
		}
	}
	id, snap, err := s.snaps.CurrentSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	if snap == nil {
		return nil, nil
	}
	out := make([]string, 0, len(snap.Teams))
	for _, t := range snap.Teams {
		out = append(out, t.Slug)
	}
	slices.Sort(out)
	s.teamsOf, s.teams = id, out
	return out, nil
}

// SnapshotFunc adapts a function to Snapshots, e.g. over
// store.CurrentSnapshot:
//
//	review.SnapshotFunc(func(ctx context.Context) (uint64, *access.Snapshot, error) {
//		m, s, err := st.CurrentSnapshot(ctx)
//		return m.ID, s, err
//	})
type SnapshotFunc func(ctx context.Context) (uint64, *access.Snapshot, error)

// CurrentSnapshot calls f.
func (f SnapshotFunc) CurrentSnapshot(ctx context.Context) (uint64, *access.Snapshot, error) {
	return f(ctx)
}
