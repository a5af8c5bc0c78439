package dashboard_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/dashboard"
)

func TestStartDemoCreatesAMissingDataDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := filepath.Join(t.TempDir(), "not", "there", "yet")
	d, err := dashboard.StartDemo(t.Context(), dashboard.DemoOptions{DataDir: dir})
	if err != nil {
		t.Fatalf("StartDemo with a data directory that does not exist: %v", err)
	}
	defer d.Close()
	if _, err := os.Stat(filepath.Join(dir, "sentry-access.db")); err != nil {
		t.Errorf("store not created in %s: %v", dir, err)
	}
}

func TestStartDemoReportsAnErrorInsteadOfPanicking(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	// The dashboard's address is taken: StartDemo must fail cleanly, after
	// closing what it had started.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d, err := dashboard.StartDemo(ctx, dashboard.DemoOptions{DataDir: t.TempDir(), Listen: ln.Addr().String()})
	if err == nil {
		d.Close()
		t.Fatal("StartDemo on a taken address succeeded")
	}
	if d != nil {
		t.Errorf("StartDemo returned a demo with the error %v", err)
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}
