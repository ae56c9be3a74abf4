package lambdastream

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// viewOps are the operations of the projector's view and checkpoint
// requests: checkpoint and document reads (GetItem), checkpoint moves
// (PutItem), projection runs (TransactWriteItems), recorded failures
// (UpdateItem; also multi-step runs, with DeleteItem). The proxy tells
// operations apart, not tables: the policy's commands to the events
// table (the receipt's snapshot GetItem and its PutItem) get the same
// faults, which the tests accept (a payment must still issue exactly one
// receipt). Reads of the events table (Query: gap fills, loads) are spared.
var viewOps = []string{"GetItem", "PutItem", "TransactWriteItems", "UpdateItem", "DeleteItem"}

// everyKind is 30% of the requests faulted, by every kind the proxy has,
// most of them answers lost after the request was processed.
var everyKind = faultproxy.Rates{
	Throttle: 0.04, ServerError: 0.04, Latency: 0.02, Reset: 0.04,
	DropResponse: 0.07, ErrorAfter: 0.07, SlowResponse: 0.02,
}

const (
	// Latency delays a request up to faultMaxLatency, SlowResponse holds
	// an answer back for half that or more, past the client's timeout per
	// attempt: a write that landed and timed out. (A real answer slower
	// than the timeout, on a loaded machine, is one more ambiguous
	// failure, which the tests must tolerate anyway.)
	faultMaxLatency = 600 * time.Millisecond
	faultTimeout    = 250 * time.Millisecond
	// faultAttempts: the SDK retries a fault once; a second fault in a
	// row reaches the dispatcher and Lambda's redelivery.
	faultAttempts = 2
	batchSize     = 10
)

// invoke hands one batch to the handler, as one Lambda invocation, and
// returns the reported identifiers.
func invoke(t *testing.T, ctx context.Context, h *Handler, batch []events.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := h.Handle(ctx, events.DynamoDBEvent{Records: batch})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// from returns the batch from the earliest reported record on: what
// Lambda redelivers after a partial batch failure.
func from(t *testing.T, batch []events.DynamoDBEventRecord, failed []string) []events.DynamoDBEventRecord {
	t.Helper()
	earliest := len(batch)
	for _, seq := range failed {
		i := slices.IndexFunc(batch, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == seq })
		if i < 0 {
			t.Fatalf("reported %q, not a record of the batch", seq)
		}
		earliest = min(earliest, i)
	}
	return batch[earliest:]
}

// deliveries counts what delivering a stream took.
type deliveries struct {
	records, invocations, redelivered int
}

// deliverAll reads e's stream until a read finds nothing and hands each
// read's records to handle in batches of batchSize, one call per Lambda
// invocation (numbered from 1), redelivering a batch from the earliest
// record handle reports (from) until it reports none, as Lambda does. A
// batch that takes over 50 invocations, or the end of ctx, fails t with
// the proxy's stats.
func (e *streamEnv) deliverAll(t *testing.T, ctx context.Context, proxy *faultproxy.Proxy,
	handle func(batch []events.DynamoDBEventRecord, invocation int) (failed []string)) deliveries {
	var n deliveries
	for recs := e.read(t, ctx); len(recs) > 0; recs = e.read(t, ctx) {
		n.records += len(recs)
		for i := 0; i < len(recs); i += batchSize {
			batch := recs[i:min(i+batchSize, len(recs))]
			for attempt := 0; len(batch) > 0; attempt++ {
				if attempt > 50 || ctx.Err() != nil {
					t.Fatalf("the batch from %s did not converge: %v", batch[0].Change.SequenceNumber, proxy.Stats())
				}
				n.invocations++
				failed := handle(batch, n.invocations)
				if len(failed) == 0 {
					break
				}
				n.redelivered++
				batch = from(t, batch, failed)
			}
		}
	}
	return n
}

// checkStoreFailures checks that every failure the adapter logged is a
// store failure (unavailable, or a lost race): faults must never turn
// into anything else.
func checkStoreFailures(t *testing.T, logs *failureLog) int {
	t.Helper()
	lines := logs.take()
	for _, lf := range lines {
		if lf.kind != signal.KindUnavailable && lf.kind != signal.KindConflict {
			t.Errorf("%s failed at version %d in %s with a %v error, want only store failures", lf.aggregate, lf.version, lf.subscriber, lf.kind)
		}
	}
	return len(lines)
}

