package signal

import (
	"container/list"
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

// entry is one pooled aggregate.
type entry struct {
	stream StreamID
	// ready is closed once the first load finished; loadErr is its outcome.
	// Concurrent requests for a missing aggregate wait on it instead of
	// loading again (single flight).
	ready   chan struct{}
	loadErr error

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

	// Guarded by pool.mu.
	elem     *list.Element
	lastUsed int64 // unix nanos
}

type pool struct {
	disabled bool
	size     int
	ttl      int64
	now      func() time.Time

	mu  sync.Mutex
	m   map[StreamID]*entry
	lru list.List // front = most recently used

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

// acquire returns the aggregate's entry, locked. fresh reports that this
// call loaded it from the store, so its state is as current as a read can make it.
// load runs at most once per entry, whoever asks concurrently.
func (p *pool) acquire(ctx context.Context, stream StreamID, load func(*entry) error) (e *entry, fresh bool, err error) {
	now := p.now().UnixNano()
	p.mu.Lock()
	p.expire(now)
	e = p.m[stream]
	if e != nil {
		p.lru.MoveToFront(e.elem)
		e.lastUsed = now
		p.mu.Unlock()
		p.hits.Add(1)
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, false, unavailable("signal.Load", stream, ctx.Err())
		}
		if e.loadErr != nil {
			return nil, false, e.loadErr
		}
		e.mu.Lock()
		return e, false, nil
	}
	e = &entry{stream: stream, ready: make(chan struct{}), lastUsed: now}
	if !p.disabled {
		e.elem = p.lru.PushFront(e)
		p.m[stream] = e
		for p.lru.Len() > p.size {
			p.removeLocked(p.lru.Back().Value.(*entry))
		}
	}
	p.mu.Unlock()
	p.misses.Add(1)
	e.mu.Lock()
	e.loadErr = load(e)
	close(e.ready)
	if e.loadErr != nil {
		e.mu.Unlock()
		p.remove(e)
		return nil, false, e.loadErr
	}
	return e, true, nil
}

// peek returns the pooled entry without loading or touching it, or nil.
func (p *pool) peek(stream StreamID) *entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.m[stream]
	if e == nil {
		return nil
	}
	select {
	case <-e.ready:
		if e.loadErr != nil {
			return nil
		}
		return e
	default:
		return nil
	}
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
	p.lru.Remove(e.elem)
	p.evictions.Add(1)
}

// expire drops entries idle for longer than the TTL, oldest first.
func (p *pool) expire(now int64) {
	for back := p.lru.Back(); back != nil; back = p.lru.Back() {
		e := back.Value.(*entry)
		if now-e.lastUsed < p.ttl {
			return
		}
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

// recentCommands remembers the ids of an aggregate's latest commits, the
// window inside which a repeated command id is recognised without a read,
// with the fingerprints of their requests, so that the same id with
// another request is recognised too.
type recentCommands struct {
	buf  []recentCommand
	next int
}

type recentCommand struct {
	id string
	// fingerprint is the commit's Fingerprint: "" for generated ids and
	// for commits and snapshots from before fingerprints existed.
	fingerprint string
	first, last int64
}

func (r *recentCommands) add(window int, id, fingerprint string, first, last int64) {
	if window <= 0 || id == "" {
		return
	}
	if r.buf == nil {
		r.buf = make([]recentCommand, 0, window)
	}
	c := recentCommand{id, fingerprint, first, last}
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, c)
		return
	}
	r.buf[r.next] = c
	r.next = (r.next + 1) % len(r.buf)
}

func (r *recentCommands) find(id string) (recentCommand, bool) {
	for i := range r.buf {
		if r.buf[i].id == id {
			return r.buf[i], true
		}
	}
	return recentCommand{}, false
}

// ordered returns the remembered commands oldest first.
func (r *recentCommands) ordered() []recentCommand {
	out := make([]recentCommand, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}
