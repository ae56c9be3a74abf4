package httpapi

import (
	"net/http"
	"strings"
)

// route is one entry of the routing table.
type route struct {
	method string
	// pattern is "METHOD /literal/{param}/...": an http.ServeMux pattern
	// and an API Gateway route key at once.
	pattern string
	// set is the Routes set the route belongs to; 0 means every set.
	set Routes
	// serve answers the request; its parameters are r.PathValue's.
	serve func(h *Handler, x *exchange, r *http.Request)
	segs  []string // the pattern's path split on '/'
}

func (r *route) enabled(routes Routes) bool { return r.set == 0 || r.set&routes != 0 }

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

func init() {
	for i := range table {
		_, path, _ := strings.Cut(table[i].pattern, " ")
		table[i].segs = strings.Split(path[1:], "/")
	}
}

// newMux registers the routes enabled on h. The mux hands each route the
// writer it was given, which is always the request's *exchange (see
// Handler.route).
func newMux(h *Handler) (*http.ServeMux, []*route) {
	mux := http.NewServeMux()
	var enabled []*route
	for i := range table {
		rt := &table[i]
		if !rt.enabled(h.routes) {
			continue
		}
		enabled = append(enabled, rt)
		mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			x := w.(*exchange)
			x.catching = false
			h.route(x, r, rt)
		})
	}
	return mux, enabled
}

// route runs rt for a request it matched.
func (h *Handler) route(x *exchange, r *http.Request, rt *route) {
	x.route = rt.pattern
	rt.serve(h, x, r)
}
