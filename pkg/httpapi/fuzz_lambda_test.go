package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzLambdaPayload: Handler.Lambda with arbitrary bytes, and with API
// Gateway REST (1.0), HTTP API (2.0) and function URL payloads built from
// a fuzzed method, path, body and base64 flag, never panics: it returns a
// Go error for a payload that is not an HTTP request, or a JSON response
// with a status in 200..599 and a JSON body (none for a 204).
func FuzzLambdaPayload(f *testing.F) {
	f.Add([]byte(`{}`), "GET", "/healthz", "", false, uint8(0))
	f.Add([]byte(`null`), "POST", "/aggregates/cart/c1/AddItem", `{"sku":"a","quantity":1,"price":1}`, false, uint8(1))
	f.Add([]byte(`[]`), "POST", "/aggregates/cart/c1/AddItem", `eyJza3UiOiJhIiwicXVhbnRpdHkiOjEsInByaWNlIjoxfQ==`, true, uint8(2))
	f.Add([]byte(`{"httpMethod":"GET"}`), "GET", "/aggregates/cart/c1", "", true, uint8(3))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{}},"routeKey":"$default"}`), "DELETE", "/aggregates/cart/c1", "!!", true, uint8(1))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"GET","path":"/healthz"}}}`), "OPTIONS", "*", "\x00\xff", false, uint8(2))
	f.Add([]byte(`{"httpMethod":"GET","body":5}`), "", "", "", false, uint8(0))
	f.Add([]byte(`"x"`), "GET", "/views/cart-summary/c1", "", false, uint8(4))
	f.Add([]byte(`{}`), "POST", "/aggregates/cart/c1/AddItem", `{"sku":"\ud800","quantity":1,"price":1}`, false, uint8(1))
	f.Add([]byte(`{}`), "POST", "/aggregates/cart/c1/AddItem", base64.StdEncoding.EncodeToString([]byte("{\"sku\":\"\xff\xfe\",\"quantity\":1,\"price\":1}")), true, uint8(2))
	f.Add([]byte(`{}`), "POST", "/aggregates/cart/%2e%2e/CompletePurchase", `null`, false, uint8(3))
	// Authorizer contexts of every shape, odd values included.
	f.Add([]byte(`{"httpMethod":"POST","path":"/aggregates/cart/c1/AddItem","body":"{\"sku\":\"a\",\"quantity\":1,\"price\":1}","requestContext":{"authorizer":{"claims":{"sub":"\u0000x","cognito:groups":["a",1,null]},"scopes":[1,"s"]},"identity":{"userArn":"arn"}}}`), "GET", "/", "", false, uint8(0))
	f.Add([]byte(`{"httpMethod":"GET","path":"/aggregates/cart/c1","requestContext":{"authorizer":{"principalId":{"a":1},"lambda":"x"}}}`), "GET", "/", "", false, uint8(0))
	f.Add([]byte(`{"version":"2.0","routeKey":"$default","rawPath":"/aggregates/cart/c1/AddItem","body":"{}","requestContext":{"http":{"method":"POST"},"authorizer":{"jwt":{"claims":{"sub":"alice","scp":"[","cognito:groups":"[]"}},"lambda":{"sub":true}}}}`), "GET", "/", "", false, uint8(1))
	f.Add([]byte(`{"version":"2.0","rawPath":"/aggregates/cart/c1","requestContext":{"http":{"method":"GET"},"authorizer":{"iam":{"userArn":"`+strings.Repeat("x", 300)+`"}}}}`), "GET", "/", "", false, uint8(2))
	fx := newFixture(f, withConfig(func(c *Config) { c.MaxBodyBytes = 4096; c.Auth = AuthConfig{TenantClaim: "sub"} }))
	f.Fuzz(func(t *testing.T, raw []byte, method, path, body string, b64 bool, shape uint8) {
		checkLambdaAnswer(t, fx.h, raw, false)
		if method == "" {
			method = "GET" // an empty method is not an HTTP request to the shape detection
		}
		payload, err := json.Marshal(lambdaPayload(method, path, body, b64, shape))
		if err != nil {
			t.Fatal(err)
		}
		checkLambdaAnswer(t, fx.h, payload, true)
	})
}

// lambdaPayload is an HTTP request as Lambda brings it, in the shape
// shape picks (modulo 3): API Gateway REST (1.0), HTTP API (2.0) or a
// function URL.
func lambdaPayload(method, path, body string, b64 bool, shape uint8) any {
	switch shape % 3 {
	case 0: // REST API, payload 1.0
		return map[string]any{"httpMethod": method, "path": path, "resource": "/{proxy+}", "body": body, "isBase64Encoded": b64,
			"headers": map[string]string{"Content-Type": "application/json"}, "requestContext": map[string]any{"requestId": "r", "stage": "prod"}}
	case 1: // HTTP API, payload 2.0
		return map[string]any{"version": "2.0", "routeKey": "$default", "rawPath": path, "body": body, "isBase64Encoded": b64,
			"headers":        map[string]string{"content-type": "application/json"},
			"requestContext": map[string]any{"requestId": "r", "stage": "$default", "http": map[string]any{"method": method, "path": path}}}
	default: // function URL
		return map[string]any{"version": "2.0", "rawPath": path, "body": body, "isBase64Encoded": b64,
			"requestContext": map[string]any{"requestId": "r", "http": map[string]any{"method": method, "path": path}}}
	}
}

// checkLambdaAnswer sends payload to h.Lambda: it may return a Go error
// only when the payload is not an HTTP request (mustBeHTTP false);
// otherwise its answer must be a JSON response with a status in
// 200..599, not 500, and a JSON body (none for a 204).
func checkLambdaAnswer(t *testing.T, h *Handler, payload []byte, mustBeHTTP bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := h.Lambda(ctx, payload)
	if err != nil {
		if mustBeHTTP {
			t.Fatalf("an HTTP payload %s: %v", payload, err)
		}
		return
	}
	var resp lambdaResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("payload %s: response %s is not JSON: %v", payload, out, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		t.Fatalf("payload %s: status %d", payload, resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			t.Fatalf("payload %s: base64 body %q: %v", payload, resp.Body, err)
		}
	}
	if resp.StatusCode == http.StatusNoContent && len(body) == 0 {
		return
	}
	if !json.Valid(body) {
		t.Fatalf("payload %s: %d with body %q", payload, resp.StatusCode, body)
	}
	if resp.StatusCode == http.StatusInternalServerError {
		t.Fatalf("payload %s: 500 from client input: %s", payload, body)
	}
}
