// Package boltstore is the embedded, durable signal.Store of Signal for
// Go, on go.etcd.io/bbolt: one file, no server. It is what the local
// runtime (`signal dev`, data in ./.signal/ by default) keeps its events,
// snapshots, views, checkpoints and change feed in. It implements
// signal.Store and every optional ability: signal.SnapshotStore,
// signal.CheckpointStore, signal.ViewStore and signal.ChangeFeed.
//
// # Durability
//
// Every write (Append, SaveSnapshot, SaveCheckpoint, RecordFailure,
// CommitViews, DropView) is all or nothing in a bbolt read-write
// transaction, and by default every transaction is fsynced before the
// calls whose writes it holds return: once Append returns nil the commit
// survives a crash of the process, of the operating system and a power
// failure (on a disk that honours fsync). Options.NoSync skips the fsync;
// see its comment for what that gives up.
//
// Writes that arrive while a transaction is being committed share the
// next one (group commit, group.go): N concurrent Appends cost one
// transaction and one fsync rather than N, and a lone write starts at
// once, waiting for nothing but its own fsync. Each write still sees the
// ones before it, as if they had run one after another, and a write that
// fails (a conflict, say) is taken out and decided in a transaction of
// its own, so it never undoes the others' writes.
//
// # One process
//
// bbolt takes an exclusive lock on the file (flock). A second process that
// opens the same file waits Options.Timeout for the lock and then fails
// with signal.ErrUnavailable saying the file is in use, rather than
// hanging. Because only one process can write, the change feed's
// WaitForChange is an in-process notification.
//
// # Layout
//
// Top-level buckets:
//
//	meta         "format" -> "boltstore/1"
//	streams      <stream key> -> bucket { be64(first version) -> commit }
//	feed         be64(position) -> be64(first version) ++ <stream key>
//	snapshots    <stream key> -> snapshot
//	checkpoints  uvarint(len(subscriber)) ++ subscriber ++ <stream key> -> be64(version)
//	views        uvarint(len(name)) ++ name ++ key -> be64(version) ++ document
//
// The stream key is type ++ 0x00 ++ id. A valid type (signal.ValidateName)
// is ASCII letters, digits, '-', '_' and '.', so it never holds a 0x00,
// and the first 0x00 of a key always ends the type: ("a", "bc") and
// ("ab", "c") get different keys, and so do ("cart", "a") and
// ("cart", "ab"), since the stream key is a whole bucket name, not a prefix.
// A valid id holds no control characters either, so a key with more than
// one 0x00 belongs to no valid stream; reads of invalid streams therefore
// find nothing, and writes refuse them with signal.ErrInvalid. Keys sort
// by type then id, so a prefix seek on "cart\x00" lists every cart.
//
// Inside a stream's bucket, commits are keyed by their first version in
// big-endian, so Load(after) is one cursor seek to after+1, and the
// stream's current version and closed flag are read from the last commit
// (its first version, event count and Final flag are at the head of the
// value): there is no second record to keep in step.
//
// The feed bucket's keys come from bucket.NextSequence inside the append's
// transaction, so a commit and its feed entry are written together or not
// at all, positions strictly increase in append order, and they resume
// across restarts. Changes(after, limit) is a cursor seek to after+1.
//
// Subscriber and view names are length-prefixed so that neither one being
// a prefix of another ("sa" and "sab"), nor the name and the rest of the
// key running together ("a"+"bcart" and "ab"+"cart"), can make two
// records share a key, and so that DropView can delete exactly one
// view's documents and one subscriber's checkpoints with a prefix scan.
//
// # Values
//
// Commits and snapshots are in a compact binary encoding (codec.go):
// strings and payloads length-prefixed and kept byte for byte, times as
// Unix milliseconds (read back in UTC), integers as varints.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/signalforgo/signal/pkg/signal"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is not set.
const DefaultTimeout = time.Second

// DefaultPath is where `signal dev` keeps its store unless told otherwise.
const DefaultPath = ".signal/signal.db"

// format identifies the layout in the meta bucket; Open refuses files of
// another format.
const format = "boltstore/1"

