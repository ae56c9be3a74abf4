package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/signalforgo/signal/pkg/signal"
)

// ---- snapshots ----

// LoadSnapshot implements signal.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, id signal.StreamID) (signal.Snapshot, error) {
	const op = "boltstore.LoadSnapshot"
	if err := ctxErr(op, ctx); err != nil {
		return signal.Snapshot{}, err
	}
	var snap signal.Snapshot
	found, err := s.get(op, bucketSnapshots, streamKey(id), func(v []byte) (err error) {
		if snap, err = decodeSnapshot(id, v); err != nil {
			return corrupt(op, id, err)
		}
		return nil
	})
	switch {
	case err != nil:
		return signal.Snapshot{}, err
	case !found:
		return signal.Snapshot{}, signal.SnapshotNotFound(op, id)
	}
	return snap, nil
}

// SaveSnapshot implements signal.SnapshotStore: the read of the stored
// version and the write are one transaction, so an older snapshot never
// replaces a newer one.
func (s *Store) SaveSnapshot(ctx context.Context, snap signal.Snapshot) error {
	const op = "boltstore.SaveSnapshot"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateSnapshot(op, &snap); err != nil {
		return err
	}
	key := streamKey(snap.Stream)
	value := encodeSnapshot(&snap)
	return s.update(op, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots)
		if old := b.Get(key); old != nil {
			v, err := snapshotVersion(old)
			if err != nil {
				return corrupt(op, snap.Stream, err)
			}
			if v >= snap.Version {
				return nil
			}
		}
		return b.Put(key, value)
	})
}

// ---- checkpoints ----

func checkpointKey(subscriber string, id signal.StreamID) []byte {
	return prefixed(subscriber, streamKey(id))
}

// checkKey refuses keys bbolt cannot store, before any transaction.
func checkKey(op, what string, key []byte) error {
	if len(key) > bolt.MaxKeySize {
		return signal.Errorf(signal.KindInvalid, op, "%s is too long (the key would take %d bytes; at most %d)", what, len(key), bolt.MaxKeySize)
	}
	return nil
}

// A checkpoint's value is its version (8 bytes, big endian), followed by
// its failure as JSON when it has one.
func readCheckpoint(b *bolt.Bucket, key []byte) (signal.Checkpoint, error) {
	return decodeCheckpoint(b.Get(key))
}

func decodeCheckpoint(v []byte) (signal.Checkpoint, error) {
	if v == nil {
		return signal.Checkpoint{}, nil
	}
	if len(v) < 8 {
		return signal.Checkpoint{}, errMalformed
	}
	cp := signal.Checkpoint{Version: int64(binary.BigEndian.Uint64(v))}
	if len(v) > 8 {
		cp.Failure = new(signal.Failure)
		if err := json.Unmarshal(v[8:], cp.Failure); err != nil {
			return signal.Checkpoint{}, errMalformed
		}
	}
	return cp, nil
}

func encodeCheckpoint(cp signal.Checkpoint) ([]byte, error) {
	v := be64(uint64(cp.Version))
	if cp.Failure == nil {
		return v, nil
	}
	f, err := json.Marshal(cp.Failure)
	return append(v, f...), err
}

// checkCheckpoint checks a checkpoint's names and the length of its key.
func checkCheckpoint(op, subscriber string, id signal.StreamID) ([]byte, error) {
	if err := signal.ValidateCheckpoint(op, subscriber, id); err != nil {
		return nil, err
	}
	key := checkpointKey(subscriber, id)
	return key, checkKey(op, "the subscriber name", key)
}

// LoadCheckpoint implements signal.CheckpointStore.
func (s *Store) LoadCheckpoint(ctx context.Context, subscriber string, id signal.StreamID) (signal.Checkpoint, error) {
	const op = "boltstore.LoadCheckpoint"
	if err := ctxErr(op, ctx); err != nil {
		return signal.Checkpoint{}, err
	}
	key, err := checkCheckpoint(op, subscriber, id)
	if err != nil {
		return signal.Checkpoint{}, err
	}
	var cp signal.Checkpoint
	err = s.view(op, func(tx *bolt.Tx) error {
		var err error
		if cp, err = readCheckpoint(tx.Bucket(bucketCheckpoints), key); err != nil {
			return corrupt(op, id, err)
		}
		return nil
	})
	return cp, err
}

// SaveCheckpoint implements signal.CheckpointStore.
func (s *Store) SaveCheckpoint(ctx context.Context, subscriber string, id signal.StreamID, from, to int64) error {
	const op = "boltstore.SaveCheckpoint"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateCheckpointMove(op, subscriber, id, from, to); err != nil {
		return err
	}
	key, err := checkCheckpoint(op, subscriber, id)
	if err != nil {
		return err
	}
	return s.update(op, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints)
		cp, err := readCheckpoint(b, key)
		if err != nil {
			return corrupt(op, id, err)
		}
		if cp.Version != from {
			return signal.CheckpointMoved(op, id)
		}
		return b.Put(key, be64(uint64(to)))
	})
}

// RecordFailure implements signal.CheckpointStore.
func (s *Store) RecordFailure(ctx context.Context, f signal.Failure) error {
	const op = "boltstore.RecordFailure"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateFailure(op, &f); err != nil {
		return err
	}
	key, err := checkCheckpoint(op, f.Subscriber, f.Stream)
	if err != nil {
		return err
	}
	return s.update(op, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints)
		cp, err := readCheckpoint(b, key)
		if err != nil {
			return corrupt(op, f.Stream, err)
		}
		if cp.Version != f.Version-1 {
			return signal.CheckpointMoved(op, f.Stream)
		}
		cp.Failure = &f
		v, err := encodeCheckpoint(cp)
		if err != nil {
			return err
		}
		return b.Put(key, v)
	})
}

