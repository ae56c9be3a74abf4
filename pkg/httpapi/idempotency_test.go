package httpapi

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestIdempotencyKeyReused: an Idempotency-Key names one request. Sent
// again with the same command and body (however the JSON is spelt) it
// replays the original answer; with another body, another command or a
// DELETE it is 422 idempotency_key_reused and nothing is written.
func TestIdempotencyKeyReused(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			key := map[string]string{"Idempotency-Key": "key-1"}
			first := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key, body: addItem("apple", 2, 150)})
			if first.status != 201 {
				t.Fatalf("first: %d %s", first.status, first.body)
			}
			// Reordered keys and other whitespace: the same request.
			same := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key,
				body: "{ \"price\": 150,\n \"quantity\": 2, \"sku\": \"apple\" }"})
			if same.status != 201 || same.header.Get("X-Signal-Duplicate") != "true" || !bytes.Equal(same.body, first.body) {
				t.Fatalf("same request reformatted: %d %v %s", same.status, same.header, same.body)
			}
			appends, feed := f.store.Counts().Appends, f.feedLen(t)
			for _, c := range []call{
				{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key, body: addItem("pear", 2, 150)},
				{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key, body: addItem("apple", 3, 150)},
				{method: "POST", target: "/aggregates/cart/c1/RemoveItem", header: key, body: `{"sku":"apple","quantity":1}`},
				{method: "POST", target: "/aggregates/cart/c1/CompletePurchase", header: key},
				{method: "DELETE", target: "/aggregates/cart/c1", header: key},
			} {
				r := tr.do(t, f.h, c)
				checkError(t, r, 422, "idempotency_key_reused")
				if msg := fmt.Sprint(r.json(t)["error"]); !strings.Contains(msg, "key-1") || !strings.Contains(msg, "different request") {
					t.Errorf("%s: message %s", c, msg)
				}
				if r.header.Get("X-Signal-Duplicate") != "" {
					t.Errorf("%s: X-Signal-Duplicate on a refusal", c)
				}
			}
			if n := f.store.Counts().Appends - appends; n != 0 {
				t.Errorf("%d appends for reused keys", n)
			}
			if n := f.feedLen(t); n != feed {
				t.Errorf("%d commits, want %d", n, feed)
			}
			// The state is what the first request made.
			g := tr.do(t, f.h, call{method: "GET", target: "/aggregates/cart/c1"})
			if g.status != 200 || get(t, g.json(t), "version") != float64(1) || get(t, g.json(t), "state.items.apple.quantity") != float64(2) {
				t.Errorf("state after refusals: %d %s", g.status, g.body)
			}
			// The key is per aggregate: on another cart it is a new command.
			if r := tr.do(t, f.h, call{method: "POST", target: "/aggregates/cart/c2/AddItem", header: key, body: addItem("pear", 1, 10)}); r.status != 201 || r.header.Get("X-Signal-Duplicate") != "" {
				t.Errorf("the key on another cart: %d %v %s", r.status, r.header, r.body)
			}
		})
	}
}

// TestDeleteKeyReused: a key used by a DELETE refuses a command, and a
// repeat of the DELETE replays it.
func TestDeleteKeyReused(t *testing.T) {
	f := newFixture(t)
	doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)})
	key := map[string]string{"Idempotency-Key": "del-1"}
	del := doHTTP(t, f.h, call{method: "DELETE", target: "/aggregates/cart/c1", header: key})
	if del.status != 200 {
		t.Fatalf("DELETE: %d %s", del.status, del.body)
	}
	appends := f.store.Counts().Appends
	checkError(t, doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", header: key, body: addItem("apple", 1, 1)}), 422, "idempotency_key_reused")
	if again := doHTTP(t, f.h, call{method: "DELETE", target: "/aggregates/cart/c1", header: key}); again.status != 200 || !bytes.Equal(again.body, del.body) {
		t.Errorf("repeat of the DELETE: %d %s", again.status, again.body)
	}
	if n := f.store.Counts().Appends - appends; n != 0 {
		t.Errorf("%d appends", n)
	}
}

func TestStatusOfKeyReused(t *testing.T) {
	for _, err := range []error{signal.ErrIdempotencyKeyReused, fmt.Errorf("wrapped: %w", signal.ErrIdempotencyKeyReused)} {
		if got := StatusOf(err); got != 422 {
			t.Errorf("StatusOf(%v) = %d, want 422", err, got)
		}
		if got := errorCode(err); got != "idempotency_key_reused" {
			t.Errorf("errorCode(%v) = %q", err, got)
		}
	}
}
