package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/sentry"
)

// The inventory is the data a sync reads besides the snapshot: org auth
// tokens, Sentry Apps, the auth provider, SCIM users and groups and access
// requests. Only the latest one is kept, in the settings bucket under
// keyInventory. Token intents (tokens recorded through the dashboard) are a
// list under keyTokenIntents.

// Keys in bucketSettings.
const (
	keyInventory = "inventory.current"
	// keyInventoryFetchedAt holds the stored inventory's FetchedAt
	// (RFC 3339), so that it can be read without decoding the inventory.
	keyInventoryFetchedAt = "inventory.fetchedAt"
	keyTokenIntents       = "tokens.intents"
)

// inventoryVersion and intentsVersion are the record versions written.
// Inventory version 1 stored Sentry's access requests with the whole member
// and team objects of the API; version 2 keeps the fields the dashboard
// reads, under the same names, so version 1 records decode as they are.
const (
	inventoryVersion = 2
	intentsVersion   = 1
)

// Inventory is what the inventory stage read from Sentry. Hidden maps each
// part that could not be read (e.g. "scim-users") to a sentence saying
// why, such as "not visible with this credential: Sentry answered 403";
// a part absent from Hidden was read and may truly be empty.
type Inventory struct {
	FetchedAt      time.Time
	OrgAuthTokens  []sentry.OrgAuthToken
	SentryApps     []sentry.SentryApp
	AuthProvider   *sentry.AuthProvider
	SCIMUsers      []sentry.SCIMUser
	SCIMGroups     []sentry.SCIMGroup
	AccessRequests []sentry.AccessRequest
	Hidden         map[string]string
}

// inventoryRecord is the on-disk form of Inventory. Its parts are the
// store's own records, not Sentry's wire types: what Sentry adds to its
// answers does not change the file.
type inventoryRecord struct {
	V              int                   `json:"v"`
	FetchedAt      time.Time             `json:"fetchedAt"`
	OrgAuthTokens  []orgTokenRecord      `json:"orgAuthTokens,omitempty"`
	SentryApps     []sentryAppRecord     `json:"sentryApps,omitempty"`
	AuthProvider   *authProviderRecord   `json:"authProvider,omitempty"`
	SCIMUsers      []scimUserRecord      `json:"scimUsers,omitempty"`
	SCIMGroups     []scimGroupRecord     `json:"scimGroups,omitempty"`
	AccessRequests []accessRequestRecord `json:"accessRequests,omitempty"`
	Hidden         map[string]string     `json:"hidden,omitempty"`
}

// orgTokenRecord is an org auth token without its value, which is never
// stored.
type orgTokenRecord struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Scopes              []string   `json:"scopes"`
	TokenLastCharacters string     `json:"tokenLastCharacters"`
	DateCreated         time.Time  `json:"dateCreated"`
	DateLastUsed        *time.Time `json:"dateLastUsed"`
	ProjectLastUsedID   *string    `json:"projectLastUsedId"`
}

type sentryAppRecord struct {
	UUID          string       `json:"uuid"`
	Slug          string       `json:"slug"`
	Name          string       `json:"name"`
	Author        string       `json:"author"`
	Status        string       `json:"status"`
	Scopes        []string     `json:"scopes"`
	Events        []string     `json:"events"`
	Overview      string       `json:"overview"`
	IsAlertable   bool         `json:"isAlertable"`
	WebhookURL    *string      `json:"webhookUrl"`
	DateCreated   time.Time    `json:"dateCreated,omitzero"`
	Owner         *ownerRecord `json:"owner,omitempty"`
	VerifyInstall bool         `json:"verifyInstall"`
}

type ownerRecord struct {
	ID   int    `json:"id"`
	Slug string `json:"slug"`
}

type authProviderRecord struct {
	ID                string `json:"id"`
	ProviderName      string `json:"provider_name"`
	PendingLinksCount int    `json:"pending_links_count"`
	LoginURL          string `json:"login_url"`
	DefaultRole       string `json:"default_role"`
	RequireLink       bool   `json:"require_link"`
	SCIMEnabled       bool   `json:"scim_enabled"`
}

type scimUserRecord struct {
	Schemas       []string          `json:"schemas"`
	ID            string            `json:"id"`
	UserName      string            `json:"userName"`
	Emails        []scimEmailRecord `json:"emails"`
	Name          scimNameRecord    `json:"name"`
	Active        *bool             `json:"active,omitempty"`
	Meta          metaRecord        `json:"meta"`
	SentryOrgRole string            `json:"sentryOrgRole"`
}

type scimEmailRecord struct {
	Primary bool   `json:"primary"`
	Value   string `json:"value"`
	Type    string `json:"type"`
}

type scimNameRecord struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type scimMemberRecord struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

type metaRecord struct {
	ResourceType string `json:"resourceType"`
}

