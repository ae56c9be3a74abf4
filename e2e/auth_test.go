package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/signalforgo/signal/pkg/lambdatest"
)

// The callers of these tests: claims as API Gateway's JWT (HTTP API) or
// Cognito (REST API) authorizer hands them to the function once it has
// verified the token. nil is a request the gateway let through without
// one (a route left without an authorizer).
var (
	annClaims = map[string]string{"sub": "ann", "iss": "https://idp.example"}
	bobClaims = map[string]string{"sub": "bob", "iss": "https://idp.example"}
	// ciRole signs its requests (an IAM authorizer on the route): its
	// subject is its ARN.
	ciRole = &lambdatest.IAMCaller{UserARN: "arn:aws:sts::111122223333:assumed-role/ci/run-1", AccountID: "111122223333",
		CallerID: "AROAEXAMPLE:run-1", UserID: "AROAEXAMPLE:run-1", AccessKey: "ASIAEXAMPLE"}
)

// apis are the two API Gateway flavours, each with its payload version.
var apis = []struct {
	name string
	send sender
}{{"http-api-v2", v2}, {"rest-api-v1", v1}}

// as is r sent by the caller of claims (nil: anonymous).
func as(claims map[string]string, r request) request {
	r.Claims = claims
	return r
}

// call is one request to one of a stack's functions.
type call struct {
	fn  *lambdatest.Function
	req request
}

// TestAuthCartOwnership: the cart's three bootstraps with the callers of
// both API flavours. Ann's cart, its history, its cart-summary and the
// order the policy opened are hers alone: without a caller they answer
// 401, to bob or an IAM caller 403, and none of them writes anything. The audit trail names
// ann on her commits and the policy on the order's.
func TestAuthCartOwnership(t *testing.T) {
	s := newStack(t)
	for _, api := range apis {
		t.Run(api.name, func(t *testing.T) {
			id := "c1-" + api.name
			for _, cmd := range []struct {
				name, body string
				status     int
			}{{"AddItem", `{"sku":"apple","quantity":2,"price":50}`, 201}, {"CompletePurchase", `{}`, 200}} {
				r := api.send(t, s.command, as(annClaims, request{Method: "POST", Path: "/aggregates/cart/" + id + "/" + cmd.name, Body: cmd.body}))
				if r.Status != cmd.status {
					t.Fatalf("ann's %s: %d %s", cmd.name, r.Status, r.Body)
				}
			}
			s.drain() // the views, and the policy opens the order
			s.drain() // the order's own commit
			ownerReadsCart(t, s, api.send, id)

			before := s.itemCount(s.tables.Events)
			for _, c := range []struct {
				who    string
				claims map[string]string
				iam    *lambdatest.IAMCaller
				status int
				code   string
			}{
				{"no caller", nil, nil, 401, "unauthenticated"},
				{"bob", bobClaims, nil, 403, "forbidden"},
				{"an IAM caller", nil, ciRole, 403, "forbidden"},
			} {
				for _, k := range cartCalls(s, id) {
					req := as(c.claims, k.req)
					req.IAM = c.iam
					r := api.send(t, k.fn, req)
					if r.Status != c.status || r.errorCode(t) != c.code {
						t.Errorf("%s: %s %s: %d %s, want %d %s", c.who, k.req.Method, k.req.Path, r.Status, r.Body, c.status, c.code)
					}
				}
			}
			if n := s.itemCount(s.tables.Events); n != before {
				t.Fatalf("refused requests wrote: %d items in the events table, was %d", n, before)
			}
		})
	}
	if len(s.pump.DeadLetters()) != 0 || len(s.pump.Failures()) != 0 {
		t.Fatalf("projector failures: %v, dead letters %v", s.pump.Failures(), s.pump.DeadLetters())
	}
}

// cartCalls are the requests on ann's purchased cart id that only she may
// make: commands (authorization comes before the cart's own refusal of
// changes after purchase, so even these are 401 or 403, not 410), its
// state, its history, its cart-summary, its order.
func cartCalls(s *stack, id string) []call {
	cart := "/aggregates/cart/" + id
	return []call{
		{s.command, request{Method: "POST", Path: cart + "/AddItem", Body: `{"sku":"pear","quantity":1,"price":10}`}},
		{s.command, request{Method: "POST", Path: cart + "/CompletePurchase", Body: `{}`}},
		{s.command, request{Method: "DELETE", Path: cart}},
		{s.query, request{Method: "GET", Path: cart}},
		{s.query, request{Method: "GET", Path: cart, Query: map[string]string{"version": "1"}}},
		{s.query, request{Method: "GET", Path: cart + "/events"}},
		{s.query, request{Method: "GET", Path: "/views/cart-summary/" + id}},
		{s.query, request{Method: "GET", Path: "/aggregates/order/" + id}},
		{s.query, request{Method: "GET", Path: "/aggregates/order/" + id + "/events"}},
	}
}

// ownerReadsCart: ann reads her purchased cart id, its history (every
// commit hers), its cart-summary and the order the policy opened for her
// (its commit the policy's).
func ownerReadsCart(t *testing.T, s *stack, send sender, id string) {
	t.Helper()
	get := func(path string) map[string]any {
		t.Helper()
		r := send(t, s.query, as(annClaims, request{Method: "GET", Path: path}))
		if r.Status != 200 {
			t.Fatalf("ann's GET %s: %d %s", path, r.Status, r.Body)
		}
		return r.json(t)
	}
	if st := get("/aggregates/cart/" + id); st["version"] != 2.0 || !strings.Contains(fmt.Sprint(st["state"]), "purchased") {
		t.Fatalf("ann's cart: %v", st)
	}
	if actors := actorsOf(t, get("/aggregates/cart/"+id+"/events")); actors != "ann,ann" {
		t.Fatalf("the cart's history has actors %q, want ann's two commits", actors)
	}
	if v := get("/views/cart-summary/" + id); !strings.Contains(fmt.Sprint(v["data"]), "total:100") {
		t.Fatalf("ann's cart-summary: %v", v)
	}
	order := get("/aggregates/order/" + id)
	if st, _ := order["state"].(map[string]any); st["customer"] != "ann" || st["total"] != 100.0 {
		t.Fatalf("the order the policy opened: %v", order)
	}
	if actors := actorsOf(t, get("/aggregates/order/"+id+"/events")); actors != "policy:open-order" {
		t.Fatalf("the order's history has actors %q, want the policy's", actors)
	}
}

// actorsOf is the actor of each event of a history page, comma-joined.
func actorsOf(t *testing.T, history map[string]any) string {
	t.Helper()
	evs, _ := history["events"].([]any)
	if len(evs) == 0 {
		t.Fatalf("an empty history: %v", history)
	}
	var actors []string
	for _, e := range evs {
		actor, _ := e.(map[string]any)["actor"].(string)
		actors = append(actors, actor)
	}
	return strings.Join(actors, ",")
}
