package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// request is what every entry point turns its input into; the router
// sees nothing else.
type request struct {
	method string
	// path is the path as received, still percent-encoded, without the
	// API Gateway stage.
	path string
	// query is the raw query string (without '?').
	query  string
	header http.Header // canonical keys
	// body returns the body, or ErrTooLarge beyond max bytes, or
	// ErrInvalid when it cannot be decoded (bad base64). Only routes that
	// take a body call it, so a GET never pays for reading one.
	body      func(max int64) ([]byte, error)
	requestID string
	// gatewayID is API Gateway's own request id when the request id is
	// Lambda's, so the log line can join both.
	gatewayID string
}

// response is what the router answers; each entry point converts it.
type response struct {
	status int
	header http.Header
	body   []byte
}

// exchange collects what one request did, for the log line and OnRequest.
type exchange struct {
	route     string
	typ, id   string
	view      bool
	version   int64
	created   bool
	duplicate bool
	err       error
}

// route is one entry of the routing table.
type route struct {
	method string
	// pattern is "METHOD /literal/{param}/...", the API Gateway route key form.
	pattern string
	// set is the Routes set the route belongs to; 0 means every set.
	set   Routes
	serve func(h *Handler, ctx context.Context, req *request, x *exchange, params []string) *response
	segs  []string // the pattern's path split on '/'
}

func (r *route) enabled(routes Routes) bool { return r.set == 0 || r.set&routes != 0 }

// matches reports whether the raw path segments fit the pattern. A
// parameter matches any segment, even an empty one: the handler then
// answers 400 "missing <param>" rather than 404.
func (r *route) matches(segs []string) bool {
	if len(segs) != len(r.segs) {
		return false
	}
	for i, s := range r.segs {
		if !isParam(s) && s != segs[i] {
			return false
		}
	}
	return true
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// table is the routing table. Order matters only for Patterns.
var table = []route{
	{method: http.MethodPost, pattern: "POST /aggregates/{type}/{id}/{command}", set: CommandRoutes, serve: (*Handler).command},
	{method: http.MethodDelete, pattern: "DELETE /aggregates/{type}/{id}", set: CommandRoutes, serve: (*Handler).end},
	{method: http.MethodGet, pattern: "GET /aggregates/{type}/{id}", set: QueryRoutes, serve: (*Handler).get},
	{method: http.MethodGet, pattern: "GET /aggregates/{type}/{id}/events", set: QueryRoutes, serve: (*Handler).history},
	{method: http.MethodGet, pattern: "GET /views/{view}/{key}", set: QueryRoutes, serve: (*Handler).view},
	{method: http.MethodGet, pattern: "GET /app", set: QueryRoutes, serve: (*Handler).app},
	{method: http.MethodGet, pattern: "GET /healthz", serve: (*Handler).healthz},
}

const preflightRoute = "OPTIONS *"

func init() {
	for i := range table {
		_, path, _ := strings.Cut(table[i].pattern, " ")
		table[i].segs = strings.Split(path[1:], "/")
	}
}

// serve runs one request through the router and finishes it: common
// headers, the log line, OnRequest.
func (h *Handler) serve(ctx context.Context, req *request) *response {
	start := time.Now()
	cold := h.served.CompareAndSwap(false, true)
	if req.header == nil {
		req.header = http.Header{}
	}
	x := &exchange{}
	resp := h.dispatch(ctx, req, x)
	if resp.header == nil {
		resp.header = http.Header{}
	}
	if req.requestID != "" {
		resp.header.Set("X-Request-Id", req.requestID)
	}
	// Browsers must take every answer for what its Content-Type says: a
	// JSON error echoing client input must never be sniffed as HTML.
	resp.header.Set("X-Content-Type-Options", "nosniff")
	if h.cors != nil {
		h.cors.apply(resp.header, req.header.Get("Origin"), x.route == preflightRoute)
	}
	h.record(ctx, req, x, resp, time.Since(start), cold)
	return resp
}

// dispatch matches the route and runs it. A panic (in domain code, say)
// becomes a 500, never a crashed request.
func (h *Handler) dispatch(ctx context.Context, req *request, x *exchange) (resp *response) {
	defer func() {
		if p := recover(); p != nil {
			resp = h.fail(x, &signal.Error{Kind: signal.KindInternal, Op: "httpapi",
				Err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())})
		}
	}()
	if h.cors != nil && req.method == http.MethodOptions {
		x.route = preflightRoute
		return &response{status: http.StatusNoContent, header: http.Header{}}
	}
	r, params, err := h.match(req)
	if err != nil {
		if h.pages != nil && (req.method == http.MethodGet || req.method == http.MethodHead) && errors.Is(err, errNoRoute) {
			return h.page(ctx, req, x)
		}
		return h.fail(x, err)
	}
	x.route = r.pattern
	return r.serve(h, ctx, req, x, params)
}

