package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// The bodies the routes answer.

type commandBody struct {
	Type    string         `json:"type"`
	ID      string         `json:"id"`
	Version int64          `json:"version"`
	State   any            `json:"state"`
	Events  []signal.Event `json:"events"`
}

type stateBody struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Version int64  `json:"version"`
	State   any    `json:"state"`
	Closed  bool   `json:"closed"`
}

type historyBody struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Events []signal.Event `json:"events"`
	Next   int64          `json:"next,omitempty"`
}

type viewBody struct {
	View    string          `json:"view"`
	Key     string          `json:"key"`
	Version int64           `json:"version"`
	Data    json.RawMessage `json:"data"`
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// wireEvents returns events as the API shows them: times in UTC, to the
// millisecond. Stores keep times to the millisecond (DynamoDB), so a
// duplicate, read back from the store, answers byte for byte like the
// original command did.
func wireEvents(evs []signal.Event) []signal.Event {
	out := make([]signal.Event, len(evs))
	for i, e := range evs {
		e.Time = e.Time.UTC().Truncate(time.Millisecond)
		out[i] = e
	}
	return out
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

func jsonHeader() http.Header {
	return http.Header{"Content-Type": []string{"application/json"}}
}

// writeJSON writes a JSON answer.
func writeJSON(x *exchange, status int, b []byte) {
	x.Header().Set("Content-Type", "application/json")
	x.WriteHeader(status)
	_, _ = x.Write(b)
}

// reply writes v encoded with status and the headers hdr (name, value,
// name, value...); a v that does not encode is a 500 instead, without them.
func (h *Handler) reply(x *exchange, status int, v any, hdr ...string) {
	b, err := json.Marshal(v)
	if err != nil {
		h.fail(x, &signal.Error{Kind: signal.KindInternal, Op: "httpapi.ServeHTTP", Err: err})
		return
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		x.Header().Set(hdr[i], hdr[i+1])
	}
	writeJSON(x, status, b)
}

// fail records err and answers its JSON error body. A 500 says only
// "internal error"; the error itself goes to the log line.
func (h *Handler) fail(x *exchange, err error) {
	x.err = err
	status := StatusOf(err)
	msg := signal.PublicMessage(err)
	switch status {
	case http.StatusInternalServerError:
		msg = "internal error"
	case http.StatusMethodNotAllowed:
		// methodError has no signal.Kind, so PublicMessage cannot name it.
		msg = "method not allowed"
	}
	b, merr := json.Marshal(errorBody{Error: errorDetail{Code: errorCode(err), Message: msg}})
	if merr != nil { // cannot happen: two strings
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	switch status {
	case http.StatusServiceUnavailable:
		x.Header().Set("Retry-After", "1")
	case http.StatusMethodNotAllowed:
		var me *methodError
		if errors.As(err, &me) {
			x.Header().Set("Allow", strings.Join(me.allow, ", "))
		}
	}
	writeJSON(x, status, b)
}
