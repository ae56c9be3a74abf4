package httpapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestLongInputEchoBounded: client input echoed in an error message, a
// log field or a RequestInfo is cut (to 128 bytes in messages, 256 in
// logs, then "…"), so a client cannot make the answer or the log line as
// long as its request.
func TestLongInputEchoBounded(t *testing.T) {
	long := strings.Repeat("N", 8000)
	calls := []call{
		{method: "POST", target: "/aggregates/cart/c1/" + long, body: `{}`},
		{method: "POST", target: "/aggregates/" + long + "/c1/AddItem", body: `{}`},
		{method: "GET", target: "/aggregates/" + long + "/c1"},
		{method: "GET", target: "/aggregates/cart/" + long},
		{method: "GET", target: "/views/" + long + "/k"},
		{method: "GET", target: "/views/cart-summary/" + long},
		{method: "GET", target: "/" + long},
		{method: "GET", target: "/aggregates/cart/c1?version=" + long},
		{method: "GET", target: "/aggregates/cart/c1/events?" + long + "=1"},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"Idempotency-Key": long}, body: addItem("a", 1, 1)},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"X-Correlation-Id": long}, body: addItem("a", 1, 1)},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", header: map[string]string{"If-Match": long}, body: addItem("a", 1, 1)},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `{"` + long + `":1,"` + long + `":2}`},
		{method: "POST", target: "/aggregates/cart/c1/AddItem", body: `{"sku":"` + long + `"`},
	}
	for _, tr := range transports {
		var infos []RequestInfo
		f := newFixture(t, withConfig(func(c *Config) {
			c.OnRequest = func(_ context.Context, i RequestInfo) { infos = append(infos, i) }
		}))
		for _, c := range calls {
			r := tr.do(t, f.h, c)
			if r.status < 400 {
				t.Errorf("%s %s: %d", tr.name, c, r.status)
			}
			if len(r.body) > 400 {
				t.Errorf("%s %s: a %d-byte answer: %.300s", tr.name, c, len(r.body), r.body)
			}
			for k, vs := range r.header {
				for _, v := range vs {
					if len(v) > 400 {
						t.Errorf("%s %s: header %s of %d bytes", tr.name, c, k, len(v))
					}
				}
			}
		}
		for _, line := range f.logs.lines(t) {
			for k, v := range line {
				if s := fmt.Sprint(v); len(s) > 600 {
					t.Errorf("%s: log field %s of %d bytes: %.200s", tr.name, k, len(s), s)
				}
			}
		}
		for _, i := range infos {
			for name, v := range map[string]string{"Method": i.Method, "Path": i.Path, "AggregateType": i.AggregateType, "AggregateID": i.AggregateID} {
				if len(v) > 300 {
					t.Errorf("%s: RequestInfo.%s of %d bytes", tr.name, name, len(v))
				}
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"ééé", 3, "é…"}, // never half a character
		{"ééé", 4, "éé…"},
		{"", 0, ""},
	} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
