package changes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Executor carries out steps in Sentry. SentryExecutor is the
// implementation over the Sentry client.
type Executor interface {
	// Execute performs the step once. Its error should be (or wrap) an
	// *ExecError so the applier can tell retryable failures and show
	// Sentry's status.
	Execute(ctx context.Context, st Step) (Outcome, error)
	// Verify reads back from Sentry whether the step's effect is already
	// there (member on team, team exists, link exists, role set …).
	Verify(ctx context.Context, st Step) (bool, error)
}

// Outcome is Sentry's answer to a successful step.
type Outcome struct {
	Status int
	// Result is a short human-readable result ("201 created team payments").
	Result string
	// Member is the id of the member the step made (an invite), recorded
	// on the step so that a time-bound invite can be taken back.
	Member string
}

// ExecError is a failed Sentry call: the HTTP status (0 when none came
// back), Sentry's message, and whether retrying may help (429, 5xx,
// timeouts, dropped connections).
type ExecError struct {
	Status    int
	Message   string
	Retryable bool
	Err       error
}

func (e *ExecError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("sentry %d: %s", e.Status, e.Message)
	}
	return "sentry: " + e.Message
}

func (e *ExecError) Unwrap() error { return e.Err }

// classify returns the status, message and retryability of an Execute or
// Verify error. Errors that are not ExecErrors are retryable only when they
// are timeouts or network errors (including a connection dropped before the
// answer: EOF, reset).
func classify(err error) (status int, msg string, retry bool) {
	var ee *ExecError
	if errors.As(err, &ee) {
		return ee.Status, ee.Message, ee.Retryable
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) {
		return 0, msgUnreachable, true
	}
	// The message is shown on the request page: the Go error text stays
	// in the server's log, never on the page.
	return 0, msgNoAnswer, false
}

// What the request page says of a step whose call got no answer from
// Sentry (the error itself is logged, not shown).
const (
	msgUnreachable = "Sentry could not be reached (the connection failed, was dropped or timed out). Check SENTRY_URL and the network on the Connection page; the step is retried while attempts remain."
	msgNoAnswer    = "The step failed before Sentry answered. The server log has the details under this request's id; retry the request once the cause is fixed."
)

// Touched names what a request changed, for the re-read after it is
// applied: team slugs, project slugs, member ids, the emails of members
// known only by email (invited or provisioned), and TeamList when the team
// list itself changed (a team created or deleted, a SCIM group created,
// renamed or its members changed, named by id).
type Touched struct {
	Teams    []string
	Projects []string
	Members  []string
	Emails   []string
	TeamList bool
}

// Empty reports whether t names nothing.
func (t Touched) Empty() bool {
	return len(t.Teams)+len(t.Projects)+len(t.Members)+len(t.Emails) == 0 && !t.TeamList
}

func touchedBy(steps []Step) Touched {
	var t Touched
	add := func(xs *[]string, v string) {
		if v != "" && !slices.Contains(*xs, v) {
			*xs = append(*xs, v)
		}
	}
	for _, st := range steps {
		if st.State != StepApplied {
			continue
		}
		add(&t.Teams, st.Params.Team)
		add(&t.Projects, st.Params.Project)
		add(&t.Members, st.Params.Member)
		for _, m := range st.Params.Add {
			add(&t.Members, m)
		}
		for _, m := range st.Params.Remove {
			add(&t.Members, m)
		}
		switch st.Kind {
		case KindMemberInvite, KindSCIMUserCreate:
			add(&t.Emails, st.Params.Email)
		case KindTeamCreate, KindTeamDelete, KindSCIMGroupCreate, KindSCIMGroupRename, KindSCIMGroupMembers:
			t.TeamList = true
		}
	}
	return t
}

