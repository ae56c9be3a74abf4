package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/signalforgo/signal/internal/testbank"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/signalforgo/signal/pkg/signal"
)

// callerTransport sends a call through one Lambda entry point as the
// caller sub (none when ""), with that gateway's kind of authorizer.
type callerTransport struct {
	name string
	send func(t testing.TB, h *Handler, c call, sub string) reply
}

var callerTransports = []callerTransport{
	{"HandleV2 (JWT authorizer)", func(t testing.TB, h *Handler, c call, sub string) reply {
		var ev events.APIGatewayV2HTTPRequest
		unmarshal(t, withCaller(v2Event(c, "prod", false), sub, jwtAuthorizer), &ev)
		resp, _ := h.HandleV2(context.Background(), ev)
		return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
	}},
	{"HandleV1 (Cognito authorizer)", func(t testing.TB, h *Handler, c call, sub string) reply {
		var ev events.APIGatewayProxyRequest
		unmarshal(t, withCaller(v1Event(c, false), sub, cognitoAuthorizer), &ev)
		resp, _ := h.HandleV1(context.Background(), ev)
		return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
	}},
	{"HandleFunctionURL (AWS_IAM)", func(t testing.TB, h *Handler, c call, sub string) reply {
		var ev events.LambdaFunctionURLRequest
		unmarshal(t, withCaller(functionURLEvent(c, false), sub, iamAuthorizer), &ev)
		resp, _ := h.HandleFunctionURL(context.Background(), ev)
		return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
	}},
	{"Lambda, REST (Lambda authorizer)", func(t testing.TB, h *Handler, c call, sub string) reply {
		return lambdaReply(t, h, withCaller(v1Event(c, true), sub, lambdaAuthorizerV1))
	}},
	{"Lambda, HTTP API (Lambda authorizer)", func(t testing.TB, h *Handler, c call, sub string) reply {
		return lambdaReply(t, h, withCaller(v2Event(c, "$default", true), sub, lambdaAuthorizerV2))
	}},
}

// The authorizer contexts, as each gateway writes them for subject sub.
func jwtAuthorizer(rc map[string]any, sub string) {
	rc["authorizer"] = map[string]any{"jwt": map[string]any{"claims": map[string]string{"sub": sub, "iss": "https://idp.example"}, "scopes": nil}}
}

func cognitoAuthorizer(rc map[string]any, sub string) {
	rc["authorizer"] = map[string]any{"claims": map[string]string{"sub": sub, "cognito:username": sub, "token_use": "id"}}
}

func iamAuthorizer(rc map[string]any, sub string) {
	rc["authorizer"] = map[string]any{"iam": map[string]string{"accountId": "111122223333", "callerId": "AIDA" + sub, "userArn": sub, "userId": "AIDA" + sub}}
}

func lambdaAuthorizerV1(rc map[string]any, sub string) {
	rc["authorizer"] = map[string]any{"principalId": sub, "integrationLatency": 3}
}

func lambdaAuthorizerV2(rc map[string]any, sub string) {
	rc["authorizer"] = map[string]any{"lambda": map[string]any{"sub": sub}}
}

// withCaller sets the request context's authorizer of the event payload
// for sub; "" leaves the event without one.
func withCaller(payload []byte, sub string, set func(rc map[string]any, sub string)) []byte {
	if sub == "" {
		return payload
	}
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		panic(err)
	}
	set(ev["requestContext"].(map[string]any), sub)
	return mustJSON(ev)
}

func unmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func lambdaReply(t testing.TB, h *Handler, payload []byte) reply {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-auth"})
	out, err := h.Lambda(ctx, payload)
	if err != nil {
		t.Fatalf("Lambda returned an error: %v", err)
	}
	var resp lambdaResponse
	unmarshal(t, out, &resp)
	return reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}
}