var (
	bucketMeta        = []byte("meta")
	bucketStreams     = []byte("streams")
	bucketFeed        = []byte("feed")
	bucketSnapshots   = []byte("snapshots")
	bucketCheckpoints = []byte("checkpoints")
	bucketViews       = []byte("views")
	keyFormat         = []byte("format")

	allBuckets = [][]byte{bucketMeta, bucketStreams, bucketFeed, bucketSnapshots, bucketCheckpoints, bucketViews}
)

// Options tune Open. A nil *Options means the defaults.
type Options struct {
	// Timeout is how long Open waits for the lock on the file, which
	// another process may hold; then it fails with signal.ErrUnavailable.
	// Zero or negative means DefaultTimeout.
	Timeout time.Duration

	// NoSync skips the fsync at the end of each write transaction. It is
	// for tests and benchmarks only. A crash of the process alone still
	// loses nothing (the written pages are in the operating system's
	// cache), but an operating-system crash or a power failure can lose
	// commits whose Append returned nil, and can leave the file
	// unreadable. With the default (false), every write is on disk
	// before the call returns, at the cost of two fsyncs per transaction
	// (one transaction per write, or per group of concurrent writes).
	NoSync bool

	// MaxSize caps the file's size in bytes; 0 means no cap. A write that
	// would grow the file past it fails with signal.ErrUnavailable and
	// writes nothing, as a full disk does.
	MaxSize int

	// FileMode is the permission of a new file; 0 means 0600. The parent
	// directory is created (0700) if it does not exist.
	FileMode os.FileMode
}

// Store is a signal.Store with every optional ability, kept in one bbolt
// file. It is safe for concurrent use. Open one per file and process;
// Close it when done.
type Store struct {
	db   *bolt.DB
	path string
	// writes runs every read-write transaction, sharing one transaction
	// and one fsync among concurrent writes (group.go).
	writes *committer

	mu sync.Mutex
	// last is the feed position of the latest commit.
	last uint64
	// changed is closed by the next append (or Close); nil while nobody
	// waits, so appends allocate nothing for the feed.
	changed chan struct{}
	closed  bool
}

// Open opens the store in the file at path, creating the file, its
// parent directory and the buckets if needed. If another process has the
// file open, Open waits up to Options.Timeout and then returns an error
// matching signal.ErrUnavailable that says so.
func Open(path string, opts *Options) (*Store, error) {
	const op = "boltstore.Open"
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FileMode == 0 {
		o.FileMode = 0o600
	}
	if path == "" {
		return nil, signal.Errorf(signal.KindInvalid, op, "the store path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: fmt.Sprintf("cannot create the directory of %s", path), Err: err}
	}
	db, err := bolt.Open(path, o.FileMode, &bolt.Options{
		Timeout: o.Timeout,
		NoSync:  o.NoSync,
		// The freelist is rebuilt by scanning the file on open instead of
		// being written on every commit: one page less per write. A crash
		// loses nothing; the scan finds the free pages again.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		MaxSize:        o.MaxSize,
	})
	if err != nil {
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, &signal.Error{Kind: signal.KindUnavailable, Op: op,
				Message: fmt.Sprintf("%s is locked by another process (is another `signal dev` running?); waited %v", path, o.Timeout), Err: err}
		case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
			return nil, &signal.Error{Kind: signal.KindInternal, Op: op, Message: fmt.Sprintf("%s is not a bbolt file or is damaged", path), Err: err}
		default:
			return nil, &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: fmt.Sprintf("cannot open %s", path), Err: err}
		}
	}
	s := &Store{db: db, path: path, writes: newCommitter(db)}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init creates the buckets of a new file, checks the format of an
