package signal

import (
	"fmt"
	"time"
)

// oneEventCommit is the memory of a one-event command's commit and of the
// answer describing it, taken in one allocation: the usual command
// decides one event. (The Result's Event and the stored RawEvent then
// live as long as the longer-lived of the two.)
type oneEventCommit struct {
	raw    [1]RawEvent
	answer [1]Event
}

// buildCommit encodes the decided values into the commit at the
// aggregate's next version, stamped with the run's clock reading. It
// returns the commit and the space for the answer's events (nil when
// result is to make it).
//
// A generated command id is made here, with the first attempt's event
// ids, so a command's ids take one allocation. That is still before
// anything is written, so a later attempt of the run carries the same
// id and recognises its own write.
func (r *commandRun) buildCommit(values []any) (Commit, []Event, error) {
	o, stream := &r.o, r.e.stream
	if len(values) > MaxEventsPerCommit {
		return Commit{}, nil, &Error{Kind: KindTooLarge, Op: "signal.Handle", Stream: stream,
			Message: fmt.Sprintf("a commit holds at most %d events, these are %d", MaxEventsPerCommit, len(values))}
	}
	c := Commit{
		Stream:        stream,
		Version:       r.e.version + 1,
		Fingerprint:   o.fingerprint,
		CorrelationID: o.correlationID,
		CausationID:   o.causationID,
		Actor:         o.actor,
		// Milliseconds: what every store keeps, so the answer to a command
		// and a later read of the same events agree to the byte.
		Time: r.now.UTC().Truncate(time.Millisecond),
	}
	var answer []Event
	if len(values) == 1 {
		m := new(oneEventCommit)
		c.Events, answer = m.raw[:], m.answer[:]
	} else {
		c.Events = make([]RawEvent, len(values))
	}
	c.CommandID = r.setIDs(c.Events)
	if err := encodeDecided(r.t.reg, &c, values); err != nil {
		return Commit{}, nil, err
	}
	return c, answer, nil
}

// setIDs gives events new ids and returns the command id, generating it
// on the run's first commit. The ids are one allocation; only a command
// of one event shares it with the command id, so the window of recent
// command ids never holds on to the ids of a long commit.
func (r *commandRun) setIDs(events []RawEvent) (commandID string) {
	ms := r.now.UnixMilli()
	n := len(events)
	var ids string
	switch {
	case r.o.commandID != "":
		ids = newIDs(ms, n)
	case n == 1:
		ids = newIDs(ms, 2)
		r.o.commandID, ids = idAt(ids, 0), ids[idLen:]
	default:
		r.o.commandID, ids = newIDs(ms, 1), newIDs(ms, n)
	}
	for i := range events {
		events[i].ID = idAt(ids, i)
	}
	return r.o.commandID
}

// encodeDecided sets the name, schema version and payload of c's events
// (whose ids are set) from the decided values, and Final when one is
// Terminal, within the size limit of one commit: what encodeEvents does
// for EncodeCommit, with the ids given.
func encodeDecided(reg *registry, c *Commit, values []any) error {
	for i, v := range values {
		def, data, err := reg.encodeEvent(v)
		if err != nil {
			return withStream(err, c.Stream)
		}
		e := &c.Events[i]
		e.Name, e.SchemaVersion, e.Data = def.name, def.version, data
		c.Final = c.Final || def.terminal
	}
	if c.Size() > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: "signal.Handle", Stream: c.Stream,
			Message: fmt.Sprintf("the events take %d bytes, more than the %d a commit may hold", c.Size(), MaxCommitBytes)}
	}
	return nil
}
