package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

// Routes selects which routes a Handler serves, so one binary can be
// deployed as a command function and a query function.
type Routes uint8

const (
	// CommandRoutes: POST /aggregates/{type}/{id}/{command} and
	// DELETE /aggregates/{type}/{id}.
	CommandRoutes Routes = 1 << iota
	// QueryRoutes: GET /aggregates/{type}/{id}, GET
	// /aggregates/{type}/{id}/events, GET /views/{view}/{key} and GET
	// /app (the app's description).
	QueryRoutes
	// AllRoutes serves both sets (signal dev, a single function).
	AllRoutes = CommandRoutes | QueryRoutes
)

// Patterns returns the route patterns of the set, in the form API Gateway
// route keys take ("POST /aggregates/{type}/{id}/{command}"), for
// infrastructure code that declares the routes. GET /healthz is in both sets.
func (r Routes) Patterns() []string {
	if r == 0 {
		r = AllRoutes
	}
	var out []string
	for i := range table {
		if table[i].set == 0 || table[i].set&r != 0 {
			out = append(out, table[i].pattern)
		}
	}
	return out
}

// CORS configures cross-origin access for browsers.
type CORS struct {
	// AllowOrigins lists the origins allowed, e.g. "https://shop.example";
	// "*" allows any origin. An allowed Origin is echoed back.
	AllowOrigins []string
	// AllowHeaders adds request headers to the ones always allowed
	// (Content-Type, Idempotency-Key, If-Match, X-Correlation-Id).
	AllowHeaders []string
	// MaxAge is how long a browser may cache a preflight answer. 0 sends none.
	MaxAge time.Duration
}

// RequestInfo describes one served request, for OnRequest (metrics).
// Fields taken from the request (Method, Path, AggregateType,
// AggregateID) are cut to 256 bytes (Method to 32), ending in "…" when
// cut, as in the log line.
type RequestInfo struct {
	Method string
	// Route is the matched pattern, e.g. "POST /aggregates/{type}/{id}/{command}";
	// empty when no route matched (404, 405).
	Route string
	// Path is the request path as received (still escaped), without the stage.
	Path      string
	Status    int
	Duration  time.Duration
	RequestID string
	// ColdStart is true for the first request the Handler serves.
	ColdStart bool
	// AggregateType and AggregateID name the aggregate of an aggregate
	// route (for views: the view name and key).
	AggregateType, AggregateID string
	// Version is the aggregate's (or view document's) version in the answer.
	Version int64
	// Created and Duplicate are a command's Result flags.
	Created, Duplicate bool
	// ErrorKind is the error code of a failed request ("rejected",
	// "not_found", "method_not_allowed"...), empty on success.
	ErrorKind string
}

// Config configures a Handler. Only Service is required.
type Config struct {
	Service *signal.Service
	// Routes is the set of routes served; 0 means AllRoutes. A route not
	// enabled answers 404 like an unknown path.
	Routes Routes
	// MaxBodyBytes bounds a request body; 0 means 1 MiB. Larger bodies get 413.
	MaxBodyBytes int64
	// CORS, when set, adds CORS headers to every response and answers
	// OPTIONS preflights with 204. Nil sends no CORS headers.
	CORS *CORS
	// Logger receives one structured line per request. Nil means slog.Default().
	Logger *slog.Logger
	// OnRequest, if set, is called after each request (metrics).
	OnRequest func(ctx context.Context, info RequestInfo)
	// Pages, if set, answers GET and HEAD requests whose path matches no
	// API route: a web page and its assets, served by the same functions
	// and through every transport (a Lambda answer carries its body as
	// text, so pages should be text: HTML, JS, CSS, SVG).
	Pages http.Handler
	// AppName is the app's name in GET /app (signal.App.Name).
	AppName string
	// Views are the view names GET /app lists. Nil means the names of
	// the Service's projections (ProjectionNames); a query function,
	// whose Service runs no subscribers, sets it from the app's.
	Views []string
}

// DefaultMaxBodyBytes is the body limit when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Handler serves the HTTP API of a Service from API Gateway (REST API,
// payload v1; HTTP API, payload v2), Lambda function URLs and net/http.
// It is safe for concurrent use; create one per process.
type Handler struct {
	svc       *signal.Service
	routes    Routes
	maxBody   int64
	cors      *corsPolicy
	logger    *slog.Logger
	onRequest func(context.Context, RequestInfo)
	pages     http.Handler
	appJSON   []byte // the body of GET /app
	served    atomic.Bool
}