// checkReceipts checks that each paid tab (0-2) has issued exactly one
// receipt, and no other tab any.
func checkReceipts(t *testing.T, ctx context.Context, st *dynstore.Store) {
	t.Helper()
	for i := range 5 {
		n := 0
		for _, err := range st.Load(ctx, signal.StreamID{Type: tab.ReceiptTypeName, ID: fmt.Sprint("tab-", i)}, 0) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if want := map[bool]int{true: 1}[i < 3]; n != want {
			t.Errorf("receipt tab-%d has %d commits, want %d", i, n, want)
		}
	}
}

// checkKinds checks that the schedule injected faults of each of kinds
// and lost the answers of projection runs and checkpoint moves that
// landed.
func checkKinds(t *testing.T, st faultproxy.Stats, kinds []faultproxy.Kind) {
	t.Helper()
	for _, k := range kinds {
		if st.Faults[k] == 0 {
			t.Errorf("no %s fault injected: %v", k, st)
		}
	}
	for _, op := range []string{"TransactWriteItems", "PutItem"} {
		if st.Lost[op] == 0 {
			t.Errorf("no %s that landed lost its answer: %v", op, st.Lost)
		}
	}
}

// writeOps are viewOps without the reads.
var writeOps = []string{"PutItem", "TransactWriteItems", "UpdateItem", "DeleteItem"}

// TestProjectorLostResponses: the tab session projected through the
// Lambda adapter under two schedules on the view and checkpoint requests:
//   - every-kind: 30% of viewOps faulted, by every kind the proxy has
//     (throttles, 500/503, resets, latency, and mostly answers lost after
//     the write landed: dropped, replaced by a 500, held back past the
//     client's timeout);
//   - every-write-lost: every write (writeOps) lands and loses its answer,
//     so no projection run, checkpoint move or policy command is ever
//     acknowledged; the dispatcher learns each one's outcome by reading.
//
// The SDK retries once, so many ambiguous failures reach the dispatcher;
// batches are redelivered from the earliest reported record until an
// invocation reports none, as Lambda does. Checked: every failure the
// adapter reported was a store failure; the views equal the in-process
// reference's (exactly once: item-sales sums across tabs, so a payment's
// run applied twice would show); nothing is recorded as failed, let
// alone parked; every payment issued one receipt; the proxy injected the
// kinds of the schedule and lost the answers of projection runs and
// checkpoint moves that landed.
func TestProjectorLostResponses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ops   []string
		rates faultproxy.Rates
		kinds []faultproxy.Kind
	}{
		{"every-kind", viewOps, everyKind, faultproxy.Kinds()},
		{"every-write-lost", writeOps, faultproxy.Rates{DropResponse: 0.5, ErrorAfter: 0.5},
			[]faultproxy.Kind{faultproxy.DropResponse, faultproxy.ErrorAfter}},
	} {
		t.Run(tc.name, func(t *testing.T) { lostResponses(t, tc.ops, tc.rates, tc.kinds) })
	}
}

func lostResponses(t *testing.T, ops []string, rates faultproxy.Rates, kinds []faultproxy.Kind) {
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	start := time.Now()
	env := newStreamEnv(t, ctx)
	runSession(t, env.writer, nil)
	want := referenceViews(t, nil)

	seed := faultproxy.Seed(t)
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: seed,
		Rates: rates, Operations: ops, MaxLatency: faultMaxLatency})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	// One stream at a time, so the schedule (one seeded draw per request)
	// meets the same requests on every run.
	projector, err := signal.New(signal.Config{Store: env.faultyStore(t, proxy, faultAttempts, faultTimeout),
		Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	logs := &failureLog{}
	handler := New(Config{Service: projector, Logger: slog.New(logs)})

	var reported int
	n := env.deliverAll(t, ctx, proxy, func(batch []events.DynamoDBEventRecord, _ int) []string {
		failed := invoke(t, ctx, handler, batch)
		reported += checkStoreFailures(t, logs)
		return failed
	})
	stats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}

	compareViews(t, sessionViews(t, env.reader), want)
	if fs, err := env.reader.Failures(ctx); err != nil || len(fs) != 0 {
		t.Errorf("recorded failures %+v (%v), want none", fs, err)
	}
	checkReceipts(t, ctx, env.directStore)
	checkKinds(t, stats, kinds)
	if reported == 0 {
		t.Errorf("no failure reached the adapter: the test did not exercise redelivery (%v)", stats)
	}
	t.Logf("seed %d: %d commit records, %d invocations (%d redeliveries), %d failures reported; proxy %v; lost %v; %v",
		seed, n.records, n.invocations, n.redelivered, reported, stats, stats.Lost, time.Since(start).Round(time.Millisecond))
}
