package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// rule is one conformance case: a request by an actor in the world, the
// answer Sentry gives, and optionally what Sentry's state is afterwards.
type rule struct {
	// name states the rule.
	name string
	// sentry names the Sentry file and test (or source function) the
	// case is taken from: "tests/…/test_x.py::test_y" or "src/…/x.py: fn".
	sentry string
	opts   opts
	// sim are the simulator's options (rate limits).
	sim sentrysim.Options
	// as is the actor (see build); actors are more the case uses in then.
	as     string
	actors []string
	method string
	path   string // with {org}, {m:name}, {t:slug}
	body   any    // JSON-encoded; a string is sent as it is
	status int
	// want, when set, must be contained in the JSON answer: every key of
	// an object in want must be present with a matching value; arrays
	// match element by element.
	want string
	// then checks Sentry's state after the request.
	then func(t *testing.T, w *world)
}

// world is one case's running simulator.
type world struct {
	srv *sentrysim.Server
	url string
}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func start(t *testing.T, fx *sentrysim.Fixture, o sentrysim.Options) *world {
	t.Helper()
	o.Now = func() time.Time { return epoch }
	srv, err := sentrysim.New(fx, o)
	if err != nil {
		t.Fatalf("sentrysim.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return &world{srv: srv, url: ts.URL}
}

// do sends one request as actor.
func (w *world) do(t *testing.T, actor, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, w.url+expand(path), rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if tok := tokenOf(actor); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// member reads a member's detail as the owner.
func (w *world) member(t *testing.T, name string) sentry.Member {
	t.Helper()
	a := w.do(t, "owner", "GET", "/api/0/organizations/{org}/members/{m:"+name+"}/", nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET member %s = %d %s", name, a.status, a.body)
	}
	var m sentry.Member
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// gone reports whether a member no longer exists.
func (w *world) gone(t *testing.T, name string) bool {
	t.Helper()
	return w.do(t, "owner", "GET", "/api/0/organizations/{org}/members/{m:"+name+"}/", nil).status == http.StatusNotFound
}

// teams returns a member's team slugs, sorted.
func (w *world) teams(t *testing.T, name string) []string {
	t.Helper()
	ts := slices.Clone(w.member(t, name).Teams)
	slices.Sort(ts)
	if ts == nil {
		ts = []string{}
	}
	return ts
}

// teamRole returns a member's stored role on a team ("" for null) and
// whether the member is on it.
func (w *world) teamRole(t *testing.T, name, team string) (string, bool) {
	t.Helper()
	for _, tr := range w.member(t, name).TeamRoles {
		if tr.TeamSlug == team {
			if tr.Role == nil {
				return "", true
			}
			return *tr.Role, true
		}
	}
	return "", false
}

// accessRequests returns "member>team" for every pending access request.
func (w *world) accessRequests(t *testing.T) []string {
	t.Helper()
	a := w.do(t, "owner", "GET", "/api/0/organizations/{org}/access-requests/", nil)
	var ars []sentry.AccessRequest
	if err := json.Unmarshal(a.body, &ars); err != nil {
		t.Fatalf("access requests %s: %v", a.body, err)
	}
	out := []string{}
	for _, ar := range ars {
		out = append(out, ar.Member.Name+">"+ar.Team.Slug)
	}
	slices.Sort(out)
	return out
}

// runRules runs every case in parallel, each on a fresh world.
func runRules(t *testing.T, rules []rule) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			if r.sentry == "" {
				t.Fatal("case names no Sentry source")
			}
			w := start(t, build(r.opts, append([]string{r.as, "owner"}, r.actors...)...), r.sim)
			a := w.do(t, r.as, r.method, r.path, r.body)
			if a.status != r.status {
				t.Fatalf("%s %s as %s = %d, want %d (%s)\nbody %s", r.method, r.path, r.as, a.status, r.status, r.sentry, a.body)
			}
			if r.want != "" {
				if err := contains(a.body, r.want); err != nil {
					t.Errorf("%s %s as %s: %v (%s)\nbody %s", r.method, r.path, r.as, err, r.sentry, a.body)
				}
			}
			if r.then != nil {
				r.then(t, w)
			}
		})
	}
}

// contains reports how got fails to contain want (both JSON).
func contains(got []byte, want string) error {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("answer is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic("conformance: bad want JSON " + want)
	}
	return subset("$", w, g)
}

func subset(at string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s missing", at, k)
			}
			if err := subset(at+"."+k, wv, gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %v", at, got, want)
		}
		for i := range w {
			if err := subset(fmt.Sprintf("%s[%d]", at, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s = %v, want %v", at, got, want)
		}
		return nil
	}
}

// equal fails the test unless got equals want.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