// New validates cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil {
		return nil, errors.New("httpapi.New: Config.Service is nil")
	}
	if cfg.Routes&^AllRoutes != 0 {
		return nil, fmt.Errorf("httpapi.New: unknown Routes bits %#x", uint8(cfg.Routes&^AllRoutes))
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("httpapi.New: MaxBodyBytes is negative (%d)", cfg.MaxBodyBytes)
	}
	h := &Handler{
		svc:       cfg.Service,
		routes:    cfg.Routes,
		maxBody:   cfg.MaxBodyBytes,
		logger:    cfg.Logger,
		onRequest: cfg.OnRequest,
		pages:     cfg.Pages,
	}
	if h.routes == 0 {
		h.routes = AllRoutes
	}
	app, err := json.Marshal(describeApp(cfg.AppName, cfg.Service, cfg.Views))
	if err != nil { // cannot happen: names, bools and numbers
		return nil, fmt.Errorf("httpapi.New: describing the app: %w", err)
	}
	h.appJSON = app
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if cfg.CORS != nil {
		p, err := newCORSPolicy(cfg.CORS, h.routes)
		if err != nil {
			return nil, err
		}
		h.cors = p
	}
	return h, nil
}

func (h *Handler) log() *slog.Logger {
	if h.logger != nil {
		return h.logger
	}
	return slog.Default()
}

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
//	KindForbidden                     403
//	KindNotFound, KindUnknownType     404
//	KindConflict, KindExists          409
//	KindClosed                        410
//	KindPrecondition                  412
//	KindTooLarge                      413
//	KindRejected                      422
//	KindIdempotencyKeyReused          422
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

// corsPolicy is a CORS config with its header values computed once.
type corsPolicy struct {
	any           bool
	origins       map[string]bool
	allowMethods  string
	allowHeaders  string
	exposeHeaders string
	maxAge        string
}

func newCORSPolicy(c *CORS, routes Routes) (*corsPolicy, error) {
	if len(c.AllowOrigins) == 0 {
		return nil, errors.New("httpapi.New: CORS.AllowOrigins is empty")
	}
	if c.MaxAge < 0 {
		return nil, errors.New("httpapi.New: CORS.MaxAge is negative")
	}
	p := &corsPolicy{origins: map[string]bool{}}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			p.any = true
			continue
		}
		if o == "" || strings.ContainsAny(o, " ,\r\n") {
			return nil, fmt.Errorf("httpapi.New: invalid CORS origin %q", o)
		}
		p.origins[o] = true
	}
	headers := []string{"Content-Type", "Idempotency-Key", "If-Match", "X-Correlation-Id"}
	seen := map[string]bool{}
	for _, hd := range headers {
		seen[strings.ToLower(hd)] = true
	}
	for _, hd := range c.AllowHeaders {
		if !validToken(hd) {
			return nil, fmt.Errorf("httpapi.New: invalid CORS header name %q", hd)
		}
		if !seen[strings.ToLower(hd)] {
			seen[strings.ToLower(hd)] = true
			headers = append(headers, hd)
		}
	}
	p.allowHeaders = strings.Join(headers, ", ")
	p.allowMethods = strings.Join(methodsOf(routes), ", ")
	p.exposeHeaders = "ETag, X-Signal-Duplicate, X-Request-Id, Retry-After"
	if c.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(c.MaxAge/time.Second), 10)
	}
	return p, nil
}

// methodsOf lists the methods the enabled routes use, plus OPTIONS.
func methodsOf(routes Routes) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		for i := range table {
			if table[i].method == m && table[i].enabled(routes) {
				out = append(out, m)
				break
			}
		}
	}
	return append(out, http.MethodOptions)
}

// validToken reports whether s is an HTTP token (a header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// apply adds the CORS headers for the request's Origin.
func (p *corsPolicy) apply(hdr http.Header, origin string, preflight bool) {
	switch {
	case p.any:
		hdr.Set("Access-Control-Allow-Origin", "*")
	case origin != "" && p.origins[origin]:
		hdr.Set("Access-Control-Allow-Origin", origin)
	}
	hdr.Set("Vary", "Origin")
	hdr.Set("Access-Control-Allow-Methods", p.allowMethods)
	hdr.Set("Access-Control-Allow-Headers", p.allowHeaders)
	hdr.Set("Access-Control-Expose-Headers", p.exposeHeaders)
	if preflight && p.maxAge != "" {
		hdr.Set("Access-Control-Max-Age", p.maxAge)
	}
}
