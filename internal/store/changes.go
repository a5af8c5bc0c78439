package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Change-request buckets. Requests and trail records are keyed by their
// big-endian sequence, so a cursor walks them in creation order; grants by
// the id of the request that created them.
const (
	bucketChangeRequests = "change_requests" // seq → changeRequestRecord
	bucketChangeGrants   = "change_grants"   // request id → changeGrantRecord
	bucketChangeTrail    = "change_trail"    // seq → changeTrailRecord
	bucketChangeMeta     = "change_meta"     // keyTrailHead → TrailHead
)

const keyTrailHead = "trail_head"

// changesRecordVersion is the version of the change records' on-disk form
// (ChangeRequest, ChangeGrant, TrailEntry).
const changesRecordVersion = 1

// ensureChangesBuckets creates the change-request buckets. Open should call
// it; every ChangesRepo write also does, so the repo works either way.
func ensureChangesBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketChangeRequests, bucketChangeGrants, bucketChangeTrail, bucketChangeMeta} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// The change-request records. Their JSON is the file format: the
// changes service maps its domain types to and from them
// (changes.StoreRepo), so a change of the domain types cannot change what
// is on disk. Each record is stored with its version, changesRecordVersion.

// ChangeRequest is the on-disk form of a change request.
type ChangeRequest struct {
	ID            string           `json:"id"`
	Title         string           `json:"title"`
	Requester     string           `json:"requester"`
	RequesterRole string           `json:"requesterRole"`
	Justification string           `json:"justification,omitempty"`
	Steps         []ChangeStep     `json:"steps"`
	ExpiresAt     *time.Time       `json:"expiresAt,omitempty"`
	ExtendsGrant  string           `json:"extendsGrant,omitempty"`
	RevokesGrant  string           `json:"revokesGrant,omitempty"`
	GrantID       string           `json:"grantId,omitempty"`
	CreatedAt     time.Time        `json:"createdAt"`
	UpdatedAt     time.Time        `json:"updatedAt"`
	State         string           `json:"state"`
	Approvals     []ChangeDecision `json:"approvals,omitempty"`
	Source        string           `json:"source"`
	Required      int              `json:"required"`
	Preview       *ChangePreview   `json:"preview,omitempty"`
}

// ChangeStep is the on-disk form of one step with its apply record.
type ChangeStep struct {
	Index        int          `json:"index"`
	Kind         string       `json:"kind"`
	Params       ChangeParams `json:"params"`
	State        string       `json:"state"`
	Attempts     int          `json:"attempts"`
	SentryStatus int          `json:"sentryStatus,omitempty"`
	SentryError  string       `json:"sentryError,omitempty"`
	StartedAt    *time.Time   `json:"startedAt,omitempty"`
	FinishedAt   *time.Time   `json:"finishedAt,omitempty"`
	Result       string       `json:"result,omitempty"`
}

// ChangeParams is the on-disk form of a step's arguments.
type ChangeParams struct {
	Member        string   `json:"member,omitempty"`
	Email         string   `json:"email,omitempty"`
	Team          string   `json:"team,omitempty"`
	TeamID        string   `json:"teamId,omitempty"`
	Project       string   `json:"project,omitempty"`
	Role          string   `json:"role,omitempty"`
	PreviousRole  string   `json:"previousRole,omitempty"`
	Name          string   `json:"name,omitempty"`
	AccessRequest string   `json:"accessRequest,omitempty"`
	Add           []string `json:"add,omitempty"`
	Remove        []string `json:"remove,omitempty"`
}

// ChangeDecision is the on-disk form of one approval or denial.
type ChangeDecision struct {
	Actor   string    `json:"actor"`
	Role    string    `json:"role"`
	Approve bool      `json:"approve"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// ChangePreview is the on-disk form of a request's preview.
//
// ActingAs, Affected and TeamRoles were added in version 1 as optional
// fields: older records read as none.
type ChangePreview struct {
	ComputedAt time.Time         `json:"computedAt"`
	Violations []ChangeViolation `json:"violations,omitempty"`
	Deltas     []ChangeDelta     `json:"deltas,omitempty"`
	// ActingAs says who Sentry acts as (the configured token's owner).
	ActingAs string `json:"actingAs,omitempty"`
	// Affected are the members whose effective access the request
	// changes (none of them decides on it).
	Affected []ChangeAffected `json:"affected,omitempty"`
	// TeamRoles are the stored team roles org-role steps touch.
	TeamRoles []ChangeTeamRole `json:"teamRoles,omitempty"`
}

// ChangeAffected is the on-disk form of a member whose access a request
// changes, and how.
type ChangeAffected struct {
	Member string `json:"member"`
	Email  string `json:"email"`
	How    string `json:"how"`
}

// ChangeTeamRole is the on-disk form of what an org-role step does to one
// stored team role.
type ChangeTeamRole struct {
	Step            int         `json:"step"`
	Member          string      `json:"member"`
	Email           string      `json:"email"`
	Team            string      `json:"team"`
	Stored          string      `json:"stored,omitempty"`
	Reset           bool        `json:"reset,omitempty"`
	EffectiveBefore string      `json:"effectiveBefore"`
	EffectiveAfter  string      `json:"effectiveAfter"`
	Restore         *ChangeStep `json:"restore,omitempty"`
}

// ChangeViolation is the on-disk form of a rule a step breaks.
type ChangeViolation struct {
	Step     int    `json:"step"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Blocking bool   `json:"blocking"`
}

