package signal

import "context"

// Result is the outcome of a command.
type Result struct {
	Type    string
	ID      string
	Version int64
	// State is the aggregate's state after the command (after the original
	// command, for a duplicate).
	State any
	// Events are the events the command appended (the original ones, for a duplicate).
	Events []Event
	// Created reports that the command created the aggregate.
	Created bool
	// Duplicate reports that the command id had been handled before:
	// nothing was appended and the fields describe the original outcome.
	Duplicate bool
}

// result describes the aggregate after a command: with the events of c
// (whose decoded values are values) when it appended one, in answer when
// the commit came with space for them (buildCommit).
func (s *Service) result(e *entry, c *Commit, values []any, answer []Event, created bool) Result {
	r := Result{Type: e.stream.Type, ID: s.localID(e.stream.ID), Version: e.version, State: e.h.state(), Created: created}
	if c != nil {
		r.Events = answer
		if r.Events == nil {
			r.Events = make([]Event, len(values))
		}
		for i, v := range values {
			s.record(&r.Events[i], c, i, v)
		}
	}
	return r
}

// record sets every field of *dst to the i-th event of c with its
// decoded value, naming its aggregate by the caller's id and tenant
// (unscope). Field by field: *dst is on the heap, and an Event built
// whole and then copied there cost a warm command 2%.
func (s *Service) record(dst *Event, c *Commit, i int, v any) {
	raw := &c.Events[i]
	dst.Tenant, dst.AggregateID = s.unscope(c.Stream.ID)
	dst.AggregateType = c.Stream.Type
	dst.Version = c.Version + int64(i)
	dst.Name = raw.Name
	dst.SchemaVersion = raw.SchemaVersion
	dst.Time = c.Time
	dst.ID = raw.ID
	dst.CommandID = c.CommandID
	dst.CorrelationID = c.CorrelationID
	dst.CausationID = c.CausationID
	dst.Actor = c.Actor
	dst.Data = v
}

// decodeCommit turns a stored commit into recorded events.
func (s *Service) decodeCommit(c *Commit) ([]Event, error) {
	t, ok := s.types[c.Stream.Type]
	if !ok {
		return nil, withStream(unknownType(c.Stream.Type), c.Stream)
	}
	out := make([]Event, len(c.Events))
	for i := range c.Events {
		v, err := t.reg.decodeEvent(&c.Events[i])
		if err != nil {
			return nil, withStream(err, c.Stream)
		}
		s.record(&out[i], c, i, v)
	}
	return out, nil
}

// duplicate answers a repeated command id with its original outcome. It
// reads the original commit for its events, and so also checks the
// commit's fingerprint against the request's (fp), which the window may
// not have known (a snapshot of a build before fingerprints).
func (s *Service) duplicate(ctx context.Context, t *typeRuntime, e *entry, rc recentCommand, fp string) (Result, error) {
	r := Result{Type: e.stream.Type, ID: s.localID(e.stream.ID), Version: rc.last, Duplicate: true, Created: rc.first == 1}
	for c, err := range s.store.Load(ctx, e.stream, rc.first-1) {
		if err != nil {
			return Result{}, storeError("signal.Load", e.stream, err)
		}
		if !sameRequest(c.Fingerprint, fp) {
			return Result{}, keyReused(e.stream, rc.id)
		}
		if r.Events, err = s.decodeCommit(&c); err != nil {
			return Result{}, err
		}
		break
	}
	if rc.last == e.version {
		r.State = e.h.state()
		return r, nil
	}
	st, err := s.replay(ctx, t, e.stream, rc.last)
	r.State = st.State
	return r, err
}