type scimGroupRecord struct {
	Schemas     []string           `json:"schemas"`
	ID          string             `json:"id"`
	DisplayName string             `json:"displayName"`
	Members     []scimMemberRecord `json:"members"`
	Meta        metaRecord         `json:"meta"`
}

// accessRequestRecord is one of Sentry's team access requests: who asks
// to join which team, and who asked for them.
type accessRequestRecord struct {
	ID        string        `json:"id"`
	Member    personRecord  `json:"member"`
	Team      teamRefRecord `json:"team"`
	Requester *personRecord `json:"requester"`
}

type personRecord struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

type teamRefRecord struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// SaveInventory replaces the stored inventory. Token values (present only
// in a creation response) are never stored.
func (s *Store) SaveInventory(ctx context.Context, inv Inventory) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(newInventoryRecord(inv))
	if err != nil {
		return fmt.Errorf("save inventory: %w", err)
	}
	at, err := inv.FetchedAt.MarshalText()
	if err != nil {
		return fmt.Errorf("save inventory: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b2 := tx.Bucket([]byte(bucketSettings))
		if err := b2.Put([]byte(keyInventory), b); err != nil {
			return err
		}
		return b2.Put([]byte(keyInventoryFetchedAt), at)
	})
	if err != nil {
		return fmt.Errorf("save inventory: %w", err)
	}
	return nil
}

// InventoryFetchedAt returns the stored inventory's FetchedAt, or
// ENOTFOUND before the first inventory fetch, without decoding the
// inventory (which at 10,000 SCIM users takes milliseconds).
func (s *Store) InventoryFetchedAt(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	var (
		at    time.Time
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSettings))
		if v := b.Get([]byte(keyInventoryFetchedAt)); v != nil {
			found = true
			return at.UnmarshalText(v)
		}
		if b.Get([]byte(keyInventory)) == nil {
			return notFound()
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("inventory fetched at: %w", err)
	}
	if !found {
		// Saved by an older version, without the separate key.
		inv, err := s.LoadInventory(ctx)
		if err != nil {
			return time.Time{}, err
		}
		at = inv.FetchedAt
	}
	return at, nil
}

// LoadInventory returns the stored inventory, or ENOTFOUND before the
// first inventory fetch. The top-level slices and the Hidden map are the
// caller's; the elements' own slices (a SCIM group's members, an app's
// scopes) may be shared with other callers and must not be changed.
func (s *Store) LoadInventory(ctx context.Context) (Inventory, error) {
	inv, err := s.sharedInventory(ctx)
	if err != nil {
		return Inventory{}, err
	}
	var ap *sentry.AuthProvider
	if inv.AuthProvider != nil {
		c := *inv.AuthProvider
		ap = &c
	}
	return Inventory{FetchedAt: inv.FetchedAt, OrgAuthTokens: slices.Clone(inv.OrgAuthTokens), SentryApps: slices.Clone(inv.SentryApps),
		AuthProvider: ap, SCIMUsers: slices.Clone(inv.SCIMUsers), SCIMGroups: slices.Clone(inv.SCIMGroups),
		AccessRequests: slices.Clone(inv.AccessRequests), Hidden: maps.Clone(inv.Hidden)}, nil
}

// LoadAccessRequests returns the last inventory's pending team access
// requests (LoadInventory's AccessRequests) without copying the rest of
// it: the change inbox asks on every view, and the rest holds every SCIM
// user. ENOTFOUND before the first inventory.
func (s *Store) LoadAccessRequests(ctx context.Context) ([]sentry.AccessRequest, error) {
	inv, err := s.sharedInventory(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(inv.AccessRequests), nil
}

// sharedInventory returns the stored inventory, decoded once per record:
// its slices are shared and must not be modified or returned.
func (s *Store) sharedInventory(ctx context.Context) (Inventory, error) {
	if err := ctx.Err(); err != nil {
		return Inventory{}, err
	}
	var inv Inventory
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSettings)).Get([]byte(keyInventory))
		if v == nil {
			return notFound()
		}
		// The record of 10,000 SCIM users takes tens of ms to decode;
		// while its bytes are unchanged, the decoded form is reused.
		if d := s.lastInventory.Load(); d != nil && bytes.Equal(d.raw, v) {
			inv = d.inv
			return nil
		}
		var rec inventoryRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		if err := checkVersion("inventory", rec.V, inventoryVersion); err != nil {
			return err
		}
		inv = rec.inventory()
		s.lastInventory.Store(&decodedInventory{raw: bytes.Clone(v), inv: inv})
		return nil
	})
	if err != nil {
		return Inventory{}, fmt.Errorf("load inventory: %w", err)
	}
	return inv, nil
}

// decodedInventory is the last inventory decoded, with its record's bytes.
type decodedInventory struct {
	raw []byte
	inv Inventory
}

