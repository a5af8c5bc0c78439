package changes

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// Blueprint is a desired state of teams, their project links and their
// members, written in YAML. Plan turns it into the steps that make the
// organization match it. Only what the blueprint mentions is touched,
// unless Prune is set: then teams not listed for a mentioned project are
// unlinked from it, and, for teams that list members, members not listed are
// removed. Teams are never deleted.
type Blueprint struct {
	Version     int    `yaml:"version" json:"version"`
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Prune       bool   `yaml:"prune,omitempty" json:"prune,omitempty"`
	// Expires makes the resulting request time-bound: "14d", "12h", "2w".
	Expires string          `yaml:"expires,omitempty" json:"expires,omitempty"`
	Teams   []BlueprintTeam `yaml:"teams" json:"teams"`
}

// BlueprintTeam is one team's desired state. Members nil means the team's
// membership is not managed by the blueprint.
type BlueprintTeam struct {
	Slug     string            `yaml:"slug" json:"slug"`
	Name     string            `yaml:"name,omitempty" json:"name,omitempty"`
	Projects []string          `yaml:"projects,omitempty" json:"projects,omitempty"`
	Members  []BlueprintMember `yaml:"members,omitempty" json:"members,omitempty"`
}

// BlueprintMember is a team member by email, with an optional team role
// ("contributor" or "admin"; empty leaves the role alone).
type BlueprintMember struct {
	Email string `yaml:"email" json:"email"`
	Role  string `yaml:"role,omitempty" json:"role,omitempty"`
}

// ParseBlueprint reads a blueprint strictly: unknown fields and duplicate
// keys are errors, reported with their line. Errors are EINVALID.
func ParseBlueprint(data []byte) (*Blueprint, error) {
	var bp Blueprint
	if err := strictYAML(data, &bp); errors.Is(err, errEmptyBlueprint) {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The blueprint is empty: it needs version: 1, a name and its teams (start from a sample).")
	} else if err != nil {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Blueprint: %s", yaml.FormatError(err, false, true))
	}
	if err := bp.Validate(); err != nil {
		return nil, err
	}
	return &bp, nil
}

