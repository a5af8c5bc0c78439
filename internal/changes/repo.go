package changes

import (
	"context"
	"time"
)

// Repo persists requests, grants and the audit trail. Every method is one
// atomic transaction. Implemented with bbolt by store.ChangesRepo.
type Repo interface {
	// CreateRequest stores a new request, assigning r.ID (an increasing
	// decimal sequence) and setting the RequestID of every trail record,
	// which it appends in the same transaction.
	CreateRequest(ctx context.Context, r *Request, trail []TrailRecord) error
	// Request returns the request with id, or an ENOTFOUND error.
	Request(ctx context.Context, id string) (*Request, error)
	// UpdateRequest reads the request, calls fn on it and, if fn returns no
	// error, writes it back and appends the trail records fn returned, all
	// in one transaction. It returns the stored request. Errors: ENOTFOUND,
	// or fn's error unchanged.
	UpdateRequest(ctx context.Context, id string, fn func(*Request) ([]TrailRecord, error)) (*Request, error)
	// ListRequests returns the requests matching f, newest first.
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, error)

	// CreateGrant stores a new grant, assigning g.ID, and appends trail.
	CreateGrant(ctx context.Context, g *Grant, trail []TrailRecord) error
	// UpdateGrant is UpdateRequest for grants.
	UpdateGrant(ctx context.Context, id string, fn func(*Grant) ([]TrailRecord, error)) (*Grant, error)
	// ListGrants returns the grants matching f, soonest expiry first.
	ListGrants(ctx context.Context, f GrantFilter) ([]Grant, error)

	// AppendTrail appends records to the audit trail, sealing each with
	// SealTrailRecord after the current head.
	AppendTrail(ctx context.Context, recs ...TrailRecord) error
	// Trail returns the records matching f in append order.
	Trail(ctx context.Context, f TrailFilter) ([]TrailRecord, error)
	// TrailHead returns the sequence and hash of the last record appended.
	TrailHead(ctx context.Context) (TrailHead, error)
}

// RequestFilter selects requests; zero fields match everything.
type RequestFilter struct {
	States    []State
	Requester string
	Source    Source
	Limit     int
}

// Match reports whether r passes the filter (Limit aside).
func (f RequestFilter) Match(r *Request) bool {
	if len(f.States) > 0 && !contains(f.States, r.State) {
		return false
	}
	if f.Requester != "" && f.Requester != r.Requester {
		return false
	}
	if f.Source != "" && f.Source != r.Source {
		return false
	}
	return true
}

// GrantFilter selects grants; zero fields match everything.
type GrantFilter struct {
	States []GrantState
	// ExpiresBefore keeps grants expiring at or before it.
	ExpiresBefore time.Time
	Member        string
}

// Match reports whether g passes the filter.
func (f GrantFilter) Match(g *Grant) bool {
	if len(f.States) > 0 && !contains(f.States, g.State) {
		return false
	}
	if !f.ExpiresBefore.IsZero() && g.ExpiresAt.After(f.ExpiresBefore) {
		return false
	}
	if f.Member != "" && f.Member != g.Member {
		return false
	}
	return true
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
