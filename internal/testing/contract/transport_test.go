package contract

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB whose Errorf is captured, so the validating
// transport itself can be tested.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, strings.TrimSpace(strings.ReplaceAll(sprintf(format, args...), "\n", " ")))
}

func (r *recorder) has(sub string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		if strings.Contains(e, sub) {
			return true
		}
	}
	return false
}

// TestContractTransportRejectsWhatTheSchemaForbids checks that the
// validator is not vacuous: each kind of violation is reported, and only
// unread missing properties are tolerated.
func TestContractTransportRejectsWhatTheSchemaForbids(t *testing.T) {
	t.Parallel()
	const orgOp = "GET /api/0/organizations/{organization_id_or_slug}/ 200"
	tests := []struct {
		name          string
		path          string
		auth          bool
		status        int
		body          string
		wantReported  []string
		wantTolerated []string
	}{
		{name: "a wrong type is reported", path: "/api/0/organizations/acme/", auth: true, status: 200,
			body: `{"slug": 5}`, wantReported: []string{orgOp + " /slug type"}},
		{name: "a missing property the client reads is reported", path: "/api/0/organizations/acme/", auth: true, status: 200,
			body: `{}`, wantReported: []string{orgOp + " /id required", orgOp + " /slug required"},
			wantTolerated: []string{orgOp + " /isEarlyAdopter required", orgOp + " /avatar required"}},
		{name: "an undocumented status is reported", path: "/api/0/organizations/acme/", auth: true, status: 418,
			body: `{}`, wantReported: []string{"GET /api/0/organizations/{organization_id_or_slug}/ 418 status is not supported"}},
		{name: "a request without a bearer token is reported", path: "/api/0/organizations/acme/", auth: false, status: 401,
			body: `{"detail":"Authentication credentials were not provided."}`, wantReported: []string{"GET /api/0/organizations/{organization_id_or_slug}/ request"}},
		{name: "a path neither in the schema nor known undocumented is reported", path: "/api/0/organizations/acme/unknown/", auth: true, status: 200,
			body: `{}`, wantReported: []string{"neither in the schema subset nor a known undocumented endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(ts.Close)
			rec := &recorder{TB: t}
			ct := newContractTransport(rec)
			req, err := http.NewRequest(http.MethodGet, ts.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth {
				req.Header.Set("Authorization", "Bearer tok")
			}
			resp, err := (&http.Client{Transport: ct}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for _, want := range tt.wantReported {
				if !rec.has(want) {
					t.Errorf("not reported: %q; reported: %q", want, rec.errs)
				}
			}
			for _, key := range tt.wantTolerated {
				if rec.has(key) || ct.tolerated[key] == 0 {
					t.Errorf("%q: reported %v, tolerated %d times; want tolerated", key, rec.has(key), ct.tolerated[key])
				}
			}
		})
	}
}

func TestReadByClientFollowsJSONNames(t *testing.T) {
	t.Parallel()
	types := responseTypes()
	const org = "/api/0/organizations/{organization_id_or_slug}"
	tests := []struct {
		op      string
		pointer []string
		want    bool
	}{
		{"GET " + org + "/", []string{"openMembership"}, true},
		{"GET " + org + "/", []string{"orgRoleList", "*", "minimumTeamRole"}, true},
		{"GET " + org + "/", []string{"orgRoleList", "*", "is_global"}, false},
		{"GET " + org + "/", []string{"links", "regionUrl"}, true},
		{"GET " + org + "/", []string{"isEarlyAdopter"}, false},
		{"GET " + org + "/members/", []string{"*", "user", "email"}, true},
		{"GET " + org + "/members/", []string{"*", "user", "avatarUrl"}, false},
		{"GET /api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/members/", []string{"*", "orgRole"}, true}, // embedded Member
		{"GET /api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/members/", []string{"*", "teamRole"}, true},
		{"GET " + org + "/scim/v2/Users", []string{"Resources", "*", "userName"}, true},
	}
	for _, tt := range tests {
		if got := readByClient(types[tt.op], tt.pointer); got != tt.want {
			t.Errorf("readByClient(%s, %v) = %v, want %v", tt.op, tt.pointer, got, tt.want)
		}
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