// newInventoryRecord is inv's on-disk form.
func newInventoryRecord(inv Inventory) inventoryRecord {
	rec := inventoryRecord{V: inventoryVersion, FetchedAt: inv.FetchedAt, Hidden: inv.Hidden}
	for _, t := range inv.OrgAuthTokens {
		rec.OrgAuthTokens = append(rec.OrgAuthTokens, orgTokenRecord{ID: t.ID, Name: t.Name, Scopes: t.Scopes,
			TokenLastCharacters: t.TokenLastCharacters, DateCreated: t.DateCreated, DateLastUsed: t.DateLastUsed, ProjectLastUsedID: t.ProjectLastUsedID})
	}
	for _, a := range inv.SentryApps {
		r := sentryAppRecord{UUID: a.UUID, Slug: a.Slug, Name: a.Name, Author: a.Author, Status: a.Status, Scopes: a.Scopes,
			Events: a.Events, Overview: a.Overview, IsAlertable: a.IsAlertable, WebhookURL: a.WebhookURL, DateCreated: a.DateCreated,
			VerifyInstall: a.VerifyInstall}
		if a.Owner != nil {
			r.Owner = &ownerRecord{ID: a.Owner.ID, Slug: a.Owner.Slug}
		}
		rec.SentryApps = append(rec.SentryApps, r)
	}
	if p := inv.AuthProvider; p != nil {
		rec.AuthProvider = &authProviderRecord{ID: p.ID, ProviderName: p.ProviderName, PendingLinksCount: p.PendingLinksCount,
			LoginURL: p.LoginURL, DefaultRole: p.DefaultRole, RequireLink: p.RequireLink, SCIMEnabled: p.SCIMEnabled}
	}
	for _, u := range inv.SCIMUsers {
		r := scimUserRecord{Schemas: u.Schemas, ID: u.ID, UserName: u.UserName, Name: scimNameRecord(u.Name), Active: u.Active,
			Meta: metaRecord(u.Meta), SentryOrgRole: u.SentryOrgRole}
		for _, e := range u.Emails {
			r.Emails = append(r.Emails, scimEmailRecord(e))
		}
		rec.SCIMUsers = append(rec.SCIMUsers, r)
	}
	for _, g := range inv.SCIMGroups {
		r := scimGroupRecord{Schemas: g.Schemas, ID: g.ID, DisplayName: g.DisplayName, Meta: metaRecord(g.Meta)}
		for _, m := range g.Members {
			r.Members = append(r.Members, scimMemberRecord(m))
		}
		rec.SCIMGroups = append(rec.SCIMGroups, r)
	}
	for _, ar := range inv.AccessRequests {
		r := accessRequestRecord{ID: ar.ID, Member: personRecord{ID: ar.Member.ID, Email: ar.Member.Email, Name: ar.Member.Name},
			Team: teamRefRecord{ID: ar.Team.ID, Slug: ar.Team.Slug, Name: ar.Team.Name}}
		if ar.Requester != nil {
			r.Requester = &personRecord{ID: ar.Requester.ID, Email: ar.Requester.Email, Name: ar.Requester.Name}
		}
		rec.AccessRequests = append(rec.AccessRequests, r)
	}
	return rec
}

