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
	// Actor is who the command was handled for: the Subject of its
	// Principal ("policy:<name>" for a policy's commands), "" when it had
	// none. The audit trail; the Actor of a stream's first commit is the
	// aggregate's owner (Action.Owner). Stores keep it byte for byte.
	Actor string
	Time  time.Time
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
	n := len(c.Stream.Type) + len(c.Stream.ID) + len(c.CommandID) + len(c.Fingerprint) + len(c.CorrelationID) + len(c.CausationID) + len(c.Actor) + 64
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
	// Tenant is the tenant of the aggregate when the Service has Tenancy
	// ("" otherwise); AggregateID is then the id within it.
	Tenant        string    `json:"tenant,omitempty"`
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
	// Actor is the commit's Actor: who the command was handled for.
	Actor string `json:"actor,omitempty"`
	// Data is the payload as the user's Go type (a value of a type
	// registered with Evolve), upcast to the current schema version.
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
	// MaxIDBytes bounds ids: aggregate ids and view keys (ValidateID)
	// and the ids and fingerprint a commit records (ValidateCommit).
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
		if r == '#' || r == '/' || isControl(r) {
			return Errorf(KindInvalid, "", "id contains %q, which ids may not contain", r)
		}
	}
	return nil
}

// isControl reports whether r is a control character: C0 (NUL included),
// DEL or C1. Ids never hold one: they are invisible or rewrite the line
// in logs and consoles, and PostgreSQL text cannot hold NUL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// recordedIDProblem says why s cannot be an id a commit records (command,
// correlation, causation or event id) or its fingerprint, "" when it can:
// at most MaxIDBytes of valid UTF-8 without control characters, and not
// empty when required. Unlike ValidateID it allows '#', '/', "." and "..":
// these ids are never a store key or a path segment, and ids chosen by
// other systems (an Idempotency-Key, a trace id) may hold them.
func recordedIDProblem(s string, required bool) string {
	switch {
	case s == "":
		if required {
			return "it is empty"
		}
		return ""
	case len(s) > MaxIDBytes:
		return fmt.Sprintf("it is longer than %d bytes", MaxIDBytes)
	case !utf8.ValidString(s):
		return "it is not valid UTF-8"
	}
	for _, r := range s {
		if isControl(r) {
			return fmt.Sprintf("it contains the control character %q", r)
		}
	}
	return ""
}

// checkRecordedID refuses s as the named recorded id with ErrInvalid
// attributed to op, nil when recordedIDProblem finds nothing.
func checkRecordedID(op string, stream StreamID, what, s string, required bool) error {
	if p := recordedIDProblem(s, required); p != "" {
		return &Error{Kind: KindInvalid, Op: op, Stream: stream, Message: "invalid " + what + ": " + p}
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

// ValidateCommit checks what every store must refuse before writing
// anything, so that a commit one store takes every store takes. Errors are
// attributed to op and name the field; the first problem found, in this
// order, is returned:
//   - an invalid stream (ValidateStream): ErrInvalid;
//   - no events, or a Version below 1: ErrInvalid;
//   - more than MaxEventsPerCommit events or a Size over MaxCommitBytes:
//     ErrTooLarge;
//   - an empty CommandID, or a CommandID, Fingerprint, CorrelationID or
//     CausationID longer than MaxIDBytes, not valid UTF-8 or holding a
//     control character (NUL included): ErrInvalid. Fingerprint,
//     CorrelationID and CausationID may be empty; '#', '/', "." and ".."
//     are fine in all four (they are never keys or paths);
//   - an event whose ID breaks the same rules (empty included) or whose
//     Name fails ValidateName: ErrInvalid.
//
// nil means the commit may be written. Everything the Service writes
// passes: generated ids are UUIDs, caller-chosen ids are checked with
// the same rules before any I/O, and event names are registered names.
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
	for _, f := range [...]struct {
		what, s  string
		required bool
	}{
		{"command id", c.CommandID, true},
		{"fingerprint", c.Fingerprint, false},
		{"correlation id", c.CorrelationID, false},
		{"causation id", c.CausationID, false},
		{"actor", c.Actor, false},
	} {
		if err := checkRecordedID(op, c.Stream, f.what, f.s, f.required); err != nil {
			return err
		}
	}
	for i := range c.Events {
		e := &c.Events[i]
		if p := recordedIDProblem(e.ID, true); p != "" {
			return &Error{Kind: KindInvalid, Op: op, Stream: c.Stream, Message: fmt.Sprintf("invalid id of event %d: %s", i, p)}
		}
		if err := ValidateName(e.Name); err != nil {
			return &Error{Kind: KindInvalid, Op: op, Stream: c.Stream, Message: fmt.Sprintf("invalid name of event %d: %s", i, PublicMessage(err))}
		}
	}
	return nil
}