// match finds the route of the request and its unescaped parameters.
// Errors: 404 when no enabled route has the path, 405 when some have it
// with other methods, 400 for an empty or badly escaped parameter.
func (h *Handler) match(req *request) (*route, []string, error) {
	if req.path == "" || req.path[0] != '/' {
		return nil, nil, notFound(req)
	}
	segs := strings.Split(req.path[1:], "/")
	var found *route
	var allow []string
	for i := range table {
		r := &table[i]
		if !r.enabled(h.routes) || !r.matches(segs) {
			continue
		}
		if r.method == req.method {
			found = r
			break
		}
		allow = append(allow, r.method)
	}
	if found == nil {
		if len(allow) == 0 {
			return nil, nil, notFound(req)
		}
		if h.cors != nil {
			allow = append(allow, http.MethodOptions)
		}
		slices.Sort(allow)
		return nil, nil, &methodError{method: truncate(req.method, maxMethodBytes), allow: slices.Compact(allow)}
	}
	var params []string
	for i, s := range found.segs {
		if !isParam(s) {
			continue
		}
		name := s[1 : len(s)-1]
		if segs[i] == "" {
			return nil, nil, signal.Errorf(signal.KindInvalid, "httpapi", "missing %s", name)
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, nil, signal.Errorf(signal.KindInvalid, "httpapi", "the %s in the path is not validly percent-encoded", name)
		}
		params = append(params, v)
	}
	return found, params, nil
}

// errNoRoute marks the 404 of a path that matches no API route, the
// requests Config.Pages may answer instead.
var errNoRoute = errors.New("no route")

func notFound(req *request) error {
	return &signal.Error{Kind: signal.KindNotFound, Op: "httpapi",
		Message: fmt.Sprintf("no route for %s %s", truncate(req.method, maxMethodBytes), truncate(req.path, maxEchoBytes)), Err: errNoRoute}
}

// pageRoute is the route name of requests answered by Config.Pages.
const pageRoute = "GET /{page}"

// page answers a request with Config.Pages, through an in-memory
// ResponseWriter, so every transport can carry the answer.
func (h *Handler) page(ctx context.Context, req *request, x *exchange) *response {
	x.route = pageRoute
	target := req.path
	if req.query != "" {
		target += "?" + req.query
	}
	r, err := http.NewRequestWithContext(ctx, req.method, target, nil)
	if err != nil {
		return h.fail(x, signal.Errorf(signal.KindInvalid, "httpapi", "malformed path"))
	}
	r.Header = req.header.Clone()
	r.RequestURI = target
	w := &pageWriter{header: http.Header{}}
	h.pages.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &response{status: w.status, header: w.header, body: w.body.Bytes()}
}

// pageWriter is the http.ResponseWriter Config.Pages writes into.
type pageWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *pageWriter) Header() http.Header { return w.header }

