package signal

import (
	"errors"
	"fmt"
)

// Kind classifies an Error. Every error the framework returns to callers
// carries one, so adapters map errors to protocol statuses (HTTP, Lambda) in
// one place by switching on Kind.
type Kind uint8

// The kinds of error. The comment on each says what a caller should do.
const (
	// KindInternal: a bug or an unexpected failure of a dependency. Not the
	// caller's fault; details are for logs, not for clients.
	KindInternal Kind = iota
	// KindInvalid: the request itself is malformed (bad id, bad JSON,
	// negative version). Retrying the same request cannot succeed.
	KindInvalid
	// KindNotFound: the aggregate, view, snapshot or version does not exist.
	KindNotFound
	// KindUnknownType: no aggregate type is registered under the name.
	KindUnknownType
	// KindUnknownCommand: the aggregate type has no command of that name or Go type.
	KindUnknownCommand
	// KindUnknownEvent: a stored or produced event has a name or Go type the
	// registry does not know. A stored one means a deployment removed a
	// type still in the log; it is never silently dropped.
	KindUnknownEvent
	// KindConflict: an optimistic write lost a race and the retry budget ran out.
	KindConflict
	// KindExists: a create found the aggregate already there.
	KindExists
	// KindClosed: the aggregate ended its life (a terminal event); it refuses commands.
	KindClosed
	// KindPrecondition: the caller's expected version (If-Match) is not the current one.
	KindPrecondition
	// KindTooLarge: a commit, snapshot or request exceeds a size limit.
	KindTooLarge
	// KindRejected: the domain's decide refused the command; the message is
	// the domain's and is safe to show to clients.
	KindRejected
	// KindUnavailable: a dependency is throttled, down or out of time; the
	// operation may be retried as a whole. Nothing partial was committed.
	KindUnavailable
	// KindIdempotencyKeyReused: the command id (an HTTP Idempotency-Key)
	// was already used on the aggregate for a different request (another
	// command, or the same command with other content). Nothing was
	// written. Send the new request with a new id; the original request
	// with its id still replays the original outcome.
	KindIdempotencyKeyReused
	// KindForbidden: the caller may not do this: an internal command sent
	// from outside the process (HTTP). Nothing was read or written.
	KindForbidden
)

var kindCodes = [...]string{
	KindInternal:       "internal",
	KindInvalid:        "invalid",
	KindNotFound:       "not_found",
	KindUnknownType:    "unknown_type",
	KindUnknownCommand: "unknown_command",
	KindUnknownEvent:   "unknown_event",
	KindConflict:       "conflict",
	KindExists:         "exists",
	KindClosed:         "closed",
	KindPrecondition:   "precondition_failed",
	KindTooLarge:       "too_large",
	KindRejected:       "rejected",
	KindUnavailable:    "unavailable",

	KindIdempotencyKeyReused: "idempotency_key_reused",
	KindForbidden:            "forbidden",
}

// String returns the stable, snake_case code of the kind, used in API error bodies.
func (k Kind) String() string {
	if int(k) < len(kindCodes) {
		return kindCodes[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the one error type of the framework. Match it with errors.Is
// against the sentinels below (which compare by Kind only) or with errors.As
// to read its fields.
type Error struct {
	Kind Kind
	// Op is the operation that failed, e.g. "handle" or "memstore.append".
	Op string
	// Stream names the aggregate concerned, if any.
	Stream StreamID
	// Message is safe to show to API clients. It never holds text from
	// dependencies (AWS, SQL); that goes in Err.
	Message string
	// Err is the underlying cause, for logs and errors.Is/As chains.
	Err error
}

// Sentinels for errors.Is. They match any *Error of the same Kind.
var (
	ErrInternal       = &Error{Kind: KindInternal}
	ErrInvalid        = &Error{Kind: KindInvalid}
	ErrNotFound       = &Error{Kind: KindNotFound}
	ErrUnknownType    = &Error{Kind: KindUnknownType}
	ErrUnknownCommand = &Error{Kind: KindUnknownCommand}
	ErrUnknownEvent   = &Error{Kind: KindUnknownEvent}
	ErrConflict       = &Error{Kind: KindConflict}
	ErrExists         = &Error{Kind: KindExists}
	ErrClosed         = &Error{Kind: KindClosed}
	ErrPrecondition   = &Error{Kind: KindPrecondition}
	ErrTooLarge       = &Error{Kind: KindTooLarge}
	ErrRejected       = &Error{Kind: KindRejected}
	ErrUnavailable    = &Error{Kind: KindUnavailable}

	ErrIdempotencyKeyReused = &Error{Kind: KindIdempotencyKeyReused}
	ErrForbidden            = &Error{Kind: KindForbidden}
)

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	s := msg
	if e.Stream != (StreamID{}) {
		s = e.Stream.String() + ": " + s
	}
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same Kind. A sentinel
// (no Op, no Message) matches any error of its kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Op == "" && t.Message == ""
}

// KindOf returns the Kind of the first *Error in err's chain, KindInternal
// for any other non-nil error, and KindInternal for nil.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return KindConflict
	}
	return KindInternal
}

// PublicMessage returns the text of err that is safe to show to an API
// client: the Message of its *Error, or the Kind's code when there is none
// or when the error is internal.
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		var ce *ConflictError
		if errors.As(err, &ce) {
			return "the aggregate changed concurrently; try again"
		}
		return "internal error"
	}
	if e.Kind == KindInternal {
		return "internal error"
	}
	if e.Message != "" {
		return e.Message
	}
	return e.Kind.String()
}

// Errorf builds an *Error of the given kind whose formatted message is safe
// to show to clients. Adapters use it for their own typed errors.
func Errorf(kind Kind, op string, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Message: fmt.Sprintf(format, args...)}
}

// ConflictError is returned by Store.Append when a commit already exists at
// the version the new commit wanted: another writer got there first. It matches ErrConflict with errors.Is, and also
// ErrExists when the writer expected an empty stream.
type ConflictError struct {
	Stream StreamID
	// Version is the version the rejected commit would have started at.
	Version int64
	// Existing is the commit found at that version, when the store could
	// return it without another read (DynamoDB's ALL_OLD). The Service folds
	// it instead of re-reading and recognises its own earlier attempt by its
	// CommandID. Nil when the store does not know it.
	Existing *Commit
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: version %d already taken", e.Stream, e.Version)
}

// Is makes a ConflictError match ErrConflict, and ErrExists when the writer
// expected a new stream.
func (e *ConflictError) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Op != "" || t.Message != "" {
		return false
	}
	return t.Kind == KindConflict || (t.Kind == KindExists && e.Version == 1)
}
