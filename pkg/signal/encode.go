package signal

import (
	"fmt"
	"time"
)

// EncodeCommit builds the commit that records events (values of t's
// registered event types) on aggregate id at version, as a command would
// have appended them, without deciding anything: for importing history,
// and for tests that start from a given past (signaltest). Each event
// gets a new id; the commit gets a new command id, the current time and
// Final when an event is registered Terminal. Append it with the store.
//
// Errors: ErrInvalid (bad id, version < 1, no events), ErrUnknownEvent (a
// value of an unregistered type), ErrTooLarge (the limits of a command's
// commit).
func EncodeCommit(t AggregateType, id string, version int64, events ...any) (Commit, error) {
	rt := t.runtime()
	stream := StreamID{rt.name, id}
	if err := ValidateID(id); err != nil {
		return Commit{}, err
	}
	if version < 1 || len(events) == 0 {
		return Commit{}, Errorf(KindInvalid, "signal.EncodeCommit", "a commit needs a version of 1 or more and at least one event (version %d, %d events)", version, len(events))
	}
	c := Commit{
		Stream:    stream,
		Version:   version,
		CommandID: NewID(),
		Time:      time.Now().UTC().Truncate(time.Millisecond),
	}
	if err := encodeEvents("signal.EncodeCommit", rt.reg, &c, events); err != nil {
		return Commit{}, err
	}
	return c, nil
}

// encodeEvents sets c's events (each with a new id) from the values of
// registered event types, and Final when one is Terminal, within the
// limits of one commit. The events a command decides and those
// EncodeCommit records are encoded alike.
func encodeEvents(op string, reg *registry, c *Commit, values []any) error {
	if len(values) > MaxEventsPerCommit {
		return &Error{Kind: KindTooLarge, Op: op, Stream: c.Stream,
			Message: fmt.Sprintf("a commit holds at most %d events, these are %d", MaxEventsPerCommit, len(values))}
	}
	c.Events = make([]RawEvent, len(values))
	for i, v := range values {
		def, data, err := reg.encodeEvent(v)
		if err != nil {
			return withStream(err, c.Stream)
		}
		c.Events[i] = RawEvent{ID: NewID(), Name: def.name, SchemaVersion: def.version, Data: data}
		c.Final = c.Final || def.terminal
	}
	if c.Size() > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: op, Stream: c.Stream,
			Message: fmt.Sprintf("the events take %d bytes, more than the %d a commit may hold", c.Size(), MaxCommitBytes)}
	}
	return nil
}
