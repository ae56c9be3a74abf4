package signal

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
)

// dispatcher runs subscribers over committed events with a checkpoint per
// (subscriber, stream): events at or below the checkpoint are duplicates
// and skipped; an event past checkpoint+1 reveals a gap, healed by reading
// the missing commits from the store. Each (subscriber, stream) moves on
// its own, and one that keeps failing is parked (park.go) so the others
// keep up. The in-process path (after a command) and the stream path
// (Service.Dispatch) share it.
type dispatcher struct {
	svc         *Service
	concurrency int
	subs        []*subscription
	checkpoints CheckpointStore
	views       ViewStore
	parkAfter   int
	onPark      func(context.Context, Failure)
	// pool runs a batch's streams; started at the first batch, so a
	// dispatcher built as a literal (a rebuild's) gets one too.
	poolOnce sync.Once
	pool     *workers
	groups   sync.Pool // *grouping, reused from batch to batch
}

// workers returns the dispatcher's pool of concurrency workers.
func (d *dispatcher) workers() *workers {
	d.poolOnce.Do(func() {
		d.pool = newWorkers(d.concurrency)
		d.groups.New = func() any { return new(grouping) }
	})
	return d.pool
}

// maxCheckpointRaces bounds how often a run restarts because another
// worker moved the same checkpoint.
const maxCheckpointRaces = 8

// maxRaceWait caps the wait before a run that lost a race starts over.
const maxRaceWait = 5 * time.Second

func newDispatcher(s *Service, cfg *Config) (*dispatcher, error) {
	d := &dispatcher{svc: s, concurrency: cfg.DispatchConcurrency, parkAfter: cfg.ParkAfter, onPark: cfg.OnPark}
	if d.concurrency <= 0 {
		d.concurrency = 16
	}
	if d.parkAfter == 0 {
		d.parkAfter = DefaultParkAfter
	}
	d.checkpoints, _ = s.store.(CheckpointStore)
	d.views, _ = s.store.(ViewStore)
	names := map[string]bool{}
	for _, sub := range cfg.Subscribers {
		if sub == nil || reflect.ValueOf(sub).IsNil() {
			return nil, errors.New("signal.New: a nil subscriber")
		}
		name := sub.SubscriberName()
		if err := ValidateName(name); err != nil {
			return nil, fmt.Errorf("signal.New: subscriber: %w", err)
		}
		if names[name] {
			return nil, fmt.Errorf("signal.New: subscriber %q registered twice", name)
		}
		names[name] = true
		if err := d.check(sub); err != nil {
			return nil, err
		}
		resolved, err := s.subscribe(sub)
		if err != nil {
			return nil, err
		}
		d.subs = append(d.subs, resolved)
	}
	return d, nil
}

// check tells whether the store has what the subscriber needs.
func (d *dispatcher) check(sub Subscriber) error {
	name := sub.SubscriberName()
	switch sub := sub.(type) {
	case *Projection:
		if d.views == nil {
			return fmt.Errorf("signal.New: projection %q needs a store with views (ViewStore)", name)
		}
	case *Observer:
		if sub.Ephemeral {
			return nil
		}
	}
	if d.checkpoints == nil {
		return fmt.Errorf("signal.New: subscriber %q needs a store with checkpoints (CheckpointStore)", name)
	}
	return nil
}

// DispatchFailure names where a stream's processing stopped. Everything
// before Version was processed by every subscriber; Version itself or some
// events after it may have been too (when the failure was reading a
// checkpoint, it is the batch's first event of the stream), so
// redelivering from Version is always safe and at worst repeats work the
// checkpoints then skip.
type DispatchFailure struct {
	Stream StreamID
	// Version is the first version not processed.
	Version    int64
	Subscriber string
	Err        error
}

// DispatchError lists the streams whose events were not all processed.
type DispatchError struct{ Failures []DispatchFailure }

func (e *DispatchError) Error() string {
	f := e.Failures[0]
	return fmt.Sprintf("dispatch: %d stream(s) failed; first %s at version %d in %s: %v", len(e.Failures), f.Stream, f.Version, f.Subscriber, f.Err)
}

// Dispatch runs every subscriber over commits, as delivered by a stream or
// a change feed: in any order, with duplicates and gaps. Each stream, and
// each subscriber on it, moves on independently, so one failure does not
// hold back the others; a subscriber that fails on the same event
// Config.ParkAfter times is parked (Service.Failures lists it,
// Service.Replay resumes it) and no longer counts as a failure.
//
// The error is nil or a *DispatchError naming, per failed stream, the
// first version not processed; redeliver from there.
func (s *Service) Dispatch(ctx context.Context, commits []Commit) error {
	return s.dispatcher.dispatch(ctx, commits)
}

