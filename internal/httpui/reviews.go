package httpui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/review"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// Reviews runs access-review campaigns (*review.Service).
type Reviews interface {
	List(ctx context.Context) ([]review.Summary, error)
	Reminders(ctx context.Context, actor sentryaccess.Actor) ([]review.Reminder, error)
	Teams(ctx context.Context) ([]string, error)
	Create(ctx context.Context, actor sentryaccess.Actor, in review.NewCampaign) (*review.Campaign, error)
	Get(ctx context.Context, id string) (*review.Campaign, []review.Item, error)
	Detail(ctx context.Context, actor sentryaccess.Actor, id string, mine bool) (review.Detail, error)
	Decide(ctx context.Context, actor sentryaccess.Actor, id string, in review.DecisionInput) ([]review.Item, error)
	Close(ctx context.Context, actor sentryaccess.Actor, id string) (*review.Campaign, error)
	EvidenceZip(ctx context.Context, id string) ([]byte, error)
}

func (s *Server) reviews() (Reviews, error) {
	if s.deps.Reviews == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Access reviews are not configured.")
	}
	return s.deps.Reviews, nil
}

// reviewActor is the signed-in user as the review service sees them.
func reviewActor(c echo.Context) sentryaccess.Actor {
	id, _ := IdentityFromContext(c.Request().Context())
	return id.Actor()
}

func (s *Server) handleReviews(c echo.Context) error {
	svc, err := s.reviews()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	actor := reviewActor(c)
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	rem, err := svc.Reminders(ctx, actor)
	if err != nil {
		return err
	}
	v := web.ReviewListView{Campaigns: list, Reminders: rem, DefaultDue: s.deps.Now().Add(14 * 24 * time.Hour).UTC().Format(time.DateOnly)}
	if id, _ := IdentityFromContext(ctx); id.Role.AtLeast(sentryaccess.RoleApprover) {
		v.CanCreate = true
		if v.Teams, err = svc.Teams(ctx); err != nil {
			s.deps.Logger.WarnContext(ctx, "list teams for review scopes", "err", err)
		}
	}
	return s.page(c, http.StatusOK, "Access reviews", web.NavReviews, web.ReviewListPage(v))
}

func (s *Server) handleReviewCreate(c echo.Context) error {
	svc, err := s.reviews()
	if err != nil {
		return err
	}
	due, err := time.Parse(time.DateOnly, strings.TrimSpace(c.FormValue("due")))
	if err != nil {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "The due date must look like 2026-01-31.")
	}
	// A campaign is due at the end of its due day.
	due = due.Add(24*time.Hour - time.Second)
	camp, err := svc.Create(c.Request().Context(), reviewActor(c), review.NewCampaign{
		Name: c.FormValue("name"), Scope: review.Scope(strings.TrimSpace(c.FormValue("scope"))), Due: due})
	if err != nil {
		return err
	}
	return redirectAfterPost(c, "/reviews/"+camp.ID)
}

// reviewView builds a campaign's view for the signed-in user.
func (s *Server) reviewView(c echo.Context, id string, mine bool) (web.ReviewView, error) {
	svc, err := s.reviews()
	if err != nil {
		return web.ReviewView{}, err
	}
	d, err := svc.Detail(c.Request().Context(), reviewActor(c), id, mine)
	if err != nil {
		return web.ReviewView{}, err
	}
	return web.ReviewView{Campaign: d.Campaign, Items: d.Items, Progress: d.Progress, Mine: mine, Reviewable: d.Reviewable,
		CanClose: d.CanClose, CanDownload: d.CanDownload, Overdue: d.Overdue}, nil
}

func (s *Server) handleReview(c echo.Context) error {
	v, err := s.reviewView(c, c.Param("id"), c.QueryParam("mine") == "1")
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, v.Campaign.Name, web.NavReviews, web.ReviewPage(v))
}

// handleReviewDecide records a per-item or bulk decision. htmx gets the
// re-rendered body (with the problem in it and 422 when the input was not
// valid); a plain form post is redirected back to the campaign.
func (s *Server) handleReviewDecide(c echo.Context) error {
	svc, err := s.reviews()
	if err != nil {
		return err
	}
	id := c.Param("id")
	form, err := c.FormParams()
	if err != nil {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "The form could not be read.")
	}
	decision := review.Decision(form.Get("decision"))
	if decision == "comment" {
		decision = review.DecisionNone
	}
	in := review.DecisionInput{ItemIDs: form["item"], Decision: decision, Comment: form.Get("comment")}
	_, derr := svc.Decide(c.Request().Context(), reviewActor(c), id, in)
	if derr != nil && sentryaccess.ErrorCode(derr) != sentryaccess.EINVALID {
		return derr
	}
	if !isHTMX(c.Request()) {
		if derr != nil {
			return derr
		}
		return c.Redirect(http.StatusSeeOther, "/reviews/"+id)
	}
	v, err := s.reviewView(c, id, false)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if derr != nil {
		status = http.StatusUnprocessableEntity
		v.Message = sentryaccess.ErrorMessage(derr)
	} else {
		v.Message = fmt.Sprintf("Recorded %s for %d item(s).", decisionWord(decision), len(in.ItemIDs))
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, status, web.ReviewBody(v))
}

func decisionWord(d review.Decision) string {
	if d == review.DecisionNone {
		return "a comment"
	}
	return string(d)
}

func (s *Server) handleReviewClose(c echo.Context) error {
	svc, err := s.reviews()
	if err != nil {
		return err
	}
	id := c.Param("id")
	if _, err := svc.Close(c.Request().Context(), reviewActor(c), id); err != nil {
		return err
	}
	return redirectAfterPost(c, "/reviews/"+id)
}

// handleReviewEvidence downloads the stored evidence zip; its SHA-256 is in
// X-Evidence-SHA256.
func (s *Server) handleReviewEvidence(c echo.Context) error {
	svc, err := s.reviews()
	if err != nil {
		return err
	}
	id := c.Param("id")
	b, err := svc.EvidenceZip(c.Request().Context(), id)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", "access-review-"+id+"-evidence.zip"))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Evidence-SHA256", hex.EncodeToString(sum[:]))
	return c.Blob(http.StatusOK, "application/zip", b)
}
