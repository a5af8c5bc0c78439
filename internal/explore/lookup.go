package explore

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/sentry-access/sentry-access/internal/access"
)

// SuggestLimit is the most suggestions Suggest returns.
const SuggestLimit = 20

// Lookup is the answer of the permission lookup page. Asked is false when
// member or project is empty (the form is shown without an answer).
type Lookup struct {
	Snapshot SnapshotInfo
	Member   string
	Project  string
	Scope    string
	Scopes   []string // every Sentry scope, for the select
	Asked    bool
	Decision access.Decision
	// Fixes, on a denial of an active member, are the change requests that
	// would grant the access: joining a team linked to the project
	// (teams whose membership SCIM manages last).
	Fixes []LookupFix
	// Restriction, when the member is over the plan's member limit, is
	// why it is denied whatever its teams: no team change would help.
	Restriction *access.Restriction
}

// LookupFix is one way to grant the access asked about: the change request
// that adds Member (an id) to Team.
type LookupFix struct {
	Label  string
	Href   string // the change-request form, prefilled
	Member string
	Team   string
}

// Lookup decides whether member (id, email or integration slug) reaches
// project and holds scope there, with the rule chain. Unknown members or
// projects and unknown scopes are EINVALID errors (the user typed them).
func (s *Service) Lookup(ctx context.Context, member, project, scope string) (Lookup, error) {
	st, err := s.load()
	if err != nil {
		return Lookup{}, err
	}
	member, project, scope = strings.TrimSpace(member), strings.TrimSpace(project), strings.TrimSpace(scope)
	out := Lookup{Snapshot: st.info(), Member: member, Project: project, Scope: scope, Scopes: access.AllScopes()}
	if scope != "" && !slices.Contains(out.Scopes, scope) {
		return out, invalid("%q is not a Sentry scope.", scope)
	}
	if member == "" || project == "" {
		return out, ctx.Err()
	}
	d, err := st.eng.Explain(member, project, scope)
	switch {
	case errors.Is(err, access.ErrUnknownMember):
		return out, invalid("No member or integration %q in snapshot %d.", member, st.meta.ID)
	case errors.Is(err, access.ErrUnknownProject):
		return out, invalid("No project %q in snapshot %d.", project, st.meta.ID)
	case err != nil:
		return out, err
	}
	out.Asked, out.Decision = true, d
	if ma, err := st.eng.MemberTeams(member); err == nil {
		out.Restriction = ma.Restriction
	}
	if !d.Allowed && out.Restriction == nil {
		out.Fixes = lookupFixes(st, member, project)
	}
	return out, ctx.Err()
}

// lookupFixes proposes adding an active member to each team linked to the
// project; SCIM-managed teams come last, since Sentry refuses direct
// membership changes on them (docs/sentry-access-model.md#scim).
func lookupFixes(st *state, member, project string) []LookupFix {
	ma, err := st.eng.MemberTeams(member)
	if err != nil || (ma.Member.State != access.StateActive && ma.Member.State != "") {
		return nil
	}
	pi, ok := st.projectBySlug[project]
	if !ok {
		return nil
	}
	var fixes, managed []LookupFix
	for _, t := range st.projects[pi].p.Teams {
		q := url.Values{"kind": {"team-add"}, "member": {ma.Member.ID}, "team": {t}, "project": {project}}
		fix := LookupFix{Label: "Request adding " + ma.Member.Email + " to team " + t, Href: "/changes/new?" + q.Encode(),
			Member: ma.Member.ID, Team: t}
		if ti, ok := st.teamBySlug[t]; ok && st.teams[ti].t.IDPProvisioned {
			fix.Label += " (membership managed by SCIM: change it in the IdP)"
			managed = append(managed, fix)
			continue
		}
		fixes = append(fixes, fix)
	}
	return append(fixes, managed...)
}

// Suggestion is one completion for a lookup input.
type Suggestion struct {
	Value string
	Label string
}

// Suggest returns up to SuggestLimit members (kind "member": by email or
// name; integrations by slug) or projects (kind "project": by slug) whose
// text contains q, prefix matches first. Any other kind is EINVALID.
func (s *Service) Suggest(ctx context.Context, kind, q string) ([]Suggestion, error) {
	st, err := s.load()
	if err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	var prefix, inner []Suggestion
	// add files a row whose text contains q as a prefix or an inner
	// match; the label is built only for the rows kept.
	add := func(text string, sg func() Suggestion) {
		switch {
		case q == "" || strings.HasPrefix(text, q):
			if len(prefix) < SuggestLimit {
				prefix = append(prefix, sg())
			}
		case len(inner) < SuggestLimit && strings.Contains(text, q):
			inner = append(inner, sg())
		}
	}
	switch kind {
	case "member":
		rows := st.memberText.rows(q)
		if q == "" {
			rows = everyRow(len(st.members))
		}
		for i := range rows {
			r := &st.members[i]
			add(r.search, func() Suggestion { return Suggestion{Value: r.m.Email, Label: r.m.Name + " (" + r.m.OrgRole + ")"} })
			if len(prefix) >= SuggestLimit {
				break
			}
		}
		for _, in := range st.snap.Integrations {
			add(strings.ToLower(in.Slug+" "+in.Name), func() Suggestion { return Suggestion{Value: in.Slug, Label: in.Name + " (integration)"} })
		}
	case "project":
		rows := st.projectText.rows(q)
		if q == "" {
			rows = everyRow(len(st.projects))
		}
		for i := range rows {
			p := &st.projects[i]
			add(p.search, func() Suggestion { return Suggestion{Value: p.p.Slug, Label: p.p.Platform} })
			if len(prefix) >= SuggestLimit {
				break
			}
		}
	default:
		return nil, invalid("kind must be member or project (got %q).", kind)
	}
	out := append(prefix, inner...)
	if len(out) > SuggestLimit {
		out = out[:SuggestLimit]
	}
	return out, ctx.Err()
}
