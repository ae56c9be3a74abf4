package httpapi

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestLocalGuard: on a developer's machine, a command needs
// Content-Type: application/json (415), an Origin must be the server's
// own or an allowed one (403) and the Host a loopback name, the listen
// address's host or an allowed name (421); each refusal is the JSON
// error with X-Request-Id and nosniff, and writes nothing. What passes
// runs as without the guard.
func TestLocalGuard(t *testing.T) {
	json := "application/json"
	cases := []guardCase{
		// Host.
		{"loopback IPv4", "POST", "127.0.0.1:8080", "", json, 201, ""},
		{"loopback IPv4, other address", "POST", "127.1.2.3:8080", "", json, 201, ""},
		{"loopback IPv6", "POST", "[::1]:8080", "", json, 201, ""},
		{"localhost", "POST", "localhost:8080", "", json, 201, ""},
		{"localhost in capitals", "POST", "LocalHost:8080", "", json, 201, ""},
		{"localhost without a port", "GET", "localhost", "", "", 200, ""},
		{"the listen address's host", "GET", "192.0.2.7:8080", "", "", 200, ""},
		{"an allowed name", "GET", "dev.example.test:8080", "", "", 200, ""},
		{"an allowed name in capitals", "GET", "DEV.example.test", "", "", 200, ""},
		{"a rebound name", "GET", "evil.example:8080", "", "", 421, "misdirected_request"},
		{"a rebound name posting", "POST", "evil.example:8080", "", json, 421, "misdirected_request"},
		{"a name ending in localhost", "GET", "evillocalhost:8080", "", "", 421, "misdirected_request"},
		{"localhost as a subdomain", "GET", "localhost.evil.example:8080", "", "", 421, "misdirected_request"},
		{"a loopback IP as a subdomain", "GET", "127.0.0.1.evil.example:8080", "", "", 421, "misdirected_request"},
		{"another IP", "GET", "198.51.100.1:8080", "", "", 421, "misdirected_request"},
		{"the unspecified address", "GET", "0.0.0.0:8080", "", "", 421, "misdirected_request"},
		{"no Host", "GET", "", "", "", 421, "misdirected_request"},
		// Origin.
		{"same origin", "POST", "127.0.0.1:8080", "http://127.0.0.1:8080", json, 201, ""},
		{"same origin, localhost", "POST", "localhost:8080", "http://localhost:8080", json, 201, ""},
		{"an allowed origin", "POST", "127.0.0.1:8080", "http://localhost:3000", json, 201, ""},
		{"a cross-site page", "POST", "127.0.0.1:8080", "https://evil.example", json, 403, "forbidden"},
		{"a cross-site read", "GET", "127.0.0.1:8080", "https://evil.example", "", 403, "forbidden"},
		{"another port", "POST", "127.0.0.1:8080", "http://127.0.0.1:9999", json, 403, "forbidden"},
		{"another loopback name", "POST", "127.0.0.1:8080", "http://localhost:8080", json, 403, "forbidden"},
		{"https on the same host", "POST", "127.0.0.1:8080", "https://127.0.0.1:8080", json, 403, "forbidden"},
		{"a sandboxed page", "POST", "127.0.0.1:8080", "null", json, 403, "forbidden"},
		// Content-Type.
		{"no Content-Type", "POST", "127.0.0.1:8080", "", "", 415, "unsupported_media_type"},
		{"text/plain", "POST", "127.0.0.1:8080", "", "text/plain", 415, "unsupported_media_type"},
		{"a form", "POST", "127.0.0.1:8080", "", "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"a multipart form", "POST", "127.0.0.1:8080", "", "multipart/form-data; boundary=x", 415, "unsupported_media_type"},
		{"JSON with a charset", "POST", "127.0.0.1:8080", "", "application/json; charset=utf-8", 201, ""},
		{"JSON in capitals", "POST", "127.0.0.1:8080", "", "Application/JSON", 201, ""},
		{"a JSON look-alike", "POST", "127.0.0.1:8080", "", "application/jsonp", 415, "unsupported_media_type"},
		{"a malformed Content-Type", "POST", "127.0.0.1:8080", "", "application/json; =", 415, "unsupported_media_type"},
		{"DELETE without Content-Type", "DELETE", "127.0.0.1:8080", "", "", 415, "unsupported_media_type"},
		{"GET needs none", "GET", "127.0.0.1:8080", "", "", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkGuardCase(t, tc) })
	}
}

