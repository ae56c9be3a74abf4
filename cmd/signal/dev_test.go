package main

import (
	"bufio"
	"encoding/json"
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
// percent escape) gets the API's JSON error from `signal dev`, not
// net/http's plain text.
func TestDevParseErrorsInJSON(t *testing.T) {
	d := startDev(t, []string{"-data", t.TempDir()}, env(nil))
	host := strings.TrimPrefix(d.URL, "http://")
	resp, body := rawRequest(t, d.URL, "POST /aggregates/cart/%zz/AddItem HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	e, _ := body["error"].(map[string]any)
	if resp.StatusCode != 400 || e["code"] != "invalid" || e["message"] == "" {
		t.Errorf("%d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("headers %v", resp.Header)
	}
}
