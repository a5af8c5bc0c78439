package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTheREADMEListsEveryDemoFlag: each flag `demo -h` prints is in the
// README's table of demo flags.
func TestTheREADMEListsEveryDemoFlag(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	_ = run(context.Background(), []string{"demo", "-h"}, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	flags := regexp.MustCompile(`(?m)^\s+-([a-z-]+)`).FindAllStringSubmatch(errb.String(), -1)
	if len(flags) < 5 {
		t.Fatalf("demo -h listed %d flags:\n%s", len(flags), errb.String())
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flags {
		if !regexp.MustCompile("\\| `--" + regexp.QuoteMeta(f[1]) + "[ `]").Match(readme) {
			t.Errorf("the README's demo flags table lacks --%s", f[1])
		}
	}
}

// TestMakeDemoTakesTheListenAddress: `make demo LISTEN=…` starts the demo
// on that address.
func TestMakeDemoTakesTheListenAddress(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", "-n", "demo", "LISTEN=127.0.0.1:9090", "DEMO_FLAGS=--members 50")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n demo: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "demo --listen 127.0.0.1:9090 --members 50") {
		t.Errorf("make demo runs:\n%s\nwant the demo on 127.0.0.1:9090 with --members 50", out)
	}
}