func (d *dispatcher) dispatch(ctx context.Context, commits []Commit) error {
	ptrs := make([]*Commit, len(commits))
	for i := range commits {
		ptrs[i] = &commits[i]
	}
	return d.dispatchCommits(ctx, ptrs)
}

// dispatchCommits is dispatch over commits it may reorder.
func (d *dispatcher) dispatchCommits(ctx context.Context, commits []*Commit) error {
	pool := d.workers() // also readies d.groups
	g := d.groups.Get().(*grouping)
	streams := g.byStream(commits)
	var failures []*DispatchFailure
	if b, ok := d.checkpoints.(ViewBatcher); ok && len(streams) > 1 {
		// A store that commits many streams at once: a subscriber's
		// streams cost it one write (batchrun.go).
		failures = d.dispatchBatched(ctx, b, g, streams)
	} else {
		// Streams are independent, so they run concurrently on the pool
		// (bounded by DispatchConcurrency): a batch of many aggregates
		// costs about the latency of its longest stream, not the sum.
		failures = make([]*DispatchFailure, len(streams))
		pool.run(len(streams), func(sc *scratch, i int) {
			failures[i] = d.dispatchStream(ctx, sc, streams[i])
		})
	}
	// Not deferred: if a subscriber panics on this goroutine, the helpers
	// may still be reading streams, so g is left to the collector.
	g.clear()
	d.groups.Put(g)
	var failed []DispatchFailure
	for _, f := range failures {
		if f != nil {
			failed = append(failed, *f)
		}
	}
	if failed != nil {
		return &DispatchError{Failures: failed}
	}
	return nil
}

// poison is a commit that does not decode: every subscriber of its type
// fails at its version (and eventually parks there) instead of skipping it.
type poison struct {
	version int64
	err     error
}

// dispatchStream delivers one stream's commits, sorted and deduplicated,
// up to the first one that does not decode. It decodes into sc's buffer.
func (d *dispatcher) dispatchStream(ctx context.Context, sc *scratch, cs []*Commit) *DispatchFailure {
	stream := cs[0].Stream
	slices.SortStableFunc(cs, func(a, b *Commit) int { return cmp.Compare(a.Version, b.Version) })
	cs = slices.CompactFunc(cs, func(a, b *Commit) bool { return a.Version == b.Version })
	n := 0
	for _, c := range cs {
		n += len(c.Events)
	}
	events := slices.Grow(sc.events[:0], n) // one allocation, if any, not a doubling per commit
	var bad *poison
	for _, c := range cs {
		var err error
		if events, err = d.appendDecoded(events, c); err != nil {
			bad = &poison{version: c.Version, err: err}
			break
		}
	}
	f := d.deliverAll(ctx, sc, stream, events, bad)
	clear(events) // the buffer keeps no payload alive
	sc.events = events[:0]
	if cap(events) > maxScratchEvents {
		sc.events = nil // a long stream's buffer is not kept for the short ones
	}
	return f
}

// appendDecoded appends c's events, decoded, to dst: decodeCommit without
// a slice of its own per commit. On error it returns dst as it was.
func (d *dispatcher) appendDecoded(dst []Event, c *Commit) ([]Event, error) {
	t, ok := d.svc.types[c.Stream.Type]
	if !ok {
		return dst, withStream(unknownType(c.Stream.Type), c.Stream)
	}
	n := len(dst)
	for i := range c.Events {
		v, err := t.reg.decodeEvent(&c.Events[i])
		if err != nil {
			return dst[:n], withStream(err, c.Stream)
		}
		dst = append(dst, Event{})
		d.svc.record(&dst[len(dst)-1], c, i, v)
	}
	return dst, nil
}

// dispatchInline runs the subscribers over a commit this process just made.
func (d *dispatcher) dispatchInline(ctx context.Context, stream StreamID, events []Event) {
	if f := d.deliverAll(ctx, nil, stream, events, nil); f != nil {
		d.svc.log.WarnContext(ctx, "signal: subscriber failed; the next delivery retries it",
			"stream", f.Stream.String(), "version", f.Version, "subscriber", f.Subscriber, "error", f.Err)
	}
}

