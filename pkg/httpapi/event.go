package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/signalforgo/signal/pkg/signal"
)

// A Lambda event becomes an *http.Request and its answer comes back
// through an eventWriter, so the routes and Config.Pages serve every
// transport the same way, as aws-lambda-go's lambdaurl does for function
// URLs. The answer is buffered: Lambda takes it whole.

// eventRequest is what every kind of event carries, in one shape.
type eventRequest struct {
	method string
	// path is the path as the event gives it (percent-encoded except
	// from HTTP APIs), without the stage; query is raw, without '?'.
	path, query string
	header      http.Header // canonical keys
	body        string
	base64      bool
	// gatewayID is API Gateway's (or the function URL's) request id.
	gatewayID string
	sourceIP  string
	// principal is the caller the event's request context holds (nil:
	// anonymous), the only one the request gets.
	principal *signal.Principal
}

// serveEvent serves an event and returns its answer.
func (h *Handler) serveEvent(ctx context.Context, ev eventRequest) *eventWriter {
	w := &eventWriter{header: http.Header{}}
	h.serve(w, newRequest(ctx, ev), ev.path, ev.gatewayID, false)
	return w
}

// newRequest builds the *http.Request of an event. Its URL holds the path
// when it can; a path it cannot hold (a bad percent escape) is routed by
// the escaped path serve is given, never by the URL.
func newRequest(ctx context.Context, ev eventRequest) *http.Request {
	u := &url.URL{Path: ev.path, RawQuery: ev.query}
	if p, err := url.PathUnescape(ev.path); err == nil {
		u.Path, u.RawPath = p, ev.path
	}
	uri := ev.path
	if ev.query != "" {
		uri += "?" + ev.query
	}
	r := &http.Request{
		Method: ev.method, URL: u, RequestURI: uri,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: ev.header, Host: ev.header.Get("Host"), RemoteAddr: ev.sourceIP,
		Body: http.NoBody,
	}
	if ev.body != "" {
		r.Body, r.ContentLength = eventBody(ev.body, ev.base64)
	}
	if ev.principal != nil || signal.PrincipalFrom(ctx) != nil {
		// The event alone says who the caller is, whatever ctx carried.
		ctx = signal.WithPrincipal(ctx, ev.principal)
	}
	return r.WithContext(ctx)
}

// eventBody is an event's body as a request body, decoding base64 when
// the event says so, and its length (-1 when the base64 is malformed in
// length, which reading it then reports). The length is the decoded one,
// so the body limit applies to the decoded body and is checked before
// any decoding.
func eventBody(body string, isBase64 bool) (io.ReadCloser, int64) {
	if !isBase64 {
		return io.NopCloser(strings.NewReader(body)), int64(len(body))
	}
	n := int64(-1)
	if pad := len(body) - len(strings.TrimRight(body, "=")); len(body)%4 == 0 && pad <= 2 {
		n = int64(len(body)/4*3 - pad)
	}
	return io.NopCloser(base64Reader{base64.NewDecoder(base64.StdEncoding, strings.NewReader(body))}), n
}

// base64Reader reports malformed base64 as the client's error (400).
type base64Reader struct{ r io.Reader }

func (b base64Reader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		err = invalid("the request body is flagged base64 but is not valid base64")
	}
	return n, err
}

// eventWriter is the http.ResponseWriter an event's answer is written to.
type eventWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *eventWriter) Header() http.Header { return w.header }

func (w *eventWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *eventWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// flatHeaders joins each header's values, for Lambda responses.
func flatHeaders(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, vs := range h {
		m[k] = strings.Join(vs, ", ")
	}
	return m
}

// requestID returns the id of the request: the Lambda request id when the
// context has one (gw then keeps API Gateway's own id, for the log), else
// API Gateway's id, else a new one.
func requestID(ctx context.Context, gateway string) (id, gw string) {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID, gateway
	}
	if gateway != "" {
		return gateway, ""
	}
	return signal.NewID(), ""
}

// headersOf builds a canonical http.Header from an event's headers,
// preferring the multi-value form when the event has it.
func headersOf(single map[string]string, multi map[string][]string) http.Header {
	h := make(http.Header, max(len(single), len(multi)))
	if len(multi) > 0 {
		for k, vs := range multi {
			ck := textproto.CanonicalMIMEHeaderKey(k)
			h[ck] = append(h[ck], vs...)
		}
		return h
	}
	for k, v := range single {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		h[ck] = append(h[ck], v)
	}
	return h
}

// stripStage removes a leading "/<stage>" from an HTTP API path: with a
// named stage (not "$default") rawPath starts with it.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	p := "/" + stage
	if path == p {
		return "/"
	}
	if strings.HasPrefix(path, p+"/") {
		return path[len(p):]
	}
	return path
}
