package lambdatest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// HTTPRequest is one API call, sent to a function as API Gateway would:
// as an HTTP API event (payload 2.0, HTTPv2) or a REST API event (payload
// 1.0, HTTPv1).
type HTTPRequest struct {
	// Method is the HTTP method; "" is GET.
	Method string
	// Path is the request path: it starts with "/" and holds no query.
	Path string
	// Query holds the query string parameters, one value each.
	Query map[string]string
	// Headers are sent as given (HTTP APIs lower-case their names). A
	// non-empty Body without a Content-Type header is sent with
	// Content-Type: application/json.
	Headers map[string]string
	// Body is the request body, as text.
	Body string
	// Base64 sends Body base64-encoded with isBase64Encoded, as API Gateway
	// does for binary bodies.
	Base64 bool
	// Claims, when set, are the claims of a caller the gateway's
	// authorizer verified: on an HTTP API event a JWT authorizer's
	// (requestContext.authorizer.jwt.claims, its scopes the "scope" claim
	// split on spaces), on a REST API event a Cognito user pool
	// authorizer's (requestContext.authorizer.claims). Nil sends no
	// authorizer: an anonymous call. E.g. {"sub": "ann"}.
	Claims map[string]string
	// IAM, when set, is a SigV4 caller: an HTTP API event's
	// requestContext.authorizer.iam, a REST API event's
	// requestContext.identity. Without a UserARN it names no caller. A
	// request sets Claims or IAM, not both.
	IAM *IAMCaller
}

// HTTPResponse is a function's HTTP answer, whatever the payload version.
type HTTPResponse struct {
	Status            int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	// Cookies are an HTTP API answer's cookies (API Gateway sends each as
	// a Set-Cookie header).
	Cookies []string
	// Body is the body as sent to the client: decoded when the function
	// answered isBase64Encoded.
	Body string
}

// Header returns the first value of the header name, matched regardless of
// case, from Headers or else MultiValueHeaders; "" when there is none.
func (r HTTPResponse) Header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// ErrMalformedResponse is the error (wrapped) of an answer API Gateway
// could not turn into an HTTP response: it would answer 502 instead.
var ErrMalformedResponse = errors.New("malformed Lambda proxy response")

// HTTPv2 invokes f with r as an HTTP API event (payload 2.0, see V2Event)
// and decodes the answer (see DecodeV2). Outcomes: the response; an error
// from V2Event for a malformed r; Invoke's errors (a *FunctionError among
// them); an error wrapping ErrMalformedResponse from DecodeV2.
func (f *Function) HTTPv2(ctx context.Context, r HTTPRequest) (HTTPResponse, error) {
	ev, err := r.V2Event()
	if err != nil {
		return HTTPResponse{}, err
	}
	raw, err := f.Invoke(ctx, ev)
	if err != nil {
		return HTTPResponse{}, err
	}
	return DecodeV2(raw)
}

// HTTPv1 invokes f with r as a REST API event (payload 1.0, see V1Event)
// and decodes the answer (see DecodeV1). Outcomes: the response; an error
// from V1Event for a malformed r; Invoke's errors (a *FunctionError among
// them); an error wrapping ErrMalformedResponse from DecodeV1.
func (f *Function) HTTPv1(ctx context.Context, r HTTPRequest) (HTTPResponse, error) {
	ev, err := r.V1Event()
	if err != nil {
		return HTTPResponse{}, err
	}
	raw, err := f.Invoke(ctx, ev)
	if err != nil {
		return HTTPResponse{}, err
	}
	return DecodeV1(raw)
}

var requestSeq atomic.Int64

// requestID is unique per request, as API Gateway's are.
func requestID() string {
	return fmt.Sprintf("lambdatest-%d-%d", time.Now().UnixNano(), requestSeq.Add(1))
}

// check validates r and returns its method ("" is GET).
func (r HTTPRequest) check() (string, error) {
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?#") {
		return "", fmt.Errorf("lambdatest: request path %q: want a path starting with / and no query (use Query)", r.Path)
	}
	method := r.Method
	if method == "" {
		method = "GET"
	}
	if strings.ContainsAny(method, " \t\r\n") {
		return "", fmt.Errorf("lambdatest: request method %q", method)
	}
	if r.Claims != nil && r.IAM != nil {
		return "", errTwoCallers
	}
	return method, nil
}

// body returns the body as sent and whether it is base64.
func (r HTTPRequest) body() string {
	if r.Base64 {
		return base64.StdEncoding.EncodeToString([]byte(r.Body))
	}
	return r.Body
}

// headers returns r's headers, names lower-cased when lower, with the
// default Content-Type.
func (r HTTPRequest) headers(lower bool) map[string]string {
	h := make(map[string]string, len(r.Headers)+1)
	hasType := false
	for k, v := range r.Headers {
		if lower {
			k = strings.ToLower(k)
		}
		h[k] = v
		hasType = hasType || strings.EqualFold(k, "content-type")
	}
	if r.Body != "" && !hasType {
		name := "Content-Type"
		if lower {
			name = "content-type"
		}
		h[name] = "application/json"
	}
	return h
}

// rawQuery is Query as a client would send it: escaped, sorted by name.
func (r HTTPRequest) rawQuery() string {
	keys := make([]string, 0, len(r.Query))
	for k := range r.Query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(r.Query[k]))
	}
	return strings.Join(parts, "&")
}

