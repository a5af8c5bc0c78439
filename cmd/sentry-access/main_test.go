package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// testEnv runs commands against an in-process simulator of the demo org
// with a store in a temporary directory.
type testEnv struct {
	vars map[string]string
	sim  *sentrysim.Server
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	sim, err := sentrysim.New(sentrysim.DemoFixture(), sentrysim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	creds := sim.Tokens()
	return &testEnv{sim: sim, vars: map[string]string{
		"SENTRY_URL":         srv.URL,
		"SENTRY_ORG":         creds.Org,
		"SENTRY_AUTH_TOKEN":  creds.OwnerToken,
		"SENTRY_ACCESS_DATA": t.TempDir(),
	}}
}

func (te *testEnv) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return te.vars[k] }, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func (te *testEnv) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := te.run(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\nstderr: %s", args, err, errOut)
	}
	return out
}

// TestSyncPrintsEveryRequestItSent holds the printed request count to
// what the simulator received: the connection check, the sync and the
// token and SCIM inventory.
func TestSyncPrintsEveryRequestItSent(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t)
	for _, args := range [][]string{{"sync"}, {"sync", "--incremental"}} {
		before := te.sim.Stats().Total
		out := te.mustRun(t, args...)
		got := regexp.MustCompile(`(\d+) requests to Sentry`).FindStringSubmatch(out)
		if got == nil {
			t.Fatalf("%v printed no request count: %s", args, out)
		}
		if want := te.sim.Stats().Total - before; got[1] != strconv.Itoa(want) {
			t.Errorf("%v printed %s requests, the simulator received %d: %s", args, got[1], want, out)
		}
	}
}

func TestSyncThenQueryTheDemoOrg(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t)
	out := te.mustRun(t, "sync")
	if !strings.Contains(out, "snapshot 1 (full)") {
		t.Fatalf("sync output: %s", out)
	}

	t.Run("access --json has the documented shape", func(t *testing.T) {
		var got map[string]any
		if err := json.Unmarshal([]byte(te.mustRun(t, "access", "--member", "paul.payne@acme.test", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		member := got["member"].(map[string]any)
		for _, k := range []string{"email", "orgRole", "state"} {
			if _, ok := member[k]; !ok {
				t.Errorf("member.%s missing", k)
			}
		}
		if _, ok := got["globalAccess"].(bool); !ok {
			t.Error("globalAccess is not a bool")
		}
		projects := got["projects"].([]any)
		if len(projects) == 0 {
			t.Fatal("paul reaches no project")
		}
		p := projects[0].(map[string]any)
		scopes := toStrings(p["scopes"].([]any))
		if !slices.IsSorted(scopes) {
			t.Errorf("scopes not sorted: %v", scopes)
		}
		path := p["paths"].([]any)[0].(map[string]any)
		if path["kind"] != "team" || path["team"] == nil || path["teamRole"] == nil {
			t.Errorf("team path lacks kind/team/teamRole: %v", path)
		}
	})

	t.Run("who --json lists members sorted by email", func(t *testing.T) {
		var got struct {
			Project string `json:"project"`
			Members []struct {
				Email string `json:"email"`
			} `json:"members"`
			Integrations []struct {
				Name   string   `json:"name"`
				Scopes []string `json:"scopes"`
			} `json:"integrations"`
		}
		if err := json.Unmarshal([]byte(te.mustRun(t, "who", "--project", "payment-api", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if got.Project != "payment-api" || len(got.Members) == 0 || len(got.Integrations) == 0 {
			t.Fatalf("got %+v", got)
		}
		if !slices.IsSortedFunc(got.Members, func(a, b struct {
			Email string `json:"email"`
		}) int {
			return strings.Compare(a.Email, b.Email)
		}) {
			t.Error("members not sorted by email")
		}
	})

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"a member on the project's team is allowed", []string{"explain", "--member", "paul.payne@acme.test", "--project", "payment-api"}, exitOK, "allowed"},
		{"a member on neither linked team is denied", []string{"explain", "--member", "paul.payne@acme.test", "--project", "auth-service"}, exitDenied, "the member is on neither"},
		{"an unknown member is an error, not an empty answer", []string{"access", "--member", "nobody@acme.test"}, exitNotFound, ""},
		{"an unknown project is an error", []string{"who", "--project", "no-such-project"}, exitNotFound, ""},
		{"a bad scope is a usage error", []string{"explain", "--member", "paul.payne@acme.test", "--project", "payment-api", "--scope", "project:everything"}, exitUsage, ""},
		{"missing flags are a usage error", []string{"access"}, exitUsage, ""},
		{"diff needs two snapshots", []string{"diff"}, exitNoSnaphot, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := te.run(t, tt.args...)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)", got, tt.wantCode, err)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("output %q does not contain %q", out, tt.wantOut)
			}
		})
	}
}

func TestDiffAfterAChangeInSentry(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t)
	te.mustRun(t, "sync")
	te.mustRun(t, "sync")
	out := te.mustRun(t, "diff")
	if !strings.Contains(out, "no changes") {
		t.Errorf("two syncs of the same org differ:\n%s", out)
	}
	list := te.mustRun(t, "snapshots")
	if !strings.Contains(list, "full") || strings.Count(list, "\n") != 3 {
		t.Errorf("snapshots:\n%s", list)
	}
}

func TestBadInputGivesOneClearErrorAndNonZeroExit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badFixture := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFixture, []byte("org:\n  slug: acme\n  colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string
	}{
		{"unknown org", map[string]string{"SENTRY_ORG": "nope"}, []string{"sync"}, `organization "nope" not found`},
		{"bad token", map[string]string{"SENTRY_AUTH_TOKEN": "sntryu_wrong"}, []string{"sync"}, "rejected SENTRY_AUTH_TOKEN"},
		{"malformed fixture", nil, []string{"sim", "--fixture", badFixture, "--listen", "127.0.0.1:0"}, `unknown field "colour"`},
		{"no snapshot yet", nil, []string{"access", "--member", "x@y"}, "run sentry-access sync"},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t)
			for k, v := range tt.vars {
				te.vars[k] = v
			}
			_, _, err := te.run(t, tt.args...)
			if err == nil || exitCode(err) == exitOK {
				t.Fatalf("want a non-zero exit, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), te.vars["SENTRY_AUTH_TOKEN"]) {
				t.Errorf("the token leaked into the error: %v", err)
			}
		})
	}
}

func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	te := newTestEnv(t)
	te.mustRun(t, "sync")
	backup := filepath.Join(t.TempDir(), "backup.db")
	te.mustRun(t, "backup", "--out", backup)
	te.mustRun(t, "sync")
	te.mustRun(t, "restore", "--in", backup)
	if out := te.mustRun(t, "snapshots"); strings.Count(out, "\n") != 2 {
		t.Errorf("after restore the store should hold the one snapshot of the backup:\n%s", out)
	}
}

func toStrings(v []any) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i], _ = x.(string)
	}
	return s
}

func TestSimLegacyFlagStartsALegacySimulator(t *testing.T) {
	t.Parallel()
	var f simFlags
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	f.register(fs, "127.0.0.1:0")
	if err := fs.Parse([]string{"--legacy"}); err != nil {
		t.Fatal(err)
	}
	sim, err := f.server(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/0/organizations/"+sim.Tokens().Org+"/", nil)
	req.Header.Set("Authorization", "Bearer "+sim.Tokens().OwnerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["orgRoleList"]; ok || body["role"] != "owner" {
		t.Errorf("org detail = %v, want the legacy shape (no orgRoleList, role owner)", body)
	}
}
