package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest sends request as written to the dev server at url and
// reads the answer.
func rawRequest(t *testing.T, url, request string) (*http.Response, map[string]any) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%d %q: not JSON: %v", resp.StatusCode, b, err)
	}
	return resp, m
}

// TestDevParseErrorsInJSON: a path net/http cannot parse (an invalid
// percent escape) gets the API's JSON error from dev, not
// net/http's plain text.
func TestDevParseErrorsInJSON(t *testing.T) {
	d := startDev(t, []string{"-data", t.TempDir()}, env(nil))
	host := strings.TrimPrefix(d.URL, "http://")
	resp, body := rawRequest(t, d.URL, "POST /aggregates/account/%zz/Open HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	e, _ := body["error"].(map[string]any)
	if resp.StatusCode != 400 || e["code"] != "invalid" || e["message"] == "" {
		t.Errorf("%d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("headers %v", resp.Header)
	}
}

// guardCall sends one request to the dev server at url with the given
// Host (empty: the URL's) and headers.
func guardCall(t *testing.T, method, url, host string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if resp.StatusCode >= 400 && (resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff") {
		t.Errorf("%s %s: a %d without the API's error headers: %v %s", method, url, resp.StatusCode, resp.Header, b)
	}
	return resp.StatusCode, m
}

func errorCode(m map[string]any) any {
	e, _ := m["error"].(map[string]any)
	return e["code"]
}

// TestDevLocalGuard: dev refuses what a web page could send from another
// site (a form or text/plain POST, a request from another origin, a
// rebound DNS name as Host) and nothing is written; the flags
// -allow-origin and -allow-host widen it.
func TestDevLocalGuard(t *testing.T) {
	d := startDev(t, []string{"-data", t.TempDir(), "-allow-origin", "http://localhost:3000", "-allow-host", "bank.localtest"}, env(nil))
	host := strings.TrimPrefix(d.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	jsonType := map[string]string{"Content-Type": "application/json"}
	if status, body := guardCall(t, "POST", d.URL+"/aggregates/account/g1/Open", "", jsonType, `{"owner":"ann"}`); status != 201 {
		t.Fatalf("setup: %d %v", status, body)
	}
	const deposit = `{"amount":5}`
	cases := []struct {
		name, method, path, host string
		header                   map[string]string
		body                     string
		status                   int
		code                     string
	}{
		{"a cross-site text/plain POST", "POST", "/aggregates/account/g1/Deposit", "", map[string]string{"Content-Type": "text/plain"}, deposit, 415, "unsupported_media_type"},
		{"a POST with no Content-Type", "POST", "/aggregates/account/g1/Deposit", "", nil, deposit, 415, "unsupported_media_type"},
		{"a cross-site form POST", "POST", "/aggregates/account/g1/Deposit", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}, "amount=5", 403, "forbidden"},
		{"JSON from another origin", "POST", "/aggregates/account/g1/Deposit", "", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, deposit, 403, "forbidden"},
		{"a DELETE without Content-Type", "DELETE", "/aggregates/account/g1", "", nil, "", 415, "unsupported_media_type"},
		{"a rebound name reading", "GET", "/aggregates/account/g1", "evil.example:" + port, nil, "", 421, "misdirected_request"},
		{"a rebound name reading a page", "GET", "/", "evil.example:" + port, nil, "", 421, "misdirected_request"},
		{"a rebound name writing", "POST", "/aggregates/account/g1/Deposit", "evil.example:" + port, jsonType, deposit, 421, "misdirected_request"},
	}
	for _, tc := range cases {
		status, body := guardCall(t, tc.method, d.URL+tc.path, tc.host, tc.header, tc.body)
		if status != tc.status || errorCode(body) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	if _, body := guardCall(t, "GET", d.URL+"/aggregates/account/g1", "", nil, ""); body["version"] != 1.0 {
		t.Fatalf("refused requests changed the account: %v", body)
	}
	// What the flags and the server's own names allow.
	allowed := []struct {
		name, method, path, host string
		header                   map[string]string
		body                     string
		status                   int
	}{
		{"localhost", "GET", "/aggregates/account/g1", "localhost:" + port, nil, "", 200},
		{"an -allow-host name", "GET", "/aggregates/account/g1", "bank.localtest:" + port, nil, "", 200},
		{"the server's own page", "POST", "/aggregates/account/g1/Deposit", "", map[string]string{"Content-Type": "application/json", "Origin": d.URL}, deposit, 200},
		{"an -allow-origin page", "POST", "/aggregates/account/g1/Withdraw", "", map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:3000"}, deposit, 200},
		{"a JSON DELETE", "DELETE", "/aggregates/account/g1", "", jsonType, "", 200},
	}
	for _, tc := range allowed {
		if status, b := guardCall(t, tc.method, d.URL+tc.path, tc.host, tc.header, tc.body); status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, status, b, tc.status)
		}
	}
	if !strings.Contains(d.out.String(), "-H 'Content-Type: application/json'") {
		t.Errorf("the printed curl example lacks the Content-Type: %s", d.out.String())
	}
}

// TestDevTooLargeAnswered: a body over the limit, sent whole by a client
// that asked to close the connection, gets its 413 JSON from dev
// every time, not a connection reset.
func TestDevTooLargeAnswered(t *testing.T) {
	d := startDev(t, []string{"-data", t.TempDir()}, env(nil))
	host := strings.TrimPrefix(d.URL, "http://")
	big := []byte(`{"owner":"` + strings.Repeat("x", 2<<20) + `"}`)
	for i := range 6 {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(conn, "POST /aggregates/account/c1/Open HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", host, len(big))
		var werr error
		for b := big; len(b) > 0 && werr == nil; b = b[min(len(b), 256<<10):] {
			_, werr = conn.Write(b[:min(len(b), 256<<10)])
			time.Sleep(time.Millisecond)
		}
		out, _ := io.ReadAll(conn)
		conn.Close()
		if werr != nil || !strings.HasPrefix(string(out), "HTTP/1.1 413 ") || !strings.Contains(string(out), `"code":"too_large"`) {
			t.Errorf("try %d: %.120q; writing the body: %v", i, out, werr)
		}
	}
	if status, body := call(t, "GET", d.URL+"/aggregates/account/c1", ""); status != 404 {
		t.Errorf("the refused command wrote: %d %s", status, body)
	}
}
