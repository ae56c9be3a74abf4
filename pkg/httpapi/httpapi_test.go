package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/signal"
)

// step is one request of a scenario and what its reply must be.
type step struct {
	name   string
	call   call
	status int
	etag   string // "" = not checked
	check  func(t testing.TB, body map[string]any)
}

func eq(path string, want any) func(testing.TB, map[string]any) {
	return func(t testing.TB, b map[string]any) {
		t.Helper()
		if got := get(t, b, path); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}

func all(checks ...func(testing.TB, map[string]any)) func(testing.TB, map[string]any) {
	return func(t testing.TB, b map[string]any) {
		t.Helper()
		for _, c := range checks {
			c(t, b)
		}
	}
}

func absent(key string) func(testing.TB, map[string]any) {
	return func(t testing.TB, b map[string]any) {
		t.Helper()
		if v, ok := b[key]; ok {
			t.Errorf("%q present (%v), want absent", key, v)
		}
	}
}

// TestRoutes runs every route through every transport: net/http, the
// API Gateway v2/v1 and function URL events, and Lambda's raw payloads.
func TestRoutes(t *testing.T) {
	steps := []step{
		{"healthz", call{method: "GET", target: "/healthz"}, 200, "", eq("status", "ok")},
		{"create", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 2, 150)}, 201, `"1"`, all(
			eq("type", "cart"), eq("id", "c1"), eq("version", 1),
			eq("state.items.apple.quantity", 2), eq("state.total", 300), eq("state.status", "open"),
			eq("events.0.name", "ItemAdded"), eq("events.0.version", 1), eq("events.0.aggregateType", "cart"),
			eq("events.0.aggregateId", "c1"), eq("events.0.data.sku", "apple"), eq("events.0.schemaVersion", 1),
		)},
		{"second command", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("pear", 1, 90)}, 200, `"2"`, all(
			eq("version", 2), eq("state.total", 390), eq("events.0.version", 2),
		)},
		{"get", call{method: "GET", target: "/aggregates/cart/c1"}, 200, `"2"`, all(
			eq("type", "cart"), eq("id", "c1"), eq("version", 2), eq("closed", false), eq("state.items.pear.price", 90), absent("events"),
		)},
		{"time travel", call{method: "GET", target: "/aggregates/cart/c1?version=1"}, 200, `"1"`, all(
			eq("version", 1), eq("state.total", 300), eq("state.items", map[string]any{"apple": map[string]any{"quantity": 2, "price": 150}}),
		)},
		{"history page 1", call{method: "GET", target: "/aggregates/cart/c1/events?limit=1"}, 200, "", all(
			eq("type", "cart"), eq("id", "c1"), eq("events.0.version", 1), eq("next", 1),
			func(t testing.TB, b map[string]any) {
				if n := len(get(t, b, "events").([]any)); n != 1 {
					t.Errorf("%d events", n)
				}
			},
		)},
		{"history page 2", call{method: "GET", target: "/aggregates/cart/c1/events?after=1&limit=1"}, 200, "", all(
			eq("events.0.version", 2), eq("events.0.data.sku", "pear"), absent("next"),
		)},
		{"history all", call{method: "GET", target: "/aggregates/cart/c1/events"}, 200, "", all(
			eq("events.1.name", "ItemAdded"), absent("next"),
		)},
		{"view", call{method: "GET", target: "/views/cart-summary/c1"}, 200, `"2"`, all(
			eq("view", "cart-summary"), eq("key", "c1"), eq("version", 2),
			eq("data.cartId", "c1"), eq("data.total", 390), eq("data.status", "open"), eq("data.version", 2),
		)},
		{"purchase, empty body", call{method: "POST", target: "/aggregates/cart/c1/CompletePurchase"}, 200, `"3"`, all(
			eq("events.0.name", "PurchaseCompleted"), eq("state.status", "purchased"), eq("events.0.data.total", 390),
		)},
		{"sku view", call{method: "GET", target: "/views/sku-sales/apple"}, 200, "", all(
			eq("data.unitsSold", 2), eq("data.revenue", 300),
		)},
		{"command on a purchased cart", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("fig", 1, 1)}, 410, "", eq("error.code", "closed")},
		{"get a closed cart", call{method: "GET", target: "/aggregates/cart/c1"}, 200, `"3"`, eq("closed", true)},
		{"policy opened an order", call{method: "GET", target: "/aggregates/order/c1"}, 200, `"1"`, eq("type", "order")},
		{"create c2", call{method: "POST", target: "/aggregates/cart/c2/AddItem", body: addItem("kiwi", 1, 10)}, 201, `"1"`, nil},
		{"delete", call{method: "DELETE", target: "/aggregates/cart/c2"}, 200, `"2"`, all(
			eq("type", "cart"), eq("id", "c2"), eq("version", 2), eq("events.0.name", "CartDiscarded"), eq("state.status", "discarded"),
		)},
		{"delete again", call{method: "DELETE", target: "/aggregates/cart/c2"}, 410, "", eq("error.code", "closed")},
		{"command after delete", call{method: "POST", target: "/aggregates/cart/c2/RemoveItem", body: `{"sku":"kiwi","quantity":1}`}, 410, "", eq("error.code", "closed")},
		{"history of a closed cart", call{method: "GET", target: "/aggregates/cart/c2/events"}, 200, "", eq("events.1.name", "CartDiscarded")},
		{"unicode id", call{method: "POST", target: "/aggregates/cart/%E8%B3%BC%E7%89%A9%20cart/AddItem", body: addItem("tea", 1, 5)}, 201, `"1"`, eq("id", "購物 cart")},
		{"unicode id read", call{method: "GET", target: "/aggregates/cart/%E8%B3%BC%E7%89%A9%20cart"}, 200, `"1"`, eq("id", "購物 cart")},
		{"create-only If-Match 0", call{method: "POST", target: "/aggregates/cart/c3/AddItem", header: map[string]string{"If-Match": `"0"`}, body: addItem("a", 1, 1)}, 201, `"1"`, nil},
		{"If-Match 0 on an existing cart", call{method: "POST", target: "/aggregates/cart/c3/AddItem", header: map[string]string{"If-Match": `"0"`}, body: addItem("a", 1, 1)}, 412, "", eq("error.code", "precondition_failed")},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { runSteps(t, tr, newFixture(t), steps) })
	}
}

