package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/signalforgo/signal/pkg/signal"
)

var _ http.Handler = (*Handler)(nil)

// ServeHTTP serves the API on net/http (signal dev, tests). Each request
// gets a generated id, returned in the X-Request-Id header. A body left
// unread (too large, or sent where none is taken) is read and discarded,
// up to 8 MiB within 5 s, before the answer is written, so a client
// still sending it gets to read the answer instead of a connection reset.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, gw := requestID(r.Context(), "")
	body := &httpBody{r: r}
	req := &request{
		method:    r.Method,
		path:      r.URL.EscapedPath(),
		query:     r.URL.RawQuery,
		header:    r.Header,
		requestID: id,
		gatewayID: gw,
		body:      body.read,
	}
	resp := h.serve(r.Context(), req)
	body.discardRest(w)
	hdr := w.Header()
	for k, vs := range resp.header {
		hdr[k] = vs
	}
	w.WriteHeader(resp.status)
	if len(resp.body) > 0 {
		_, _ = w.Write(resp.body)
	}
}

// eventBody returns the body function of a Lambda event's body, decoding
// base64 when the event says so. The size limit applies to the decoded body.
func eventBody(body string, isBase64 bool) func(int64) ([]byte, error) {
	return func(max int64) ([]byte, error) {
		if !isBase64 {
			if int64(len(body)) > max {
				return nil, tooLarge(max)
			}
			return []byte(body), nil
		}
		// A padded encoding decodes to at most 2 bytes fewer than DecodedLen.
		if int64(base64.StdEncoding.DecodedLen(len(body)))-2 > max {
			return nil, tooLarge(max)
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, invalid("the request body is flagged base64 but is not valid base64")
		}
		if int64(len(b)) > max {
			return nil, tooLarge(max)
		}
		return b, nil
	}
}

// requestID returns the id of the request: the Lambda request id when the
// context has one (gw then keeps API Gateway's own id, for the log), else
// API Gateway's id, else a new one.
func requestID(ctx context.Context, gateway string) (id, gw string) {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID, gateway
	}
	if gateway != "" {
		return gateway, ""
	}
	return signal.NewID(), ""
}

// headersOf builds a canonical http.Header from an event's headers,
// preferring the multi-value form when the event has it.
func headersOf(single map[string]string, multi map[string][]string) http.Header {
	h := make(http.Header, max(len(single), len(multi)))
	if len(multi) > 0 {
		for k, vs := range multi {
			ck := textproto.CanonicalMIMEHeaderKey(k)
			h[ck] = append(h[ck], vs...)
		}
		return h
	}
	for k, v := range single {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		h[ck] = append(h[ck], v)
	}
	return h
}

// stripStage removes a leading "/<stage>" from an HTTP API path: with a
// named stage (not "$default") rawPath starts with it.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	p := "/" + stage
	if path == p {
		return "/"
	}
	if strings.HasPrefix(path, p+"/") {
		return path[len(p):]
	}
	return path
}

// flatHeaders joins each header's values, for Lambda responses.
func flatHeaders(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, vs := range h {
		m[k] = strings.Join(vs, ", ")
	}
	return m
}

// HandleV2 serves an API Gateway HTTP API request (payload format 2.0).
// It never returns an error: every problem is an HTTP response.
func (h *Handler) HandleV2(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	id, gw := requestID(ctx, ev.RequestContext.RequestID)
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	resp := h.serve(ctx, &request{
		method:    ev.RequestContext.HTTP.Method,
		path:      stripStage(path, ev.RequestContext.Stage),
		query:     ev.RawQueryString,
		header:    headersOf(ev.Headers, nil),
		body:      eventBody(ev.Body, ev.IsBase64Encoded),
		requestID: id,
		gatewayID: gw,
	})
	return events.APIGatewayV2HTTPResponse{StatusCode: resp.status, Headers: flatHeaders(resp.header), Body: string(resp.body)}, nil
}

// HandleV1 serves an API Gateway REST API request (payload format 1.0),
// whose path comes without the stage. It never returns an error.
func (h *Handler) HandleV1(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.handleV1(ctx, ev, ""), nil
}

