package lambdafn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/signalforgo/signal/pkg/console"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/internal/testbank"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/signal"
)

var seq atomic.Int64

// deployment is fresh tables and a dead-letter queue in moto_server.
type deployment struct {
	t     *testing.T
	cfg   aws.Config
	s     Settings
	queue *sqs.Client
}

func deploy(t *testing.T) *deployment {
	t.Helper()
	cfg := dynamotest.Config(t)
	n := fmt.Sprintf("%d-%d", os.Getpid(), seq.Add(1))
	d := &deployment{t: t, cfg: cfg, queue: sqs.NewFromConfig(cfg),
		s: Settings{Tables: dynstore.Tables{Events: "lf-events-" + n, Views: "lf-views-" + n}, CORSOrigins: []string{"https://bank.example"}}}
	if err := dynstore.CreateTables(t.Context(), dynamodb.NewFromConfig(cfg), d.s.Tables); err != nil {
		t.Fatal(err)
	}
	q, err := d.queue.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("lf-dlq-" + n)})
	if err != nil {
		t.Fatal(err)
	}
	d.s.DeadLetterQueue = aws.ToString(q.QueueUrl)
	return d
}

// function wires one function of the bank on the deployment, its logs
// and metrics captured.
func (d *deployment) function(role Role, opts ...Option) (*Function, *bytes.Buffer) {
	d.t.Helper()
	var out bytes.Buffer
	s := d.s
	s.Function = "bank-" + role.String()
	f, err := New(d.t.Context(), bankApp(), s, role, append([]Option{AWSConfig(d.cfg), Output(&out), MetricNamespace("Bank")}, opts...)...)
	if err != nil {
		d.t.Fatal(err)
	}
	return f, &out
}

// invoke sends an API Gateway v2 event through the Lambda entry point,
// in a context holding the Lambda request id, as the runtime does.
func invoke(t *testing.T, h *httpapi.Handler, requestID, method, path, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Body: body, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
	out, err := h.Lambda(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// lines decodes the JSON lines written to out.
func lines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var ls []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		ls = append(ls, m)
	}
	return ls
}

// metricLines returns the EMF lines with request_id id, after checking
// their namespace and dimension.
func metricLines(t *testing.T, out *bytes.Buffer, id, function string) []map[string]any {
	t.Helper()
	var ms []map[string]any
	for _, l := range lines(t, out) {
		aws, ok := l["_aws"].(map[string]any)
		if !ok || l["request_id"] != id {
			continue
		}
		d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if d["Namespace"] != "Bank" || l["Function"] != function {
			t.Errorf("metric line in namespace %v for function %v: %v", d["Namespace"], l["Function"], l)
		}
		ms = append(ms, l)
	}
	return ms
}

