package dynamotest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/signalforgo/signal/internal/testsupport"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest"
	"github.com/signalforgo/signal/pkg/dynstore/lambdastream"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestMain(m *testing.M) { testsupport.Main(m, dynamotest.Stop) }

// drainAll drains until nothing new comes, and returns how many records
// were delivered for the first time.
func drainAll(t *testing.T, p *dynamotest.Pump) int {
	t.Helper()
	total := 0
	for range 20 {
		n, err := p.Drain(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("the stream never ran dry")
	return 0
}

// TestPumpFeedsTheProjection: commands on DynamoDB, the stream pumped into
// lambdastream's handler in-process, the balances read back; a second
// delivery of everything changes nothing.
func TestPumpFeedsTheProjection(t *testing.T) {
	ctx := t.Context()
	tables := dynamotest.NewTables(t, "pump")
	store, err := dynstore.New(dynamodb.NewFromConfig(dynamotest.Config(t), dynstore.ClientOptions(nil)), tables)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signal.New(signal.Config{Store: store, Types: []signal.AggregateType{AccountType}, Subscribers: []signal.Subscriber{balanceProjection()}})
	if err != nil {
		t.Fatal(err)
	}
	accounts := signal.Bind(svc, AccountType)
	for i, amounts := range [][]int64{{10, 20}, {5}, {}} {
		id := fmt.Sprint("a", i)
		if _, _, err := accounts.Create(ctx, id, Open{}); err != nil {
			t.Fatal(err)
		}
		for _, a := range amounts {
			if _, _, err := accounts.Handle(ctx, id, Deposit{Amount: a}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := accounts.Handle(ctx, "a0", Withdraw{Amount: 7}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := accounts.Handle(ctx, "a1", Withdraw{Amount: 6}); !errors.Is(err, errInsufficientFunds) {
		t.Fatalf("overdraft: %v", err)
	}

	handler := lambdastream.New(lambdastream.Config{Service: svc})
	pump := dynamotest.NewPump(t, tables.Events, handler.Handle, dynamotest.PumpConfig{})
	if n := drainAll(t, pump); n != 7 {
		t.Fatalf("%d commits delivered, want 7 (3 opens, 3 deposits, 1 withdrawal)", n)
	}
	want := map[string]Balance{"a0": {23, 4}, "a1": {5, 2}, "a2": {0, 1}}
	check := func(when string) {
		t.Helper()
		for id, w := range want {
			got, _, err := signal.LoadView[Balance](ctx, svc, balanceView, id)
			if err != nil || got != w {
				t.Errorf("%s: balance of %s = %+v, %v; want %+v", when, id, got, err, w)
			}
		}
	}
	check("after the stream was drained")
	if f, d := pump.Failures(), pump.DeadLetters(); len(f) != 0 || len(d) != 0 {
		t.Errorf("failures %v, dead letters %v", f, d)
	}
	delivered := pump.Delivered()
	if failed, err := pump.Deliver(ctx, delivered); err != nil || len(failed) != 0 {
		t.Fatalf("redelivery: %v, %v", failed, err)
	}
	check("after everything was delivered again")
	if n := len(pump.Delivered()); n != 14 {
		t.Errorf("Delivered holds %d records, want 14 (7 twice)", n)
	}
}

// stream is a table pair whose events table gets raw commit items, and a
// scripted projector: the pump's rules tested on their own.
type stream struct {
	t      *testing.T
	client *dynamodb.Client
	tables dynstore.Tables
	sk     int
}

func newStream(t *testing.T) *stream {
	return &stream{t: t, client: dynamodb.NewFromConfig(dynamotest.Config(t)), tables: dynamotest.NewTables(t, "pump")}
}

// put writes an events-table item of kind, keyed pk and a fresh sk.
func (s *stream) put(pk, kind string) {
	s.t.Helper()
	s.sk++
	_, err := s.client.PutItem(s.t.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.tables.Events), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(s.sk)},
		"kind": &types.AttributeValueMemberS{Value: kind},
	}})
	if err != nil {
		s.t.Fatal(err)
	}
}

// script is a projector that records each batch (by pk) and answers what
// fail says for it.
type script struct {
	mu      sync.Mutex
	batches [][]string
	fail    func(call int, batch []events.DynamoDBEventRecord) ([]string, error)
}

func pkOf(r events.DynamoDBEventRecord) string { return r.Change.NewImage["pk"].String() }

func (s *script) handle(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pks []string
	for _, r := range ev.Records {
		pks = append(pks, pkOf(r))
	}
	s.batches = append(s.batches, pks)
	var resp events.DynamoDBEventResponse
	if s.fail == nil {
		return resp, nil
	}
	ids, err := s.fail(len(s.batches), ev.Records)
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: id})
	}
	return resp, err
}

