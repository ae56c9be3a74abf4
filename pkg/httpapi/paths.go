package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// http.ServeMux answers some paths itself: it redirects a path with an
// empty, "." or ".." segment to its cleaned form (/aggregates/cart//AddItem
// to /aggregates/cart/AddItem), and it cannot be handed a path that is
// not validly percent-encoded (which only Lambda events carry). The API
// answers those paths in JSON instead, never with a redirect: they are
// matched here by their shape, segment by segment, as the mux would
// match them, and a route of their shape answers them (400 "missing id"
// for an empty parameter, 400 for a bad escape, the route's own check
// for "." and ".."). HEAD requests are routed here too: the mux serves
// HEAD with a GET route, but the API serves no HEAD (405, or a page).

// muxSafe reports whether the mux may route path: it starts with '/', and
// no segment is empty (the path "/" aside), "." or "..", or holds an
// invalid percent escape.
func muxSafe(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	if path == "/" {
		return true
	}
	for rest := path[1:]; ; {
		seg, more, found := strings.Cut(rest, "/")
		if seg == "" || seg == "." || seg == ".." || !validEscapes(seg) {
			return false
		}
		if !found {
			return true
		}
		rest = more
	}
}

// validEscapes reports whether every '%' in s starts a two-digit hex escape.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		s = s[i+3:]
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// routeByShape routes a request the mux must not see (above): the first
// enabled route of the path's shape and the request's method answers,
// with the path's segments as its parameters. Without one, it is a 405
// when routes of that shape have other methods, otherwise a 404.
func (h *Handler) routeByShape(x *exchange, r *http.Request) {
	if x.path == "" || x.path[0] != '/' {
		h.noRoute(x, r, nil)
		return
	}
	segs := strings.Split(x.path[1:], "/")
	var allow []string
	for _, rt := range h.enabled {
		if !fits(rt.segs, segs) {
			continue
		}
		if rt.method != r.Method {
			allow = append(allow, rt.method)
			continue
		}
		if err := setParams(r, rt.segs, segs); err != nil {
			h.fail(x, err)
			return
		}
		r.Pattern = rt.pattern
		h.route(x, r, rt)
		return
	}
	h.noRoute(x, r, allow)
}

// fits reports whether the raw path segments have the pattern's shape. A
// parameter fits any segment, even an empty one: setParams then answers
// 400 "missing <param>" rather than 404. A literal fits its segment
// unescaped, as in the mux (/%61pp is /app, RFC 3986 section 6.2.2.2).
func fits(pattern, segs []string) bool {
	if len(segs) != len(pattern) {
		return false
	}
	for i, s := range pattern {
		if isParam(s) {
			continue
		}
		if seg, err := url.PathUnescape(segs[i]); err != nil || seg != s {
			return false
		}
	}
	return true
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// setParams sets the request's path values from the segments, unescaped.
// An empty segment or a bad escape is a 400 naming the parameter.
func setParams(r *http.Request, pattern, segs []string) error {
	for i, s := range pattern {
		if !isParam(s) {
			continue
		}
		name := s[1 : len(s)-1]
		if segs[i] == "" {
			return invalid("missing %s", name)
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return invalid("the %s in the path is not validly percent-encoded", name)
		}
		r.SetPathValue(name, v)
	}
	return nil
}