func TestCommandFunction(t *testing.T) {
	d := deploy(t)
	f, out := d.function(CommandRole, Pages(http.NotFoundHandler()))
	h, err := f.HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, h, "req-1", "POST", "/aggregates/account/a1/Open", `{"owner":"ada"}`, nil); r.StatusCode != 201 {
		t.Fatalf("Open: %d %s", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, "req-2", "POST", "/aggregates/account/a1/Deposit", `{"amount":5}`, nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"balance":5`) {
		t.Fatalf("Deposit: %d %s", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, "req-3", "POST", "/aggregates/account/a1/Withdraw", `{"amount":6}`, nil); r.StatusCode != 422 || !strings.Contains(r.Body, "insufficient funds") {
		t.Fatalf("Withdraw: %d %s", r.StatusCode, r.Body)
	}
	// The command side serves no reads and no pages.
	for _, path := range []string{"/aggregates/account/a1", "/"} {
		if r := invoke(t, h, "req-4", "GET", path, "", nil); r.StatusCode != 404 && r.StatusCode != 405 {
			t.Errorf("GET %s on the command function: %d %s", path, r.StatusCode, r.Body)
		}
	}

	var logged int
	for _, l := range lines(t, out) {
		if l["request_id"] == "req-1" && l["route"] == "POST /aggregates/{type}/{id}/{command}" && l["_aws"] == nil {
			logged++
			if l["cold_start"] != true || l["level"] != "INFO" {
				t.Errorf("first request's line: %v", l)
			}
		}
		if l["request_id"] == "req-2" && l["_aws"] == nil && l["cold_start"] != false {
			t.Errorf("second request's line: %v", l)
		}
	}
	if logged != 1 {
		t.Errorf("%d log lines for req-1 in:\n%s", logged, out)
	}
	first, second := metricLines(t, out, "req-1", "bank-command"), metricLines(t, out, "req-2", "bank-command")
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("metric lines: %v %v in\n%s", first, second, out)
	}
	if first[0]["PoolMisses"] != 1.0 || first[0]["Commands"] != 1.0 || first[0]["Requests"] != 1.0 || first[0]["cold_start"] != true || first[0]["status"] != 201.0 {
		t.Errorf("first request's metrics: %v", first[0])
	}
	if second[0]["PoolHits"] != 1.0 || second[0]["PoolMisses"] != 0.0 || second[0]["cold_start"] != false {
		t.Errorf("second request's metrics: %v", second[0])
	}
}

func TestQueryFunctionServesTheAPIAndPages(t *testing.T) {
	d := deploy(t)
	cmd, _ := d.function(CommandRole)
	ch, err := cmd.HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, ch, "c1", "POST", "/aggregates/account/a1/Open", `{"owner":"ada"}`, nil)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<h1>the bank</h1>")
	})
	q, out := d.function(QueryRole, Pages(page))
	h, err := q.HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, h, "q1", "GET", "/aggregates/account/a1", "", nil); r.StatusCode != 200 || !strings.Contains(r.Body, `"owner":"ada"`) {
		t.Fatalf("state: %d %s", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, "q2", "GET", "/", "", nil); r.StatusCode != 200 || r.Body != "<h1>the bank</h1>" {
		t.Fatalf("page: %d %q", r.StatusCode, r.Body)
	}
	if r := invoke(t, h, "q3", "POST", "/aggregates/account/a1/Deposit", `{"amount":1}`, nil); r.StatusCode != 404 && r.StatusCode != 405 {
		t.Errorf("a command on the query function: %d %s", r.StatusCode, r.Body)
	}
	// CORS comes from the settings: the allowed origin is echoed, another is not.
	r := invoke(t, h, "q4", "OPTIONS", "/aggregates/account/a1", "", map[string]string{"origin": "https://bank.example", "access-control-request-method": "GET"})
	if r.StatusCode != 204 || r.Headers["Access-Control-Allow-Origin"] != "https://bank.example" || r.Headers["Access-Control-Max-Age"] != "600" {
		t.Errorf("preflight: %d %v", r.StatusCode, r.Headers)
	}
	if r := invoke(t, h, "q5", "GET", "/aggregates/account/a1", "", map[string]string{"origin": "https://evil.example"}); r.Headers["Access-Control-Allow-Origin"] != "" {
		t.Errorf("another origin was allowed: %v", r.Headers)
	}
	if m := metricLines(t, out, "q1", "bank-query"); len(m) != 1 || m[0]["Commands"] != nil || m[0]["route"] != "GET /aggregates/{type}/{id}" {
		t.Errorf("query metrics: %v", m)
	}
}

// TestQueryFunctionDescribesTheAppAndServesTheConsole: GET /app names the
// app and its views (the query function runs no subscribers, so they come
// from the App), and the Console option adds the console beside the pages.
func TestQueryFunctionDescribesTheAppAndServesTheConsole(t *testing.T) {
	d := deploy(t)
	plain, _ := d.function(QueryRole)
	withConsole, _ := d.function(QueryRole, Console(), Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "the bank's page")
	})))
	for name, f := range map[string]*Function{"plain": plain, "with console": withConsole} {
		h, err := f.HTTPHandler()
		if err != nil {
			t.Fatal(err)
		}
		r := invoke(t, h, "a1", "GET", "/app", "", nil)
		var app struct {
			Name  string   `json:"name"`
			Views []string `json:"views"`
		}
		if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &app) != nil || app.Name != "bank" || len(app.Views) != 1 || app.Views[0] != "balances" {
			t.Errorf("%s: GET /app: %d %s", name, r.StatusCode, r.Body)
		}
		page := invoke(t, h, "a2", "GET", console.Prefix, "", nil)
		if served := page.StatusCode == 200 && page.Headers["Content-Security-Policy"] == console.ContentSecurityPolicy; served != (f == withConsole) {
			t.Errorf("%s: GET %s: %d %v", name, console.Prefix, page.StatusCode, page.Headers)
		}
	}
	h, _ := withConsole.HTTPHandler()
	if r := invoke(t, h, "a3", "GET", "/", "", nil); r.StatusCode != 200 || r.Body != "the bank's page" {
		t.Errorf("the pages beside the console: %d %q", r.StatusCode, r.Body)
	}
}

func TestHTTPConfigOptionWins(t *testing.T) {
	d := deploy(t)
	d.s.Auth = httpapi.AuthConfig{TenantClaim: "custom:tenant"}
	f, _ := d.function(CommandRole, HTTPConfig(func(c *httpapi.Config) {
		if c.Service == nil || c.Routes != httpapi.CommandRoutes || c.CORS == nil || c.OnRequest == nil || c.Auth != d.s.Auth {
			t.Errorf("lambdafn had not filled the Config: %+v", c)
		}
		c.MaxBodyBytes = 16
	}))
	h, err := f.HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, h, "b1", "POST", "/aggregates/account/a1/Open", `{"owner":"a long owner name"}`, nil); r.StatusCode != 413 {
		t.Fatalf("a body over the option's limit: %d %s", r.StatusCode, r.Body)
	}
}

// TestProjectorFunction pumps the events table's stream into the
// projector's stream handler as the event source mapping would, and
// reads the projection back through the query function.
func TestProjectorFunction(t *testing.T) {
	d := deploy(t)
	cmd, _ := d.function(CommandRole)
	ch, err := cmd.HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"a1/Open", `{"owner":"ada"}`}, {"a1/Deposit", `{"amount":7}`}, {"a1/Withdraw", `{"amount":2}`},
		{"a2/Open", `{"owner":"bob"}`}, {"a2/Deposit", fmt.Sprintf(`{"amount":%d}`, testbank.Unlucky)}} {
		if r := invoke(t, ch, "c", "POST", "/aggregates/account/"+c[0], c[1], nil); r.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", c[0], r.StatusCode, r.Body)
		}
	}
	p, out := d.function(ProjectorRole, ServiceConfig(func(c *signal.Config) { c.ParkAfter = 1 }))
	sh, err := p.StreamHandler()
	if err != nil {
		t.Fatal(err)
	}
	batch := streamRecords(t, d)
	if len(batch) != 5 {
		t.Fatalf("%d commit records on the stream, want 5", len(batch))
	}
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "batch-1"})
	resp, err := sh.Handle(ctx, events.DynamoDBEvent{Records: batch})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the auditor is parked, not retried: %+v %v", resp, err)
	}

	q, _ := d.function(QueryRole)
	qh, err := q.HTTPHandler()
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"a1": `"balance":5`, "a2": `"balance":13`} {
		if r := invoke(t, qh, "q", "GET", "/views/balances/"+id, "", nil); r.StatusCode != 200 || !strings.Contains(r.Body, want) {
			t.Errorf("balances/%s: %d %s", id, r.StatusCode, r.Body)
		}
	}

	msgs, err := d.queue.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(d.s.DeadLetterQueue), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 || !strings.Contains(aws.ToString(msgs.Messages[0].Body), `"subscriber":"auditor"`) || !strings.Contains(aws.ToString(msgs.Messages[0].Body), `"stream":"account#a2"`) {
		t.Errorf("dead-letter queue: %+v", msgs.Messages)
	}

	m := metricLines(t, out, "batch-1", "bank-projector")
	if len(m) != 1 || m[0]["Records"] != 5.0 || m[0]["Commits"] != 5.0 || m[0]["FailedRecords"] != 0.0 || m[0]["cold_start"] != true {
		t.Errorf("batch metrics: %v in\n%s", m, out)
	}
	var batchLine, failureLine bool
	for _, l := range lines(t, out) {
		batchLine = batchLine || l["msg"] == "projector batch" && l["request_id"] == "batch-1"
		failureLine = failureLine || l["level"] == "ERROR" && l["subscriber"] == "auditor" && l["request_id"] == "batch-1"
	}
	if !batchLine || !failureLine {
		t.Errorf("the projector's log lines lack the request id (batch %v, failure %v):\n%s", batchLine, failureLine, out)
	}
}

// streamRecords reads every commit record on the events table's stream,
// as Lambda would deliver them.
func streamRecords(t *testing.T, d *deployment) []events.DynamoDBEventRecord {
	t.Helper()
	ctx := t.Context()
	arn, err := dynstream.StreamARN(ctx, dynamodb.NewFromConfig(d.cfg), d.s.Tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	streams := dynamodbstreams.NewFromConfig(d.cfg)
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	var batch []events.DynamoDBEventRecord
	for _, sh := range desc.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
			for _, r := range out.Records {
				if k, ok := r.Dynamodb.NewImage["kind"].(*streamtypes.AttributeValueMemberS); !ok || k.Value != dynstore.KindCommit {
					continue
				}
				lr, err := dynstream.LambdaRecord(r, arn)
				if err != nil {
					t.Fatal(err)
				}
				batch = append(batch, lr)
			}
		}
	}
	return batch
}
