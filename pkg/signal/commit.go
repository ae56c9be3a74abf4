package signal

import (
	"fmt"
	"time"
	"unsafe"
)

// oneEventCommit is the memory of a one-event command's commit and of the
// answer describing it, with the bytes of the event's id, taken in one
// allocation: the usual command decides one event. (The Result's Event
// and the stored RawEvent then live as long as the longer-lived of the
// two. The command id is not in it: the window of recent command ids
// keeps that for many commits, and keeps no more than its 48 bytes.)
type oneEventCommit struct {
	raw    [1]RawEvent
	answer [1]Event
	id     [idLen]byte
	// data is the room for a small event's payload, which the rest leaves
	// free in the allocation's size class (320 bytes on 64-bit).
	data [20]byte
}

// buildCommit encodes the decided values into *c, the commit at the
// aggregate's next version, stamped with the run's clock reading (filled
// in place: a Commit is a large value to return). It returns the space
// for the answer's events (nil when result is to make it) and the
// values' registrations (nil for more than len(r.defs) values), which
// the fold after the write uses without looking them up again.
//
// A generated command id is made with the run's first commit. That is
// still before anything is written, so a later attempt of the run
// carries the same id and recognises its own write. Event ids are new
// for every attempt.
func (r *commandRun) buildCommit(c *Commit, values []any) ([]Event, []*eventDef, error) {
	o, stream := &r.o, r.e.stream
	if len(values) > MaxEventsPerCommit {
		return nil, nil, tooManyEvents("signal.Handle", stream, len(values))
	}
	ms := r.now.UnixMilli()
	if o.commandID == "" {
		o.commandID = newID(ms)
	}
	*c = Commit{
		Stream:        stream,
		Version:       r.e.version + 1,
		CommandID:     o.commandID,
		Fingerprint:   o.fingerprint,
		CorrelationID: o.correlationID,
		CausationID:   o.causationID,
		Actor:         o.actor,
		// Milliseconds: what every store keeps, so the answer to a command
		// and a later read of the same events agree to the byte. (The
		// same instant as r.now.UTC().Truncate(time.Millisecond): both
		// round down, and the zero time is a whole second before the Unix
		// epoch; without Truncate's division.)
		Time: time.UnixMilli(ms).UTC(),
	}
	var answer []Event
	if len(values) == 1 {
		m := new(oneEventCommit)
		putID(m.id[:], ms)
		// m.id is written once, above, and never again: the string's
		// bytes do not change, which is unsafe.String's one rule.
		m.raw[0].ID = unsafe.String(&m.id[0], idLen)
		// Length 0, capacity the room: a payload that fits is written
		// there and cannot be appended to past it (full slice below).
		m.raw[0].Data = m.data[:0:len(m.data)]
		c.Events, answer = m.raw[:], m.answer[:]
	} else {
		c.Events = make([]RawEvent, len(values))
		ids := newIDs(ms, len(values))
		for i := range c.Events {
			c.Events[i].ID = idAt(ids, i)
		}
	}
	var defs []*eventDef
	if len(values) <= len(r.defs) {
		defs = r.defs[:len(values)]
	}
	if err := encodeDecided("signal.Handle", r.t.reg, c, values, defs); err != nil {
		return nil, nil, err
	}
	return answer, defs, nil
}

// encodeDecided sets the name, schema version and payload of c's events
// (whose ids are set) from the decided values, and Final when one is
// Terminal, within the size limit of one commit; it records each value's
// registration in defs when defs is not nil (len(values) long). A payload
// is written into the capacity of the event's Data when it fits. Errors
// (with op): ErrUnknownEvent, ErrInternal (a value encoding/json cannot
// encode), ErrTooLarge.
func encodeDecided(op string, reg *registry, c *Commit, values []any, defs []*eventDef) error {
	for i, v := range values {
		e := &c.Events[i]
		def, data, err := reg.encodeEvent(v, e.Data)
		if err != nil {
			return withStream(err, c.Stream)
		}
		e.Name, e.SchemaVersion, e.Data = def.name, def.version, data[:len(data):len(data)]
		c.Final = c.Final || def.terminal
		if defs != nil {
			defs[i] = def
		}
	}
	if c.Size() > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: op, Stream: c.Stream,
			Message: fmt.Sprintf("the events take %d bytes, more than the %d a commit may hold", c.Size(), MaxCommitBytes)}
	}
	return nil
}

// tooManyEvents is the ErrTooLarge of a commit of n events, more than
// MaxEventsPerCommit.
func tooManyEvents(op string, stream StreamID, n int) error {
	return &Error{Kind: KindTooLarge, Op: op, Stream: stream,
		Message: fmt.Sprintf("a commit holds at most %d events, these are %d", MaxEventsPerCommit, n)}
}