func (w *pageWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *pageWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// Bodies.

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

// Handlers.

// command: POST /aggregates/{type}/{id}/{command}.
func (h *Handler) command(ctx context.Context, req *request, x *exchange, p []string) *response {
	x.typ, x.id = p[0], p[1]
	body, err := req.body(h.maxBody)
	if err != nil {
		return h.fail(x, err)
	}
	opts, err := commandOptions(req)
	if err != nil {
		return h.fail(x, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = nil // an empty body is the command {}
	}
	res, err := h.svc.HandleJSON(ctx, p[0], p[1], p[2], body, opts...)
	if err != nil {
		return h.fail(x, err)
	}
	return h.commandResponse(x, res)
}

// end: DELETE /aggregates/{type}/{id}.
func (h *Handler) end(ctx context.Context, req *request, x *exchange, p []string) *response {
	x.typ, x.id = p[0], p[1]
	opts, err := commandOptions(req)
	if err != nil {
		return h.fail(x, err)
	}
	res, err := h.svc.End(ctx, p[0], p[1], opts...)
	if err != nil {
		return h.fail(x, err)
	}
	return h.commandResponse(x, res)
}

func (h *Handler) commandResponse(x *exchange, res signal.Result) *response {
	x.version, x.created, x.duplicate = res.Version, res.Created, res.Duplicate
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	resp := h.reply(x, status, commandBody{Type: res.Type, ID: res.ID, Version: res.Version, State: res.State, Events: wireEvents(res.Events)})
	if resp.status == status {
		resp.header.Set("ETag", etag(res.Version))
		if res.Duplicate {
			resp.header.Set("X-Signal-Duplicate", "true")
		}
	}
	return resp
}

// get: GET /aggregates/{type}/{id}[?version=N].
func (h *Handler) get(ctx context.Context, req *request, x *exchange, p []string) *response {
	x.typ, x.id = p[0], p[1]
	q, err := parseQuery(req.query)
	if err != nil {
		return h.fail(x, err)
	}
	v, at, err := intParam(q, "version", 1)
	if err != nil {
		return h.fail(x, err)
	}
	var st signal.AggregateState
	if at {
		st, err = h.svc.At(ctx, p[0], p[1], v)
	} else {
		st, err = h.svc.Get(ctx, p[0], p[1], signal.Fresh())
	}
	if err != nil {
		return h.fail(x, err)
	}
	x.version = st.Version
	resp := h.reply(x, http.StatusOK, stateBody{Type: st.Type, ID: st.ID, Version: st.Version, State: st.State, Closed: st.Closed})
	if resp.status == http.StatusOK {
		resp.header.Set("ETag", etag(st.Version))
	}
	return resp
}

// history: GET /aggregates/{type}/{id}/events?after=N&limit=M.
func (h *Handler) history(ctx context.Context, req *request, x *exchange, p []string) *response {
	x.typ, x.id = p[0], p[1]
	q, err := parseQuery(req.query)
	if err != nil {
		return h.fail(x, err)
	}
	after, _, err := intParam(q, "after", 0)
	if err != nil {
		return h.fail(x, err)
	}
	limit, _, err := intParam(q, "limit", 1)
	if err != nil {
		return h.fail(x, err)
	}
	page, err := h.svc.History(ctx, p[0], p[1], after, int(min(limit, 1<<20)))
	if err != nil {
		return h.fail(x, err)
	}
	if n := len(page.Events); n > 0 {
		x.version = page.Events[n-1].Version
	}
	return h.reply(x, http.StatusOK, historyBody{Type: p[0], ID: p[1], Events: wireEvents(page.Events), Next: page.Next})
}

// view: GET /views/{view}/{key}.
func (h *Handler) view(ctx context.Context, req *request, x *exchange, p []string) *response {
	x.typ, x.id, x.view = p[0], p[1], true
	v, err := h.svc.View(ctx, p[0], p[1])
	if err != nil {
		return h.fail(x, err)
	}
	x.version = v.Version
	resp := h.reply(x, http.StatusOK, viewBody{View: p[0], Key: p[1], Version: v.Version, Data: v.Data})
	if resp.status == http.StatusOK {
		resp.header.Set("ETag", etag(v.Version))
	}
	return resp
}

// healthz: GET /healthz.
func (h *Handler) healthz(context.Context, *request, *exchange, []string) *response {
	return &response{status: http.StatusOK, header: jsonHeader(), body: []byte(`{"status":"ok"}`)}
}

// Helpers.

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

// reply answers v encoded, or a 500 if it does not encode.
func (h *Handler) reply(x *exchange, status int, v any) *response {
	b, err := json.Marshal(v)
	if err != nil {
		return h.fail(x, &signal.Error{Kind: signal.KindInternal, Op: "httpapi encode", Err: err})
	}
	return &response{status: status, header: jsonHeader(), body: b}
}

// fail records err and answers its JSON error body. A 500 says only
// "internal error"; the error itself goes to the log line.
func (h *Handler) fail(x *exchange, err error) *response {
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
	resp := &response{status: status, header: jsonHeader(), body: b}
	switch status {
	case http.StatusServiceUnavailable:
		resp.header.Set("Retry-After", "1")
	case http.StatusMethodNotAllowed:
		var me *methodError
		if errors.As(err, &me) {
			resp.header.Set("Allow", strings.Join(me.allow, ", "))
		}
	}
	return resp
}

func invalid(format string, args ...any) error {
	return signal.Errorf(signal.KindInvalid, "httpapi", format, args...)
}

// commandOptions reads Idempotency-Key, If-Match and X-Correlation-Id.
// The correlation id defaults to the request id, so the events of a
// command can be traced to the request that caused them.
func commandOptions(req *request) ([]signal.CommandOption, error) {
	var opts []signal.CommandOption
	key, ok, err := singleHeader(req.header, "Idempotency-Key")
	if err != nil {
		return nil, err
	}
	if ok {
		if err := signal.ValidateID(key); err != nil {
			return nil, invalid("invalid Idempotency-Key: %s", signal.PublicMessage(err))
		}
		opts = append(opts, signal.WithCommandID(key))
	}
	im, ok, err := singleHeader(req.header, "If-Match")
	if err != nil {
		return nil, err
	}
	if ok {
		v, err := parseIfMatch(im)
		if err != nil {
			return nil, err
		}
		opts = append(opts, signal.IfVersion(v))
	}
	corr, ok, err := singleHeader(req.header, "X-Correlation-Id")
	if err != nil {
		return nil, err
	}
	if ok {
		if err := signal.ValidateID(corr); err != nil {
			return nil, invalid("invalid X-Correlation-Id: %s", signal.PublicMessage(err))
		}
	} else {
		corr = req.requestID
	}
	if corr != "" && len(corr) <= signal.MaxIDBytes {
		opts = append(opts, signal.WithCorrelation(corr, ""))
	}
	return opts, nil
}

// singleHeader returns a header's one value, trimmed. Repeating the
// header is an error: which value counts would be a guess.
func singleHeader(hdr http.Header, name string) (string, bool, error) {
	vs := hdr.Values(name)
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return strings.TrimSpace(vs[0]), true, nil
	}
	return "", false, invalid("the %s header is given more than once", name)
}

// parseIfMatch reads the version of an If-Match header: "5", 5 or W/"5".
// "0" means the aggregate must not exist yet.
func parseIfMatch(v string) (int64, error) {
	s := v
	quoted := len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
	if rest, weak := strings.CutPrefix(s, "W/"); weak {
		s = rest
		quoted = len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
		if !quoted {
			return 0, invalid(`If-Match must be a version, like "3"`)
		}
	}
	if quoted {
		s = s[1 : len(s)-1]
	}
	n, ok := parseDigits(s)
	if !ok {
		return 0, invalid(`If-Match must be a version, like "3"`)
	}
	return n, nil
}

// parseDigits parses a non-negative decimal integer of plain digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, invalid("the query string is malformed")
	}
	return q, nil
}