// deliverAll gives one stream's sorted events to every subscriber and
// returns the earliest failure. sc, if not nil, is the worker's scratch.
func (d *dispatcher) deliverAll(ctx context.Context, sc *scratch, stream StreamID, events []Event, bad *poison) *DispatchFailure {
	if len(events) == 0 && bad == nil {
		return nil
	}
	var first *DispatchFailure
	for _, sub := range d.subs {
		if !sub.subscribes(stream.Type) {
			continue
		}
		if f := d.deliver(ctx, sc, sub, stream, events, bad, false); f != nil && (first == nil || f.Version < first.Version) {
			first = f
		}
	}
	return first
}

// deliver runs one subscriber over one stream's sorted events (and into
// the poison after them, if any). It returns nil when the subscriber has
// processed them, or is parked, and otherwise where it stopped. replay
// runs a parked subscriber anyway. sc, if not nil, is the worker's scratch.
func (d *dispatcher) deliver(ctx context.Context, sc *scratch, sub *subscription, stream StreamID, events []Event, bad *poison, replay bool) *DispatchFailure {
	if sub.ephemeral() {
		d.observeEphemeral(ctx, sub.Subscriber.(*Observer), events)
		return nil
	}
	name := sub.SubscriberName()
	for race := 0; ; race++ {
		cp, err := d.checkpoints.LoadCheckpoint(ctx, name, stream)
		if err != nil {
			return &DispatchFailure{Stream: stream, Version: firstVersion(events, bad), Subscriber: name, Err: storeError("signal.Replay", stream, err)}
		}
		if cp.Failure != nil && cp.Failure.Parked && !replay {
			return nil // parked: Service.Replay resumes it
		}
		pending, err := d.pending(ctx, stream, cp.Version, events, bad)
		if err != nil {
			return d.failed(ctx, name, stream, cp, cp.Version, err, replay)
		}
		done, started := cp.Version, time.Now()
		if len(pending) > 0 {
			done, err = d.run(ctx, sc, sub, stream, cp.Version, pending)
		}
		if errors.Is(err, ErrConflict) && race < maxCheckpointRaces {
			// Another worker moved the checkpoint or a shared document;
			// wait (jittered) and start over from the stored state. The
			// wait grows with the retries and with how long the run took:
			// runs of many documents that keep invalidating each other
			// fall out of step, so one gets through while the others wait.
			wait := min(max(d.svc.backoff<<min(race, 6), 2*time.Since(started)), maxRaceWait)
			if d.svc.jitter(ctx, wait) != nil {
				return &DispatchFailure{Stream: stream, Version: done + 1, Subscriber: name, Err: unavailable("signal.Dispatch", stream, ctx.Err())}
			}
			continue
		}
		if err == nil && bad != nil && done == bad.version-1 {
			err = bad.err
		}
		if err != nil {
			return d.failed(ctx, name, stream, cp, done, err, replay)
		}
		return nil
	}
}

func firstVersion(events []Event, bad *poison) int64 {
	if len(events) > 0 {
		return events[0].Version
	}
	return bad.version
}

// observeEphemeral runs an observer that keeps no checkpoint. It has no
// way to resume, so a failure is logged and not retried: it must never
// hold back the subscribers that keep state.
func (d *dispatcher) observeEphemeral(ctx context.Context, o *Observer, events []Event) {
	for _, ev := range events {
		if err := o.observe(ctx, ev); err != nil {
			d.svc.log.WarnContext(ctx, "signal: ephemeral observer failed; not retried", "subscriber", o.Name,
				"stream", ev.Stream().String(), "version", ev.Version, "error", err)
		}
	}
}

// pending returns the events after the checkpoint cp, with the gap before
// them (or before the poison) read from the store.
func (d *dispatcher) pending(ctx context.Context, stream StreamID, cp int64, events []Event, bad *poison) ([]Event, error) {
	i, _ := slices.BinarySearchFunc(events, cp+1, func(e Event, v int64) int { return cmp.Compare(e.Version, v) })
	pending := events[i:]
	next := int64(0) // the first version delivered: an event's, or the poison's
	switch {
	case len(pending) > 0:
		next = pending[0].Version
	case bad != nil && bad.version > cp:
		next = bad.version
	default:
		return nil, nil // all duplicates
	}
	if next <= cp+1 {
		return pending, nil
	}
	gap, err := d.read(ctx, stream, cp, next-1)
	if err != nil {
		return nil, err
	}
	return append(gap, pending...), nil
}

