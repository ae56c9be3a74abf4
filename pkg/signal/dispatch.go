package signal

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// dispatcher runs subscribers over committed events with a checkpoint per
// (subscriber, stream): events at or below the checkpoint are duplicates
// and skipped; an event past checkpoint+1 reveals a gap, healed by reading
// the missing commits from the store. The in-process path (after a
// command) and the stream path (Service.Dispatch) share it.
type dispatcher struct {
	svc         *Service
	concurrency int
	subs        []Subscriber
	checkpoints CheckpointStore
	views       ViewStore
}

// maxCheckpointRaces bounds how often a run restarts because another
// worker moved the same checkpoint.
const maxCheckpointRaces = 8

func newDispatcher(s *Service, subs []Subscriber, concurrency int) (*dispatcher, error) {
	d := &dispatcher{svc: s, concurrency: concurrency}
	if d.concurrency <= 0 {
		d.concurrency = 16
	}
	d.checkpoints, _ = s.store.(CheckpointStore)
	d.views, _ = s.store.(ViewStore)
	names := map[string]bool{}
	for _, sub := range subs {
		name := sub.SubscriberName()
		if err := ValidateName(name); err != nil {
			return nil, fmt.Errorf("signal.New: subscriber: %w", err)
		}
		if names[name] {
			return nil, fmt.Errorf("signal.New: subscriber %q registered twice", name)
		}
		names[name] = true
		switch sub := sub.(type) {
		case *Projection:
			if sub.Apply == nil {
				return nil, fmt.Errorf("signal.New: projection %q has no Apply", name)
			}
			if d.views == nil {
				return nil, fmt.Errorf("signal.New: projection %q needs a store with views (ViewStore)", name)
			}
		case *Policy:
			if sub.React == nil {
				return nil, fmt.Errorf("signal.New: policy %q has no React", name)
			}
		case *Handler:
			if sub.Handle == nil {
				return nil, fmt.Errorf("signal.New: handler %q has no Handle", name)
			}
			if sub.Ephemeral {
				break
			}
		default:
			return nil, fmt.Errorf("signal.New: subscriber %q is a %T; use *Projection, *Policy or *Handler", name, sub)
		}
		if h, ok := sub.(*Handler); !(ok && h.Ephemeral) && d.checkpoints == nil {
			return nil, fmt.Errorf("signal.New: subscriber %q needs a store with checkpoints (CheckpointStore)", name)
		}
		d.subs = append(d.subs, sub)
	}
	return d, nil
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
// a change feed: in any order, with duplicates and gaps. Each stream is
// processed independently, so one stream's failure does not hold back the
// others. The error is nil or a *DispatchError naming, per failed stream,
// the first version not processed; redeliver from there.
func (s *Service) Dispatch(ctx context.Context, commits []Commit) error {
	return s.dispatcher.dispatch(ctx, commits)
}

func (d *dispatcher) dispatch(ctx context.Context, commits []Commit) error {
	byStream := map[StreamID][]*Commit{}
	var streams []StreamID
	for i := range commits {
		c := &commits[i]
		if byStream[c.Stream] == nil {
			streams = append(streams, c.Stream)
		}
		byStream[c.Stream] = append(byStream[c.Stream], c)
	}
	// Streams are independent, so they run concurrently (bounded): a
	// batch of many aggregates costs about the latency of its longest
	// stream, not the sum.
	failures := make([]*DispatchFailure, len(streams))
	sem := make(chan struct{}, d.concurrency)
	var wg sync.WaitGroup
	for i, stream := range streams {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			failures[i] = d.dispatchStream(ctx, stream, byStream[stream])
		})
	}
	wg.Wait()
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

// dispatchStream delivers one stream's commits, sorted and deduplicated.
func (d *dispatcher) dispatchStream(ctx context.Context, stream StreamID, cs []*Commit) *DispatchFailure {
	slices.SortStableFunc(cs, func(a, b *Commit) int { return cmp.Compare(a.Version, b.Version) })
	cs = slices.CompactFunc(cs, func(a, b *Commit) bool { return a.Version == b.Version })
	var events []Event
	var failure *DispatchFailure
	for _, c := range cs {
		evs, err := d.svc.decodeCommit(c)
		if err != nil {
			failure = &DispatchFailure{Stream: stream, Version: c.Version, Subscriber: "decode", Err: err}
			break
		}
		events = append(events, evs...)
	}
	if f := d.deliverAll(ctx, stream, events); f != nil && (failure == nil || f.Version < failure.Version) {
		failure = f
	}
	return failure
}

// dispatchInline runs the subscribers over a commit this process just made.
func (d *dispatcher) dispatchInline(ctx context.Context, stream StreamID, events []Event) {
	if f := d.deliverAll(ctx, stream, events); f != nil {
		d.svc.log.WarnContext(ctx, "signal: subscriber failed; the next delivery retries it",
			"stream", f.Stream.String(), "version", f.Version, "subscriber", f.Subscriber, "error", f.Err)
	}
}

// deliverAll gives one stream's sorted events to every subscriber and
// returns the earliest failure.
func (d *dispatcher) deliverAll(ctx context.Context, stream StreamID, events []Event) *DispatchFailure {
	if len(events) == 0 {
		return nil
	}
	var first *DispatchFailure
	for _, sub := range d.subs {
		if !sub.Subscribes(stream.Type) {
			continue
		}
		v, err := d.deliver(ctx, sub, stream, events)
		if err != nil && (first == nil || v < first.Version) {
			first = &DispatchFailure{Stream: stream, Version: v, Subscriber: sub.SubscriberName(), Err: err}
		}
	}
	return first
}

