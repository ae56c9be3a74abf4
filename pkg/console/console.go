package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Prefix is the path the console is served under: the page at Prefix
// itself, its assets below it.
const Prefix = "/console/"

// ContentSecurityPolicy is the policy of every answer of Handler. It
// allows what a page of plain same-origin files needs and nothing else:
// no inline script or style, no eval, no other origin, no HTML sinks
// (Trusted Types with no policy), no framing, no form submissions.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// SetSecurityHeaders sets the headers every answer of Handler carries:
// ContentSecurityPolicy, X-Content-Type-Options: nosniff,
// Referrer-Policy: no-referrer, X-Frame-Options: DENY and
// Cross-Origin-Opener-Policy: same-origin. A page of the same kind served
// beside the console (the cart example's) sets them too.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

//go:embed static
var static embed.FS

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets maps request paths to the embedded files, each with the ETag
// of its content. It is built at the first request, not at init: every
// Lambda function links this package, and most never serve the console.
var assets = sync.OnceValue(func() map[string]asset {
	files := []struct{ path, file, contentType string }{
		{Prefix, "index.html", "text/html; charset=utf-8"},
		{Prefix + "console.js", "console.js", "text/javascript; charset=utf-8"},
		{Prefix + "console.css", "console.css", "text/css; charset=utf-8"},
		{Prefix + "favicon.svg", "favicon.svg", "image/svg+xml"},
	}
	m := make(map[string]asset, len(files))
	for _, f := range files {
		b, err := static.ReadFile("static/" + f.file)
		if err != nil {
			panic("console: missing embedded file: " + err.Error()) // a build mistake
		}
		sum := sha256.Sum256(b)
		m[f.path] = asset{body: b, contentType: f.contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
})

// Handler returns the handler of the console: the page at Prefix, its
// script, style sheet and icon under it, each answered to GET and HEAD
// with its Content-Type, an ETag (If-None-Match: 304) and Cache-Control:
// no-cache. The path without its slash ("/console") is a 301 to the
// page, by a relative Location ("console/"). Any other path is a 404 and any other method on a served path
// a 405 with Allow: GET, HEAD, both in plain text. Every answer carries
// the headers of SetSecurityHeaders.
func Handler() http.Handler { return handler{} }

type handler struct{}

func (handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	SetSecurityHeaders(h)
	a, ok := assets()[r.URL.Path]
	if !ok && r.URL.Path+"/" == Prefix && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// A relative Location keeps a prefix this handler does not see
		// (an API Gateway stage): "/prod/console" -> "/prod/console/".
		h.Set("Location", "console/")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
