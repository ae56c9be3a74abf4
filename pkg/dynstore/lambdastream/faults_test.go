package lambdastream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/internal/moto"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// failureLog collects the adapter's "subscriber failed" log lines: the
// stream, version and subscriber of every failure it reported.
type failureLog struct {
	mu    sync.Mutex
	lines []loggedFailure
}

type loggedFailure struct {
	aggregate, subscriber string
	version               int64
}

func (l *failureLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *failureLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *failureLog) WithGroup(string) slog.Handler            { return l }
func (l *failureLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "projector: subscriber failed" {
		return nil
	}
	var f loggedFailure
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "aggregate":
			f.aggregate = a.Value.String()
		case "subscriber":
			f.subscriber = a.Value.String()
		case "version":
			f.version = a.Value.Int64()
		}
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, f)
	l.mu.Unlock()
	return nil
}

func (l *failureLog) take() []loggedFailure {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// sessionCommand is the i-th command of the cart session: adds on 5 carts
// (4 skus, one price per sku), a few removes, then purchases of carts 0-2
// and a discard of cart 3.
type sessionCommand struct {
	cart string
	cmd  any // nil: Close
}

func cartSession() []sessionCommand {
	rng := rand.New(rand.NewPCG(7, 7))
	var out []sessionCommand
	for range 40 {
		c := fmt.Sprint("cart-", rng.IntN(5))
		sku := rng.IntN(4)
		if rng.IntN(5) == 0 {
			out = append(out, sessionCommand{c, cart.RemoveItem{SKU: fmt.Sprint("sku-", sku), Quantity: 1}})
			continue
		}
		out = append(out, sessionCommand{c, cart.AddItem{SKU: fmt.Sprint("sku-", sku), Quantity: int64(1 + rng.IntN(3)), Price: 100 + int64(sku)}})
	}
	for i := range 3 {
		out = append(out, sessionCommand{fmt.Sprint("cart-", i), cart.CompletePurchase{}})
	}
	out = append(out, sessionCommand{"cart-3", nil})
	return out
}

func runSession(t *testing.T, svc *signal.Service) {
	ctx := t.Context()
	for i, c := range cartSession() {
		var err error
		if c.cmd == nil {
			_, err = svc.Close(ctx, "cart", c.cart, signal.WithCommandID(fmt.Sprint("s-", i)))
		} else {
			_, err = svc.Handle(ctx, "cart", c.cart, c.cmd, signal.WithCommandID(fmt.Sprint("s-", i)))
		}
		if err != nil && signal.KindOf(err) != signal.KindRejected {
			t.Fatalf("command %d on %s: %v", i, c.cart, err)
		}
	}
}

// sessionViews reads the cart-summary and sku-sales documents, decoded.
func sessionViews(t *testing.T, svc *signal.Service) map[string]any {
	out := map[string]any{}
	for i := range 5 {
		k := fmt.Sprint("cart-", i)
		v, err := svc.View(t.Context(), cart.CartSummaryView, k)
		var doc cart.CartSummary
		if err == nil {
			err = json.Unmarshal(v.Data, &doc)
		}
		out["summary/"+k] = fmt.Sprintf("%+v %v", doc, errKind(err))
	}
	for i := range 4 {
		k := fmt.Sprint("sku-", i)
		v, err := svc.View(t.Context(), cart.SKUSalesView, k)
		var doc cart.SKUSales
		if err == nil {
			err = json.Unmarshal(v.Data, &doc)
		}
		out["sales/"+k] = fmt.Sprintf("%+v %v", doc, errKind(err))
	}
	return out
}

// errKind is "ok" or the error's kind (stores word their errors differently).
func errKind(err error) string {
	if err == nil {
		return "ok"
	}
	return signal.KindOf(err).String()
}

// TestProjectorUnderFaults: a cart session written directly to moto, then
// projected by a Handler whose DynamoDB client goes through a fault proxy
// throttling 30% of TransactWriteItems, GetItem and PutItem (3 SDK
// attempts, so some runs fail), with an extra subscriber that fails on one
// chosen event the first 3 times. Batches are built from the table's
// stream (commit INSERTs, dynstore.LambdaRecord) and redelivered from the
// earliest reported record, as Lambda does. Checked: every reported
// identifier is a record of the batch, the earliest of its aggregate at or
// after the failed version (exactly the chosen event's record for the
// flaky subscriber); nothing is applied past a failure (the flaky
// subscriber's versions never jump and stop at its injected failure, the
// cart-summary document never moves past a reported cart-summary failure);
// after convergence the views equal an in-process reference's.
func TestProjectorUnderFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	start := time.Now()
	cfg := moto.Config(t)
	direct := dynamodb.NewFromConfig(cfg, dynstore.ClientOptions(nil))
	tables := dynstore.Tables{Events: fmt.Sprintf("ls-events-%d-%d", os.Getpid(), time.Now().UnixNano()), Views: fmt.Sprintf("ls-views-%d-%d", os.Getpid(), time.Now().UnixNano())}
	if err := dynstore.CreateTables(ctx, direct, tables); err != nil {
		t.Fatal(err)
	}
	directStore, err := dynstore.New(direct, tables)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := signal.New(signal.Config{Store: directStore, Types: cart.Types()})
	if err != nil {
		t.Fatal(err)
	}
	runSession(t, writer)

	// The reference: the same session in process, subscribers inline.
	ref, err := signal.New(signal.Config{Store: memstore.New(), Types: cart.Types(), Subscribers: cart.Subscribers(), InlineDispatch: true})
	if err != nil {
		t.Fatal(err)
	}
	runSession(t, ref)
	want := sessionViews(t, ref)

	// The stream's commit records, in Lambda's shape.
	arn, err := dynstore.StreamARN(ctx, direct, tables.Events)
	if err != nil {
		t.Fatal(err)
	}
	streams := dynamodbstreams.NewFromConfig(cfg)
	iters := map[string]*string{}
	read := func() []events.DynamoDBEventRecord {
		desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		var out []events.DynamoDBEventRecord
		for _, sh := range desc.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if iters[id] == nil {
				it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
				if err != nil {
					t.Fatal(err)
				}
				iters[id] = it.ShardIterator
			}
			for iters[id] != nil {
				o, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iters[id]})
				if err != nil {
					t.Fatal(err)
				}
				iters[id] = o.NextShardIterator
				if len(o.Records) == 0 {
					break
				}
				for _, r := range o.Records {
					if r.EventName != streamtypes.OperationTypeInsert || r.Dynamodb == nil {
						continue
					}
					if k, ok := r.Dynamodb.NewImage["kind"].(*streamtypes.AttributeValueMemberS); !ok || k.Value != dynstore.KindCommit {
						continue
					}
					lr, err := dynstore.LambdaRecord(r, arn)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, lr)
				}
			}
		}
		return out
	}
	first := read()
	decodedFirst := dynstore.DecodeLambdaEvent(events.DynamoDBEvent{Records: first})

	// The chosen event: the first event of cart-1's third commit (a commit
	// with records of its aggregate before and after it in the stream).
	var chosenID, chosenSeq string
	var chosenStream signal.StreamID
	var chosenVersion int64
	for _, d := range decodedFirst {
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		if d.IsCommit && d.Commit.Stream.ID == "cart-1" && d.Commit.Version == 3 {
			chosenID, chosenSeq, chosenStream, chosenVersion = d.Commit.Events[0].ID, d.SequenceNumber, d.Commit.Stream, d.Commit.Version
		}
	}
	if chosenID == "" {
		t.Fatalf("no commit at version 3 of cart-1 among %d records", len(first))
	}

	// The projector, through the proxy; the schedule's seed is
	// SIGNAL_FAULT_SEED (as in dynstore's fault tests), or 1.
	seed := uint64(1)
	if v := os.Getenv("SIGNAL_FAULT_SEED"); v != "" {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SIGNAL_FAULT_SEED: %v", err)
		}
	}
	proxy, err := faultproxy.New(faultproxy.Config{
		Upstream:   moto.Endpoint(t),
		Seed:       seed,
		Rates:      faultproxy.Rates{Throttle: 0.3},
		Operations: []string{"TransactWriteItems", "GetItem", "PutItem"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	client := dynamodb.NewFromConfig(cfg, dynstore.ClientOptions(nil), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(proxy.URL())
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(5 * time.Second)
	})
	projStore, err := dynstore.New(client, tables)
	if err != nil {
		t.Fatal(err)
	}
	const flakyTimes = 3
	var flakyFailed int
	flakySeen := map[string]int64{} // aggregate -> highest version handled
	flaky := &signal.Handler{Name: "flaky", Types: []string{cart.TypeName}, Handle: func(_ context.Context, ev signal.Event) error {
		k := ev.AggregateType + "#" + ev.AggregateID
		if ev.Version > flakySeen[k]+1 {
			t.Errorf("flaky subscriber: %s version %d after %d (a jump)", k, ev.Version, flakySeen[k])
		}
		if ev.ID == chosenID && flakyFailed < flakyTimes {
			flakyFailed++
			return errors.New("flaky: injected failure")
		}
		flakySeen[k] = max(flakySeen[k], ev.Version)
		return nil
	}}
	// One stream at a time: moto_server's rollback of a failed transaction
	// would otherwise lose concurrent view writes.
	projector, err := signal.New(signal.Config{Store: projStore, Types: cart.Types(),
		Subscribers: append(cart.Subscribers(), flaky), DispatchConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	logs := &failureLog{}
	handler := New(Config{Service: projector, Logger: slog.New(logs)})
	reader, err := signal.New(signal.Config{Store: directStore, Types: cart.Types()})
	if err != nil {
		t.Fatal(err)
	}

	summaryVersion := func(id string) int64 {
		v, err := reader.View(ctx, cart.CartSummaryView, id)
		var doc cart.CartSummary
		if err == nil && json.Unmarshal(v.Data, &doc) == nil {
			return doc.Version
		}
		return 0
	}
	var invocations, reported, chosenReports int
	deliver := func(batch []events.DynamoDBEventRecord) {
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt > 50 || ctx.Err() != nil {
				t.Fatalf("the batch from %s did not converge", batch[0].Change.SequenceNumber)
			}
			invocations++
			seenBefore := maps.Clone(flakySeen)
			failedBefore := flakyFailed
			summaryBefore := map[string]int64{}
			for i := range 5 {
				id := fmt.Sprint("cart-", i)
				summaryBefore[id] = summaryVersion(id)
			}
			resp, err := handler.Handle(ctx, events.DynamoDBEvent{Records: batch})
			injected := flakyFailed > failedBefore
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) == 0 {
				logs.take()
				return
			}
			decoded := dynstore.DecodeLambdaEvent(events.DynamoDBEvent{Records: batch})
			index := map[string]int{}
			for i, d := range decoded {
				index[d.SequenceNumber] = i
			}
			earliest := len(batch)
			reportedSeqs := map[string]bool{}
			for _, f := range resp.BatchItemFailures {
				reported++
				i, in := index[f.ItemIdentifier]
				if !in {
					t.Fatalf("reported %s, not a record of the batch", f.ItemIdentifier)
				}
				reportedSeqs[f.ItemIdentifier] = true
				earliest = min(earliest, i)
			}
			// Each logged failure: its reported record is the earliest of
			// its aggregate in the batch ending at or after the version.
			for _, lf := range logs.take() {
				want := ""
				for _, d := range decoded {
					if d.IsCommit && d.Commit.Stream.String() == lf.aggregate && d.Commit.LastVersion() >= lf.version {
						want = d.SequenceNumber
						break
					}
				}
				if want == "" {
					continue // the failure was in commits read to fill a gap
				}
				if !reportedSeqs[want] {
					t.Errorf("%s failed at version %d (%s): %s not reported (reported %v)", lf.aggregate, lf.version, lf.subscriber, want, resp.BatchItemFailures)
				}
				if lf.subscriber == "flaky" && lf.aggregate == chosenStream.String() && lf.version == chosenVersion {
					chosenReports++
					if want != chosenSeq {
						t.Errorf("flaky failure reported as %s, want %s (the chosen event's record)", want, chosenSeq)
					}
				}
				// The injected failure stops the flaky subscriber at the
				// chosen event: it handled nothing of the aggregate past it.
				// (Other failures of a Handler, a checkpoint save, may
				// come after it handled the whole batch: at least once.)
				if injected && lf.subscriber == "flaky" && lf.aggregate == chosenStream.String() && lf.version == chosenVersion &&
					flakySeen[lf.aggregate] > max(chosenVersion-1, seenBefore[lf.aggregate]) {
					t.Errorf("flaky subscriber at %s version %d (%d before the invocation), past its injected failure at %d", lf.aggregate, flakySeen[lf.aggregate], seenBefore[lf.aggregate], lf.version)
				}
				// A projection commits its documents with its checkpoint:
				// after a failure at V the cart-summary reflects nothing
				// past V-1 it did not reflect before the invocation (V
				// may be lower than what it had reached: a failed
				// checkpoint read reports the batch's first event).
				if lf.subscriber == cart.CartSummaryView {
					id := lf.aggregate[len("cart#"):]
					if after := summaryVersion(id); after > max(lf.version-1, summaryBefore[id]) {
						t.Errorf("cart-summary of %s at version %d (%d before the invocation), past its reported failure at %d", id, after, summaryBefore[id], lf.version)
					}
				}
			}
			for seq := range reportedSeqs {
				// No record of the same aggregate before it in the batch at or after the failure.
				d := decoded[index[seq]]
				for _, e := range decoded[:index[seq]] {
					if e.IsCommit && d.IsCommit && e.Commit.Stream == d.Commit.Stream && e.Commit.Version >= d.Commit.Version {
						t.Errorf("reported %s (%s v%d) but %s (v%d) comes before it", seq, d.Commit.Stream, d.Commit.Version, e.SequenceNumber, e.Commit.Version)
					}
				}
			}
			batch = batch[earliest:]
		}
	}
	const batchSize = 10
	for recs := first; len(recs) > 0; recs = read() {
		for i := 0; i < len(recs); i += batchSize {
			deliver(recs[i:min(i+batchSize, len(recs))])
		}
	}
	// A failure of the chosen event is reported under the flaky
	// subscriber's name unless another subscriber failed earlier on cart-1
	// in the same run (the dispatcher reports a stream's first failure).
	if flakyFailed != flakyTimes || chosenReports == 0 {
		t.Errorf("the flaky subscriber failed %d times, reported %d times; want %d and at least 1", flakyFailed, chosenReports, flakyTimes)
	}
	pstats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	got := sessionViews(t, reader)
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("%s: projected %v, reference %v", k, got[k], want[k])
			}
		}
	}
	for i := range 3 {
		if _, err := reader.Get(ctx, "order", fmt.Sprint("cart-", i)); err != nil {
			t.Errorf("order cart-%d: %v", i, err)
		}
	}
	t.Logf("%d commit records, %d invocations, seed %d: %d reported failures, the chosen event reported %d times; proxy %v; %v", len(first), invocations, seed, reported, chosenReports, pstats, time.Since(start).Round(time.Millisecond))
}
