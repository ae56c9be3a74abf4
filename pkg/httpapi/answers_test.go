package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestMethodNotAllowedAnswer: a 405 says what it is, with its code, a
// "method not allowed" message and the Allow header, on every transport.
func TestMethodNotAllowedAnswer(t *testing.T) {
	cases := []struct {
		call  call
		allow string
	}{
		{call{method: "PUT", target: "/aggregates/cart/c1"}, "DELETE, GET"},
		{call{method: "GET", target: "/aggregates/cart/c1/AddItem"}, "POST"},
		{call{method: "PATCH", target: "/views/cart-summary/c1"}, "GET"},
		{call{method: "POST", target: "/healthz"}, "GET"},
	}
	f := newFixture(t)
	for _, tr := range transports {
		for _, tc := range cases {
			r := tr.do(t, f.h, tc.call)
			checkError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			if msg := get(t, r.json(t), "error.message"); msg != "method not allowed" {
				t.Errorf("%s %s: message %q, want %q", tr.name, tc.call, msg, "method not allowed")
			}
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tr.name, tc.call, got, tc.allow)
			}
		}
	}
}

// TestNosniffEverywhere: every answer, success or error, API or page,
// carries X-Content-Type-Options: nosniff, on every transport.
func TestNosniffEverywhere(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html></html>"))
	})
	f := newFixture(t, withConfig(func(c *Config) {
		c.Pages = pages
		c.MaxBodyBytes = 256
		c.CORS = &CORS{AllowOrigins: []string{"https://shop.example"}}
	}))
	calls := []call{
		{method: "GET", target: "/healthz"},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)},
		{method: "GET", target: "/aggregates/cart/c1"},
		{method: "GET", target: "/aggregates/cart/c1/events"},
		{method: "GET", target: "/views/cart-summary/c1"},
		{method: "GET", target: "/aggregates/cart/ghost"},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `{"sku":`},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `{"pad":"` + strings.Repeat("x", 300) + `"}`},
		{method: "PUT", target: "/aggregates/cart/c1"},
		{method: "OPTIONS", target: "/aggregates/cart/c1", header: map[string]string{"Origin": "https://shop.example"}},
		{method: "GET", target: "/"},
		{method: "GET", target: "/missing.js"},
		{method: "POST", target: "/nope"},
	}
	for _, tr := range transports {
		for _, c := range calls {
			r := tr.do(t, f.h, c)
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options %q", tr.name, c, r.status, got)
			}
		}
	}
}
