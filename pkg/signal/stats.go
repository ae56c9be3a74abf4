package signal

import "sync/atomic"

// Stats are a Service's counters since it was created: how its pool served
// aggregates and how often its commands raced other writers. They are
// per process (per Lambda container), like the pool.
type Stats struct {
	// Hits and Misses count pool lookups that found the aggregate warm or
	// had to load it.
	Hits, Misses int64
	// Evictions counts aggregates dropped from the pool for capacity,
	// idleness, closure or a state in doubt (a failed append).
	Evictions int64
	// Conflicts counts appends that lost an optimistic race; Retries counts
	// the re-decisions that followed (all but the last conflict of a
	// command that gave up with ErrConflict).
	Conflicts, Retries int64
	// CatchUps counts reads of only the newer commits of a pooled
	// aggregate: to confirm a refusal, after a conflict that did not
	// bring the state to the head, for a Get (Fresh, or of an aggregate
	// not found) and a Snapshot.
	CatchUps int64
	// Size is the number of aggregates pooled now.
	Size int
}

// Stats returns the Service's counters.
func (s *Service) Stats() Stats {
	st := s.pool.stats()
	st.Conflicts = s.counts.conflicts.Load()
	st.Retries = s.counts.retries.Load()
	st.CatchUps = s.counts.catchUps.Load()
	return st
}

// loopCounts are the counters the command loop bumps; the pool counts its
// own lookups and evictions.
type loopCounts struct {
	conflicts, retries, catchUps atomic.Int64
}
