package signal

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// load fills a new pool entry: from the latest snapshot when the type
// takes snapshots and one of the current schema exists, then the commits
// after it. A LatestLoader reads both at once; otherwise LoadSnapshot and
// Load are two reads.
func (s *Service) load(ctx context.Context, t *typeRuntime, e *entry) error {
	e.h = t.newHolder(s.localID(e.stream.ID))
	if t.snapshotEvery <= 0 || s.snapshots == nil {
		return s.readAfter(ctx, t, e)
	}
	if ll, ok := s.snapshots.(LatestLoader); ok {
		return s.loadLatest(ctx, t, e, ll)
	}
	snap, err := s.snapshots.LoadSnapshot(ctx, e.stream)
	switch {
	case err == nil:
		s.restoreOrReset(ctx, t, e, &snap)
	case errors.Is(err, ErrNotFound):
	default:
		return storeError("signal.Load", e.stream, err)
	}
	return s.readAfter(ctx, t, e)
}

// loadLatest fills a new pool entry with one LoadLatest. A snapshot it
// cannot use (another schema, unreadable) came with only the commits after
// it, so then every commit is read again with Load: a second read, until
// a snapshot of the current schema is written.
func (s *Service) loadLatest(ctx context.Context, t *typeRuntime, e *entry, ll LatestLoader) error {
	snap, found, commits := ll.LoadLatest(ctx, e.stream, int(t.snapshotEvery))
	if found && !s.restoreOrReset(ctx, t, e, &snap) {
		return s.readAfter(ctx, t, e)
	}
	return s.fold(t, e, commits)
}

// restoreOrReset restores e from snap and reports whether it did. A
// snapshot of another schema is ignored; an unreadable one is logged and
// leaves e as new.
func (s *Service) restoreOrReset(ctx context.Context, t *typeRuntime, e *entry, snap *Snapshot) bool {
	if snap.SchemaVersion != t.stateVersion {
		return false
	}
	if err := s.restore(e, snap); err != nil {
		s.log.WarnContext(ctx, "signal: ignoring unreadable snapshot", "stream", e.stream.String(), "version", snap.Version, "error", err)
		e.h, e.version, e.closed, e.owner, e.recent = t.newHolder(s.localID(e.stream.ID)), 0, false, "", recentCommands{}
		return false
	}
	return true
}

// catchUp folds the commits newer than the entry's version: the only
// read a stale pooled aggregate needs.
func (s *Service) catchUp(ctx context.Context, t *typeRuntime, e *entry) error {
	s.counts.catchUps.Add(1)
	if err := s.readAfter(ctx, t, e); err != nil {
		s.evict(e)
		return err
	}
	if e.closed {
		s.evict(e)
	}
	return nil
}

// readAfter folds the commits after the entry's version, as the store
// returns them.
func (s *Service) readAfter(ctx context.Context, t *typeRuntime, e *entry) error {
	return s.fold(t, e, s.store.Load(ctx, e.stream, e.version))
}

// fold folds commits, which continue the entry's version, into it.
func (s *Service) fold(t *typeRuntime, e *entry, commits iter.Seq2[Commit, error]) error {
	for c, err := range commits {
		if err != nil {
			return storeError("signal.Load", e.stream, err)
		}
		if err := s.applyLoaded(t, e, &c); err != nil {
			return err
		}
	}
	return nil
}

// applyDecided folds a commit this process just appended: values, with
// their registrations defs from encoding them, or looked up by Go type
// when defs is nil.
func (s *Service) applyDecided(ctx context.Context, t *typeRuntime, e *entry, c *Commit, values []any, defs []*eventDef) {
	before := e.version
	for i, v := range values {
		if defs != nil {
			e.h.evolveWith(defs[i], v)
		} else {
			e.h.evolve(v)
		}
	}
	s.committed(e, c)
	if c.Final {
		s.evict(e)
	}
	if t.snapshotEvery > 0 && before/t.snapshotEvery != e.version/t.snapshotEvery {
		s.saveSnapshot(ctx, t, e)
	}
}

// applyLoaded decodes and folds a commit read from the store.
func (s *Service) applyLoaded(t *typeRuntime, e *entry, c *Commit) error {
	if c.Version != e.version+1 {
		return &Error{Kind: KindInternal, Op: "signal.Load", Stream: e.stream,
			Message: fmt.Sprintf("store returned version %d after %d", c.Version, e.version)}
	}
	for i := range c.Events {
		def, v, err := t.reg.decodeEventDef(&c.Events[i])
		if err != nil {
			return withStream(err, e.stream)
		}
		e.h.evolveWith(def, v)
	}
	s.committed(e, c)
	return nil
}

// committed moves the entry to the end of c: version, recent command ids,
// closure.
func (s *Service) committed(e *entry, c *Commit) {
	if c.Version == 1 {
		e.owner = c.Actor
	}
	e.version = c.LastVersion()
	e.recent.add(s.window, c.CommandID, c.Fingerprint, c.Version, e.version)
	if c.Final {
		e.closed = true
	}
}

// evict drops e from the pool, so the next command on its aggregate reads
// the store: after a failure that leaves its state in doubt, and after the
// aggregate ended.
func (s *Service) evict(e *entry) {
	s.pool.remove(e)
}
