package signal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// contentionMemory is how long after a conflict the aggregate's writers
// in this process jitter their appends.
const contentionMemory = time.Second

// conflictPlan is what a run does after its append lost a race.
type conflictPlan struct {
	// giveUp: the retries are spent; the command fails with ErrConflict.
	giveUp bool
	// fold: apply the winning commit the store returned, the next one.
	fold bool
	// catchUp: read every commit newer than the state.
	catchUp bool
}

// planConflict decides what follows the attempt-th lost race (counted
// from 0) of a state at version, when the store returned the winning
// commit existing (nil when it did not say).
//
// Folding the winner (DynamoDB's ALL_OLD) is the fastest way back to the
// head under contention: one request per attempt, like the writers we
// race with. Every fourth retry, or when the store did not say what won,
// the run also reads everything newer, in case the state was more than
// one commit behind (an aggregate that sat in the pool while other
// containers wrote).
func planConflict(attempt, maxRetries int, existing *Commit, version int64) conflictPlan {
	if attempt >= maxRetries {
		return conflictPlan{giveUp: true}
	}
	return conflictPlan{
		fold:    existing != nil && existing.Version == version+1,
		catchUp: existing == nil || (attempt+1)%4 == 0,
	}
}

// conflicted handles an append that lost a race (err, which met ce): it marks the aggregate contended and either fails the command with
// ErrConflict or brings the state forward for another attempt (again).
func (r *commandRun) conflicted(ctx context.Context, err error, ce *Conflict) (again bool, _ error) {
	s, e := r.s, r.e
	s.counts.conflicts.Add(1)
	e.contendedUntil = s.now().Add(contentionMemory).UnixNano()
	p := planConflict(r.attempt, s.maxRetries, ce.Existing, e.version)
	if p.giveUp {
		s.evict(e)
		return false, &Error{Kind: KindConflict, Op: "signal.Handle", Stream: e.stream,
			Message: fmt.Sprintf("%s %s changed concurrently %d times; try again", e.stream.Type, e.stream.ID, r.attempt+1), Err: err}
	}
	if p.fold {
		if err := s.applyLoaded(r.t, e, ce.Existing); err != nil {
			s.evict(e)
			return false, err
		}
	}
	r.attempt++
	s.counts.retries.Add(1)
	if p.catchUp {
		if err := s.catchUp(ctx, r.t, e); err != nil {
			return false, err
		}
		r.fresh = true
	}
	return true, nil
}

// ownCommit reports whether err is a conflict with the very commit we
// tried to write: an earlier attempt of the same append landed although
// its response was lost (the SDK retried it). Event ids are fresh for every
// attempt, so only our own write can match.
func ownCommit(err error, c *Commit) bool {
	ce, ok := ConflictOf(err)
	if !ok || ce.Existing == nil {
		return false
	}
	x := ce.Existing
	return x.Version == c.Version && x.CommandID == c.CommandID && len(x.Events) == len(c.Events) && x.Events[0].ID == c.Events[0].ID
}

// contended reports whether the aggregate lost a race in this process
// within contentionMemory.
//
// Losers must get through: without help the last winner, warm and first
// in line, keeps winning while the losers retry one step behind it
// forever (seen with 4 containers on one cart). So a new command on a
// contended aggregate first yields, while retries go at once.
func (r *commandRun) contended() bool {
	return r.e.contendedUntil != 0 && r.s.now().UnixNano() < r.e.contendedUntil
}

// yield waits a random time of the order of a write's round trip (at
// least RetryBackoff), or until ctx ends (its error).
func (r *commandRun) yield(ctx context.Context) error {
	return r.s.jitter(ctx, max(r.s.backoff, 2*time.Duration(r.e.writeLatency)))
}

// jitter waits a random time up to d, or until ctx ends (its error).
func (s *Service) jitter(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(d)) + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write appends c. On a contended aggregate it also keeps a moving
// average of the write latency, which scales yield.
func (r *commandRun) write(ctx context.Context, c *Commit, contended bool) error {
	if !contended {
		return r.s.store.Append(ctx, *c)
	}
	started := time.Now()
	err := r.s.store.Append(ctx, *c)
	r.e.writeLatency += (int64(time.Since(started)) - r.e.writeLatency) / 4
	return err
}
