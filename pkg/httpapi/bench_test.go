package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// BenchmarkServeHTTP: a state read and a health check on net/http, for
// the router's cost per request (allocations included).
func BenchmarkServeHTTP(b *testing.B) {
	f := newFixture(b)
	if r := doHTTP(b, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)}); r.status != 201 {
		b.Fatalf("setup: %d %s", r.status, r.body)
	}
	for _, target := range []string{"/healthz", "/aggregates/cart/c1"} {
		b.Run(target, func(b *testing.B) {
			r := httptest.NewRequest("GET", target, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				f.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkHandleV2: the same through an HTTP API event.
func BenchmarkHandleV2(b *testing.B) {
	f := newFixture(b)
	if r := doHTTP(b, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)}); r.status != 201 {
		b.Fatalf("setup: %d %s", r.status, r.body)
	}
	for _, target := range []string{"/healthz", "/aggregates/cart/c1"} {
		b.Run(target, func(b *testing.B) {
			ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: target,
				Headers: map[string]string{"host": "abc.execute-api.eu-west-1.amazonaws.com"},
				RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", RequestID: "r",
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: target}}}
			b.ReportAllocs()
			for b.Loop() {
				resp, _ := f.h.HandleV2(context.Background(), ev)
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.StatusCode)
				}
			}
		})
	}
}
