package sentrysim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// SessionCookie is the name of Sentry's browser session cookie.
const SessionCookie = "sentrysid"

// SignIn starts a browser session for the user of the member with this
// email, as if the person had signed in to Sentry's UI (through SSO when
// the org has a provider, so the SSO gate is passed), and returns its
// cookie. A session holds the member's org-role scopes, bounded by no
// token. Requests carrying it are checked by the session-only gates of
// determine_access; the simulator models the member limit
// (docs/sentry-access-model.md#members-over-the-member-limit). A pending
// invite has no user to sign in.
func (s *Server) SignIn(email string) (*http.Cookie, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.memberByEmail[strings.ToLower(email)]
	if m == nil || m.user == nil {
		return nil, fmt.Errorf("sign in %s: no member with a user has that email", email)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	v := hex.EncodeToString(b)
	if s.sessions == nil {
		s.sessions = map[string]int64{}
	}
	s.sessions[v] = m.user.id
	return &http.Cookie{Name: SessionCookie, Value: v, Path: "/", HttpOnly: true}, nil
}

// sessionPrincipal resolves a session cookie to its member's principal:
// session authentication holds the org role's scopes (member.get_scopes,
// no token to intersect with). It returns nil when r carries no live
// session of a current member. The caller holds s.mu.
func (s *Server) sessionPrincipal(r *http.Request) *principal {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	uid, ok := s.sessions[ck.Value]
	if !ok {
		return nil
	}
	m := s.st.memberByUser[uid]
	if m == nil || m.user == nil {
		return nil
	}
	scopes := s.st.orgScopes(m.role)
	return &principal{kind: kindUser, session: true, key: "user:" + fmt.Sprint(uid), member: m, scopes: scopes, upper: allScopes()}
}

// memberLimitGate answers Sentry's MemberDisabledOverLimit (401, code
// member-disabled-over-limit, extra.next the disabled-member page;
// src/sentry/api/exceptions.py) and reports false when the caller is a
// session of a member over the member limit and the endpoint is not
// exempt (docs/sentry-access-model.md#members-over-the-member-limit).
func (c *call) memberLimitGate(e endpoint) bool {
	if e.limitExempt || !c.st().disabledFromLimit(c.p) {
		return true
	}
	c.json(http.StatusUnauthorized, map[string]any{"detail": map[string]any{
		"code":    "member-disabled-over-limit",
		"message": "Organization over member limit",
		"extra":   map[string]any{"next": "/organizations/" + c.st().org.slug + "/disabled-member/"},
	}})
	return false
}
