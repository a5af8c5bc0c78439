package web

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// scopeCodes writes each scope as <code>scope</code>, what
//
//	for _, s := range scopes {
//		<code>{ s }</code>
//	}
//
// writes, as one component: a project page lists hundreds of members
// with a dozen scopes each, and templ passes every { } string through
// fmt.Sprint, which made these lists a fifth of the dashboard's
// allocations under load.
func scopeCodes(scopes []string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for _, s := range scopes {
			for _, part := range [...]string{"<code>", templ.EscapeString(s), "</code>"} {
				if _, err := io.WriteString(w, part); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
