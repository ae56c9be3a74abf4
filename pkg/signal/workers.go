package signal

import (
	"sync"
	"sync/atomic"
	"time"
)

// workers is the dispatcher's fixed set of goroutines that run a batch's
// streams: the caller of Dispatch works on its own batch and borrows up to
// size-1 workers besides. A worker is started only when a batch has
// streams to spare and none is idle, keeps its (grown) stack and its
// scratch from batch to batch, and ends after workerIdle without work, so
// a Service no longer used leaves no goroutine behind. A page of 200
// streams thus costs no goroutine start and no stack growth, where a
// goroutine per stream paid both 200 times.
//
// Helpers join a batch one at a time: whoever takes a stream while
// streams remain and every helper so far has started asks for one more.
// When the streams are quick (an in-memory store) the caller is through
// before the first helper runs, and a batch wakes one worker, not size-1;
// when they wait on a store, the helpers join as fast as they start.
type workers struct {
	size int
	// idle is unbuffered: a send succeeds only into the hands of a worker
	// waiting for work.
	idle    chan *batch
	mu      sync.Mutex
	running int
	// scratch holds the callers' scratch between batches; each worker
	// keeps its own.
	scratch sync.Pool
}

// workerIdle is how long a worker waits for the next batch before it
// ends: long enough to stay across the pages of a busy feed or the
// batches of a busy shard, short enough not to linger.
const workerIdle = 2 * time.Second

func newWorkers(size int) *workers {
	w := &workers{size: max(size, 1), idle: make(chan *batch)}
	w.scratch.New = func() any { return new(scratch) }
	return w
}

// scratch is what a worker reuses from one stream to the next: the
// decoded events' buffer and a view transaction. Nothing the dispatcher
// hands to a subscriber or a store points into it after the stream is
// done.
type scratch struct {
	events []Event
	tx     *ViewTx
	batch  batchScratch
}

// Beyond these a scratch's buffers are dropped after use instead of kept:
// about 1 MB of events, and a transaction's documents.
const (
	maxScratchEvents = 4096
	maxScratchDocs   = 256
)

// batch is one Dispatch call's streams, taken one at a time, in order, by
// whoever works on it.
type batch struct {
	pool *workers
	next atomic.Int64
	n    int
	work func(sc *scratch, i int)
	// helpers counts the workers on the batch besides its caller:
	// asked for, started, and at most max; full is set when the pool had
	// none to give.
	helpers        sync.WaitGroup
	asked, started atomic.Int32
	max            int32
	full           atomic.Bool
}

// drain runs the batch's streams not yet taken until none is left.
func (b *batch) drain(sc *scratch) {
	for {
		i := int(b.next.Add(1) - 1)
		if i >= b.n {
			return
		}
		if i+1 < b.n {
			b.recruit()
		}
		b.work(sc, i)
	}
}

// recruit asks the pool for one more helper, unless the batch has its
// maximum, the pool has none, or a helper asked for has not started yet.
func (b *batch) recruit() {
	asked := b.asked.Load()
	if asked >= b.max || b.started.Load() != asked || b.full.Load() || !b.asked.CompareAndSwap(asked, asked+1) {
		return
	}
	b.helpers.Add(1)
	if !b.pool.hand(b) {
		b.helpers.Done()
		b.full.Store(true)
	}
}

// run calls work for each i in [0, n), each once, on the caller's
// goroutine and up to size-1 workers, and returns when every call has
// returned.
func (w *workers) run(n int, work func(sc *scratch, i int)) {
	b := &batch{pool: w, n: n, work: work, max: int32(min(w.size, n) - 1)}
	sc := w.scratch.Get().(*scratch)
	b.drain(sc)
	w.scratch.Put(sc)
	b.helpers.Wait()
}

// hand gives b to an idle worker or, while fewer than size-1 run, to a
// new one. It reports false when every worker is busy.
func (w *workers) hand(b *batch) bool {
	select {
	case w.idle <- b:
		return true
	default:
	}
	w.mu.Lock()
	if w.running >= w.size-1 {
		w.mu.Unlock()
		return false
	}
	w.running++
	w.mu.Unlock()
	go w.loop(b)
	return true
}

// loop is a worker: it drains batches until none comes for workerIdle.
func (w *workers) loop(b *batch) {
	sc := new(scratch)
	idle := time.NewTimer(workerIdle)
	for {
		b.started.Add(1)
		b.drain(sc)
		b.helpers.Done()
		idle.Reset(workerIdle)
		select {
		case b = <-w.idle:
		case <-idle.C:
			w.mu.Lock()
			w.running--
			w.mu.Unlock()
			return
		}
	}
}