// intParam reads an integer query parameter of at least min; ok is
// false when it is absent.
func intParam(q url.Values, name string, min int64) (n int64, ok bool, err error) {
	vs, ok := q[name]
	if !ok {
		return 0, false, nil
	}
	if len(vs) != 1 {
		return 0, false, invalid("%s is given more than once", name)
	}
	n, valid := parseDigits(vs[0])
	if !valid || n < min {
		return 0, false, invalid("%s must be an integer of at least %d", name, min)
	}
	return n, true, nil
}

// record writes the request's log line and calls OnRequest.
func (h *Handler) record(ctx context.Context, req *request, x *exchange, resp *response, d time.Duration, cold bool) {
	info := RequestInfo{
		Method:        truncate(req.method, maxMethodBytes),
		Route:         x.route,
		Path:          truncate(req.path, maxLogBytes),
		Status:        resp.status,
		Duration:      d,
		RequestID:     req.requestID,
		ColdStart:     cold,
		AggregateType: truncate(x.typ, maxLogBytes),
		AggregateID:   truncate(x.id, maxLogBytes),
		Version:       x.version,
		Created:       x.created,
		Duplicate:     x.duplicate,
	}
	if x.err != nil {
		info.ErrorKind = errorCode(x.err)
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("request_id", req.requestID),
		slog.Bool("cold_start", cold),
		slog.String("method", info.Method),
		slog.String("route", x.route),
		slog.String("path", info.Path),
		slog.Int("status", resp.status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	)
	if req.gatewayID != "" && req.gatewayID != req.requestID {
		attrs = append(attrs, slog.String("apigw_request_id", req.gatewayID))
	}
	switch {
	case x.view:
		attrs = append(attrs, slog.String("view", info.AggregateType+"/"+info.AggregateID))
	case x.typ != "":
		attrs = append(attrs, slog.String("aggregate", info.AggregateType+"#"+info.AggregateID))
	}
	if x.version > 0 {
		attrs = append(attrs, slog.Int64("version", x.version))
	}
	if x.created {
		attrs = append(attrs, slog.Bool("created", true))
	}
	if x.duplicate {
		attrs = append(attrs, slog.Bool("duplicate", true))
	}
	level := slog.LevelInfo
	if x.err != nil {
		attrs = append(attrs, slog.String("error_kind", info.ErrorKind), slog.String("error", x.err.Error()))
		if resp.status >= 500 {
			level = slog.LevelError
		}
	}
	h.log().LogAttrs(ctx, level, "http request", attrs...)
	if h.onRequest != nil {
		h.onRequest(ctx, info)
	}
}
