package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
)

// HandleV2 serves an API Gateway HTTP API request (payload format 2.0),
// whose rawPath starts with the stage when it is named (not "$default").
// The caller is the one API Gateway verified: the JWT, IAM or Lambda
// authorizer's (requestContext.authorizer; see Config.Auth); none
// without one. It never returns an error: every problem is an HTTP response.
func (h *Handler) HandleV2(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	w := h.serveEvent(ctx, eventRequest{
		method:    ev.RequestContext.HTTP.Method,
		path:      stripStage(path, ev.RequestContext.Stage),
		query:     ev.RawQueryString,
		header:    headersOf(ev.Headers, nil),
		body:      ev.Body,
		base64:    ev.IsBase64Encoded,
		gatewayID: ev.RequestContext.RequestID,
		sourceIP:  ev.RequestContext.HTTP.SourceIP,
		principal: h.auth.principalV2(ev.RequestContext.Authorizer),
	})
	return events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: flatHeaders(w.header), Body: w.body.String()}, nil
}

// HandleV1 serves an API Gateway REST API request (payload format 1.0),
// whose path comes without the stage. The caller is the one API Gateway
// verified: a Cognito user pool authorizer's claims, a Lambda
// authorizer's principalId and context (requestContext.authorizer), or
// the IAM caller (requestContext.identity.userArn); none without them.
// It never returns an error.
func (h *Handler) HandleV1(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.handleV1(ctx, ev, ""), nil
}

// handleV1 serves a payload 1.0 event; stage is stripped from the path
// (HTTP APIs sending payload 1.0 keep a named stage in it, REST APIs do
// not). The query is rebuilt from the decoded parameters, the
// multi-value ones when the event has them.
func (h *Handler) handleV1(ctx context.Context, ev events.APIGatewayProxyRequest, stage string) events.APIGatewayProxyResponse {
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
	w := h.serveEvent(ctx, eventRequest{
		method:    method,
		path:      stripStage(ev.Path, stage),
		query:     q.Encode(),
		header:    headersOf(ev.Headers, ev.MultiValueHeaders),
		body:      ev.Body,
		base64:    ev.IsBase64Encoded,
		gatewayID: ev.RequestContext.RequestID,
		sourceIP:  ev.RequestContext.Identity.SourceIP,
		principal: h.auth.principalV1(&ev.RequestContext),
	})
	return events.APIGatewayProxyResponse{StatusCode: w.status, Headers: flatHeaders(w.header), Body: w.body.String()}
}

// HandleFunctionURL serves a Lambda function URL request. The caller is
// the IAM caller of a URL whose AuthType is AWS_IAM
// (requestContext.authorizer.iam); none with AuthType NONE. It never
// returns an error.
func (h *Handler) HandleFunctionURL(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	w := h.serveEvent(ctx, eventRequest{
		method:    ev.RequestContext.HTTP.Method,
		path:      path,
		query:     ev.RawQueryString,
		header:    headersOf(ev.Headers, nil),
		body:      ev.Body,
		base64:    ev.IsBase64Encoded,
		gatewayID: ev.RequestContext.RequestID,
		sourceIP:  ev.RequestContext.HTTP.SourceIP,
		principal: h.auth.principalFunctionURL(ev.RequestContext.Authorizer),
	})
	return events.LambdaFunctionURLResponse{StatusCode: w.status, Headers: flatHeaders(w.header), Body: w.body.String()}, nil
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
	out, err := h.serveShape(ctx, payload, shape)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("httpapi: encoding the response: %w", err)
	}
	return b, nil
}

// serveShape decodes the payload as the event its shape says and serves it.
func (h *Handler) serveShape(ctx context.Context, payload json.RawMessage, shape payloadShape) (any, error) {
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
		return h.handleV1(ctx, ev, stage), nil
	case shape.Version == "2.0" && shape.RequestContext.HTTP != nil && shape.RouteKey != "":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("httpapi: malformed API Gateway (payload 2.0) event: %w", err)
		}
		return h.HandleV2(ctx, ev)
	case shape.Version == "2.0" && shape.RequestContext.HTTP != nil:
		var ev events.LambdaFunctionURLRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("httpapi: malformed function URL event: %w", err)
		}
		return h.HandleFunctionURL(ctx, ev)
	}
	return nil, errors.New("httpapi: the invocation payload is not an API Gateway or function URL request")
}
