package httpapi

import (
	"github.com/signalforgo/signal/internal/testbank"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestInsecureDevPrincipal: the header's pairs become the principal next
// sees; no header, no principal; a malformed one is a 400 JSON error and
// next does not run.
func TestInsecureDevPrincipal(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		want   *signal.Principal
		status int
	}{
		{"no header", nil, nil, 200},
		{"every field", []string{"sub=alice; iss=dev; tenant=acme; groups=admin,ops; scope=read write; team=blue"},
			&signal.Principal{Subject: "alice", Issuer: "dev", Tenant: "acme", Groups: []string{"admin", "ops"}, Scopes: []string{"read", "write"},
				Claims: map[string]string{"sub": "alice", "iss": "dev", "tenant": "acme", "groups": "admin,ops", "scope": "read write", "team": "blue"}}, 200},
		{"sub alone, spaces and a trailing ;", []string{" sub = bob ;"}, &signal.Principal{Subject: "bob", Claims: map[string]string{"sub": "bob"}}, 200},
		{"no sub", []string{"tenant=acme"}, nil, 400},
		{"an empty sub", []string{"sub="}, nil, 400},
		{"not a pair", []string{"sub=alice; admin"}, nil, 400},
		{"a key twice", []string{"sub=alice; sub=root"}, nil, 400},
		{"the header twice", []string{"sub=alice", "sub=bob"}, nil, 400},
	}
	for _, tc := range cases {
		var got *signal.Principal
		ran := false
		h := InsecureDevPrincipal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran, got = true, signal.PrincipalFrom(r.Context())
		}), nil)
		r := httptest.NewRequest("GET", "/aggregates/cart/c1", nil)
		for _, v := range tc.values {
			r.Header.Add(InsecurePrincipalHeader, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || ran != (tc.status == 200) {
			t.Errorf("%s: %d (next ran: %v), want %d; %s", tc.name, w.Code, ran, tc.status, w.Body)
		}
		if tc.status == 400 {
			checkError(t, reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, 400, "invalid")
			if w.Header().Get("X-Request-Id") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: headers %v", tc.name, w.Header())
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: next saw %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestInsecureDevPrincipalAuthorizes: behind InsecureDevPrincipal the
// Handler's rule sees the header's caller on net/http; without the
// middleware the same header is ignored (401).
func TestInsecureDevPrincipalAuthorizes(t *testing.T) {
	f := newFixture(t, func(c *signal.Config, _ *Config) { c.Authorize = testbank.OwnersOnly })
	dev := InsecureDevPrincipal(f.h, nil)
	send := func(h http.Handler, c call) reply {
		t.Helper()
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	}
	as := func(sub string) map[string]string { return map[string]string{InsecurePrincipalHeader: "sub=" + sub} }
	add := call{method: "POST", target: "/aggregates/cart/d1/AddItem", body: addItem("fig", 1, 1), header: as("alice")}
	checkError(t, send(f.h, add), 401, "unauthenticated")
	if r := send(dev, add); r.status != 201 {
		t.Fatalf("alice's command: %d %s", r.status, r.body)
	}
	checkError(t, send(dev, call{method: "GET", target: "/aggregates/cart/d1", header: as("bob")}), 403, "forbidden")
	r := send(dev, call{method: "GET", target: "/aggregates/cart/d1/events", header: as("alice")})
	if r.status != 200 || get(t, r.json(t), "events.0.actor") != "alice" {
		t.Errorf("alice's history: %d %s", r.status, r.body)
	}
}
