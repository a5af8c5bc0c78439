package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/changes"
)

// SubscriptionInput is the settings form. An empty Secret on an existing
// subscription keeps its secret; RotateSecret generates a new one.
type SubscriptionInput struct {
	ID           string
	Name         string
	URL          string
	Format       Format
	Events       []EventKind
	Enabled      bool
	Secret       string
	RotateSecret bool
}

// SubscriptionView is a subscription as the UI may show it: never the secret.
type SubscriptionView struct {
	ID        string
	Name      string
	URL       string
	Format    Format
	Events    []EventKind
	Enabled   bool
	HasSecret bool
	Created   time.Time
}

func viewOf(s Subscription) SubscriptionView {
	return SubscriptionView{ID: s.ID, Name: s.Name, URL: s.URL, Format: s.Format, Events: slices.Clone(s.Events),
		Enabled: s.Enabled, HasSecret: s.Secret != "", Created: s.Created}
}

// SaveSubscription creates or updates a subscription. When RotateSecret is
// set it returns the new secret, the only time it is ever shown.
func (n *Notifier) SaveSubscription(ctx context.Context, in SubscriptionInput) (SubscriptionView, string, error) {
	s := &Subscription{Created: n.now().UTC()}
	if in.ID != "" {
		old, err := n.repo.Subscription(ctx, in.ID)
		if err != nil {
			return SubscriptionView{}, "", fmt.Errorf("save subscription: %w", err)
		}
		s = old
	}
	s.Name, s.URL, s.Format, s.Events, s.Enabled = strings.TrimSpace(in.Name), strings.TrimSpace(in.URL), in.Format, in.Events, in.Enabled
	if in.Secret != "" {
		s.Secret = in.Secret
	}
	shown := ""
	if in.RotateSecret {
		var b [24]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		s.Secret = "whsec_" + hex.EncodeToString(b[:])
		shown = s.Secret
	}
	if err := s.Validate(); err != nil {
		return SubscriptionView{}, "", err
	}
	if err := n.repo.PutSubscription(ctx, s); err != nil {
		return SubscriptionView{}, "", fmt.Errorf("save subscription: %w", err)
	}
	return viewOf(*s), shown, nil
}

// Subscriptions lists the subscriptions without their secrets.
func (n *Notifier) Subscriptions(ctx context.Context) ([]SubscriptionView, error) {
	subs, err := n.repo.Subscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	out := make([]SubscriptionView, len(subs))
	for i, s := range subs {
		out[i] = viewOf(s)
	}
	return out, nil
}

// DeleteSubscription removes a subscription; its queued deliveries fail.
func (n *Notifier) DeleteSubscription(ctx context.Context, id string) error {
	if err := n.repo.DeleteSubscription(ctx, id); err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	return nil
}

// RequestAwaitingApproval announces a change request pending approval.
// Wire it after changes.Service.Create.
func (n *Notifier) RequestAwaitingApproval(ctx context.Context, r *changes.Request) error {
	if r.State != changes.StatePendingApproval {
		return nil
	}
	_, err := n.Publish(ctx, Event{
		Kind: EventRequestAwaiting, ID: r.ID, At: r.CreatedAt,
		Title: fmt.Sprintf("Change request #%s awaits approval: %s", r.ID, r.Title),
		Text:  fmt.Sprintf("Requested by %s; needs %d approval(s).", r.Requester, r.Required),
		Link:  n.link("/changes/" + r.ID),
		Data: map[string]any{"id": r.ID, "title": r.Title, "requester": r.Requester, "required": r.Required,
			"steps": len(r.Steps), "source": r.Source, "justification": r.Justification,
			"links": map[string]string{"request": n.link("/changes/" + r.ID)}},
	})
	return err
}

