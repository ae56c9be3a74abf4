package dynstore

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts, per DynamoDB operation, the calls made, the HTTP attempts
// they took (retries included) and the capacity DynamoDB reports as
// consumed. It asks for the capacity (ReturnConsumedCapacity=TOTAL) on
// every request it sees. Tests and benchmarks assert cost targets with
// it; a process can export it as metrics. Safe for concurrent use.
type Meter struct {
	mu  sync.Mutex
	ops map[string]*OpStats
}

// OpStats are one operation's counters.
type OpStats struct {
	// Calls counts API calls; Attempts counts HTTP requests, so
	// Attempts-Calls is the number of retries.
	Calls, Attempts int64
	// Errors counts calls that returned an error (conditional check
	// failures included).
	Errors int64
	// Capacity is the capacity units consumed, as DynamoDB reports them.
	Capacity float64
}

// NewMeter returns an empty meter.
func NewMeter() *Meter { return &Meter{ops: map[string]*OpStats{}} }

// Stats returns a copy of the counters by operation name ("PutItem", "Query", ...).
func (m *Meter) Stats() map[string]OpStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]OpStats, len(m.ops))
	for k, v := range m.ops {
		out[k] = *v
	}
	return out
}

// Total returns the counters summed over operations.
func (m *Meter) Total() OpStats {
	var t OpStats
	for _, s := range m.Stats() {
		t.Calls += s.Calls
		t.Attempts += s.Attempts
		t.Errors += s.Errors
		t.Capacity += s.Capacity
	}
	return t
}

// Operations returns the names of the operations seen, sorted.
func (m *Meter) Operations() []string {
	stats := m.Stats()
	out := make([]string, 0, len(stats))
	for k := range stats {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Reset zeroes the counters.
func (m *Meter) Reset() {
	m.mu.Lock()
	m.ops = map[string]*OpStats{}
	m.mu.Unlock()
}

func (m *Meter) op(name string) *OpStats {
	s := m.ops[name]
	if s == nil {
		s = &OpStats{}
		m.ops[name] = s
	}
	return s
}

// Middleware installs the meter on a client's middleware stack; add it
// to dynamodb.Options.APIOptions (ClientOptions does).
func (m *Meter) Middleware(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("SignalMeterCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askCapacity(in.Parameters)
			out, md, err := next.HandleInitialize(ctx, in)
			units := consumed(out.Result)
			m.mu.Lock()
			s := m.op(middleware.GetOperationName(ctx))
			s.Calls++
			s.Capacity += units
			if err != nil {
				s.Errors++
			}
			m.mu.Unlock()
			return out, md, err
		}), middleware.After); err != nil {
		return err
	}
	attempts := middleware.FinalizeMiddlewareFunc("SignalMeterAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			m.mu.Lock()
			m.op(middleware.GetOperationName(ctx)).Attempts++
			m.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		})
	// After the retry middleware, so every attempt passes through it.
	if err := stack.Finalize.Insert(attempts, "Retry", middleware.After); err != nil {
		return stack.Finalize.Add(attempts, middleware.After)
	}
	return nil
}

func askCapacity(params any) {
	const total = types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	}
}

func consumed(result any) float64 {
	one := func(c *types.ConsumedCapacity) float64 {
		if c == nil || c.CapacityUnits == nil {
			return 0
		}
		return *c.CapacityUnits
	}
	many := func(cs []types.ConsumedCapacity) (sum float64) {
		for i := range cs {
			sum += one(&cs[i])
		}
		return sum
	}
	switch out := result.(type) {
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.TransactWriteItemsOutput:
		return many(out.ConsumedCapacity)
	case *dynamodb.BatchWriteItemOutput:
		return many(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		return many(out.ConsumedCapacity)
	}
	return 0
}
