package compliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentry"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// Source is what the Service reads and writes: the store (*store.Store).
type Source interface {
	// CurrentSnapshot returns the newest snapshot; ENOTFOUND when none.
	CurrentSnapshot(ctx context.Context) (store.SnapshotMeta, *access.Snapshot, error)
	CurrentSnapshotID(ctx context.Context) (uint64, error)
	// LoadInventory returns the last inventory; ENOTFOUND when none.
	LoadInventory(ctx context.Context) (store.Inventory, error)
	// TokenIntents returns the recorded intents.
	TokenIntents(ctx context.Context) ([]store.TokenIntent, error)
	// AddTokenIntent records an intent; EINVALID without a name.
	AddTokenIntent(ctx context.Context, in store.TokenIntent) (store.TokenIntent, error)
	// AuditEntries pages archived audit entries.
	AuditEntries(ctx context.Context, f store.AuditFilter) ([]sentry.AuditLogEntry, string, error)
	// SyncHistory returns recent sync runs, newest first.
	SyncHistory(ctx context.Context, limit int) ([]store.SyncStatus, error)
}

// Options configure a Service.
type Options struct {
	// Settings tune the rules; DefaultSettings when zero.
	Settings Settings
	// SentryURL is the Sentry base URL (for links and SAML URLs).
	SentryURL string
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service answers the compliance pages from the store.
type Service struct {
	src  Source
	opts Options

	// memo is the last assembled Inventory, reused while the stored
	// inventory (fetched after every sync) is the same and for at most
	// memoTTL (some rules depend on the time). Nobody may modify it.
	mu      sync.Mutex
	memo    *Inventory
	memoKey memoKey
	memoAt  time.Time
	// scim is the SCIM view built from scimFor (the drift rules over
	// 10,000 members are the costliest page to compute).
	scimFor *Inventory
	scim    SCIMView
}

// memoTTL bounds how long an assembled Inventory is reused.
const memoTTL = time.Minute

// memoKey names what an assembled Inventory was built from.
type memoKey struct {
	snapshot  uint64
	inventory time.Time
}

// NewService returns a Service over src.
func NewService(src Source, opts Options) *Service {
	if opts.Settings.Naming == nil && len(opts.Settings.Templates) == 0 {
		opts.Settings = DefaultSettings()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{src: src, opts: opts}
}

// ledgerEvents are the audit events the ledger reads from the archive.
func ledgerEvents() []string {
	return []string{"org-auth-token.create", "org-auth-token.remove", "internal-integration.create",
		"internal-integration.disable", "internal-integration.add-token", "internal-integration.remove-token",
		"api-key.create", "api-key.edit", "api-key.remove", "sentry-app.add", "sentry-app.remove",
		"sentry-app.install", "sentry-app.uninstall"}
}

// notFetched is the reason given for every part before the first
// inventory fetch.
const notFetched = "not read yet: no inventory has been fetched from Sentry (it is read with each sync)"

// Load assembles the Inventory from the store. A missing snapshot leaves
// Snapshot nil; a missing inventory marks every part as not read yet.
//
// The result is shared between callers and must not be modified: it is
// reused until the next inventory fetch (after every sync), a recorded
// intent, or memoTTL, since assembling it at 10,000 members costs a
// snapshot copy and a dozen audit-log scans.
func (s *Service) Load(ctx context.Context) (*Inventory, error) {
	si, err := s.src.LoadInventory(ctx)
	if err != nil && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	snapID, err2 := s.src.CurrentSnapshotID(ctx)
	if err2 != nil {
		return nil, fmt.Errorf("load inventory: %w", err2)
	}
	key, now := memoKey{snapID, si.FetchedAt}, s.opts.Now()
	s.mu.Lock()
	if s.memo != nil && s.memoKey == key && now.Sub(s.memoAt) < memoTTL && !now.Before(s.memoAt) {
		inv := s.memo
		s.mu.Unlock()
		return inv, nil
	}
	s.mu.Unlock()
	inv, err := s.assemble(ctx, si, err)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.memo, s.memoKey, s.memoAt = inv, key, now
	s.mu.Unlock()
	return inv, nil
}

// forget drops the memoized Inventory (after a recorded intent).
func (s *Service) forget() {
	s.mu.Lock()
	s.memo = nil
	s.mu.Unlock()
}

// assemble builds the Inventory from the stored inventory si (or its
// absence, siErr) and the store's snapshot, intents and audit log.
func (s *Service) assemble(ctx context.Context, si store.Inventory, siErr error) (*Inventory, error) {
	_, snap, err := s.src.CurrentSnapshot(ctx)
	if err != nil && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	var inv Inventory
	switch err := siErr; {
	case sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND:
		inv = Inventory{Hidden: map[Part]string{}}
		for _, p := range []Part{PartOrgAuthTokens, PartSentryApps, PartAuthProvider, PartSCIMUsers, PartSCIMGroups, PartAccessRequests, PartUserTokens} {
			inv.Hidden[p] = notFetched
		}
	case err != nil:
		return nil, fmt.Errorf("load inventory: %w", err)
	default:
		inv = FromStore(si)
	}
	inv.Snapshot, inv.Settings, inv.SentryURL = snap, s.opts.Settings, s.opts.SentryURL
	if inv.Intents, err = s.src.TokenIntents(ctx); err != nil {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	for _, ev := range ledgerEvents() {
		rows, _, err := s.src.AuditEntries(ctx, store.AuditFilter{Event: ev, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("load inventory: audit %s: %w", ev, err)
		}
		inv.Audit = append(inv.Audit, rows...)
	}
	return &inv, nil
}

// TokensView is the token page's view model.
type TokensView struct {
	Tokens       []Token
	Ledger       []LedgerEntry
	Findings     []Finding
	BlindSpots   []BlindSpot
	Templates    []Template
	Environments []string
	FetchedAt    time.Time
	StaleDays    int
}

// Tokens returns the token page.
func (s *Service) Tokens(ctx context.Context) (TokensView, error) {
	inv, err := s.Load(ctx)
	if err != nil {
		return TokensView{}, err
	}
	return TokensView{Tokens: Tokens(inv), Ledger: Ledger(inv), Findings: TokenFindings(inv, s.opts.Now()),
		BlindSpots: BlindSpots(inv), Templates: inv.Settings.Templates, Environments: inv.Settings.Environments,
		FetchedAt: inv.FetchedAt, StaleDays: inv.Settings.StaleDays}, nil
}

// IntentInput is what the token helper form posts.
type IntentInput struct {
	Purpose     string
	Environment string
	Note        string
	ExpiresAt   *time.Time
	RecordedBy  string
}

// RecordIntent suggests the token for in and records the intent. A bad
// purpose or environment, or an expiry in the past, is an EINVALID Error.
func (s *Service) RecordIntent(ctx context.Context, in IntentInput) (Suggestion, store.TokenIntent, error) {
	inv, err := s.Load(ctx)
	if err != nil {
		return Suggestion{}, store.TokenIntent{}, err
	}
	sug, err := Suggest(inv, in.Purpose, in.Environment)
	if err != nil {
		return Suggestion{}, store.TokenIntent{}, err
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.opts.Now()) {
		return Suggestion{}, store.TokenIntent{}, sentryaccess.Errorf(sentryaccess.EINVALID, "The expiry must be in the future.")
	}
	ti, err := s.src.AddTokenIntent(ctx, store.TokenIntent{Name: sug.Name, Purpose: sug.Purpose, Environment: sug.Environment,
		Kind: string(sug.Kind), Scopes: sug.Scopes, Note: strings.TrimSpace(in.Note), ExpiresAt: in.ExpiresAt,
		RecordedBy: in.RecordedBy, RecordedAt: s.opts.Now().UTC()})
	if err != nil {
		return Suggestion{}, store.TokenIntent{}, fmt.Errorf("record intent: %w", err)
	}
	s.forget()
	return sug, ti, nil
}

// SCIMView is the SCIM page's view model. Its slices are shared between
// callers (the view is reused with its inventory) and must not be modified.
type SCIMView struct {
	SSO      SSOStatus
	Users    []SCIMRow
	Teams    []TeamRow
	Findings []Finding
	// Hidden lists parts that could not be read, with why.
	Hidden      map[Part]string
	HasSnapshot bool
}

// SCIM returns the SCIM page.
func (s *Service) SCIM(ctx context.Context) (SCIMView, error) {
	inv, err := s.Load(ctx)
	if err != nil {
		return SCIMView{}, err
	}
	s.mu.Lock()
	if s.scimFor == inv {
		v := s.scim
		s.mu.Unlock()
		return v, nil
	}
	s.mu.Unlock()
	users, teams := SCIMSideBySide(inv)
	hidden := map[Part]string{}
	for _, p := range []Part{PartSCIMUsers, PartSCIMGroups, PartAuthProvider} {
		if why, ok := inv.Hidden[p]; ok {
			hidden[p] = why
		}
	}
	v := SCIMView{SSO: SSO(inv), Users: users, Teams: teams, Findings: DriftFindings(inv, s.opts.Now()),
		Hidden: hidden, HasSnapshot: inv.Snapshot != nil}
	s.mu.Lock()
	s.scimFor, s.scim = inv, v
	s.mu.Unlock()
	return v, nil
}

// SSOView is the SSO page's view model. Checks is set when the checker
// form was submitted.
type SSOView struct {
	Status    SSOStatus
	Endpoints SAMLEndpoints
	Guides    []IdPGuide
	ACS       string
	Audience  string
	Checks    []ConfigCheck
}

// SSO returns the SSO page; with acs or audience set it also runs the
// misconfiguration checker.
func (s *Service) SSO(ctx context.Context, acs, audience string) (SSOView, error) {
	inv, err := s.Load(ctx)
	if err != nil {
		return SSOView{}, err
	}
	e := Endpoints(inv)
	v := SSOView{Status: SSO(inv), Endpoints: e, Guides: Guides(e), ACS: acs, Audience: audience}
	if acs != "" || audience != "" {
		v.Checks = CheckSAMLConfig(inv, acs, audience)
	}
	return v, nil
}

// Posture returns the posture checklist.
func (s *Service) Posture(ctx context.Context) ([]PostureCheck, error) {
	inv, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	return Posture(inv), nil
}

// TroubleshootView is the troubleshooting page's view model.
type TroubleshootView struct {
	Endpoints []EndpointScopes
	SSO       []Symptom
	SCIM      []Diagnosis
	AuditLog  Diagnosis
	RateLimit Diagnosis
	Members   []string // member emails, for the form's datalist
	Projects  []string
}

// Troubleshoot returns the diagnostics that need no input.
func (s *Service) Troubleshoot(ctx context.Context) (TroubleshootView, error) {
	inv, err := s.Load(ctx)
	if err != nil {
		return TroubleshootView{}, err
	}
	rows, _, err := s.src.AuditEntries(ctx, store.AuditFilter{Limit: 1})
	if err != nil {
		return TroubleshootView{}, fmt.Errorf("troubleshoot: %w", err)
	}
	archived := len(rows)
	hist, err := s.src.SyncHistory(ctx, 20)
	if err != nil {
		return TroubleshootView{}, fmt.Errorf("troubleshoot: %w", err)
	}
	v := TroubleshootView{Endpoints: Endpoints403(), SSO: SSOLoginFailures(), SCIM: SCIMDiagnostics(inv),
		AuditLog: AuditLogDiagnosis(inv, archived), RateLimit: RateLimitDiagnosis(hist)}
	if inv.Snapshot != nil {
		for _, m := range inv.Snapshot.Members {
			v.Members = append(v.Members, m.Email)
		}
		for _, p := range inv.Snapshot.Projects {
			v.Projects = append(v.Projects, p.Slug)
		}
	}
	return v, nil
}

// DiagnoseProject answers "a user cannot see a project".
func (s *Service) DiagnoseProject(ctx context.Context, member, project string) (Diagnosis, error) {
	member, project = strings.TrimSpace(member), strings.TrimSpace(project)
	if member == "" || project == "" {
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EINVALID, "Enter a member (email or id) and a project slug.")
	}
	_, snap, err := s.src.CurrentSnapshot(ctx)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "No snapshot yet: run a sync with Sentry first.")
	}
	if err != nil {
		return Diagnosis{}, fmt.Errorf("diagnose project: %w", err)
	}
	d, err := CannotSeeProject(snap, member, project)
	switch {
	case errors.Is(err, access.ErrUnknownMember):
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EINVALID, "No member %q in the last snapshot.", member)
	case errors.Is(err, access.ErrUnknownProject):
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EINVALID, "No project %q in the last snapshot.", project)
	case err != nil:
		return Diagnosis{}, err
	}
	return d, nil
}

// Diagnose403 answers "a 403 on a team or member endpoint". scopes is the
// credential's scope list, separated by spaces or commas (may be empty).
func (s *Service) Diagnose403(_ context.Context, endpoint, scopes string) (Diagnosis, error) {
	have := strings.FieldsFunc(scopes, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
	d, err := DiagnoseForbidden(endpoint, have)
	if IsUnknownEndpoint(err) {
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EINVALID, "Choose one of the listed endpoints.")
	}
	return d, err
}