// existing one and reads the feed position.
func (s *Store) init() error {
	const op = "boltstore.Open"
	return s.update(op, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A new file has no buckets; a bbolt file of something else has
			// some, and is not ours to write into.
			foreign := tx.ForEach(func(name []byte, _ *bolt.Bucket) error { return errForeign })
			if foreign != nil {
				return signal.Errorf(signal.KindInternal, op, "%s is a bbolt file of another program, not a boltstore", s.path)
			}
		} else if f := meta.Get(keyFormat); string(f) != format {
			return signal.Errorf(signal.KindInternal, op, "%s has format %q; this version reads %q", s.path, f, format)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keyFormat, []byte(format)); err != nil {
			return err
		}
		s.last = tx.Bucket(bucketFeed).Sequence()
		return nil
	})
}

var errForeign = errors.New("foreign bucket")

// Path returns the file the store is kept in.
func (s *Store) Path() string { return s.path }

// Close closes the file and releases its lock. Calls waiting in
// WaitForChange return signal.ErrUnavailable; later calls of any method
// fail with signal.ErrUnavailable. Close waits for writes in progress.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return &signal.Error{Kind: signal.KindInternal, Op: "boltstore.Close", Message: "closing " + s.path, Err: err}
	}
	return nil
}

// ---- transactions and errors ----

// update runs fn in a read-write transaction, which it may share with
// concurrent writes (group.go): fn may run more than once, each time in
// a new transaction after a rollback, so it must keep its results in
// variables it overwrites. update returns once the transaction holding
// fn's writes is committed and, unless NoSync, fsynced, or once they are
// rolled back. Errors fn returns that are already typed (*signal.Error)
// come back as they are; other errors from inside fn are bbolt failures
// (KindInternal). Failing to begin (the store is closed) or to commit
// (the disk) is KindUnavailable: the transaction was rolled back, and the
// operation may be retried as a whole.
func (s *Store) update(op string, fn func(tx *bolt.Tx) error) error {
	fromFn, err := s.writes.run(fn)
	return mapErr(op, err, fromFn)
}

// view runs fn in a read-only transaction, mapping errors like update.
// fn must copy anything it keeps: bbolt's memory is valid only inside
// the transaction.
func (s *Store) view(op string, fn func(tx *bolt.Tx) error) error {
	var fnErr error
	err := s.db.View(func(tx *bolt.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	return mapErr(op, err, fnErr != nil)
}

// get reads the value at key in bucket in a read-only transaction and
// hands it to decode, which must copy what it keeps. found is false, and
// decode not called, when there is no value; errors as view's.
func (s *Store) get(op string, bucket, key []byte, decode func(v []byte) error) (found bool, err error) {
	err = s.view(op, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get(key)
		if v == nil {
			return nil
		}
		found = true
		return decode(v)
	})
	return found, err
}

// mapErr gives a transaction's error its kind; fromFn says whether the
// transaction's function returned it (else beginning or committing did).
func mapErr(op string, err error, fromFn bool) error {
	if err == nil {
		return nil
	}
	var se *signal.Error
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the store is closed", Err: err}
	case errors.Is(err, bolterrors.ErrMaxSizeReached):
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the store file reached its maximum size", Err: err}
	case errors.Is(err, bolterrors.ErrKeyTooLarge):
		return &signal.Error{Kind: signal.KindInvalid, Op: op, Message: "a name or key is too long", Err: err}
	case !fromFn:
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the store file could not be written", Err: err}
	default:
		return &signal.Error{Kind: signal.KindInternal, Op: op, Message: "store file error", Err: err}
	}
}

// ctxErr is the error of an operation whose context ended before it began.
func ctxErr(op string, ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &signal.Error{Kind: signal.KindUnavailable, Op: op, Message: "the context ended", Err: err}
	}
	return nil
}

func corrupt(op string, stream signal.StreamID, err error) error {
	return &signal.Error{Kind: signal.KindInternal, Op: op, Stream: stream, Message: "a stored record is malformed", Err: err}
}

var (
	_ signal.Store           = (*Store)(nil)
	_ signal.SnapshotStore   = (*Store)(nil)
	_ signal.CheckpointStore = (*Store)(nil)
	_ signal.ViewStore       = (*Store)(nil)
	_ signal.ViewBatcher     = (*Store)(nil)
	_ signal.ChangeFeed      = (*Store)(nil)
)
