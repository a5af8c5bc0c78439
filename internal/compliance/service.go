package compliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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
	// InventoryFetchedAt returns the last inventory's FetchedAt without
	// decoding it; ENOTFOUND when none.
	InventoryFetchedAt(ctx context.Context) (time.Time, error)
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
	// Live is the configured Sentry for the checks run on demand
	// (CheckLive); nil disables them.
	Live Live
}

// Service answers the compliance pages from the store. The pages are
// prepared once from their inputs (the snapshot, the inventory fetched
// after every sync, the recorded intents and the audit ledger) and
// answered from then on with a lookup; see Prepare.
type Service struct {
	src  Source
	opts Options

	// cur are the pages prepared last (nil before the first). Builds are
	// serialized by buildMu; refreshing marks a background rebuild for
	// the clock's rules, bg waits for it.
	cur        atomic.Pointer[pages]
	buildMu    sync.Mutex
	intents    atomic.Uint64 // bumped by each recorded intent
	refreshing atomic.Bool
	bg         sync.WaitGroup
	// live is the result of the last CheckLive (nil before the first).
	live atomic.Pointer[LiveCheck]
}

// memoTTL is how long prepared pages are shown before the rules that
// depend on the clock (days since an invite, since a token's last use)
// run again, in the background.
const memoTTL = time.Minute

// memoKey names what prepared pages were built from.
type memoKey struct {
	snapshot  uint64
	inventory time.Time
	intents   uint64
}

// pages are the compliance pages' view models, prepared from one
// Inventory at one time (at). Nothing in them may be modified.
type pages struct {
	key memoKey
	at  time.Time
	inv *Inventory

	tokens    TokensView
	scim      SCIMView
	sso       SSOStatus
	endpoints SAMLEndpoints
	guides    []IdPGuide
	posture   []PostureCheck
	// The troubleshooting page's diagnostics that need no input (its form
	// completes members and projects through /lookup/suggest).
	scimDiag []Diagnosis

	// eng is the snapshot's engine for the project diagnosis, built at
	// the first diagnosis.
	engOnce sync.Once
	eng     *access.Engine
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

// Load returns the Inventory the pages are prepared from. A missing
// snapshot leaves Snapshot nil; a missing inventory marks every part as
// not read yet. The result is shared between callers and must not be
// modified.
func (s *Service) Load(ctx context.Context) (*Inventory, error) {
	p, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return p.inv, nil
}

// Prepare builds the pages from the store's current inputs, unless the
// pages of the same inputs are prepared and fresh. The after-sync
// pipeline calls it after each inventory fetch, so that no page view pays
// for it.
func (s *Service) Prepare(ctx context.Context) error {
	key, err := s.key(ctx)
	if err != nil {
		return err
	}
	_, err = s.build(ctx, key, true)
	return err
}

// key reads what the pages depend on: the current snapshot's id and the
// inventory's fetch time (both without decoding anything), and the
// intents recorded.
func (s *Service) key(ctx context.Context) (memoKey, error) {
	snapID, err := s.src.CurrentSnapshotID(ctx)
	if err != nil {
		return memoKey{}, fmt.Errorf("load inventory: %w", err)
	}
	at, err := s.src.InventoryFetchedAt(ctx)
	if err != nil && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		return memoKey{}, fmt.Errorf("load inventory: %w", err)
	}
	return memoKey{snapshot: snapID, inventory: at, intents: s.intents.Load()}, nil
}

// stale reports whether pages built at at are due for the clock's rules
// at now.
func stale(at, now time.Time) bool { return now.Sub(at) >= memoTTL || now.Before(at) }

// current returns the pages for the store's current inputs: the prepared
// ones when their inputs are the same (starting a background refresh when
// they are older than memoTTL), else pages built now.
func (s *Service) current(ctx context.Context) (*pages, error) {
	key, err := s.key(ctx)
	if err != nil {
		return nil, err
	}
	if p := s.cur.Load(); p != nil && p.key == key {
		if stale(p.at, s.opts.Now()) && s.refreshing.CompareAndSwap(false, true) {
			s.bg.Go(func() {
				defer s.refreshing.Store(false)
				bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer cancel()
				if _, err := s.build(bctx, key, true); err != nil {
					s.opts.Logger.Error("refresh the compliance pages", "err", err)
				}
			})
		}
		return p, nil
	}
	return s.build(ctx, key, false)
}

