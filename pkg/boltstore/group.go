package boltstore

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit: writes that arrive while a transaction is being written
// and fsynced wait, and the next transaction runs all of them, so N
// concurrent writes cost one fsync instead of N. A write that finds no
// transaction under way starts one at once: a lone write waits for
// nothing but its own fsync.
//
// This is bbolt's DB.Batch idea without its timer. DB.Batch starts a
// batch MaxBatchDelay after its first call (10 ms by default), so a lone
// write always waits that long, and a batch gathers only what arrives in
// that window, not what queues behind the fsync before it. Measured on
// `signal dev` (BenchmarkDevThroughput, interleaved runs), its default
// halved throughput, and with 1 ms or 200 µs it stayed below the group
// commit here.
//
// The goroutine of a write that finds no transaction under way commits
// the group (it leads), then hands the lead to the first write that
// queued meanwhile: no goroutine runs in the background, and Close needs
// nothing beyond bbolt's own (a write queued behind it fails with
// bbolt's ErrDatabaseNotOpen, as a write begun after Close always has).
//
// Writes run in the order they arrived, each seeing the ones before it
// in the same transaction, exactly as if they had run one after another.
// A group whose write fails is rolled back and run again without it, so
// each write's function must be safe to run again in a new transaction
// (it is, when it only reads and writes the transaction and keeps its
// results in variables it overwrites).

// maxGroup bounds the writes of one transaction (as bbolt's
// DefaultMaxBatchSize does), so that one transaction's dirty pages and
// the wait of its first writer stay bounded when very many goroutines
// write at once.
const maxGroup = 1000

// committer runs the writes handed to it in shared transactions. Its
// zero value is not ready: newCommitter makes one.
type committer struct {
	db *bolt.DB

	mu sync.Mutex
	// queue holds the writes waiting for the next transaction.
	queue []*write
	// spare is the array of the last group committed, cleared, for the
	// next queue (nil while a leader is using it), so that writes one at
	// a time allocate no queue.
	spare []*write
	// leading is true while a goroutine is committing a group; the writes
	// that arrive meanwhile queue for the next one.
	leading bool

	// The group being committed and what its transaction found, used
	// only by the leader; runGroup is the transaction's function, made
	// once so that a transaction allocates no closure.
	todo     []*write
	failed   int
	panicked bool
	runGroup func(*bolt.Tx) error
}

// write is one call of Store.update waiting for its transaction.
type write struct {
	fn func(*bolt.Tx) error
	// woken is released once: when the write's outcome is set, or when
	// its goroutine is to lead the next group (lead is then true).
	woken sync.WaitGroup
	lead  bool
	// err and fromFn are the outcome (as Store.update's mapErr takes
	// them); solo means the outcome is not known yet: the write failed
	// beside others, and its caller must run it alone.
	err    error
	fromFn bool
	solo   bool
}

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db}
	c.runGroup = c.runTodo
	return c
}

// run runs fn in a read-write transaction shared with the writes
// queued beside it, and returns once that transaction is committed (and
// fsynced, unless the file was opened with NoSync) or rolled back. err
// is the transaction's error; fromFn says that fn returned it (fn's
// writes were then not committed). A fn that fails beside others is run
// again alone, so its outcome is the one it has in a transaction of its
// own, and the others do not lose their writes.
func (c *committer) run(fn func(*bolt.Tx) error) (fromFn bool, err error) {
	w := &write{fn: fn}
	w.woken.Add(1)
	c.mu.Lock()
	c.queue = append(c.queue, w)
	if c.leading {
		c.mu.Unlock()
		w.woken.Wait()
	} else {
		c.leading = true
		c.mu.Unlock()
		w.lead = true
	}
	if w.lead {
		c.lead(w)
	}
	if w.solo {
		return c.runSolo(fn)
	}
	return w.fromFn, w.err
}

// lead commits the queued writes (self first among them) as one group,
// hands the lead to the first write that queued meanwhile, and wakes the
// group's other writers.
func (c *committer) lead(self *write) {
	c.mu.Lock()
	group := c.queue
	c.queue = c.spare[:0]
	c.spare = nil
	if len(group) > maxGroup {
		c.queue = append(c.queue, group[maxGroup:]...)
		group = group[:maxGroup]
	}
	c.mu.Unlock()

	c.commit(group)

	c.mu.Lock()
	if len(c.queue) == 0 {
		c.leading = false
	} else {
		next := c.queue[0]
		next.lead = true
		next.woken.Done()
	}
	c.mu.Unlock()
	for _, w := range group {
		if w != self {
			w.woken.Done()
		}
	}
	clear(group[:cap(group)]) // keep no write (and its data) alive
	c.mu.Lock()
	c.spare = group[:0]
	c.mu.Unlock()
}

// commit runs group in one transaction and sets each write's outcome.
// When a function fails (or panics), its write is taken out to be run
// alone and the transaction is tried again without it: bbolt has no
// savepoints, so the failed function's partial writes can only go with a
// rollback. When committing fails (the disk, MaxSize) every write of a
// group of more than one is run alone, so that each gets the outcome it
// would have had by itself.
func (c *committer) commit(group []*write) {
	c.todo = group
	defer func() { c.todo = nil }()
	for len(c.todo) > 0 {
		c.failed, c.panicked = -1, false
		err := c.db.Update(c.runGroup)
		todo, failed := c.todo, c.failed
		switch {
		case c.panicked:
			todo[failed].solo = true
			c.todo = append(todo[:failed:failed], todo[failed+1:]...)
		case len(todo) == 1:
			todo[0].err, todo[0].fromFn = err, failed == 0
			return
		case failed >= 0:
			todo[failed].solo = true
			c.todo = append(todo[:failed:failed], todo[failed+1:]...)
		case err != nil:
			for _, w := range todo {
				w.solo = true
			}
			return
		default:
			return
		}
	}
}

// runTodo is the function of a group's transaction: it runs c.todo's
// functions in order and stops at the first that fails, noting which.
func (c *committer) runTodo(tx *bolt.Tx) error {
	for i, w := range c.todo {
		var err error
		if c.panicked, err = call(w.fn, tx); err != nil {
			c.failed = i
			return err
		}
	}
	return nil
}

// runSolo runs fn in a transaction of its own.
func (c *committer) runSolo(fn func(*bolt.Tx) error) (fromFn bool, err error) {
	var fnErr error
	err = c.db.Update(func(tx *bolt.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	return fnErr != nil, err
}

// call runs fn, turning a panic into an error (and panicked true): the
// panicking write is then run alone, and panics again in its own caller's
// goroutine rather than in the leader's, which would strand the group.
func call(fn func(*bolt.Tx) error, tx *bolt.Tx) (panicked bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked, err = true, fmt.Errorf("panic in a write: %v", p)
		}
	}()
	return false, fn(tx)
}
