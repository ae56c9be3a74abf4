package signalstack

// Authorization of every route, on every variant: the mode's authorizer
// on each API route, public page routes and preflights, the authorizers
// themselves, the created user pool, the warning of AuthNone.

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// routeAuth reads the authorization of every route (HTTP API) or method
// (REST API) in the template: "GET /path" -> "AWS_IAM", "NONE", or the
// authorizer's type and logical id ("JWT SignalHttpApi…").
func (tp *template) routeAuth(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, id := range tp.ofType("AWS::ApiGatewayV2::Route") {
		p := tp.props(t, id)
		got[p["RouteKey"].(string)] = authOf(t, p)
	}
	for _, id := range tp.ofType("AWS::ApiGateway::Method") {
		p := tp.props(t, id)
		got[p["HttpMethod"].(string)+" "+tp.restPath(t, p["ResourceId"])] = authOf(t, p)
	}
	return got
}

// authOf: AuthorizationType, plus the Ref of its AuthorizerId if any.
func authOf(t *testing.T, p map[string]any) string {
	t.Helper()
	typ, _ := p["AuthorizationType"].(string)
	if typ == "" {
		t.Errorf("route or method without AuthorizationType: %s", show(p))
	}
	if a, ok := p["AuthorizerId"].(map[string]any); ok {
		return typ + " " + a["Ref"].(string)
	}
	return typ
}

// wantAuth is the authorization every API route of a variant must have.
func (tp *template) wantAuth(t *testing.T) string {
	t.Helper()
	switch tp.Props.Auth {
	case "", AuthIAM:
		return "AWS_IAM"
	case AuthNone:
		return "NONE"
	case AuthJWT:
		return "JWT " + tp.id(t, "HttpApi/JwtAuthorizer/Resource")
	}
	if tp.Props.API == RESTAPI {
		return "COGNITO_USER_POOLS " + tp.id(t, "UserPoolAuthorizer/Resource")
	}
	return "JWT " + tp.id(t, "HttpApi/UserPoolAuthorizer/Resource")
}

// TestEveryRouteAuthorized walks every route and method of every variant:
// each is the mode's authorization, except page routes and preflights,
// which are public (static pages; browsers send preflights without
// credentials). No API route is open unless the variant chose AuthNone.
func TestEveryRouteAuthorized(t *testing.T) {
	names := make([]string, 0, len(variants))
	for name := range variants {
		names = append(names, name)
	}
	sort.Strings(names)
	apiRoutes := len(wantRoutes(""))
	for _, name := range names {
		tp := synth(t, name)
		want := tp.wantAuth(t)
		authorized := 0
		for route, got := range tp.routeAuth(t) {
			public := slices.Contains(tp.Props.PageRoutes, route) || strings.HasPrefix(route, "OPTIONS ")
			switch {
			case public && got != "NONE":
				t.Errorf("%s: %s is %s, want NONE (a page or preflight)", name, route, got)
			case !public && got != want:
				t.Errorf("%s: %s is %s, want %s", name, route, got, want)
			case !public:
				authorized++
			}
		}
		// The walk saw every API route (a template without them would pass vacuously).
		if authorized != apiRoutes {
			t.Errorf("%s: %d API routes with %s, want %d", name, authorized, want, apiRoutes)
		}
		if tp.Props.Auth != AuthNone && want == "NONE" {
			t.Errorf("%s: open API routes without Auth none", name)
		}
	}
	// The zero Props are IAM on every API route.
	if got := synth(t, "default").wantAuth(t); got != "AWS_IAM" {
		t.Errorf("default auth %s, want AWS_IAM", got)
	}
}

