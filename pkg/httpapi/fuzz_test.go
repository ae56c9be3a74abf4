package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// FuzzRequest feeds random methods, paths, queries, headers and bodies
// through the router, as a Lambda event would bring them: it never panics and always answers a
// status in 200..599 with a JSON body (none for a 204 preflight).
func FuzzRequest(f *testing.F) {
	seeds := []struct{ method, path, query, hname, hvalue, body string }{
		{"GET", "/healthz", "", "", "", ""},
		{"POST", "/aggregates/cart/c1/AddItem", "", "Idempotency-Key", "k1", `{"sku":"a","quantity":1,"price":1}`},
		{"POST", "/aggregates/cart/c1/AddItem", "", "If-Match", `W/"1"`, `{"sku":"a","quantity":-1,"price":1}`},
		{"POST", "/aggregates/cart/c1/RemoveItem", "", "If-Match", `"x`, `{"sku":"a","quantity":9}`},
		{"POST", "/aggregates/cart/c1/CompletePurchase", "", "", "", ""},
		{"DELETE", "/aggregates/cart/c1", "", "Idempotency-Key", "a#b", ""},
		{"GET", "/aggregates/cart/c1", "version=1", "", "", ""},
		{"GET", "/aggregates/cart/c1", "version=%zz", "", "", ""},
		{"GET", "/aggregates/cart/c1/events", "after=1&limit=99999999999999999999", "", "", ""},
		{"GET", "/views/cart-summary/c1", "", "Origin", "https://shop.example", ""},
		{"OPTIONS", "/anything", "", "Origin", "https://shop.example", ""},
		{"GET", "/aggregates/cart/%E2%82%AC%2F", "", "", "", ""},
		{"PUT", "/aggregates//", "", "", "", "\x00\xff"},
		{"POST", "/aggregates/cart/b%25/Explode", "", "X-Correlation-Id", "", "null"},
		{"", "", "", "", "", ""},
		{"GET", "*", "", "", "", ""},
		{"POST", "/aggregates/order/o1/OpenOrder", "", "", "", `{"lines":[{"sku":"a","quantity":1,"price":1}]}`},
		{"POST", "/aggregates/cart/c1/CompletePurchase", "", "", "", `null`},
		{"POST", "/aggregates/cart/c1/AddItem", "", "", "", "{\"sku\":\"\xff\xfe\",\"quantity\":1,\"price\":1}"},
		{"POST", "/aggregates/cart/c1/AddItem", "", "", "", `{"sku":"\ud800","quantity":1,"price":1}`},
		{"POST", "/aggregates/cart/c1/AddItem", "", "", "", `{"sku":"a","sku":"b","quantity":1,"price":1}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.hname, s.hvalue, s.body)
	}
	fx := newFixture(f, withConfig(func(c *Config) {
		c.MaxBodyBytes = 4096
		c.CORS = &CORS{AllowOrigins: []string{"https://shop.example"}}
	}))
	f.Fuzz(func(t *testing.T, method, path, query, hname, hvalue, body string) {
		hdr := http.Header{}
		if hname != "" {
			hdr.Add(hname, hvalue)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w := fx.h.serveEvent(ctx, eventRequest{
			method: method, path: path, query: query, header: hdr,
			body: body, gatewayID: "fuzz",
		})
		checkFuzzedAnswer(t, fuzzedAnswer{w.status, w.header, w.body.Bytes()})
	})
}

// fuzzedAnswer is what the router answered a fuzzed request.
type fuzzedAnswer struct {
	status int
	header http.Header
	body   []byte
}

// checkFuzzedAnswer: an answer to any request has a status in 200..599,
// not 500; a 204 has no body; anything else is JSON, an error with its
// code and message.
func checkFuzzedAnswer(t *testing.T, resp fuzzedAnswer) {
	if resp.status < 200 || resp.status > 599 {
		t.Fatalf("status %d", resp.status)
	}
	if resp.status == http.StatusNoContent {
		if len(resp.body) != 0 {
			t.Fatalf("204 with a body %q", resp.body)
		}
		return
	}
	if !json.Valid(resp.body) || resp.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d: body %q, Content-Type %q", resp.status, resp.body, resp.header.Get("Content-Type"))
	}
	if resp.status >= 400 {
		var e errorBody
		if err := json.Unmarshal(resp.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%d: error body %q", resp.status, resp.body)
		}
	}
	if resp.status == http.StatusInternalServerError {
		t.Fatalf("500 from client input: %s", resp.body)
	}
}
