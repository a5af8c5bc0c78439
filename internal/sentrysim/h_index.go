package sentrysim

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// The endpoints outside any organization that other Sentry tools call
// first: the API index (who am I) and the caller's organizations.

// apiIndex is GET /api/0/ (src/sentry/api/endpoints/index.py): no
// permission classes; "auth" carries the credential's own scopes and
// "user" the authenticated user, both null for an anonymous request (a
// browser session has a user and no "auth"). An
// org auth token has no user; an internal integration's token
// authenticates as the integration's proxy user (a User with
// is_sentry_app, created with the app: src/sentry/mediators/sentry_apps/creator.py),
// who is no member of the organization.
func (s *Server) apiIndex(c *call) {
	out := struct {
		Version string               `json:"version"`
		Auth    *sentry.APIIndexAuth `json:"auth"`
		User    *indexUser           `json:"user"`
	}{Version: "0"}
	if p := c.p; p != nil {
		if !p.session {
			out.Auth = &sentry.APIIndexAuth{Scopes: slices.Clone(p.upper)}
		}
		switch p.kind {
		case kindUser:
			if p.member != nil {
				out.User = selfUser(p.member.user)
			}
		case kindIntegration, kindSCIM:
			out.User = s.proxyUser(p.app)
		}
	}
	c.json(http.StatusOK, out)
}

// indexUser is Sentry's UserSerializer as the user sees themself
// (src/sentry/users/api/serializers/user.py), reduced to what identifies
// them.
type indexUser struct {
	sentry.User
	IsSuperuser bool         `json:"isSuperuser"`
	IsStaff     bool         `json:"isStaff"`
	Emails      []indexEmail `json:"emails"`
}

type indexEmail struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	IsVerified bool   `json:"is_verified"`
}

func selfUser(u *user) *indexUser {
	if u == nil {
		return nil
	}
	return &indexUser{User: *apiUser(u), Emails: []indexEmail{{ID: id(u.id), Email: u.email, IsVerified: true}}}
}

// proxyUserBase numbers the integrations' proxy users apart from members'
// users.
const proxyUserBase = 9_000_000

// proxyUser is an integration's proxy user: named by the app's slug, with
// no email and no password.
func (s *Server) proxyUser(a *app) *indexUser {
	if a == nil {
		return nil
	}
	n := int64(slices.Index(s.st.apps, a))
	return &indexUser{User: sentry.User{ID: id(proxyUserBase + n), Name: a.slug, Username: a.slug, IsActive: true,
		DateJoined: a.dateCreated}, Emails: []indexEmail{}}
}

// orgSummary is Sentry's OrganizationSerializer (the organization list's
// element): the schema's required fields.
type orgSummary struct {
	ID                         string                    `json:"id"`
	Slug                       string                    `json:"slug"`
	Status                     orgStatus                 `json:"status"`
	Name                       string                    `json:"name"`
	DateCreated                time.Time                 `json:"dateCreated"`
	IsEarlyAdopter             bool                      `json:"isEarlyAdopter"`
	Require2FA                 bool                      `json:"require2FA"`
	Avatar                     orgAvatar                 `json:"avatar"`
	Links                      *sentry.OrganizationLinks `json:"links"`
	HasAuthProvider            bool                      `json:"hasAuthProvider"`
	AllowMemberInvite          bool                      `json:"allowMemberInvite"`
	AllowMemberProjectCreation bool                      `json:"allowMemberProjectCreation"`
	AllowSuperuserAccess       bool                      `json:"allowSuperuserAccess"`
	Features                   []string                  `json:"features"`
}

type orgStatus struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type orgAvatar struct {
	AvatarType string  `json:"avatarType"`
	AvatarUUID *string `json:"avatarUuid"`
	AvatarURL  *string `json:"avatarUrl"`
}

// listOrganizations is GET /api/0/organizations/
// (src/sentry/core/endpoints/organization_index.py): the organizations the
// user is a member of, paginated. A token without a user is limited to its
// own organization; an integration's proxy user is a member of none. The
// scope check is OrganizationPermission's (org:read for GET).
func (s *Server) listOrganizations(c *call) {
	var orgs []orgSummary
	switch {
	case c.p.kind == kindOrgToken, c.p.isMemberUser():
		orgs = append(orgs, s.orgSummary(c))
	}
	page, ok := paginateOffset(c, orgs)
	if !ok {
		return
	}
	if page == nil {
		page = []orgSummary{}
	}
	if s.legacy {
		c.json(http.StatusOK, legacyOrgSummaries(page))
		return
	}
	c.json(http.StatusOK, page)
}

// orgSummary is the organization as OrganizationSerializer answers it
// (src/sentry/api/serializers/models/organization.py): an element of the
// organization list and a project's "organization".
func (s *Server) orgSummary(c *call) orgSummary {
	st := s.st
	o := st.org
	return orgSummary{ID: id(o.id), Slug: o.slug, Status: orgStatus{"active", "active"}, Name: o.name,
		DateCreated: o.dateCreated, Require2FA: o.require2FA, Avatar: orgAvatar{AvatarType: "letter_avatar"},
		Links: s.orgLinks(c), HasAuthProvider: st.authProvider != nil, AllowMemberInvite: o.allowMemberInvite,
		AllowMemberProjectCreation: o.allowMemberProjectCreation, Features: slices.Clone(o.features)}
}

// orgSummaryBody is orgSummary as the server's era sends it.
func (s *Server) orgSummaryBody(c *call) any {
	if s.legacy {
		return legacyOrgSummaries([]orgSummary{s.orgSummary(c)})[0]
	}
	return s.orgSummary(c)
}

// orgLinks is the organization's links: the configured region URL, else
// the simulator's own URL (self-hosted Sentry answers its system URL for
// both).
func (s *Server) orgLinks(c *call) *sentry.OrganizationLinks {
	base := s.regionURL
	if base == "" {
		scheme := "http"
		if c.r.TLS != nil {
			scheme = "https"
		}
		base = (&url.URL{Scheme: scheme, Host: c.r.Host}).String()
	}
	return &sentry.OrganizationLinks{OrganizationURL: base, RegionURL: base}
}