// Apply carries out an approved request's steps in order. Each step's state
// is written before its Sentry call (applying, attempt+1) and after it
// (applied or failed, with Sentry's status and error). A request found in
// applying — after a crash — is resumed: a step left in applying is first
// read back from Sentry and marked applied if its effect is there, so no
// step runs twice. Retryable failures are retried up to MaxAttempts with
// doubling backoff; a step that still fails ends the request as failed or
// partially-failed and later steps stay approved (not attempted). Apply on a
// finished request returns it unchanged. Errors are ECONFLICT (not
// approved, or already being applied in this process) or come from the
// repository or ctx; the request is then left applying for Recover.
func (s *Service) Apply(ctx context.Context, id string) (*Request, error) {
	s.mu.Lock()
	if s.applying[id] {
		s.mu.Unlock()
		return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "Request %s is already being applied", id)
	}
	s.applying[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.applying, id)
		s.mu.Unlock()
	}()

	r, err := s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
		switch r.State {
		case StateApplying:
			return nil, nil
		case StateApproved:
			now := s.now().UTC()
			r.State, r.UpdatedAt = StateApplying, now
			return []TrailRecord{{At: now, Actor: SystemActor, Kind: TrailRequestState, RequestID: r.ID,
				Before: string(StateApproved), After: string(StateApplying)}}, nil
		}
		if r.State.Final() {
			return nil, errFinished
		}
		return nil, sentryaccess.Errorf(sentryaccess.ECONFLICT, "Request %s is %s, not approved", r.ID, r.State)
	})
	if errors.Is(err, errFinished) {
		return s.finishGrant(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("apply request %s: %w", id, err)
	}

	failed := false
	for i := range r.Steps {
		st := r.Steps[i]
		if st.State == StepApplied {
			continue
		}
		if st.State == StepFailed {
			failed = true
			break
		}
		ok, err := s.applyStep(ctx, r.ID, i)
		if err != nil {
			return nil, fmt.Errorf("apply request %s step %d: %w", id, i, err)
		}
		if !ok {
			failed = true
			break
		}
	}

	now := s.now().UTC()
	ended := false
	r, err = s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
		if r.State != StateApplying {
			return nil, nil
		}
		ended = true
		applied := 0
		for _, st := range r.Steps {
			if st.State == StepApplied {
				applied++
			}
		}
		switch {
		case !failed:
			r.State = StateApplied
		case applied > 0:
			r.State = StatePartiallyFailed
		default:
			r.State = StateFailed
		}
		r.UpdatedAt = now
		return []TrailRecord{{At: now, Actor: SystemActor, Kind: TrailRequestState, RequestID: r.ID,
			Before: string(StateApplying), After: string(r.State)}}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply request %s: finish: %w", id, err)
	}
	if ended {
		s.tellFinished(ctx, r)
	}
	if s.resync != nil {
		if t := touchedBy(r.Steps); !t.Empty() {
			if err := s.resync(ctx, t); err != nil {
				s.log.WarnContext(ctx, "resync after apply", "request", id, "err", err)
			}
		}
	}
	return s.finishGrant(ctx, id)
}

// ApplyTimeout bounds an apply started in the background.
const ApplyTimeout = 10 * time.Minute

// applyInBackground applies request id through Config.Background, on a
// context that keeps ctx's values (the request ID of the approval that
// started it) but outlives its cancellation. A failure is logged; the
// request stays applying and Recover resumes it at the next start.
func (s *Service) applyInBackground(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	s.background(func() {
		ctx, cancel := context.WithTimeout(ctx, ApplyTimeout)
		defer cancel()
		if _, err := s.Apply(ctx, id); err != nil {
			s.log.ErrorContext(ctx, "apply change request", "request", id, "err", err)
		}
	})
}

// SystemActor is the trail actor of the applier's own transitions.
const SystemActor = "system:applier"

var errFinished = errors.New("request finished")

// applyStep takes step i to applied or failed. It reports false when the
// step failed; an error means the outcome was not recorded (repository
// failure or ctx ended) and the step is left for Recover.
func (s *Service) applyStep(ctx context.Context, id string, i int) (bool, error) {
	r, err := s.repo.Request(ctx, id)
	if err != nil {
		return false, err
	}
	st := r.Steps[i]
	// A step left applying, or one whose last call failed in a way that
	// may still have taken effect, is read back before any new call.
	needVerify := st.State == StepApplying
	verifyTries := 0
	for {
		if needVerify {
			done, err := s.exec.Verify(ctx, st)
			if err != nil {
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				status, msg, retry := classify(err)
				s.log.WarnContext(ctx, "verify step failed", "request", id, "step", i+1, "status", status, "retry", retry, "err", err)
				verifyTries++
				if retry && verifyTries < s.maxAtt {
					if err := s.wait(ctx, verifyTries); err != nil {
						return false, err
					}
					continue
				}
				return false, s.finishStep(ctx, id, i, false, Outcome{Status: status}, "could not verify whether the step took effect: "+msg)
			}
			if done {
				return true, s.finishStep(ctx, id, i, true, Outcome{Result: "already in effect (read back from Sentry)"}, "")
			}
		}
		// Before: applying, attempt+1.
		now := s.now().UTC()
		r, err := s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
			p := &r.Steps[i]
			p.State = StepApplying
			p.Attempts++
			if p.StartedAt == nil {
				p.StartedAt = &now
			}
			r.UpdatedAt = now
			return []TrailRecord{{At: now, Actor: SystemActor, Kind: TrailStepApplying, RequestID: r.ID, Step: i + 1,
				Before: p.Describe(), Comment: fmt.Sprintf("attempt %d", p.Attempts)}}, nil
		})
		if err != nil {
			return false, err
		}
		st = r.Steps[i]
		out, err := s.exec.Execute(ctx, st)
		if err == nil {
			return true, s.finishStep(ctx, id, i, true, out, "")
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		status, msg, retry := classify(err)
		// The page shows msg; the error itself is for the operator.
		s.log.WarnContext(ctx, "apply step failed", "request", id, "step", i+1, "attempt", st.Attempts, "status", status, "retry", retry, "err", err)
		if !retry || st.Attempts >= s.maxAtt {
			return false, s.finishStep(ctx, id, i, false, Outcome{Status: status}, msg)
		}
		now = s.now().UTC()
		if err := s.repo.AppendTrail(ctx, TrailRecord{At: now, Actor: SystemActor, Kind: TrailStepRetry, RequestID: id, Step: i + 1,
			SentryStatus: status, SentryResponse: msg, Comment: fmt.Sprintf("attempt %d failed, retrying", st.Attempts)}); err != nil {
			return false, err
		}
		if err := s.wait(ctx, st.Attempts); err != nil {
			return false, err
		}
		// The failed call may have reached Sentry (timeout, dropped
		// connection): read back before calling again.
		needVerify = true
	}
}

