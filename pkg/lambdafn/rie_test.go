package lambdafn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/lambdatest"
)

// TestEntryPointsUnderRIE builds a bootstrap whose mains are the one-line
// entry points and runs each under aws-lambda-rie against moto_server:
// the path a user's functions take, through the real Lambda runtime.
func TestEntryPointsUnderRIE(t *testing.T) {
	d := deploy(t)
	bootstrap := lambdatest.Build(t, "./testdata/bank", t.TempDir())
	env := func(fn string) map[string]string {
		return map[string]string{"BANK_FUNCTION": fn, "AWS_LAMBDA_FUNCTION_NAME": "bank-" + fn,
			"EVENTS_TABLE": d.s.Tables.Events, "VIEWS_TABLE": d.s.Tables.Views,
			"AWS_ENDPOINT_URL": dynamotest.Endpoint(t), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
	}
	command, query, projector := lambdatest.Start(t, bootstrap, env("command")), lambdatest.Start(t, bootstrap, env("query")), lambdatest.Start(t, bootstrap, env("projector"))

	send := func(f *lambdatest.Function, method, path, body string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		raw, err := f.Invoke(t.Context(), events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Body: body,
			RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}})
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		var r events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := send(command, "POST", "/aggregates/account/r1/Open", `{"owner":"ada"}`); r.StatusCode != 201 {
		t.Fatalf("Open: %d %s", r.StatusCode, r.Body)
	}
	if r := send(command, "POST", "/aggregates/account/r1/Deposit", `{"amount":42}`); r.StatusCode != 200 {
		t.Fatalf("Deposit: %d %s", r.StatusCode, r.Body)
	}
	raw, err := projector.Invoke(t.Context(), events.DynamoDBEvent{Records: streamRecords(t, d)})
	var batch events.DynamoDBEventResponse
	if err != nil || json.Unmarshal(raw, &batch) != nil || len(batch.BatchItemFailures) != 0 {
		t.Fatalf("projector: %s %v", raw, err)
	}
	if r := send(query, "GET", "/views/balances/r1", ""); r.StatusCode != 200 || !strings.Contains(r.Body, `"balance":42`) {
		t.Fatalf("view: %d %s", r.StatusCode, r.Body)
	}
	if r := send(query, "GET", "/", ""); r.StatusCode != 200 || r.Body != "the bank" {
		t.Fatalf("page: %d %q", r.StatusCode, r.Body)
	}
	for name, f := range map[string]*lambdatest.Function{"command": command, "query": query, "projector": projector} {
		logs := f.Logs()
		if !strings.Contains(logs, `"Namespace":"Bank"`) || !strings.Contains(logs, `"Function":"bank-`+name+`"`) || !strings.Contains(logs, `"cold_start":true`) || !strings.Contains(logs, `"request_id":"`) {
			t.Errorf("%s's logs lack the metrics, cold start or request id:\n%s", name, logs)
		}
	}
}

// TestInitFailureUnderRIE: Lambda sees the failed init, and the logs say why.
func TestInitFailureUnderRIE(t *testing.T) {
	bootstrap := lambdatest.Build(t, "./testdata/bank", t.TempDir())
	f := lambdatest.Start(t, bootstrap, map[string]string{"BANK_FUNCTION": "command", "EVENTS_TABLE": "e"})
	_, err := f.Invoke(t.Context(), map[string]any{})
	var fe *lambdatest.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("invoke of a function that failed its init: %v", err)
	}
	if logs := f.Logs(); !strings.Contains(logs, `"msg":"init failed"`) || !strings.Contains(logs, `"error":"missing environment: VIEWS_TABLE"`) {
		t.Errorf("logs:\n%s", logs)
	}
}
