// Package memstore is an in-memory signal.Store with every optional
// ability (snapshots, checkpoints, views, change feed). It keeps events
// encoded, exactly as a durable store would, so codec and upcasting bugs
// surface in tests instead of hiding behind shared Go values.
//
// It is for tests, benchmarks and examples; nothing survives the process.
package memstore

import (
	"bytes"
	"context"
	"iter"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/signalforgo/signal/pkg/signal"
)

// Store is the in-memory store. The zero value is not usable; call New.
type Store struct {
	mu      sync.RWMutex
	streams map[signal.StreamID]*stream
	// feed holds every commit in append order; positions are index+1.
	feed []*signal.Commit
	// changed is closed by the next append; nil while nobody waits, so
	// appends allocate nothing for the feed.
	changed   chan struct{}
	snapshots map[signal.StreamID]signal.Snapshot
	// checkpoints and views hold pointers, so a commit finds each entry
	// once, checks it and changes it in place.
	checkpoints map[checkpointKey]*signal.Checkpoint
	views       map[viewKey]*signal.View

	counts counters
	// found holds what a commit found under the lock: reused, as the
	// lock is held while it is used.
	found found
}

// stream holds pointers, not values, so growing it moves 8 bytes a commit
// instead of the whole struct.
type stream struct {
	commits []*signal.Commit
	closed  bool
}

func (s *stream) version() int64 {
	if len(s.commits) == 0 {
		return 0
	}
	return s.commits[len(s.commits)-1].LastVersion()
}

type checkpointKey struct {
	subscriber string
	stream     signal.StreamID
}

type viewKey struct{ name, key string }

type counters struct {
	appends, loads, snapshotLoads, snapshotSaves, viewLoads, viewCommits, checkpointLoads, checkpointSaves atomic.Int64
	viewBatches, checkpointBatchLoads                                                                      atomic.Int64
}

// Counts are the requests the store has served, the in-memory twin of
// the DynamoDB meter: tests assert how many reads and writes a path costs.
type Counts struct {
	Appends, Loads, SnapshotLoads, SnapshotSaves             int64
	ViewLoads, ViewCommits, CheckpointLoads, CheckpointSaves int64
	// ViewBatches counts CommitViewBatch calls and CheckpointBatchLoads
	// LoadCheckpoints calls (signal.ViewBatcher).
	ViewBatches, CheckpointBatchLoads int64
}

// New returns an empty store.
func New() *Store {
	return &Store{
		streams:     map[signal.StreamID]*stream{},
		snapshots:   map[signal.StreamID]signal.Snapshot{},
		checkpoints: map[checkpointKey]*signal.Checkpoint{},
		views:       map[viewKey]*signal.View{},
	}
}

// Counts returns the number of requests served so far.
func (s *Store) Counts() Counts {
	c := &s.counts
	return Counts{
		Appends: c.appends.Load(), Loads: c.loads.Load(),
		SnapshotLoads: c.snapshotLoads.Load(), SnapshotSaves: c.snapshotSaves.Load(),
		ViewLoads: c.viewLoads.Load(), ViewCommits: c.viewCommits.Load(),
		CheckpointLoads: c.checkpointLoads.Load(), CheckpointSaves: c.checkpointSaves.Load(),
		ViewBatches: c.viewBatches.Load(), CheckpointBatchLoads: c.checkpointBatchLoads.Load(),
	}
}

// Append implements signal.Store. Besides the contract's outcomes it
// returns ErrInvalid for a commit that would leave a gap or start inside
// another commit, which a DynamoDB store could not detect.
func (s *Store) Append(ctx context.Context, c signal.Commit) error {
	const op = "memstore.Append"
	s.counts.appends.Add(1)
	if err := ctx.Err(); err != nil {
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Err: err}
	}
	if err := signal.ValidateCommit(op, &c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[c.Stream]
	if st == nil {
		st = &stream{}
		s.streams[c.Stream] = st
	}
	at := signal.AppendPoint{Last: st.version(), Closed: st.closed}
	if c.Version <= at.Last {
		if i, ok := st.find(c.Version); ok {
			at.Existing = st.commits[i]
		}
	}
	if err := signal.DecideAppend(op, &c, at); err != nil {
		return err
	}
	stored := &c
	st.commits = append(st.commits, stored)
	st.closed = c.Final
	s.feed = append(s.feed, stored)
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return nil
}

// find returns the index of the commit starting at version.
func (st *stream) find(version int64) (int, bool) {
	i := sort.Search(len(st.commits), func(i int) bool { return st.commits[i].Version >= version })
	return i, i < len(st.commits) && st.commits[i].Version == version
}

// Load implements signal.Store.
func (s *Store) Load(ctx context.Context, id signal.StreamID, after int64) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) {
		s.counts.loads.Add(1)
		if err := ctx.Err(); err != nil {
			yield(signal.Commit{}, &signal.Error{Kind: signal.KindUnavailable, Op: "memstore.Load", Err: err})
			return
		}
		s.mu.RLock()
		var commits []*signal.Commit
		if st := s.streams[id]; st != nil {
			// Appends never change existing elements, so the slice can be
			// read after unlocking.
			commits = st.commits
		}
		s.mu.RUnlock()
		i := sort.Search(len(commits), func(i int) bool { return commits[i].Version > after })
		for ; i < len(commits); i++ {
			if !yield(*commits[i], nil) {
				return
			}
		}
	}
}