// runSteps sends each step's call through tr, in order, and checks its
// status (stopping at the first wrong one), its JSON Content-Type, its
// ETag when the step names one, its X-Request-Id and the step's check.
func runSteps(t *testing.T, tr transport, f *fixture, steps []step) {
	t.Helper()
	for _, s := range steps {
		r := tr.do(t, f.h, s.call)
		if r.status != s.status {
			t.Fatalf("%s (%s): status %d, want %d; body %s", s.name, s.call, r.status, s.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", s.name, ct)
		}
		if s.etag != "" && r.header.Get("ETag") != s.etag {
			t.Errorf("%s: ETag %q, want %s", s.name, r.header.Get("ETag"), s.etag)
		}
		if r.header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", s.name)
		}
		if s.check != nil {
			s.check(t, r.json(t))
		}
	}
}

// TestTransportsAnswerAlike sends the same requests through every
// transport to one Service: the replies must be the same bytes.
func TestTransportsAnswerAlike(t *testing.T) {
	f := newFixture(t)
	key := map[string]string{"Idempotency-Key": "order-42"}
	setup := []call{
		{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key, body: addItem("apple", 2, 150)},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("pear", 1, 90)},
		{method: "POST", target: "/aggregates/cart/c2/AddItem", body: addItem("kiwi", 1, 10)},
		{method: "POST", target: "/aggregates/cart/c2/CompletePurchase"},
	}
	for _, c := range setup {
		if r := doHTTP(t, f.h, c); r.status >= 300 {
			t.Fatalf("%s: %d %s", c, r.status, r.body)
		}
	}
	appends := f.store.Counts().Appends
	calls := []call{
		{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key, body: addItem("apple", 2, 150)}, // a duplicate
		{method: "GET", target: "/healthz"},
		{method: "GET", target: "/aggregates/cart/c1"},
		{method: "GET", target: "/aggregates/cart/c1?version=1"},
		{method: "GET", target: "/aggregates/cart/c1/events"},
		{method: "GET", target: "/aggregates/cart/c1/events?after=1&limit=5"},
		{method: "GET", target: "/aggregates/cart/c2/events?limit=1"},
		{method: "GET", target: "/views/cart-summary/c1"},
		{method: "GET", target: "/views/sku-sales/kiwi"},
		{method: "GET", target: "/nope"},
		{method: "PUT", target: "/aggregates/cart/c1"},
		{method: "GET", target: "/aggregates/cart/"},
		{method: "GET", target: "/aggregates/cart/c1?version=zz"},
		{method: "POST", target: "/aggregates/cart/c1/RemoveItem", body: `{"sku":"apple","quantity":9}`},
		{method: "POST", target: "/aggregates/cart/c2/AddItem", body: addItem("kiwi", 1, 10)},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `{"sku":`},
		{method: "POST", target: "/aggregates/boat/b1/Sail"},
		{method: "POST", target: "/aggregates/order/c2/OpenOrder", body: `{"lines":[{"sku":"kiwi","quantity":1,"price":10}],"total":10}`},
		{method: "POST", target: "/aggregates/order/o9/OpenOrder", body: `{"lines":`},
	}
	for _, c := range calls {
		want := doHTTP(t, f.h, c)
		for _, tr := range transports[1:] {
			got := tr.do(t, f.h, c)
			if got.status != want.status || !bytes.Equal(got.body, want.body) {
				t.Errorf("%s via %s: %d %s\nnet/http: %d %s", c, tr.name, got.status, got.body, want.status, want.body)
			}
			for _, hd := range []string{"Content-Type", "ETag", "X-Signal-Duplicate", "Allow", "Retry-After"} {
				if got.header.Get(hd) != want.header.Get(hd) {
					t.Errorf("%s via %s: %s %q, net/http %q", c, tr.name, hd, got.header.Get(hd), want.header.Get(hd))
				}
			}
		}
	}
	if n := f.store.Counts().Appends; n != appends {
		t.Errorf("%d appends during reads, duplicates and refusals", n-appends)
	}
}

