package access

import (
	"fmt"
	"slices"
	"strings"
)

// Decision is the answer to "may this principal reach this project (and
// hold this scope there)?" with its reasons as a readable chain: the first
// reason starts with "allowed: " or "denied: ", and String joins them.
// Paths are the paths that grant access to the project, if any.
type Decision struct {
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons"`
	Paths   []Path   `json:"paths,omitempty"`
}

// String renders the decision as one sentence, e.g. "denied: open
// membership is off; the member's org role Member is not global;
// payment-api is linked to teams payments and platform; the member is on
// neither."
func (d Decision) String() string { return strings.Join(d.Reasons, "; ") + "." }

// Explain decides whether the member with id or email memberRef reaches
// the project projectSlug and, when scope is not empty, whether it holds
// that scope there, and from which source (org role, team role on a team)
// or why not. memberRef may also name an internal integration's slug.
// It returns ErrUnknownMember or ErrUnknownProject.
func (e *Engine) Explain(memberRef, projectSlug, scope string) (Decision, error) {
	p, ok := e.projectBySlug[projectSlug]
	if !ok {
		return Decision{}, fmt.Errorf("explain: project %q: %w", projectSlug, ErrUnknownProject)
	}
	i, ok := e.lookupMember(memberRef)
	if !ok {
		if in, found := e.integration(memberRef); found {
			return e.explainIntegration(in, projectSlug, scope), nil
		}
		return Decision{}, fmt.Errorf("explain: member %q: %w", memberRef, ErrUnknownMember)
	}
	m := &e.snap.Members[i]
	mi := &e.members[i]
	if mi.limited != nil {
		return e.explainLimited(i, p), nil
	}
	if !mi.active {
		return Decision{Reasons: []string{"denied: " + e.globalReason(i)}}, nil
	}
	scopes, paths, reached := e.reach(i, p)
	if !reached {
		return Decision{Reasons: e.deniedNoAccess(i, p)}, nil
	}
	var details []string
	for _, pt := range paths {
		details = append(details, pt.Detail)
	}
	if scope == "" {
		reasons := []string{"allowed: " + m.Email + " reaches " + projectSlug}
		reasons = append(reasons, details...)
		return Decision{Allowed: true, Reasons: reasons, Paths: paths}, nil
	}
	held := slices.Contains(scopes, scope)
	var reasons []string
	if held {
		reasons = append(reasons, "allowed: "+scope+" is held on "+projectSlug)
	} else {
		reasons = append(reasons, "denied: "+scope+" is not held on "+projectSlug)
		if !slices.Contains(AllScopes(), scope) {
			reasons = append(reasons, scope+" is not a Sentry scope")
		}
	}
	reasons = append(reasons, "reached via "+joinAnd(details))
	reasons = append(reasons, e.orgRoleSource(mi.role, scope))
	linked := 0
	for _, st := range mi.seats {
		if st.team < 0 || st.eff < 0 || !slices.Contains(e.projectTeams[p], st.team) {
			continue
		}
		linked++
		r := e.teamRoles[st.eff]
		switch {
		case slices.Contains(e.teamScopes[st.eff], scope):
			reasons = append(reasons, "team role "+r.Name+" on team "+st.slug+" grants "+scope)
		case removedBySetting(e.snap.Org, r.Scopes, scope) != "":
			reasons = append(reasons, fmt.Sprintf("team role %s on team %s would grant %s but %s is off", r.Name, st.slug, scope, removedBySetting(e.snap.Org, r.Scopes, scope)))
		default:
			reasons = append(reasons, "team role "+r.Name+" on team "+st.slug+" does not grant "+scope)
		}
	}
	if linked == 0 {
		reasons = append(reasons, "the member is on no team linked to "+projectSlug+", so no team role applies")
	}
	return Decision{Allowed: held, Reasons: reasons, Paths: paths}, nil
}

// explainLimited denies a member over the member limit (whatever the scope)
// and says what would grant access once it has a seat, and what its tokens
// still do (docs/sentry-access-model.md#members-over-the-member-limit).
func (e *Engine) explainLimited(i, p int) Decision {
	m := &e.snap.Members[i]
	reasons := []string{"denied: " + m.Email + " is " + limitReason}
	project := e.snap.Projects[p].Slug
	if _, paths, ok := e.reachOf(e.members[i].limited, p); ok {
		var details []string
		for _, pt := range paths {
			details = append(details, pt.Detail)
		}
		reasons = append(reasons, "with a seat it would reach "+project+" via "+joinAnd(details))
	} else {
		reasons = append(reasons, "even with a seat it would not reach "+project)
	}
	return Decision{Reasons: append(reasons, limitTokens)}
}

// orgRoleSource says whether org role r grants scope, or why not.
func (e *Engine) orgRoleSource(r int, scope string) string {
	role := e.orgRoles[r]
	if slices.Contains(e.orgScopes[r], scope) {
		return "org role " + role.Name + " grants " + scope
	}
	if setting := removedBySetting(e.snap.Org, role.Scopes, scope); setting != "" {
		return fmt.Sprintf("org role %s would grant %s but %s is off and %s holds none of org:write, project:write, team:write",
			role.Name, scope, setting, role.Name)
	}
	return "org role " + role.Name + " does not grant " + scope
}

// deniedNoAccess explains why an active member does not reach project p.
func (e *Engine) deniedNoAccess(i, p int) []string {
	mi := &e.members[i]
	project := e.snap.Projects[p].Slug
	if mi.role < 0 {
		return []string{"denied: " + e.globalReason(i)}
	}
	role := e.orgRoles[mi.role]
	reasons := []string{
		"denied: open membership is off",
		"the member's org role " + role.Name + " is not global",
	}
	var slugs []string
	for _, t := range e.projectTeams[p] {
		slugs = append(slugs, e.snap.Teams[t].Slug)
	}
	switch {
	case len(slugs) == 0:
		reasons = append(reasons, project+" is linked to no team")
	case len(slugs) == 1:
		reasons = append(reasons, project+" is linked to team "+slugs[0], "the member is not on it")
	case len(slugs) == 2:
		reasons = append(reasons, project+" is linked to teams "+slugs[0]+" and "+slugs[1], "the member is on neither")
	default:
		reasons = append(reasons, project+" is linked to teams "+joinAnd(slugs), "the member is on none of them")
	}
	return reasons
}

func (e *Engine) integration(slug string) (Integration, bool) {
	for _, in := range e.integrations {
		if in.Slug == slug {
			return in, true
		}
	}
	return Integration{}, false
}

// explainIntegration applies OrganizationGlobalMembership: an internal
// integration reaches every project with its own scopes (docs/sentry-access-model.md#effective-access).
func (e *Engine) explainIntegration(in Integration, project, scope string) Decision {
	path := Path{Kind: PathIntegration, Detail: "internal integration " + in.Name + " acts as a member of every team"}
	d := Decision{Allowed: true, Paths: []Path{path}}
	switch {
	case scope == "":
		d.Reasons = []string{"allowed: " + in.Slug + " reaches " + project, path.Detail}
	case slices.Contains(in.Scopes, scope):
		d.Reasons = []string{"allowed: " + scope + " is held on " + project, "internal integration " + in.Name + " has " + scope}
	default:
		d.Allowed = false
		d.Reasons = []string{"denied: " + scope + " is not held on " + project, "internal integration " + in.Name + " does not have " + scope}
	}
	return d
}
