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
	// KindNone: no error. It is KindOf(nil), and no Error has it.
	KindNone Kind = iota
	// KindInternal: a bug or an unexpected failure of a dependency. Not the
	// caller's fault; details are for logs, not for clients. It is the
	// kind of every error that is not an *Error.
	KindInternal
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
	// KindForbidden: the caller may not do this: the App's Authorize rule
	// refused it, or it is an internal command sent from outside the
	// process (HTTP). Nothing was written.
	KindForbidden
	// KindUnsupported: the service is not configured for this: its store
	// lacks the ability the operation needs (views, snapshots,
	// checkpoints). Not the caller's fault; retrying cannot succeed until
	// the deployment changes. Nothing was read or written.
	KindUnsupported
	// KindUnauthenticated: the operation needs a caller (a Principal) and
	// the request carried none: the App's Authorize rule said so. Send it
	// again with credentials. Nothing was read or written.
	KindUnauthenticated
)

var kindCodes = [...]string{
	KindNone:           "none",
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
	KindUnsupported:          "unsupported",
	KindUnauthenticated:      "unauthenticated",
}

// String returns the stable, snake_case code of the kind, used in API error bodies.
func (k Kind) String() string {
	if int(k) < len(kindCodes) {
		return kindCodes[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the one error type of the framework: every failure it returns,
// a store's conflict included, is an *Error or wraps one. Match it with
// errors.Is against the sentinels below or with errors.As to read its
// fields.
type Error struct {
	Kind Kind
	// Op is the operation that failed, as package.Operation: the package
	// and the exported function or method the caller called
	// ("memstore.Append", "signal.Handle", "dynstore.CommitViews"), or for
	// a step several of them share, the step ("signal.Load", reading an
	// aggregate's commits; "signal.Decode", decoding stored events).
	Op string
	// Stream names the aggregate concerned, if any.
	Stream StreamID
	// Message is safe to show to API clients. It never holds text from
	// dependencies (AWS, SQL); that goes in Err.
	Message string
	// Conflict is set on the KindConflict error of Store.Append: what the
	// refused commit met. Nil for every other error.
	Conflict *Conflict
	// Err is the underlying cause, for logs and errors.Is/As chains.
	Err error
}

// Conflict is what an append that lost a race met: another writer's
// commit at the version it wanted.
type Conflict struct {
	// Version is the version the refused commit would have started at.
	Version int64
	// Existing is the commit found at that version, when the store could
	// return it without another read (DynamoDB's ALL_OLD). The Service folds
	// it instead of re-reading and recognises its own earlier attempt by its
	// CommandID. Nil when the store does not know it.
	Existing *Commit
}

// AppendConflict is Store.Append's answer when a commit already starts at
// the version of the commit it refused, attributed to op and naming
// stream: ErrConflict, and also ErrExists when version is 1 (the writer
// expected a new stream). existing is the commit found there, or nil when
// the store does not have it without another read.
func AppendConflict(op string, stream StreamID, version int64, existing *Commit) *Error {
	return &Error{Kind: KindConflict, Op: op, Stream: stream,
		Message:  fmt.Sprintf("version %d already taken", version),
		Conflict: &Conflict{Version: version, Existing: existing}}
}

// The sentinels, for errors.Is: each matches every *Error of its Kind.
// They are identity values: only these match a whole kind, so an *Error
// built elsewhere with the same fields matches only itself.
var (
	ErrInternal       = sentinel(KindInternal)
	ErrInvalid        = sentinel(KindInvalid)
	ErrNotFound       = sentinel(KindNotFound)
	ErrUnknownType    = sentinel(KindUnknownType)
	ErrUnknownCommand = sentinel(KindUnknownCommand)
	ErrUnknownEvent   = sentinel(KindUnknownEvent)
	ErrConflict       = sentinel(KindConflict)
	ErrExists         = sentinel(KindExists)
	ErrClosed         = sentinel(KindClosed)
	ErrPrecondition   = sentinel(KindPrecondition)
	ErrTooLarge       = sentinel(KindTooLarge)
	ErrRejected       = sentinel(KindRejected)
	ErrUnavailable    = sentinel(KindUnavailable)

	ErrIdempotencyKeyReused = sentinel(KindIdempotencyKeyReused)
	ErrForbidden            = sentinel(KindForbidden)
	ErrUnsupported          = sentinel(KindUnsupported)
	ErrUnauthenticated      = sentinel(KindUnauthenticated)
)

// sentinels holds the sentinel of each kind, by Kind.
var sentinels [len(kindCodes)]*Error

func sentinel(k Kind) *Error {
	e := &Error{Kind: k}
	sentinels[k] = e
	return e
}

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
	// A domain's refusal carries its error's text as Message already.
	if e.Err != nil {
		if cause := e.Err.Error(); cause != e.Message {
			s += ": " + cause
		}
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Kind, or ErrExists for
// a conflict at version 1 (an append that expected a new stream).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || int(e.Kind) >= len(sentinels) {
		return false
	}
	if t == sentinels[e.Kind] {
		return true
	}
	return t == ErrExists && e.Conflict != nil && e.Conflict.Version == 1
}

// KindOf returns the Kind of the first *Error in err's chain: KindNone for
// nil, KindInternal for an error that holds no *Error.
func KindOf(err error) Kind {
	if err == nil {
		return KindNone
	}
	// errors.AsType, not errors.As: no allocation for the target, and
	// KindOf is on every path that tells a not-found from a failure.
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return KindInternal
}

// ConflictOf returns what the append that failed with err met, when err
// is (or wraps) a conflict of Store.Append: the Conflict of its *Error.
// ok is false for any other error.
func ConflictOf(err error) (c *Conflict, ok bool) {
	if e, ok := errors.AsType[*Error](err); ok && e.Conflict != nil {
		return e.Conflict, true
	}
	return nil, false
}

// PublicMessage returns the text of err that is safe to show to an API
// client: the Message of its *Error, or the Kind's code when there is none
// or when the error is internal.
func PublicMessage(err error) string {
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Kind == KindInternal {
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
