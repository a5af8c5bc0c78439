package dashboard

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/notify"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/unapproved"
)

// A member added to a team straight through Sentry's API with the owner
// token (as curl would) is flagged after the next sync as made outside
// sentry-access, with the simulator's audit entry for it (actor, IP).
func TestAChangeMadeOutsideSentryAccessIsFlaggedAfterTheNextSync(t *testing.T) {
	ctx := t.Context()
	d := startDemo(t)
	s := d.Server
	if fs, err := s.unapproved.List(ctx, unapproved.Filter{All: true}); err != nil || len(fs) != 0 {
		t.Fatalf("findings after the first sync: %v, %v; want none (nothing to compare)", fs, err)
	}
	if _, _, err := s.notify.SaveSubscription(ctx, notify.SubscriptionInput{Name: "soc", URL: "https://hooks.acme.test/x", Format: notify.FormatGeneric,
		Events: []notify.EventKind{notify.EventUnapproved}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	client, err := sentry.New(sentry.Config{BaseURL: d.SentryURL, Org: d.Credentials.Org, Token: d.Credentials.OwnerToken})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := client.ListMembers(ctx, sentry.MemberQuery{Email: "dana.doyle@acme.test"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("find dana: %v", err)
	}
	if _, err := client.AddMemberToTeam(ctx, ms[0].ID, "platform"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	fs, err := s.unapproved.List(ctx, unapproved.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Change.Describe() != "dana.doyle@acme.test joined team platform" {
		t.Fatalf("findings = %+v, want dana joining platform", fs)
	}
	if got := fs[0].AuditText(); !strings.HasPrefix(got, "member.join-team by ") || !strings.Contains(got, "from 127.0.0.1") {
		t.Errorf("audit = %q, want the simulator's member.join-team entry with its IP", got)
	}
	ds, err := s.notify.Deliveries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Event != notify.EventUnapproved || !strings.Contains(string(ds[0].Body), `"link":"`+d.URL+`/outside/`+fs[0].ID+`"`) {
		t.Errorf("deliveries = %+v, want one access.unapproved event linking the finding", ds)
	}
}
