package signalstack

// The API's stage (throttling, access logs), the functions' concurrency
// and claim settings, and CORS off unless configured.

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestThrottling(t *testing.T) {
	for _, tc := range []struct {
		variant      string
		rate, burst  float64
		restStageKey string
	}{{"default", 100, 200, ""}, {"jwt", 25, 50, ""}, {"rest", 100, 200, "prod"}, {"restcognitoarn", 7.5, 15, "prod"}} {
		tp := synth(t, tc.variant)
		if tc.restStageKey == "" {
			p := tp.props(t, tp.id(t, "HttpApi/DefaultStage/Resource"))
			want := map[string]any{"ThrottlingRateLimit": tc.rate, "ThrottlingBurstLimit": tc.burst}
			if !reflect.DeepEqual(p["DefaultRouteSettings"], want) || p["StageName"] != "$default" {
				t.Errorf("%s stage %s: want $default with %s", tc.variant, show(p), show(want))
			}
			continue
		}
		p := tp.props(t, tp.id(t, "RestApi/DeploymentStage.prod/Resource"))
		want := []any{map[string]any{"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": tc.rate, "ThrottlingBurstLimit": tc.burst,
			"DataTraceEnabled": false}}
		if !reflect.DeepEqual(p["MethodSettings"], want) {
			t.Errorf("%s MethodSettings %s, want %s", tc.variant, show(p["MethodSettings"]), show(want))
		}
	}
}

// accessLogs returns the stage's access log destination and its format
// decoded, checking the format is one JSON object of strings.
func (tp *template) accessLogs(t *testing.T) (dest any, format map[string]string) {
	t.Helper()
	var settings map[string]any
	if tp.Props.API == RESTAPI {
		settings, _ = tp.props(t, tp.id(t, "RestApi/DeploymentStage.prod/Resource"))["AccessLogSetting"].(map[string]any)
	} else {
		settings, _ = tp.props(t, tp.id(t, "HttpApi/DefaultStage/Resource"))["AccessLogSettings"].(map[string]any)
	}
	if settings == nil {
		t.Fatalf("no access log settings on the stage")
	}
	s, _ := settings["Format"].(string)
	if err := json.Unmarshal([]byte(s), &format); err != nil {
		t.Fatalf("access log format %q is not a JSON object of strings: %v", s, err)
	}
	return settings["DestinationArn"], format
}

func TestAccessLogs(t *testing.T) {
	for _, tc := range []struct {
		variant string
		days    float64
		extra   []string // keys of the API kind
	}{
		{"default", 30, []string{"routeKey", "authorizerError"}},
		{"jwt", 90, []string{"routeKey"}},
		{"rest", 30, []string{"resourcePath"}},
		{"restcognitoarn", 365, []string{"resourcePath"}},
	} {
		tp := synth(t, tc.variant)
		group := tp.id(t, "AccessLogs/Resource")
		dest, format := tp.accessLogs(t)
		if !reflect.DeepEqual(dest, getAtt(group, "Arn")) {
			t.Errorf("%s access logs go to %s, want the AccessLogs group", tc.variant, show(dest))
		}
		for _, k := range append([]string{"requestId", "ip", "method", "path", "status", "latencyMs", "sub", "userArn", "error"}, tc.extra...) {
			if !strings.HasPrefix(format[k], "$context.") {
				t.Errorf("%s access log field %s = %q, want a $context variable", tc.variant, k, format[k])
			}
		}
		if format["requestId"] != "$context.requestId" { // API Gateway refuses a format without it
			t.Errorf("%s requestId = %q", tc.variant, format["requestId"])
		}
		if d := tp.props(t, group)["RetentionInDays"]; d != tc.days {
			t.Errorf("%s access log retention %v days, want %v", tc.variant, d, tc.days)
		}
	}
}

