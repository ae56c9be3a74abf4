package httpapi

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestUncleanPaths: the paths http.ServeMux would redirect to their
// cleaned form (an empty, "." or ".." segment) are answered by the API
// itself, in JSON, on every transport: never a 3xx.
func TestUncleanPaths(t *testing.T) {
	cases := []struct {
		call   call
		status int
		code   string
	}{
		{call{method: "POST", target: "/aggregates/cart//AddItem", body: `{}`}, 400, "invalid"},
		{call{method: "GET", target: "/aggregates/cart/"}, 400, "invalid"},
		{call{method: "GET", target: "/aggregates//c1/events"}, 400, "invalid"},
		{call{method: "GET", target: "/aggregates/cart/./events"}, 400, "invalid"},
		{call{method: "GET", target: "/views/sku-sales/.."}, 400, "invalid"},
		{call{method: "PUT", target: "/aggregates/cart/"}, 405, "method_not_allowed"},
		{call{method: "GET", target: "//healthz"}, 404, "not_found"},
		{call{method: "GET", target: "/./healthz"}, 404, "not_found"},
		{call{method: "GET", target: "/healthz/"}, 404, "not_found"},
		{call{method: "GET", target: "/aggregates/../healthz"}, 404, "unknown_type"}, // type "..", id "healthz"
	}
	f := newFixture(t)
	for _, tr := range transports {
		for _, tc := range cases {
			r := tr.do(t, f.h, tc.call)
			if r.status != tc.status || r.header.Get("Location") != "" {
				t.Errorf("%s %s: %d (Location %q), want %d", tr.name, tc.call, r.status, r.header.Get("Location"), tc.status)
			}
			checkError(t, r, tc.status, tc.code)
		}
	}
	if n := f.feedLen(t); n != 0 {
		t.Errorf("%d commits", n)
	}
}

// TestPercentEncodedPaths: a literal segment matches percent-encoded
// too, as equivalent URIs (RFC 3986, 6.2.2.2); a path from an event that
// is not validly percent-encoded is a 400 naming the parameter, or a 404
// outside one; HEAD is served by no API route.
func TestPercentEncodedPaths(t *testing.T) {
	f := newFixture(t)
	for _, tr := range transports {
		if r := tr.do(t, f.h, call{method: "GET", target: "/%61pp"}); r.status != 200 {
			t.Errorf("%s GET /%%61pp: %d %s", tr.name, r.status, r.body)
		}
		r := tr.do(t, f.h, call{method: "HEAD", target: "/aggregates/cart/c1"})
		if r.status != 405 || r.header.Get("Allow") != "DELETE, GET" {
			t.Errorf("%s HEAD: %d, Allow %q", tr.name, r.status, r.header.Get("Allow"))
		}
	}
	for _, tc := range []struct {
		path, msg string
		status    int
	}{
		{"/aggregates/cart/%zz/AddItem", "the id in the path is not validly percent-encoded", 400},
		{"/aggregates/%/c1/AddItem", "the type in the path is not validly percent-encoded", 400},
		{"/aggregates%zz/cart/c1/AddItem", "no route for POST /aggregates%zz/cart/c1/AddItem", 404},
		{"aggregates/cart/c1/AddItem", "no route for POST aggregates/cart/c1/AddItem", 404},
	} {
		ev := events.LambdaFunctionURLRequest{RawPath: tc.path, Body: `{}`,
			RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST"}}}
		resp, err := f.h.HandleFunctionURL(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		r := reply{resp.StatusCode, headerOf(resp.Headers), []byte(resp.Body)}
		checkError(t, r, tc.status, map[int]string{400: "invalid", 404: "not_found"}[tc.status])
		if msg := get(t, r.json(t), "error.message"); msg != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.path, msg, tc.msg)
		}
	}
}
