package httpui

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// render writes component with status. It renders into a buffer first, so
// a template error becomes a clean error page instead of half a page.
//
// The buffers are reused (Server.buffers): a page is tens of kilobytes,
// and growing a fresh buffer for each one was a third of the dashboard's
// allocations under load.
func (s *Server) render(c echo.Context, status int, component templ.Component) error {
	buf, _ := s.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer s.putBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// maxPooledBuffer keeps a rare huge page (a full export) from pinning its
// buffer in the pool.
const maxPooledBuffer = 1 << 20

func (s *Server) putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	s.buffers.Put(b)
}

// redirectAfterPost answers a successful POST: HX-Redirect for htmx, a
// 303 otherwise.
func redirectAfterPost(c echo.Context, to string) error {
	if isHTMX(c.Request()) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// invalid answers a validation error: the 422 fragment for htmx, the error
// page otherwise.
func (s *Server) invalid(c echo.Context, msg string) error {
	if !isHTMX(c.Request()) {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "%s", msg)
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, http.StatusUnprocessableEntity, web.FormError(msg))
}

// invalidOr turns an EINVALID error into a 422 fragment for htmx forms;
// the rest (403 forbidden, 409 conflict, 404) go to the error handler,
// which shows their reason as a flash.
func (s *Server) invalidOr(c echo.Context, err error) error {
	if sentryaccess.ErrorCode(err) == sentryaccess.EINVALID && isHTMX(c.Request()) {
		_, msg := classify(err)
		return s.invalid(c, msg)
	}
	return err
}

// page renders a signed-in page: content alone for an htmx fragment
// request, else the full layout around it. Every answer says Vary:
// HX-Request, because the same URL has two representations.
func (s *Server) page(c echo.Context, status int, title string, nav web.NavKey, content templ.Component) error {
	c.Response().Header().Add("Vary", "HX-Request")
	if wantsFragment(c.Request()) {
		return s.render(c, status, content)
	}
	return s.render(c, status, web.Page(s.chrome(c, title, nav), content))
}

// bare renders a page without navigation (signed out, errors before login).
func (s *Server) bare(c echo.Context, status int, title string, content templ.Component) error {
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, status, web.Bare(s.chrome(c, title, web.NavNone), content))
}

// chrome builds the page frame's view model for this request.
func (s *Server) chrome(c echo.Context, title string, nav web.NavKey) web.Chrome {
	r := c.Request()
	ch := web.Chrome{
		Title:     title,
		Active:    nav,
		Assets:    assetPaths(s.deps.Assets),
		RequestID: RequestID(r),
	}
	if id, ok := IdentityFromContext(r.Context()); ok {
		ch.User = &web.UserView{Email: id.Email, Name: id.Name, Role: string(id.Role)}
		if s.deps.Sync != nil {
			st, err := s.deps.Sync.SyncStatus(r.Context())
			if err != nil {
				s.deps.Logger.WarnContext(r.Context(), "read sync status", "err", err, "request_id", ch.RequestID)
				st = web.SyncStatus{State: web.SyncFailed, Message: "the sync status could not be read"}
			}
			ch.Sync = st
		}
	}
	return ch
}

func assetPaths(a Assets) web.Assets {
	return web.Assets{CSS: a.Path("app.css"), HTMX: a.Path("htmx.min.js"), AppJS: a.Path("app.js"), Favicon: a.Path("favicon.svg")}
}

// statusText is http.StatusText with a fallback.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "Error"
}
