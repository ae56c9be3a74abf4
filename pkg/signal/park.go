package signal

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultParkAfter is how many deliveries may fail on the same event
// before the dispatcher parks the subscriber on that stream, when
// Config.ParkAfter is 0. The projector's event source mapping retries a
// batch 5 times by default: parking on the third delivery lets the
// shard move on before Lambda gives the batch up.
const DefaultParkAfter = 3

// failed records that the subscriber stopped at done+1 on stream with
// err, and parks it there once it has failed ParkAfter times (at once
// when replaying). It returns nil when the subscriber is parked (the
// stream is then done for this delivery), else the failure to redeliver.
//
// Failures that say nothing about the event (the store unavailable, lost
// races) are not counted: an outage must not park every subscriber.
func (d *dispatcher) failed(ctx context.Context, name string, stream StreamID, cp Checkpoint, done int64, err error, replay bool) *DispatchFailure {
	f := &DispatchFailure{Stream: stream, Version: done + 1, Subscriber: name, Err: err}
	if transient(err) || (d.parkAfter < 0 && !replay) {
		return f
	}
	rec := Failure{Subscriber: name, Stream: stream, Version: done + 1, Attempts: 1,
		Error: failureText(err), Time: d.svc.now().UTC().Truncate(time.Millisecond)}
	if prior := cp.Failure; prior != nil && prior.Version == rec.Version {
		rec.Attempts = prior.Attempts + 1
	}
	rec.Parked = replay || rec.Attempts >= d.parkAfter
	if rerr := d.checkpoints.RecordFailure(ctx, rec); rerr != nil && !d.parkedAnyway(ctx, rec, rerr) {
		d.svc.log.WarnContext(ctx, "signal: could not record a subscriber's failure", "subscriber", name,
			"stream", stream.String(), "version", rec.Version, "error", rerr)
		return f
	}
	if !rec.Parked {
		return f
	}
	d.svc.log.ErrorContext(ctx, "signal: subscriber parked; replay it once fixed", "subscriber", name,
		"stream", stream.String(), "version", rec.Version, "attempts", rec.Attempts, "error", err)
	if d.onPark != nil {
		d.onPark(ctx, rec)
	}
	if replay {
		return f
	}
	return nil
}

// parkedAnyway tells whether a park whose write failed with err landed
// all the same: a store failure may hide a write that was applied and
// whose answer was lost, and a park that happened must be announced
// (later deliveries find the subscriber parked and say nothing). It reads
// the checkpoint back. A lost race (ErrConflict) wrote nothing.
func (d *dispatcher) parkedAnyway(ctx context.Context, rec Failure, err error) bool {
	if !rec.Parked || KindOf(err) != KindUnavailable {
		return false
	}
	cp, lerr := d.checkpoints.LoadCheckpoint(ctx, rec.Subscriber, rec.Stream)
	if lerr != nil || cp.Failure == nil {
		return false
	}
	got := cp.Failure
	return got.Parked && got.Version == rec.Version && got.Attempts == rec.Attempts && got.Time.Equal(rec.Time)
}

// failureText is err's text as a Failure keeps it: valid UTF-8 without
// NUL, cut at a character boundary to MaxFailureBytes.
func failureText(err error) string {
	s := strings.ReplaceAll(strings.ToValidUTF8(err.Error(), "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= MaxFailureBytes {
		return s
	}
	cut := MaxFailureBytes - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// transient reports whether err says nothing about the event itself.
func transient(err error) bool {
	switch KindOf(err) {
	case KindUnavailable, KindConflict:
		return true
	}
	return false
}

// Failures returns the subscribers' recorded failures, parked or still
// being retried, ordered by subscriber and stream. ErrUnsupported when
// the store keeps no checkpoints; store failures otherwise.
func (s *Service) Failures(ctx context.Context) ([]Failure, error) {
	cs := s.dispatcher.checkpoints
	if cs == nil {
		return nil, Errorf(KindUnsupported, "signal.Failures", "this service keeps no checkpoints")
	}
	out, err := cs.Failures(ctx)
	if err != nil {
		return nil, storeError("signal.Failures", StreamID{}, err)
	}
	slices.SortFunc(out, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(a.Subscriber, b.Subscriber), cmp.Compare(a.Stream.Type, b.Stream.Type), cmp.Compare(a.Stream.ID, b.Stream.ID))
	})
	return out, nil
}

// Replay runs a subscriber over a stream from its checkpoint to the
// stream's current end, whether it is parked or not: the way out once the
// cause of a parked failure is fixed. Checkpoints make it exactly-once in
// effect, also when the projector delivers the same stream meanwhile.
//
// It returns the checkpoint it reached. Outcomes:
//   - nil: the subscriber caught up; its failure, if any, is cleared.
//   - ErrNotFound: no subscriber of that name follows the stream's type
//     (ephemeral observers keep no checkpoint and cannot be replayed).
//   - ErrInvalid: an invalid stream.
//   - any other error: the subscriber failed again; the failure is
//     recorded, parked, at the version it stopped.
func (s *Service) Replay(ctx context.Context, subscriber string, stream StreamID) (Checkpoint, error) {
	d := s.dispatcher
	if err := ValidateStream("signal.Replay", stream); err != nil {
		return Checkpoint{}, err
	}
	sub := d.subscriber(subscriber)
	if sub == nil || !sub.subscribes(stream.Type) {
		return Checkpoint{}, Errorf(KindNotFound, "signal.Replay", "no subscriber %q with a checkpoint follows %s aggregates", truncate(subscriber, MaxNameBytes), stream.Type)
	}
	cp, err := d.checkpoints.LoadCheckpoint(ctx, subscriber, stream)
	if err != nil {
		return Checkpoint{}, storeError("signal.Replay", stream, err)
	}
	events, bad, err := d.load(ctx, stream, cp.Version, -1)
	if err != nil {
		return cp, err
	}
	if len(events) > 0 || bad != nil {
		if f := d.deliver(ctx, nil, sub, stream, events, bad, true); f != nil {
			return cp, fmt.Errorf("replay %s on %s stopped at version %d: %w", subscriber, stream, f.Version, f.Err)
		}
	}
	if cp, err = d.checkpoints.LoadCheckpoint(ctx, subscriber, stream); err != nil {
		return cp, storeError("signal.Replay", stream, err)
	}
	return cp, nil
}

// ReplayParked replays every parked failure (Replay each) and returns
// those that failed again, with the first error.
func (s *Service) ReplayParked(ctx context.Context) (failed []Failure, err error) {
	all, err := s.Failures(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if !f.Parked {
			continue
		}
		if _, rerr := s.Replay(ctx, f.Subscriber, f.Stream); rerr != nil {
			failed = append(failed, f)
			if err == nil {
				err = rerr
			}
		}
	}
	return failed, err
}

// subscriber returns the subscriber with a checkpoint named name, or nil.
func (d *dispatcher) subscriber(name string) *subscription {
	for _, sub := range d.subs {
		if sub.SubscriberName() == name && !sub.ephemeral() {
			return sub
		}
	}
	return nil
}