// Validate checks the blueprint's own consistency. Errors are EINVALID.
func (bp *Blueprint) Validate() error {
	var problems []string
	if bp.Version != 1 {
		problems = append(problems, fmt.Sprintf("version is %d, want 1", bp.Version))
	}
	if strings.TrimSpace(bp.Name) == "" {
		problems = append(problems, "name is missing")
	}
	if _, err := bp.Expiry(); err != nil {
		problems = append(problems, err.Error())
	}
	seen := map[string]bool{}
	for i, t := range bp.Teams {
		if t.Slug == "" {
			problems = append(problems, fmt.Sprintf("teams[%d] has no slug", i))
		}
		if seen[t.Slug] {
			problems = append(problems, fmt.Sprintf("team %s is listed twice", t.Slug))
		}
		seen[t.Slug] = true
		for _, m := range t.Members {
			if m.Email == "" {
				problems = append(problems, fmt.Sprintf("team %s has a member without email", t.Slug))
			}
			if m.Role != "" && m.Role != "contributor" && m.Role != "admin" {
				problems = append(problems, fmt.Sprintf("team %s member %s: role %q is not contributor or admin", t.Slug, m.Email, m.Role))
			}
		}
	}
	if len(problems) > 0 {
		return sentryaccess.Errorf(sentryaccess.EINVALID, "Blueprint: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Expiry returns the duration of Expires (0 when unset). Units: m, h, d, w.
func (bp *Blueprint) Expiry() (time.Duration, error) {
	e := strings.TrimSpace(bp.Expires)
	if e == "" {
		return 0, nil
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[e[len(e)-1]]
	n, err := strconv.Atoi(e[:len(e)-1])
	if unit == 0 || err != nil || n <= 0 {
		return 0, fmt.Errorf("expires %q is not a duration like 14d, 12h or 2w", bp.Expires)
	}
	return time.Duration(n) * unit, nil
}

// Plan returns the steps that make s match bp, in a safe order: team
// creations, project links, unlinks, member additions, role changes, member
// removals, then, for a time-bound blueprint, an end date on each listed
// membership and project link that already exists (so that the whole
// blueprint's access ends at the expiry, not only what it adds). Unknown
// projects or member emails are EINVALID errors.
func Plan(s *access.Snapshot, bp *Blueprint) ([]Step, error) {
	teams := map[string]access.Team{}
	for _, t := range s.Teams {
		teams[t.Slug] = t
	}
	projects := map[string]access.Project{}
	for _, p := range s.Projects {
		projects[p.Slug] = p
	}
	var creates, links, unlinks, adds, roles, removes, ends []Step
	timed := strings.TrimSpace(bp.Expires) != ""
	claims := map[string][]string{} // project → teams the blueprint puts on it
	for _, bt := range bp.Teams {
		if _, ok := teams[bt.Slug]; !ok {
			creates = append(creates, Step{Kind: KindTeamCreate, Params: Params{Team: bt.Slug, Name: bt.Name}})
		}
		for _, ps := range bt.Projects {
			p, ok := projects[ps]
			if !ok {
				return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Blueprint team %s lists project %s, which is not in the organization as last synced. Fix the slug (the Projects page lists them), or run a sync if it was created since.", bt.Slug, ps)
			}
			claims[ps] = append(claims[ps], bt.Slug)
			if !slices.Contains(p.Teams, bt.Slug) {
				links = append(links, Step{Kind: KindProjectLink, Params: Params{Team: bt.Slug, Project: ps}})
			} else if timed {
				ends = append(ends, Step{Kind: KindEndDate, Params: Params{Team: bt.Slug, Project: ps}})
			}
		}
		if bt.Members == nil {
			continue
		}
		listed := map[string]bool{}
		for _, bm := range bt.Members {
			m, ok := memberByEmail(s, bm.Email)
			if !ok {
				return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Blueprint team %s lists %s, who is not a member of the organization as last synced. Fix the email, or invite them first with an \"Invite member\" request.", bt.Slug, bm.Email)
			}
			listed[m.ID] = true
			i := slices.IndexFunc(m.Teams, func(ms access.Membership) bool { return ms.Team == bt.Slug })
			if i < 0 {
				adds = append(adds, Step{Kind: KindTeamAdd, Params: Params{Team: bt.Slug, Member: m.ID, Email: m.Email}})
				if bm.Role != "" && bm.Role != access.MinimumTeamRole(s, m.OrgRole) {
					roles = append(roles, Step{Kind: KindTeamRole, Params: Params{Team: bt.Slug, Member: m.ID, Email: m.Email, Role: bm.Role}})
				}
				continue
			}
			if timed {
				ends = append(ends, Step{Kind: KindEndDate, Params: Params{Team: bt.Slug, Member: m.ID, Email: m.Email}})
			}
			current := m.Teams[i].Role
			if current == "" {
				current = access.MinimumTeamRole(s, m.OrgRole)
			}
			if bm.Role != "" && bm.Role != current {
				roles = append(roles, Step{Kind: KindTeamRole, Params: Params{Team: bt.Slug, Member: m.ID, Email: m.Email, Role: bm.Role}})
			}
		}
		if bp.Prune {
			for _, m := range s.Members {
				if listed[m.ID] {
					continue
				}
				if slices.ContainsFunc(m.Teams, func(ms access.Membership) bool { return ms.Team == bt.Slug }) {
					removes = append(removes, Step{Kind: KindTeamRemove, Params: Params{Team: bt.Slug, Member: m.ID, Email: m.Email}})
				}
			}
		}
	}
	if bp.Prune {
		for _, p := range s.Projects {
			want, ok := claims[p.Slug]
			if !ok {
				continue
			}
			for _, t := range p.Teams {
				if !slices.Contains(want, t) {
					unlinks = append(unlinks, Step{Kind: KindProjectUnlink, Params: Params{Team: t, Project: p.Slug}})
				}
			}
		}
	}
	steps := slices.Concat(creates, links, unlinks, adds, roles, removes, ends)
	for i := range steps {
		steps[i].Index = i
	}
	return steps, nil
}

// PlanBlueprint plans bp against the current snapshot and previews the
// steps on behalf of actor, with the approvals they would need.
func (s *Service) PlanBlueprint(ctx context.Context, actor sentryaccess.Actor, bp *Blueprint) (Draft, error) {
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return Draft{}, fmt.Errorf("plan blueprint: snapshot: %w", err)
	}
	steps, err := Plan(snap, bp)
	if err != nil {
		return Draft{}, err
	}
	d, err := s.draft(snap, steps)
	if err != nil {
		return Draft{}, fmt.Errorf("plan blueprint: preview: %w", err)
	}
	return d, nil
}

// CreateFromBlueprint plans bp and submits the steps as a change request
// (source "blueprint", time-bound when bp.Expires is set). A blueprint the
// organization already matches is an EINVALID error.
func (s *Service) CreateFromBlueprint(ctx context.Context, actor sentryaccess.Actor, bp *Blueprint, justification string) (*Request, error) {
	plan, err := s.PlanBlueprint(ctx, actor, bp)
	if err != nil {
		return nil, err
	}
	steps := plan.Steps
	if len(steps) == 0 {
		return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "The organization already matches blueprint %q", bp.Name)
	}
	in := NewRequest{Title: "Blueprint: " + bp.Name, Justification: justification, Steps: steps, Source: SourceBlueprint}
	if d, _ := bp.Expiry(); d > 0 {
		t := s.now().Add(d)
		in.ExpiresAt = &t
	}
	return s.Create(ctx, actor, in)
}

//go:embed blueprints/*.yaml
var sampleFS embed.FS

// SampleBlueprints returns the blueprints shipped with sentry-access, by
// file name.
func SampleBlueprints() (map[string]*Blueprint, error) {
	entries, err := sampleFS.ReadDir("blueprints")
	if err != nil {
		return nil, fmt.Errorf("read sample blueprints: %w", err)
	}
	out := map[string]*Blueprint{}
	for _, e := range entries {
		data, err := sampleFS.ReadFile(path.Join("blueprints", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read sample blueprint %s: %w", e.Name(), err)
		}
		bp, err := ParseBlueprint(data)
		if err != nil {
			return nil, fmt.Errorf("sample blueprint %s: %w", e.Name(), err)
		}
		out[e.Name()] = bp
	}
	return out, nil
}

// BlueprintSample is one blueprint shipped with sentry-access, with its
// YAML as the editor shows it.
type BlueprintSample struct {
	File        string
	Name        string
	Description string
	YAML        string
}

// BlueprintSamples returns the shipped blueprints, by file name.
func BlueprintSamples() ([]BlueprintSample, error) {
	samples, err := SampleBlueprints()
	if err != nil {
		return nil, err
	}
	out := make([]BlueprintSample, 0, len(samples))
	for name, bp := range samples {
		raw, err := yaml.Marshal(bp)
		if err != nil {
			return nil, fmt.Errorf("encode sample blueprint %s: %w", name, err)
		}
		out = append(out, BlueprintSample{File: name, Name: bp.Name, Description: bp.Description, YAML: string(raw)})
	}
	slices.SortFunc(out, func(a, b BlueprintSample) int { return strings.Compare(a.File, b.File) })
	return out, nil
}

// ExportFormat names a form of the current organization for export.
type ExportFormat string

// Export formats.
const (
	FormatBlueprint ExportFormat = "blueprint" // ExportBlueprint
	FormatTerraform ExportFormat = "terraform" // ExportTerraform
)

// Export writes the current snapshot's organization in format.
func (s *Service) Export(ctx context.Context, format ExportFormat) ([]byte, error) {
	snap, err := s.snaps.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: snapshot: %w", err)
	}
	switch format {
	case FormatBlueprint:
		return ExportBlueprint(snap)
	case FormatTerraform:
		return ExportTerraform(snap)
	}
	return nil, sentryaccess.Errorf(sentryaccess.EINVALID, "Unknown export format %q.", format)
}

// ExportBlueprint writes the snapshot's teams, project links and stored
// team roles as a blueprint (no prune, so applying it changes nothing).
func ExportBlueprint(s *access.Snapshot) ([]byte, error) {
	bp := Blueprint{Version: 1, Name: "Export of " + s.Org.Slug}
	for _, t := range sortedTeams(s) {
		bt := BlueprintTeam{Slug: t.Slug, Name: t.Name, Projects: teamProjects(s, t.Slug), Members: []BlueprintMember{}}
		for _, m := range s.Members {
			for _, ms := range m.Teams {
				if ms.Team == t.Slug {
					bt.Members = append(bt.Members, BlueprintMember{Email: m.Email, Role: ms.Role})
				}
			}
		}
		bp.Teams = append(bp.Teams, bt)
	}
	out, err := yaml.Marshal(bp)
	if err != nil {
		return nil, fmt.Errorf("export blueprint: %w", err)
	}
	return out, nil
}

func sortedTeams(s *access.Snapshot) []access.Team {
	ts := slices.Clone(s.Teams)
	slices.SortFunc(ts, func(a, b access.Team) int { return strings.Compare(a.Slug, b.Slug) })
	return ts
}

func teamProjects(s *access.Snapshot, team string) []string {
	var out []string
	for _, p := range s.Projects {
		if slices.Contains(p.Teams, team) {
			out = append(out, p.Slug)
		}
	}
	slices.Sort(out)
	return out
}

// ExportTerraform writes the snapshot as Terraform for the jianyuan/sentry
// provider: a sentry_team per team, a sentry_project per project with its
// team links, and a sentry_team_member per membership with its effective
// team role.
func ExportTerraform(s *access.Snapshot) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	root := f.Body()
	requiredProviders(root)
	org := cty.StringVal(s.Org.Slug)
	teamRef := map[string]string{}
	used := map[string]bool{}
	for _, t := range sortedTeams(s) {
		name := tfName(t.Slug, used)
		teamRef[t.Slug] = name
		b := root.AppendNewBlock("resource", []string{"sentry_team", name}).Body()
		b.SetAttributeValue("organization", org)
		b.SetAttributeValue("name", cty.StringVal(cmpOr(t.Name, t.Slug)))
		b.SetAttributeValue("slug", cty.StringVal(t.Slug))
		root.AppendNewline()
	}
	ref := func(team string) hclwrite.Tokens {
		return hclwrite.TokensForTraversal(hcl.Traversal{
			hcl.TraverseRoot{Name: "sentry_team"}, hcl.TraverseAttr{Name: teamRef[team]}, hcl.TraverseAttr{Name: "slug"},
		})
	}
	projects := slices.Clone(s.Projects)
	slices.SortFunc(projects, func(a, b access.Project) int { return strings.Compare(a.Slug, b.Slug) })
	for _, p := range projects {
		b := root.AppendNewBlock("resource", []string{"sentry_project", tfName(p.Slug, used)}).Body()
		b.SetAttributeValue("organization", org)
		var teams []hclwrite.Tokens
		for _, t := range p.Teams {
			if _, ok := teamRef[t]; ok {
				teams = append(teams, ref(t))
			}
		}
		b.SetAttributeRaw("teams", hclwrite.TokensForTuple(teams))
		b.SetAttributeValue("name", cty.StringVal(cmpOr(p.Name, p.Slug)))
		b.SetAttributeValue("slug", cty.StringVal(p.Slug))
		// platform is required by the provider; "other" is its value
		// for a project whose platform Sentry did not say.
		b.SetAttributeValue("platform", cty.StringVal(cmpOr(p.Platform, "other")))
		root.AppendNewline()
	}
	for _, t := range sortedTeams(s) {
		for _, m := range s.Members {
			for _, ms := range m.Teams {
				if ms.Team != t.Slug {
					continue
				}
				role := cmpOr(ms.Role, access.MinimumTeamRole(s, m.OrgRole))
				b := root.AppendNewBlock("resource", []string{"sentry_team_member", tfName(t.Slug+"_"+strings.Split(m.Email, "@")[0], used)}).Body()
				b.SetAttributeValue("organization", org)
				b.SetAttributeRaw("team", ref(t.Slug))
				b.SetAttributeValue("member_id", cty.StringVal(m.ID))
				b.SetAttributeValue("role", cty.StringVal(role))
				root.AppendNewline()
			}
		}
	}
	return f.Bytes(), nil
}