// deliver runs one subscriber over one stream's sorted events. On failure
// it returns the first version the subscriber has not processed.
func (d *dispatcher) deliver(ctx context.Context, sub Subscriber, stream StreamID, events []Event) (int64, error) {
	if h, ok := sub.(*Handler); ok && h.Ephemeral {
		for _, ev := range events {
			if err := h.Handle(ctx, ev); err != nil {
				return ev.Version, err
			}
		}
		return 0, nil
	}
	name := sub.SubscriberName()
	for race := 0; ; race++ {
		cp, err := d.checkpoints.LoadCheckpoint(ctx, name, stream)
		if err != nil {
			return events[0].Version, storeError("load checkpoint", stream, err)
		}
		i, _ := slices.BinarySearchFunc(events, cp+1, func(e Event, v int64) int { return cmp.Compare(e.Version, v) })
		pending := events[i:]
		if len(pending) == 0 {
			return 0, nil // all duplicates
		}
		if pending[0].Version > cp+1 {
			gap, err := d.read(ctx, stream, cp, pending[0].Version-1)
			if err != nil {
				return cp + 1, err
			}
			pending = append(gap, pending...)
		}
		done, err := d.run(ctx, sub, stream, cp, pending)
		if errors.Is(err, ErrConflict) && race < maxCheckpointRaces {
			// Another worker moved the checkpoint or a shared document;
			// wait a little (jittered) and start over from the stored state.
			if d.svc.sleep(ctx, race+2) != nil {
				return events[0].Version, unavailable("dispatch", stream, ctx.Err())
			}
			continue
		}
		if err != nil {
			return done + 1, err
		}
		return 0, nil
	}
}

// read returns the stream's events with versions in (after, upto].
func (d *dispatcher) read(ctx context.Context, stream StreamID, after, upto int64) ([]Event, error) {
	var out []Event
	for c, err := range d.svc.store.Load(ctx, stream, max(0, after+1-MaxEventsPerCommit)) {
		if err != nil {
			return nil, storeError("load", stream, err)
		}
		if c.Version > upto {
			break
		}
		if c.LastVersion() <= after {
			continue
		}
		evs, err := d.svc.decodeCommit(&c)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.Version > after && ev.Version <= upto {
				out = append(out, ev)
			}
		}
	}
	if len(out) == 0 || out[len(out)-1].Version != upto || out[0].Version != after+1 {
		return nil, &Error{Kind: KindInternal, Op: "gap fill", Stream: stream,
			Message: fmt.Sprintf("the store does not hold versions %d to %d", after+1, upto)}
	}
	return out, nil
}

// run applies events (contiguous, starting at cp+1) and moves the
// checkpoint. It returns the last version whose effects are committed.
func (d *dispatcher) run(ctx context.Context, sub Subscriber, stream StreamID, cp int64, events []Event) (int64, error) {
	name := sub.SubscriberName()
	switch sub := sub.(type) {
	case *Projection:
		tx, n, failure := d.project(ctx, sub, events)
		if failure != nil && n > 0 {
			// Keep the progress before the failing event: apply the
			// prefix again into a clean transaction (Apply only touches
			// views through it) and commit that, so redelivery starts at
			// the failing event.
			var err error
			if tx, n, err = d.project(ctx, sub, events[:n]); err != nil {
				return cp, failure
			}
		}
		if n == 0 {
			return cp, failure
		}
		done := events[n-1].Version
		if err := d.views.CommitViews(ctx, tx.commit(name, stream, cp, done)); err != nil {
			return cp, storeError("commit views", stream, err)
		}
		return done, failure
	case *Policy:
		return d.advance(ctx, name, stream, cp, events, func(ev Event) error { return d.react(ctx, sub, ev) })
	case *Handler:
		return d.advance(ctx, name, stream, cp, events, func(ev Event) error { return sub.Handle(ctx, ev) })
	}
	return cp, fmt.Errorf("unknown subscriber %T", sub)
}

// project applies events to a new transaction and returns it with the
// number of events applied before the first failure.
func (d *dispatcher) project(ctx context.Context, p *Projection, events []Event) (*ViewTx, int, error) {
	tx := newViewTx(d.views)
	for i, ev := range events {
		if err := p.Apply(ctx, tx, ev); err != nil {
			return tx, i, err
		}
	}
	return tx, len(events), nil
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
			return cp, storeError("save checkpoint", stream, err)
		}
	}
	return done, failure
}

// react sends a policy's commands with deterministic command ids.
func (d *dispatcher) react(ctx context.Context, p *Policy, ev Event) error {
	sends, err := p.React(ctx, ev)
	if err != nil {
		return err
	}
	correlation := ev.CorrelationID
	if correlation == "" {
		correlation = ev.CommandID
	}
	for i, snd := range sends {
		id := policyCommandID(p.Name, ev.ID, i)
		_, err := d.svc.Handle(ctx, snd.Type, snd.ID, snd.Command, WithCommandID(id), WithCorrelation(correlation, ev.ID))
		switch KindOf(err) {
		case KindRejected, KindClosed, KindExists, KindNotFound, KindPrecondition:
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
		commits := make([]Commit, len(changes))
		for i, c := range changes {
			commits[i] = c.Commit
		}
		if err := s.Dispatch(ctx, commits); err != nil {
			return last, n, err
		}
		last = changes[len(changes)-1].Position
		n += len(commits)
	}
}
