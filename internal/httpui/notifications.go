package httpui

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// Notifications manages outgoing webhooks (*notify.Notifier).
type Notifications interface {
	Subscriptions(ctx context.Context) ([]notify.SubscriptionView, error)
	SaveSubscription(ctx context.Context, in notify.SubscriptionInput) (notify.SubscriptionView, string, error)
	DeleteSubscription(ctx context.Context, id string) error
	SendTest(ctx context.Context, id string) (notify.Delivery, error)
	Deliveries(ctx context.Context, limit int) ([]notify.Delivery, error)
}

func (s *Server) notifications() (Notifications, error) {
	if s.deps.Notify == nil {
		return nil, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "Notifications are not configured.")
	}
	return s.deps.Notify, nil
}

func (s *Server) notificationsView(ctx context.Context, svc Notifications) (web.NotificationsView, error) {
	subs, err := svc.Subscriptions(ctx)
	if err != nil {
		return web.NotificationsView{}, err
	}
	log, err := svc.Deliveries(ctx, 100)
	if err != nil {
		return web.NotificationsView{}, err
	}
	return web.NotificationsView{Subscriptions: subs, Deliveries: log}, nil
}

func (s *Server) handleNotifications(c echo.Context) error {
	svc, err := s.notifications()
	if err != nil {
		return err
	}
	v, err := s.notificationsView(c.Request().Context(), svc)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "Notifications", web.NavNotify, web.NotificationsPage(v))
}

// notificationsAnswer re-renders the body with msg for htmx (status 422
// when the action's input was invalid), or redirects a plain form post.
func (s *Server) notificationsAnswer(c echo.Context, svc Notifications, status int, msg, secret string) error {
	if !isHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/settings/notifications")
	}
	v, err := s.notificationsView(c.Request().Context(), svc)
	if err != nil {
		return err
	}
	v.Message, v.NewSecret = msg, secret
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, status, web.NotificationsBody(v))
}

func (s *Server) handleNotificationSave(c echo.Context) error {
	svc, err := s.notifications()
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "The form could not be read.")
	}
	in := notify.SubscriptionInput{Name: form.Get("name"), URL: form.Get("url"), Format: notify.Format(form.Get("format")),
		Enabled: true, RotateSecret: form.Get("secret") == "generate"}
	for _, e := range form["event"] {
		in.Events = append(in.Events, notify.EventKind(e))
	}
	v, secret, err := svc.SaveSubscription(c.Request().Context(), in)
	if sentryaccess.ErrorCode(err) == sentryaccess.EINVALID && isHTMX(c.Request()) {
		_, msg := classify(err)
		return s.notificationsAnswer(c, svc, http.StatusUnprocessableEntity, msg, "")
	}
	if err != nil {
		return err
	}
	return s.notificationsAnswer(c, svc, http.StatusOK, "Webhook "+v.Name+" saved.", secret)
}

func (s *Server) handleNotificationTest(c echo.Context) error {
	svc, err := s.notifications()
	if err != nil {
		return err
	}
	d, err := svc.SendTest(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	msg := "Test delivered."
	if d.State != notify.DeliveryDelivered {
		msg = fmt.Sprintf("Test not delivered: %s It will be retried.", d.LastError)
	}
	return s.notificationsAnswer(c, svc, http.StatusOK, msg, "")
}

func (s *Server) handleNotificationDelete(c echo.Context) error {
	svc, err := s.notifications()
	if err != nil {
		return err
	}
	if err := svc.DeleteSubscription(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return s.notificationsAnswer(c, svc, http.StatusOK, "Webhook deleted.", "")
}
