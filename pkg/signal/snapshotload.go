package signal

import (
	"context"
	"iter"
)

// LatestLoader is the ability to read a stream's latest snapshot and the
// commits after it together, in one request where the store can: a cold
// load (an aggregate not in the pool) then costs one read whatever the
// history length, where SnapshotStore's LoadSnapshot followed by Load costs
// two. The Service uses it, when the store has it, to load an aggregate
// whose type takes snapshots; without it the Service makes those two calls.
// pkg/dynstore implements it with one descending Query of the stream's
// partition; signal/storetest's RunLatestLoader is its conformance suite.
type LatestLoader interface {
	SnapshotStore

	// LoadLatest reads the stream's latest snapshot, the one LoadSnapshot
	// returns, and the commits after it.
	//
	// expect is how many commits the caller expects at most after the
	// latest snapshot (the Service passes the type's SnapshotEvery: each
	// commit holds at least one event, so a stream whose snapshots are
	// written has fewer commits than that after its newest one). A store
	// that reads in pages may size its first read by it, so the usual case
	// takes one request, and must read on when the guess is short.
	// expect <= 0 means no guess. It never changes what is returned.
	//
	// Outcomes:
	//   - found is true: snap is the latest snapshot (Stream, Version,
	//     SchemaVersion, Data byte for byte, Time as SaveSnapshot got
	//     them), and commits yields what Load(stream, snap.Version) would:
	//     the commits whose Version is greater than snap.Version, in
	//     version order (none when the snapshot is at the end).
	//   - found is false and commits yields commits: the stream has no
	//     snapshot; commits yields what Load(stream, 0) would. A stream
	//     that does not exist, or that Readable refuses, yields nothing.
	//   - found is false and commits yields an error as its only pair: the
	//     read failed before the snapshot was known (ErrUnavailable, or
	//     ErrInternal for an item the store cannot decode, a malformed
	//     snapshot included); snap is the zero Snapshot.
	//   - an error later in commits (found either way): the read failed
	//     part way; it is yielded once, as the last pair, as Load does.
	//
	// The read happens in LoadLatest or while commits is ranged over, with
	// ctx; ranging over commits more than once is not supported. The caller
	// must not modify snap.Data or the yielded commits.
	LoadLatest(ctx context.Context, stream StreamID, expect int) (snap Snapshot, found bool, commits iter.Seq2[Commit, error])
}