// ChangeDelta is the on-disk form of one member's change of access to one
// project.
type ChangeDelta struct {
	Member      string   `json:"member"`
	Email       string   `json:"email"`
	Project     string   `json:"project"`
	GainsAccess bool     `json:"gainsAccess,omitempty"`
	LosesAccess bool     `json:"losesAccess,omitempty"`
	Gained      []string `json:"gained,omitempty"`
	Lost        []string `json:"lost,omitempty"`
	// Via names the roles that give the scopes (added in version 1 as an
	// optional field: older records read as "").
	Via string `json:"via,omitempty"`
}

// ChangeGrant is the on-disk form of time-bound access.
type ChangeGrant struct {
	ID              string       `json:"id"`
	RequestID       string       `json:"requestId"`
	Requester       string       `json:"requester"`
	Title           string       `json:"title"`
	Member          string       `json:"member,omitempty"`
	Revert          []ChangeStep `json:"revert"`
	ExpiresAt       time.Time    `json:"expiresAt"`
	CreatedAt       time.Time    `json:"createdAt"`
	State           string       `json:"state"`
	RevokeRequestID string       `json:"revokeRequestId,omitempty"`
	Extensions      []string     `json:"extensions,omitempty"`
}

// TrailEntry is the on-disk form of one record of the dashboard's audit
// trail. The trail is append-only and hash-chained: PrevHash is the Hash
// of the entry before, and Hash is the SHA-256 of CanonicalBytes. The
// canonical bytes are this record's JSON with Hash empty, fields in this
// order: what a hash covers is the stored form, so it changes only with a
// new record version.
type TrailEntry struct {
	Seq            uint64    `json:"seq"`
	At             time.Time `json:"at"`
	Actor          string    `json:"actor"`
	Kind           string    `json:"kind"`
	RequestID      string    `json:"requestId,omitempty"`
	GrantID        string    `json:"grantId,omitempty"`
	Step           int       `json:"step,omitempty"`
	Before         string    `json:"before,omitempty"`
	After          string    `json:"after,omitempty"`
	SentryStatus   int       `json:"sentryStatus,omitempty"`
	SentryResponse string    `json:"sentryResponse,omitempty"`
	Comment        string    `json:"comment,omitempty"`
	PrevHash       string    `json:"prevHash"`
	Hash           string    `json:"hash"`
}

// CanonicalBytes returns the bytes hashed for e: its JSON with Hash empty
// and At in UTC.
func (e TrailEntry) CanonicalBytes() []byte {
	e.Hash = ""
	e.At = e.At.UTC()
	b, err := json.Marshal(e)
	if err != nil { // a struct of strings, ints and a time cannot fail
		panic(fmt.Sprintf("marshal trail entry: %v", err))
	}
	return b
}

// TrailHead is the position of the last appended entry; the zero head is
// the empty trail.
type TrailHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// SealTrailEntry places e after head: it sets Seq, PrevHash and Hash and
// returns the sealed entry and the new head.
func SealTrailEntry(head TrailHead, e TrailEntry) (TrailEntry, TrailHead) {
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.At = e.At.UTC()
	sum := sha256.Sum256(e.CanonicalBytes())
	e.Hash = hex.EncodeToString(sum[:])
	return e, TrailHead{Seq: e.Seq, Hash: e.Hash}
}

// changeRequestRecord, changeGrantRecord and changeTrailRecord are the
// versioned records as stored.
type changeRequestRecord struct {
	V int `json:"v"`
	ChangeRequest
}

type changeGrantRecord struct {
	V int `json:"v"`
	ChangeGrant
}

type changeTrailRecord struct {
	V int `json:"v"`
	TrailEntry
}

// checkVersion refuses a record written by a newer program.
func checkVersion(what string, v, known int) error {
	if v > known {
		return fmt.Errorf("%s: record version %d is newer than this program's %d", what, v, known)
	}
	return nil
}

// ChangeRecords stores change requests, grants and the audit trail. Every
// method is one transaction.
type ChangeRecords struct{ s *Store }

