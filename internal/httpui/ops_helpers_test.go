package httpui_test

import (
	"context"
	"io"
	"log/slog"

	"github.com/sentry-access/sentry-access/web"
)

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func jsonHandler(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }
func slogNew(h slog.Handler) *slog.Logger  { return slog.New(h) }

// ctxLoggingHome logs with the request's context, like a service would.
type ctxLoggingHome struct{ log func(ctx context.Context) }

func (h ctxLoggingHome) Overview(ctx context.Context) (web.OverviewView, error) {
	h.log(ctx)
	return web.OverviewView{OrgSlug: "acme"}, nil
}
