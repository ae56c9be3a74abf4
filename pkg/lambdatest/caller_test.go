package lambdatest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

var (
	annClaims = map[string]string{"sub": "ann", "iss": "https://idp.example", "scope": "carts/read carts/write", "custom:tenant": "acme"}
	ciCaller  = &IAMCaller{UserARN: "arn:aws:iam::111122223333:user/ci", AccountID: "111122223333", CallerID: "AIDAEXAMPLE",
		UserID: "AIDAEXAMPLE", AccessKey: "ASIAEXAMPLE", PrincipalOrgID: "o-abc123"}
)

// echoedCaller is the caller part of the http fixture's echo.
type echoedCaller struct {
	Version    string                                                      `json:"version"`
	Authorizer json.RawMessage                                             `json:"authorizer"`
	Identity   events.APIGatewayRequestIdentity                            `json:"identity"`
	V2         *events.APIGatewayV2HTTPRequestContextAuthorizerDescription `json:"-"`
	V1         map[string]map[string]string                                `json:"-"`
}

func echoCaller(t *testing.T, r HTTPResponse) echoedCaller {
	t.Helper()
	var e echoedCaller
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	if len(e.Authorizer) > 0 && string(e.Authorizer) != "null" {
		target := any(&e.V2)
		if e.Version == "1.0" {
			target = &e.V1
		}
		if err := json.Unmarshal(e.Authorizer, target); err != nil {
			t.Fatalf("authorizer %s: %v", e.Authorizer, err)
		}
	}
	return e
}