// Failures implements signal.CheckpointStore: a walk over the checkpoints.
func (s *Store) Failures(ctx context.Context) ([]signal.Failure, error) {
	const op = "boltstore.Failures"
	if err := ctxErr(op, ctx); err != nil {
		return nil, err
	}
	var out []signal.Failure
	err := s.view(op, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).ForEach(func(_, v []byte) error {
			if len(v) <= 8 {
				return nil
			}
			cp, err := decodeCheckpoint(v)
			if err != nil {
				return corrupt(op, signal.StreamID{}, err)
			}
			out = append(out, *cp.Failure)
			return nil
		})
	})
	return out, err
}

// ---- views ----

func viewKey(name, key string) []byte { return prefixed(name, []byte(key)) }

// LoadView implements signal.ViewStore.
func (s *Store) LoadView(ctx context.Context, name, key string) (signal.View, error) {
	const op = "boltstore.LoadView"
	if err := ctxErr(op, ctx); err != nil {
		return signal.View{}, err
	}
	var view signal.View
	found, err := s.get(op, bucketViews, viewKey(name, key), func(v []byte) error {
		version, err := viewVersion(v)
		if err != nil {
			return &signal.Error{Kind: signal.KindInternal, Op: op, Message: fmt.Sprintf("view %s/%s is malformed", name, key), Err: err}
		}
		view = signal.View{Name: name, Key: key, Data: bytes.Clone(v[8:]), Version: version}
		if view.Data == nil {
			view.Data = []byte{}
		}
		return nil
	})
	switch {
	case err != nil:
		return signal.View{}, err
	case !found:
		return signal.View{}, signal.ViewNotFound(op, name, key)
	}
	return view, nil
}

// CommitViews implements signal.ViewStore: the checks, the document
// writes and the checkpoint move are one transaction (commitRun).
func (s *Store) CommitViews(ctx context.Context, c signal.ViewCommit) error {
	const op = "boltstore.CommitViews"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	if _, err := signal.ValidateViewCommit(op, &c); err != nil {
		return err
	}
	move := []signal.CheckpointMove{{Stream: c.Stream, From: c.From, To: c.To}}
	return s.commitRun(op, c.Subscriber, c.Stream, move, c.Writes)
}

// DropView implements signal.ViewStore, in one transaction.
func (s *Store) DropView(ctx context.Context, name, subscriber string) error {
	const op = "boltstore.DropView"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	return s.update(op, func(tx *bolt.Tx) error {
		if err := deletePrefix(tx.Bucket(bucketViews), prefixed(name, nil)); err != nil {
			return err
		}
		return deletePrefix(tx.Bucket(bucketCheckpoints), prefixed(subscriber, nil))
	})
}

// deletePrefix deletes every key of b that starts with prefix. The keys
// are collected first: deleting under a moving cursor can skip keys.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ---- change feed ----

// Changes implements signal.ChangeFeed. Positions are dense (1, 2, 3, ...)
// and survive restarts; a failed Append uses none.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]signal.Change, error) {
	const op = "boltstore.Changes"
	if err := ctxErr(op, ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	if after == math.MaxUint64 {
		return nil, nil
	}
	var out []signal.Change
	err := s.view(op, func(tx *bolt.Tx) error {
		streams := tx.Bucket(bucketStreams)
		var lastKey []byte
		var sb *bolt.Bucket
		var id signal.StreamID
		cur := tx.Bucket(bucketFeed).Cursor()
		for k, v := cur.Seek(be64(after + 1)); k != nil && len(out) < limit; k, v = cur.Next() {
			if len(k) != 8 || len(v) < 9 {
				return &signal.Error{Kind: signal.KindInternal, Op: op, Message: "a change feed entry is malformed"}
			}
			version := int64(binary.BigEndian.Uint64(v))
			skey := v[8:]
			if sb == nil || !bytes.Equal(skey, lastKey) {
				var err error
				if id, err = parseStreamKey(skey); err != nil {
					return &signal.Error{Kind: signal.KindInternal, Op: op, Message: "a change feed entry is malformed", Err: err}
				}
				if sb = streams.Bucket(skey); sb == nil {
					return corrupt(op, id, fmt.Errorf("feed position %d names a stream that does not exist", binary.BigEndian.Uint64(k)))
				}
				lastKey = skey
			}
			cv := sb.Get(versionKey(version))
			if cv == nil {
				return corrupt(op, id, fmt.Errorf("feed position %d names version %d, which does not exist", binary.BigEndian.Uint64(k), version))
			}
			c, err := decodeCommit(id, version, cv)
			if err != nil {
				return corrupt(op, id, err)
			}
			out = append(out, signal.Change{Position: binary.BigEndian.Uint64(k), Commit: c})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WaitForChange implements signal.ChangeFeed. Appends in this process
// wake it; no other process can append while this one has the file open.
// After Close it returns signal.ErrUnavailable.
func (s *Store) WaitForChange(ctx context.Context, after uint64) error {
	for {
		s.mu.Lock()
		if s.last > after {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return &signal.Error{Kind: signal.KindUnavailable, Op: "boltstore.WaitForChange", Message: "the store is closed"}
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
