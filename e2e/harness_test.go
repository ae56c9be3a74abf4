package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/lambdatest"
)

func TestMain(m *testing.M) {
	testsupport.Main(m, dynamotest.Stop, func() {
		if binDir != "" {
			os.RemoveAll(binDir)
		}
	})
}

// service is a set of three functions to deploy: the directory holding
// their main packages (command, query, projector), the prefix of their
// function names, and the claim they take the caller's tenant from
// (AUTH_TENANT_CLAIM; "" for none).
type service struct{ dir, name, tenantClaim string }

var (
	// theCart is this repository's functions/; theBank is the user's path,
	// a service written with only the public packages (see bank/).
	theCart = service{"../functions", "signal", ""}
	theBank = service{"./bank/functions", "bank", ""}
	// theTenantBank is the bank with Tenancy (bank.TenantApp), the tenant
	// in a custom claim as a Cognito user pool would carry it.
	theTenantBank = service{"./bank/tenantfunctions", "tenantbank", "custom:tenant"}
)

var (
	buildMu sync.Mutex
	binDir  string
	bins    = map[service]map[string]string{}
)

// bootstraps builds a service's three functions once per test run, with
// the flags of `make build`, for the host architecture.
func bootstraps(t testing.TB, svc service) map[string]string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := bins[svc]; ok {
		return b
	}
	if binDir == "" {
		dir, err := os.MkdirTemp("", "signal-e2e-*")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	b := map[string]string{}
	for _, fn := range []string{"command", "query", "projector"} {
		b[fn] = lambdatest.Build(t, svc.dir+"/"+fn, filepath.Join(binDir, svc.name, fn))
	}
	bins[svc] = b
	return b
}

// stack is one deployment: fresh tables in moto and the functions under
// RIE, with the projector fed from the stream as the event source mapping
// would (a dynamotest.Pump).
type stack struct {
	t         testing.TB
	svc       service
	tables    dynstore.Tables
	client    *dynamodb.Client
	sqs       *sqs.Client
	dlq       string // the dead-letter queue's URL
	env       map[string]string
	command   *lambdatest.Function
	query     *lambdatest.Function
	projector *lambdatest.Function
	pump      *dynamotest.Pump
}

// The pump's batches and retries, smaller than the stack's mapping so the
// tests see several batches and give up soon.
var pumpConfig = dynamotest.PumpConfig{BatchSize: 25, MaxRetries: 2}

func newStack(t testing.TB) *stack { t.Helper(); return newStackOf(t, theCart) }

// newStackOf deploys svc: fresh tables, a dead-letter queue, one container
// of each function and the stream pump.
func newStackOf(t testing.TB, svc service) *stack {
	t.Helper()
	cfg := dynamotest.Config(t)
	endpoint := dynamotest.Endpoint(t)
	bootstraps(t, svc)
	s := &stack{t: t, svc: svc, client: dynamodb.NewFromConfig(cfg), tables: dynamotest.NewTables(t, "e2e")}
	s.sqs = sqs.NewFromConfig(cfg)
	q, err := s.sqs.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(s.tables.Events + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	s.dlq = aws.ToString(q.QueueUrl)
	s.env = map[string]string{
		"EVENTS_TABLE": s.tables.Events, "VIEWS_TABLE": s.tables.Views, "DEAD_LETTER_QUEUE_URL": s.dlq,
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
	}
	if svc.tenantClaim != "" {
		s.env["AUTH_TENANT_CLAIM"] = svc.tenantClaim
	}
	s.command = s.start("command")
	s.query = s.start("query")
	s.projector = s.start("projector")
	s.pump = dynamotest.NewPump(t, s.tables.Events, dynamotest.Lambda(s.projector), pumpConfig)
	return s
}

// start runs another container of a function.
func (s *stack) start(fn string) *lambdatest.Function {
	env := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": s.svc.name + "-" + fn}
	for k, v := range s.env {
		env[k] = v
	}
	return lambdatest.Start(s.t, bootstraps(s.t, s.svc)[fn], env)
}

// drain delivers everything the stream holds now to the projector.
func (s *stack) drain() {
	s.t.Helper()
	if _, err := s.pump.Drain(s.t.Context()); err != nil {
		s.t.Fatal(err)
	}
}

// request is an API call, sent as an API Gateway v2 or v1 event.
type request = lambdatest.HTTPRequest

// response is an HTTP answer from a function, whatever the payload version.
type response struct{ lambdatest.HTTPResponse }

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

// withJSON adds the Content-Type every request of these tests carries.
func withJSON(r request) request {
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range r.Headers {
		h[k] = v
	}
	r.Headers = h
	return r
}

// v2 invokes fn with an HTTP API (payload 2.0) event.
func v2(t testing.TB, fn *lambdatest.Function, r request) response {
	t.Helper()
	out, err := fn.HTTPv2(t.Context(), withJSON(r))
	if err != nil {
		t.Fatal(err)
	}
	return response{out}
}

// v1 invokes fn with a REST API (payload 1.0) event.
func v1(t testing.TB, fn *lambdatest.Function, r request) response {
	t.Helper()
	out, err := fn.HTTPv1(t.Context(), withJSON(r))
	if err != nil {
		t.Fatal(err)
	}
	return response{out}
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
