package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// InvokeTimeout bounds an Invoke whose context has no deadline. It covers
// a cold start, which RIE performs inside the first invoke.
const InvokeTimeout = 30 * time.Second

// maxResponse caps what Invoke reads; Lambda's synchronous limit is 6 MB.
const maxResponse = 16 << 20

// FunctionError is an invoke that did not produce a result: the handler
// returned an error, the function crashed, or RIE refused the invoke.
type FunctionError struct {
	// StatusCode is RIE's HTTP status: 200 for an error returned by the
	// handler (RIE, unlike Lambda, sets no X-Amz-Function-Error header, so
	// Invoke recognizes the error document), 502 when the function crashed
	// or failed its init, other codes when RIE refused the invoke.
	StatusCode int
	// Type and Message come from the Lambda error document, when there is one.
	Type, Message string
	Body          json.RawMessage
}

func (e *FunctionError) Error() string {
	if e.Type != "" || e.Message != "" {
		return fmt.Sprintf("function error (HTTP %d): %s: %s", e.StatusCode, e.Type, e.Message)
	}
	return fmt.Sprintf("invoke failed: HTTP %d: %s", e.StatusCode, tail(string(e.Body), 1<<10))
}

// ErrNotRunning is the error (wrapped) of an Invoke on a Function whose RIE
// has exited: stopped, or dead.
var ErrNotRunning = errors.New("RIE is not running")

// Invoke sends event to the function and returns what the handler returned.
// event is marshalled to JSON, except json.RawMessage and []byte, which are
// sent as they are. Invokes wait for each other, as RIE serves one at a
// time. Without a deadline on ctx, InvokeTimeout applies.
//
// Outcomes:
//   - the handler's result and nil;
//   - the body and a *FunctionError when the handler returned an error,
//     the function crashed or failed its init (RIE starts a new process on
//     the next invoke, as Lambda does), or RIE refused the invoke;
//   - an error wrapping ErrNotRunning when RIE has exited (after Stop, say);
//   - an error wrapping ctx's error when ctx ended first. Invoke returns at
//     once, but RIE is still running the invoke (as Lambda would), and the
//     next Invoke waits until it has finished: RIE does not survive an
//     overlapping invoke;
//   - another error when event cannot be marshalled, the answer is larger
//     than 16 MiB, or the HTTP exchange with RIE failed.
func (f *Function) Invoke(ctx context.Context, event any) (json.RawMessage, error) {
	payload, err := marshalEvent(event)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, InvokeTimeout)
		defer cancel()
	}
	select {
	case <-f.done:
		return nil, f.notRunning()
	default:
	}
	select {
	case f.slot <- struct{}{}:
	case <-f.done:
		return nil, f.notRunning()
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: waiting for the previous invoke: %w", f.name, ctx.Err())
	}
	// The request belongs to the Function, not to ctx: it holds the slot
	// until RIE answers, RIE's own function timeout fires, or Stop cancels it.
	answered := make(chan answer, 1)
	go func() {
		defer func() { <-f.slot }()
		answered <- f.post(payload)
	}()
	var a answer
	select {
	case a = <-answered:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: %w (RIE is still running it; the next invoke waits for it)", f.name, ctx.Err())
	}
	if a.err != nil {
		select {
		case <-f.done:
			return nil, fmt.Errorf("invoke %s: %w (%w)", f.name, a.err, f.notRunning())
		default:
		}
		return nil, fmt.Errorf("invoke %s: %w", f.name, a.err)
	}
	if d, ok := errorDocument(a.body); ok || a.status != http.StatusOK {
		return a.body, &FunctionError{StatusCode: a.status, Type: d.Type, Message: d.Message, Body: a.body}
	}
	return a.body, nil
}

func marshalEvent(event any) ([]byte, error) {
	switch e := event.(type) {
	case json.RawMessage:
		return e, nil
	case []byte:
		return e, nil
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	return payload, nil
}

type answer struct {
	status int
	body   []byte
	err    error
}

func (f *Function) post(payload []byte) answer {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return answer{err: fmt.Errorf("read response: %w", err)}
	}
	f.invokes.Add(1)
	if len(body) > maxResponse {
		return answer{err: fmt.Errorf("the answer is larger than %d bytes", maxResponse)}
	}
	return answer{status: resp.StatusCode, body: body}
}

func (f *Function) notRunning() error {
	return fmt.Errorf("invoke %s: %w (%v)", f.name, ErrNotRunning, f.cmd.ProcessState)
}

// Func returns f as a typed handler: its event is marshalled to JSON (as
// Invoke does) and the handler's result is unmarshalled into Out. So a
// function under RIE can stand where an in-process handler of the same
// shape does, e.g. Func[events.SQSEvent, events.SQSEventResponse](fn).
// Its outcomes are Invoke's, plus an error naming the body when the result
// is not JSON that fits Out (Out's zero value comes with every error).
func Func[In, Out any](f *Function) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		var out Out
		raw, err := f.Invoke(ctx, in)
		if err != nil {
			return out, err
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return out, fmt.Errorf("%s answered %s, not a %T: %w", f.name, tail(string(raw), 1<<10), out, err)
		}
		return out, nil
	}
}

type errorDoc struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// errorDocument reports whether body is the runtime's error document: an
// object with errorMessage and errorType and nothing else but a stackTrace.
// The exact shape keeps a handler result that merely has such a field from
// being taken for an error.
func errorDocument(body []byte) (errorDoc, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return errorDoc{}, false
	}
	_, hasMsg := fields["errorMessage"]
	_, hasType := fields["errorType"]
	if !hasMsg || !hasType {
		return errorDoc{}, false
	}
	for k := range fields {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return errorDoc{}, false
		}
	}
	var d errorDoc
	if json.Unmarshal(body, &d) != nil {
		return errorDoc{}, false
	}
	return d, true
}
