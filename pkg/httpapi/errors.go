package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// methodError is the adapter's own error for a known path asked with a
// method it does not serve (405). It has no signal.Kind.
type methodError struct {
	method string
	allow  []string
}

func (e *methodError) Error() string {
	return fmt.Sprintf("method %s is not allowed here; allowed: %s", e.method, strings.Join(e.allow, ", "))
}

// StatusOf is the one map from errors to HTTP statuses: 200 for nil, 405
// for a method the path does not serve, and otherwise by signal.Kind:
//
//	KindInvalid, KindUnknownCommand   400
//	KindUnauthenticated               401
//	KindForbidden                     403
//	KindNotFound, KindUnknownType     404
//	KindConflict, KindExists          409
//	KindClosed                        410
//	KindPrecondition                  412
//	KindTooLarge                      413
//	KindRejected                      422
//	KindIdempotencyKeyReused          422
//	KindUnsupported                   501
//	KindUnavailable                   503
//	anything else                     500
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var me *methodError
	if errors.As(err, &me) {
		return http.StatusMethodNotAllowed
	}
	switch signal.KindOf(err) {
	case signal.KindInvalid, signal.KindUnknownCommand:
		return http.StatusBadRequest
	case signal.KindUnauthenticated:
		return http.StatusUnauthorized
	case signal.KindForbidden:
		return http.StatusForbidden
	case signal.KindNotFound, signal.KindUnknownType:
		return http.StatusNotFound
	case signal.KindConflict, signal.KindExists:
		return http.StatusConflict
	case signal.KindClosed:
		return http.StatusGone
	case signal.KindPrecondition:
		return http.StatusPreconditionFailed
	case signal.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case signal.KindRejected, signal.KindIdempotencyKeyReused:
		return http.StatusUnprocessableEntity
	case signal.KindUnsupported:
		return http.StatusNotImplemented
	case signal.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorCode is the "code" of an error body: the kind's code, or
// "method_not_allowed" for a 405.
func errorCode(err error) string {
	var me *methodError
	if errors.As(err, &me) {
		return "method_not_allowed"
	}
	return signal.KindOf(err).String()
}

// methodError is the 405 of method on a path whose routes have the
// methods allow (OPTIONS added when CORS answers preflights), sorted.
func (h *Handler) methodError(method string, allow []string) error {
	if h.cors != nil {
		allow = append(allow, http.MethodOptions)
	}
	slices.Sort(allow)
	return &methodError{method: truncate(method, maxMethodBytes), allow: slices.Compact(allow)}
}

func invalid(format string, args ...any) error {
	return signal.Errorf(signal.KindInvalid, "httpapi", format, args...)
}
