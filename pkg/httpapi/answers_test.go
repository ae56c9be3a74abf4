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
		{method: "POST", target: "/aggregates/order/c1/OpenOrder", body: `{"lines":[{"sku":"apple","quantity":1,"price":1}],"total":1}`},
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

// TestStrictCommandBodies: a command body of null, or one that
// encoding/json would only take by rewriting it (invalid UTF-8, lone
// surrogates, a repeated name), is a 400 invalid on every transport and
// writes nothing; an empty body is still the command {}.
func TestStrictCommandBodies(t *testing.T) {
	// Invalid UTF-8 can only reach a Lambda function in a base64 body: a
	// text body is a JSON string of the event, valid UTF-8 by then.
	rawBytes := map[string]bool{"net/http": true, "apigw-v2": true, "function-url": true, "lambda-v1": true}
	cases := []struct {
		name, command, body, msg string
		raw                      bool
	}{
		{"null", "CompletePurchase", `null`, "null", false},
		{"null AddItem", "AddItem", ` null `, "null", false},
		{"invalid UTF-8", "AddItem", "{\"sku\":\"\xff\xfe\",\"quantity\":1,\"price\":1}", "UTF-8", true},
		{"lone high surrogate", "AddItem", `{"sku":"\ud800","quantity":1,"price":1}`, "surrogate", false},
		{"lone low surrogate", "AddItem", `{"sku":"\udc00","quantity":1,"price":1}`, "surrogate", false},
		{"duplicate name", "AddItem", `{"sku":"a","sku":"b","quantity":1,"price":1}`, `"sku" is given more than once`, false},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			if r := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)}); r.status != 201 {
				t.Fatalf("setup: %d %s", r.status, r.body)
			}
			for _, tc := range cases {
				if tc.raw && !rawBytes[tr.name] {
					continue
				}
				appends := f.store.Counts().Appends
				r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/" + tc.command, body: tc.body})
				checkError(t, r, http.StatusBadRequest, "invalid")
				if msg := get(t, r.json(t), "error.message").(string); !strings.Contains(msg, tc.msg) {
					t.Errorf("%s: message %q does not mention %q", tc.name, msg, tc.msg)
				}
				if n := f.store.Counts().Appends; n != appends {
					t.Errorf("%s: %d appends", tc.name, n-appends)
				}
			}
			r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/CompletePurchase"})
			if r.status != 200 {
				t.Errorf("an empty body: %d %s", r.status, r.body)
			}
		})
	}
}

// TestDotSegmentIDs: "." and "..", literal or percent-encoded in any
// case, are refused as aggregate ids and view keys (400 invalid, nothing
// written): no client or gateway could address them afterwards.
func TestDotSegmentIDs(t *testing.T) {
	var calls []call
	for _, seg := range []string{".", "..", "%2e", "%2E", "%2e%2e", "%2E.", ".%2e", "%2E%2E"} {
		calls = append(calls,
			call{method: "POST", target: "/aggregates/cart/" + seg + "/AddItem", body: addItem("apple", 1, 1)},
			call{method: "DELETE", target: "/aggregates/cart/" + seg},
			call{method: "GET", target: "/aggregates/cart/" + seg},
			call{method: "GET", target: "/aggregates/cart/" + seg + "/events"},
			call{method: "GET", target: "/views/sku-sales/" + seg},
		)
	}
	for _, tr := range transports {
		f := newFixture(t)
		for _, c := range calls {
			r := tr.do(t, f.h, c)
			checkError(t, r, http.StatusBadRequest, "invalid")
		}
		if n := f.feedLen(t); n != 0 {
			t.Errorf("%s: %d commits", tr.name, n)
		}
		// Dots beside other characters are ordinary ids.
		if r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/...%2e/AddItem", body: addItem("apple", 1, 1)}); r.status != 201 {
			t.Errorf("%s: id ....: %d %s", tr.name, r.status, r.body)
		}
	}
}
