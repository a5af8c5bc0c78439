package gosentry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// A field's JSON kind as go-sentry declares it. go-sentry decodes with
// encoding/json (UseNumber): null is accepted everywhere, a present value
// of another kind fails the whole call.
type kind func(v any) error

func str(v any) error {
	if _, ok := v.(string); !ok {
		return fmt.Errorf("want a string, got %T", v)
	}
	return nil
}

func boolean(v any) error {
	if _, ok := v.(bool); !ok {
		return fmt.Errorf("want a bool, got %T", v)
	}
	return nil
}

func integer(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("want a number, got %T", v)
	}
	if _, err := n.Int64(); err != nil {
		return fmt.Errorf("want an int, got %s", n)
	}
	return nil
}

func timestamp(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want an RFC 3339 time, got %T", v)
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return fmt.Errorf("want an RFC 3339 time: %v", err)
	}
	return nil
}

func list(of kind) kind {
	return func(v any) error {
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want a list, got %T", v)
		}
		for i, it := range items {
			if it == nil {
				continue
			}
			if err := of(it); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
}

func mapOf(of kind) kind {
	return func(v any) error {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object, got %T", v)
		}
		for k, x := range m {
			if x == nil {
				continue
			}
			if err := of(x); err != nil {
				return fmt.Errorf(".%s: %w", k, err)
			}
		}
		return nil
	}
}

// shape is a go-sentry response type: its JSON fields and their kinds.
// A name ending in "!" must be present (the identity and the facts a
// caller reads); the others are checked when present.
type shape map[string]kind

func (s shape) check(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want an object, got %T", v)
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, required := strings.CutSuffix(k, "!")
		x, present := m[name]
		if !present {
			if required {
				return fmt.Errorf(".%s missing", name)
			}
			continue
		}
		if x == nil {
			continue
		}
		if err := s[k](x); err != nil {
			return fmt.Errorf(".%s: %w", name, err)
		}
	}
	return nil
}

func obj(s shape) kind { return s.check }

