package signal

import (
	"context"
	"errors"
)

// storeError gives a store failure a Kind, keeping typed errors as they are.
func storeError(op string, stream StreamID, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return unavailable(op, stream, err)
	}
	return &Error{Kind: KindInternal, Op: op, Stream: stream, Err: err}
}

func unavailable(op string, stream StreamID, err error) error {
	return &Error{Kind: KindUnavailable, Op: op, Stream: stream, Message: "the store is unavailable; try again", Err: err}
}

// withStream names stream in a typed error that names none.
func withStream(err error, stream StreamID) error {
	var se *Error
	if errors.As(err, &se) && se.Stream == (StreamID{}) {
		cp := *se
		cp.Stream = stream
		return &cp
	}
	return err
}