func (s *script) got() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, b := range s.batches {
		out = append(out, strings.Join(b, ","))
	}
	return strings.Join(out, " | ")
}

// seqOf returns the sequence number of the record with pk in batch.
func seqOf(batch []events.DynamoDBEventRecord, pk string) []string {
	for _, r := range batch {
		if pkOf(r) == pk {
			return []string{r.Change.SequenceNumber}
		}
	}
	return nil
}

func TestPumpBatchesAndFilters(t *testing.T) {
	s := newStream(t)
	for _, pk := range []string{"a", "b", "c"} {
		s.put(pk, dynstore.KindCommit)
	}
	s.put("snap", dynstore.KindSnapshot) // not a commit: the mapping's filter drops it
	s.put("d", dynstore.KindCommit)
	s.put("e", dynstore.KindCommit)
	sc := &script{}
	p := dynamotest.NewPump(t, s.tables.Events, sc.handle, dynamotest.PumpConfig{BatchSize: 2})
	if n := drainAll(t, p); n != 5 {
		t.Errorf("%d records delivered, want the 5 commits", n)
	}
	// Pages of 2 records, the snapshot's page keeping only d.
	if got, want := sc.got(), "a,b | c | d,e"; got != want {
		t.Errorf("batches %q, want %q", got, want)
	}
	for _, r := range p.Delivered() {
		if r.EventSource != "aws:dynamodb" || r.EventName != "INSERT" || r.EventSourceArn != p.StreamARN() || r.Change.SequenceNumber == "" {
			t.Errorf("record not in Lambda's shape: %+v", r)
		}
	}

	// A filter of one's own sees every record.
	all := &script{}
	q := dynamotest.NewPump(t, s.tables.Events, all.handle, dynamotest.PumpConfig{Filter: func(events.DynamoDBEventRecord) bool { return true }})
	if n := drainAll(t, q); n != 6 || all.got() != "a,b,c,snap,d,e" {
		t.Errorf("with a filter keeping all: %d records, batches %q", n, all.got())
	}
	// New writes are delivered by the next Drain, and only they.
	s.put("f", dynstore.KindCommit)
	if n := drainAll(t, p); n != 1 || !strings.HasSuffix(sc.got(), "| f") {
		t.Errorf("after a new commit: %d delivered, batches %q", n, sc.got())
	}
}

// TestPumpRedeliversFromTheFirstFailure: a failed record and everything
// after it comes again; the records before it are done.
func TestPumpRedeliversFromTheFirstFailure(t *testing.T) {
	s := newStream(t)
	for _, pk := range []string{"a", "b", "c", "d"} {
		s.put(pk, dynstore.KindCommit)
	}
	sc := &script{fail: func(call int, batch []events.DynamoDBEventRecord) ([]string, error) {
		switch call {
		case 1: // d, b and c fail: redelivery starts at b, the first in the batch
			return slices.Concat(seqOf(batch, "d"), seqOf(batch, "b"), seqOf(batch, "c")), nil
		case 2:
			return seqOf(batch, "c"), nil
		}
		return nil, nil
	}}
	p := dynamotest.NewPump(t, s.tables.Events, sc.handle, dynamotest.PumpConfig{})
	drainAll(t, p)
	if got, want := sc.got(), "a,b,c,d | b,c,d | c,d"; got != want {
		t.Errorf("deliveries %q, want %q", got, want)
	}
	if f := p.Failures(); len(f) != 3 || f[p.Delivered()[2].Change.SequenceNumber] != 2 || len(p.DeadLetters()) != 0 {
		t.Errorf("failures %v, dead letters %v", f, p.DeadLetters())
	}
}

