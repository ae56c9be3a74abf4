// Command http is the fixture of the HTTP helpers' tests: it answers an API
// Gateway event (payload 2.0 or 1.0, told apart by httpMethod) with what it
// received, so a test sees what the event carried (its caller among it). /plain answers JSON that
// is not an HTTP response, /bad-status a response without a valid status,
// and ?b64=1 a base64-encoded body. It lives under testdata so that
// `go build ./...` skips it.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type seen struct {
	Version  string              `json:"version"`
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	RawQuery string              `json:"rawQuery,omitempty"`
	Query    map[string]string   `json:"query,omitempty"`
	MultiQ   map[string][]string `json:"multiQuery,omitempty"`
	Headers  map[string]string   `json:"headers"`
	MultiH   map[string][]string `json:"multiHeaders,omitempty"`
	Cookies  []string            `json:"cookies,omitempty"`
	Body     string              `json:"body"`
	Base64   bool                `json:"base64"`
	Request  string              `json:"requestId"`
	// Authorizer is requestContext.authorizer, Identity a REST API
	// event's requestContext.identity, as the function decoded them.
	Authorizer any                               `json:"authorizer,omitempty"`
	Identity   *events.APIGatewayRequestIdentity `json:"identity,omitempty"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		HTTPMethod string `json:"httpMethod"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	var s seen
	if probe.HTTPMethod != "" {
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		s = seen{Version: "1.0", Method: ev.HTTPMethod, Path: ev.Path, Query: ev.QueryStringParameters, MultiQ: ev.MultiValueQueryStringParameters,
			Headers: ev.Headers, MultiH: ev.MultiValueHeaders, Body: ev.Body, Base64: ev.IsBase64Encoded, Request: ev.RequestContext.RequestID,
			Authorizer: ev.RequestContext.Authorizer, Identity: &ev.RequestContext.Identity}
	} else {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		if ev.Version != "2.0" {
			return nil, errors.New("not an API Gateway event")
		}
		s = seen{Version: "2.0", Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath, RawQuery: ev.RawQueryString, Query: ev.QueryStringParameters,
			Headers: ev.Headers, Cookies: ev.Cookies, Body: ev.Body, Base64: ev.IsBase64Encoded, Request: ev.RequestContext.RequestID}
		if ev.RequestContext.Authorizer != nil {
			s.Authorizer = ev.RequestContext.Authorizer
		}
	}
	if s.Base64 {
		b, err := base64.StdEncoding.DecodeString(s.Body)
		if err != nil {
			return nil, err
		}
		s.Body = string(b)
	}
	switch s.Path {
	case "/plain":
		return map[string]any{"plain": true}, nil
	case "/bad-status":
		return map[string]any{"statusCode": 0, "body": "x"}, nil
	}
	body, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"X-Echo": s.Version}, Body: string(body)}
	if s.Version == "2.0" {
		out.Cookies = []string{"session=abc; HttpOnly"}
	} else {
		out.MultiValueHeaders = map[string][]string{"Set-Cookie": {"session=abc; HttpOnly"}}
	}
	if s.Query["b64"] == "1" {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return out, nil
}

func main() {
	lambda.Start(handle)
}