// go-sentry's response types (sentry/*.go of jianyuan/go-sentry v2).
var (
	avatar   = shape{"avatarType": str, "avatarUuid": str}
	userType = shape{"id": str, "name": str, "username": str, "email": str, "avatarUrl": str,
		"isActive": boolean, "hasPasswordAuth": boolean, "isManaged": boolean, "dateJoined": timestamp,
		"lastLogin": timestamp, "has2fa": boolean, "lastActive": timestamp, "isSuperuser": boolean,
		"isStaff": boolean, "avatar": obj(avatar),
		"emails": list(obj(shape{"id": str, "email": str, "is_verified": boolean}))}
	orgRoleItem = shape{"id!": str, "name!": str, "desc": str, "scopes!": list(str), "isAllowed": boolean,
		"isRetired": boolean, "isGlobal": boolean, "minimumTeamRole!": str}
	teamRoleItem = shape{"id!": str, "name!": str, "desc": str, "scopes!": list(str), "isAllowed": boolean,
		"isRetired": boolean, "isMinimumRoleFor": str}
	organization = shape{"id!": str, "slug!": str, "status": obj(shape{"id": str, "name": str}), "name!": str,
		"dateCreated!": timestamp, "isEarlyAdopter": boolean, "require2FA": boolean,
		"requireEmailVerification": boolean, "avatar": obj(avatar), "features": list(str),
		"quota":     obj(shape{"maxRate": integer, "maxRateInterval": integer, "accountLimit": integer, "projectLimit": integer}),
		"isDefault": boolean, "defaultRole": str, "availableRoles": list(obj(shape{"id": str, "name": str})),
		"orgRoleList": list(obj(orgRoleItem)), "teamRoleList": list(obj(teamRoleItem)), "openMembership": boolean,
		"allowSharedIssues": boolean, "enhancedPrivacy": boolean, "dataScrubber": boolean,
		"dataScrubberDefaults": boolean, "sensitiveFields": list(str), "safeFields": list(str),
		"storeCrashReports": integer, "attachmentsRole": str, "debugFilesRole": str, "eventsMemberAdmin": boolean,
		"alertsMemberWrite": boolean, "scrubIPAddresses": boolean, "scrapeJavaScript": boolean,
		"allowJoinRequests": boolean, "relayPiiConfig": str, "access": list(str), "role": str,
		"pendingAccessRequests": integer}
	member = shape{"id!": str, "email!": str, "name!": str, "user": obj(userType), "orgRole!": str,
		"orgRoleList": list(obj(orgRoleItem)), "pending!": boolean, "expired!": boolean, "flags!": mapOf(boolean),
		"dateCreated!": timestamp, "inviteStatus!": str, "inviterName": str, "teamRoleList": list(obj(teamRoleItem)),
		"teamRoles": list(obj(shape{"teamSlug!": str, "role": str})), "teams": list(str)}
	team = shape{"id!": str, "slug!": str, "name!": str, "dateCreated!": timestamp, "isMember!": boolean,
		"teamRole": str, "hasAccess!": boolean, "isPending": boolean, "memberCount": integer, "avatar": obj(avatar),
		"orgRole": str}
	// teamMember is what the member↔team POST and DELETE are decoded into.
	teamMember = shape{"id!": str, "slug!": str, "name!": str, "dateCreated": timestamp, "isMember": boolean,
		"teamRole": str, "flags": mapOf(boolean), "access": list(str), "hasAccess": boolean, "isPending": boolean,
		"memberCount": integer, "avatar": obj(avatar)}
	teamMemberUpdate = shape{"isActive!": boolean, "teamRole": str}
	summaryTeam      = shape{"id!": str, "name!": str, "slug!": str}
	// projectTeam is go-sentry's Team as embedded in a project: every
	// field a pointer, so only the identity is required.
	projectTeam = shape{"id!": str, "slug!": str, "name!": str, "dateCreated": timestamp, "isMember": boolean,
		"teamRole": str, "hasAccess": boolean, "isPending": boolean, "memberCount": integer, "avatar": obj(avatar)}
	projectSummary = shape{"id!": str, "name!": str, "slug!": str, "isBookmarked": boolean, "isMember!": boolean,
		"hasAccess!": boolean, "dateCreated!": timestamp, "firstEvent": timestamp, "platform": str,
		"platforms": list(str), "team": obj(summaryTeam), "teams!": list(obj(summaryTeam))}
	project = shape{"id!": str, "slug!": str, "name!": str, "isPublic": boolean, "isBookmarked": boolean,
		"color": str, "dateCreated!": timestamp, "firstEvent": timestamp, "features": list(str), "status": str,
		"platform": str, "isInternal": boolean, "isMember!": boolean, "hasAccess!": boolean, "avatar": obj(avatar),
		"options": mapOf(func(any) error { return nil }), "digestsMinDelay": integer, "digestsMaxDelay": integer,
		"subjectPrefix": str, "allowedDomains": list(str), "resolveAge": integer, "dataScrubber": boolean,
		"dataScrubberDefaults": boolean, "fingerprintingRules": str, "safeFields": list(str),
		"sensitiveFields": list(str), "subjectTemplate": str, "securityToken": str, "securityTokenHeader": str,
		"verifySSL": boolean, "scrubIPAddresses": boolean, "scrapeJavaScript": boolean,
		"organization": obj(organization), "processingIssues": integer, "team": obj(projectTeam), "teams!": list(obj(projectTeam)),
		"groupingEnhancements": str}
)

// client sends requests as go-sentry does: base URL .../api/, paths
// "0/…", a bearer token, JSON bodies, and the answer decoded with
// UseNumber; a status outside 2xx is an error.
type client struct {
	t     *testing.T
	base  string
	token string
}

type reply struct {
	status int
	header http.Header
	body   any
}

func (c *client) do(method, path string, body any) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			c.t.Fatal(err)
		}
		rd = &buf
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "go-sentry")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		c.t.Fatalf("%s %s = %d %s: go-sentry returns an *ErrorResponse", method, path, resp.StatusCode, raw)
	}
	out := reply{status: resp.StatusCode, header: resp.Header}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out.body); err != nil && err != io.EOF {
		c.t.Fatalf("%s %s: go-sentry cannot decode the answer: %v (%s)", method, path, err, raw)
	}
	return out
}

// linkPart is one element of a Link header.
var linkPart = regexp.MustCompile(`<([^>]*)>((?:\s*;\s*[a-zA-Z]+="[^"]*")*)`)
var linkParam = regexp.MustCompile(`([a-zA-Z]+)="([^"]*)"`)

