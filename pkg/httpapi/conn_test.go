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
	cases := []struct {
		name        string
		head        string
		body        []byte
		connections int
	}{
		{"Content-Length", "Content-Length: " + strconv.Itoa(len(big)) + "\r\n", big, 12},
		{"chunked", "Transfer-Encoding: chunked\r\n", chunked(big), 12},
		{"just over", "Content-Length: " + strconv.Itoa(DefaultMaxBodyBytes+1) + "\r\n", big[:DefaultMaxBodyBytes+1], 12},
		{"unknown path", "Content-Length: " + strconv.Itoa(len(big)) + "\r\n", big, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
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
		})
	}
	t.Run("http.Client", func(t *testing.T) {
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
	})
	if n := f.feedLen(t); n != 0 {
		t.Errorf("%d commits", n)
	}
	// The connection stays usable when the client keeps it alive.
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
