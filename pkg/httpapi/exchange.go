package httpapi

import "net/http"

// exchange is one request in flight: the writer its answer goes through
// (the transport's: net/http's, or an eventWriter for Lambda), the
// request's own facts, and what serving it did, for the log line and
// OnRequest. The mux hands it to the routes as their ResponseWriter.
type exchange struct {
	http.ResponseWriter
	// path is the path as received, still percent-encoded, without the
	// API Gateway stage.
	path      string
	requestID string
	// gatewayID is API Gateway's own request id when the request id is
	// Lambda's, so the log line can join both.
	gatewayID string
	body      httpBody
	// discard: a body left unread is read and discarded before the
	// answer (net/http only: see httpBody.discardRest).
	discard bool
	status  int // the status written; 0 until then

	// catching is true while the mux runs and no route has been reached:
	// what the mux writes then (its own plain-text 404 or 405) is kept in
	// caught and caughtHeader, and never sent.
	catching     bool
	caught       int
	caughtHeader http.Header

	route     string
	typ, id   string
	view      bool
	version   int64
	created   bool
	duplicate bool
	err       error
}

// Header returns the answer's header, or while catching a scratch one.
func (x *exchange) Header() http.Header {
	if x.catching {
		if x.caughtHeader == nil {
			x.caughtHeader = http.Header{}
		}
		return x.caughtHeader
	}
	return x.ResponseWriter.Header()
}

// WriteHeader sends the status once, after discarding an unread body.
func (x *exchange) WriteHeader(status int) {
	if x.catching {
		if x.caught == 0 {
			x.caught = status
		}
		return
	}
	if x.status != 0 {
		return
	}
	x.status = status
	if x.discard {
		x.body.discardRest(x.ResponseWriter)
	}
	x.ResponseWriter.WriteHeader(status)
}

// Write sends the status 200 if none was, then b.
func (x *exchange) Write(b []byte) (int, error) {
	if x.catching {
		return len(b), nil
	}
	x.WriteHeader(http.StatusOK)
	return x.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the transport's writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// Flush sends the status 200 if none was, then flushes the transport's
// writer, where it can.
func (x *exchange) Flush() {
	if x.catching {
		return
	}
	x.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(x.ResponseWriter).Flush()
}
