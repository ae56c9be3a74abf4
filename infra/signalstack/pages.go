package signalstack

import (
	"regexp"
	"strings"
)

var (
	literalSegmentRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	varSegmentRE     = regexp.MustCompile(`^\{[A-Za-z_][A-Za-z0-9_]*\+?\}$`)
	varNameRE        = regexp.MustCompile(`\{[^}]*?(\+?)\}`)
)

// checkPageRoutes reports through bad every page route that is not
// "GET|HEAD /path" with valid segments, that repeats another, or that is
// one of the API's routes: API Gateway would refuse the duplicate at
// deploy time, long after synth. Paths are compared with variable names
// erased, since /a/{x} and /a/{y} are the same route to API Gateway.
func checkPageRoutes(routes []string, bad func(string, ...any)) {
	command, query := Routes()
	taken := map[string]string{}
	for _, r := range append(command, query...) {
		taken[routeShape(r)] = "an API route"
	}
	for _, r := range routes {
		method, path, ok := strings.Cut(r, " ")
		if !ok || (method != "GET" && method != "HEAD") {
			bad("PageRoutes %q: want GET or HEAD, a space, then a path, like \"GET /\"", r)
			continue
		}
		if !validPagePath(path) {
			bad("PageRoutes %q: want a path of /segments, {name} for one segment, a last {name+} for the rest", r)
			continue
		}
		if what, dup := taken[routeShape(r)]; dup {
			bad("PageRoutes %q: already %s", r, what)
			continue
		}
		taken[routeShape(r)] = "a page route"
	}
}

// validPagePath: "/" or /seg/seg… of literal or {var} segments, {var+}
// only last.
func validPagePath(path string) bool {
	if path == "/" {
		return true
	}
	if !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return false
	}
	segs := strings.Split(path[1:], "/")
	for i, s := range segs {
		switch {
		case literalSegmentRE.MatchString(s):
		case varSegmentRE.MatchString(s) && (!strings.HasSuffix(s, "+}") || i == len(segs)-1):
		default:
			return false
		}
	}
	return true
}

// routeShape erases variable names: "GET /a/{x}" -> "GET /a/{}".
func routeShape(route string) string {
	return varNameRE.ReplaceAllString(route, "{$1}")
}
