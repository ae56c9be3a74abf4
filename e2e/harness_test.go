package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/internal/moto"
	"github.com/signalforgo/signal/internal/rie"
	"github.com/signalforgo/signal/pkg/dynstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	moto.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	bins      map[string]string
	tableSeq  atomic.Int64
)

// bootstraps builds the three functions once per test run, with the flags
// of `make build`, for the host architecture.
func bootstraps(t testing.TB) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "signal-e2e-*")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
		bins = map[string]string{}
		for _, fn := range []string{"command", "query", "projector"} {
			bins[fn] = rie.Build(t, "../functions/"+fn, filepath.Join(dir, fn))
		}
	})
	if bins["projector"] == "" {
		t.Fatal("the functions did not build")
	}
	return bins
}

// stack is one deployment: fresh tables in moto and the functions under RIE.
type stack struct {
	t         testing.TB
	tables    dynstore.Tables
	client    *dynamodb.Client
	sqs       *sqs.Client
	dlq       string // the dead-letter queue's URL
	env       map[string]string
	command   *rie.Function
	query     *rie.Function
	projector *rie.Function
	esm       *esm
}

func newStack(t testing.TB) *stack {
	t.Helper()
	cfg := moto.Config(t)
	endpoint := moto.Endpoint(t)
	bootstraps(t)
	n := tableSeq.Add(1)
	s := &stack{t: t, client: dynamodb.NewFromConfig(cfg),
		tables: dynstore.Tables{Events: fmt.Sprintf("e2e-events-%d-%d", os.Getpid(), n), Views: fmt.Sprintf("e2e-views-%d-%d", os.Getpid(), n)}}
	if err := dynstore.CreateTables(t.Context(), s.client, s.tables); err != nil {
		t.Fatal(err)
	}
	s.sqs = sqs.NewFromConfig(cfg)
	q, err := s.sqs.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("e2e-dlq-%d-%d", os.Getpid(), n))})
	if err != nil {
		t.Fatal(err)
	}
	s.dlq = aws.ToString(q.QueueUrl)
	s.env = map[string]string{
		"EVENTS_TABLE": s.tables.Events, "VIEWS_TABLE": s.tables.Views, "DEAD_LETTER_QUEUE_URL": s.dlq,
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
	}
	s.command = s.start("command")
	s.query = s.start("query")
	s.projector = s.start("projector")
	arn, err := dynstore.StreamARN(t.Context(), s.client, s.tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	s.esm = &esm{t: t, streams: dynamodbstreams.NewFromConfig(cfg), arn: arn, fn: s.projector, iters: map[string]*string{}}
	return s
}

// start runs another container of a function.
func (s *stack) start(fn string) *rie.Function {
	env := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "signal-" + fn}
	for k, v := range s.env {
		env[k] = v
	}
	return rie.Start(s.t, bootstraps(s.t)[fn], env)
}

// response is an HTTP answer from a function, whatever the payload version.
type response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// header returns a response header, whatever its case.
func (r response) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("status %d body %q is not a JSON object: %v", r.Status, r.Body, err)
	}
	return m
}

func (r response) errorCode(t testing.TB) string {
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	if code == "" || e["message"] == "" {
		t.Fatalf("no JSON error in %q", r.Body)
	}
	return code
}

// request is an API call, sent as an API Gateway v2 or v1 event.
type request struct {
	Method, Path string
	Query        map[string]string
	Headers      map[string]string
	Body         string
	Base64       bool
}

// v2 invokes fn with an HTTP API (payload 2.0) event.
func v2(t testing.TB, fn *rie.Function, r request) response {
	t.Helper()
	body := r.Body
	if r.Base64 {
		body = base64.StdEncoding.EncodeToString([]byte(r.Body))
	}
	var qs []string
	for k, v := range r.Query {
		qs = append(qs, k+"="+v)
	}
	sort.Strings(qs)
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range r.Headers {
		headers[strings.ToLower(k)] = v
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.Path, RawQueryString: strings.Join(qs, "&"),
		Headers: headers, QueryStringParameters: r.Query, Body: body, IsBase64Encoded: r.Base64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default", RequestID: fmt.Sprint("req-", time.Now().UnixNano()),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.Path, Protocol: "HTTP/1.1"},
		},
	}
	raw, err := fn.Invoke(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &out); err != nil || out.StatusCode == 0 {
		t.Fatalf("not an HTTP API response: %s (%v)", raw, err)
	}
	return response{out.StatusCode, out.Headers, decodeBody(t, out.Body, out.IsBase64Encoded)}
}