// guardCase is a request through LocalGuard and the answer it gets: its
// status and, for a refusal, its JSON error code ("" when it passes).
type guardCase struct {
	name                string
	method, host        string
	origin, contentType string
	status              int
	code                string
}

// checkGuardCase sends tc's request (a POST adds an item, a DELETE goes
// to a cart holding one, a GET reads /healthz) through a guard serving the listen
// address 192.0.2.7:8080, the name dev.example.test and the origin
// http://localhost:3000, and checks its status; a refusal must be tc's
// JSON error with X-Request-Id and nosniff, write nothing, and be logged.
func checkGuardCase(t *testing.T, tc guardCase) {
	f := newFixture(t)
	logs := &logBuffer{}
	g := LocalGuard(f.h, LocalOptions{
		Addr:         "192.0.2.7:8080",
		AllowHosts:   []string{"dev.example.test"},
		AllowOrigins: []string{"http://localhost:3000"},
		Logger:       slog.New(slog.NewJSONHandler(logs, nil)),
	})
	target, body := "/aggregates/cart/c1", ""
	switch tc.method {
	case "POST":
		target, body = "/aggregates/cart/c1/AddItem", addItem("apple", 1, 1)
	case "DELETE":
		if r := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 1)}); r.status != 201 {
			t.Fatalf("setup: %d %s", r.status, r.body)
		}
	case "GET":
		target = "/healthz"
	}
	feed := f.feedLen(t)
	req := httptest.NewRequest(tc.method, target, strings.NewReader(body))
	req.Host = tc.host
	if tc.origin != "" {
		req.Header.Set("Origin", tc.origin)
	}
	if tc.contentType != "" {
		req.Header.Set("Content-Type", tc.contentType)
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	r := reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if tc.code == "" {
		if r.status != tc.status {
			t.Fatalf("%d, want %d: %s", r.status, tc.status, r.body)
		}
		return
	}
	checkError(t, r, tc.status, tc.code)
	if r.header.Get("X-Request-Id") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", r.header)
	}
	if n := f.feedLen(t); n != feed {
		t.Errorf("a refused request wrote %d commits", n-feed)
	}
	if !strings.Contains(logs.String(), `"status":`+strconv.Itoa(tc.status)) {
		t.Errorf("no log line for the refusal: %s", logs)
	}
}

// TestLocalGuardOwnAddress: with no names configured, the loopback names
// and the listen address's own host are the ones served, and a long
// Host or Origin is quoted only in part.
func TestLocalGuardOwnAddress(t *testing.T) {
	f := newFixture(t)
	g := LocalGuard(f.h, LocalOptions{Addr: "[::1]:0"})
	for host, want := range map[string]int{"[::1]:41234": 200, "127.0.0.1:41234": 200, "localhost:41234": 200, "example.test:41234": 421} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Host = host
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
	g = LocalGuard(f.h, LocalOptions{Addr: "0.0.0.0:8080"})
	for host, want := range map[string]int{"0.0.0.0:8080": 200, "127.0.0.1:8080": 200, "192.168.1.9:8080": 421} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Host = host
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("on 0.0.0.0, Host %s: %d, want %d", host, w.Code, want)
		}
	}
	long := strings.Repeat("o", 5000)
	for _, hd := range []string{"Host", "Origin"} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Host = "127.0.0.1:1"
		if hd == "Host" {
			req.Host = long + ".example"
		} else {
			req.Header.Set("Origin", "https://"+long+".example")
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code < 400 || w.Body.Len() > 400 {
			t.Errorf("long %s: %d, %d-byte answer", hd, w.Code, w.Body.Len())
		}
	}
}

// TestLocalGuardOnTheWire: a refused command with a large body, sent by
// a client that asked to close the connection, still reads its answer.
func TestLocalGuardOnTheWire(t *testing.T) {
	f := newFixture(t)
	addr := serveTCP(t, LocalGuard(f.h, LocalOptions{Addr: "127.0.0.1:0"}), nil)
	big := bytes.Repeat([]byte("x"), 2<<20)
	for i := range 6 {
		head := "POST /aggregates/cart/c1/CompletePurchase HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n"
		out, err := rawExchange(t, addr, head, big)
		if err != nil || !strings.HasPrefix(out, "HTTP/1.1 415 ") || !strings.Contains(out, `"code":"unsupported_media_type"`) {
			t.Errorf("try %d: %q; writing the body: %v", i, truncate(out, 200), err)
		}
	}
}
