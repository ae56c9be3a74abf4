package console

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWith(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("the pages at " + r.URL.Path)) })
	for _, tc := range []struct {
		name     string
		pages    http.Handler
		path     string
		status   int
		location string
		body     string
	}{
		{"console page", pages, "/console/", 200, "", ""},
		{"console asset", nil, "/console/console.js", 200, "", ""},
		{"console without slash", nil, "/console", 301, "console/", ""},
		{"front page is the user's", pages, "/", 200, "", "the pages at /"},
		{"other paths are the user's", pages, "/ui/app.js", 200, "", "the pages at /ui/app.js"},
		{"no pages: front page is the console", nil, "/", 302, "console/", ""},
		{"no pages: other paths", nil, "/ui/app.js", 404, "", `{"error":{"code":"not_found","message":"no page or route at this path"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			With(tc.pages).ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
			if w.Code != tc.status || w.Header().Get("Location") != tc.location {
				t.Fatalf("GET %s: %d Location %q, want %d %q", tc.path, w.Code, w.Header().Get("Location"), tc.status, tc.location)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Fatalf("GET %s: body %q, want %q", tc.path, w.Body.String(), tc.body)
			}
			if tc.status == 200 && tc.body == "" && w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
				t.Fatalf("GET %s: the console's answer lacks its policy", tc.path)
			}
		})
	}
}
