package changes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// BlueprintTerraform plans bp against the current snapshot for actor and
// writes the organization the plan leads to as Terraform
// (BlueprintHCL). Errors are those of PlanBlueprint.
func (s *Service) BlueprintTerraform(ctx context.Context, actor sentryaccess.Actor, bp *Blueprint) ([]byte, error) {
	d, err := s.PlanBlueprint(ctx, actor, bp)
	if err != nil {
		return nil, err
	}
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("blueprint terraform: snapshot: %w", err)
	}
	return BlueprintHCL(snap, bp, d.Steps)
}

// BlueprintHCL writes what blueprint bp manages, once its plan steps are
// applied to s, as Terraform for the jianyuan/sentry provider (a
// required_providers block names it): a sentry_team per blueprint team, a
// sentry_project per project the blueprint names with every team it is
// linked to after the plan (the provider models a project's teams as the
// project's "teams" set of slugs), and, for teams that list members, a
// sentry_organization_member and a sentry_team_member (member_id from the
// member's internal_id, the blueprint's team role) per member. What
// already exists gets an import block (Terraform 1.5 or later) with the
// provider's import ids: org/team, org/project, org/member-id and
// org/team/member-id. The provider's attribute names are those of its
// docs/resources/{team,project,organization_member,team_member}.md.
// Terraform has no expiry and manages only what it declares: a header
// comment says so for time-bound and pruning blueprints.
func BlueprintHCL(s *access.Snapshot, bp *Blueprint, steps []Step) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	root := f.Body()
	org := cty.StringVal(s.Org.Slug)
	header := []string{fmt.Sprintf("# Blueprint %q for organization %s, written by sentry-access.", bp.Name, s.Org.Slug)}
	if bp.Expires != "" {
		header = append(header, fmt.Sprintf("# The blueprint is time-bound (%s): Terraform has no expiry, so destroy these resources when it ends.", bp.Expires))
	}
	if bp.Prune {
		header = append(header, "# The blueprint prunes: the members and teams it removes are not declared here, and Terraform leaves what it does not declare alone.")
	}
	for _, h := range header {
		root.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(h + "\n")}})
	}
	requiredProviders(root)

	after, err := access.Apply(s, planChanges(s, steps))
	if err != nil {
		return nil, fmt.Errorf("blueprint terraform: %w", err)
	}
	used := map[string]bool{}
	teamRef := map[string]string{}
	existing := func(team string) bool {
		return slices.ContainsFunc(s.Teams, func(t access.Team) bool { return t.Slug == team })
	}
	ref := func(parts ...string) hclwrite.Tokens {
		tr := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
		for _, p := range parts[1:] {
			tr = append(tr, hcl.TraverseAttr{Name: p})
		}
		return hclwrite.TokensForTraversal(tr)
	}
	imports := func(kind, name, id string) {
		b := root.AppendNewBlock("import", nil).Body()
		b.SetAttributeRaw("to", ref(kind, name))
		b.SetAttributeValue("id", cty.StringVal(id))
		root.AppendNewline()
	}
	for _, bt := range bp.Teams {
		name := tfName(bt.Slug, used)
		teamRef[bt.Slug] = name
		b := root.AppendNewBlock("resource", []string{"sentry_team", name}).Body()
		b.SetAttributeValue("organization", org)
		b.SetAttributeValue("name", cty.StringVal(cmpOr(bt.Name, teamName(s, bt.Slug))))
		b.SetAttributeValue("slug", cty.StringVal(bt.Slug))
		root.AppendNewline()
		if existing(bt.Slug) {
			imports("sentry_team", name, s.Org.Slug+"/"+bt.Slug)
		}
	}
	var projects []string
	for _, bt := range bp.Teams {
		for _, p := range bt.Projects {
			if !slices.Contains(projects, p) {
				projects = append(projects, p)
			}
		}
	}
	slices.Sort(projects)
	for _, slug := range projects {
		i := slices.IndexFunc(after.Projects, func(p access.Project) bool { return p.Slug == slug })
		if i < 0 {
			continue
		}
		p := after.Projects[i]
		name := tfName("project_"+slug, used)
		b := root.AppendNewBlock("resource", []string{"sentry_project", name}).Body()
		b.SetAttributeValue("organization", org)
		b.SetAttributeValue("name", cty.StringVal(cmpOr(p.Name, p.Slug)))
		b.SetAttributeValue("slug", cty.StringVal(p.Slug))
		// platform is required by the provider; "other" is its value for
		// a project whose platform Sentry did not say.
		b.SetAttributeValue("platform", cty.StringVal(cmpOr(p.Platform, "other")))
		teams := slices.Clone(p.Teams)
		slices.Sort(teams)
		var toks []hclwrite.Tokens
		for _, t := range teams {
			if r, ok := teamRef[t]; ok {
				toks = append(toks, ref("sentry_team", r, "slug"))
			} else {
				toks = append(toks, hclwrite.TokensForValue(cty.StringVal(t)))
			}
		}
		b.SetAttributeRaw("teams", hclwrite.TokensForTuple(toks))
		root.AppendNewline()
		imports("sentry_project", name, s.Org.Slug+"/"+p.Slug)
	}
	memberRef := map[string]string{}
	for _, bt := range bp.Teams {
		for _, bm := range bt.Members {
			m, ok := memberByEmail(s, bm.Email)
			if !ok {
				continue
			}
			name, declared := memberRef[m.ID]
			if !declared {
				name = tfName("member_"+strings.Split(m.Email, "@")[0], used)
				memberRef[m.ID] = name
				b := root.AppendNewBlock("resource", []string{"sentry_organization_member", name}).Body()
				b.SetAttributeValue("organization", org)
				b.SetAttributeValue("email", cty.StringVal(m.Email))
				b.SetAttributeValue("role", cty.StringVal(m.OrgRole))
				root.AppendNewline()
				imports("sentry_organization_member", name, s.Org.Slug+"/"+m.ID)
			}
			tm := tfName(bt.Slug+"_"+strings.Split(m.Email, "@")[0], used)
			b := root.AppendNewBlock("resource", []string{"sentry_team_member", tm}).Body()
			b.SetAttributeValue("organization", org)
			b.SetAttributeRaw("team", ref("sentry_team", teamRef[bt.Slug], "slug"))
			b.SetAttributeRaw("member_id", ref("sentry_organization_member", name, "internal_id"))
			if bm.Role != "" {
				b.SetAttributeValue("role", cty.StringVal(bm.Role))
			}
			root.AppendNewline()
			if slices.ContainsFunc(m.Teams, func(ms access.Membership) bool { return ms.Team == bt.Slug }) {
				imports("sentry_team_member", tm, s.Org.Slug+"/"+bt.Slug+"/"+m.ID)
			}
		}
	}
	return hclwrite.Format(f.Bytes()), nil
}

// planChanges are the access changes of a blueprint's plan steps.
func planChanges(s *access.Snapshot, steps []Step) []access.Change {
	cs, _ := toChanges(s, steps)
	return cs
}

func teamName(s *access.Snapshot, slug string) string {
	for _, t := range s.Teams {
		if t.Slug == slug && t.Name != "" {
			return t.Name
		}
	}
	return slug
}
