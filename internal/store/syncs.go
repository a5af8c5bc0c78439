package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxSyncHistory bounds the number of sync runs kept; older ones are dropped
// when a new run is recorded.
const maxSyncHistory = 500

// SyncProgress is how far a running sync got within its stage.
type SyncProgress struct {
	Done  int
	Total int // 0 when unknown
}

// SyncStatus is one sync run. A run is recorded when it starts (OK false,
// Finished zero) and again when it ends. A failed run names the Stage it
// failed in; the current snapshot stays the last good one.
type SyncStatus struct {
	ID         uint64 // 0 on the first RecordSyncStatus, which assigns it
	Kind       SnapshotKind
	Started    time.Time
	Finished   time.Time // zero while running
	OK         bool
	Error      string
	Stage      string
	Progress   SyncProgress
	SnapshotID uint64 // the snapshot the run saved, if any
	Requests   int64
	// Fallback says why an incremental sync ran as a full one.
	Fallback string
}

// Running reports whether the run has not finished yet.
func (s SyncStatus) Running() bool { return s.Finished.IsZero() }

// syncRecord is the on-disk form of SyncStatus.
type syncRecord struct {
	V          int       `json:"v"`
	ID         uint64    `json:"id"`
	Kind       string    `json:"kind"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	Stage      string    `json:"stage,omitempty"`
	Done       int       `json:"done,omitempty"`
	Total      int       `json:"total,omitempty"`
	SnapshotID uint64    `json:"snapshotId,omitempty"`
	Requests   int64     `json:"requests,omitempty"`
	Fallback   string    `json:"fallback,omitempty"`
}

func (r syncRecord) status() SyncStatus {
	return SyncStatus{
		ID: r.ID, Kind: SnapshotKind(r.Kind), Started: r.Started, Finished: r.Finished,
		OK: r.OK, Error: r.Error, Stage: r.Stage, Progress: SyncProgress{Done: r.Done, Total: r.Total},
		SnapshotID: r.SnapshotID, Requests: r.Requests, Fallback: r.Fallback,
	}
}

func newSyncRecord(s SyncStatus) syncRecord {
	return syncRecord{
		V: schemaVersion, ID: s.ID, Kind: string(s.Kind), Started: s.Started, Finished: s.Finished,
		OK: s.OK, Error: s.Error, Stage: s.Stage, Done: s.Progress.Done, Total: s.Progress.Total,
		SnapshotID: s.SnapshotID, Requests: s.Requests, Fallback: s.Fallback,
	}
}

// RecordSyncStatus stores st. When st.ID is 0 it records a new run and
// assigns the ID; otherwise it replaces the run with that ID. It returns the
// stored status.
func (s *Store) RecordSyncStatus(ctx context.Context, st SyncStatus) (SyncStatus, error) {
	if err := ctx.Err(); err != nil {
		return SyncStatus{}, err
	}
	if st.Started.IsZero() {
		st.Started = s.now()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSyncs))
		if st.ID == 0 {
			id, err := b.NextSequence()
			if err != nil {
				return err
			}
			st.ID = id
		}
		v, err := json.Marshal(newSyncRecord(st))
		if err != nil {
			return err
		}
		if err := b.Put(itob(st.ID), v); err != nil {
			return err
		}
		return trimSyncs(tx)
	})
	if err != nil {
		return SyncStatus{}, fmt.Errorf("record sync status: %w", err)
	}
	return st, nil
}

// LastSyncStatus returns the most recently started sync run, or ENOTFOUND.
func (s *Store) LastSyncStatus(ctx context.Context) (SyncStatus, error) {
	runs, err := s.SyncHistory(ctx, 1)
	if err != nil {
		return SyncStatus{}, fmt.Errorf("last sync status: %w", err)
	}
	if len(runs) == 0 {
		return SyncStatus{}, fmt.Errorf("last sync status: %w", notFound())
	}
	return runs[0], nil
}

// SyncHistory returns up to limit sync runs, newest first (limit < 1 means
// all that are kept).
func (s *Store) SyncHistory(ctx context.Context, limit int) ([]SyncStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []SyncStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketSyncs)).Cursor()
		for k, v := c.Last(); k != nil && (limit < 1 || len(out) < limit); k, v = c.Prev() {
			var rec syncRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode sync %d: %w", btoi(k), err)
			}
			out = append(out, rec.status())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sync history: %w", err)
	}
	return out, nil
}

// trimSyncs drops the oldest runs beyond maxSyncHistory.
func trimSyncs(tx *bolt.Tx) error {
	b := tx.Bucket([]byte(bucketSyncs))
	var doomed [][]byte
	seen := 0
	c := b.Cursor()
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		if seen++; seen > maxSyncHistory {
			doomed = append(doomed, bytes.Clone(k))
		}
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