// Changes returns the change-request records.
func (s *Store) Changes() *ChangeRecords { return &ChangeRecords{s: s} }

func requestSeq(id string) (uint64, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("request %q: %w", id, notFound())
	}
	return n, nil
}

// update runs fn in a write transaction with the change buckets present.
func (r *ChangeRecords) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.s.db.Update(func(tx *bolt.Tx) error {
		if err := ensureChangesBuckets(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// view runs fn in a read transaction; fn must accept nil buckets (a file
// where no change was ever written).
func (r *ChangeRecords) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.s.db.View(fn)
}

func decodeRequest(id string, v []byte) (*ChangeRequest, error) {
	var rec changeRequestRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", id, err)
	}
	if err := checkVersion("request "+id, rec.V, changesRecordVersion); err != nil {
		return nil, err
	}
	return &rec.ChangeRequest, nil
}

func readRequest(tx *bolt.Tx, id string) (*ChangeRequest, error) {
	seq, err := requestSeq(id)
	if err != nil {
		return nil, err
	}
	b := tx.Bucket([]byte(bucketChangeRequests))
	if b == nil {
		return nil, fmt.Errorf("request %s: %w", id, notFound())
	}
	v := b.Get(itob(seq))
	if v == nil {
		return nil, fmt.Errorf("request %s: %w", id, notFound())
	}
	return decodeRequest(id, v)
}

func writeRequest(tx *bolt.Tx, req *ChangeRequest) error {
	seq, err := requestSeq(req.ID)
	if err != nil {
		return err
	}
	return putJSON(tx.Bucket([]byte(bucketChangeRequests)), itob(seq), changeRequestRecord{V: changesRecordVersion, ChangeRequest: *req})
}

func decodeGrant(id string, v []byte) (*ChangeGrant, error) {
	var rec changeGrantRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode grant %s: %w", id, err)
	}
	if err := checkVersion("grant "+id, rec.V, changesRecordVersion); err != nil {
		return nil, err
	}
	return &rec.ChangeGrant, nil
}

func decodeTrailEntry(seq uint64, v []byte) (*TrailEntry, error) {
	var rec changeTrailRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode trail record %d: %w", seq, err)
	}
	if err := checkVersion(fmt.Sprintf("trail record %d", seq), rec.V, changesRecordVersion); err != nil {
		return nil, err
	}
	return &rec.TrailEntry, nil
}

// appendTrail seals entries after the stored head and writes them.
func appendTrail(tx *bolt.Tx, entries []TrailEntry) error {
	if len(entries) == 0 {
		return nil
	}
	meta := tx.Bucket([]byte(bucketChangeMeta))
	var head TrailHead
	if v := meta.Get([]byte(keyTrailHead)); v != nil {
		if err := json.Unmarshal(v, &head); err != nil {
			return fmt.Errorf("decode trail head: %w", err)
		}
	}
	tb := tx.Bucket([]byte(bucketChangeTrail))
	for _, e := range entries {
		var sealed TrailEntry
		sealed, head = SealTrailEntry(head, e)
		if err := putJSON(tb, itob(sealed.Seq), changeTrailRecord{V: changesRecordVersion, TrailEntry: sealed}); err != nil {
			return err
		}
	}
	return putJSON(meta, []byte(keyTrailHead), head)
}

// CreateRequest stores a new request, assigning req.ID (an increasing
// decimal sequence) and the RequestID of every trail entry, which it
// appends in the same transaction.
func (r *ChangeRecords) CreateRequest(ctx context.Context, req *ChangeRequest, trail []TrailEntry) error {
	err := r.update(ctx, func(tx *bolt.Tx) error {
		seq, err := tx.Bucket([]byte(bucketChangeRequests)).NextSequence()
		if err != nil {
			return err
		}
		req.ID = strconv.FormatUint(seq, 10)
		for i := range trail {
			trail[i].RequestID = req.ID
		}
		if err := writeRequest(tx, req); err != nil {
			return err
		}
		return appendTrail(tx, trail)
	})
	if err != nil {
		return fmt.Errorf("create change request: %w", err)
	}
	return nil
}

// Request returns the request with id (ENOTFOUND when there is none).
func (r *ChangeRecords) Request(ctx context.Context, id string) (*ChangeRequest, error) {
	var out *ChangeRequest
	err := r.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = readRequest(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get change request: %w", err)
	}
	return out, nil
}

