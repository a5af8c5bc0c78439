package sentrysim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// Legacy mode (Options.Legacy) imitates what older self-hosted Sentry
// servers send, so that the client and the syncer are tested against
// them (docs/sentry-access-model.md#older-and-self-hosted-servers). It is a
// composite of the known differences, not one release:
//
//   - The organization detail is DetailedOrganizationSerializer before
//     team roles (src/sentry/api/serializers/models/organization.py at
//     0016022e): availableRoles instead of orgRoleList and teamRoleList,
//     the caller's role only as "role", and no eventsMemberAdmin,
//     alertsMemberWrite, allowMemberInvite, allowMemberProjectCreation,
//     requiresSso, hasAuthProvider or links. PUT ignores the settings that
//     server did not know.
//   - Those servers had no eventsMemberAdmin or alertsMemberWrite option,
//     so members keep event:admin and alerts:write (their defaults,
//     EVENTS_MEMBER_ADMIN_DEFAULT and ALERTS_MEMBER_WRITE_DEFAULT in
//     src/sentry/constants.py).
//   - The projects list ignores all_projects=1 and comes in pages.
//   - The audit log is a bare list of rows (no options).
//   - No X-Sentry-Rate-Limit-* headers (self-hosted skips rate limiting:
//     src/sentry/middleware/ratelimit.py).
//
// The handlers that differ are in h_read.go (projects, audit log) and
// here (organization detail and list).

// legacyOrgFields are the organization fields a legacy server leaves out.
var legacyOrgFields = []string{
	"orgRoleList", "teamRoleList", "eventsMemberAdmin", "alertsMemberWrite", "allowMemberInvite",
	"allowMemberProjectCreation", "requiresSso", "hasAuthProvider", "links", "orgRole",
}

// legacyOrgSettings are the PUT fields a legacy server does not know (its
// serializer drops them).
var legacyOrgSettings = []string{"eventsMemberAdmin", "alertsMemberWrite", "allowMemberInvite", "allowMemberProjectCreation"}

// legacyState turns the options a legacy server did not have into their
// defaults.
func (s *Server) legacyState() {
	s.st.org.eventsMemberAdmin, s.st.org.alertsMemberWrite = true, true
}

// legacyHandler returns the legacy handler of an endpoint pattern, or nil
// when the endpoint answers as in modern mode.
func (s *Server) legacyHandler(pattern string) func(*call) {
	if !s.legacy {
		return nil
	}
	switch pattern {
	case "GET /api/0/organizations/{org}/{$}":
		return func(c *call) { s.legacyOrg(c, s.getOrg) }
	case "PUT /api/0/organizations/{org}/{$}":
		return func(c *call) {
			if !c.dropBodyFields(legacyOrgSettings) {
				return
			}
			s.legacyOrg(c, s.putOrg)
		}
	}
	return nil
}

// legacyOrg runs a modern organization handler and answers its body in
// the legacy shape.
func (s *Server) legacyOrg(c *call, h func(*call)) {
	rec := &bufferedWriter{header: http.Header{}}
	w := c.w
	c.w = rec
	h(c)
	c.w = w
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	var body map[string]any
	if rec.status/100 != 2 || json.Unmarshal(rec.buf.Bytes(), &body) != nil {
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.buf.Bytes())
		return
	}
	for _, f := range legacyOrgFields {
		delete(body, f)
	}
	roles := make([]map[string]string, 0, len(s.st.roles.org))
	for _, r := range s.st.roles.org {
		roles = append(roles, map[string]string{"id": r.id, "name": r.name})
	}
	body["availableRoles"] = roles
	body["isDefault"] = false
	c.json(rec.status, body)
}

// legacyOrgSummaries strips the organization list's elements of the fields
// the summary serializer of that era lacked.
func legacyOrgSummaries(orgs []orgSummary) []map[string]any {
	out := make([]map[string]any, 0, len(orgs))
	for _, o := range orgs {
		b, _ := json.Marshal(o)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		for _, f := range []string{"links", "hasAuthProvider", "allowMemberInvite", "allowMemberProjectCreation", "allowSuperuserAccess"} {
			delete(m, f)
		}
		out = append(out, m)
	}
	return out
}

// dropBodyFields removes fields from a JSON object body before a handler
// decodes it; false means a 400 has been written.
func (c *call) dropBodyFields(fields []string) bool {
	raw, err := io.ReadAll(c.r.Body)
	if err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return false
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		c.detail(http.StatusBadRequest, "Malformed request body.")
		return false
	}
	for _, f := range fields {
		delete(body, f)
	}
	raw, _ = json.Marshal(body)
	c.r.Body = io.NopCloser(bytes.NewReader(raw))
	return true
}

// bufferedWriter records a handler's answer.
type bufferedWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}