func TestHTTPAuthorizers(t *testing.T) {
	for _, name := range []string{"default", "none"} {
		if n := len(synth(t, name).ofType("AWS::ApiGatewayV2::Authorizer")); n != 0 {
			t.Errorf("%s: %d authorizers, want 0 (IAM and NONE need none)", name, n)
		}
	}
	jwt := synth(t, "jwt")
	wantJWT(t, jwt, "HttpApi/JwtAuthorizer/Resource", "https://auth.shop.example/", []any{"shop-api", "shop-console"})

	// The created pool: issuer of the stack's region and the pool, audience its client.
	cog := synth(t, "cognito")
	issuer := map[string]any{"Fn::Join": []any{"", []any{"https://cognito-idp.", map[string]any{"Ref": "AWS::Region"},
		".amazonaws.com/", ref(cog.id(t, "UserPool/Resource"))}}}
	wantJWT(t, cog, "HttpApi/UserPoolAuthorizer/Resource", issuer, []any{ref(cog.id(t, "UserPool/UserPoolClient/Resource"))})

	// A given pool: its own region and id; the client ids given.
	arn := synth(t, "cognitoarn")
	issuer2 := arn.props(t, arn.id(t, "HttpApi/UserPoolAuthorizer/Resource"))["JwtConfiguration"].(map[string]any)["Issuer"]
	if s := show(issuer2); !strings.Contains(s, "https://cognito-idp.eu-west-1.amazonaws.com/") || !strings.Contains(s, "eu-west-1_AbC123xyZ") {
		t.Errorf("cognitoarn issuer %s, want the given pool's", s)
	}
	wantJWT(t, arn, "HttpApi/UserPoolAuthorizer/Resource", issuer2, []any{"client1", "client2"})
	if n := len(arn.ofType("AWS::Cognito::UserPool")); n != 0 {
		t.Errorf("cognitoarn: %d user pools created, want 0", n)
	}
}

// wantJWT checks the HTTP API's one authorizer: a JWT authorizer on the
// Authorization header with this issuer and these audiences.
func wantJWT(t *testing.T, tp *template, path string, issuer any, audience []any) {
	t.Helper()
	ids := tp.ofType("AWS::ApiGatewayV2::Authorizer")
	id := tp.id(t, path)
	if !slices.Equal(ids, []string{id}) {
		t.Errorf("authorizers %v, want only %s", ids, id)
	}
	p := tp.props(t, id)
	want := map[string]any{
		"AuthorizerType":   "JWT",
		"IdentitySource":   []any{"$request.header.Authorization"},
		"JwtConfiguration": map[string]any{"Issuer": issuer, "Audience": audience},
		"ApiId":            ref(tp.id(t, "HttpApi/Resource")),
	}
	for k, v := range want {
		if !reflect.DeepEqual(p[k], v) {
			t.Errorf("%s %s = %s, want %s", path, k, show(p[k]), show(v))
		}
	}
}

func TestRESTAuthorizers(t *testing.T) {
	for _, tc := range []struct {
		variant  string
		provider any
	}{
		{"restcognito", nil}, // set below: the created pool's Arn
		{"restcognitoarn", testPoolARN},
	} {
		tp := synth(t, tc.variant)
		if tc.provider == nil {
			tc.provider = getAtt(tp.id(t, "UserPool/Resource"), "Arn")
		}
		ids := tp.ofType("AWS::ApiGateway::Authorizer")
		id := tp.id(t, "UserPoolAuthorizer/Resource")
		if !slices.Equal(ids, []string{id}) {
			t.Errorf("%s: authorizers %v, want only %s", tc.variant, ids, id)
		}
		p := tp.props(t, id)
		if p["Type"] != "COGNITO_USER_POOLS" || p["IdentitySource"] != "method.request.header.Authorization" ||
			!reflect.DeepEqual(p["ProviderARNs"], []any{tc.provider}) || !reflect.DeepEqual(p["RestApiId"], ref(tp.id(t, "RestApi/Resource"))) {
			t.Errorf("%s authorizer %s", tc.variant, show(p))
		}
	}
	for _, name := range []string{"rest", "restnone"} {
		if n := len(synth(t, name).ofType("AWS::ApiGateway::Authorizer")); n != 0 {
			t.Errorf("%s: %d authorizers, want 0", name, n)
		}
	}
}