// UpdateRequest reads the request, calls fn on it and, if fn returns no
// error, writes it back and appends the trail entries fn returned (their
// RequestID defaulting to id), in one transaction. fn's error is returned
// wrapped; nothing is written then.
func (r *ChangeRecords) UpdateRequest(ctx context.Context, id string, fn func(*ChangeRequest) ([]TrailEntry, error)) (*ChangeRequest, error) {
	var out *ChangeRequest
	err := r.update(ctx, func(tx *bolt.Tx) error {
		req, err := readRequest(tx, id)
		if err != nil {
			return err
		}
		trail, err := fn(req)
		if err != nil {
			return err
		}
		req.ID = id
		if err := writeRequest(tx, req); err != nil {
			return err
		}
		for i := range trail {
			if trail[i].RequestID == "" {
				trail[i].RequestID = id
			}
		}
		out = req
		return appendTrail(tx, trail)
	})
	if err != nil {
		return nil, fmt.Errorf("update change request %s: %w", id, err)
	}
	return out, nil
}

// ListRequests returns the requests keep accepts (nil: all), newest
// first, at most limit of them (0: no limit).
func (r *ChangeRecords) ListRequests(ctx context.Context, keep func(*ChangeRequest) bool, limit int) ([]ChangeRequest, error) {
	var out []ChangeRequest
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeRequests))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			req, err := decodeRequest(strconv.FormatUint(btoi(k), 10), v)
			if err != nil {
				return err
			}
			if keep != nil && !keep(req) {
				continue
			}
			out = append(out, *req)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list change requests: %w", err)
	}
	return out, nil
}

// CreateGrant stores a new grant under g.ID and appends trail. A grant
// whose id exists already is ECONFLICT.
func (r *ChangeRecords) CreateGrant(ctx context.Context, g *ChangeGrant, trail []TrailEntry) error {
	err := r.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeGrants))
		if g.ID == "" {
			return fmt.Errorf("grant without id: %w", invalid())
		}
		if b.Get([]byte(g.ID)) != nil {
			return fmt.Errorf("grant %s exists: %w", g.ID, conflict())
		}
		if err := putJSON(b, []byte(g.ID), changeGrantRecord{V: changesRecordVersion, ChangeGrant: *g}); err != nil {
			return err
		}
		return appendTrail(tx, trail)
	})
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	return nil
}

// UpdateGrant is UpdateRequest for grants (trail GrantIDs default to id).
func (r *ChangeRecords) UpdateGrant(ctx context.Context, id string, fn func(*ChangeGrant) ([]TrailEntry, error)) (*ChangeGrant, error) {
	var out *ChangeGrant
	err := r.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeGrants))
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("grant %s: %w", id, notFound())
		}
		g, err := decodeGrant(id, v)
		if err != nil {
			return err
		}
		trail, err := fn(g)
		if err != nil {
			return err
		}
		g.ID = id
		if err := putJSON(b, []byte(id), changeGrantRecord{V: changesRecordVersion, ChangeGrant: *g}); err != nil {
			return err
		}
		for i := range trail {
			if trail[i].GrantID == "" {
				trail[i].GrantID = id
			}
		}
		out = g
		return appendTrail(tx, trail)
	})
	if err != nil {
		return nil, fmt.Errorf("update grant %s: %w", id, err)
	}
	return out, nil
}

// ListGrants returns the grants keep accepts (nil: all), soonest expiry
// first.
func (r *ChangeRecords) ListGrants(ctx context.Context, keep func(*ChangeGrant) bool) ([]ChangeGrant, error) {
	var out []ChangeGrant
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeGrants))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			g, err := decodeGrant(string(k), v)
			if err != nil {
				return err
			}
			if keep == nil || keep(g) {
				out = append(out, *g)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	slices.SortStableFunc(out, func(a, b ChangeGrant) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	return out, nil
}

// AppendTrail seals entries after the current head and appends them.
func (r *ChangeRecords) AppendTrail(ctx context.Context, entries ...TrailEntry) error {
	if err := r.update(ctx, func(tx *bolt.Tx) error { return appendTrail(tx, entries) }); err != nil {
		return fmt.Errorf("append trail: %w", err)
	}
	return nil
}

// Trail returns the entries keep accepts (nil: all) in append order, at
// most limit of them (0: no limit).
func (r *ChangeRecords) Trail(ctx context.Context, keep func(*TrailEntry) bool, limit int) ([]TrailEntry, error) {
	var out []TrailEntry
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeTrail))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			e, err := decodeTrailEntry(btoi(k), v)
			if err != nil {
				return err
			}
			if keep != nil && !keep(e) {
				continue
			}
			out = append(out, *e)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read trail: %w", err)
	}
	return out, nil
}

// TrailHead returns the sequence and hash of the last entry appended.
func (r *ChangeRecords) TrailHead(ctx context.Context) (TrailHead, error) {
	var head TrailHead
	err := r.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketChangeMeta))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(keyTrailHead)); v != nil {
			return json.Unmarshal(v, &head)
		}
		return nil
	})
	if err != nil {
		return head, fmt.Errorf("read trail head: %w", err)
	}
	return head, nil
}
