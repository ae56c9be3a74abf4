package dynamotest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/lambdatest"
)

// Projector is what a Pump delivers to: a Lambda handler of DynamoDB stream
// batches with partial batch responses. lambdastream.Handler.Handle is one
// (in-process); Lambda(fn) makes one of a projector running under RIE.
//
// A nil error with BatchItemFailures names the records that failed (by
// sequence number; an empty identifier fails the whole batch, as Lambda
// reads it); an error is a failed invocation (a crash, a timeout).
type Projector func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Lambda returns fn, a projector's bootstrap under RIE, as a Projector:
// each delivery is one invoke. Its errors are lambdatest.Function.Invoke's
// (a *lambdatest.FunctionError when the handler failed or crashed), or an
// answer that is not an events.DynamoDBEventResponse.
func Lambda(fn *lambdatest.Function) Projector {
	return Projector(lambdatest.Func[events.DynamoDBEvent, events.DynamoDBEventResponse](fn))
}

// Defaults of PumpConfig: the projector's event source mapping as the
// CDK app declares it (infra/signalstack: BatchSize 100, 5 retry attempts).
const (
	DefaultBatchSize  = 100
	DefaultMaxRetries = 5
	// NoRetries as PumpConfig.MaxRetries gives a record up after its first
	// failed delivery.
	NoRetries = -1
)

// PumpConfig configures a Pump; the zero value is the stack's mapping.
type PumpConfig struct {
	// BatchSize is the most records in one delivery (the GetRecords limit,
	// 1 to 1000). 0 means DefaultBatchSize.
	BatchSize int
	// MaxRetries is how many times a batch failing at the same record is
	// delivered again before that record is given up (see Pump). 0 means
	// DefaultMaxRetries; NoRetries gives up at once.
	MaxRetries int
	// Filter keeps the records to deliver. Nil means the mapping's filter:
	// INSERTs of items of kind "commit" (dynstore.KindCommit).
	Filter func(events.DynamoDBEventRecord) bool
	// Streams is the DynamoDB Streams client to read with. Nil means one on
	// Config(t); give one to read through a proxy, say.
	Streams dynstream.StreamsAPI
}

// Pump stands in for Lambda's event source mapping of a projector: it
// reads an events table's DynamoDB stream with the Streams API and
// delivers its records to a Projector, in the shape Lambda sends
// (events.DynamoDBEvent, records as dynstream.LambdaRecord converts them),
// with Lambda's rules for partial batch responses:
//
//   - Each shard is read in order from its trim horizon, a child shard
//     only after its parent is finished, one GetRecords page of BatchSize
//     records at a time; the Filter's records of a page are one batch.
//     Pages with none are not delivered.
//   - A batch whose response names no failure is done.
//   - Otherwise it is delivered again from the first failed record (in
//     batch order; an empty identifier is the whole batch), the records
//     before it being done.
//   - When 1+MaxRetries deliveries in a row have failed at the same
//     record, that record is given up (DeadLetters, as the stack's
//     on-failure destination would be told) and delivery goes on after it.
//     The stack's mapping also bisects batches whose invocation fails, so
//     that what it gives up is the failing record, as here.
//
// Unlike Lambda, a failed invocation (the Projector's error) is not
// retried: Drain returns it, since in a test it is a bug to see, and the
// batch is delivered first by the next Drain. Delivered, Failures and
// DeadLetters record everything, for tests of redelivery.
//
// A Pump is safe for concurrent use; deliveries are serialized.
type Pump struct {
	streams   dynstream.StreamsAPI
	arn       string
	to        Projector
	batchSize int
	retries   int
	filter    func(events.DynamoDBEventRecord) bool

	mu     sync.Mutex // held for a whole Drain or Deliver
	shards map[string]*shard
	order  []*shard // listing order: parents before children

	logMu       sync.Mutex
	delivered   []events.DynamoDBEventRecord
	failures    map[string]int
	deadLetters []events.DynamoDBEventRecord
}

// NewPump returns a Pump of the stream of table on the test's endpoint
// (see Endpoint), delivering to to. It reads nothing yet: Drain does.
//
// Outcomes: the Pump; the test failed when to is nil, cfg is out of range
// (BatchSize above 1000 or negative, MaxRetries below NoRetries), or the
// table does not exist or has no stream; Endpoint's skip or failure when
// there is no endpoint.
func NewPump(t testing.TB, table string, to Projector, cfg PumpConfig) *Pump {
	t.Helper()
	if err := cfg.check(to); err != nil {
		t.Fatalf("dynamotest.NewPump: %v", err)
	}
	awsCfg := Config(t)
	arn, err := dynstream.StreamARN(t.Context(), dynamodb.NewFromConfig(awsCfg), table)
	if err != nil {
		t.Fatalf("dynamotest.NewPump: %v", err)
	}
	p := &Pump{streams: cfg.Streams, arn: arn, to: to, batchSize: cfg.BatchSize, retries: cfg.MaxRetries, filter: cfg.Filter,
		shards: map[string]*shard{}, failures: map[string]int{}}
	if p.streams == nil {
		p.streams = dynamodbstreams.NewFromConfig(awsCfg)
	}
	if p.batchSize == 0 {
		p.batchSize = DefaultBatchSize
	}
	switch p.retries {
	case 0:
		p.retries = DefaultMaxRetries
	case NoRetries:
		p.retries = 0
	}
	if p.filter == nil {
		p.filter = isCommit
	}
	return p
}

func (c PumpConfig) check(to Projector) error {
	switch {
	case to == nil:
		return fmt.Errorf("no projector")
	case c.BatchSize < 0 || c.BatchSize > 1000:
		return fmt.Errorf("BatchSize %d: want 1 to 1000, or 0 for %d", c.BatchSize, DefaultBatchSize)
	case c.MaxRetries < NoRetries:
		return fmt.Errorf("MaxRetries %d: want 1 or more, 0 for %d, or NoRetries", c.MaxRetries, DefaultMaxRetries)
	}
	return nil
}

// isCommit is the stack's filter: the INSERT of an item of kind "commit".
func isCommit(r events.DynamoDBEventRecord) bool {
	k, ok := r.Change.NewImage["kind"]
	return r.EventName == "INSERT" && ok && k.DataType() == events.DataTypeString && k.String() == dynstore.KindCommit
}

// StreamARN is the ARN of the stream the Pump reads.
func (p *Pump) StreamARN() string { return p.arn }

// Delivered returns a copy of every record delivered so far, in order,
// redeliveries and Deliver's records included.
func (p *Pump) Delivered() []events.DynamoDBEventRecord {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return append([]events.DynamoDBEventRecord(nil), p.delivered...)
}

// Failures returns a copy of how many times each identifier (a sequence
// number, or "" for a whole batch) was reported as failed.
func (p *Pump) Failures() map[string]int {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	out := make(map[string]int, len(p.failures))
	for k, v := range p.failures {
		out[k] = v
	}
	return out
}

// DeadLetters returns a copy of the records given up, in order.
func (p *Pump) DeadLetters() []events.DynamoDBEventRecord {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return append([]events.DynamoDBEventRecord(nil), p.deadLetters...)
}