// TestHTTPCallerUnderRIE: the caller reaches a function under RIE where
// API Gateway puts it, through both payload versions; none without one.
func TestHTTPCallerUnderRIE(t *testing.T) {
	t.Parallel()
	f := Start(t, fixture(t, "http"), nil)
	send := func(r HTTPRequest, v1 bool) echoedCaller {
		t.Helper()
		out, err := f.HTTPv2(ctx(t), r)
		if v1 {
			out, err = f.HTTPv1(ctx(t), r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return echoCaller(t, out)
	}

	jwt := send(HTTPRequest{Path: "/c", Claims: annClaims}, false)
	if jwt.V2 == nil || jwt.V2.JWT == nil || jwt.V2.IAM != nil || !reflect.DeepEqual(jwt.V2.JWT.Claims, annClaims) ||
		!reflect.DeepEqual(jwt.V2.JWT.Scopes, []string{"carts/read", "carts/write"}) {
		t.Errorf("v2 JWT authorizer: %s", jwt.Authorizer)
	}
	iam := send(HTTPRequest{Path: "/c", IAM: ciCaller}, false)
	if iam.V2 == nil || iam.V2.JWT != nil || iam.V2.IAM == nil || iam.V2.IAM.UserARN != ciCaller.UserARN ||
		iam.V2.IAM.AccountID != "111122223333" || iam.V2.IAM.PrincipalOrgID != "o-abc123" || iam.V2.IAM.AccessKey != "ASIAEXAMPLE" {
		t.Errorf("v2 IAM authorizer: %s", iam.Authorizer)
	}
	if none := send(HTTPRequest{Path: "/c"}, false); none.V2 != nil {
		t.Errorf("v2 without a caller: authorizer %s", none.Authorizer)
	}

	cognito := send(HTTPRequest{Path: "/c", Claims: annClaims}, true)
	if !reflect.DeepEqual(cognito.V1["claims"], annClaims) || len(cognito.V1) != 1 || cognito.Identity.UserArn != "" {
		t.Errorf("v1 Cognito authorizer: %s, identity %+v", cognito.Authorizer, cognito.Identity)
	}
	iam1 := send(HTTPRequest{Path: "/c", IAM: ciCaller}, true)
	if id := iam1.Identity; iam1.V1 != nil || id.UserArn != ciCaller.UserARN || id.AccountID != "111122223333" ||
		id.Caller != "AIDAEXAMPLE" || id.User != "AIDAEXAMPLE" || id.AccessKey != "ASIAEXAMPLE" || id.SourceIP != "127.0.0.1" {
		t.Errorf("v1 IAM identity: %+v, authorizer %s", id, iam1.Authorizer)
	}
	if none := send(HTTPRequest{Path: "/c"}, true); none.V1 != nil || none.Identity.UserArn != "" || none.Identity.SourceIP != "127.0.0.1" {
		t.Errorf("v1 without a caller: authorizer %s, identity %+v", none.Authorizer, none.Identity)
	}
}

func TestHTTPRequestRefusesTwoCallers(t *testing.T) {
	r := HTTPRequest{Path: "/", Claims: map[string]string{"sub": "ann"}, IAM: ciCaller}
	if _, err := r.V2Event(); !errors.Is(err, errTwoCallers) {
		t.Errorf("V2Event with Claims and IAM: %v", err)
	}
	if _, err := r.V1Event(); !errors.Is(err, errTwoCallers) {
		t.Errorf("V1Event with Claims and IAM: %v", err)
	}
}

// TestHTTPCallerAsHTTPAPIReadsIt: pkg/httpapi, the framework's own reader
// of these events, takes from them the principal the test meant, through
// both payload versions. A rule that refuses everything shows what it got.
func TestHTTPCallerAsHTTPAPIReadsIt(t *testing.T) {
	h := principalEcho(t)
	annWant := &signal.Principal{Subject: "ann", Issuer: "https://idp.example", Tenant: "acme", Scopes: []string{"carts/read", "carts/write"}, Claims: annClaims}
	ciWant := &signal.Principal{Subject: ciCaller.UserARN}
	for _, c := range []struct {
		name   string
		req    HTTPRequest
		v1     bool
		want   *signal.Principal
		claims int // of the principal, when want is set
	}{
		{"v2 JWT", HTTPRequest{Claims: annClaims}, false, annWant, len(annClaims)},
		{"v1 Cognito", HTTPRequest{Claims: annClaims}, true, annWant, len(annClaims)},
		{"v2 IAM", HTTPRequest{IAM: ciCaller}, false, ciWant, 5},
		{"v1 IAM", HTTPRequest{IAM: ciCaller}, true, ciWant, 4},
		{"v2 anonymous", HTTPRequest{}, false, nil, 0},
		{"v1 anonymous", HTTPRequest{}, true, nil, 0},
		{"v2 claims without a subject", HTTPRequest{Claims: map[string]string{"iss": "x"}}, false, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.req.askedBy(t, h, c.v1)
			if c.want == nil || got == nil {
				if got != c.want {
					t.Fatalf("principal %+v, want %+v", got, c.want)
				}
				return
			}
			if got.Subject != c.want.Subject || got.Issuer != c.want.Issuer || got.Tenant != c.want.Tenant ||
				!reflect.DeepEqual(got.Scopes, c.want.Scopes) || len(got.Claims) != c.claims {
				t.Fatalf("principal %+v, want %+v with %d claims", got, c.want, c.claims)
			}
		})
	}
}

// principalEcho is an httpapi.Handler whose rule refuses every command
// with the principal it was given, as JSON, for its message.
func principalEcho(t *testing.T) *httpapi.Handler {
	t.Helper()
	type probe struct{}
	type ping struct{}
	typ := signal.MustDefine(signal.Spec[probe]{
		Name:     "probe",
		Commands: []signal.CommandSpec[probe]{signal.Decide("Ping", func(probe, ping) ([]any, error) { return []any{ping{}}, nil }, signal.Genesis)},
		Events:   []signal.EventSpec[probe]{signal.Evolve("Pinged", func(s probe, _ ping) probe { return s })},
	})
	svc, err := signal.New(signal.Config{Store: memstore.New(), Types: []signal.AggregateType{typ}, Logger: slog.New(slog.DiscardHandler),
		Authorize: func(_ context.Context, p *signal.Principal, _ *signal.Action) error {
			b, _ := json.Marshal(p)
			return signal.Forbidden("%s", b)
		}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Service: svc, Logger: slog.New(slog.DiscardHandler),
		Auth: httpapi.AuthConfig{TenantClaim: "custom:tenant"}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// askedBy sends r as a command to h in-process and returns the principal
// h's rule was given (nil for none).
func (r HTTPRequest) askedBy(t *testing.T, h *httpapi.Handler, v1 bool) *signal.Principal {
	t.Helper()
	r.Method, r.Path, r.Body = "POST", "/aggregates/probe/p1/Ping", "{}"
	var status int
	var body string
	if v1 {
		ev, err := r.V1Event()
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.HandleV1(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		status, body = out.StatusCode, out.Body
	} else {
		ev, err := r.V2Event()
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.HandleV2(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		status, body = out.StatusCode, out.Body
	}
	var answer struct {
		Error struct{ Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil || status != 403 {
		t.Fatalf("%d %s: %v", status, body, err)
	}
	var p *signal.Principal
	if err := json.Unmarshal([]byte(answer.Error.Message), &p); err != nil {
		t.Fatalf("the rule's message %q: %v", answer.Error.Message, err)
	}
	return p
}