func (s *Service) wait(ctx context.Context, attempts int) error {
	d := s.backoff << max(attempts-1, 0)
	return s.sleep(ctx, d)
}

// finishStep writes a step's final state with Sentry's answer: applied
// (ok) with out, or failed with Sentry's status (out.Status) and sentryErr.
func (s *Service) finishStep(ctx context.Context, id string, i int, ok bool, out Outcome, sentryErr string) error {
	now := s.now().UTC()
	status, result := out.Status, out.Result
	_, err := s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
		p := &r.Steps[i]
		if ok && out.Member != "" && p.Kind == KindMemberInvite {
			p.Params.Member = out.Member
		}
		p.FinishedAt = &now
		p.SentryStatus = status
		p.SentryError = sentryErr
		p.Result = result
		kind := TrailStepApplied
		if ok {
			p.State = StepApplied
		} else {
			p.State = StepFailed
			kind = TrailStepFailed
		}
		r.UpdatedAt = now
		resp := result
		if !ok {
			resp = sentryErr
		}
		return []TrailRecord{{At: now, Actor: SystemActor, Kind: kind, RequestID: r.ID, Step: i + 1,
			Before: string(StepApplying), After: string(p.State) + ": " + p.Describe(),
			SentryStatus: status, SentryResponse: resp}}, nil
	})
	return err
}

// Recover finishes what a crash interrupted: it applies every request that
// is approved or applying, and creates grants for applied time-bound
// requests that lack one. Call it once at startup, before serving.
func (s *Service) Recover(ctx context.Context) error {
	rs, err := s.repo.ListRequests(ctx, RequestFilter{States: []State{StateApproved, StateApplying, StateApplied}})
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	var errs []error
	slices.Reverse(rs) // oldest first
	for _, r := range rs {
		if r.State == StateApplied && (r.ExpiresAt == nil || r.GrantID != "") {
			continue
		}
		if _, err := s.Apply(ctx, r.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	return nil
}

// finishGrant creates the grant of an applied time-bound request, or moves
// the grant an applied extension prolongs, once.
func (s *Service) finishGrant(ctx context.Context, id string) (*Request, error) {
	r, err := s.repo.Request(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("apply request %s: %w", id, err)
	}
	if r.State != StateApplied || r.ExpiresAt == nil || r.GrantID != "" {
		return r, nil
	}
	now := s.now().UTC()
	grantID := r.ExtendsGrant
	if grantID != "" {
		_, err = s.repo.UpdateGrant(ctx, grantID, func(g *Grant) ([]TrailRecord, error) {
			if g.ExpiresAt.Equal(*r.ExpiresAt) {
				return nil, nil
			}
			before := g.ExpiresAt
			g.ExpiresAt = *r.ExpiresAt
			g.Extensions = append(g.Extensions, r.ID)
			return []TrailRecord{{At: now, Actor: r.Requester, Kind: TrailGrantExtended, RequestID: r.ID, GrantID: g.ID,
				Before: before.Format(time.RFC3339), After: g.ExpiresAt.Format(time.RFC3339)}}, nil
		})
	} else {
		g := newGrant(r, now)
		grantID = g.ID
		err = s.repo.CreateGrant(ctx, g, []TrailRecord{{At: now, Actor: r.Requester, Kind: TrailGrantCreated, RequestID: r.ID,
			GrantID: g.ID, After: "expires " + g.ExpiresAt.Format(time.RFC3339)}})
		if sentryaccess.ErrorCode(err) == sentryaccess.ECONFLICT { // created before a crash
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("apply request %s: grant: %w", id, err)
	}
	r, err = s.repo.UpdateRequest(ctx, id, func(r *Request) ([]TrailRecord, error) {
		r.GrantID = grantID
		return nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply request %s: grant: %w", id, err)
	}
	return r, nil
}
