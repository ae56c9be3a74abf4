package httpapi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serve runs h in a real net/http server, as `signal dev` does, on a
// loopback port, until the test ends. wrap, if set, wraps the listener.
func serveTCP(t testing.TB, h http.Handler, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// rawExchange writes head and then body to a new connection, as a client
// that sends its whole request before reading, and returns everything
// the server answered and the error of writing the body, if any (most
// clients give up on a write error, curl and Go's http.Client included,
// even when the answer is waiting to be read).
func rawExchange(t testing.TB, addr, head string, body []byte) (answer string, writeErr error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		return "", err
	}
	// In pieces, as a client on a real network sends: the server must
	// keep reading while the client is still sending.
	for len(body) > 0 && writeErr == nil {
		n := min(len(body), 256<<10)
		_, writeErr = conn.Write(body[:n])
		body = body[n:]
		time.Sleep(time.Millisecond)
	}
	var out bytes.Buffer
	io.Copy(&out, conn)
	return out.String(), writeErr
}

// chunked encodes b in 64 KiB chunks.
func chunked(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

// TestTooLargeAnsweredOnTheWire: a body over the limit sent whole by a
// client that asked to close the connection (with or without
// Content-Length) reads its 413 JSON answer, every time, instead of a
// connection reset; and nothing is written.
func TestTooLargeAnsweredOnTheWire(t *testing.T) {
	f := newFixture(t)
	addr := serveTCP(t, f.h, nil)
	big := []byte(`{"sku":"apple","quantity":1,"price":1,"pad":"` + strings.Repeat("x", 2<<20) + `"}`)
	cases := []rawBodyCase{
		{"Content-Length", "Content-Length: " + strconv.Itoa(len(big)) + "\r\n", big, 12},
		{"chunked", "Transfer-Encoding: chunked\r\n", chunked(big), 12},
		{"just over", "Content-Length: " + strconv.Itoa(DefaultMaxBodyBytes+1) + "\r\n", big[:DefaultMaxBodyBytes+1], 12},
		{"unknown path", "Content-Length: " + strconv.Itoa(len(big)) + "\r\n", big, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkRawClientsReadAnswer(t, addr, tc) })
	}
	t.Run("http.Client", func(t *testing.T) { checkHTTPClientsReadTooLarge(t, addr, big) })
	if n := f.feedLen(t); n != 0 {
		t.Errorf("%d commits", n)
	}
	checkKeptAliveAfterTooLarge(t, addr, big)
}

// rawBodyCase is a body over the limit as a raw client sends it: the
// framing header (Content-Length or chunked), the bytes, and how many
// connections try it.
type rawBodyCase struct {
	name        string
	head        string
	body        []byte
	connections int
}

// checkRawClientsReadAnswer: each of tc.connections clients that sends
// tc's body whole, asking to close the connection, reads the 413 JSON
// answer (404 for the case "unknown path", sent to /nope).
func checkRawClientsReadAnswer(t *testing.T, addr string, tc rawBodyCase) {
	path, status, code := "/aggregates/cart/c1/AddItem", "413", "too_large"
	if tc.name == "unknown path" {
		path, status, code = "/nope", "404", "not_found"
	}
	failed := 0
	for i := range tc.connections {
		head := "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nConnection: close\r\n" + tc.head + "\r\n"
		out, err := rawExchange(t, addr, head, tc.body)
		if err != nil || !strings.HasPrefix(out, "HTTP/1.1 "+status+" ") || !strings.Contains(out, `"code":"`+code+`"`) {
			failed++
			t.Errorf("try %d: read %q; writing the body: %v", i, truncate(out, 200), err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d clients did not read the answer", failed, tc.connections)
	}
}

// checkHTTPClientsReadTooLarge: Go's http.Client, posting big with
// Connection: close, gets the 413 JSON answer, twelve times out of twelve.
func checkHTTPClientsReadTooLarge(t *testing.T, addr string, big []byte) {
	failed := 0
	for i := range 12 {
		req, err := http.NewRequest("POST", "http://"+addr+"/aggregates/cart/c1/AddItem", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Close = true
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			failed++
			t.Errorf("try %d: %v", i, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(b), `"code":"too_large"`) {
			failed++
			t.Errorf("try %d: %d %s", i, resp.StatusCode, b)
		}
	}
	if failed > 0 {
		t.Errorf("%d of 12 requests did not get the answer", failed)
	}
}

// checkKeptAliveAfterTooLarge: the connection stays usable when the
// client keeps it alive: after big's 413, a GET /healthz on it gets 200.
func checkKeptAliveAfterTooLarge(t *testing.T, addr string, big []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		fmt.Fprintf(conn, "POST /aggregates/cart/c1/AddItem HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(big))
		conn.Write(big)
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	}()
	br := bufio.NewReader(conn)
	for _, want := range []int{413, 200} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("keep-alive: want %d: %v", want, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("keep-alive: %d, want %d", resp.StatusCode, want)
		}
	}
}

// TestListenerAnswersParseErrorsInJSON: the requests net/http refuses
// before any handler runs (a path with an invalid percent escape, a
// missing Host, headers past the limit) get the API's JSON error with
// X-Request-Id and nosniff through Listener, instead of net/http's plain
// text; other requests pass untouched.
func TestListenerAnswersParseErrorsInJSON(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 4096}
	go srv.Serve(Listener(ln))
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	cases := []parseErrorCase{
		{"invalid percent escape", "POST /aggregates/cart/%zz/AddItem HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 400, "invalid", "malformed"},
		{"invalid escape in a read", "GET /aggregates/cart/a%zzb HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid", "malformed"},
		{"malformed request line", "GET\r\nHost: x\r\n\r\n", 400, "invalid", "malformed"},
		{"missing Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "invalid", "missing required Host header"},
		{"invalid header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400, "invalid", "invalid header name"},
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 10000) + "\r\n\r\n", 431, "too_large", "headers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkParseErrorAnswer(t, addr, tc) })
	}
	if n := f.feedLen(t); n != 0 {
		t.Errorf("%d commits", n)
	}
	// Other requests are untouched, on a kept-alive connection too.
	client := &http.Client{Timeout: 10 * time.Second}
	for range 3 {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != `{"status":"ok"}` {
			t.Errorf("healthz: %d %s", resp.StatusCode, b)
		}
	}
}

// parseErrorCase is a raw request net/http cannot parse and the JSON
// error it gets: status, code and a part of the message.
type parseErrorCase struct {
	name, request string
	status        int
	code, msg     string
}

// checkParseErrorAnswer writes tc's request on a new connection to addr
// and checks the answer: tc's JSON error, with X-Request-Id, nosniff, a
// Date, a Content-Length that fits the body, and the connection closed.
func checkParseErrorAnswer(t *testing.T, addr string, tc parseErrorCase) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, tc.request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: b}
	checkError(t, r, tc.status, tc.code)
	if msg := get(t, r.json(t), "error.message").(string); !strings.Contains(msg, tc.msg) {
		t.Errorf("message %q does not mention %q", msg, tc.msg)
	}
	for _, h := range []string{"X-Request-Id", "X-Content-Type-Options", "Date"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s: %v", h, resp.Header)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !resp.Close {
		t.Errorf("headers %v, close %v", resp.Header, resp.Close)
	}
	if resp.ContentLength != int64(len(b)) {
		t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(b))
	}
}
