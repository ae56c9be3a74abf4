package signal

import "time"

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
	if len(events) > MaxEventsPerCommit {
		return Commit{}, tooManyEvents("signal.EncodeCommit", stream, len(events))
	}
	// Encoded as a command's events are (encodeDecided), each with an id
	// of its own.
	c.Events = make([]RawEvent, len(events))
	for i := range c.Events {
		c.Events[i].ID = NewID()
	}
	if err := encodeDecided("signal.EncodeCommit", rt.reg, &c, events, nil); err != nil {
		return Commit{}, err
	}
	return c, nil
}
