package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/config"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
	"github.com/sentry-access/sentry-access/internal/syncer"
)

// storeFile is the bbolt file inside the data directory.
const storeFile = "sentry-access.db"

// loadConfig parses a command's flags over the environment. A parse error
// or a bad value is a usage error.
func loadConfig(e env, fs *flag.FlagSet, args []string) (config.Config, error) {
	fs.SetOutput(e.stderr)
	c, err := config.Load(fs, args, e.getenv)
	if err != nil {
		return c, usageError{err}
	}
	return c, nil
}

func openStore(c config.Config) (*store.Store, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(filepath.Join(c.DataDir, storeFile), store.Options{Timeout: c.StoreTimeout})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func newClient(c config.Config, logger *slog.Logger) (*sentry.Client, error) {
	return sentry.New(sentry.Config{
		BaseURL:   c.SentryURL,
		Org:       c.SentryOrg,
		Token:     c.SentryToken,
		SCIMToken: c.SCIMToken,
		UserAgent: "sentry-access/" + version,
		Logger:    logger,
	})
}

// currentEngine opens the store read-only in spirit and builds the engine
// over the current snapshot.
func currentEngine(ctx context.Context, c config.Config) (*access.Engine, store.SnapshotMeta, error) {
	st, err := openStore(c)
	if err != nil {
		return nil, store.SnapshotMeta{}, err
	}
	defer st.Close()
	meta, snap, err := st.CurrentSnapshot(ctx)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return nil, meta, noSnapshotError{fmt.Errorf("no snapshot in %s yet: run sentry-access sync", st.Path())}
	}
	if err != nil {
		return nil, meta, err
	}
	return access.New(snap), meta, nil
}

