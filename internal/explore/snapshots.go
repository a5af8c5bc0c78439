package explore

import (
	"context"
	"fmt"

	"github.com/sentry-access/sentry-access/internal/access"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/internal/store"
)

// SnapshotList is every stored snapshot, newest first.
type SnapshotList struct {
	Snapshots []store.SnapshotMeta
	Current   uint64
}

// Snapshots lists the stored snapshots.
func (s *Service) Snapshots(ctx context.Context) (SnapshotList, error) {
	metas, err := s.src.ListSnapshots(ctx)
	if err != nil {
		return SnapshotList{}, fmt.Errorf("snapshots: %w", err)
	}
	out := SnapshotList{Snapshots: metas}
	if st := s.cur.Load(); st != nil {
		out.Current = st.meta.ID
	}
	return out, nil
}

// DiffCap is the most rows a diff page lists per section.
const DiffCap = 500

// SnapshotDiff is the comparison of two snapshots.
type SnapshotDiff struct {
	From, To store.SnapshotMeta
	Diff     access.SnapshotDiff
	Summary  *ChangeSummary
}

// Diff compares snapshot from with snapshot to. Missing ids are
// ENOTFOUND; from == to, or 0, is EINVALID.
func (s *Service) Diff(ctx context.Context, from, to uint64) (SnapshotDiff, error) {
	if from == 0 || to == 0 {
		return SnapshotDiff{}, invalid("Pick two snapshots to compare (from and to).")
	}
	if from == to {
		return SnapshotDiff{}, invalid("Pick two different snapshots to compare.")
	}
	fm, fs, err := s.src.Snapshot(ctx, from)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return SnapshotDiff{}, notFound("No snapshot %d.", from)
	}
	if err != nil {
		return SnapshotDiff{}, fmt.Errorf("diff: %w", err)
	}
	tm, ts, err := s.src.Snapshot(ctx, to)
	if sentryaccess.ErrorCode(err) == sentryaccess.ENOTFOUND {
		return SnapshotDiff{}, notFound("No snapshot %d.", to)
	}
	if err != nil {
		return SnapshotDiff{}, fmt.Errorf("diff: %w", err)
	}
	d := access.Diff(fs, ts)
	return SnapshotDiff{From: fm, To: tm, Diff: d, Summary: summarize(from, to, &d)}, ctx.Err()
}