// read returns the stream's events with versions in (after, upto], all of
// them, decoded.
func (d *dispatcher) read(ctx context.Context, stream StreamID, after, upto int64) ([]Event, error) {
	out, bad, err := d.load(ctx, stream, after, upto)
	switch {
	case err != nil:
		return nil, err
	case bad != nil:
		return nil, bad.err
	case len(out) == 0 || out[len(out)-1].Version != upto || out[0].Version != after+1:
		return nil, &Error{Kind: KindInternal, Op: "signal.Dispatch", Stream: stream,
			Message: fmt.Sprintf("the store does not hold versions %d to %d", after+1, upto)}
	}
	return out, nil
}

// load returns the stream's events with versions in (after, upto] (upto
// < 0: to the end) as far as the store holds them, up to the first commit
// that does not decode, which it returns as the poison.
func (d *dispatcher) load(ctx context.Context, stream StreamID, after, upto int64) ([]Event, *poison, error) {
	var out []Event
	for c, err := range d.svc.store.Load(ctx, stream, max(0, after+1-MaxEventsPerCommit)) {
		if err != nil {
			return nil, nil, storeError("signal.Load", stream, err)
		}
		if upto >= 0 && c.Version > upto {
			break
		}
		if c.LastVersion() <= after {
			continue
		}
		evs, err := d.svc.decodeCommit(&c)
		if err != nil {
			return out, &poison{version: c.Version, err: err}, nil
		}
		for _, ev := range evs {
			if ev.Version > after && (upto < 0 || ev.Version <= upto) {
				out = append(out, ev)
			}
		}
	}
	return out, nil, nil
}

// run applies events (contiguous, starting at cp+1) and moves the
// checkpoint. It returns the last version whose effects are committed.
func (d *dispatcher) run(ctx context.Context, sc *scratch, sub *subscription, stream StreamID, cp int64, events []Event) (int64, error) {
	name := sub.SubscriberName()
	switch sub := sub.Subscriber.(type) {
	case *Projection:
		return d.project(ctx, sc, sub, stream, cp, events)
	case *Policy:
		return d.advance(ctx, name, stream, cp, events, func(ev Event) error { return d.react(ctx, sub, ev) })
	case *Observer:
		return d.advance(ctx, name, stream, cp, events, func(ev Event) error { return sub.observe(ctx, ev) })
	}
	return cp, fmt.Errorf("unknown subscriber %T", sub)
}

// project applies events to views and commits them with the checkpoint,
// in as few runs as the limits allow: a run that would change more than
// MaxViewWrites documents (or MaxViewRunBytes) is committed up to the
// event before, and the next run starts there. An event that alone
// exceeds the limits is refused (ErrTooLarge). On a failing event the
// events before it are committed and the error returned. It returns the
// last version committed.
func (d *dispatcher) project(ctx context.Context, sc *scratch, p *Projection, stream StreamID, cp int64, events []Event) (int64, error) {
	done := cp
	tx := d.viewTx(sc, stream)
	start := 0 // the first event in tx
	for i := 0; i < len(events); i++ {
		ev := events[i]
		tx.savepoint()
		err := p.apply(ctx, tx, ev)
		if err == nil && tx.overLimits() {
			if i == start {
				err = &Error{Kind: KindTooLarge, Op: "signal.Dispatch", Stream: stream,
					Message: fmt.Sprintf("projection %s: event %d of %s changes %d documents (%d bytes); one run may change at most %d documents and %d bytes",
						p.Name, ev.Version, stream, tx.writes, tx.bytes, MaxViewWrites, MaxViewRunBytes)}
			} else {
				tx.rollback()
				if err := d.commitViews(ctx, p, stream, done, events[i-1].Version, tx); err != nil {
					return done, err
				}
				done, tx, start = events[i-1].Version, d.viewTx(sc, stream), i
				i-- // apply the event again, into the next run
				continue
			}
		}
		if err != nil {
			tx.rollback()
			if i > start {
				if cerr := d.commitViews(ctx, p, stream, done, events[i-1].Version, tx); cerr != nil {
					return done, cerr
				}
				done = events[i-1].Version
			}
			return done, err
		}
	}
	last := events[len(events)-1].Version
	if err := d.commitViews(ctx, p, stream, done, last, tx); err != nil {
		return done, err
	}
	return last, nil
}

// viewTx returns an empty transaction for a run on stream: sc's, reset,
// when there is a scratch (a run's transaction is done with when the run
// is committed or abandoned), else a new one.
func (d *dispatcher) viewTx(sc *scratch, stream StreamID) *ViewTx {
	tenant := d.tenantOf(stream)
	switch {
	case sc == nil:
		return newViewTx(d.views, tenant)
	case sc.tx == nil || len(sc.tx.slab) > maxScratchDocs:
		// A run of many documents grew a map that would cost its size
		// to clear at every later run.
		sc.tx = newViewTx(d.views, tenant)
	default:
		sc.tx.reset(d.views, tenant)
	}
	return sc.tx
}

