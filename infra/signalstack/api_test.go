package signalstack

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// fnOf names the function ("Command", "Query") a template value refers to.
func (tp *template) fnOf(t *testing.T, v any) string {
	t.Helper()
	s := show(v)
	for _, fn := range []string{"Command", "Query", "Projector"} {
		if strings.Contains(s, "Fn::GetAtt:["+tp.id(t, fn+"/Resource")+",Arn]") {
			return fn
		}
	}
	return "?" + s
}

// wantRoutes: route key -> function, from httpapi via Routes().
func wantRoutes(preflight string) map[string]string {
	cmd, qry := Routes()
	want := map[string]string{}
	for _, r := range cmd {
		want[r] = "Command"
	}
	for _, r := range qry {
		want[r] = "Query"
	}
	if preflight != "" {
		want[preflight] = "Command"
	}
	return want
}

// httpRoutes reads the HTTP API's routes: route key -> function, checking
// each integration (Lambda proxy, payload 2.0) and its invoke permission.
func (tp *template) httpRoutes(t *testing.T) map[string]string {
	t.Helper()
	api := tp.id(t, "HttpApi/Resource")
	got := map[string]string{}
	for _, id := range tp.ofType("AWS::ApiGatewayV2::Route") {
		p := tp.props(t, id)
		target := p["Target"].(map[string]any)["Fn::Join"].([]any)[1].([]any)
		integ := target[1].(map[string]any)["Ref"].(string)
		ip := tp.props(t, integ)
		if ip["IntegrationType"] != "AWS_PROXY" || ip["PayloadFormatVersion"] != "2.0" || !reflect.DeepEqual(ip["ApiId"], ref(api)) {
			t.Errorf("route %s: integration %s", p["RouteKey"], show(ip))
		}
		if !reflect.DeepEqual(p["ApiId"], ref(api)) { // authorization: auth_test.go
			t.Errorf("route %s: %s", p["RouteKey"], show(p))
		}
		key := p["RouteKey"].(string)
		fn := tp.fnOf(t, ip["IntegrationUri"])
		got[key] = fn
		// API Gateway may invoke the function for this route only.
		_, path, _ := strings.Cut(key, " ")
		found := false
		for _, pid := range tp.ofType("AWS::Lambda::Permission") {
			pp := tp.props(t, pid)
			if tp.fnOf(t, pp["FunctionName"]) == fn && strings.HasSuffix(show(pp["SourceArn"]), path+"]]}") {
				found = true
			}
		}
		if !found {
			t.Errorf("route %s: no invoke permission for %s scoped to the route", key, fn)
		}
	}
	return got
}

func TestHTTPAPI(t *testing.T) {
	tp := synth(t, "default")
	if got, want := tp.httpRoutes(t), wantRoutes(""); !reflect.DeepEqual(got, want) {
		t.Errorf("routes:\n got %v\nwant %v", got, want)
	}
	check(t, "default stage", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{"StageName": "$default", "AutoDeploy": true})
	})
	check(t, "api", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
			"ProtocolType": "HTTP", "Name": "Signal", // the stack name
		})
	})

	// With CORS origins, preflights go to the command function.
	cors := synth(t, "httpcors")
	if got, want := cors.httpRoutes(t), wantRoutes("OPTIONS /{proxy+}"); !reflect.DeepEqual(got, want) {
		t.Errorf("httpcors routes:\n got %v\nwant %v", got, want)
	}
	for _, fn := range []string{"Command", "Query"} {
		vars := cors.props(t, cors.id(t, fn+"/Resource"))["Environment"].(map[string]any)["Variables"].(map[string]any)
		if vars["CORS_ALLOW_ORIGINS"] != "*" {
			t.Errorf("httpcors %s CORS_ALLOW_ORIGINS = %v", fn, vars["CORS_ALLOW_ORIGINS"])
		}
	}
}

// restPath is the path of a REST API resource (a Ref, or the root's
// GetAtt: "/"), from its parent chain.
func (tp *template) restPath(t *testing.T, v any) string {
	t.Helper()
	if reflect.DeepEqual(v, getAtt(tp.id(t, "RestApi/Resource"), "RootResourceId")) {
		return "/"
	}
	p := tp.props(t, v.(map[string]any)["Ref"].(string))
	return strings.TrimSuffix(tp.restPath(t, p["ParentId"]), "/") + "/" + p["PathPart"].(string)
}

// restPaths are the paths of the REST API's resources, sorted.
func (tp *template) restPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, id := range tp.ofType("AWS::ApiGateway::Resource") {
		paths = append(paths, tp.restPath(t, ref(id)))
	}
	sort.Strings(paths)
	return paths
}

// restMethods reads the REST API's methods: "GET /path" -> function,
// checking each is a Lambda proxy integration (authorization: see
// auth_test.go).
func (tp *template) restMethods(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, id := range tp.ofType("AWS::ApiGateway::Method") {
		p := tp.props(t, id)
		in := p["Integration"].(map[string]any)
		if in["Type"] != "AWS_PROXY" || in["IntegrationHttpMethod"] != "POST" {
			t.Errorf("method %s: %s", id, show(p))
		}
		got[p["HttpMethod"].(string)+" "+tp.restPath(t, p["ResourceId"])] = tp.fnOf(t, in["Uri"])
	}
	return got
}

func TestRESTAPI(t *testing.T) {
	tp := synth(t, "rest")
	check(t, "rest api", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), map[string]any{
			"EndpointConfiguration": map[string]any{"Types": []any{"REGIONAL"}},
			"Name":                  "Signal", // the stack name
		})
	})
	check(t, "stage", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{"StageName": "prod"})
	})
	paths := tp.restPaths(t)
	wantPaths := []string{"/aggregates", "/aggregates/{type}", "/aggregates/{type}/{id}", "/aggregates/{type}/{id}/events",
		"/aggregates/{type}/{id}/{command}", "/app", "/healthz", "/views", "/views/{view}", "/views/{view}/{key}"}
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("resources %v, want %v", paths, wantPaths)
	}
	// Methods: each route, a Lambda proxy integration of its function;
	// with CORS origins (this variant) an OPTIONS per routed path to the
	// command function.
	got := tp.restMethods(t)
	want := withPreflights(wantRoutes(""))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("methods:\n got %v\nwant %v", got, want)
	}
	if n := len(tp.ofType("AWS::Lambda::Permission")); n != len(want) {
		t.Errorf("%d invoke permissions, want one per method (%d): no test-invoke extras", n, len(want))
	}
}

// withPreflights adds to want (method and path -> function) the OPTIONS
// method the command function answers on each API path, as a REST API
// with CORS origins has.
func withPreflights(want map[string]string) map[string]string {
	for r := range wantRoutes("") {
		_, path, _ := strings.Cut(r, " ")
		want["OPTIONS "+path] = "Command"
	}
	return want
}