// nextCursor is go-sentry's populatePaginationCursor: the cursor of
// rel="next" when its results="true", else "".
func nextCursor(h http.Header) string {
	for _, m := range linkPart.FindAllStringSubmatch(h.Get("Link"), -1) {
		params := map[string]string{}
		for _, p := range linkParam.FindAllStringSubmatch(m[2], -1) {
			params[p[1]] = p[2]
		}
		if params["rel"] == "next" && params["results"] == "true" {
			return params["cursor"]
		}
	}
	return ""
}

// listAll follows go-sentry's ListCursorParams: the same path with
// ?cursor= from each answer until no next page has results, checking every
// item against s.
func (c *client) listAll(path string, s shape) []map[string]any {
	c.t.Helper()
	var all []map[string]any
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			c.t.Fatalf("%s: more than 1000 pages", path)
		}
		p := path
		if cursor != "" {
			p += "?cursor=" + cursor
		}
		r := c.do("GET", p, nil)
		items, ok := r.body.([]any)
		if !ok {
			c.t.Fatalf("GET %s: want a list, got %T", p, r.body)
		}
		for i, it := range items {
			if err := s.check(it); err != nil {
				c.t.Errorf("GET %s [%d]%v", p, i, err)
			}
			all = append(all, it.(map[string]any))
		}
		if cursor = nextCursor(r.header); cursor == "" {
			return all
		}
	}
}

func (c *client) one(method, path string, body any, s shape) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body)
	if err := s.check(r.body); err != nil {
		c.t.Errorf("%s %s%v", method, path, err)
	}
	m, _ := r.body.(map[string]any)
	return m
}

func newClient(t *testing.T, fx *sentrysim.Fixture) *client {
	t.Helper()
	srv, err := sentrysim.New(fx, sentrysim.Options{Now: sentrysim.DemoEpoch})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return &client{t: t, base: ts.URL + "/api/", token: sentrysim.DemoOwnerToken}
}

const org = sentrysim.DemoOrgSlug

// TestGoSentryPagesThroughALargeOrganization lists members, teams and
// projects of an organization larger than one page the way go-sentry does,
// and gets every item exactly once.
func TestGoSentryPagesThroughALargeOrganization(t *testing.T) {
	t.Parallel()
	fx := sentrysim.Generate(sentrysim.GenOptions{Members: 230, Teams: 120, Projects: 150, Seed: 3})
	c := newClient(t, fx)
	unique := func(what string, items []map[string]any, want int) {
		t.Helper()
		seen := map[any]bool{}
		for _, it := range items {
			if seen[it["id"]] {
				t.Errorf("%s: id %v twice", what, it["id"])
			}
			seen[it["id"]] = true
		}
		if len(seen) != want {
			t.Errorf("%s: %d, want %d", what, len(seen), want)
		}
	}
	approved := 0
	for _, m := range fx.Members {
		if m.InviteStatus == "" || m.InviteStatus == "approved" {
			approved++
		}
	}
	unique("members", c.listAll("0/organizations/"+org+"/members/", member), approved)
	unique("teams", c.listAll("0/organizations/"+org+"/teams/", team), len(fx.Teams))
	unique("projects", c.listAll("0/organizations/"+org+"/projects/", projectSummary), len(fx.Projects))
}