func lookupError(err error) error {
	if errors.Is(err, access.ErrUnknownMember) || errors.Is(err, access.ErrUnknownProject) {
		return notFoundError{err}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runSync(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	incremental := fs.Bool("incremental", false, "read the audit log since the last sync and refetch only what it names")
	quiet := fs.Bool("quiet", false, "no progress on the terminal")
	verbose := fs.Bool("verbose", false, "log retries and rate-limit waits")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if err := c.RequireSentry(); err != nil {
		return usageError{err}
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = newLogger(e.stderr, "text", slog.LevelDebug)
	}
	client, err := newClient(c, logger)
	if err != nil {
		return usageError{err}
	}
	if _, err := client.Organization(ctx); err != nil {
		return connectionError(c, err)
	}
	preflight := client.Requests()
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	var progress func(syncer.Progress)
	if f, ok := e.stderr.(*os.File); ok && !*quiet && term.IsTerminal(int(f.Fd())) {
		progress = terminalProgress(f)
	}
	s := syncer.New(client, st, syncer.Options{
		Concurrency: c.SyncConcurrency, Logger: logger, SentryURL: c.SentryURL, Progress: progress,
	})
	run := s.Full
	if *incremental {
		run = s.Incremental
	}
	res, err := run(ctx)
	if progress != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		return fmt.Errorf("sync failed (the previous snapshot stays current): %w", err)
	}
	if _, err := syncer.FetchInventory(ctx, client, st, syncer.InventoryOptions{SCIMConfigured: c.SCIMToken != "", Logger: logger}); err != nil {
		return fmt.Errorf("token and SCIM inventory: %w", err)
	}
	if c.SnapshotRetain > 0 {
		if _, err := st.PruneSnapshots(ctx, c.SnapshotRetain); err != nil {
			return fmt.Errorf("prune snapshots: %w", err)
		}
	}
	// Every request the client sent, counted at its transport: the
	// connection check, the sync and the inventory.
	sent := client.Requests()
	requests := fmt.Sprintf("%d requests to Sentry (%d for the snapshot, %d to check the connection, %d for the token and SCIM inventory)",
		sent, res.Requests, preflight, sent-preflight-res.Requests)
	m := res.Snapshot
	switch {
	case res.Unchanged:
		fmt.Fprintf(e.stdout, "no change since snapshot %d (%s, %s)\n", m.ID, res.Duration.Round(time.Millisecond), requests)
	default:
		fmt.Fprintf(e.stdout, "snapshot %d (%s): %d members, %d teams, %d projects, %d integrations in %s with %s\n",
			m.ID, res.Kind, m.Members, m.Teams, m.Projects, m.Integrations, res.Duration.Round(time.Millisecond), requests)
	}
	if res.Fallback != "" {
		fmt.Fprintf(e.stdout, "ran as a full sync: %s\n", res.Fallback)
	}
	if res.AuditError != "" {
		fmt.Fprintf(e.stdout, "audit log not read: %s\n", res.AuditError)
	} else {
		fmt.Fprintf(e.stdout, "audit log: %d entries read, %d new archived\n", res.AuditRead, res.AuditAdded)
	}
	return nil
}

// connectionError turns the first request's failure into one line that
// says which setting to check.
func connectionError(c config.Config, err error) error {
	switch {
	case errors.Is(err, sentry.ErrNotFound):
		return usageError{fmt.Errorf("organization %q not found at %s (check SENTRY_ORG and SENTRY_URL)", c.SentryOrg, c.SentryURL)}
	case errors.Is(err, sentry.ErrUnauthorized):
		return usageError{fmt.Errorf("the Sentry at %s rejected SENTRY_AUTH_TOKEN: %w", c.SentryURL, err)}
	case errors.Is(err, sentry.ErrForbidden):
		return usageError{fmt.Errorf("SENTRY_AUTH_TOKEN may not read organization %q: %w", c.SentryOrg, err)}
	default:
		return fmt.Errorf("cannot reach Sentry at %s: %w", c.SentryURL, err)
	}
}

// terminalProgress draws a one-line progress indicator on a terminal.
func terminalProgress(w io.Writer) func(syncer.Progress) {
	return func(p syncer.Progress) {
		if p.Total > 0 {
			fmt.Fprintf(w, "\r\033[K%s: %d/%d", p.Stage, p.Done, p.Total)
			return
		}
		fmt.Fprintf(w, "\r\033[K%s: %d", p.Stage, p.Done)
	}
}

func runAccess(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("access", flag.ContinueOnError)
	member := fs.String("member", "", "member email or id")
	asJSON := fs.Bool("json", false, "print JSON")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if *member == "" {
		return usageError{errors.New("access: --member is required")}
	}
	eng, _, err := currentEngine(ctx, c)
	if err != nil {
		return err
	}
	ma, err := eng.Member(*member)
	if err != nil {
		return lookupError(err)
	}
	if *asJSON {
		return writeJSON(e.stdout, ma)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "member\t%s (%s)\n", ma.Member.Email, ma.Member.State)
	fmt.Fprintf(w, "org role\t%s\n", ma.Member.OrgRole)
	global := "no"
	if ma.GlobalAccess {
		global = "yes"
	}
	fmt.Fprintf(w, "global access\t%s: %s\n", global, ma.GlobalReason)
	fmt.Fprintf(w, "org scopes\t%s\n", strings.Join(ma.OrgScopes, " "))
	if r := ma.Restriction; r != nil {
		fmt.Fprintf(w, "user auth tokens\t%s; such a token reaches %d projects\n", r.Tokens, r.TokenProjects)
	}
	w.Flush()
	fmt.Fprintf(e.stdout, "\nteams (%d)\n", len(ma.Teams))
	w = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  TEAM\tSTORED\tEFFECTIVE\tWHY")
	for _, t := range ma.Teams {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", t.Slug, orNull(t.StoredRole), t.EffectiveRole, t.Reason)
	}
	w.Flush()
	fmt.Fprintf(e.stdout, "\nprojects (%d)\n", len(ma.Projects))
	w = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  PROJECT\tVIA\tSCOPES")
	for _, p := range ma.Projects {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", p.Slug, pathsText(p.Paths), strings.Join(p.Scopes, " "))
	}
	return w.Flush()
}

func runWho(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("who", flag.ContinueOnError)
	project := fs.String("project", "", "project slug")
	asJSON := fs.Bool("json", false, "print JSON")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if *project == "" {
		return usageError{errors.New("who: --project is required")}
	}
	eng, _, err := currentEngine(ctx, c)
	if err != nil {
		return err
	}
	pa, err := eng.Project(*project)
	if err != nil {
		return lookupError(err)
	}
	if *asJSON {
		return writeJSON(e.stdout, pa)
	}
	fmt.Fprintf(e.stdout, "%s: %d members, %d integrations\n\n", pa.Project, len(pa.Members), len(pa.Integrations))
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MEMBER\tORG ROLE\tVIA\tSCOPES")
	for _, m := range pa.Members {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.Email, m.OrgRole, pathsText(m.Paths), strings.Join(m.Scopes, " "))
	}
	for _, i := range pa.Integrations {
		fmt.Fprintf(w, "%s\t(integration)\tinternal integration\t%s\n", i.Name, strings.Join(i.Scopes, " "))
	}
	for _, m := range pa.Restricted {
		fmt.Fprintf(w, "%s\t%s\trefused: over the member limit (its tokens still reach it via %s)\t%s\n", m.Email, m.OrgRole, pathsText(m.Paths), strings.Join(m.Scopes, " "))
	}
	return w.Flush()
}

