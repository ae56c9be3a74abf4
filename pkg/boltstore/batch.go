package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/signalforgo/signal/pkg/signal"
)

// A view batch is CommitViews for many streams of one subscriber: both
// are commitRun, one write transaction that checks every checkpoint and
// document first and writes only when all of them are where the caller
// read them.

// LoadCheckpoints implements signal.ViewBatcher: every checkpoint is read
// in one read transaction, each as LoadCheckpoint returns it (version and
// recorded failure; zero for a stream with none). An invalid subscriber
// or stream is ErrInvalid, as in LoadCheckpoint, and nothing is read; a
// malformed record is KindInternal naming its stream; a closed store is
// ErrUnavailable.
func (s *Store) LoadCheckpoints(ctx context.Context, subscriber string, streams []signal.StreamID) ([]signal.Checkpoint, error) {
	const op = "boltstore.LoadCheckpoints"
	if err := ctxErr(op, ctx); err != nil {
		return nil, err
	}
	keys, err := checkpointKeys(op, subscriber, streams)
	if err != nil {
		return nil, err
	}
	out := make([]signal.Checkpoint, len(streams))
	err = s.view(op, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints)
		for i, key := range keys {
			cp, err := readCheckpoint(b, key)
			if err != nil {
				return corrupt(op, streams[i], err)
			}
			out[i] = cp
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommitViewBatch implements signal.ViewBatcher: after
// signal.ValidateViewBatch (ErrInvalid, ErrTooLarge), one write
// transaction (commitRun) checks every move's checkpoint (a checkpoint
// not at its From is signal.CheckpointMoved naming the stream) and every
// document (one not at its ExpectedVersion is signal.ViewChanged), and
// only then writes the documents and sets every checkpoint to its To,
// clearing its failure. A conflict writes nothing; a store that cannot
// write its file (closed, full, the disk) is ErrUnavailable with nothing
// written.
func (s *Store) CommitViewBatch(ctx context.Context, b signal.ViewBatch) error {
	const op = "boltstore.CommitViewBatch"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	if _, err := signal.ValidateViewBatch(op, &b); err != nil {
		return err
	}
	return s.commitRun(op, b.Subscriber, signal.StreamID{}, b.Moves, b.Writes)
}

// commitRun is CommitViews and CommitViewBatch once their input is
// checked: in one write transaction, every move's checkpoint must be at
// its From and every document at its ExpectedVersion, else the answer is
// ErrConflict before anything is written; then the documents are written
// (nil Data deletes) and each checkpoint is set to its To, which clears
// its failure. stream is named in ViewChanged (zero for a batch, whose
// documents belong to no one stream).
//
// The function handed to update only reads the transaction and the
// arguments, so the group committer may run it again: a run refused
// inside a group is rolled back with the group and run alone, after the
// others, so it is refused (or applied) as it would be by itself, and
// never leaves part of its writes behind.
func (s *Store) commitRun(op, subscriber string, stream signal.StreamID, moves []signal.CheckpointMove, writes []signal.ViewWrite) error {
	cpKeys := make([][]byte, len(moves))
	for i, m := range moves {
		key, err := checkCheckpoint(op, subscriber, m.Stream)
		if err != nil {
			return err
		}
		cpKeys[i] = key
	}
	keys := make([][]byte, len(writes))
	for i, w := range writes {
		keys[i] = viewKey(w.Name, w.Key)
		if err := checkKey(op, "a view name and key", keys[i]); err != nil {
			return err
		}
	}
	return s.update(op, func(tx *bolt.Tx) error {
		cps := tx.Bucket(bucketCheckpoints)
		for i, m := range moves {
			cp, err := readCheckpoint(cps, cpKeys[i])
			if err != nil {
				return corrupt(op, m.Stream, err)
			}
			if cp.Version != m.From {
				return signal.CheckpointMoved(op, m.Stream)
			}
		}
		views := tx.Bucket(bucketViews)
		if err := checkViewVersions(op, stream, views, keys, writes); err != nil {
			return err
		}
		if err := putViews(views, keys, writes); err != nil {
			return err
		}
		for i, m := range moves {
			if err := cps.Put(cpKeys[i], be64(uint64(m.To))); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkpointKeys checks the subscriber and each stream as checkCheckpoint
// does and returns their keys, in the streams' order.
func checkpointKeys(op, subscriber string, streams []signal.StreamID) ([][]byte, error) {
	keys := make([][]byte, len(streams))
	for i, id := range streams {
		key, err := checkCheckpoint(op, subscriber, id)
		if err != nil {
			return nil, err
		}
		keys[i] = key
	}
	return keys, nil
}

// checkViewVersions answers signal.ViewChanged for the first document
// whose stored version (0 when missing) is not its write's
// ExpectedVersion, KindInternal for a malformed one, nil when every
// document is where the caller read it.
func checkViewVersions(op string, stream signal.StreamID, views *bolt.Bucket, keys [][]byte, writes []signal.ViewWrite) error {
	for i, w := range writes {
		var cur int64
		if v := views.Get(keys[i]); v != nil {
			var err error
			if cur, err = viewVersion(v); err != nil {
				return &signal.Error{Kind: signal.KindInternal, Op: op, Message: fmt.Sprintf("view %s/%s is malformed", w.Name, w.Key), Err: err}
			}
		}
		if cur != w.ExpectedVersion {
			return signal.ViewChanged(op, stream, w.Name, w.Key)
		}
	}
	return nil
}

// putViews writes each document at the version after its
// ExpectedVersion, or deletes it when its Data is nil.
func putViews(views *bolt.Bucket, keys [][]byte, writes []signal.ViewWrite) error {
	for i, w := range writes {
		var err error
		if w.Data == nil {
			err = views.Delete(keys[i])
		} else {
			err = views.Put(keys[i], encodeView(w.ExpectedVersion+1, w.Data))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
