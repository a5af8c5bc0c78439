package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
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
const (
	inventoryVersion = 1
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

// inventoryRecord is the on-disk form of Inventory.
type inventoryRecord struct {
	V              int                    `json:"v"`
	FetchedAt      time.Time              `json:"fetchedAt"`
	OrgAuthTokens  []sentry.OrgAuthToken  `json:"orgAuthTokens,omitempty"`
	SentryApps     []sentry.SentryApp     `json:"sentryApps,omitempty"`
	AuthProvider   *sentry.AuthProvider   `json:"authProvider,omitempty"`
	SCIMUsers      []sentry.SCIMUser      `json:"scimUsers,omitempty"`
	SCIMGroups     []sentry.SCIMGroup     `json:"scimGroups,omitempty"`
	AccessRequests []sentry.AccessRequest `json:"accessRequests,omitempty"`
	Hidden         map[string]string      `json:"hidden,omitempty"`
}

// SaveInventory replaces the stored inventory. Token values (present only
// in a creation response) are never stored.
func (s *Store) SaveInventory(ctx context.Context, inv Inventory) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := inventoryRecord{V: inventoryVersion, FetchedAt: inv.FetchedAt, OrgAuthTokens: inv.OrgAuthTokens,
		SentryApps: inv.SentryApps, AuthProvider: inv.AuthProvider, SCIMUsers: inv.SCIMUsers,
		SCIMGroups: inv.SCIMGroups, AccessRequests: inv.AccessRequests, Hidden: inv.Hidden}
	rec.OrgAuthTokens = make([]sentry.OrgAuthToken, len(inv.OrgAuthTokens))
	for i, t := range inv.OrgAuthTokens {
		t.Token = ""
		rec.OrgAuthTokens[i] = t
	}
	b, err := json.Marshal(rec)
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
	if err := ctx.Err(); err != nil {
		return Inventory{}, err
	}
	var (
		rec inventoryRecord
		hit *decodedInventory
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSettings)).Get([]byte(keyInventory))
		if v == nil {
			return notFound()
		}
		// The record of 10,000 SCIM users takes tens of ms to decode;
		// while its bytes are unchanged, the decoded form is reused.
		if d := s.lastInventory.Load(); d != nil && bytes.Equal(d.raw, v) {
			hit = d
			return nil
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		s.lastInventory.Store(&decodedInventory{raw: bytes.Clone(v), rec: rec})
		return nil
	})
	if err != nil {
		return Inventory{}, fmt.Errorf("load inventory: %w", err)
	}
	if hit != nil {
		rec = hit.rec
	}
	if rec.V > inventoryVersion {
		return Inventory{}, fmt.Errorf("load inventory: record version %d is newer than this program's %d", rec.V, inventoryVersion)
	}
	var ap *sentry.AuthProvider
	if rec.AuthProvider != nil {
		c := *rec.AuthProvider
		ap = &c
	}
	return Inventory{FetchedAt: rec.FetchedAt, OrgAuthTokens: slices.Clone(rec.OrgAuthTokens), SentryApps: slices.Clone(rec.SentryApps),
		AuthProvider: ap, SCIMUsers: slices.Clone(rec.SCIMUsers), SCIMGroups: slices.Clone(rec.SCIMGroups),
		AccessRequests: slices.Clone(rec.AccessRequests), Hidden: maps.Clone(rec.Hidden)}, nil
}

// decodedInventory is the last inventory record decoded, with its bytes.
type decodedInventory struct {
	raw []byte
	rec inventoryRecord
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
	if rec.V > intentsVersion {
		return rec, errors.New("token intents record is newer than this program")
	}
	return rec, nil
}