func runExplain(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	member := fs.String("member", "", "member email or id")
	project := fs.String("project", "", "project slug")
	scope := fs.String("scope", "", "a scope such as project:write (optional)")
	asJSON := fs.Bool("json", false, "print JSON")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if *member == "" || *project == "" {
		return usageError{errors.New("explain: --member and --project are required")}
	}
	if *scope != "" && !validScope(*scope) {
		return usageError{fmt.Errorf("explain: %q is not a Sentry scope (one of %s)", *scope, strings.Join(access.AllScopes(), ", "))}
	}
	eng, _, err := currentEngine(ctx, c)
	if err != nil {
		return err
	}
	d, err := eng.Explain(*member, *project, *scope)
	if err != nil {
		return lookupError(err)
	}
	if *asJSON {
		if err := writeJSON(e.stdout, d); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, d.String())
	}
	if !d.Allowed {
		return deniedError{errors.New("access denied")}
	}
	return nil
}

func validScope(s string) bool {
	for _, v := range access.AllScopes() {
		if v == s {
			return true
		}
	}
	return false
}

func runSnapshots(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("snapshots", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListSnapshots(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no snapshots yet: run sentry-access sync")
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTAKEN\tKIND\tMEMBERS\tTEAMS\tPROJECTS\tDURATION\tREQUESTS")
	for _, m := range list {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%d\t%s\t%d\n", m.ID, m.Created.UTC().Format(time.DateTime), m.Kind,
			m.Members, m.Teams, m.Projects, m.Duration.Round(time.Millisecond), m.Requests)
	}
	return w.Flush()
}

func runDiff(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	from := fs.Uint64("from", 0, "older snapshot id (default: the one before --to)")
	to := fs.Uint64("to", 0, "newer snapshot id (default: the current one)")
	asJSON := fs.Bool("json", false, "print JSON")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListSnapshots(ctx)
	if err != nil {
		return err
	}
	if *to == 0 && len(list) > 0 {
		*to = list[0].ID
	}
	if *from == 0 {
		for _, m := range list {
			if m.ID < *to {
				*from = m.ID
				break
			}
		}
	}
	if *from == 0 || *to == 0 {
		return noSnapshotError{errors.New("only one snapshot yet, and diff needs two to compare: run sentry-access sync again later")}
	}
	load := func(id uint64) (*access.Snapshot, error) {
		_, s, err := st.Snapshot(ctx, id)
		if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
			return nil, notFoundError{fmt.Errorf("snapshot %d does not exist (see sentry-access snapshots)", id)}
		}
		return s, err
	}
	a, err := load(*from)
	if err != nil {
		return err
	}
	b, err := load(*to)
	if err != nil {
		return err
	}
	d := access.Diff(a, b)
	if *asJSON {
		return writeJSON(e.stdout, struct {
			From uint64              `json:"from"`
			To   uint64              `json:"to"`
			Diff access.SnapshotDiff `json:"diff"`
		}{*from, *to, d})
	}
	printDiff(e.stdout, *from, *to, d)
	return nil
}

