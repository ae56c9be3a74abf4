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
// that window, not what queues behind the fsync before it; measured on
// `signal dev` (BenchmarkDevThroughput), its default halved throughput
// and no delay setting reached the throughput of the group commit here.
//
// Writes run in the order they arrived, each seeing the ones before it
// in the same transaction, exactly as if they had run one after another.
// Each write's function must therefore be safe to run again in a new
// transaction after a rollback (it is, when it only reads and writes the
// transaction and keeps its results in variables it overwrites).

// maxGroup bounds the writes of one transaction (as bbolt's
// DefaultMaxBatchSize does), so that one transaction's dirty pages and
// the wait of its first writer stay bounded when very many goroutines
// write at once.
const maxGroup = 1000

// committer runs the writes handed to it in shared transactions.
type committer struct {
	db *bolt.DB

	mu sync.Mutex
	// queue holds the writes waiting for the next transaction.
	queue []*write
	// leading is true while a goroutine is committing a group; the writes
	// that arrive meanwhile queue for the next one.
	leading bool
}

// write is one call of Store.update waiting for its transaction.
type write struct {
	fn func(*bolt.Tx) error
	// wake receives once: when the write's outcome is set, or when its
	// goroutine is to lead the next group (lead is then true).
	wake chan struct{}
	lead bool
	// err and fromFn are the outcome (as Store.update's mapErr takes
	// them); solo means the outcome is not known yet: the write failed
	// beside others, and its caller must run it alone.
	err    error
	fromFn bool
	solo   bool
}

// run runs fn in a read-write transaction shared with the writes
// queued beside it, and returns once that transaction is committed (and
// fsynced, unless the file was opened with NoSync) or rolled back. err
// is the transaction's error; fromFn says that fn returned it (fn's
// writes were then not committed). A fn that fails beside others is run
// again alone, so its outcome is the one it has in a transaction of its
// own, and the others do not lose their writes.
func (c *committer) run(fn func(*bolt.Tx) error) (fromFn bool, err error) {
	w := &write{fn: fn, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	if c.leading {
		c.mu.Unlock()
		<-w.wake
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

// lead commits the queued writes (self among them) as one group, hands
// the lead to the first write that queued meanwhile, and wakes the
// group's other writers.
func (c *committer) lead(self *write) {
	c.mu.Lock()
	n := min(len(c.queue), maxGroup)
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	c.commit(group)

	c.mu.Lock()
	if len(c.queue) == 0 {
		c.queue = nil
		c.leading = false
	} else {
		next := c.queue[0]
		next.lead = true
		next.wake <- struct{}{}
	}
	c.mu.Unlock()
	for _, w := range group {
		if w != self {
			w.wake <- struct{}{}
		}
	}
}

// commit runs group in one transaction and sets each write's outcome.
// When a function fails (or panics), its write is taken out to be run alone and the
// transaction is tried again without it: bbolt has no savepoints, so the
// failed function's partial writes can only go with a rollback. When
// committing fails (the disk, MaxSize) every write of a group of more
// than one is run alone, so that each gets the outcome it would have had
// by itself.
func (c *committer) commit(group []*write) {
	for len(group) > 0 {
		failed, panicked := -1, false
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, w := range group {
				var err error
				if panicked, err = call(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		switch {
		case panicked:
			group[failed].solo = true
			group = append(group[:failed:failed], group[failed+1:]...)
		case len(group) == 1:
			group[0].err, group[0].fromFn = err, failed == 0
			return
		case failed >= 0:
			group[failed].solo = true
			group = append(group[:failed:failed], group[failed+1:]...)
		case err != nil:
			for _, w := range group {
				w.solo = true
			}
			return
		default:
			return
		}
	}
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
