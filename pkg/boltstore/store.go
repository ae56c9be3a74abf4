package boltstore

import (
	"context"
	"encoding/binary"
	"iter"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/signalforgo/signal/pkg/signal"
)

// Load reads a stream in pages of at most this many commits or about
// this many bytes, each page in its own read transaction.
const (
	loadPageCommits = 256
	loadPageBytes   = 1 << 20
)

// Append implements signal.Store. The commit and its change-feed entry
// are written in one transaction, fsynced unless Options.NoSync.
//
// Besides the contract's outcomes, it returns ErrInvalid for a commit
// that would leave a gap or start inside another commit. A conflict
// (signal.AppendConflict) carries the stored commit at c.Version.
func (s *Store) Append(ctx context.Context, c signal.Commit) error {
	const op = "boltstore.Append"
	if err := ctxErr(op, ctx); err != nil {
		return err
	}
	if err := signal.ValidateCommit(op, &c); err != nil {
		return err
	}
	key := streamKey(c.Stream)
	value := encodeCommit(&c)
	vkey := versionKey(c.Version)
	feedValue := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(key)), uint64(c.Version))
	feedValue = append(feedValue, key...)

	var pos uint64
	err := s.update(op, func(tx *bolt.Tx) error {
		streams := tx.Bucket(bucketStreams)
		sb := streams.Bucket(key)
		at, err := appendPoint(op, sb, &c)
		if err != nil {
			return err
		}
		if err := signal.DecideAppend(op, &c, at); err != nil {
			return err
		}
		if sb == nil {
			if sb, err = streams.CreateBucket(key); err != nil {
				return err
			}
		}
		// Keys only ever grow: fill pages completely.
		sb.FillPercent = 1
		if err := sb.Put(vkey, value); err != nil {
			return err
		}
		feed := tx.Bucket(bucketFeed)
		feed.FillPercent = 1
		if pos, err = feed.NextSequence(); err != nil {
			return err
		}
		return feed.Put(be64(pos), feedValue)
	})
	if err != nil {
		return err
	}
	s.notify(pos)
	return nil
}

// appendPoint reads what signal.DecideAppend needs from the stream's
// bucket (nil for a new stream): the end and closed flag from the last
// commit's head, and the commit at c.Version when c.Version is not past
// the end.
func appendPoint(op string, sb *bolt.Bucket, c *signal.Commit) (signal.AppendPoint, error) {
	var at signal.AppendPoint
	if sb == nil {
		return at, nil
	}
	k, v := sb.Cursor().Last()
	if k == nil {
		return at, nil
	}
	n, final, err := commitHead(v)
	if err != nil || len(k) != 8 {
		return at, corrupt(op, c.Stream, errMalformed)
	}
	at.Last, at.Closed = int64(binary.BigEndian.Uint64(k))+n-1, final
	if c.Version > at.Last {
		return at, nil
	}
	if v := sb.Get(versionKey(c.Version)); v != nil {
		existing, err := decodeCommit(c.Stream, c.Version, v)
		if err != nil {
			return at, corrupt(op, c.Stream, err)
		}
		at.Existing = &existing
	}
	return at, nil
}

// notify records the feed position of a commit and wakes WaitForChange.
func (s *Store) notify(pos uint64) {
	s.mu.Lock()
	if pos > s.last {
		s.last = pos
	}
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
}

// Load implements signal.Store. It reads in pages, each in a short read
// transaction that ends before any commit is yielded, so the caller may
// append (or do anything else) inside its loop. Commits are immutable
// once written, so the pages join up into a consistent history; commits
// appended while the loop runs may be yielded too.
//
// A context that has ended yields signal.ErrUnavailable (wrapping
// ctx.Err()) before the next page is read.
func (s *Store) Load(ctx context.Context, id signal.StreamID, after int64) iter.Seq2[signal.Commit, error] {
	return func(yield func(signal.Commit, error) bool) {
		const op = "boltstore.Load"
		if after == math.MaxInt64 {
			return
		}
		key := streamKey(id)
		next := max(after+1, 1)
		for {
			if err := ctxErr(op, ctx); err != nil {
				yield(signal.Commit{}, err)
				return
			}
			page, more, err := s.loadPage(op, id, key, next)
			if err != nil {
				yield(signal.Commit{}, err)
				return
			}
			for _, c := range page {
				if !yield(c, nil) {
					return
				}
			}
			if !more || len(page) == 0 {
				return
			}
			next = page[len(page)-1].Version + 1
		}
	}
}

// loadPage reads the commits starting at next or later, up to a page;
// more reports that there are further commits.
func (s *Store) loadPage(op string, id signal.StreamID, key []byte, next int64) (page []signal.Commit, more bool, err error) {
	err = s.view(op, func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketStreams).Bucket(key)
		if sb == nil {
			return nil
		}
		size := 0
		cur := sb.Cursor()
		for k, v := cur.Seek(versionKey(next)); k != nil; k, v = cur.Next() {
			if len(page) >= loadPageCommits || size >= loadPageBytes {
				more = true
				return nil
			}
			if len(k) != 8 {
				return corrupt(op, id, errMalformed)
			}
			c, err := decodeCommit(id, int64(binary.BigEndian.Uint64(k)), v)
			if err != nil {
				return corrupt(op, id, err)
			}
			page = append(page, c)
			size += len(v)
		}
		return nil
	})
	return page, more, err
}