// printDiff prints every change of d, in the order of its JSON form:
// members, org roles, invite states, the member limit, team memberships
// and team roles, teams, projects, project links, settings, integrations,
// then every member's effective access change (grouped by member).
func printDiff(w io.Writer, from, to uint64, d access.SnapshotDiff) {
	fmt.Fprintf(w, "snapshot %d → %d\n", from, to)
	total := 0
	section := func(label string, items []string) {
		if len(items) == 0 {
			return
		}
		total += len(items)
		fmt.Fprintf(w, "\n%s (%d)\n", label, len(items))
		for _, it := range items {
			fmt.Fprintf(w, "  %s\n", it)
		}
	}
	each := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	section("members added", each(len(d.MembersAdded), func(i int) string {
		m := d.MembersAdded[i]
		return m.Email + " (" + m.OrgRole + ", " + string(m.State) + ")"
	}))
	section("members removed", each(len(d.MembersRemoved), func(i int) string {
		m := d.MembersRemoved[i]
		return m.Email + " (" + m.OrgRole + ")"
	}))
	section("org role changes", each(len(d.OrgRoleChanges), func(i int) string {
		r := d.OrgRoleChanges[i]
		return fmt.Sprintf("%s: %s → %s", r.Member.Email, r.From, r.To)
	}))
	section("invite state changes", each(len(d.StateChanges), func(i int) string {
		r := d.StateChanges[i]
		return fmt.Sprintf("%s: %s → %s", r.Member.Email, r.From, r.To)
	}))
	section("member limit changes", each(len(d.LimitChanges), func(i int) string {
		r := d.LimitChanges[i]
		if r.Restricted {
			return r.Member.Email + ": now over the plan's member limit (Sentry refuses the member in its UI)"
		}
		return r.Member.Email + ": has a seat again (no longer over the member limit)"
	}))
	section("team memberships added", each(len(d.TeamsJoined), func(i int) string {
		t := d.TeamsJoined[i]
		return fmt.Sprintf("%s joined %s as %s", t.Member.Email, t.Team, orNull(t.Role))
	}))
	section("team memberships removed", each(len(d.TeamsLeft), func(i int) string {
		t := d.TeamsLeft[i]
		return fmt.Sprintf("%s left %s", t.Member.Email, t.Team)
	}))
	section("team role changes", each(len(d.TeamRoleChanges), func(i int) string {
		t := d.TeamRoleChanges[i]
		return fmt.Sprintf("%s on %s: %s → %s", t.Member.Email, t.Team, orNull(t.From), orNull(t.To))
	}))
	section("teams added", d.TeamsAdded)
	section("teams removed", d.TeamsRemoved)
	section("projects added", d.ProjectsAdded)
	section("projects removed", d.ProjectsRemoved)
	section("project links added", each(len(d.ProjectsLinked), func(i int) string {
		l := d.ProjectsLinked[i]
		return l.Project + " linked to team " + l.Team
	}))
	section("project links removed", each(len(d.ProjectsUnlinked), func(i int) string {
		l := d.ProjectsUnlinked[i]
		return l.Project + " unlinked from team " + l.Team
	}))
	section("setting changes", each(len(d.SettingChanges), func(i int) string {
		c := d.SettingChanges[i]
		return fmt.Sprintf("%s: %s → %s", c.Setting, onOff(c.From), onOff(c.To))
	}))
	section("integrations changed", each(len(d.IntegrationsDiff), func(i int) string {
		c := d.IntegrationsDiff[i]
		return c.Slug + " " + scopeChangeText(access.ScopeChange{Kind: c.Kind, Added: c.Added, Removed: c.Removed})
	}))
	if n := len(d.Access.Members); n > 0 {
		changes := 0
		for _, m := range d.Access.Members {
			changes += len(m.Projects)
		}
		total += changes
		fmt.Fprintf(w, "\neffective access changes (%d, for %d members)\n", changes, n)
		for _, m := range d.Access.Members {
			fmt.Fprintf(w, "  %s\n", m.Email)
			for _, p := range m.Projects {
				fmt.Fprintf(w, "    %s %s\n", p.Project, scopeChangeText(p.ScopeChange))
			}
		}
	}
	if total == 0 {
		fmt.Fprintln(w, "no changes")
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func scopeChangeText(c access.ScopeChange) string {
	var parts []string
	parts = append(parts, c.Kind)
	if len(c.Added) > 0 {
		parts = append(parts, "+"+strings.Join(c.Added, " +"))
	}
	if len(c.Removed) > 0 {
		parts = append(parts, "-"+strings.Join(c.Removed, " -"))
	}
	return strings.Join(parts, " ")
}

func orNull(role string) string {
	if role == "" {
		return "null"
	}
	return role
}

func pathsText(paths []access.Path) string {
	var parts []string
	for _, p := range paths {
		switch p.Kind {
		case access.PathTeam:
			parts = append(parts, "team "+p.Team+" ("+p.TeamRole+")")
		default:
			parts = append(parts, string(p.Kind))
		}
	}
	return strings.Join(parts, ", ")
}

func runConfig(_ context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError{errors.New("usage: sentry-access config check")}
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	c, err := loadConfig(e, fs, args[1:])
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintln(e.stdout, "configuration problems:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(e.stdout, "  -", line)
		}
		return usageError{errors.New("configuration is not valid")}
	}
	fmt.Fprintln(e.stdout, "configuration OK")
	return nil
}

func runBackup(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "file to write the backup to")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError{errors.New("backup: --out is required")}
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, err := st.Backup(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", *out, n)
	return nil
}

func runRestore(_ context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	in := fs.String("in", "", "backup file written by sentry-access backup")
	c, err := loadConfig(e, fs, args)
	if err != nil {
		return err
	}
	if *in == "" {
		return usageError{errors.New("restore: --in is required")}
	}
	// Opening the backup as a store checks it is one (and migrates it).
	probe, err := store.Open(*in, store.Options{Timeout: c.StoreTimeout})
	if err != nil {
		return fmt.Errorf("restore: %s is not a usable store: %w", *in, err)
	}
	probe.Close()
	// Taking the live store's lock proves no server is running on it.
	st, err := openStore(c)
	if err != nil {
		return fmt.Errorf("restore: stop the server first: %w", err)
	}
	dst := st.Path()
	st.Close()
	b, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := dst + ".restore-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(e.stdout, "restored %s from %s\n", dst, *in)
	return nil
}