// TestGoSentryCallsOnTheDemoOrganization runs go-sentry's calls for
// organizations, members, teams, team members, projects and project teams
// in the order a Terraform apply would, and checks each answer against the
// type go-sentry decodes it into.
func TestGoSentryCallsOnTheDemoOrganization(t *testing.T) {
	t.Parallel()
	c := newClient(t, sentrysim.DemoFixture())

	// Organizations.
	orgs := c.listAll("0/organizations/", organization)
	if len(orgs) != 1 || orgs[0]["slug"] != org {
		t.Errorf("organizations = %v", orgs)
	}
	c.one("GET", "0/organizations/"+org+"/", nil, organization)

	// Teams: create, get, update, list, delete.
	created := c.one("POST", "0/organizations/"+org+"/teams/", map[string]any{"name": "Terraform", "slug": "terraform"}, team)
	if created["slug"] != "terraform" {
		t.Errorf("created team = %v", created)
	}
	c.one("GET", "0/teams/"+org+"/terraform/", nil, team)
	renamed := c.one("PUT", "0/teams/"+org+"/terraform/", map[string]any{"name": "Terraform Managed", "slug": "tf-managed"}, team)
	if renamed["slug"] != "tf-managed" || renamed["name"] != "Terraform Managed" {
		t.Errorf("updated team = %v", renamed)
	}

	// Members: create (go-sentry sends "role" and "teams"), get, update
	// (go-sentry sends "role" and the full "teamRoles"), list.
	m := c.one("POST", "0/organizations/"+org+"/members/", map[string]any{"email": "tf@acme.test", "role": "member", "teams": []string{"tf-managed"}}, member)
	id, _ := m["id"].(string)
	got := c.one("GET", "0/organizations/"+org+"/members/"+id+"/", nil, member)
	if got["orgRole"] != "member" {
		t.Errorf("member = %v", got)
	}
	role := "admin"
	upd := c.one("PUT", "0/organizations/"+org+"/members/"+id+"/", map[string]any{"role": "manager",
		"teamRoles": []map[string]any{{"teamSlug": "tf-managed", "role": &role}}}, member)
	if upd["orgRole"] != "manager" {
		t.Errorf("updated member = %v", upd)
	}

	// Team members: add an accepted member, set the team role, remove.
	const irene = "1017"
	c.one("POST", "0/organizations/"+org+"/members/"+irene+"/teams/tf-managed/", nil, teamMember)
	tr := c.one("PUT", "0/organizations/"+org+"/members/"+irene+"/teams/tf-managed/", map[string]any{"teamRole": "admin"}, teamMemberUpdate)
	if tr["teamRole"] != "admin" {
		t.Errorf("team role = %v", tr)
	}
	if r := c.do("POST", "0/organizations/"+org+"/members/"+irene+"/teams/tf-managed/", nil); r.status != http.StatusNoContent || r.body != nil {
		t.Errorf("adding again = %d %v, want 204 without a body", r.status, r.body)
	}
	c.one("DELETE", "0/organizations/"+org+"/members/"+irene+"/teams/tf-managed/", nil, teamMember)

	// Projects: get, add and remove a team, list.
	c.one("GET", "0/projects/"+org+"/search-indexer/", nil, project)
	p := c.one("POST", "0/projects/"+org+"/search-indexer/teams/tf-managed/", nil, project)
	if !hasTeam(p, "tf-managed") {
		t.Errorf("project after AddTeam = %v", p["teams"])
	}
	if r := c.do("DELETE", "0/projects/"+org+"/search-indexer/teams/tf-managed/", nil); r.status != http.StatusOK {
		t.Errorf("RemoveTeam = %d", r.status)
	}
	c.listAll("0/organizations/"+org+"/projects/", projectSummary)

	// Deletes.
	if r := c.do("DELETE", "0/organizations/"+org+"/members/"+id+"/", nil); r.status != http.StatusNoContent {
		t.Errorf("delete member = %d", r.status)
	}
	if r := c.do("DELETE", "0/teams/"+org+"/tf-managed/", nil); r.status != http.StatusNoContent {
		t.Errorf("delete team = %d", r.status)
	}
	for _, tm := range c.listAll("0/organizations/"+org+"/teams/", team) {
		if tm["slug"] == "tf-managed" {
			t.Errorf("deleted team still listed")
		}
	}
}

func hasTeam(p map[string]any, slug string) bool {
	ts, _ := p["teams"].([]any)
	for _, x := range ts {
		if m, ok := x.(map[string]any); ok && m["slug"] == slug {
			return true
		}
	}
	return false
}

// TestNextCursorFollowsGoSentry pins the Link reading this suite relies on
// to go-sentry's: rel="next" with results="true" only.
func TestNextCursorFollowsGoSentry(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Link", `<https://x/?cursor=100:-1:1>; rel="previous"; results="false"; cursor="100:-1:1", <https://x/?cursor=100:1:0>; rel="next"; results="true"; cursor="100:1:0"`)
	if got := nextCursor(h); got != "100:1:0" {
		t.Errorf("next = %q", got)
	}
	h.Set("Link", `<https://x/?cursor=100:0:1>; rel="previous"; results="true"; cursor="100:0:1", <https://x/?cursor=100:2:0>; rel="next"; results="false"; cursor="100:2:0"`)
	if got := nextCursor(h); got != "" {
		t.Errorf("next on the last page = %q, want none", got)
	}
}
