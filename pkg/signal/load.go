package signal

import (
	"context"
	"errors"
	"fmt"
)

// load fills a new pool entry: from the latest snapshot when the type
// takes snapshots and one of the current schema exists, then the commits after it.
func (s *Service) load(ctx context.Context, t *typeRuntime, e *entry) error {
	e.h = t.newHolder(s.localID(e.stream.ID))
	if t.snapshotEvery > 0 && s.snapshots != nil {
		snap, err := s.snapshots.LoadSnapshot(ctx, e.stream)
		switch {
		case err == nil && snap.SchemaVersion == t.stateVersion:
			if derr := s.restore(e, &snap); derr != nil {
				s.log.WarnContext(ctx, "signal: ignoring unreadable snapshot", "stream", e.stream.String(), "version", snap.Version, "error", derr)
				e.h, e.version, e.closed, e.owner, e.recent = t.newHolder(s.localID(e.stream.ID)), 0, false, "", recentCommands{}
			}
		case err == nil || errors.Is(err, ErrNotFound):
		default:
			return storeError("signal.Load", e.stream, err)
		}
	}
	return s.readAfter(ctx, t, e)
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
	for c, err := range s.store.Load(ctx, e.stream, e.version) {
		if err != nil {
			return storeError("signal.Load", e.stream, err)
		}
		if err := s.applyLoaded(t, e, &c); err != nil {
			return err
		}
	}
	return nil
}

// applyDecided folds a commit this process just appended.
func (s *Service) applyDecided(ctx context.Context, t *typeRuntime, e *entry, c *Commit, values []any) {
	before := e.version
	for _, v := range values {
		e.h.evolve(v)
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