// LoadSnapshot implements signal.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, id signal.StreamID) (signal.Snapshot, error) {
	s.counts.snapshotLoads.Add(1)
	s.mu.RLock()
	snap, ok := s.snapshots[id]
	s.mu.RUnlock()
	if !ok {
		return signal.Snapshot{}, signal.SnapshotNotFound("memstore.LoadSnapshot", id)
	}
	return snap, nil
}

// SaveSnapshot implements signal.SnapshotStore.
func (s *Store) SaveSnapshot(ctx context.Context, snap signal.Snapshot) error {
	s.counts.snapshotSaves.Add(1)
	if err := signal.ValidateSnapshot("memstore.SaveSnapshot", &snap); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.snapshots[snap.Stream]; ok && old.Version >= snap.Version {
		return nil
	}
	snap.Data = bytes.Clone(snap.Data)
	s.snapshots[snap.Stream] = snap
	return nil
}

// LoadCheckpoint implements signal.CheckpointStore.
func (s *Store) LoadCheckpoint(ctx context.Context, subscriber string, id signal.StreamID) (signal.Checkpoint, error) {
	s.counts.checkpointLoads.Add(1)
	if err := signal.ValidateCheckpoint("memstore.LoadCheckpoint", subscriber, id); err != nil {
		return signal.Checkpoint{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.checkpointLocked(subscriber, id), nil
}

// checkpointLocked returns a copy of the stored checkpoint, its failure
// copied too. s.mu is held.
func (s *Store) checkpointLocked(subscriber string, id signal.StreamID) signal.Checkpoint {
	stored := s.checkpoints[checkpointKey{subscriber, id}]
	if stored == nil {
		return signal.Checkpoint{}
	}
	cp := *stored
	if cp.Failure != nil {
		f := *cp.Failure
		cp.Failure = &f
	}
	return cp
}

// SaveCheckpoint implements signal.CheckpointStore.
func (s *Store) SaveCheckpoint(ctx context.Context, subscriber string, id signal.StreamID, from, to int64) error {
	const op = "memstore.SaveCheckpoint"
	s.counts.checkpointSaves.Add(1)
	if err := signal.ValidateCheckpointMove(op, subscriber, id, from, to); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	moves := [1]signal.CheckpointMove{{Stream: id, From: from, To: to}}
	return s.commitLocked(op, subscriber, moves[:], nil, bytes.Clone)
}

// RecordFailure implements signal.CheckpointStore.
func (s *Store) RecordFailure(ctx context.Context, f signal.Failure) error {
	const op = "memstore.RecordFailure"
	if err := signal.ValidateFailure(op, &f); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := checkpointKey{f.Subscriber, f.Stream}
	cp := s.checkpoints[k]
	if versionOf(cp) != f.Version-1 {
		return signal.CheckpointMoved(op, f.Stream)
	}
	if cp == nil {
		cp = new(signal.Checkpoint)
		s.checkpoints[k] = cp
	}
	cp.Failure = &f
	return nil
}

// Failures implements signal.CheckpointStore.
func (s *Store) Failures(ctx context.Context) ([]signal.Failure, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []signal.Failure
	for _, cp := range s.checkpoints {
		if cp.Failure != nil {
			out = append(out, *cp.Failure)
		}
	}
	return out, nil
}

// LoadView implements signal.ViewStore.
func (s *Store) LoadView(ctx context.Context, name, key string) (signal.View, error) {
	s.counts.viewLoads.Add(1)
	s.mu.RLock()
	v := s.views[viewKey{name, key}]
	var view signal.View
	if v != nil {
		view = *v
	}
	s.mu.RUnlock()
	if v == nil {
		return signal.View{}, signal.ViewNotFound("memstore.LoadView", name, key)
	}
	return view, nil
}

// CommitViews implements signal.ViewStore.
func (s *Store) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	const op = "memstore.CommitViews"
	s.counts.viewCommits.Add(1)
	if _, err := signal.ValidateViewCommit(op, &c); err != nil {
		return err
	}
	moves := [1]signal.CheckpointMove{{Stream: c.Stream, From: c.From, To: c.To}}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(op, c.Subscriber, moves[:], c.Writes, bytes.Clone)
}

// DropView implements signal.ViewStore.
func (s *Store) DropView(ctx context.Context, name, subscriber string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.views {
		if k.name == name {
			delete(s.views, k)
		}
	}
	for k := range s.checkpoints {
		if k.subscriber == subscriber {
			delete(s.checkpoints, k)
		}
	}
	return nil
}

// Changes implements signal.ChangeFeed.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]signal.Change, error) {
	if limit <= 0 {
		limit = 100
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if after >= uint64(len(s.feed)) {
		return nil, nil
	}
	end := min(uint64(len(s.feed)), after+uint64(limit))
	out := make([]signal.Change, 0, end-after)
	for i := after; i < end; i++ {
		out = append(out, signal.Change{Position: i + 1, Commit: *s.feed[i]})
	}
	return out, nil
}

// WaitForChange implements signal.ChangeFeed.
func (s *Store) WaitForChange(ctx context.Context, after uint64) error {
	for {
		s.mu.Lock()
		n := uint64(len(s.feed))
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		if n > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var (
	_ signal.Store         = (*Store)(nil)
	_ signal.SnapshotStore = (*Store)(nil)
	_ signal.ViewStore     = (*Store)(nil)
	_ signal.ChangeFeed    = (*Store)(nil)
)
