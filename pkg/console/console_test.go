package console_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/console"
)

func get(t *testing.T, method, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	console.Handler().ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy":    console.ContentSecurityPolicy,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", what, k, got, want)
		}
	}
}

func TestHandlerServesPageAndAssets(t *testing.T) {
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/console/", "text/html; charset=utf-8", `<script src="console.js" defer></script>`},
		{"/console/console.js", "text/javascript; charset=utf-8", `"use strict";`},
		{"/console/console.css", "text/css; charset=utf-8", ".event-item"},
		{"/console/favicon.svg", "image/svg+xml", "<svg"},
	} {
		res, body := get(t, http.MethodGet, tc.path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.path, res.StatusCode)
			continue
		}
		checkSecurityHeaders(t, "GET "+tc.path, res.Header)
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if !bytes.Contains(body, []byte(tc.contains)) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		etag := res.Header.Get("ETag")
		if !regexp.MustCompile(`^"[0-9a-f]{16}"$`).MatchString(etag) || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q", tc.path, etag, res.Header.Get("Cache-Control"))
		}
		if res, body := get(t, http.MethodGet, tc.path, http.Header{"If-None-Match": {etag}}); res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s with If-None-Match: status %d, %d bytes; want 304, none", tc.path, res.StatusCode, len(body))
		}
		if res, _ := get(t, http.MethodGet, tc.path, http.Header{"If-None-Match": {`"0000000000000000"`}}); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with another ETag: status %d, want 200", tc.path, res.StatusCode)
		}
		if res, body := get(t, http.MethodHead, tc.path, nil); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != tc.contentType || len(body) != 0 {
			t.Errorf("HEAD %s: status %d, Content-Type %q, %d bytes", tc.path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
}

func TestHandlerRefusesOtherPathsAndMethods(t *testing.T) {
	for _, path := range []string{"/", "/console/index.html", "/console/missing.js", "/console/console.js/",
		"/console/static/console.js", "/console/../console/console.js.map", "/ui/app.js", "/app"} {
		res, _ := get(t, http.MethodGet, path, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
		}
		checkSecurityHeaders(t, "GET "+path, res.Header)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		res, _ := get(t, method, "/console", nil)
		if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "console/" {
			t.Errorf("%s /console: status %d, Location %q; want 301 to console/", method, res.StatusCode, res.Header.Get("Location"))
		}
		checkSecurityHeaders(t, method+" /console", res.Header)
	}
	if res, _ := get(t, http.MethodPost, "/console", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /console: status %d, want 404", res.StatusCode)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		res, _ := get(t, method, "/console/", nil)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /console/: status %d, Allow %q", method, res.StatusCode, res.Header.Get("Allow"))
		}
		checkSecurityHeaders(t, method+" /console/", res.Header)
	}
}

func TestContentSecurityPolicyIsStrict(t *testing.T) {
	csp := console.ContentSecurityPolicy
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
		"form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'", "trusted-types 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy lacks %q: %s", want, csp)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("policy allows %q: %s", bad, csp)
		}
	}
	// The page needs nothing the policy forbids, and the script writes no HTML.
	_, html := get(t, http.MethodGet, "/console/", nil)
	for _, re := range []string{`<script(?:\s[^>]*)?>\s*[^<\s]`, `\son[a-z]+\s*=`, `\sstyle\s*=`, `<style`, `javascript:`} {
		if m := regexp.MustCompile(re).Find(html); m != nil {
			t.Errorf("index.html has %q, which the policy blocks", m)
		}
	}
	_, js := get(t, http.MethodGet, "/console/console.js", nil)
	for _, re := range []string{`innerHTML`, `outerHTML`, `insertAdjacentHTML`, `document\.write`, `\beval\(`, `new Function`, `\.style\.`} {
		if m := regexp.MustCompile(re).Find(js); m != nil {
			t.Errorf("console.js uses %q", m)
		}
	}
}

// TestScriptFindsItsElements checks that every id console.js reads with
// $("…") is in index.html (or one the script creates), that the ids the
// comment of index.html documents exist, and every field has a label.
func TestScriptFindsItsElements(t *testing.T) {
	_, html := get(t, http.MethodGet, "/console/", nil)
	_, js := get(t, http.MethodGet, "/console/console.js", nil)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllSubmatch(html, -1) {
		ids[string(m[1])] = true
	}
	created := map[string]bool{"alert-message": true, "alert-dismiss": true}
	for _, m := range regexp.MustCompile(`\$\("([^"]+)"\)`).FindAllSubmatch(js, -1) {
		if id := string(m[1]); !ids[id] && !created[id] {
			t.Errorf("console.js reads #%s, which index.html lacks", id)
		}
	}
	comment := html[:bytes.Index(html, []byte("<html"))]
	for _, id := range []string{"app-name", "alert", "status", "types", "command-form", "command-type", "command-name",
		"command-id", "command-fields", "command-submit", "command-result", "history-form", "history-type", "history-id",
		"history-load", "history-title", "version-slider", "version-value", "version-max", "version-state", "events",
		"view-form", "view-name", "view-key", "view-load", "view-meta", "view-doc"} {
		if !ids[id] {
			t.Errorf("index.html lacks #%s", id)
		}
		if !bytes.Contains(comment, []byte(id)) {
			t.Errorf("the comment of index.html does not document #%s", id)
		}
	}
	for _, m := range regexp.MustCompile(`<(?:input|select|textarea)\s[^>]*id="([^"]+)"`).FindAllSubmatch(html, -1) {
		if !bytes.Contains(html, []byte(`<label for="`+string(m[1])+`"`)) {
			t.Errorf("#%s has no label", m[1])
		}
	}
}