func (d *dispatcher) commitViews(ctx context.Context, p *Projection, stream StreamID, from, to int64, tx *ViewTx) error {
	if err := d.views.CommitViews(ctx, tx.commit(p.Name, stream, from, to)); err != nil {
		return storeError("signal.Dispatch", stream, err)
	}
	return nil
}

// advance runs fn over events and saves the checkpoint after the last one
// that succeeded, so a failure does not redo the work before it.
func (d *dispatcher) advance(ctx context.Context, name string, stream StreamID, cp int64, events []Event, fn func(Event) error) (int64, error) {
	done := cp
	var failure error
	for _, ev := range events {
		if failure = fn(ev); failure != nil {
			break
		}
		done = ev.Version
	}
	if done > cp {
		if err := d.checkpoints.SaveCheckpoint(ctx, name, stream, cp, done); err != nil {
			return cp, storeError("signal.Dispatch", stream, err)
		}
	}
	return done, failure
}

// tenantOf is the tenant of a stored stream under Tenancy, "" otherwise:
// the namespace of the views its projections write.
func (d *dispatcher) tenantOf(stream StreamID) string {
	tenant, _ := d.svc.unscope(stream.ID)
	return tenant
}

// react sends a policy's commands with deterministic command ids, as the
// policy's principal (PolicyPrincipal): the App's rule sees, and each
// commit records, the policy as the actor.
func (d *dispatcher) react(ctx context.Context, p *Policy, ev Event) error {
	pp := PolicyPrincipal(p.Name)
	pp.Tenant = ev.Tenant // its commands stay in the event's tenant
	ctx = WithPrincipal(ctx, pp)
	sends, err := p.React(ctx, ev)
	if err != nil {
		return err
	}
	correlation, causation := ev.CorrelationID, ev.ID
	if correlation == "" {
		correlation = ev.CommandID
	}
	// Ids recorded before every store checked them may break today's
	// rules; the command must not fail for its metadata.
	if recordedIDProblem(correlation, false) != "" {
		correlation = ""
	}
	if recordedIDProblem(causation, false) != "" {
		causation = ""
	}
	for i, snd := range sends {
		id := policyCommandID(p.Name, ev.ID, i)
		_, err := d.svc.Handle(ctx, snd.Type, snd.ID, snd.Command, WithCommandID(id), WithCorrelation(correlation, causation))
		switch KindOf(err) {
		// KindIdempotencyKeyReused: the id was applied before, to a
		// command of another shape (a deployment changed the command
		// type since); its effect took place once.
		case KindRejected, KindClosed, KindExists, KindNotFound, KindPrecondition, KindIdempotencyKeyReused:
			if err != nil {
				d.svc.log.WarnContext(ctx, "signal: policy command refused", "policy", p.Name,
					"event_id", ev.ID, "target", snd.Type+"#"+snd.ID, "error", err)
				continue
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// policyCommandID derives the id of the i-th command a policy sends for an
// event: the same on every redelivery, different for every other pair.
func policyCommandID(policy, eventID string, i int) string {
	sum := sha256.Sum256([]byte(policy + "\x00" + eventID + "\x00" + strconv.Itoa(i)))
	return "policy-" + hex.EncodeToString(sum[:16])
}

// DispatchChanges reads feed from position after to its current end, in
// pages of up to limit commits (limit <= 0 means 200), and runs the
// subscribers over each page: what a local projector (`signal dev`) or a
// view rebuild does. It returns the position of the last page dispatched
// and how many commits it dispatched. On error (the feed's, or a
// *DispatchError) it stops there: last is the position before the failed
// page, from which it is safe to call again, since checkpoints make
// repeated delivery harmless.
func (s *Service) DispatchChanges(ctx context.Context, feed ChangeFeed, after uint64, limit int) (last uint64, n int, err error) {
	if limit <= 0 {
		limit = 200
	}
	last = after
	for {
		changes, err := feed.Changes(ctx, last, limit)
		if err != nil || len(changes) == 0 {
			return last, n, err
		}
		commits := make([]*Commit, len(changes))
		for i := range changes {
			commits[i] = &changes[i].Commit
		}
		if err := s.dispatcher.dispatchCommits(ctx, commits); err != nil {
			return last, n, err
		}
		last = changes[len(changes)-1].Position
		n += len(commits)
	}
}