// inventory is the Inventory rec holds.
func (rec inventoryRecord) inventory() Inventory {
	inv := Inventory{FetchedAt: rec.FetchedAt, Hidden: rec.Hidden}
	for _, t := range rec.OrgAuthTokens {
		inv.OrgAuthTokens = append(inv.OrgAuthTokens, sentry.OrgAuthToken{ID: t.ID, Name: t.Name, Scopes: t.Scopes,
			TokenLastCharacters: t.TokenLastCharacters, DateCreated: t.DateCreated, DateLastUsed: t.DateLastUsed, ProjectLastUsedID: t.ProjectLastUsedID})
	}
	for _, a := range rec.SentryApps {
		app := sentry.SentryApp{UUID: a.UUID, Slug: a.Slug, Name: a.Name, Author: a.Author, Status: a.Status, Scopes: a.Scopes,
			Events: a.Events, Overview: a.Overview, IsAlertable: a.IsAlertable, WebhookURL: a.WebhookURL, DateCreated: a.DateCreated,
			VerifyInstall: a.VerifyInstall}
		if a.Owner != nil {
			app.Owner = &sentry.OwnerRef{ID: a.Owner.ID, Slug: a.Owner.Slug}
		}
		inv.SentryApps = append(inv.SentryApps, app)
	}
	if p := rec.AuthProvider; p != nil {
		inv.AuthProvider = &sentry.AuthProvider{ID: p.ID, ProviderName: p.ProviderName, PendingLinksCount: p.PendingLinksCount,
			LoginURL: p.LoginURL, DefaultRole: p.DefaultRole, RequireLink: p.RequireLink, SCIMEnabled: p.SCIMEnabled}
	}
	for _, u := range rec.SCIMUsers {
		su := sentry.SCIMUser{Schemas: u.Schemas, ID: u.ID, UserName: u.UserName, Name: sentry.SCIMName(u.Name), Active: u.Active,
			Meta: sentry.SCIMMeta(u.Meta), SentryOrgRole: u.SentryOrgRole}
		for _, e := range u.Emails {
			su.Emails = append(su.Emails, sentry.SCIMEmail(e))
		}
		inv.SCIMUsers = append(inv.SCIMUsers, su)
	}
	for _, g := range rec.SCIMGroups {
		sg := sentry.SCIMGroup{Schemas: g.Schemas, ID: g.ID, DisplayName: g.DisplayName, Meta: sentry.SCIMMeta(g.Meta)}
		for _, m := range g.Members {
			sg.Members = append(sg.Members, sentry.SCIMGroupMember(m))
		}
		inv.SCIMGroups = append(inv.SCIMGroups, sg)
	}
	for _, ar := range rec.AccessRequests {
		a := sentry.AccessRequest{ID: ar.ID, Member: sentry.Member{ID: ar.Member.ID, Email: ar.Member.Email, Name: ar.Member.Name},
			Team: sentry.Team{ID: ar.Team.ID, Slug: ar.Team.Slug, Name: ar.Team.Name}}
		if ar.Requester != nil {
			a.Requester = &sentry.User{ID: ar.Requester.ID, Email: ar.Requester.Email, Name: ar.Requester.Name}
		}
		inv.AccessRequests = append(inv.AccessRequests, a)
	}
	return inv
}

// TokenIntent is a token recorded through the dashboard's token helper: the
// purpose and environment someone stated, the name and least-privilege
// scopes suggested, and where in Sentry it is to be created (the API cannot
// create personal tokens or internal-integration tokens for us).
type TokenIntent struct {
	ID          string
	Name        string
	Purpose     string
	Environment string
	Kind        string
	Scopes      []string
	Note        string
	ExpiresAt   *time.Time
	RecordedBy  string
	RecordedAt  time.Time
}

// intentsRecord is the on-disk form of the intent list.
type intentsRecord struct {
	V       int            `json:"v"`
	Intents []intentRecord `json:"intents"`
}

type intentRecord struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Purpose     string     `json:"purpose"`
	Environment string     `json:"environment"`
	Kind        string     `json:"kind"`
	Scopes      []string   `json:"scopes"`
	Note        string     `json:"note,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	RecordedBy  string     `json:"recordedBy"`
	RecordedAt  time.Time  `json:"recordedAt"`
}

// maxIntents bounds the stored intent list; the oldest are dropped.
const maxIntents = 1000

// AddTokenIntent records an intent and returns it with its ID and
// RecordedAt set. A missing name or recorder is EINVALID.
func (s *Store) AddTokenIntent(ctx context.Context, in TokenIntent) (TokenIntent, error) {
	if err := ctx.Err(); err != nil {
		return TokenIntent{}, err
	}
	if strings.TrimSpace(in.Name) == "" || strings.TrimSpace(in.RecordedBy) == "" {
		return TokenIntent{}, fmt.Errorf("add token intent: name and recorder are required: %w", invalid())
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	in.ID = hex.EncodeToString(b[:])
	if in.RecordedAt.IsZero() {
		in.RecordedAt = s.now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucketSettings))
		rec, err := readIntents(bk)
		if err != nil {
			return err
		}
		rec.Intents = append(rec.Intents, intentRecord(in))
		if n := len(rec.Intents); n > maxIntents {
			rec.Intents = rec.Intents[n-maxIntents:]
		}
		rec.V = intentsVersion
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return bk.Put([]byte(keyTokenIntents), v)
	})
	if err != nil {
		return TokenIntent{}, fmt.Errorf("add token intent: %w", err)
	}
	return in, nil
}

// TokenIntents returns every recorded intent, oldest first.
func (s *Store) TokenIntents(ctx context.Context) ([]TokenIntent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec intentsRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = readIntents(tx.Bucket([]byte(bucketSettings)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("token intents: %w", err)
	}
	out := make([]TokenIntent, 0, len(rec.Intents))
	for _, r := range rec.Intents {
		out = append(out, TokenIntent(r))
	}
	return out, nil
}

// readIntents decodes the intent list; an absent list is empty.
func readIntents(b *bolt.Bucket) (intentsRecord, error) {
	var rec intentsRecord
	v := b.Get([]byte(keyTokenIntents))
	if v == nil {
		return rec, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode token intents: %w", err)
	}
	if err := checkVersion("token intents", rec.V, intentsVersion); err != nil {
		return rec, err
	}
	return rec, nil
}