// TestBadInput: each bad request gets its status and a JSON error with
// its code, and the store is unchanged, through every transport.
func TestBadInput(t *testing.T) {
	big := `{"sku":"apple","quantity":1,"price":1,"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []badInputCase{
		{"malformed JSON", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `{"sku":`}, 400, "invalid", "", false},
		{"JSON of the wrong shape", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `[1,2]`}, 400, "invalid", "", false},
		{"unknown type", call{method: "POST", target: "/aggregates/boat/b1/AddItem", body: addItem("a", 1, 1)}, 404, "unknown_type", "", false},
		{"unknown type read", call{method: "GET", target: "/aggregates/boat/b1"}, 404, "unknown_type", "", false},
		{"unknown command", call{method: "POST", target: "/aggregates/cart/c1/Fly", body: `{}`}, 400, "unknown_command", "", false},
		{"internal command", call{method: "POST", target: "/aggregates/order/o1/OpenOrder", body: `{"lines":[{"sku":"apple","quantity":1,"price":150}],"total":150}`}, 403, "forbidden", "internal", false},
		{"internal command, malformed JSON", call{method: "POST", target: "/aggregates/order/o1/OpenOrder", body: `{"lines":`}, 403, "forbidden", "internal", false},
		{"internal command, empty body", call{method: "POST", target: "/aggregates/order/c1/OpenOrder"}, 403, "forbidden", "internal", false},
		{"negative quantity", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", -1, 150)}, 422, "rejected", "quantity", false},
		{"remove more than present", call{method: "POST", target: "/aggregates/cart/c1/RemoveItem", body: `{"sku":"apple","quantity":5}`}, 422, "rejected", "cannot remove more", false},
		{"complete an empty cart", call{method: "POST", target: "/aggregates/cart/empty/CompletePurchase"}, 422, "rejected", "empty cart", false},
		{"complete a missing cart", call{method: "POST", target: "/aggregates/cart/nope/CompletePurchase"}, 404, "not_found", "", false},
		{"2 MB body", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: big}, 413, "too_large", "", false},
		{"missing id in a command", call{method: "POST", target: "/aggregates/cart//AddItem", body: `{}`}, 400, "invalid", "missing id", false},
		{"missing id in a read", call{method: "GET", target: "/aggregates/cart/"}, 400, "invalid", "missing id", false},
		{"missing type", call{method: "GET", target: "/aggregates//c1"}, 400, "invalid", "missing type", false},
		{"missing command", call{method: "POST", target: "/aggregates/cart/c1/"}, 400, "invalid", "missing command", false},
		{"missing view key", call{method: "GET", target: "/views/cart-summary/"}, 400, "invalid", "missing key", false},
		{"id with %2F", call{method: "POST", target: "/aggregates/cart/a%2Fb/AddItem", body: addItem("a", 1, 1)}, 400, "invalid", "/", false},
		{"id with #", call{method: "POST", target: "/aggregates/cart/a%23b/AddItem", body: addItem("a", 1, 1)}, 400, "invalid", "", false},
		{"bad percent-encoding", call{method: "GET", target: "/aggregates/cart/a%zzb"}, 400, "invalid", "percent-encoded", true},
		{"If-Match mismatch", call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": `"7"`}, body: addItem("apple", 1, 150)}, 412, "precondition_failed", "version 1", false},
		{"bad If-Match", call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": "abc"}, body: addItem("apple", 1, 150)}, 400, "invalid", "If-Match", false},
		{"negative If-Match", call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": `"-1"`}, body: addItem("apple", 1, 150)}, 400, "invalid", "", false},
		{"If-Match list", call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": `"1", "2"`}, body: addItem("apple", 1, 150)}, 400, "invalid", "", false},
		{"If-Match *", call{method: "DELETE", target: "/aggregates/cart/c1", header: map[string]string{"If-Match": `*`}}, 400, "invalid", "", false},
		{"bad Idempotency-Key", call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"Idempotency-Key": "a#b"}, body: addItem("apple", 1, 150)}, 400, "invalid", "Idempotency-Key", false},
		{"bad X-Correlation-Id", call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"X-Correlation-Id": strings.Repeat("c", 300)}, body: addItem("apple", 1, 150)}, 400, "invalid", "X-Correlation-Id", false},
		{"version 0", call{method: "GET", target: "/aggregates/cart/c1?version=0"}, 400, "invalid", "version", false},
		{"version text", call{method: "GET", target: "/aggregates/cart/c1?version=abc"}, 400, "invalid", "version", false},
		{"version negative", call{method: "GET", target: "/aggregates/cart/c1?version=-1"}, 400, "invalid", "version", false},
		{"version empty", call{method: "GET", target: "/aggregates/cart/c1?version="}, 400, "invalid", "version", false},
		{"version twice", call{method: "GET", target: "/aggregates/cart/c1?version=1&version=1"}, 400, "invalid", "more than once", false},
		{"version past the end", call{method: "GET", target: "/aggregates/cart/c1?version=99"}, 404, "not_found", "", false},
		{"after negative", call{method: "GET", target: "/aggregates/cart/c1/events?after=-1"}, 400, "invalid", "after", false},
		{"limit zero", call{method: "GET", target: "/aggregates/cart/c1/events?limit=0"}, 400, "invalid", "limit", false},
		{"limit text", call{method: "GET", target: "/aggregates/cart/c1/events?limit=ten"}, 400, "invalid", "limit", false},
		{"missing aggregate", call{method: "GET", target: "/aggregates/cart/ghost"}, 404, "not_found", "", false},
		{"missing history", call{method: "GET", target: "/aggregates/cart/ghost/events"}, 404, "not_found", "", false},
		{"missing view document", call{method: "GET", target: "/views/cart-summary/ghost"}, 404, "not_found", "", false},
		{"bad view name", call{method: "GET", target: "/views/9bad/k"}, 400, "invalid", "", false},
		{"delete a missing cart", call{method: "DELETE", target: "/aggregates/cart/ghost"}, 404, "not_found", "", false},
		{"delete a type without an End rule", call{method: "DELETE", target: "/aggregates/order/o1"}, 400, "invalid", "", false},
		{"unknown path", call{method: "GET", target: "/nope"}, 404, "not_found", "", false},
		{"root", call{method: "GET", target: "/"}, 404, "not_found", "", false},
		{"too few segments", call{method: "GET", target: "/aggregates/cart"}, 404, "not_found", "", false},
		{"too many segments", call{method: "GET", target: "/aggregates/cart/c1/events/x"}, 404, "not_found", "", false},
		{"trailing slash on healthz", call{method: "GET", target: "/healthz/"}, 404, "not_found", "", false},
		{"wrong method on an aggregate", call{method: "PUT", target: "/aggregates/cart/c1"}, 405, "method_not_allowed", "", false},
		{"wrong method on a command", call{method: "GET", target: "/aggregates/cart/c1/AddItem"}, 405, "method_not_allowed", "", false},
		{"wrong method on healthz", call{method: "POST", target: "/healthz"}, 405, "method_not_allowed", "", false},
		{"OPTIONS without CORS", call{method: "OPTIONS", target: "/healthz"}, 405, "method_not_allowed", "", false},
	}
	allow := map[string]string{
		"wrong method on an aggregate": "DELETE, GET",
		"wrong method on a command":    "POST",
		"wrong method on healthz":      "GET",
		"OPTIONS without CORS":         "GET",
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { checkBadInput(t, tr, cases, allow) })
	}
}

// badInputCase is a bad request and the JSON error it gets.
type badInputCase struct {
	name   string
	call   call
	status int
	code   string
	msg    string // a substring of the message, when checked
	// eventsOnly: net/http's server refuses such a request line
	// itself (400) before any handler runs; Listener turns that
	// answer into the JSON error (TestListenerAnswersParseErrorsInJSON).
	eventsOnly bool
}

// checkBadInput sets up carts c1 (two apples) and empty (emptied), then
// sends each case through tr, each checked in a subtest: its status and
// error code, the message when the case names a part of it, the Allow
// header allow names for it, and that nothing was appended.
func checkBadInput(t *testing.T, tr transport, cases []badInputCase, allow map[string]string) {
	f := newFixture(t)
	for _, c := range []call{
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 2, 150)},
		{method: "POST", target: "/aggregates/cart/empty/AddItem", body: addItem("apple", 1, 150)},
		{method: "POST", target: "/aggregates/cart/empty/RemoveItem", body: `{"sku":"apple","quantity":1}`},
	} {
		if r := doHTTP(t, f.h, c); r.status >= 300 {
			t.Fatalf("setup %s: %d %s", c, r.status, r.body)
		}
	}
	for _, tc := range cases {
		if tc.eventsOnly && tr.name == "net/http" {
			continue
		}
		appends, feed := f.store.Counts().Appends, f.feedLen(t)
		r := tr.do(t, f.h, tc.call)
		t.Run(tc.name, func(t *testing.T) {
			checkError(t, r, tc.status, tc.code)
			if tc.msg != "" {
				if msg := get(t, r.json(t), "error.message").(string); !strings.Contains(msg, tc.msg) {
					t.Errorf("message %q does not mention %q", msg, tc.msg)
				}
			}
			if a := allow[tc.name]; a != "" && r.header.Get("Allow") != a {
				t.Errorf("Allow %q, want %q", r.header.Get("Allow"), a)
			}
			if n := f.store.Counts().Appends; n != appends {
				t.Errorf("%d appends", n-appends)
			}
			if n := f.feedLen(t); n != feed {
				t.Errorf("the change feed grew by %d", n-feed)
			}
		})
	}
}

// TestBodyLimit: the limit is checked before decoding, with or without
// Content-Length, and on the decoded size of a base64 body.
func TestBodyLimit(t *testing.T) {
	f := newFixture(t, withConfig(func(c *Config) { c.MaxBodyBytes = 64 }))
	fits := addItem("apple", 1, 1) // 39 bytes
	pad := `{"sku":"apple","quantity":1,"price":1,"pad":"` + strings.Repeat("x", 30) + `"}`
	t.Run("net/http without Content-Length", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/aggregates/cart/c1/AddItem", struct{ *strings.Reader }{strings.NewReader(pad)})
		r.ContentLength = -1
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		checkError(t, reply{w.Code, w.Header(), w.Body.Bytes()}, 413, "too_large")
	})
	t.Run("net/http with Content-Length", func(t *testing.T) {
		// Refused from Content-Length, then read only to be discarded
		// (so the client can read the answer), never decoded.
		r, read := postCounted(f.h, pad, false)
		checkError(t, r, 413, "too_large")
		if read != len(pad) {
			t.Errorf("discarded %d of %d bytes", read, len(pad))
		}
		if n := f.feedLen(t); n != 0 {
			t.Errorf("%d commits", n)
		}
	})
	t.Run("net/http with a Content-Length past what is discarded", func(t *testing.T) {
		r, read := postCounted(f.h, strings.Repeat("x", maxDiscardBytes+1), false)
		checkError(t, r, 413, "too_large")
		if read != 0 {
			t.Errorf("read %d bytes of a body announced too large to discard", read)
		}
	})
	t.Run("net/http waiting for 100 Continue", func(t *testing.T) {
		r, read := postCounted(f.h, pad, true)
		checkError(t, r, 413, "too_large")
		if read != 0 {
			t.Errorf("read %d bytes of a body the client has not been asked for", read)
		}
	})
	t.Run("exactly the limit", func(t *testing.T) {
		body := fits + strings.Repeat(" ", 64-len(fits))
		for _, tr := range transports {
			r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/" + strings.ReplaceAll(tr.name, "/", "-") + "/AddItem", body: body})
			if r.status != 201 {
				t.Errorf("%s: %d %s", tr.name, r.status, r.body)
			}
		}
	})
	t.Run("events", func(t *testing.T) {
		for _, tr := range transports {
			checkError(t, tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c9/AddItem", body: pad}), 413, "too_large")
		}
	})
	t.Run("a GET ignores its body", func(t *testing.T) {
		r := doHTTP(t, f.h, call{method: "GET", target: "/healthz", body: pad})
		if r.status != 200 {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

// postCounted posts body to /aggregates/cart/c1/AddItem through h over
// net/http, with its Content-Length (and Expect: 100-continue when
// expectContinue), and returns the reply and how many bytes of the body
// h read.
func postCounted(h *Handler, body string, expectContinue bool) (reply, int) {
	counted := &countingReader{r: strings.NewReader(body)}
	r := httptest.NewRequest("POST", "/aggregates/cart/c1/AddItem", counted)
	r.ContentLength = int64(len(body))
	if expectContinue {
		r.Header.Set("Expect", "100-continue")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return reply{w.Code, w.Header(), w.Body.Bytes()}, counted.n
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r *strings.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestBadBase64: a body flagged base64 that is not is a 400.
func TestBadBase64(t *testing.T) {
	f := newFixture(t)
	v2 := v2Event(call{method: "POST", target: "/aggregates/cart/c1/AddItem"}, "prod", false)
	var ev2 events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(v2, &ev2); err != nil {
		t.Fatal(err)
	}
	ev2.Body, ev2.IsBase64Encoded = "not base64!!", true
	r2, _ := f.h.HandleV2(context.Background(), ev2)
	checkError(t, reply{r2.StatusCode, headerOf(r2.Headers), []byte(r2.Body)}, 400, "invalid")

	var ev1 events.APIGatewayProxyRequest
	if err := json.Unmarshal(v1Event(call{method: "POST", target: "/aggregates/cart/c1/AddItem"}, false), &ev1); err != nil {
		t.Fatal(err)
	}
	ev1.Body, ev1.IsBase64Encoded = "%%%", true
	r1, _ := f.h.HandleV1(context.Background(), ev1)
	checkError(t, reply{r1.StatusCode, headerOf(r1.Headers), []byte(r1.Body)}, 400, "invalid")

	var evu events.LambdaFunctionURLRequest
	if err := json.Unmarshal(functionURLEvent(call{method: "POST", target: "/aggregates/cart/c1/AddItem"}, false), &evu); err != nil {
		t.Fatal(err)
	}
	evu.Body, evu.IsBase64Encoded = "ab=c", true
	ru, _ := f.h.HandleFunctionURL(context.Background(), evu)
	checkError(t, reply{ru.StatusCode, headerOf(ru.Headers), []byte(ru.Body)}, 400, "invalid")

	// A well-formed base64 body decodes.
	evu.Body = base64.StdEncoding.EncodeToString([]byte(addItem("apple", 1, 1)))
	if ru, _ = f.h.HandleFunctionURL(context.Background(), evu); ru.StatusCode != 201 {
		t.Errorf("valid base64: %d %s", ru.StatusCode, ru.Body)
	}
	if n := f.feedLen(t); n != 1 {
		t.Errorf("%d commits, want 1", n)
	}
}

// TestIdempotency: the same POST with the same Idempotency-Key three
// times appends once and answers the same bytes and status each time.
func TestIdempotency(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			for _, c := range []struct {
				name, target, body string
				status             int
				appends            int64
			}{
				{"creating", "/aggregates/cart/c1/AddItem", addItem("apple", 2, 150), 201, 1},
				{"updating", "/aggregates/cart/c1/AddItem", addItem("apple", 1, 150), 200, 1},
				// The purchase, and the order its policy opens inline.
				{"closing", "/aggregates/cart/c1/CompletePurchase", "", 200, 2},
			} {
				c := c
				cl := call{method: "POST", target: c.target, header: map[string]string{"Idempotency-Key": "key-" + c.name}, body: c.body}
				appends := f.store.Counts().Appends
				var first reply
				for i := range 3 {
					r := tr.do(t, f.h, cl)
					if r.status != c.status {
						t.Fatalf("%s #%d: status %d, want %d: %s", c.name, i, r.status, c.status, r.body)
					}
					dup := r.header.Get("X-Signal-Duplicate")
					if i == 0 {
						first = r
						if dup != "" {
							t.Errorf("%s: X-Signal-Duplicate %q on the original", c.name, dup)
						}
						continue
					}
					if dup != "true" {
						t.Errorf("%s #%d: X-Signal-Duplicate %q", c.name, i, dup)
					}
					if !bytes.Equal(r.body, first.body) {
						t.Errorf("%s #%d: body\n%s\nwant\n%s", c.name, i, r.body, first.body)
					}
					if r.header.Get("ETag") != first.header.Get("ETag") {
						t.Errorf("%s #%d: ETag %q, want %q", c.name, i, r.header.Get("ETag"), first.header.Get("ETag"))
					}
				}
				if n := f.store.Counts().Appends - appends; n != c.appends {
					t.Errorf("%s: %d appends, want %d", c.name, n, c.appends)
				}
			}
			// After the purchase the key still answers the original, the
			// cart being closed notwithstanding.
			r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"Idempotency-Key": "key-creating"}, body: addItem("apple", 2, 150)})
			if r.status != 201 || r.header.Get("X-Signal-Duplicate") != "true" {
				t.Errorf("replay after close: %d %s", r.status, r.body)
			}
			if n := f.feedLen(t); n != 4 { // 3 cart commits + the order the policy opened
				t.Errorf("%d commits, want 4", n)
			}
		})
	}
}

// TestETagRoundTrip: the ETag of an answer is the If-Match of the next command.
func TestETagRoundTrip(t *testing.T) {
	f := newFixture(t)
	do := func(c call) reply { return doHTTP(t, f.h, c) }
	r := do(call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)})
	tag := r.header.Get("ETag")
	if tag != `"1"` {
		t.Fatalf("ETag %q", tag)
	}
	r = do(call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": tag}, body: addItem("apple", 1, 1)})
	if r.status != 200 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("with If-Match %s: %d %s %q", tag, r.status, r.body, r.header.Get("ETag"))
	}
	// The stale tag now fails, and nothing is appended.
	appends := f.store.Counts().Appends
	r = do(call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": tag}, body: addItem("apple", 1, 1)})
	checkError(t, r, 412, "precondition_failed")
	if f.store.Counts().Appends != appends {
		t.Error("a failed precondition appended")
	}
	// The GET's ETag is current; weak and unquoted forms are accepted.
	g := do(call{method: "GET", target: "/aggregates/cart/c1"})
	for i, im := range []string{g.header.Get("ETag"), `W/"3"`, "4"} {
		r = do(call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": im}, body: addItem("apple", 1, 1)})
		if want := fmt.Sprintf(`"%d"`, i+3); r.status != 200 || r.header.Get("ETag") != want {
			t.Errorf("If-Match %s: %d %s, ETag %q want %s", im, r.status, r.body, r.header.Get("ETag"), want)
		}
	}
	// DELETE honours If-Match too.
	checkError(t, do(call{method: "DELETE", target: "/aggregates/cart/c1", header: map[string]string{"If-Match": `"1"`}}), 412, "precondition_failed")
	if r = do(call{method: "DELETE", target: "/aggregates/cart/c1", header: map[string]string{"If-Match": `"5"`}}); r.status != 200 {
		t.Errorf("DELETE with the current ETag: %d %s", r.status, r.body)
	}
}

// TestDeleteIdempotent: DELETE with an Idempotency-Key replays its answer.
func TestDeleteIdempotent(t *testing.T) {
	f := newFixture(t)
	doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)})
	c := call{method: "DELETE", target: "/aggregates/cart/c1", header: map[string]string{"Idempotency-Key": "del-1"}}
	a, b := doHTTP(t, f.h, c), doHTTP(t, f.h, c)
	if a.status != 200 || b.status != 200 || !bytes.Equal(a.body, b.body) || b.header.Get("X-Signal-Duplicate") != "true" {
		t.Errorf("first %d %s\nsecond %d %s %v", a.status, a.body, b.status, b.body, b.header)
	}
}

// TestCORS: with CORS on, preflights of any path answer 204 with the
// headers, every answer to an allowed origin carries them, another origin
// gets none, and 405 lists OPTIONS; "*" allows any origin; New refuses
// a CORS config that is not usable.
func TestCORS(t *testing.T) {
	f := newFixture(t, withConfig(func(c *Config) {
		c.CORS = &CORS{AllowOrigins: []string{"https://shop.example"}, AllowHeaders: []string{"X-Custom", "if-match"}, MaxAge: 10 * time.Minute}
	}))
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { checkCORS(t, tr, f) })
	}
	t.Run("any origin", func(t *testing.T) {
		f := newFixture(t, withConfig(func(c *Config) {
			c.Routes = QueryRoutes
			c.CORS = &CORS{AllowOrigins: []string{"*"}}
		}))
		r := doHTTP(t, f.h, call{method: "GET", target: "/healthz", header: map[string]string{"Origin": "https://a.example"}})
		if r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Methods") != "GET, OPTIONS" {
			t.Errorf("%v", r.header)
		}
		if r = doHTTP(t, f.h, call{method: "OPTIONS", target: "/healthz"}); r.header.Get("Access-Control-Max-Age") != "" {
			t.Errorf("Max-Age without MaxAge: %v", r.header)
		}
	})
	t.Run("config errors", func(t *testing.T) {
		svc := newFixture(t).svc
		for _, c := range []*CORS{{}, {AllowOrigins: []string{"a, b"}}, {AllowOrigins: []string{"*"}, AllowHeaders: []string{"bad header"}}, {AllowOrigins: []string{"*"}, MaxAge: -1}} {
			if _, err := New(Config{Service: svc, CORS: c}); err == nil {
				t.Errorf("New accepted %+v", c)
			}
		}
	})
}

// checkCORS sends preflights and requests through tr to f, whose CORS
// config allows https://shop.example, the headers X-Custom and If-Match
// and a Max-Age of ten minutes, and checks the CORS headers of each answer.
func checkCORS(t *testing.T, tr transport, f *fixture) {
	origin := map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
	r := tr.do(t, f.h, call{method: "OPTIONS", target: "/aggregates/cart/c1/AddItem", header: origin})
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("preflight: %d %q", r.status, r.body)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":   "https://shop.example",
		"Access-Control-Allow-Methods":  "GET, POST, DELETE, OPTIONS",
		"Access-Control-Allow-Headers":  "Content-Type, Idempotency-Key, If-Match, X-Correlation-Id, X-Custom",
		"Access-Control-Max-Age":        "600",
		"Access-Control-Expose-Headers": "ETag, X-Signal-Duplicate, X-Request-Id, Retry-After",
		"Vary":                          "Origin",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	// Preflight of any path, even unknown ones.
	if r := tr.do(t, f.h, call{method: "OPTIONS", target: "/whatever", header: origin}); r.status != 204 {
		t.Errorf("preflight of an unknown path: %d", r.status)
	}
	// Every answer carries the headers, errors included, but no Max-Age.
	for _, c := range []call{
		{method: "GET", target: "/healthz", header: origin},
		{method: "GET", target: "/nope", header: origin},
	} {
		r := tr.do(t, f.h, c)
		if r.header.Get("Access-Control-Allow-Origin") != "https://shop.example" || r.header.Get("Access-Control-Expose-Headers") == "" || r.header.Get("Vary") != "Origin" {
			t.Errorf("%s: CORS headers missing: %v", c, r.header)
		}
		if r.header.Get("Access-Control-Max-Age") != "" {
			t.Errorf("%s: Max-Age on a non-preflight answer", c)
		}
	}
	// Another origin is not allowed.
	r = tr.do(t, f.h, call{method: "GET", target: "/healthz", header: map[string]string{"Origin": "https://evil.example"}})
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Vary") != "Origin" {
		t.Errorf("foreign origin: %v", r.header)
	}
	// 405 lists OPTIONS when CORS is on.
	if r := tr.do(t, f.h, call{method: "PUT", target: "/healthz"}); r.header.Get("Allow") != "GET, OPTIONS" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
}

func TestRouteSets(t *testing.T) {
	cmd := newFixture(t, withConfig(func(c *Config) { c.Routes = CommandRoutes }))
	qry := newFixture(t, withConfig(func(c *Config) { c.Routes = QueryRoutes }))
	cases := []struct {
		h      *Handler
		name   string
		call   call
		status int
		allow  string
	}{
		{cmd.h, "command healthz", call{method: "GET", target: "/healthz"}, 200, ""},
		{qry.h, "query healthz", call{method: "GET", target: "/healthz"}, 200, ""},
		{cmd.h, "command serves commands", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("a", 1, 1)}, 201, ""},
		{cmd.h, "command serves DELETE", call{method: "DELETE", target: "/aggregates/cart/c1"}, 200, ""},
		{cmd.h, "command has no views", call{method: "GET", target: "/views/cart-summary/c1"}, 404, ""},
		{cmd.h, "command has no state reads", call{method: "GET", target: "/aggregates/cart/c1"}, 405, "DELETE"},
		{cmd.h, "command has no history", call{method: "GET", target: "/aggregates/cart/c1/events"}, 405, "POST"},
		{qry.h, "query has no commands", call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("a", 1, 1)}, 404, ""},
		{qry.h, "query has no DELETE", call{method: "DELETE", target: "/aggregates/cart/c1"}, 405, "GET"},
		{qry.h, "query answers reads", call{method: "GET", target: "/aggregates/cart/c1"}, 404, ""}, // exists only in cmd's store
		{qry.h, "query serves views", call{method: "GET", target: "/views/cart-summary/c1"}, 404, ""},
	}
	for _, tc := range cases {
		r := doHTTP(t, tc.h, tc.call)
		if r.status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
		}
		if r.header.Get("Allow") != tc.allow {
			t.Errorf("%s: Allow %q, want %q", tc.name, r.header.Get("Allow"), tc.allow)
		}
		if tc.status >= 400 {
			checkError(t, r, tc.status, map[int]string{404: "not_found", 405: "method_not_allowed"}[tc.status])
		}
	}
	if got := CommandRoutes.Patterns(); strings.Join(got, "|") != "POST /aggregates/{type}/{id}/{command}|DELETE /aggregates/{type}/{id}|GET /healthz" {
		t.Errorf("CommandRoutes.Patterns() = %q", got)
	}
	if got := Routes(0).Patterns(); len(got) != len(table) {
		t.Errorf("AllRoutes.Patterns() = %q", got)
	}
	if _, err := New(Config{Service: cmd.svc, Routes: 8}); err == nil {
		t.Error("New accepted unknown Routes bits")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted no Service")
	}
	if _, err := New(Config{Service: cmd.svc, MaxBodyBytes: -1}); err == nil {
		t.Error("New accepted a negative MaxBodyBytes")
	}
}

// TestInternalErrorsHidden: a store failing with an untyped error gives a
// 500 whose body says "internal error" only, while the log line at Error
// level has the detail.
func TestInternalErrorsHidden(t *testing.T) {
	fs := &failingStore{Store: newFixture(t).store}
	f := newFixture(t, withStore(fs))
	fs.failWith(errors.New("dynamodb: table secret-events-table: connection refused by 10.1.2.3"))
	for _, tr := range transports {
		r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("a", 1, 1)})
		checkError(t, r, 500, "internal")
		if get(t, r.json(t), "error.message") != "internal error" || bytes.Contains(r.body, []byte("secret")) || bytes.Contains(r.body, []byte("10.1.2.3")) {
			t.Errorf("%s: body leaks: %s", tr.name, r.body)
		}
	}
	lines := f.logs.lines(t)
	last := lines[len(lines)-1]
	if last["level"] != "ERROR" || !strings.Contains(fmt.Sprint(last["error"]), "secret-events-table") || last["status"] != float64(500) {
		t.Errorf("log line: %v", last)
	}
}

// TestUnavailable: KindUnavailable is a 503 with Retry-After.
func TestUnavailable(t *testing.T) {
	fs := &failingStore{Store: newFixture(t).store}
	f := newFixture(t, withStore(fs))
	fs.failWith(fmt.Errorf("dynamodb: %w", context.DeadlineExceeded))
	for _, tr := range transports {
		r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("a", 1, 1)})
		checkError(t, r, 503, "unavailable")
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q", tr.name, r.header.Get("Retry-After"))
		}
	}
	// The store recovers; a retry succeeds.
	fs.failWith(nil)
	if r := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("a", 1, 1)}); r.status != 201 {
		t.Errorf("after recovery: %d %s", r.status, r.body)
	}
}

// TestPanic: a panic in domain code is a 500 that hides the panic value.
func TestPanic(t *testing.T) {
	f := newFixture(t, withBomb())
	r := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/bomb/b1/Explode"})
	checkError(t, r, 500, "internal")
	if bytes.Contains(r.body, []byte("secret")) {
		t.Errorf("body leaks the panic: %s", r.body)
	}
	if !strings.Contains(f.logs.String(), "secret panic detail") {
		t.Error("the panic is not logged")
	}
	if r := doHTTP(t, f.h, call{method: "GET", target: "/healthz"}); r.status != 200 {
		t.Errorf("after a panic: %d", r.status)
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{signal.ErrInvalid, 400},
		{signal.ErrUnknownCommand, 400},
		{fmt.Errorf("wrapped: %w", signal.ErrForbidden), 403},
		{signal.ErrNotFound, 404},
		{signal.ErrUnknownType, 404},
		{signal.ErrConflict, 409},
		{signal.AppendConflict("memstore.Append", signal.StreamID{Type: "t", ID: "i"}, 3, nil), 409},
		{signal.Errorf(signal.KindUnsupported, "signal.View", "this service keeps no views"), 501},
		{signal.ErrExists, 409},
		{signal.ErrUnauthenticated, 401},
		{signal.ErrForbidden, 403},
		{signal.ErrClosed, 410},
		{signal.ErrPrecondition, 412},
		{signal.ErrTooLarge, 413},
		{signal.ErrRejected, 422},
		{fmt.Errorf("wrapped: %w", signal.ErrRejected), 422},
		{signal.ErrUnavailable, 503},
		{signal.ErrInternal, 500},
		{signal.ErrUnknownEvent, 500},
		{errors.New("raw"), 500},
		{&methodError{method: "PUT", allow: []string{"GET"}}, 405},
	}
	for _, c := range cases {
		if got := StatusOf(c.err); got != c.want {
			t.Errorf("StatusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestLogging: one line per request with the fields, cold_start only on
// the first, the request id also in X-Request-Id; then OnRequest.
func TestLogging(t *testing.T) {
	var infos []RequestInfo
	f := newFixture(t, withConfig(func(c *Config) {
		c.OnRequest = func(_ context.Context, i RequestInfo) { infos = append(infos, i) }
	}))
	r1 := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"Idempotency-Key": "k"}, body: addItem("a", 1, 1)})
	r2 := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"Idempotency-Key": "k"}, body: addItem("a", 1, 1)})
	r3 := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/RemoveItem", body: `{"sku":"zz","quantity":1}`})
	rv := transports[4].do(t, f.h, call{method: "GET", target: "/views/cart-summary/c1"}) // lambda-v2
	rn := doHTTP(t, f.h, call{method: "GET", target: "/nope"})
	lines := f.logs.lines(t)
	if len(lines) != 5 || len(infos) != 5 {
		t.Fatalf("%d log lines, %d OnRequest calls, want 5:\n%s", len(lines), len(infos), f.logs)
	}
	want := []map[string]any{
		{"level": "INFO", "msg": "http request", "cold_start": true, "method": "POST", "route": "POST /aggregates/{type}/{id}/{command}",
			"path": "/aggregates/cart/c1/AddItem", "status": 201.0, "aggregate": "cart#c1", "version": 1.0, "created": true},
		{"cold_start": false, "status": 201.0, "duplicate": true, "version": 1.0},
		{"level": "INFO", "status": 422.0, "error_kind": "rejected", "aggregate": "cart#c1"},
		{"route": "GET /views/{view}/{key}", "view": "cart-summary/c1", "version": 1.0},
		{"route": "", "status": 404.0, "error_kind": "not_found"},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v\n%v", i, k, lines[i][k], v, lines[i])
			}
		}
		if _, ok := lines[i]["duration_ms"].(float64); !ok {
			t.Errorf("line %d: no duration_ms", i)
		}
	}
	for i, r := range []reply{r1, r2, r3, rv, rn} {
		if id := r.header.Get("X-Request-Id"); id == "" || lines[i]["request_id"] != id || infos[i].RequestID != id {
			t.Errorf("request %d: X-Request-Id %q, log %v, info %q", i, id, lines[i]["request_id"], infos[i].RequestID)
		}
	}
	if !strings.HasPrefix(lines[3]["request_id"].(string), "lambda-") || !strings.HasPrefix(fmt.Sprint(lines[3]["apigw_request_id"]), "gw-") {
		t.Errorf("Lambda request ids: %v", lines[3])
	}
	if i := infos[0]; !i.ColdStart || !i.Created || i.Status != 201 || i.AggregateType != "cart" || i.AggregateID != "c1" || i.Version != 1 || i.Route != "POST /aggregates/{type}/{id}/{command}" || i.Method != "POST" || i.Duration <= 0 {
		t.Errorf("info 0: %+v", i)
	}
	if i := infos[1]; i.ColdStart || !i.Duplicate || !i.Created {
		t.Errorf("info 1: %+v", i)
	}
	if i := infos[2]; i.ErrorKind != "rejected" || i.Status != 422 {
		t.Errorf("info 2: %+v", i)
	}
	if i := infos[4]; i.ErrorKind != "not_found" || i.Route != "" || i.Path != "/nope" {
		t.Errorf("info 4: %+v", i)
	}
	// The API Gateway request id is the request id when there is no Lambda context.
	r := doV2(t, f.h, call{method: "GET", target: "/healthz"})
	if id := r.header.Get("X-Request-Id"); !strings.HasPrefix(id, "gw-") {
		t.Errorf("v2 request id %q", id)
	}
}

// TestCorrelation: events carry X-Correlation-Id, else the request id.
func TestCorrelation(t *testing.T) {
	f := newFixture(t)
	r := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"X-Correlation-Id": "checkout-7"}, body: addItem("a", 1, 1)})
	if got := get(t, r.json(t), "events.0.correlationId"); got != "checkout-7" {
		t.Errorf("correlationId %v", got)
	}
	r = doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("a", 1, 1)})
	if got := get(t, r.json(t), "events.0.correlationId"); got != r.header.Get("X-Request-Id") {
		t.Errorf("correlationId %v, request id %q", got, r.header.Get("X-Request-Id"))
	}
}

// TestLambdaPayloads: Lambda tells the payload kinds apart and refuses
// what is not an HTTP request.
func TestLambdaPayloads(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{`not json`, `[]`, `{}`, `{"Records":[]}`, `{"version":"2.0"}`} {
		if _, err := f.h.Lambda(context.Background(), []byte(bad)); err == nil {
			t.Errorf("Lambda(%s) succeeded", bad)
		}
	}
	// An HTTP API sending payload 1.0 keeps a named stage in the path.
	ev := v1Event(call{method: "GET", target: "/healthz"}, false)
	var m map[string]any
	if err := json.Unmarshal(ev, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = "1.0"
	m["path"] = "/prod/healthz"
	out, err := f.h.Lambda(context.Background(), mustJSON(m))
	if err != nil || !strings.Contains(string(out), `"statusCode":200`) {
		t.Errorf("HTTP API payload 1.0: %s %v", out, err)
	}
	// The v2 stage is only stripped as a whole segment.
	c := call{method: "GET", target: "/production/x"}
	if r := doV2(t, f.h, c); r.status != 404 || !strings.Contains(string(r.body), "/production/x") {
		t.Errorf("stage prefix of a longer segment: %d %s", r.status, r.body)
	}
}

// TestServeHTTPServer runs the handler in a real HTTP server, with a
// chunked body and raw unicode.
func TestServeHTTPServer(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/aggregates/cart/%C3%A9t%C3%A9/AddItem", struct{ *strings.Reader }{strings.NewReader(addItem("a", 1, 1))})
	req.Header.Set("Idempotency-Key", "k1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 201 || !strings.Contains(buf.String(), `"id":"été"`) || resp.Header.Get("ETag") != `"1"` {
		t.Errorf("%d %s %v", resp.StatusCode, buf.String(), resp.Header)
	}
}
