package httpapi

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

var _ http.Handler = (*Handler)(nil)

// ServeHTTP serves the API on net/http (signal dev, tests). Each request
// gets a generated id, returned in the X-Request-Id header. A body left
// unread (too large, or sent where none is taken) is read and discarded,
// up to 8 MiB within 5 s, before the answer is written, so a client
// still sending it gets to read the answer instead of a connection reset.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, r.URL.EscapedPath(), "", true)
}

// serve is every transport's way in: it answers r through w, path being
// the escaped path as received (which a Lambda event's URL may not be
// able to hold) and gateway API Gateway's request id, if any. It sets
// the headers every answer carries, routes, and finishes with the log
// line and OnRequest.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, path, gateway string, discard bool) {
	start := time.Now()
	cold := h.served.CompareAndSwap(false, true)
	x := &exchange{ResponseWriter: w, path: path, body: httpBody{r: r}, discard: discard}
	x.requestID, x.gatewayID = requestID(r.Context(), gateway)
	hdr := w.Header()
	hdr.Set("X-Request-Id", x.requestID)
	// Browsers must take every answer for what its Content-Type says: a
	// JSON error echoing client input must never be sniffed as HTML.
	hdr.Set("X-Content-Type-Options", "nosniff")
	preflight := h.cors != nil && r.Method == http.MethodOptions
	if h.cors != nil {
		h.cors.apply(hdr, r.Header.Get("Origin"), preflight)
	}
	h.dispatch(x, r, preflight)
	if x.status == 0 { // a page that wrote nothing
		x.WriteHeader(http.StatusOK)
	}
	h.record(r.Context(), r, x, time.Since(start), cold)
}

// preflightRoute is the route name of CORS preflights.
const preflightRoute = "OPTIONS *"

// dispatch routes the request. A panic (in domain code, say) becomes a
// 500, never a crashed request, if nothing was written yet.
func (h *Handler) dispatch(x *exchange, r *http.Request, preflight bool) {
	defer func() {
		if p := recover(); p != nil {
			x.catching = false
			err := &signal.Error{Kind: signal.KindInternal, Op: "httpapi.ServeHTTP",
				Err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
			if x.status != 0 {
				x.err = err
				return
			}
			h.fail(x, err)
		}
	}()
	switch {
	case preflight:
		x.route = preflightRoute
		x.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodHead || !muxSafe(x.path) || r.URL.EscapedPath() != x.path:
		h.routeByShape(x, r)
	default:
		h.routeByMux(x, r)
	}
}

// routeByMux routes a request with the mux. When no route matches, the
// mux's own answer is caught, not sent: a 405 keeps its Allow list, and
// both become the API's JSON answer (or a page).
func (h *Handler) routeByMux(x *exchange, r *http.Request) {
	x.catching = true
	h.mux.ServeHTTP(x, r)
	if !x.catching {
		return // a route answered
	}
	x.catching = false
	var allow []string
	if x.caught == http.StatusMethodNotAllowed {
		// The mux adds HEAD beside GET; the API serves no HEAD.
		for _, m := range strings.Split(x.caughtHeader.Get("Allow"), ", ") {
			if m != http.MethodHead && m != "" {
				allow = append(allow, m)
			}
		}
	}
	h.noRoute(x, r, allow)
}

// pageRoute is the route name of requests answered by Config.Pages.
const pageRoute = "GET /{page}"

// noRoute answers a request no route serves: a 405 when routes of its
// path have other methods (allow), else Config.Pages for a GET or HEAD,
// else a 404.
func (h *Handler) noRoute(x *exchange, r *http.Request, allow []string) {
	switch {
	case len(allow) > 0:
		h.fail(x, h.methodError(r.Method, allow))
	case h.pages != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(x.path, "/"):
		x.route = pageRoute
		h.pages.ServeHTTP(x, r)
	default:
		h.fail(x, &signal.Error{Kind: signal.KindNotFound, Op: "httpapi.ServeHTTP",
			Message: fmt.Sprintf("no route for %s %s", truncate(r.Method, maxMethodBytes), truncate(x.path, maxEchoBytes))})
	}
}