// requiredProviders writes the terraform block that names the
// jianyuan/sentry provider.
func requiredProviders(root *hclwrite.Body) {
	tf := root.AppendNewBlock("terraform", nil).Body()
	rp := tf.AppendNewBlock("required_providers", nil).Body()
	rp.SetAttributeValue("sentry", cty.ObjectVal(map[string]cty.Value{"source": cty.StringVal("jianyuan/sentry")}))
	root.AppendNewline()
}

// tfName makes a unique Terraform resource name from s.
func tfName(s string, used map[string]bool) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		name = "r_" + name
	}
	base := name
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	used[name] = true
	return name
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// strictYAML decodes data into v strictly. The YAML decoder panics on some
// malformed documents (found by FuzzParseBlueprint, e.g. a tagged scalar
// where a list belongs); a pasted blueprint must get an error, not a crash.
//
// Aliases are refused before decoding: the decoder expands every alias, so
// a few hundred bytes of nested anchors ("billion laughs") would take
// minutes of CPU and gigabytes of memory; a blueprint never needs them.
// Documents over MaxBlueprintBytes are refused too.
func strictYAML(data []byte, v any) (err error) {
	defer func() {
		// The decoder's own failure (a Go panic value) is no message for
		// people.
		if r := recover(); r != nil {
			err = errors.New("the document could not be read as a blueprint; start from a sample")
		}
	}()
	if len(data) > MaxBlueprintBytes {
		return fmt.Errorf("the document has %d bytes, a blueprint may have at most %d", len(data), MaxBlueprintBytes)
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return err
	}
	if emptyYAML(f) {
		return errEmptyBlueprint
	}
	if aliases := ast.FilterFile(ast.AliasType, f); len(aliases) > 0 {
		return fmt.Errorf("line %d: aliases (*%s) are not allowed in a blueprint; write the values out",
			aliases[0].GetToken().Position.Line, strings.TrimPrefix(aliases[0].String(), "*"))
	}
	return yaml.UnmarshalWithOptions(data, v, yaml.Strict())
}

// errEmptyBlueprint is a document with nothing but blank lines, comments
// or document markers.
var errEmptyBlueprint = errors.New("the document is empty: a blueprint starts with version: 1 and a name (start from a sample)")

// emptyYAML reports whether f holds no value: no document, or documents
// whose body is nothing or only comments.
func emptyYAML(f *ast.File) bool {
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if _, ok := d.Body.(*ast.CommentGroupNode); ok {
			continue
		}
		return false
	}
	return true
}

// MaxBlueprintBytes is the largest blueprint document ParseBlueprint reads.
const MaxBlueprintBytes = 256 << 10