// The pool the stack creates: administrators create users, sign-in by
// email; its client has no secret, no OAuth flows, password and SRP auth.
func TestCreatedUserPool(t *testing.T) {
	for _, tc := range []struct {
		variant, deletion string
	}{{"cognito", "Retain"}, {"restcognito", "Delete"}} {
		tp := synth(t, tc.variant)
		pool := tp.id(t, "UserPool/Resource")
		p := tp.props(t, pool)
		if show(p["AdminCreateUserConfig"]) != "{AllowAdminCreateUserOnly:true}" || show(p["UsernameAttributes"]) != "[email]" {
			t.Errorf("%s pool %s", tc.variant, show(p))
		}
		if r := tp.Resources[pool]; r["DeletionPolicy"] != tc.deletion {
			t.Errorf("%s pool DeletionPolicy %v, want %s (Props.RemovalPolicy)", tc.variant, r["DeletionPolicy"], tc.deletion)
		}
		c := tp.props(t, tp.id(t, "UserPool/UserPoolClient/Resource"))
		flows := strs(c["ExplicitAuthFlows"])
		sort.Strings(flows)
		if want := []string{"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}; !slices.Equal(flows, want) {
			t.Errorf("%s client auth flows %v, want %v", tc.variant, flows, want)
		}
		if c["GenerateSecret"] != false || c["AllowedOAuthFlows"] != nil || c["AllowedOAuthFlowsUserPoolClient"] == true {
			t.Errorf("%s client %s: want no secret and no OAuth flows", tc.variant, show(c))
		}
		if !reflect.DeepEqual(c["UserPoolId"], ref(pool)) {
			t.Errorf("%s client of %s, want the created pool", tc.variant, show(c["UserPoolId"]))
		}
	}
}

// Outputs by mode: ApiExecuteArn with IAM only, the pool's ids when the
// stack created it.
func TestAuthOutputs(t *testing.T) {
	for _, tc := range []struct {
		variant string
		execute bool
		pool    bool
	}{
		{"default", true, false}, {"rest", true, false}, {"jwt", false, false}, {"none", false, false},
		{"cognito", false, true}, {"cognitoarn", false, false}, {"restcognito", false, true}, {"restcognitoarn", false, false},
	} {
		tp := synth(t, tc.variant)
		_, execute := tp.Outputs[OutputExecuteARN]
		_, pool := tp.Outputs[OutputUserPoolID]
		_, client := tp.Outputs[OutputUserPoolClientID]
		if execute != tc.execute || pool != tc.pool || client != tc.pool {
			t.Errorf("%s: outputs ApiExecuteArn %v, UserPoolId %v, UserPoolClientId %v; want %v, %v, %v",
				tc.variant, execute, pool, client, tc.execute, tc.pool, tc.pool)
		}
		if tc.pool {
			if v := tp.Outputs[OutputUserPoolClientID].(map[string]any)["Value"]; !reflect.DeepEqual(v, ref(tp.id(t, "UserPool/UserPoolClient/Resource"))) {
				t.Errorf("%s UserPoolClientId = %s", tc.variant, show(v))
			}
		}
	}
	// The execute-api resource covers the API's every route (HTTP) or
	// the prod stage's (REST), in the stack's account and region.
	for variant, parts := range map[string][]string{
		"default": {":execute-api:", "AWS::Region", "AWS::AccountId", synth(t, "default").id(t, "HttpApi/Resource"), "/*/*/*"},
		"rest":    {":execute-api:", "AWS::Region", "AWS::AccountId", synth(t, "rest").id(t, "RestApi/Resource"), "/", "/*/*"},
	} {
		v := show(synth(t, variant).Outputs[OutputExecuteARN].(map[string]any)["Value"])
		for _, part := range parts {
			if !strings.Contains(v, part) {
				t.Errorf("%s ApiExecuteArn %s lacks %s", variant, v, part)
			}
		}
	}
	if v := show(synth(t, "rest").Outputs[OutputExecuteARN]); !strings.Contains(v, synth(t, "rest").id(t, "RestApi/DeploymentStage.prod/Resource")) {
		t.Errorf("rest ApiExecuteArn %s is not scoped to the prod stage", v)
	}
}

// AuthNone, and only AuthNone, warns at synth.
func TestAuthNoneWarning(t *testing.T) {
	msg := assertions.Match_StringLikeRegexp(jsii.String("Auth is none: every route of the API is open"))
	for name := range variants {
		tp := synth(t, name)
		a := assertions.Annotations_FromStack(tp.Stack)
		if tp.Props.Auth == AuthNone {
			check(t, name+" warning", func() { a.HasWarning(jsii.String("*"), msg) })
		} else {
			check(t, name+" no warning", func() { a.HasNoWarning(jsii.String("*"), msg) })
		}
	}
}
