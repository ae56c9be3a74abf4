package signal

import (
	"context"
	"fmt"
)

// AggregateState is an aggregate's state at a version.
type AggregateState struct {
	Type    string
	ID      string
	Version int64
	State   any
	// Closed reports that the aggregate has ended (a terminal event).
	Closed bool
}

// ReadOption tunes a state read.
type ReadOption func(*readOptions)

type readOptions struct{ fresh bool }

// Fresh makes Get read the commits other processes appended since the
// pooled state was loaded (one read of only the newer commits) instead of
// answering from the pool as it is.
func Fresh() ReadOption { return func(o *readOptions) { o.fresh = true } }

// Get returns the current state of an aggregate, from the pool when it is
// warm. Without Fresh, the state may lag commits made by other processes.
//
// Outcomes: ErrUnknownType, ErrInvalid (bad id), ErrUnauthenticated or
// ErrForbidden (the Authorize rule refused), ErrNotFound (no events
// yet), ErrUnknownEvent (the log holds an event this build does not
// know), ErrUnavailable/ErrInternal (the store failed).
func (s *Service) Get(ctx context.Context, typ, id string, opts ...ReadOption) (AggregateState, error) {
	var o readOptions
	for _, opt := range opts {
		opt(&o)
	}
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return AggregateState{}, err
	}
	e, fresh, err := s.pool.acquire(ctx, stream, func(e *entry) error { return s.load(ctx, t, e) })
	if err != nil {
		return AggregateState{}, err
	}
	defer e.mu.Unlock()
	if (o.fresh || e.version == 0) && !fresh {
		if err := s.catchUp(ctx, t, e); err != nil {
			return AggregateState{}, err
		}
	}
	if s.authorizer != nil {
		a := s.aggregateAction(ReadAction, e)
		if err := s.authorize(ctx, &a); err != nil {
			return AggregateState{}, err
		}
	}
	if e.version == 0 {
		return AggregateState{}, &Error{Kind: KindNotFound, Op: "signal.Get", Stream: stream, Message: fmt.Sprintf("%s %s does not exist", typ, id)}
	}
	return AggregateState{Type: typ, ID: id, Version: e.version, State: e.h.state(), Closed: e.closed}, nil
}

// At returns the state of an aggregate as it was right after version
// (time travel). It replays from the latest snapshot at or before version
// when there is one, else from the first event; the pool is never changed.
//
// Outcomes: ErrInvalid (version < 1, bad id), ErrNotFound (the aggregate
// has fewer events than version), otherwise as Get.
func (s *Service) At(ctx context.Context, typ, id string, version int64) (AggregateState, error) {
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return AggregateState{}, err
	}
	if version < 1 {
		return AggregateState{}, Errorf(KindInvalid, "signal.At", "version must be 1 or more, not %d", version)
	}
	if err := s.authorizeRead(ctx, ReadAction, t, stream); err != nil {
		return AggregateState{}, err
	}
	if e := s.pool.peek(stream); e != nil {
		e.mu.Lock()
		if e.version == version {
			st := AggregateState{Type: typ, ID: id, Version: version, State: e.h.state(), Closed: e.closed}
			e.mu.Unlock()
			return st, nil
		}
		e.mu.Unlock()
	}
	return s.replay(ctx, t, stream, version)
}

// replay folds a stream up to version into a fresh, unpooled state.
func (s *Service) replay(ctx context.Context, t *typeRuntime, stream StreamID, version int64) (AggregateState, error) {
	e := &entry{stream: stream, h: t.newHolder(s.localID(stream.ID))}
	if t.snapshotEvery > 0 && s.snapshots != nil {
		if snap, err := s.snapshots.LoadSnapshot(ctx, stream); err == nil && snap.SchemaVersion == t.stateVersion && snap.Version <= version {
			if s.restore(e, &snap) != nil {
				e = &entry{stream: stream, h: t.newHolder(s.localID(stream.ID))}
			}
		}
	}
	for c, err := range s.store.Load(ctx, stream, e.version) {
		if err != nil {
			return AggregateState{}, storeError("signal.Load", stream, err)
		}
		if c.Version > version {
			break
		}
		if c.LastVersion() > version {
			// The version falls inside a multi-event commit: fold only its head.
			c.Events = c.Events[:version-c.Version+1]
		}
		if err := s.applyLoaded(t, e, &c); err != nil {
			return AggregateState{}, err
		}
	}
	if e.version < version {
		return AggregateState{}, &Error{Kind: KindNotFound, Op: "signal.At", Stream: stream,
			Message: fmt.Sprintf("%s %s has no version %d (it is at %d)", stream.Type, stream.ID, version, e.version)}
	}
	return AggregateState{Type: stream.Type, ID: s.localID(stream.ID), Version: e.version, State: e.h.state(), Closed: e.closed}, nil
}

// Page is one page of an aggregate's history.
type Page struct {
	Events []Event
	// Next is the `after` to pass for the following page; 0 when this
	// page reached the end of the stream.
	Next int64
}

// History returns up to limit events of an aggregate with versions
// greater than after, oldest first. limit <= 0 means 100; it is capped at 1000.
//
// Outcomes: ErrInvalid (after < 0, bad id), ErrUnauthenticated or
// ErrForbidden (the Authorize rule refused), ErrNotFound (the aggregate
// has no events at all), ErrUnknownEvent, ErrUnavailable/ErrInternal.
func (s *Service) History(ctx context.Context, typ, id string, after int64, limit int) (Page, error) {
	t, stream, err := s.resolve(ctx, typ, id)
	if err != nil {
		return Page{}, err
	}
	if after < 0 {
		return Page{}, Errorf(KindInvalid, "signal.History", "after must be 0 or more, not %d", after)
	}
	if err := s.authorizeRead(ctx, HistoryAction, t, stream); err != nil {
		return Page{}, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	page, found, err := s.historyFrom(ctx, stream, after, after, limit)
	if err != nil {
		return Page{}, err
	}
	if after > 0 && (len(page.Events) == 0 || page.Events[0].Version != after+1) {
		// Version after+1 lies inside a commit that starts earlier (or
		// past the end). Such a commit starts at most
		// MaxEventsPerCommit-1 versions before it; read from there. Pages
		// that start where the previous one ended never get here.
		if page, found, err = s.historyFrom(ctx, stream, max(0, after+1-MaxEventsPerCommit), after, limit); err != nil {
			return Page{}, err
		}
	}
	if !found && after == 0 {
		return Page{}, &Error{Kind: KindNotFound, Op: "signal.History", Stream: stream, Message: fmt.Sprintf("%s %s does not exist", typ, id)}
	}
	return page, nil
}

// historyFrom reads commits after `from` and pages the events after
// `after`. found reports whether any commit was read.
func (s *Service) historyFrom(ctx context.Context, stream StreamID, from, after int64, limit int) (page Page, found bool, err error) {
	for c, err := range s.store.Load(ctx, stream, from) {
		if err != nil {
			return Page{}, false, storeError("signal.Load", stream, err)
		}
		found = true
		if c.LastVersion() <= after {
			continue
		}
		events, err := s.decodeCommit(&c)
		if err != nil {
			return Page{}, false, err
		}
		for _, ev := range events {
			if ev.Version <= after {
				continue
			}
			if len(page.Events) == limit {
				page.Next = page.Events[len(page.Events)-1].Version
				return page, found, nil
			}
			page.Events = append(page.Events, ev)
		}
	}
	return page, found, nil
}
