package changes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Config wires a Service. Repo, Snapshots, Previewer and Executor are
// required; the rest have defaults.
type Config struct {
	Repo      Repo
	Snapshots Snapshots
	Previewer Previewer
	Executor  Executor
	Policy    Policy // zero: DefaultPolicy()
	Now       func() time.Time
	// Sleep waits between retries; it returns ctx.Err() if ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// Resync is called after a request is applied with what it touched;
	// the lead wires it to the syncer. Its error is logged, not returned.
	Resync func(ctx context.Context, t Touched) error
	// MaxAttempts bounds the Sentry calls per step in one apply run
	// (default 4); Backoff is the first wait, doubled each retry (default 1s).
	MaxAttempts int
	Backoff     time.Duration
	Logger      *slog.Logger
	// AccessRequests lists Sentry's own access requests for the inbox;
	// optional (the Sentry client).
	AccessRequests AccessRequestLister
	// Created, when set, is told of every request stored as awaiting
	// approval (the dashboard sends webhooks from it); it must not block.
	Created func(ctx context.Context, r *Request)
	// Finished, when set, is told of every request that ends applied,
	// partially failed, failed or denied, once, right after the state is
	// stored (the dashboard sends webhooks from it); it must not block.
	Finished func(ctx context.Context, r *Request)
	// Approvers is what the dashboard knows of its approvers (those who
	// signed in with a deciding role); optional. With it, request pages
	// and the inbox say when no remaining approver can approve.
	Approvers ApproverDirectory
	// Background runs work that outlives the call that starts it: the
	// apply after a request's last approval. Nil runs it on a new
	// goroutine; tests run it inline, or hold it.
	Background func(fn func())
}

