package signal

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// StreamID names one aggregate's event stream: its type and its id.
type StreamID struct {
	Type string
	ID   string
}

// String returns "type#id", the form DynamoDB uses as partition key. Valid
// types and ids never contain '#', so the form is unambiguous.
func (s StreamID) String() string { return s.Type + "#" + s.ID }

// Commit is what one command appended: one or more events, written
// atomically, starting at Version. It is the unit of storage of every Store
// (one DynamoDB item, one bbolt value, one Postgres row).
//
// A Commit passed to or returned from a Store is immutable: neither side
// modifies it afterwards, so stores may retain it without copying.
type Commit struct {
	Stream StreamID
	// Version is the version of the first event; the stream's version
	// before the commit was Version-1. The first commit of a stream has Version 1.
	Version int64
	// CommandID identifies the command that produced the commit. Handling
	// the same command id again appends nothing.
	CommandID string
	// Fingerprint identifies the request behind a command id the caller
	// chose (an HTTP Idempotency-Key, a policy's deterministic id): a short
	// hash of the command's name and canonical JSON, so that the same id
	// sent with another request is refused instead of answered as a
	// repeat. Empty for ids the Service generated (they are unique) and in
	// commits written before fingerprints existed. Stores keep it byte for
	// byte, as they keep CommandID.
	Fingerprint   string
	CorrelationID string
	CausationID   string
	Time          time.Time
	// Final marks a commit holding a terminal event: the stream is closed
	// and every later Append fails with ErrClosed.
	Final  bool
	Events []RawEvent
}

// LastVersion is the version of the commit's last event, the stream's
// version once the commit is applied.
func (c *Commit) LastVersion() int64 { return c.Version + int64(len(c.Events)) - 1 }

// Size is the number of bytes the commit's strings and payloads take, the
// figure compared with MaxCommitBytes.
func (c *Commit) Size() int {
	n := len(c.Stream.Type) + len(c.Stream.ID) + len(c.CommandID) + len(c.Fingerprint) + len(c.CorrelationID) + len(c.CausationID) + 64
	for i := range c.Events {
		e := &c.Events[i]
		n += len(e.ID) + len(e.Name) + len(e.Data) + 16
	}
	return n
}

// RawEvent is one event as stored: its name, schema version and encoded payload.
type RawEvent struct {
	ID            string
	Name          string
	SchemaVersion int
	Data          []byte
}

// Event is a recorded event as subscribers and history readers see it:
// the decoded payload with its metadata.
type Event struct {
	AggregateType string    `json:"aggregateType"`
	AggregateID   string    `json:"aggregateId"`
	Version       int64     `json:"version"`
	Name          string    `json:"name"`
	SchemaVersion int       `json:"schemaVersion"`
	Time          time.Time `json:"time"`
	ID            string    `json:"id"`
	CommandID     string    `json:"commandId"`
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	// Data is the payload as the user's Go type (a value of a type
	// registered with EventOf), upcast to the current schema version.
	Data any `json:"data"`
}

// Stream returns the stream the event belongs to.
func (e *Event) Stream() StreamID { return StreamID{e.AggregateType, e.AggregateID} }

// Limits every store enforces, so an aggregate that works on the embedded
// store in development also fits a DynamoDB item (400 KB) in production.
const (
	// MaxCommitBytes bounds Commit.Size and a snapshot's encoded state.
	// It leaves room under DynamoDB's 400 KB item limit for attribute names.
	MaxCommitBytes = 350 * 1024
	// MaxEventsPerCommit bounds the events one command may produce.
	MaxEventsPerCommit = 100
	// MaxIDBytes bounds aggregate ids.
	MaxIDBytes = 256
	// MaxNameBytes bounds aggregate type, command, event and view names.
	MaxNameBytes = 64
)

// ValidateID reports whether id can name an aggregate or view key: 1 to
// MaxIDBytes bytes of valid UTF-8 with no control characters, '#' (the key
// separator of stores) or '/' (the path separator of the HTTP API), and
// not "." or ".." (URL resolution removes those path segments, so no
// client or gateway could address them). Unicode letters, spaces and
// punctuation are otherwise fine, dots included ("...", "a.b"). The
// error is ErrInvalid.
func ValidateID(id string) error {
	switch {
	case id == "":
		return Errorf(KindInvalid, "", "id is empty")
	case id == "." || id == "..":
		return Errorf(KindInvalid, "", `id may not be "." or ".."`)
	case len(id) > MaxIDBytes:
		return Errorf(KindInvalid, "", "id is longer than %d bytes", MaxIDBytes)
	case !utf8.ValidString(id):
		return Errorf(KindInvalid, "", "id is not valid UTF-8")
	}
	for _, r := range id {
		if r == '#' || r == '/' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return Errorf(KindInvalid, "", "id contains %q, which ids may not contain", r)
		}
	}
	return nil
}

// ValidateName reports whether s can name an aggregate type, command,
// event or view: 1 to MaxNameBytes of ASCII letters, digits, '-', '_' and
// '.', starting with a letter.
func ValidateName(s string) error {
	if s == "" || len(s) > MaxNameBytes {
		return Errorf(KindInvalid, "", "name must be 1 to %d bytes", MaxNameBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return Errorf(KindInvalid, "", "name %q must start with a letter", s)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.' {
			return Errorf(KindInvalid, "", "name %q may hold only letters, digits, '-', '_' and '.'", s)
		}
	}
	return nil
}

// ValidateStream checks a stream's type (ValidateName) and id
// (ValidateID), returning ErrInvalid attributed to op. Stores use it so
// every store refuses the same streams.
func ValidateStream(op string, id StreamID) error {
	if err := ValidateName(id.Type); err != nil {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid stream type: " + PublicMessage(err)}
	}
	if err := ValidateID(id.ID); err != nil {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid stream id: " + PublicMessage(err)}
	}
	return nil
}

// ValidateCommit checks what every store must refuse before writing: an
// invalid stream or a commit without events or with a version below 1
// (ErrInvalid), more than MaxEventsPerCommit events or more than
// MaxCommitBytes (ErrTooLarge). Errors are attributed to op.
func ValidateCommit(op string, c *Commit) error {
	if err := ValidateStream(op, c.Stream); err != nil {
		return err
	}
	if len(c.Events) == 0 || c.Version < 1 {
		return Errorf(KindInvalid, op, "a commit needs at least one event and a version of 1 or more")
	}
	if len(c.Events) > MaxEventsPerCommit || c.Size() > MaxCommitBytes {
		return &Error{Kind: KindTooLarge, Op: op, Stream: c.Stream,
			Message: fmt.Sprintf("commit of %d events and %d bytes exceeds the limits (%d events, %d bytes)", len(c.Events), c.Size(), MaxEventsPerCommit, MaxCommitBytes)}
	}
	return nil
}
