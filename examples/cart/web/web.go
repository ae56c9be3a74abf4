// Package web is the cart example's web page: plain HTML, a small
// dependency-free script and a style sheet, embedded in the binary. The
// page talks to the same-origin HTTP API of docs/API.md (package httpapi):
// a cart to fill and check out and the live cart-summary and sku-sales
// views. The histories, with time travel, are the console's (package
// console, any app's page): the page links to the cart's and its order's
// ("/console/#cart/<id>").
//
// Handler serves the page at "/" and its assets under Prefix. Mount it
// beside the console and the API, which takes every other path:
//
//	api, _ := httpapi.New(httpapi.Config{Service: svc, Routes: httpapi.AllRoutes, AppName: "cart"})
//	mux := http.NewServeMux()
//	mux.Handle("/{$}", web.Handler())
//	mux.Handle(web.Prefix, web.Handler())
//	mux.Handle(console.Prefix, console.Handler())
//	mux.Handle("/", api)
//
// Every answer carries the console's headers (console.SetSecurityHeaders):
// a strict Content-Security-Policy (scripts, styles, images and fetches
// from the same origin only, no inline script or style, Trusted Types
// required, no framing), nosniff and no-referrer.
// Assets are revalidated by ETag (Cache-Control: no-cache), so a new
// binary never serves a stale script. There is no build step.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/signalforgo/signal/pkg/console"
)

// Prefix is the path under which the page's assets are served.
const Prefix = "/ui/"

// ContentSecurityPolicy is the policy of every answer of Handler: the
// console's, so the page and the console it links to hold to one policy.
const ContentSecurityPolicy = console.ContentSecurityPolicy

//go:embed static
var static embed.FS

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets maps request paths to the embedded files.
var assets = func() map[string]asset {
	files := []struct{ path, file, contentType string }{
		{"/", "index.html", "text/html; charset=utf-8"},
		{Prefix + "app.js", "app.js", "text/javascript; charset=utf-8"},
		{Prefix + "style.css", "style.css", "text/css; charset=utf-8"},
		{Prefix + "favicon.svg", "favicon.svg", "image/svg+xml"},
	}
	m := make(map[string]asset, len(files))
	for _, f := range files {
		b, err := static.ReadFile("static/" + f.file)
		if err != nil {
			panic("web: missing embedded file: " + err.Error()) // a build mistake
		}
		sum := sha256.Sum256(b)
		m[f.path] = asset{body: b, contentType: f.contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
}()

// Handler returns the handler of the page ("/") and its assets (under
// Prefix). Other paths are 404, methods other than GET and HEAD 405.
func Handler() http.Handler { return handler{} }

type handler struct{}

func (handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	console.SetSecurityHeaders(h)
	a, ok := assets[r.URL.Path]
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