// GrantsExpiring announces each grant (from changes.Service.Upcoming)
// once per expiry time: extending a grant announces it again.
func (n *Notifier) GrantsExpiring(ctx context.Context, grants []changes.Grant) error {
	for _, g := range grants {
		_, err := n.Publish(ctx, Event{
			Kind: EventGrantExpiring, ID: g.ID + "@" + strconv.FormatInt(g.ExpiresAt.Unix(), 10),
			Title: fmt.Sprintf("Time-bound access expires %s: %s", g.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"), g.Title),
			Text:  fmt.Sprintf("Grant %s for %s (requested by %s) is revoked at expiry unless extended.", g.ID, g.Member, g.Requester),
			Link:  n.link("/changes/" + g.RequestID),
			Data:  map[string]any{"grant": g.ID, "request": g.RequestID, "member": g.Member, "expiresAt": g.ExpiresAt.UTC()},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// NewFindings returns the risks of after that are new or grew since before.
func NewFindings(before, after *access.Engine) []access.Risk {
	old := map[string]int{}
	if before != nil {
		for _, r := range before.Risks() {
			old[r.Kind] = r.Count
		}
	}
	var out []access.Risk
	for _, r := range after.Risks() {
		if c, ok := old[r.Kind]; !ok || r.Count > c {
			out = append(out, r)
		}
	}
	return out
}

// SnapshotChanged announces what a new snapshot brought: new or grown risk
// findings, and the access changes since the previous snapshot
// (diff, access.Diff of before → after, computed once by the sync's
// pipeline). Wire it after a sync saves a snapshot; before and diff are nil
// for the first one (then only findings are announced).
func (n *Notifier) SnapshotChanged(ctx context.Context, beforeID, afterID uint64, before, after *access.Engine, diff *access.SnapshotDiff) error {
	if fs := NewFindings(before, after); len(fs) > 0 {
		lines := make([]string, len(fs))
		for i, f := range fs {
			lines[i] = fmt.Sprintf("%s (%d)", f.Message, f.Count)
		}
		if _, err := n.Publish(ctx, Event{
			Kind: EventFindingsNew, ID: strconv.FormatUint(afterID, 10),
			Title: fmt.Sprintf("%d new risk finding(s) in snapshot %d", len(fs), afterID),
			Text:  strings.Join(lines, "\n"), Link: n.link("/"),
			Data: map[string]any{"snapshot": afterID, "findings": fs},
		}); err != nil {
			return err
		}
	}
	if before == nil || diff == nil {
		return nil
	}
	d := *diff
	lines := diffLines(d)
	if len(lines) == 0 {
		return nil
	}
	_, err := n.Publish(ctx, Event{
		Kind: EventAccessChanged, ID: fmt.Sprintf("%d-%d", beforeID, afterID),
		Title: fmt.Sprintf("Access changed between snapshots %d and %d", beforeID, afterID),
		Text:  strings.Join(lines, "\n"), Link: n.link("/snapshots"),
		Data: map[string]any{"before": beforeID, "after": afterID, "membersAdded": len(d.MembersAdded),
			"membersRemoved": len(d.MembersRemoved), "orgRoleChanges": len(d.OrgRoleChanges),
			"teamsJoined": len(d.TeamsJoined), "teamsLeft": len(d.TeamsLeft), "membersWithAccessChanges": len(d.Access.Members)},
	})
	return err
}

// diffLines summarises a snapshot diff, at most a few lines per kind.
func diffLines(d access.SnapshotDiff) []string {
	var out []string
	add := func(n int, what string, each func(i int) string) {
		if n == 0 {
			return
		}
		line := fmt.Sprintf("%d %s", n, what)
		var names []string
		for i := 0; i < n && i < 5; i++ {
			names = append(names, each(i))
		}
		if n > 5 {
			names = append(names, "…")
		}
		out = append(out, line+": "+strings.Join(names, ", "))
	}
	add(len(d.MembersAdded), "member(s) added", func(i int) string { return d.MembersAdded[i].Email })
	add(len(d.MembersRemoved), "member(s) removed", func(i int) string { return d.MembersRemoved[i].Email })
	add(len(d.OrgRoleChanges), "org role change(s)", func(i int) string {
		c := d.OrgRoleChanges[i]
		return fmt.Sprintf("%s %s→%s", c.Member.Email, c.From, c.To)
	})
	add(len(d.TeamsJoined), "team join(s)", func(i int) string { return d.TeamsJoined[i].Member.Email + " → " + d.TeamsJoined[i].Team })
	add(len(d.TeamsLeft), "team departure(s)", func(i int) string { return d.TeamsLeft[i].Member.Email + " ← " + d.TeamsLeft[i].Team })
	add(len(d.TeamRoleChanges), "team role change(s)", func(i int) string {
		c := d.TeamRoleChanges[i]
		return fmt.Sprintf("%s on %s %s→%s", c.Member.Email, c.Team, c.From, c.To)
	})
	add(len(d.SettingChanges), "setting change(s)", func(i int) string {
		c := d.SettingChanges[i]
		return fmt.Sprintf("%s %v→%v", c.Setting, c.From, c.To)
	})
	add(len(d.IntegrationsDiff), "integration change(s)", func(i int) string {
		return d.IntegrationsDiff[i].Slug + " " + d.IntegrationsDiff[i].Kind
	})
	if n := len(d.Access.Members); n > 0 {
		out = append(out, fmt.Sprintf("%d member(s) gained or lost effective access", n))
	}
	return out
}

// Finding is a token-hygiene or SCIM/SSO drift finding as a notification
// carries it. Key identifies it across syncs (rule and subject).
type Finding struct {
	Key    string `json:"key"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Link   string `json:"link,omitempty"` // a dashboard path
}

// maxFindingLines bounds the text of one findings event; the rest are in
// its data and on the dashboard.
const maxFindingLines = 20

// DriftFindings announces, in one event, the findings not announced
// before (each is remembered by its key once seen, whether or not anyone
// subscribes yet), so a finding that persists across syncs is told once.
func (n *Notifier) DriftFindings(ctx context.Context, fs []Finding) error {
	var fresh []Finding
	for _, f := range fs {
		first, err := n.repo.MarkOnce(ctx, "finding:"+f.Key, n.now())
		if err != nil {
			return fmt.Errorf("drift findings: %w", err)
		}
		if first {
			fresh = append(fresh, f)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].Key < fresh[j].Key })
	h := sha256.New()
	lines := make([]string, 0, min(len(fresh), maxFindingLines)+1)
	for i, f := range fresh {
		h.Write([]byte(f.Key + "\n"))
		if i < maxFindingLines {
			lines = append(lines, f.Title+": "+f.Detail)
		}
	}
	if len(fresh) > maxFindingLines {
		lines = append(lines, fmt.Sprintf("and %d more on the dashboard", len(fresh)-maxFindingLines))
	}
	_, err := n.Publish(ctx, Event{
		Kind: EventFindingsNew, ID: "drift-" + hex.EncodeToString(h.Sum(nil))[:16],
		Title: fmt.Sprintf("%d new token or SCIM/SSO finding(s)", len(fresh)),
		Text:  strings.Join(lines, "\n"),
		Link:  n.link(fresh[0].Link),
		Data:  map[string]any{"findings": fresh},
	})
	return err
}