// v1 invokes fn with a REST API (payload 1.0) event.
func v1(t testing.TB, fn *rie.Function, r request) response {
	t.Helper()
	body := r.Body
	if r.Base64 {
		body = base64.StdEncoding.EncodeToString([]byte(r.Body))
	}
	headers := map[string]string{"Content-Type": "application/json"}
	for k, v := range r.Headers {
		headers[k] = v
	}
	ev := events.APIGatewayProxyRequest{
		Resource: "/{proxy+}", Path: r.Path, HTTPMethod: r.Method, Headers: headers,
		QueryStringParameters: r.Query, Body: body, IsBase64Encoded: r.Base64,
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod", RequestID: fmt.Sprint("req-", time.Now().UnixNano()), HTTPMethod: r.Method, Path: "/prod" + r.Path},
	}
	raw, err := fn.Invoke(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var out events.APIGatewayProxyResponse
	if err := json.Unmarshal(raw, &out); err != nil || out.StatusCode == 0 {
		t.Fatalf("not a REST API response: %s (%v)", raw, err)
	}
	return response{out.StatusCode, out.Headers, decodeBody(t, out.Body, out.IsBase64Encoded)}
}

func decodeBody(t testing.TB, body string, b64 bool) string {
	if !b64 {
		return body
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// itemCount counts the items of a table (strongly consistent scan).
func (s *stack) itemCount(table string) int {
	n := 0
	p := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(s.t.Context())
		if err != nil {
			s.t.Fatal(err)
		}
		n += len(page.Items)
	}
	return n
}

// esm stands in for Lambda's event source mapping: it reads the stream
// with the DynamoDB Streams API, keeps only commit INSERTs (the mapping's
// filter), invokes the projector with the records in Lambda's shape and
// honours partial batch failures: it retries from the earliest failed
// record, and after maxRetries sends that record to its dead letters (the
// on-failure destination) and goes on after it.
type esm struct {
	t       testing.TB
	streams *dynamodbstreams.Client
	arn     string
	fn      *rie.Function
	iters   map[string]*string
	// Deadletters holds the sequence numbers given up on.
	Deadletters []string
	// Failures counts every sequence number reported as failed.
	Failures map[string]int
	// Delivered holds every record delivered, for redelivery tests.
	Delivered []events.DynamoDBEventRecord
}

const maxRetries = 2

// drain delivers everything the stream holds now, batch by batch.
func (e *esm) drain() {
	ctx := e.t.Context()
	if e.Failures == nil {
		e.Failures = map[string]int{}
	}
	desc, err := e.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(e.arn)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		if e.iters[id] == nil {
			it, err := e.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(e.arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
			if err != nil {
				e.t.Fatal(err)
			}
			e.iters[id] = it.ShardIterator
		}
		for e.iters[id] != nil {
			out, err := e.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: e.iters[id], Limit: aws.Int32(25)})
			if err != nil {
				e.t.Fatal(err)
			}
			e.iters[id] = out.NextShardIterator
			if len(out.Records) == 0 {
				break
			}
			var batch []events.DynamoDBEventRecord
			for _, r := range out.Records {
				if r.EventName != streamtypes.OperationTypeInsert || r.Dynamodb == nil {
					continue
				}
				if k, ok := r.Dynamodb.NewImage["kind"].(*streamtypes.AttributeValueMemberS); !ok || k.Value != dynstore.KindCommit {
					continue
				}
				lr, err := dynstore.LambdaRecord(r, e.arn)
				if err != nil {
					e.t.Fatal(err)
				}
				batch = append(batch, lr)
			}
			e.deliver(batch)
		}
	}
}

// deliver invokes the projector with batch until it succeeds, retrying
// from the earliest failed record as Lambda does.
func (e *esm) deliver(batch []events.DynamoDBEventRecord) {
	for attempt := 0; len(batch) > 0; attempt++ {
		failed := e.Invoke(batch)
		if len(failed) == 0 {
			return
		}
		first := len(batch)
		for i, r := range batch {
			if failed[r.Change.SequenceNumber] {
				first = min(first, i)
			}
		}
		if first == len(batch) {
			e.t.Fatalf("the projector reported sequence numbers not in the batch: %v", failed)
		}
		batch = batch[first:]
		if attempt >= maxRetries {
			e.Deadletters = append(e.Deadletters, batch[0].Change.SequenceNumber)
			batch, attempt = batch[1:], -1
		}
	}
}

// Invoke sends one batch to the projector and returns the failed sequence numbers.
func (e *esm) Invoke(batch []events.DynamoDBEventRecord) map[string]bool {
	e.Delivered = append(e.Delivered, batch...)
	raw, err := e.fn.Invoke(e.t.Context(), events.DynamoDBEvent{Records: batch})
	if err != nil {
		e.t.Fatal(err)
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		e.t.Fatalf("projector answered %s: %v", raw, err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
		e.Failures[f.ItemIdentifier]++
	}
	return failed
}
