package signal

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// PoolConfig bounds the warm pool of aggregates a Service keeps in memory
// (one pool per process, so per Lambda container).
type PoolConfig struct {
	// Size is the most aggregates kept; the least recently used goes
	// first. 0 means 10,000; a negative value disables pooling (every
	// command loads the aggregate).
	Size int
	// IdleTTL evicts an aggregate not used for this long, so a container
	// that lives for hours does not serve from state nobody touches. 0
	// means 15 minutes.
	IdleTTL time.Duration
}

// entry is one pooled aggregate. Its memory is the pool's per aggregate:
// the entry (176 bytes), its state, its slot in the pool's map, and its
// window of recent command ids (recentCommands).
type entry struct {
	stream StreamID
	// loading is set while the first load runs; requests for the
	// aggregate meanwhile wait for it instead of loading again (single
	// flight). nil once the entry is loaded. Guarded by pool.mu.
	loading *pendingLoad

	// mu serialises commands on the aggregate inside the process and
	// guards the fields below.
	mu      sync.Mutex
	h       stateHolder
	version int64
	closed  bool
	// owner is the Actor of the first commit (Action.Owner).
	owner  string
	recent recentCommands
	// contendedUntil (unix nanos) is set after a conflict; until then
	// appends are jittered. 0 when the aggregate never conflicted here.
	contendedUntil int64
	// writeLatency (nanos) is a moving average of contended appends.
	writeLatency int64

	// Guarded by pool.mu: the links of the pool's lru, and the last use.
	newer, older *entry
	lastUsed     int64 // unix nanos
}

// pendingLoad is the first load of a pooled entry, while it runs.
type pendingLoad struct {
	// done is made by the first request that waits, and closed when the
	// load has ended; err is the load's outcome, set before.
	done chan struct{}
	err  error
}

type pool struct {
	disabled bool
	size     int
	ttl      int64
	now      func() time.Time

	mu  sync.Mutex
	m   map[StreamID]*entry
	lru lru

	hits, misses, evictions atomic.Int64
}

func newPool(c PoolConfig, now func() time.Time) *pool {
	p := &pool{size: c.Size, ttl: int64(c.IdleTTL), now: now, m: map[StreamID]*entry{}}
	if p.size == 0 {
		p.size = 10_000
	}
	if p.size < 0 {
		p.disabled = true
	}
	if p.ttl == 0 {
		p.ttl = int64(15 * time.Minute)
	}
	return p
}

// acquire is acquireAt with a reading of the pool's clock.
func (p *pool) acquire(ctx context.Context, stream StreamID, load func(*entry) error) (e *entry, fresh bool, err error) {
	return p.acquireAt(ctx, stream, p.now().UnixNano(), load)
}

// acquireAt returns the aggregate's entry, locked, used at now (unix
// nanos). fresh reports that this call loaded it from the store, so its
// state is as current as a read can make it. load runs at most once per
// entry, whoever asks concurrently; a load's error is the outcome of every
// request that waited for it, and leaves nothing pooled. A request that
// waits for another's load gives up when ctx ends (ErrUnavailable).
func (p *pool) acquireAt(ctx context.Context, stream StreamID, now int64, load func(*entry) error) (e *entry, fresh bool, err error) {
	p.mu.Lock()
	p.expire(now)
	if e = p.m[stream]; e != nil {
		p.lru.moveToFront(e)
		e.lastUsed = now
		pl := e.loading
		var done chan struct{}
		if pl != nil {
			if pl.done == nil {
				pl.done = make(chan struct{})
			}
			done = pl.done
		}
		p.mu.Unlock()
		p.hits.Add(1)
		if pl != nil {
			if err := p.wait(ctx, stream, pl, done); err != nil {
				return nil, false, err
			}
		}
		e.mu.Lock()
		return e, false, nil
	}
	e = &entry{stream: stream, lastUsed: now}
	if !p.disabled {
		e.loading = &pendingLoad{}
		p.lru.pushFront(e)
		p.m[stream] = e
		for p.lru.n > p.size {
			p.removeLocked(p.lru.back)
		}
	}
	p.mu.Unlock()
	p.misses.Add(1)
	e.mu.Lock()
	err = load(e)
	p.loaded(e, err)
	if err != nil {
		e.mu.Unlock()
		return nil, false, err
	}
	return e, true, nil
}

// wait waits for the load pl (done) of stream's entry to end: its error,
// or ErrUnavailable when ctx ends first.
func (p *pool) wait(ctx context.Context, stream StreamID, pl *pendingLoad, done chan struct{}) error {
	select {
	case <-done:
		return pl.err
	case <-ctx.Done():
		return unavailable("signal.Load", stream, ctx.Err())
	}
}

// loaded ends e's first load with err: the waiting requests get err, and
// a failed entry leaves the pool.
func (p *pool) loaded(e *entry, err error) {
	var done chan struct{}
	p.mu.Lock()
	if pl := e.loading; pl != nil {
		pl.err, done = err, pl.done
		e.loading = nil // no request finds pl from here on
	}
	if err != nil && p.m[e.stream] == e {
		p.removeLocked(e)
	}
	p.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// peek returns the pooled, loaded entry without loading or touching it, or nil.
func (p *pool) peek(stream StreamID) *entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.m[stream]; e != nil && e.loading == nil {
		return e
	}
	return nil
}

// remove drops e from the pool if it is still the pooled entry of its stream.
func (p *pool) remove(e *entry) {
	p.mu.Lock()
	if p.m[e.stream] == e {
		p.removeLocked(e)
	}
	p.mu.Unlock()
}

func (p *pool) removeLocked(e *entry) {
	delete(p.m, e.stream)
	p.lru.remove(e)
	p.evictions.Add(1)
}

// expire drops entries idle for longer than the TTL, oldest first.
func (p *pool) expire(now int64) {
	for e := p.lru.back; e != nil && now-e.lastUsed >= p.ttl; e = p.lru.back {
		p.removeLocked(e)
	}
}

// stats returns the pool's part of the Service's Stats.
func (p *pool) stats() Stats {
	p.mu.Lock()
	n := len(p.m)
	p.mu.Unlock()
	return Stats{Hits: p.hits.Load(), Misses: p.misses.Load(), Evictions: p.evictions.Load(), Size: n}
}
