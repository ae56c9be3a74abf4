package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// LocalOptions configures LocalGuard.
type LocalOptions struct {
	// Addr is the address the server listens on ("127.0.0.1:8080",
	// ln.Addr().String()); its host is served like the loopback names
	// (also 0.0.0.0 or ::, as a URL printed from the address has it).
	// Listening on every interface serves other machines only under the
	// names in AllowHosts.
	Addr string
	// AllowHosts are more host names (or IP addresses) served, matched
	// without case and whatever the port, e.g. "myapp.localtest" for a
	// name in /etc/hosts. A port given with one is ignored.
	AllowHosts []string
	// AllowOrigins are origins, besides the server's own, whose pages may
	// call the API, e.g. "http://localhost:3000" for a front end served
	// by another dev server. Matched without case; there is no wildcard.
	AllowOrigins []string
	// Logger gets a line per refused request. Nil means slog.Default().
	Logger *slog.Logger
}

// LocalGuard protects an API served on a developer's machine (signal dev,
// or a user's own local server) from the web pages its user opens. A
// page on any site can send requests to 127.0.0.1 and, by rebinding its
// own DNS name to 127.0.0.1, read the answers. LocalGuard refuses, before
// next runs, with the API's JSON error and X-Request-Id and nosniff, and
// with a log line:
//
//   - 421 misdirected_request: a Host that is not a loopback name
//     (localhost, 127.0.0.0/8, ::1), the host of Addr or one of
//     AllowHosts, whatever the port. A rebound DNS name arrives as its
//     own Host, so this stops pages from reading the API.
//   - 403 forbidden: an Origin header (browsers send it on every
//     cross-origin request and every POST) that is not the server's own
//     origin (the scheme and the Host of the request) or one of
//     AllowOrigins. This stops pages on other origins from writing.
//   - 415 unsupported_media_type: a request other than GET, HEAD and
//     OPTIONS (the commands: POST and DELETE) without Content-Type:
//     application/json (parameters such as charset are fine), whether
//     or not it has a body. An HTML form or a "simple" cross-site
//     request cannot send that type without a CORS preflight, so no
//     older browser that omits Origin can run a command either, not even
//     a bodiless one such as CompletePurchase.
//
// net/http's CrossOriginProtection is not enough here: it lets every
// GET through and compares hosts without the scheme, while a local API
// has no reason to answer other origins' pages at all.
//
// Everything else goes to next unchanged. A refused request's body is
// discarded as the Handler discards it, so the client reads the answer.
// LocalGuard is for local development: deployed functions sit behind API
// Gateway or a function URL, with their own names and CORS (Config.CORS).
func LocalGuard(next http.Handler, o LocalOptions) http.Handler {
	g := &localGuard{next: next, hosts: map[string]bool{}, origins: map[string]bool{}, logger: o.Logger}
	for _, h := range append([]string{o.Addr}, o.AllowHosts...) {
		if h = hostOf(h); h != "" {
			g.hosts[h] = true
		}
	}
	for _, or := range o.AllowOrigins {
		g.origins[normalOrigin(or)] = true
	}
	return g
}

type localGuard struct {
	next    http.Handler
	hosts   map[string]bool // lower case, no port
	origins map[string]bool // normalOrigin
	logger  *slog.Logger
}

func (g *localGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, code, msg := g.check(r)
	if status == 0 {
		g.next.ServeHTTP(w, r)
		return
	}
	refuse(w, r, g.logger, status, code, msg, "http request refused by the local guard",
		slog.String("host", truncate(r.Host, maxLogBytes)),
		slog.String("origin", truncate(r.Header.Get("Origin"), maxLogBytes)),
		slog.String("content_type", truncate(r.Header.Get("Content-Type"), maxLogBytes)))
}

// refuse answers r, before the Handler runs, with the API's JSON error
// (code, msg) and status, X-Request-Id and nosniff, after discarding its
// body as the Handler would; then logs logMsg at Warn with attrs.
func refuse(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int, code, msg, logMsg string, attrs ...slog.Attr) {
	(&httpBody{r: r}).discardRest(w)
	id := signal.NewID()
	b, err := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: msg}})
	if err != nil { // cannot happen: two strings
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Request-Id", id)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if logger == nil {
		logger = slog.Default()
	}
	logger.LogAttrs(r.Context(), slog.LevelWarn, logMsg, append([]slog.Attr{
		slog.String("request_id", id),
		slog.String("method", truncate(r.Method, maxMethodBytes)),
		slog.String("path", truncate(r.URL.EscapedPath(), maxLogBytes)),
		slog.Int("status", status),
		slog.String("error_kind", code),
	}, attrs...)...)
}

// check returns the refusal of r (status, code, message), or status 0.
func (g *localGuard) check(r *http.Request) (int, string, string) {
	host := hostOf(r.Host)
	if !g.servesHost(host) {
		return http.StatusMisdirectedRequest, "misdirected_request", fmt.Sprintf(
			"this server does not answer for the host %q: only loopback names, its listen address and the names it is given are served (a guard against DNS rebinding)",
			truncate(host, maxEchoBytes))
	}
	if origins := r.Header.Values("Origin"); len(origins) > 0 && (len(origins) > 1 || !g.allowsOrigin(origins[0], r)) {
		return http.StatusForbidden, "forbidden", fmt.Sprintf(
			"requests from the origin %q are refused: only this server's own origin and the origins it is given may call it (a guard against cross-site requests)",
			truncate(origins[0], maxEchoBytes))
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !isJSON(r.Header.Values("Content-Type")) {
			return http.StatusUnsupportedMediaType, "unsupported_media_type",
				"a command needs the header Content-Type: application/json (a guard against cross-site form posts)"
		}
	}
	return 0, "", ""
}

func (g *localGuard) servesHost(host string) bool {
	if host == "" {
		return false
	}
	if host == "localhost" || g.hosts[host] {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowsOrigin: the request's own origin, or one of AllowOrigins.
func (g *localGuard) allowsOrigin(origin string, r *http.Request) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	o := normalOrigin(origin)
	return o == normalOrigin(scheme+"://"+r.Host) || g.origins[o]
}

// hostOf returns the host of a Host header or address, in lower case,
// without port or IPv6 brackets.
func hostOf(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.ToLower(h)
}

func normalOrigin(o string) string { return strings.ToLower(strings.TrimSuffix(o, "/")) }

// isJSON reports whether the request has one Content-Type and it is
// application/json.
func isJSON(values []string) bool {
	if len(values) != 1 {
		return false
	}
	mt, _, err := mime.ParseMediaType(values[0])
	return err == nil && mt == "application/json"
}
