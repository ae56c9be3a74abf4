package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
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
	// Auth says how the Lambda adapters read the caller (a
	// signal.Principal) from what API Gateway or the function URL
	// verified: the tenant and groups claims. ServeHTTP takes the
	// principal its request's context carries, which only a middleware
	// puts there (InsecureDevPrincipal, or the user's own).
	Auth AuthConfig
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
	auth      AuthConfig
	appJSON   func() []byte // the body of GET /app, built at its first request
	// mux routes the clean paths of the enabled routes; enabled is the
	// same routes in table order, for the paths the mux must not see.
	mux     *http.ServeMux
	enabled []*route
	served  atomic.Bool
}

// New validates cfg and returns a Handler. It returns an error, and no
// Handler, when Service is nil, Routes has unknown bits, MaxBodyBytes is
// negative, or CORS is set with no origin, an invalid origin or header
// name, or a negative MaxAge.
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
		auth:      cfg.Auth,
	}
	if h.routes == 0 {
		h.routes = AllRoutes
	}
	h.mux, h.enabled = newMux(h)
	// Built at the first GET /app, not here: New runs in every Lambda
	// function's init, and most never answer GET /app.
	h.appJSON = sync.OnceValue(func() []byte {
		b, _ := json.Marshal(describeApp(cfg.AppName, cfg.Service, cfg.Views)) // cannot fail: names, bools and numbers
		return b
	})
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
