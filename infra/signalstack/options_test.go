package signalstack

// Per-function settings and page routes, on synthesized templates.

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestFunctionOptions(t *testing.T) {
	tp := synth(t, "options")
	events, views := ref(tp.id(t, "EventsTable/Resource")), ref(tp.id(t, "ViewsTable/Resource"))
	for _, tc := range []struct {
		id, name, desc  string
		memory, timeout float64
		env             map[string]any
	}{
		{"Command", "shop-command", "Shop commands", 2048, 25,
			map[string]any{"EVENTS_TABLE": events, "VIEWS_TABLE": views, "FEATURE_FLAGS": "beta", "TENANT": "acme"}},
		{"Query", "", "Signal query", 256, 10,
			map[string]any{"EVENTS_TABLE": events, "VIEWS_TABLE": views, "TENANT": "acme"}},
		{"Projector", "shop_projector", "Shop views and policies", 512, 60,
			map[string]any{"EVENTS_TABLE": events, "VIEWS_TABLE": views, "DEAD_LETTER_QUEUE_URL": ref(tp.id(t, "DeadLetterQueue/Resource"))}},
	} {
		p := tp.props(t, tp.id(t, tc.id+"/Resource"))
		// No Name: the property is absent and CloudFormation generates one.
		if name, _ := p["FunctionName"].(string); name != tc.name {
			t.Errorf("%s FunctionName = %s, want %q", tc.id, show(p["FunctionName"]), tc.name)
		}
		if p["Description"] != tc.desc || p["MemorySize"] != tc.memory || p["Timeout"] != tc.timeout {
			t.Errorf("%s: %v, %v MB, %v s; want %q, %v MB, %v s", tc.id, p["Description"], p["MemorySize"], p["Timeout"], tc.desc, tc.memory, tc.timeout)
		}
		vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		if !reflect.DeepEqual(vars, tc.env) {
			t.Errorf("%s environment %s, want %s", tc.id, show(vars), show(tc.env))
		}
	}
	check(t, "named command function", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"FunctionName": "shop-command", "Description": "Shop commands",
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"FEATURE_FLAGS": "beta"})},
		})
	})
	// The default template names no function and keeps the default descriptions.
	def := synth(t, "default")
	for _, fn := range []string{"Command", "Query", "Projector"} {
		p := def.props(t, def.id(t, fn+"/Resource"))
		if _, ok := p["FunctionName"]; ok || p["Description"] != "Signal "+strings.ToLower(fn) {
			t.Errorf("default %s: FunctionName %v, Description %v", fn, p["FunctionName"], p["Description"])
		}
	}
}

// wantPages: the API's routes plus the page routes, all pages to Query.
func wantPages(preflight string) map[string]string {
	want := wantRoutes(preflight)
	for _, r := range pageRoutes {
		want[r] = "Query"
	}
	return want
}

func TestPageRoutesHTTP(t *testing.T) {
	tp := synth(t, "options")
	if got, want := tp.httpRoutes(t), wantPages(""); !reflect.DeepEqual(got, want) {
		t.Errorf("routes:\n got %v\nwant %v", got, want)
	}
	check(t, "GET / route", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{"RouteKey": "GET /"})
	})
	// Without PageRoutes, no route outside the API's.
	if got, want := synth(t, "default").httpRoutes(t), wantRoutes(""); !reflect.DeepEqual(got, want) {
		t.Errorf("default routes:\n got %v\nwant %v", got, want)
	}
}

func TestPageRoutesREST(t *testing.T) {
	tp := synth(t, "restpages")
	paths := tp.restPaths(t)
	if !slices.Contains(paths, "/ui") || !slices.Contains(paths, "/ui/{proxy+}") {
		t.Errorf("resources %v lack /ui/{proxy+}", paths)
	}
	got := tp.restMethods(t)
	// Preflights on the API's paths only: pages are not fetched cross-origin.
	want := withPreflights(wantPages(""))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("methods:\n got %v\nwant %v", got, want)
	}
	if n := len(tp.ofType("AWS::Lambda::Permission")); n != len(want) {
		t.Errorf("%d invoke permissions, want one per method (%d)", n, len(want))
	}
	// Root is the page, not a new resource.
	check(t, "GET on the root resource", func() {
		tp.T.HasResourceProperties(jsii.String("AWS::ApiGateway::Method"), map[string]any{
			"HttpMethod": "GET",
			"ResourceId": getAtt(tp.id(t, "RestApi/Resource"), "RootResourceId"),
		})
	})
}
