package signal

import (
	"cmp"
	"context"
	"errors"
	"slices"
)

// A batch of many streams on a store that can commit them together (a
// ViewBatcher) is run per subscriber across its streams instead of per
// stream: one LoadCheckpoints, the events of every stream applied to one
// view transaction, one CommitViewBatch. A page of 200 aggregates thus
// costs a projection one store write and reads each shared document once,
// where per-stream runs paid a checkpoint read, the shared documents and
// a commit 200 times.
//
// The batched run is the common case's fast path, not a second
// implementation of the rules: a stream with anything unusual (a standing
// failure, a gap, an event that does not decode, an event over the run
// limits on its own) and every stream of a commit the store refuses
// (another worker moved a checkpoint or a document) go to the per-stream
// path after the batch, which reloads their checkpoints, so whatever the
// batch committed is skipped there as duplicates. A subscriber's own
// failure on an event is recorded as the per-stream path records it,
// after the events before it are committed.

// span is one stream's part of a batch: its events, sorted and without
// duplicates, up to the first commit that does not decode (bad).
type span struct {
	stream StreamID
	events []Event
	bad    *poison
}

// batchItem is a stream a subscriber runs in the batch.
type batchItem struct {
	span   int
	stream StreamID
	// from is the checkpoint loaded; base the start of the stream's move
	// in the commit being built (after a split, the version committed).
	from, base int64
	pending    []Event
	// done is the last version applied; err the subscriber's failure on
	// the event after it.
	done int64
	err  error
	// fallback hands the stream to the per-stream path after the batch.
	fallback bool
}

// batchScratch is what a worker reuses from batch to batch.
type batchScratch struct {
	items   []batchItem
	streams []StreamID
	moves   []CheckpointMove
	writes  []ViewWrite
}

// dispatchBatched runs every subscriber over the streams of a batch, in
// chunks of whole streams of up to maxChunkCommits commits, on the
// caller's goroutine, and returns each stream's earliest failure.
func (d *dispatcher) dispatchBatched(ctx context.Context, b ViewBatcher, g *grouping, streams [][]*Commit) []*DispatchFailure {
	pool := d.workers()
	sc := pool.scratch.Get().(*scratch)
	defer pool.scratch.Put(sc)
	failures := make([]*DispatchFailure, len(streams))
	perSub := make([][]*DispatchFailure, len(d.subs))
	for start := 0; start < len(streams); {
		end, n := start, 0
		for end < len(streams) && (end == start || n+len(streams[end]) <= maxChunkCommits) {
			n += len(streams[end])
			end++
		}
		spans := d.decodeSpans(g, streams[start:end])
		// One subscriber after the other, in registration order, as the
		// per-stream path runs them on each stream: a policy may rely on
		// a projection registered before it having applied the event.
		for j, sub := range d.subs {
			perSub[j] = d.deliverBatch(ctx, sc, b, sub, spans)
		}
		clear(g.events) // the buffer keeps no payload alive
		for _, fs := range perSub {
			for i, f := range fs {
				if f != nil && (failures[start+i] == nil || f.Version < failures[start+i].Version) {
					failures[start+i] = f
				}
			}
		}
		clear(perSub)
		start = end
	}
	return failures
}

// maxChunkCommits bounds the commits of one batched run: a longer batch
// is run in chunks of whole streams, so its decoded events fit a buffer
// reused from chunk to chunk (about 200 KB for one-event commits)
// instead of one as large as the batch, at one more store write per
// subscriber per chunk.
const maxChunkCommits = 1024

// decodeSpans sorts and decodes every stream's commits into g's buffer,
// grown once so that the spans' slices of it stay valid.
func (d *dispatcher) decodeSpans(g *grouping, streams [][]*Commit) []span {
	n := 0
	for _, cs := range streams {
		for _, c := range cs {
			n += len(c.Events)
		}
	}
	events := slices.Grow(g.events[:0], n)
	spans := slices.Grow(g.spans[:0], len(streams))
	for _, cs := range streams {
		slices.SortStableFunc(cs, func(a, b *Commit) int { return cmp.Compare(a.Version, b.Version) })
		cs = slices.CompactFunc(cs, func(a, b *Commit) bool { return a.Version == b.Version })
		start := len(events)
		sp := span{stream: cs[0].Stream}
		for _, c := range cs {
			var err error
			if events, err = d.appendDecoded(events, c); err != nil {
				sp.bad = &poison{version: c.Version, err: err}
				break
			}
		}
		sp.events = events[start:len(events):len(events)]
		spans = append(spans, sp)
	}
	g.events, g.spans = events, spans
	return spans
}