// Service runs change requests: create with preview, approve and deny under
// the policy, apply crash-safely, revoke expired grants.
type Service struct {
	repo    Repo
	snaps   Snapshots
	preview Previewer
	exec    Executor
	policy  Policy
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	resync  func(context.Context, Touched) error
	maxAtt  int
	backoff time.Duration
	log     *slog.Logger
	// accessReqs lists Sentry's access requests; nil disables the inbox.
	accessReqs AccessRequestLister
	created    func(context.Context, *Request)
	finished   func(context.Context, *Request)
	background func(fn func())
	approvers  ApproverDirectory

	mu       sync.Mutex
	applying map[string]bool // request ids being applied by this process

	index indexCache // the current snapshot's choices and members by email
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{
		repo: cfg.Repo, snaps: cfg.Snapshots, preview: cfg.Previewer, exec: cfg.Executor,
		policy: cfg.Policy, now: cfg.Now, sleep: cfg.Sleep, resync: cfg.Resync,
		maxAtt: cfg.MaxAttempts, backoff: cfg.Backoff, log: cfg.Logger,
		applying: map[string]bool{}, accessReqs: cfg.AccessRequests, created: cfg.Created, finished: cfg.Finished,
		background: cfg.Background, approvers: cfg.Approvers,
	}
	if s.background == nil {
		s.background = func(fn func()) { go fn() }
	}
	if s.policy.DefaultApprovals == 0 && len(s.policy.ApproverRoles) == 0 {
		s.policy = DefaultPolicy()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if s.maxAtt <= 0 {
		s.maxAtt = 4
	}
	if s.backoff <= 0 {
		s.backoff = time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Policy returns the approval policy in force.
func (s *Service) Policy() Policy { return s.policy }

// NewRequest is what a requester submits.
type NewRequest struct {
	Title         string
	Justification string
	Steps         []Step
	ExpiresAt     *time.Time
	Source        Source
	// ExtendsGrant makes this an extension of a grant to ExpiresAt.
	ExtendsGrant string
}

// Limits on a request's free text (a title is a heading on every page
// that lists the request).
const (
	MaxTitle         = 200
	MaxJustification = 4000
)

// Create validates and previews in, checks the policy and stores a request
// pending approval. Errors are EINVALID (bad steps, no justification,
// blocking violations, expiry in the past or on steps that cannot be
// undone) or EFORBIDDEN.
func (s *Service) Create(ctx context.Context, actor sentryaccess.Actor, in NewRequest) (*Request, error) {
	now := s.now().UTC()
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("create request: snapshot: %w", err)
	}
	if strings.TrimSpace(actor.Email) == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Requester has no email")
	}
	if len(in.Steps) == 0 && in.ExtendsGrant == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "A request needs at least one step")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Title)); n > MaxTitle {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The title has %d characters, at most %d are kept", n, MaxTitle)
	}
	if n := utf8.RuneCountInString(in.Justification); n > MaxJustification {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The justification has %d characters, at most %d are kept", n, MaxJustification)
	}
	steps := make([]Step, len(in.Steps))
	for i, st := range in.Steps {
		steps[i] = Step{Index: i, Kind: st.Kind, Params: st.Params, State: StepPending}
		if err := steps[i].Validate(); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(in.Justification) == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "A justification is required.")
	}
	fillPreviousRoles(snap, steps)
	fillMemberEmails(snap, steps)
	self, _ := memberByEmail(snap, actor.Email)
	if err := s.policy.CanRequest(actor, self.ID, steps); err != nil {
		return nil, err
	}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) {
			return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The expiry (%s) is not in the future: pick a later one.", in.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
		}
		for _, st := range steps {
			if msg := UntimedReason(snap, st); msg != "" {
				return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "%s", msg)
			}
		}
		t := in.ExpiresAt.UTC()
		in.ExpiresAt = &t
	}
	if in.ExpiresAt == nil {
		if i := slices.IndexFunc(steps, func(st Step) bool { return st.Kind == KindEndDate }); i >= 0 {
			return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Step %d puts an end date on existing access: pick when it ends (an expiry).", i+1)
		}
	}
	if in.ExtendsGrant != "" {
		if in.ExpiresAt == nil {
			return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "An extension needs a new expiry")
		}
		if err := s.checkExtension(ctx, actor, in.ExtendsGrant, *in.ExpiresAt); err != nil {
			return nil, err
		}
	}
	pv, err := s.preview.Preview(snap, steps)
	if err != nil {
		return nil, fmt.Errorf("create request: preview: %w", err)
	}
	pv.ComputedAt = now
	if b := pv.Blocking(); len(b) > 0 {
		return nil, blockingError(b)
	}
	if in.Source == "" {
		in.Source = SourceForm
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = describeSteps(steps)
	}
	r := &Request{
		Title: title, Requester: actor.Email, RequesterRole: actor.Role,
		Justification: in.Justification, Steps: steps, ExpiresAt: in.ExpiresAt,
		ExtendsGrant: in.ExtendsGrant, CreatedAt: now, UpdatedAt: now,
		State: StatePendingApproval, Source: in.Source,
		Required: s.policy.Required(steps, &pv), Preview: &pv,
	}
	rec := TrailRecord{At: now, Actor: actor.Email, Kind: TrailRequestCreated, After: summarize(r), Comment: in.Justification}
	if err := s.repo.CreateRequest(ctx, r, []TrailRecord{rec}); err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	if s.created != nil {
		s.created(ctx, r)
	}
	return r, nil
}

func blockingError(vs []Violation) error {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Message
		if v.Step >= 0 {
			msgs[i] = fmt.Sprintf("step %d: %s", v.Step+1, v.Message)
		}
	}
	msg := strings.Join(msgs, "; ")
	return sentryaccess.Errorf(sentryaccess.EINVALID, "%s%s", strings.ToUpper(msg[:1]), msg[1:])
}

// Get returns the request with id.
func (s *Service) Get(ctx context.Context, id string) (*Request, error) {
	r, err := s.repo.Request(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get request %s: %w", id, err)
	}
	return r, nil
}

// List returns requests matching f, newest first.
func (s *Service) List(ctx context.Context, f RequestFilter) ([]Request, error) {
	rs, err := s.repo.ListRequests(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return rs, nil
}

// PreviewNow recomputes r's preview against the current snapshot, as the
// request page shows it.
func (s *Service) PreviewNow(ctx context.Context, r *Request) (*Preview, error) {
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("preview request %s: snapshot: %w", r.ID, err)
	}
	d, err := s.draft(snap, r.Steps)
	if err != nil {
		return nil, fmt.Errorf("preview request %s: %w", r.ID, err)
	}
	return d.Preview, nil
}

// Approve records actor's approval of request id. When the request has as
// many distinct approvals as it requires it becomes approved, and Approve
// starts applying it in the background (Config.Background; Recover resumes
// an apply a crash interrupted) and returns the approved request.
// Approval is refused while the current preview has blocking violations.
// Errors are ENOTFOUND, EFORBIDDEN, ECONFLICT (not pending approval) or
// EINVALID.
func (s *Service) Approve(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*Request, error) {
	r, err := s.decide(ctx, actor, id, true, comment)
	if err != nil {
		return nil, err
	}
	if r.State == StateApproved {
		s.applyInBackground(ctx, r.ID)
	}
	return r, nil
}