// RESTLogRole creates the account's API Gateway logging role; nothing
// else touches account-wide settings.
func TestRESTLogRole(t *testing.T) {
	for variant, want := range map[string]int{"restcognitoarn": 1, "rest": 0, "restcognito": 0, "default": 0} {
		tp := synth(t, variant)
		if n := len(tp.ofType("AWS::ApiGateway::Account")); n != want {
			t.Errorf("%s: %d AWS::ApiGateway::Account, want %d", variant, n, want)
		}
	}
	tp := synth(t, "restcognitoarn")
	acctID := tp.ofType("AWS::ApiGateway::Account")[0]
	acct := tp.props(t, acctID)
	if !strings.Contains(show(acct["CloudWatchRoleArn"]), "CloudWatchRole") {
		t.Errorf("account CloudWatchRoleArn %s", show(acct["CloudWatchRoleArn"]))
	}
	// The stage writes access logs from its creation: the role is set first.
	stage := tp.id(t, "RestApi/DeploymentStage.prod/Resource")
	if deps := strs(tp.Resources[stage]["DependsOn"]); !slices.Contains(deps, acctID) {
		t.Errorf("stage DependsOn %v, want the account setting %s", deps, acctID)
	}
}

func TestReservedConcurrency(t *testing.T) {
	for _, tc := range []struct {
		variant string
		want    map[string]any // function -> ReservedConcurrentExecutions, nil when unset
	}{
		{"default", map[string]any{"Command": nil, "Query": nil, "Projector": nil}},
		{"jwt", map[string]any{"Command": 20.0, "Query": nil, "Projector": 2.0}},
		{"restcognitoarn", map[string]any{"Command": nil, "Query": 100.0, "Projector": nil}},
	} {
		tp := synth(t, tc.variant)
		for fn, want := range tc.want {
			if got := tp.props(t, tp.id(t, fn+"/Resource"))["ReservedConcurrentExecutions"]; got != want {
				t.Errorf("%s %s ReservedConcurrentExecutions = %v, want %v", tc.variant, fn, got, want)
			}
		}
	}
}

// The claim names reach the functions that take requests, only when set.
func TestClaimEnvironment(t *testing.T) {
	for _, tc := range []struct {
		variant, fn    string
		tenant, groups any
	}{
		{"jwt", "Command", "custom:tenant", "roles"},
		{"jwt", "Query", "custom:tenant", "roles"},
		{"jwt", "Projector", nil, nil},
		{"default", "Command", nil, nil},
		{"default", "Query", nil, nil},
	} {
		tp := synth(t, tc.variant)
		vars := tp.props(t, tp.id(t, tc.fn+"/Resource"))["Environment"].(map[string]any)["Variables"].(map[string]any)
		if vars["AUTH_TENANT_CLAIM"] != tc.tenant || vars["AUTH_GROUPS_CLAIM"] != tc.groups {
			t.Errorf("%s %s: AUTH_TENANT_CLAIM %v, AUTH_GROUPS_CLAIM %v; want %v, %v",
				tc.variant, tc.fn, vars["AUTH_TENANT_CLAIM"], vars["AUTH_GROUPS_CLAIM"], tc.tenant, tc.groups)
		}
	}
}

// CORS is off unless CORSOrigins is set: no CORS configuration on the
// API (never: the command function answers preflights), no OPTIONS
// route or method, no CORS_ALLOW_ORIGINS.
func TestCORSOffByDefault(t *testing.T) {
	for name, props := range variants {
		tp := synth(t, name)
		on := len(props.CORSOrigins) > 0
		for _, id := range tp.ofType("AWS::ApiGatewayV2::Api") {
			if c, ok := tp.props(t, id)["CorsConfiguration"]; ok {
				t.Errorf("%s: HTTP API CorsConfiguration %s", name, show(c))
			}
		}
		options := 0
		for route := range tp.routeAuth(t) {
			if strings.HasPrefix(route, "OPTIONS ") {
				options++
			}
		}
		if on != (options > 0) {
			t.Errorf("%s: CORSOrigins %v but %d OPTIONS routes", name, props.CORSOrigins, options)
		}
		for _, fn := range []string{"Command", "Query", "Projector"} {
			vars := tp.props(t, tp.id(t, fn+"/Resource"))["Environment"].(map[string]any)["Variables"].(map[string]any)
			if _, set := vars["CORS_ALLOW_ORIGINS"]; set != (on && fn != "Projector") {
				t.Errorf("%s %s: CORS_ALLOW_ORIGINS set %v with CORSOrigins %v", name, fn, set, props.CORSOrigins)
			}
		}
	}
}