// build prepares the pages of key, one build at a time: a caller that
// waited for another's build of the same inputs takes its result (a
// refresh does unless those pages are stale too).
func (s *Service) build(ctx context.Context, key memoKey, refresh bool) (*pages, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	now := s.opts.Now()
	if p := s.cur.Load(); p != nil && p.key == key && (!refresh || !stale(p.at, now)) {
		return p, nil
	}
	si, err := s.src.LoadInventory(ctx)
	if err != nil && sentryaccess.ErrorCode(err) != sentryaccess.ENOTFOUND {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	inv, err := s.assemble(ctx, si, err)
	if err != nil {
		return nil, err
	}
	p := preparePages(inv, now)
	p.key = key
	s.cur.Store(p)
	return p, nil
}

// preparePages runs every page's rules over inv at now.
func preparePages(inv *Inventory, now time.Time) *pages {
	p := &pages{inv: inv, at: now}
	p.tokens = TokensView{Tokens: Tokens(inv), Ledger: Ledger(inv), Findings: TokenFindings(inv, now),
		BlindSpots: BlindSpots(inv), Templates: inv.Settings.Templates, Environments: inv.Settings.Environments,
		FetchedAt: inv.FetchedAt, StaleDays: inv.Settings.StaleDays}
	users, teams := SCIMSideBySide(inv)
	hidden := map[Part]string{}
	for _, part := range []Part{PartSCIMUsers, PartSCIMGroups, PartAuthProvider} {
		if why, ok := inv.Hidden[part]; ok {
			hidden[part] = why
		}
	}
	p.sso = SSO(inv)
	p.scim = SCIMView{SSO: p.sso, Users: users, Teams: teams, Findings: DriftFindings(inv, now),
		Hidden: hidden, HasSnapshot: inv.Snapshot != nil}
	p.endpoints = Endpoints(inv)
	p.guides = Guides(p.endpoints)
	p.posture = Posture(inv)
	p.scimDiag = SCIMDiagnostics(inv)
	return p
}

// engine returns the snapshot's engine, built once.
func (p *pages) engine() *access.Engine {
	p.engOnce.Do(func() { p.eng = access.New(p.inv.Snapshot) })
	return p.eng
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

// Tokens returns the token page. Its slices are shared between callers
// and must not be modified.
func (s *Service) Tokens(ctx context.Context) (TokensView, error) {
	p, err := s.current(ctx)
	if err != nil {
		return TokensView{}, err
	}
	return p.tokens, nil
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
	s.intents.Add(1)
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
	p, err := s.current(ctx)
	if err != nil {
		return SCIMView{}, err
	}
	return p.scim, nil
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
	p, err := s.current(ctx)
	if err != nil {
		return SSOView{}, err
	}
	v := SSOView{Status: p.sso, Endpoints: p.endpoints, Guides: p.guides, ACS: acs, Audience: audience}
	if acs != "" || audience != "" {
		v.Checks = CheckSAMLConfig(p.inv, acs, audience)
	}
	return v, nil
}

// Posture returns the posture checklist, shared between callers (it must
// not be modified).
func (s *Service) Posture(ctx context.Context) ([]PostureCheck, error) {
	p, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return p.posture, nil
}

// TroubleshootView is the troubleshooting page's view model.
type TroubleshootView struct {
	Endpoints []EndpointScopes
	SSO       []Symptom
	SCIM      []Diagnosis
	AuditLog  Diagnosis
	RateLimit Diagnosis
	// CanCheckLive reports whether a Sentry is configured to check
	// against (CheckLive); Live is the last check's result, nil before
	// the first.
	CanCheckLive bool
	Live         *LiveCheck
}

// Troubleshoot returns the diagnostics that need no input. Its slices
// are shared between callers and must not be modified.
func (s *Service) Troubleshoot(ctx context.Context) (TroubleshootView, error) {
	p, err := s.current(ctx)
	if err != nil {
		return TroubleshootView{}, err
	}
	inv := p.inv
	rows, _, err := s.src.AuditEntries(ctx, store.AuditFilter{Limit: 1})
	if err != nil {
		return TroubleshootView{}, fmt.Errorf("troubleshoot: %w", err)
	}
	archived := len(rows)
	hist, err := s.src.SyncHistory(ctx, 20)
	if err != nil {
		return TroubleshootView{}, fmt.Errorf("troubleshoot: %w", err)
	}
	return TroubleshootView{Endpoints: Endpoints403(), SSO: SSOLoginFailures(), SCIM: p.scimDiag,
		AuditLog: AuditLogDiagnosis(inv, archived), RateLimit: RateLimitDiagnosis(hist),
		CanCheckLive: s.opts.Live != nil, Live: s.live.Load()}, nil
}

// DiagnoseProject answers "a user cannot see a project".
func (s *Service) DiagnoseProject(ctx context.Context, member, project string) (Diagnosis, error) {
	member, project = strings.TrimSpace(member), strings.TrimSpace(project)
	if member == "" || project == "" {
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EINVALID, "Enter a member (email or id) and a project slug.")
	}
	p, err := s.current(ctx)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("diagnose project: %w", err)
	}
	if p.inv.Snapshot == nil {
		return Diagnosis{}, sentryaccess.Errorf(sentryaccess.EUNAVAILABLE, "No snapshot yet: run a sync with Sentry first.")
	}
	d, err := cannotSeeProject(p.engine(), member, project)
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