// Deny records actor's denial of request id, which ends it. A comment is
// required.
func (s *Service) Deny(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*Request, error) {
	if strings.TrimSpace(comment) == "" {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "A denial needs a comment")
	}
	return s.decide(ctx, actor, id, false, comment)
}

// decide records actor's decision. Both an approval and a denial are
// checked against the preview on the current snapshot: nobody decides on
// a request that changes her own access now, and an approval is refused
// while Sentry would refuse the request. When the current preview's blast
// radius needs more approvals than the request asked for at creation, the
// request asks for them from now on.
func (s *Service) decide(ctx context.Context, actor sentryaccess.Actor, id string, approve bool, comment string) (*Request, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var live *Preview
	if cur.State == StatePendingApproval {
		if live, err = s.PreviewNow(ctx, cur); err != nil {
			return nil, err
		}
		if b := live.Blocking(); approve && len(b) > 0 {
			return nil, blockingError(b)
		}
	}
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("decide request %s: snapshot: %w", id, err)
	}
	self, _ := memberByEmail(snap, actor.Email)
	now := s.now().UTC()
	r, err := s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
		if r.State != StatePendingApproval {
			return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "Request %s is %s, not pending approval", r.ID, r.State)
		}
		if err := s.policy.CanDecide(actor, r, live); err != nil {
			return nil, err
		}
		if i := targetsMember(r.Steps, self.ID); i >= 0 {
			return nil, sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody decides on a change to their own access (step %d)", i+1)
		}
		before := r.State
		var recs []TrailRecord
		if need := s.policy.Required(r.Steps, live); need > r.Required {
			recs = append(recs, TrailRecord{At: now, Actor: SystemActor, Kind: TrailRequestState, RequestID: r.ID,
				Before: fmt.Sprintf("%d approval(s)", r.Required), After: fmt.Sprintf("%d approval(s)", need),
				Comment: "the preview on the current snapshot needs more approvals: " + s.policy.Sensitivity(r.Steps, live)})
			r.Required = need
		}
		r.Approvals = append(r.Approvals, Decision{Actor: actor.Email, Role: actor.Role, Approve: approve, Comment: comment, At: now})
		r.UpdatedAt = now
		kind := TrailRequestApproved
		if !approve {
			kind = TrailRequestDenied
			r.State = StateDenied
		} else if len(r.Approvers()) >= r.Required {
			r.State = StateApproved
			for i := range r.Steps {
				r.Steps[i].State = StepApproved
			}
		}
		return append(recs, TrailRecord{At: now, Actor: actor.Email, Kind: kind, RequestID: r.ID,
			Before: string(before), After: string(r.State), Comment: comment}), nil
	})
	if err != nil {
		return nil, fmt.Errorf("decide request %s: %w", id, err)
	}
	if r.State == StateDenied {
		s.tellFinished(ctx, r)
	}
	return r, nil
}

// tellFinished tells Config.Finished that r ended.
func (s *Service) tellFinished(ctx context.Context, r *Request) {
	if s.finished != nil {
		s.finished(ctx, r.Clone())
	}
}

// Cancel withdraws a request that is not yet being applied. Only the
// requester or an admin may cancel.
func (s *Service) Cancel(ctx context.Context, actor sentryaccess.Actor, id, comment string) (*Request, error) {
	now := s.now().UTC()
	r, err := s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
		if err := s.policy.CanCancel(actor, r); err != nil {
			return nil, err
		}
		before := r.State
		r.State, r.UpdatedAt = StateCancelled, now
		return []TrailRecord{{At: now, Actor: actor.Email, Kind: TrailRequestCancelled, RequestID: r.ID,
			Before: string(before), After: string(r.State), Comment: comment}}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("cancel request %s: %w", id, err)
	}
	return r, nil
}

// Trail returns the audit trail records matching f.
func (s *Service) Trail(ctx context.Context, f TrailFilter) ([]TrailRecord, error) {
	recs, err := s.repo.Trail(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("read trail: %w", err)
	}
	return recs, nil
}

// TrailSearch is a search of the audit trail: the records matching the
// filter in append order, how many records the whole trail holds, and
// Broken, the sentence saying where its hash chain breaks ("" when it
// verifies).
type TrailSearch struct {
	Records []TrailRecord
	Total   int
	Broken  string
}