// V2Event is r as API Gateway's HTTP API sends it to a function (payload
// 2.0, route $default, stage $default): header names lower-cased, Cookie
// headers moved to the cookies field, the query both raw and parsed, a
// fresh request id, source IP 127.0.0.1, the caller (Claims or IAM) in
// requestContext.authorizer. Pass it to an in-process handler, or let
// HTTPv2 send it. The error is a path that does not start with "/" or
// holds a query, a method with spaces, or both Claims and IAM set.
func (r HTTPRequest) V2Event() (events.APIGatewayV2HTTPRequest, error) {
	method, err := r.check()
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	headers := r.headers(true)
	var cookies []string
	if c, ok := headers["cookie"]; ok {
		delete(headers, "cookie")
		for _, part := range strings.Split(c, ";") {
			if part = strings.TrimSpace(part); part != "" {
				cookies = append(cookies, part)
			}
		}
	}
	now := time.Now()
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.Path, RawQueryString: r.rawQuery(),
		Cookies: cookies, Headers: headers, QueryStringParameters: r.Query,
		Body: r.body(), IsBase64Encoded: r.Base64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "000000000000", APIID: "lambdatest", DomainName: "lambdatest.local", DomainPrefix: "lambdatest",
			Stage: "$default", RequestID: requestID(), RouteKey: "$default", Authorizer: r.v2Authorizer(),
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: r.Path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: headers["user-agent"],
			},
		},
	}, nil
}

// V1Event is r as API Gateway's REST API sends it to a function (payload
// 1.0, resource /{proxy+}, stage prod): headers and query both single- and
// multi-valued, a fresh request id, source IP 127.0.0.1, Claims in
// requestContext.authorizer and IAM in requestContext.identity. Pass it
// to an in-process handler, or let HTTPv1 send it. The errors are
// V2Event's.
func (r HTTPRequest) V1Event() (events.APIGatewayProxyRequest, error) {
	method, err := r.check()
	if err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	headers := r.headers(false)
	multiHeaders := make(map[string][]string, len(headers))
	for k, v := range headers {
		multiHeaders[k] = []string{v}
	}
	var multiQuery map[string][]string
	if len(r.Query) > 0 {
		multiQuery = make(map[string][]string, len(r.Query))
		for k, v := range r.Query {
			multiQuery[k] = []string{v}
		}
	}
	return events.APIGatewayProxyRequest{
		Resource: "/{proxy+}", Path: r.Path, HTTPMethod: method,
		Headers: headers, MultiValueHeaders: multiHeaders,
		QueryStringParameters: r.Query, MultiValueQueryStringParameters: multiQuery,
		PathParameters: map[string]string{"proxy": strings.TrimPrefix(r.Path, "/")},
		Body:           r.body(), IsBase64Encoded: r.Base64,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "000000000000", APIID: "lambdatest", ResourcePath: "/{proxy+}",
			Stage: "prod", RequestID: requestID(), HTTPMethod: method, Path: "/prod" + r.Path,
			Protocol: "HTTP/1.1", RequestTimeEpoch: time.Now().UnixMilli(),
			Identity: r.v1Identity(headers["User-Agent"]), Authorizer: r.v1Authorizer(),
		},
	}, nil
}

// DecodeV2 reads a function's answer to an HTTP API event as API Gateway
// does: a JSON object with a statusCode is the response (its body decoded
// when isBase64Encoded); any other JSON value is a 200 with that JSON as
// the body and Content-Type: application/json. An answer that is not JSON,
// a statusCode outside 100 to 599, or a base64 body that does not decode,
// is an error wrapping ErrMalformedResponse.
func DecodeV2(raw []byte) (HTTPResponse, error) {
	if !json.Valid(raw) {
		return HTTPResponse{}, fmt.Errorf("%w: not JSON: %s", ErrMalformedResponse, tail(string(raw), 1<<10))
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil || probe["statusCode"] == nil {
		return HTTPResponse{Status: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(raw)}, nil
	}
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return HTTPResponse{}, fmt.Errorf("%w: %v: %s", ErrMalformedResponse, err, tail(string(raw), 1<<10))
	}
	if out.StatusCode < 100 || out.StatusCode > 599 {
		return HTTPResponse{}, fmt.Errorf("%w: statusCode %d: %s", ErrMalformedResponse, out.StatusCode, tail(string(raw), 1<<10))
	}
	body, err := decodeBody(out.Body, out.IsBase64Encoded)
	if err != nil {
		return HTTPResponse{}, err
	}
	return HTTPResponse{Status: out.StatusCode, Headers: out.Headers, MultiValueHeaders: out.MultiValueHeaders, Cookies: out.Cookies, Body: body}, nil
}

// DecodeV1 reads a function's answer to a REST API event as API Gateway
// does: it must be a JSON object with a statusCode from 100 to 599 (its
// body decoded when isBase64Encoded). Anything else, for which API Gateway
// answers 502, is an error wrapping ErrMalformedResponse.
func DecodeV1(raw []byte) (HTTPResponse, error) {
	var out events.APIGatewayProxyResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return HTTPResponse{}, fmt.Errorf("%w: %v: %s", ErrMalformedResponse, err, tail(string(raw), 1<<10))
	}
	if out.StatusCode < 100 || out.StatusCode > 599 {
		return HTTPResponse{}, fmt.Errorf("%w: statusCode %d: %s", ErrMalformedResponse, out.StatusCode, tail(string(raw), 1<<10))
	}
	body, err := decodeBody(out.Body, out.IsBase64Encoded)
	if err != nil {
		return HTTPResponse{}, err
	}
	return HTTPResponse{Status: out.StatusCode, Headers: out.Headers, MultiValueHeaders: out.MultiValueHeaders, Body: body}, nil
}

func decodeBody(body string, b64 bool) (string, error) {
	if !b64 {
		return body, nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return "", fmt.Errorf("%w: isBase64Encoded, but the body is not base64: %v", ErrMalformedResponse, err)
	}
	return string(b), nil
}