// TestPumpGivesUp: a record failing 1+MaxRetries deliveries in a row is
// given up, and delivery goes on after it.
func TestPumpGivesUp(t *testing.T) {
	for _, c := range []struct {
		retries int
		want    string
	}{
		{2, "a,b,c | b,c | b,c | c"},
		{dynamotest.NoRetries, "a,b,c | c"},
		{0, "a,b,c | b,c | b,c | b,c | b,c | b,c | c"}, // the default, the stack's 5
	} {
		t.Run(fmt.Sprint("retries=", c.retries), func(t *testing.T) {
			s := newStream(t)
			for _, pk := range []string{"a", "b", "c"} {
				s.put(pk, dynstore.KindCommit)
			}
			sc := &script{fail: func(_ int, batch []events.DynamoDBEventRecord) ([]string, error) { return seqOf(batch, "b"), nil }}
			p := dynamotest.NewPump(t, s.tables.Events, sc.handle, dynamotest.PumpConfig{MaxRetries: c.retries})
			drainAll(t, p)
			if got := sc.got(); got != c.want {
				t.Errorf("deliveries %q, want %q", got, c.want)
			}
			if d := p.DeadLetters(); len(d) != 1 || pkOf(d[0]) != "b" {
				t.Errorf("dead letters %v, want b alone", d)
			}
		})
	}
}

// TestPumpWholeBatchFailure: an empty identifier fails the whole batch.
func TestPumpWholeBatchFailure(t *testing.T) {
	s := newStream(t)
	s.put("a", dynstore.KindCommit)
	s.put("b", dynstore.KindCommit)
	sc := &script{fail: func(call int, _ []events.DynamoDBEventRecord) ([]string, error) {
		if call == 1 {
			return []string{""}, nil
		}
		return nil, nil
	}}
	p := dynamotest.NewPump(t, s.tables.Events, sc.handle, dynamotest.PumpConfig{})
	drainAll(t, p)
	if got := sc.got(); got != "a,b | a,b" {
		t.Errorf("deliveries %q", got)
	}
}

// TestPumpStopsOnProjectorBugs: a failed invocation, or a failure named
// outside the batch, is Drain's error; the batch comes first next time.
func TestPumpStopsOnProjectorBugs(t *testing.T) {
	s := newStream(t)
	s.put("a", dynstore.KindCommit)
	s.put("b", dynstore.KindCommit)
	crash := errors.New("the projector crashed")
	sc := &script{fail: func(call int, _ []events.DynamoDBEventRecord) ([]string, error) {
		switch call {
		case 1:
			return nil, crash
		case 2:
			return []string{"no-such-sequence-number"}, nil
		}
		return nil, nil
	}}
	p := dynamotest.NewPump(t, s.tables.Events, sc.handle, dynamotest.PumpConfig{})
	if _, err := p.Drain(t.Context()); !errors.Is(err, crash) {
		t.Fatalf("first Drain: %v, want the projector's error", err)
	}
	if _, err := p.Drain(t.Context()); err == nil || !strings.Contains(err.Error(), "no-such-sequence-number") {
		t.Fatalf("second Drain: %v, want an error naming the unknown record", err)
	}
	s.put("c", dynstore.KindCommit)
	drainAll(t, p)
	if got, want := sc.got(), "a,b | a,b | a,b | c"; got != want {
		t.Errorf("deliveries %q, want %q", got, want)
	}
	if len(p.DeadLetters()) != 0 {
		t.Errorf("dead letters %v: a projector bug must not lose records", p.DeadLetters())
	}
}

func TestPumpDeliver(t *testing.T) {
	s := newStream(t)
	sc := &script{fail: func(_ int, batch []events.DynamoDBEventRecord) ([]string, error) { return seqOf(batch, "x"), nil }}
	p := dynamotest.NewPump(t, s.tables.Events, sc.handle, dynamotest.PumpConfig{})
	forged := events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: "42",
		NewImage: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("x")}}}
	failed, err := p.Deliver(t.Context(), []events.DynamoDBEventRecord{forged})
	if err != nil || !slices.Equal(failed, []string{"42"}) {
		t.Fatalf("Deliver: %v, %v", failed, err)
	}
	if p.Failures()["42"] != 1 || len(p.Delivered()) != 1 {
		t.Errorf("Deliver was not recorded: %v, %d delivered", p.Failures(), len(p.Delivered()))
	}
	// Deliver does not move the reading on: the stream is still unread.
	s.put("y", dynstore.KindCommit)
	if n := drainAll(t, p); n != 1 {
		t.Errorf("Drain after Deliver delivered %d, want 1", n)
	}
}