// SearchTrail returns the records matching f and verifies the whole trail.
func (s *Service) SearchTrail(ctx context.Context, f TrailFilter) (TrailSearch, error) {
	head, err := s.repo.TrailHead(ctx)
	if err != nil {
		return TrailSearch{}, fmt.Errorf("search trail: %w", err)
	}
	all, err := s.repo.Trail(ctx, TrailFilter{})
	if err != nil {
		return TrailSearch{}, fmt.Errorf("search trail: %w", err)
	}
	out := TrailSearch{Total: len(all), Broken: sentryaccess.ErrorMessage(VerifyTrail(all, head))}
	for i := range all {
		if f.Match(&all[i]) {
			out.Records = append(out.Records, all[i])
			if f.Limit > 0 && len(out.Records) >= f.Limit {
				break
			}
		}
	}
	return out, nil
}

// VerifyTrail checks the whole stored trail's hash chain.
func (s *Service) VerifyTrail(ctx context.Context) error {
	head, err := s.repo.TrailHead(ctx)
	if err != nil {
		return fmt.Errorf("verify trail: %w", err)
	}
	recs, err := s.repo.Trail(ctx, TrailFilter{})
	if err != nil {
		return fmt.Errorf("verify trail: %w", err)
	}
	return VerifyTrail(recs, head)
}

// describeSteps makes a default title.
func describeSteps(steps []Step) string {
	if len(steps) == 0 {
		return "Extend access"
	}
	parts := make([]string, 0, 3)
	for i, st := range steps {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(steps)-3))
			break
		}
		parts = append(parts, st.Describe())
	}
	return strings.Join(parts, ", ")
}

// Describe returns a one-line description of the step.
func (s Step) Describe() string {
	p := s.Params
	who := p.Member
	if p.Email != "" {
		who = p.Email
	}
	switch s.Kind {
	case KindTeamCreate:
		return "create team " + p.Team
	case KindTeamDelete:
		return "delete team " + p.Team
	case KindEndDate:
		if p.Project != "" {
			return fmt.Sprintf("end team %s's link to project %s at the expiry", p.Team, p.Project)
		}
		return fmt.Sprintf("end %s's membership of team %s at the expiry", who, p.Team)
	case KindProjectLink:
		return fmt.Sprintf("link project %s to team %s", p.Project, p.Team)
	case KindProjectUnlink:
		return fmt.Sprintf("unlink project %s from team %s", p.Project, p.Team)
	case KindTeamAdd:
		return fmt.Sprintf("add member %s to team %s", who, p.Team)
	case KindTeamRemove:
		return fmt.Sprintf("remove member %s from team %s", who, p.Team)
	case KindTeamRole:
		return fmt.Sprintf("make member %s %s of team %s", who, p.Role, p.Team)
	case KindOrgRole:
		return fmt.Sprintf("make member %s org %s", who, p.Role)
	case KindMemberRemove:
		return "remove member " + who
	case KindMemberInvite:
		return "invite " + p.Email
	case KindAccessRequestApprove:
		if p.Team != "" && who != "" {
			return fmt.Sprintf("approve Sentry's access request: %s joins team %s", who, p.Team)
		}
		return "approve Sentry access request " + p.AccessRequest
	case KindAccessRequestDeny:
		return "deny Sentry access request " + p.AccessRequest
	case KindSCIMUserCreate:
		return "provision SCIM user " + p.Email
	case KindSCIMUserDeactivate:
		return "deactivate SCIM user " + who
	case KindSCIMGroupCreate:
		return "create SCIM group " + p.Name
	case KindSCIMGroupRename:
		return fmt.Sprintf("rename SCIM group %s to %s", p.TeamID, p.Name)
	case KindSCIMGroupMembers:
		return fmt.Sprintf("change SCIM group %s members (+%d -%d)", p.TeamID, len(p.Add), len(p.Remove))
	}
	return string(s.Kind)
}

// summarize is the trail's "after" text of a new request.
func summarize(r *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s, %d approval(s)]", r.Title, r.Source, r.Required)
	for _, st := range r.Steps {
		fmt.Fprintf(&b, "; %d: %s", st.Index, st.Describe())
	}
	if r.ExpiresAt != nil {
		fmt.Fprintf(&b, "; expires %s", r.ExpiresAt.Format(time.RFC3339))
	}
	return b.String()
}
