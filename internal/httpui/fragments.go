package httpui

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// toPage answers a fragment URL opened as a page (typed, bookmarked,
// reloaded) with a 303 to the page that holds the fragment, carrying the
// query parameters named in keep that have a value: a fragment URL never
// shows a bare fragment.
func toPage(c echo.Context, path string, keep ...string) error {
	q := url.Values{}
	for _, k := range keep {
		if v := c.QueryParam(k); v != "" {
			q.Set(k, v)
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return c.Redirect(http.StatusSeeOther, path)
}