// deliverBatch runs one subscriber over the spans it subscribes to and
// returns, per span, where it stopped (nil when processed or parked), or
// nil when every span was processed.
func (d *dispatcher) deliverBatch(ctx context.Context, sc *scratch, b ViewBatcher, sub *subscription, spans []span) []*DispatchFailure {
	if sub.ephemeral() {
		for _, sp := range spans {
			if sub.subscribes(sp.stream.Type) {
				d.observeEphemeral(ctx, sub.Subscriber.(*Observer), sp.events)
			}
		}
		return nil
	}
	bs := &sc.batch
	items := d.batchItems(ctx, bs, b, sub, spans)
	if len(items) > 0 {
		switch s := sub.Subscriber.(type) {
		case *Projection:
			d.projectBatch(ctx, sc, b, s, items)
		case *Policy:
			d.advanceBatch(ctx, bs, b, s.Name, items, func(ev Event) error { return d.react(ctx, s, ev) })
		case *Observer:
			d.advanceBatch(ctx, bs, b, s.Name, items, func(ev Event) error { return s.observe(ctx, ev) })
		}
	}
	var out []*DispatchFailure
	for k := range items {
		f := d.settle(ctx, sc, sub, spans, &items[k])
		if f != nil {
			if out == nil {
				out = make([]*DispatchFailure, len(spans))
			}
			out[items[k].span] = f
		}
	}
	clear(items) // keeps no event alive
	bs.items = items[:0]
	return out
}

// settle finishes a stream after the batch: the per-stream path for a
// fallback, the subscriber's failure recorded otherwise.
func (d *dispatcher) settle(ctx context.Context, sc *scratch, sub *subscription, spans []span, it *batchItem) *DispatchFailure {
	sp := &spans[it.span]
	switch {
	case it.fallback || errors.Is(it.err, ErrConflict):
		return d.deliver(ctx, sc, sub, sp.stream, sp.events, sp.bad, false)
	case it.err != nil:
		return d.failed(ctx, sub.SubscriberName(), sp.stream, Checkpoint{Version: it.done}, it.done, it.err, false)
	}
	return nil
}

// batchItems loads the subscriber's checkpoints on its spans and returns
// the streams it has events to run on, those for the per-stream path
// marked. Parked streams and streams with nothing new are left out.
func (d *dispatcher) batchItems(ctx context.Context, bs *batchScratch, b ViewBatcher, sub *subscription, spans []span) []batchItem {
	items, streams := bs.items[:0], bs.streams[:0]
	for i := range spans {
		if sub.subscribes(spans[i].stream.Type) {
			items = append(items, batchItem{span: i, stream: spans[i].stream})
			streams = append(streams, spans[i].stream)
		}
	}
	if len(items) == 0 {
		return items // none of the subscriber's types: nothing to read
	}
	cps, err := b.LoadCheckpoints(ctx, sub.SubscriberName(), streams)
	clear(streams)
	bs.streams = streams[:0]
	n := 0
	for k, it := range items {
		sp := &spans[it.span]
		if err != nil {
			it.fallback = true // the per-stream path reports the failure
			items[n], n = it, n+1
			continue
		}
		cp := cps[k]
		it.from, it.base, it.done = cp.Version, cp.Version, cp.Version
		i, _ := slices.BinarySearchFunc(sp.events, cp.Version+1, func(e Event, v int64) int { return cmp.Compare(e.Version, v) })
		it.pending = sp.events[i:]
		switch {
		case cp.Failure != nil && cp.Failure.Parked:
			continue
		case cp.Failure != nil, sp.bad != nil && sp.bad.version > cp.Version:
			it.fallback = true
		case len(it.pending) == 0:
			continue // all duplicates
		case it.pending[0].Version != cp.Version+1:
			it.fallback = true // a gap, read by the per-stream path
		}
		items[n], n = it, n+1
	}
	clear(items[n:])
	bs.items = items[:n]
	return bs.items
}

