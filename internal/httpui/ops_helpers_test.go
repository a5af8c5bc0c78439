package httpui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/explore"
	"github.com/sentry-access/sentry-access/internal/store"
)

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func jsonHandler(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }
func slogNew(h slog.Handler) *slog.Logger  { return slog.New(h) }

// syncedStore is a real store holding one snapshot of org acme with the
// given numbers of members, teams and projects, and the read model over it,
// as the dashboard builds it.
func syncedStore(t *testing.T, members, teams, projects int) (*store.Store, *explore.Service) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	snap := &access.Snapshot{Org: access.Org{ID: "1", Slug: "acme", Name: "Acme"}}
	for i := range members {
		snap.Members = append(snap.Members, access.Member{ID: fmt.Sprint(100 + i), Email: fmt.Sprintf("m%d@acme.test", i),
			OrgRole: access.RoleMember, State: access.StateActive})
	}
	for i := range teams {
		snap.Teams = append(snap.Teams, access.Team{ID: fmt.Sprint(200 + i), Slug: fmt.Sprintf("team-%d", i)})
	}
	for i := range projects {
		snap.Projects = append(snap.Projects, access.Project{ID: fmt.Sprint(300 + i), Slug: fmt.Sprintf("project-%d", i), Teams: []string{"team-0"}})
	}
	ctx := context.Background()
	if _, err := st.SaveSnapshot(ctx, store.SnapshotMeta{Created: time.Now()}, snap); err != nil {
		t.Fatal(err)
	}
	ex := explore.New(st, explore.Options{})
	if err := ex.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return st, ex
}