// TestAuthorizeThroughLambda: with the owner rule, every Lambda entry
// point takes the caller from its authorizer context: an anonymous event
// is refused 401 (even with the dev header, which only signal dev
// reads), another subject 403, and nothing is written; the owner's
// commands succeed and the history names the owner as their actor.
func TestAuthorizeThroughLambda(t *testing.T) {
	for _, tr := range callerTransports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t, func(c *signal.Config, _ *Config) { c.Authorize = testbank.OwnersOnly })
			send := func(c call, sub string) reply { t.Helper(); return tr.send(t, f.h, c, sub) }
			owner := "alice@" + tr.name
			add := call{method: "POST", target: "/aggregates/cart/c1/AddItem", body: addItem("apple", 1, 2)}
			checkError(t, send(add, ""), 401, "unauthenticated")
			if r := send(add, owner); r.status != 201 {
				t.Fatalf("the owner's first command: %d %s", r.status, r.body)
			}
			before := f.feedLen(t)
			refused := []struct {
				what   string
				c      call
				sub    string
				status int
				code   string
			}{
				{"anonymous command", add, "", 401, "unauthenticated"},
				{"anonymous with the dev header", call{method: "POST", target: add.target, body: add.body,
					header: map[string]string{InsecurePrincipalHeader: "sub=" + owner}}, "", 401, "unauthenticated"},
				{"anonymous read", call{method: "GET", target: "/aggregates/cart/c1"}, "", 401, "unauthenticated"},
				{"anonymous history", call{method: "GET", target: "/aggregates/cart/c1/events"}, "", 401, "unauthenticated"},
				{"another's command", add, "mallory", 403, "forbidden"},
				{"another's purchase", call{method: "POST", target: "/aggregates/cart/c1/CompletePurchase"}, "mallory", 403, "forbidden"},
				{"another's read", call{method: "GET", target: "/aggregates/cart/c1"}, "mallory", 403, "forbidden"},
				{"another's replay", call{method: "GET", target: "/aggregates/cart/c1?version=1"}, "mallory", 403, "forbidden"},
				{"another's history", call{method: "GET", target: "/aggregates/cart/c1/events"}, "mallory", 403, "forbidden"},
				{"another's end", call{method: "DELETE", target: "/aggregates/cart/c1"}, "mallory", 403, "forbidden"},
				{"anonymous view", call{method: "GET", target: "/views/cart-summary/c1"}, "", 401, "unauthenticated"},
			}
			for _, tc := range refused {
				checkError(t, send(tc.c, tc.sub), tc.status, tc.code)
			}
			if n := f.feedLen(t); n != before {
				t.Errorf("refused requests wrote %d commits", n-before)
			}
			if r := send(call{method: "POST", target: "/aggregates/cart/c1/CompletePurchase"}, owner); r.status != 200 {
				t.Fatalf("the owner's purchase: %d %s", r.status, r.body)
			}
			checkOwnerHistory(t, send(call{method: "GET", target: "/aggregates/cart/c1/events"}, owner), owner)
			if r := send(call{method: "GET", target: "/views/cart-summary/c1"}, "mallory"); r.status != 200 {
				t.Errorf("a view read by any caller: %d %s", r.status, r.body)
			}
		})
	}
}

// checkOwnerHistory: the history's events carry their actor: the owner.
func checkOwnerHistory(t *testing.T, r reply, owner string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("the owner's history: %d %s", r.status, r.body)
	}
	evs, _ := get(t, r.json(t), "events").([]any)
	if len(evs) != 2 {
		t.Fatalf("history of %d events, want 2: %s", len(evs), r.body)
	}
	for i, e := range evs {
		if a := get(t, e, "actor"); a != owner {
			t.Errorf("event %d: actor %v, want %q", i, a, owner)
		}
	}
}

// TestHistoryActorOmitted: an event written without a principal has no
// "actor" member in the history answer.
func TestHistoryActorOmitted(t *testing.T) {
	f := newFixture(t)
	if r := doHTTP(t, f.h, call{method: "POST", target: "/aggregates/cart/c9/AddItem", body: addItem("pear", 1, 1)}); r.status != 201 {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	r := doV2(t, f.h, call{method: "GET", target: "/aggregates/cart/c9/events"})
	e, _ := get(t, r.json(t), "events.0").(map[string]any)
	if _, ok := e["actor"]; ok {
		t.Errorf("an anonymous event has an actor: %s", r.body)
	}
}

// TestEventPrincipalOnly: the principal is the event's alone: a context
// that carries one (set by Go code calling HandleV2) does not make an
// anonymous event authenticated.
func TestEventPrincipalOnly(t *testing.T) {
	f := newFixture(t, func(c *signal.Config, _ *Config) { c.Authorize = testbank.OwnersOnly })
	var ev events.APIGatewayV2HTTPRequest
	unmarshal(t, v2Event(call{method: "GET", target: "/aggregates/cart/c1"}, "$default", false), &ev)
	ctx := signal.WithPrincipal(context.Background(), &signal.Principal{Subject: "alice"})
	resp, _ := f.h.HandleV2(ctx, ev)
	checkError(t, reply{status: resp.StatusCode, header: headerOf(resp.Headers), body: []byte(resp.Body)}, 401, "unauthenticated")
}

// TestAuthConfigTenantAndGroups: Config.Auth's claims reach the rule.
func TestAuthConfigTenantAndGroups(t *testing.T) {
	var seen *signal.Principal
	f := newFixture(t,
		func(c *signal.Config, _ *Config) {
			c.Authorize = func(_ context.Context, p *signal.Principal, _ *signal.Action) error { seen = p; return nil }
		},
		withConfig(func(c *Config) { c.Auth = AuthConfig{TenantClaim: "custom:tenant", GroupsClaim: "roles"} }))
	payload := withCaller(v2Event(call{method: "GET", target: "/aggregates/cart/c1"}, "$default", false), "x", func(rc map[string]any, sub string) {
		rc["authorizer"] = map[string]any{"jwt": map[string]any{"claims": map[string]string{"sub": sub, "custom:tenant": "acme", "roles": "[admin ops]"}}}
	})
	if r := lambdaReply(t, f.h, payload); r.status != 404 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := fmt.Sprintf("%s %s %q", seen.Subject, seen.Tenant, seen.Groups); got != `x acme ["admin" "ops"]` {
		t.Errorf("the rule saw %s", got)
	}
}
