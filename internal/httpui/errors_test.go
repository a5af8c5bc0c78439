package httpui

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// A Go error's text (paths, addresses, SQL-like detail, Sentry's raw
// answers) is for the log. The only text a user reads about a failure is a
// sentryaccess.Error's Message or the error handler's generic one, so the
// HTTP layer and the views never call Error() on anything.
func TestNoHandlerOrViewRendersARawGoError(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{".", "../../web"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 0 {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" {
					t.Errorf("%s: %s.Error() turns a Go error into text; return the error (the handler logs it) or show sentryaccess.ErrorMessage",
						fset.Position(call.Pos()), exprName(sel.X))
				}
				return true
			})
		}
	}
}

func exprName(x ast.Expr) string {
	if id, ok := x.(*ast.Ident); ok {
		return id.Name
	}
	return "…"
}

func TestClassifyShowsOnlyMessagesWrittenForPeople(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantMsg    string
	}{
		{"a plain Go error says nothing of itself", errors.New("open /var/lib/sentry-access/db: permission denied"),
			http.StatusInternalServerError, "Something went wrong on our side."},
		{"a service's invalid input shows its sentence", fmt.Errorf("create request: %w", sentryaccess.Errorf(sentryaccess.EINVALID, "A justification is required.")),
			http.StatusUnprocessableEntity, "A justification is required."},
		{"not found without a message says only that", fmt.Errorf("request 7: %w", sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")),
			http.StatusNotFound, "This page does not exist, or you cannot see it."},
		{"forbidden", sentryaccess.Errorf(sentryaccess.EFORBIDDEN, "Nobody approves their own request"), http.StatusForbidden, "Nobody approves their own request"},
		{"conflict", sentryaccess.Errorf(sentryaccess.ECONFLICT, "A sync is already running."), http.StatusConflict, "A sync is already running."},
		{"unavailable keeps its reason", sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "No snapshot yet: run a sync with Sentry first."),
			http.StatusServiceUnavailable, "No snapshot yet: run a sync with Sentry first."},
		{"an internal error's message is never shown", sentryaccess.Errorf(sentryaccess.EINTERNAL, "bolt page 7 is corrupt"),
			http.StatusInternalServerError, "Something went wrong on our side."},
		{"echo's own errors keep their status", &echo.HTTPError{Code: http.StatusRequestEntityTooLarge, Message: "The request is too large."},
			http.StatusRequestEntityTooLarge, "The request is too large."},
		{"a deadline is a timeout", fmt.Errorf("overview: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, "The request took too long."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, msg := classify(tt.err)
			if status != tt.wantStatus || msg != tt.wantMsg {
				t.Errorf("classify = %d %q, want %d %q", status, msg, tt.wantStatus, tt.wantMsg)
			}
		})
	}
}
