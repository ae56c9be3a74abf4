package signal

import (
	"context"
	"fmt"
)

// stateRefusal is the precondition a command fails on an aggregate at version
// (closed when it has ended), or nil: ErrClosed, ErrExists (Create on an
// aggregate that exists), ErrNotFound (no aggregate yet and the command
// may not create it), ErrPrecondition (IfVersion names another version),
// checked in that order. It reads nothing: whether the refusal stands is
// confirm's to say.
func stateRefusal(stream StreamID, version int64, closed bool, o *commandOptions, genesis bool) error {
	switch {
	case closed:
		return closedError(stream, nil)
	case o.create && version > 0:
		return &Error{Kind: KindExists, Op: "signal.Create", Stream: stream, Message: fmt.Sprintf("%s %s already exists", stream.Type, stream.ID)}
	case version == 0 && !genesis && !o.create:
		return &Error{Kind: KindNotFound, Op: "signal.Handle", Stream: stream, Message: fmt.Sprintf("%s %s does not exist", stream.Type, stream.ID)}
	case o.ifVersion >= 0 && version != o.ifVersion:
		return &Error{Kind: KindPrecondition, Op: "signal.Handle", Stream: stream, Message: fmt.Sprintf("%s %s is at version %d, not %d", stream.Type, stream.ID, version, o.ifVersion)}
	}
	return nil
}

// closedError is the refusal of a command on an ended aggregate; err, if
// not nil, is the store's word for it.
func closedError(stream StreamID, err error) error {
	return &Error{Kind: KindClosed, Op: "signal.Handle", Stream: stream, Message: fmt.Sprintf("%s %s is closed", stream.Type, stream.ID), Err: err}
}

// confirm settles a refusal (of stateRefusal, or the domain's ErrRejected)
// resting on the run's state. It stands when the state was read from the
// store in this run. A pooled state may be stale, and a refusal writes
// nothing that would reveal it, so otherwise confirm catches up with the
// newer commits and asks for another attempt (again), which decides on
// the state as it is now. A failed catch-up is the outcome instead.
func (r *commandRun) confirm(ctx context.Context, refused error) (again bool, err error) {
	if r.fresh {
		return false, refused
	}
	if err := r.s.catchUp(ctx, r.t, r.e); err != nil {
		return false, err
	}
	r.fresh = true
	return true, nil
}
