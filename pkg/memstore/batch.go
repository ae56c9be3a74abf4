package memstore

import (
	"context"

	"github.com/signalforgo/signal/pkg/signal"
)

var _ signal.ViewBatcher = (*Store)(nil)

// LoadCheckpoints implements signal.ViewBatcher.
func (s *Store) LoadCheckpoints(ctx context.Context, subscriber string, streams []signal.StreamID) ([]signal.Checkpoint, error) {
	s.counts.checkpointBatchLoads.Add(1)
	const op = "memstore.LoadCheckpoints"
	for i, id := range streams {
		var err error
		if i == 0 {
			err = signal.ValidateCheckpoint(op, subscriber, id) // the subscriber once
		} else {
			err = signal.ValidateStream(op, id)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]signal.Checkpoint, len(streams))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, id := range streams {
		out[i] = s.checkpointLocked(subscriber, id)
	}
	return out, nil
}

// CommitViewBatch implements signal.ViewBatcher: one lock for the checks
// and the changes.
func (s *Store) CommitViewBatch(ctx context.Context, b signal.ViewBatch) error {
	const op = "memstore.CommitViewBatch"
	s.counts.viewBatches.Add(1)
	if _, err := signal.ValidateViewBatch(op, &b); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(op, b.Subscriber, b.Moves, b.Writes, keep)
}

// keep and bytes.Clone are how commitLocked stores a document: as given,
// which CommitViewBatch's contract allows (its caller never changes a
// document after), or copied, as CommitViews must.
func keep(data []byte) []byte { return data }

// found is what commitLocked found for the moves and writes it checked.
type found struct {
	checkpoints []*signal.Checkpoint
	views       []*signal.View
}

// commitLocked checks every move and write and, if all hold, applies
// them: CommitViews, CommitViewBatch and SaveCheckpoint. Each entry is
// looked up once and changed in place. s.mu is held.
func (s *Store) commitLocked(op, subscriber string, moves []signal.CheckpointMove, writes []signal.ViewWrite, own func([]byte) []byte) error {
	f := &s.found
	defer f.clear()
	for _, m := range moves {
		cp := s.checkpoints[checkpointKey{subscriber, m.Stream}]
		if versionOf(cp) != m.From {
			return signal.CheckpointMoved(op, m.Stream)
		}
		f.checkpoints = append(f.checkpoints, cp)
	}
	for _, w := range writes {
		v := s.views[viewKey{w.Name, w.Key}]
		if v == nil && w.ExpectedVersion != 0 || v != nil && v.Version != w.ExpectedVersion {
			return signal.ViewChanged(op, streamOf(moves), w.Name, w.Key)
		}
		f.views = append(f.views, v)
	}
	for i, w := range writes {
		switch v := f.views[i]; {
		case w.Data == nil:
			if v != nil {
				delete(s.views, viewKey{w.Name, w.Key})
			}
		case v == nil:
			s.views[viewKey{w.Name, w.Key}] = &signal.View{Name: w.Name, Key: w.Key, Data: own(w.Data), Version: w.ExpectedVersion + 1}
		default:
			v.Data, v.Version = own(w.Data), w.ExpectedVersion+1
		}
	}
	for i, m := range moves {
		if cp := f.checkpoints[i]; cp != nil {
			*cp = signal.Checkpoint{Version: m.To}
		} else {
			s.checkpoints[checkpointKey{subscriber, m.Stream}] = &signal.Checkpoint{Version: m.To}
		}
	}
	return nil
}

func (f *found) clear() {
	clear(f.checkpoints)
	clear(f.views)
	f.checkpoints, f.views = f.checkpoints[:0], f.views[:0]
}

// versionOf is a stored checkpoint's version, 0 for none.
func versionOf(cp *signal.Checkpoint) int64 {
	if cp == nil {
		return 0
	}
	return cp.Version
}

// streamOf is the stream an error of a commit names: a batch's is none.
func streamOf(moves []signal.CheckpointMove) signal.StreamID {
	if len(moves) == 1 {
		return moves[0].Stream
	}
	return signal.StreamID{}
}