// projectBatch applies the items' events to one view transaction and
// commits them in as few batches as the run limits allow. An item's
// failing event is taken back and its err set; the events before it are
// committed.
func (d *dispatcher) projectBatch(ctx context.Context, sc *scratch, b ViewBatcher, p *Projection, items []batchItem) {
	bs := &sc.batch
	tx := d.viewTx(sc, StreamID{})
	moves, first := bs.moves[:0], 0 // the moves of the batch being built and its first item
	defer func() {
		clear(moves) // keeps no stream id alive
		bs.moves = moves[:0]
	}()
	for k := range items {
		it := &items[k]
		if it.fallback {
			continue
		}
		stream := it.stream
		tx.tenant = d.tenantOf(stream)
		for i := 0; i < len(it.pending); i++ {
			ev := it.pending[i]
			tx.savepoint()
			err := p.apply(ctx, tx, ev)
			if err == nil && tx.overLimits() {
				tx.rollback()
				if len(moves) == 0 && it.done == it.base {
					it.fallback = true // over the limits alone: refused by the per-stream path
					break
				}
				if !d.commitBatch(ctx, bs, b, p.Name, tx, addMove(moves, stream, it)) {
					markFallback(items[first:])
					return
				}
				it.base, moves, first = it.done, moves[:0], k
				tx = d.viewTx(sc, StreamID{})
				tx.tenant = d.tenantOf(stream)
				i-- // apply the event again, into the next batch
				continue
			}
			if err != nil {
				tx.rollback()
				it.err = err
				break
			}
			it.done = ev.Version
		}
		moves = addMove(moves, stream, it)
	}
	if len(moves) > 0 && !d.commitBatch(ctx, bs, b, p.Name, tx, moves) {
		markFallback(items[first:])
	}
}

// addMove appends it's move to moves, if it applied anything since base.
func addMove(moves []CheckpointMove, stream StreamID, it *batchItem) []CheckpointMove {
	if it.done > it.base {
		moves = append(moves, CheckpointMove{Stream: stream, From: it.base, To: it.done})
	}
	return moves
}

// markFallback hands items to the per-stream path: their commit failed,
// so what they applied in it is not stored.
func markFallback(items []batchItem) {
	for k := range items {
		items[k].fallback, items[k].err = true, nil
	}
}

// commitBatch commits tx's writes with moves and reports whether it
// did. A failure is left to the per-stream path, which tells a lost race
// from a store failure.
func (d *dispatcher) commitBatch(ctx context.Context, bs *batchScratch, b ViewBatcher, name string, tx *ViewTx, moves []CheckpointMove) bool {
	writes := tx.appendWrites(bs.writes[:0])
	err := b.CommitViewBatch(ctx, ViewBatch{Subscriber: name, Moves: moves, Writes: writes})
	clear(writes) // keeps no document alive
	bs.writes = writes[:0]
	if err != nil {
		d.svc.log.DebugContext(ctx, "signal: a batch commit failed; its streams run one by one", "subscriber", name, "error", err)
	}
	return err == nil
}

// advanceBatch runs fn over each item's events, stopping an item at its
// first failure, and moves every checkpoint in one batch.
func (d *dispatcher) advanceBatch(ctx context.Context, bs *batchScratch, b ViewBatcher, name string, items []batchItem, fn func(Event) error) {
	moves := bs.moves[:0]
	for k := range items {
		it := &items[k]
		if it.fallback {
			continue
		}
		for _, ev := range it.pending {
			if it.err = fn(ev); it.err != nil {
				break
			}
			it.done = ev.Version
		}
		moves = addMove(moves, it.stream, it)
	}
	if len(moves) > 0 {
		if err := b.CommitViewBatch(ctx, ViewBatch{Subscriber: name, Moves: moves}); err != nil {
			d.svc.log.DebugContext(ctx, "signal: a batch commit failed; its streams run one by one", "subscriber", name, "error", err)
			markFallback(items)
		}
	}
	clear(moves)
	bs.moves = moves[:0]
}