// handleV1 serves a payload 1.0 event; stage is stripped from the path
// (HTTP APIs sending payload 1.0 keep a named stage in it, REST APIs do not).
func (h *Handler) handleV1(ctx context.Context, ev events.APIGatewayProxyRequest, stage string) events.APIGatewayProxyResponse {
	id, gw := requestID(ctx, ev.RequestContext.RequestID)
	q := url.Values{}
	if len(ev.MultiValueQueryStringParameters) > 0 {
		for k, vs := range ev.MultiValueQueryStringParameters {
			q[k] = append(q[k], vs...)
		}
	} else {
		for k, v := range ev.QueryStringParameters {
			q.Set(k, v)
		}
	}
	method := ev.HTTPMethod
	if method == "" {
		method = ev.RequestContext.HTTPMethod
	}
	resp := h.serve(ctx, &request{
		method:    method,
		path:      stripStage(ev.Path, stage),
		query:     q.Encode(),
		header:    headersOf(ev.Headers, ev.MultiValueHeaders),
		body:      eventBody(ev.Body, ev.IsBase64Encoded),
		requestID: id,
		gatewayID: gw,
	})
	return events.APIGatewayProxyResponse{StatusCode: resp.status, Headers: flatHeaders(resp.header), Body: string(resp.body)}
}

// HandleFunctionURL serves a Lambda function URL request. It never
// returns an error.
func (h *Handler) HandleFunctionURL(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	id, gw := requestID(ctx, ev.RequestContext.RequestID)
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	resp := h.serve(ctx, &request{
		method:    ev.RequestContext.HTTP.Method,
		path:      path,
		query:     ev.RawQueryString,
		header:    headersOf(ev.Headers, nil),
		body:      eventBody(ev.Body, ev.IsBase64Encoded),
		requestID: id,
		gatewayID: gw,
	})
	return events.LambdaFunctionURLResponse{StatusCode: resp.status, Headers: flatHeaders(resp.header), Body: string(resp.body)}, nil
}

// payloadShape is just enough of an invocation payload to tell its kind.
type payloadShape struct {
	HTTPMethod     string `json:"httpMethod"`
	Version        string `json:"version"`
	RouteKey       string `json:"routeKey"`
	RequestContext struct {
		HTTP  *struct{} `json:"http"`
		Stage string    `json:"stage"`
	} `json:"requestContext"`
}

// Lambda handles a raw invocation payload, detecting its shape, so one
// function serves a REST API (payload 1.0: has "httpMethod"), an HTTP API
// (payload 2.0 or 1.0) or a function URL ("version":"2.0" with
// requestContext.http; API Gateway's also has a routeKey). Pass it to
// lambda.Start. It returns an error only for a payload that is not an
// HTTP request at all (a wrong trigger), never for a request problem.
func (h *Handler) Lambda(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var shape payloadShape
	if err := json.Unmarshal(payload, &shape); err != nil {
		return nil, fmt.Errorf("httpapi: the invocation payload is not a JSON object: %w", err)
	}
	var out any
	switch {
	case shape.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("httpapi: malformed API Gateway (payload 1.0) event: %w", err)
		}
		stage := ""
		if shape.Version == "1.0" { // an HTTP API, not a REST API
			stage = shape.RequestContext.Stage
		}
		out = h.handleV1(ctx, ev, stage)
	case shape.Version == "2.0" && shape.RequestContext.HTTP != nil && shape.RouteKey != "":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("httpapi: malformed API Gateway (payload 2.0) event: %w", err)
		}
		out, _ = h.HandleV2(ctx, ev)
	case shape.Version == "2.0" && shape.RequestContext.HTTP != nil:
		var ev events.LambdaFunctionURLRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("httpapi: malformed function URL event: %w", err)
		}
		out, _ = h.HandleFunctionURL(ctx, ev)
	default:
		return nil, errors.New("httpapi: the invocation payload is not an API Gateway or function URL request")
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("httpapi: encoding the response: %w", err)
	}
	return b, nil
}
