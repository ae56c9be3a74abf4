package lambdatest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type echoedHTTP struct {
	Version  string              `json:"version"`
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	RawQuery string              `json:"rawQuery"`
	Query    map[string]string   `json:"query"`
	MultiQ   map[string][]string `json:"multiQuery"`
	Headers  map[string]string   `json:"headers"`
	MultiH   map[string][]string `json:"multiHeaders"`
	Cookies  []string            `json:"cookies"`
	Body     string              `json:"body"`
	Base64   bool                `json:"base64"`
	Request  string              `json:"requestId"`
}

func decodeEcho(t *testing.T, r HTTPResponse) echoedHTTP {
	t.Helper()
	var e echoedHTTP
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return e
}

// TestHTTPEvents sends one request through both payload versions and checks
// what the function received and what came back.
func TestHTTPEvents(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "http"), nil)
	req := HTTPRequest{Method: "POST", Path: "/a/b c", Query: map[string]string{"q": "x&y", "b64": "1"},
		Headers: map[string]string{"X-Custom": "v", "Cookie": "a=1; b=2"}, Body: `{"k":"é"}`, Base64: true}

	r2, err := f.HTTPv2(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	e := decodeEcho(t, r2)
	if r2.Status != 201 || r2.Header("x-echo") != "2.0" || len(r2.Cookies) != 1 || r2.Cookies[0] != "session=abc; HttpOnly" {
		t.Errorf("v2 answer: %d %v cookies %v", r2.Status, r2.Headers, r2.Cookies)
	}
	if e.Version != "2.0" || e.Method != "POST" || e.Path != "/a/b c" || e.RawQuery != "b64=1&q=x%26y" || e.Query["q"] != "x&y" {
		t.Errorf("v2 request line as the function saw it: %+v", e)
	}
	// HTTP APIs lower-case header names and move cookies out of the headers.
	if e.Headers["x-custom"] != "v" || e.Headers["content-type"] != "application/json" || e.Headers["cookie"] != "" ||
		strings.Join(e.Cookies, ",") != "a=1,b=2" {
		t.Errorf("v2 headers %v, cookies %v", e.Headers, e.Cookies)
	}
	if !e.Base64 || e.Body != `{"k":"é"}` || e.Request == "" {
		t.Errorf("v2 body %q (base64 %v), request id %q", e.Body, e.Base64, e.Request)
	}

	r1, err := f.HTTPv1(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	e1 := decodeEcho(t, r1)
	if r1.Status != 201 || r1.Header("X-ECHO") != "1.0" || r1.Header("set-cookie") != "session=abc; HttpOnly" {
		t.Errorf("v1 answer: %d %v %v", r1.Status, r1.Headers, r1.MultiValueHeaders)
	}
	if e1.Method != "POST" || e1.Path != "/a/b c" || e1.Query["q"] != "x&y" || strings.Join(e1.MultiQ["q"], ",") != "x&y" {
		t.Errorf("v1 request as the function saw it: %+v", e1)
	}
	if e1.Headers["X-Custom"] != "v" || e1.Headers["Content-Type"] != "application/json" || strings.Join(e1.MultiH["Cookie"], ",") != "a=1; b=2" {
		t.Errorf("v1 headers %v, multi %v", e1.Headers, e1.MultiH)
	}
	if e1.Body != `{"k":"é"}` || e1.Request == "" || e1.Request == e.Request {
		t.Errorf("v1 body %q, request id %q (v2's %q)", e1.Body, e1.Request, e.Request)
	}

	// A GET without a body gets no Content-Type; a given one is kept.
	g, err := f.HTTPv2(ctx(t), HTTPRequest{Path: "/get"})
	if err != nil {
		t.Fatal(err)
	}
	if ge := decodeEcho(t, g); ge.Method != "GET" || ge.Headers["content-type"] != "" || ge.Body != "" {
		t.Errorf("GET: %+v", ge)
	}
	p, err := f.HTTPv1(ctx(t), HTTPRequest{Method: "PUT", Path: "/p", Headers: map[string]string{"content-type": "text/plain"}, Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if pe := decodeEcho(t, p); pe.Headers["content-type"] != "text/plain" || pe.Headers["Content-Type"] != "" || pe.Body != "hi" {
		t.Errorf("given content type: %+v", pe.Headers)
	}
}

// TestHTTPAnswersAsAPIGatewayReadsThem: an HTTP API takes JSON without a
// statusCode as a 200; a REST API, like any invalid status, as malformed.
func TestHTTPAnswersAsAPIGatewayReadsThem(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "http"), nil)
	r, err := f.HTTPv2(ctx(t), HTTPRequest{Path: "/plain"})
	if err != nil || r.Status != 200 || r.Body != `{"plain":true}` || r.Header("Content-Type") != "application/json" {
		t.Errorf("v2 plain JSON answer: %+v, %v", r, err)
	}
	if _, err := f.HTTPv1(ctx(t), HTTPRequest{Path: "/plain"}); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("v1 plain JSON answer: %v, want ErrMalformedResponse", err)
	}
	for _, send := range []func(HTTPRequest) (HTTPResponse, error){
		func(r HTTPRequest) (HTTPResponse, error) { return f.HTTPv2(ctx(t), r) },
		func(r HTTPRequest) (HTTPResponse, error) { return f.HTTPv1(ctx(t), r) },
	} {
		if _, err := send(HTTPRequest{Path: "/bad-status"}); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("statusCode 0: %v, want ErrMalformedResponse", err)
		}
	}
}

func TestHTTPRequestRefusesBadInput(t *testing.T) {
	for _, r := range []HTTPRequest{{Path: ""}, {Path: "relative"}, {Path: "/a?b=c"}, {Path: "/x#f"}, {Method: "GET /", Path: "/"}} {
		if _, err := r.V2Event(); err == nil {
			t.Errorf("V2Event(%+v) succeeded", r)
		}
		if _, err := r.V1Event(); err == nil {
			t.Errorf("V1Event(%+v) succeeded", r)
		}
	}
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		raw    string
		v1, v2 bool // decodes
		status int
		body   string
	}{
		{raw: `{"statusCode":204}`, v1: true, v2: true, status: 204},
		{raw: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, v1: true, v2: true, status: 200, body: "hi"},
		{raw: `{"statusCode":200,"body":"!!","isBase64Encoded":true}`},
		{raw: `{"statusCode":700}`},
		{raw: `"just a string"`, v2: true, status: 200, body: `"just a string"`},
		{raw: `not json`},
	} {
		r, err := DecodeV2([]byte(c.raw))
		if (err == nil) != c.v2 || (err != nil && !errors.Is(err, ErrMalformedResponse)) || (c.v2 && (r.Status != c.status || r.Body != c.body)) {
			t.Errorf("DecodeV2(%s) = %+v, %v", c.raw, r, err)
		}
		r, err = DecodeV1([]byte(c.raw))
		if (err == nil) != c.v1 || (err != nil && !errors.Is(err, ErrMalformedResponse)) || (c.v1 && (r.Status != c.status || r.Body != c.body)) {
			t.Errorf("DecodeV1(%s) = %+v, %v", c.raw, r, err)
		}
	}
}
