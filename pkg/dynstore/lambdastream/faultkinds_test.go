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
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
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

	var records, invocations, redelivered, reported int
	for recs := env.read(t, ctx); len(recs) > 0; recs = env.read(t, ctx) {
		records += len(recs)
		for i := 0; i < len(recs); i += batchSize {
			batch := recs[i:min(i+batchSize, len(recs))]
			for attempt := 0; len(batch) > 0; attempt++ {
				if attempt > 50 || ctx.Err() != nil {
					t.Fatalf("the batch from %s did not converge: %v", batch[0].Change.SequenceNumber, proxy.Stats())
				}
				invocations++
				failed := invoke(t, ctx, handler, batch)
				reported += checkStoreFailures(t, logs)
				if len(failed) == 0 {
					break
				}
				redelivered++
				batch = from(t, batch, failed)
			}
		}
	}
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
		seed, records, invocations, redelivered, reported, stats, stats.Lost, time.Since(start).Round(time.Millisecond))
}

// TestProjectorPoisonUnderFaults: the tab session with a poison mixed
// in (tab "poison": a healthy commit at version 1, then at version 2 a
// commit whose event no registered type decodes, written directly with
// the store's Append among the session's commits), projected through the
// Lambda adapter under the every-kind schedule (viewOps) with Lambda-style
// redelivery. Once the poison's subscribers have failed on it once, one
// invocation runs with every view request throttled (an outage: a store
// failure, which must not count). Checked after every invocation:
//   - the poison's recorded attempts grow by at most one per invocation,
//     not at all in the outage, and a subscriber is parked exactly when
//     they reach ParkAfter: never earlier because of store faults;
//   - while a poison subscriber is not parked, the poison's record is
//     reported (Lambda retries it);
//   - healthy aggregates are not held back: each is reported only for a
//     store failure, never for the poison's, and one not reported has
//     every subscriber's checkpoint at its last version in the batch.
//
// In the end the batches converge (the shard moves on), Service.Failures
// lists exactly the poison's three (subscriber, stream) pairs, parked at
// version 2 after ParkAfter attempts, the views (the poison tab's
// included, at version 1) equal the in-process reference's, and every
// payment issued one receipt.
func TestProjectorPoisonUnderFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	start := time.Now()
	env := newStreamEnv(t, ctx)
	poisonStream := signal.StreamID{Type: tab.TypeName, ID: "poison"}
	healthy := tab.OrderItem{Item: "tap-3", Quantity: 1, Price: 103}
	// The poison tab's healthy commit early in the session, the poison
	// in the middle of it.
	const healthyAt, poisonAt = 10, 25
	runSession(t, env.writer, func(i int) {
		switch i {
		case healthyAt:
			if _, err := env.writer.Handle(ctx, "tab", poisonStream.ID, healthy, signal.WithCommandID("p-1")); err != nil {
				t.Fatal(err)
			}
		case poisonAt:
			poison := signal.Commit{Stream: poisonStream, Version: 2, CommandID: "p-2", Time: time.Now().UTC(),
				Events: []signal.RawEvent{{ID: signal.NewID(), Name: "ItemTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
			if err := env.directStore.Append(ctx, poison); err != nil {
				t.Fatal(err)
			}
		}
	})
	want := referenceViews(t, func(ref *signal.Service, i int) {
		if i == healthyAt {
			if _, err := ref.Handle(ctx, "tab", poisonStream.ID, healthy, signal.WithCommandID("p-1")); err != nil {
				t.Fatal(err)
			}
		}
	}, poisonStream.ID)

	seed := faultproxy.Seed(t)
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: seed,
		Rates: everyKind, Operations: viewOps, MaxLatency: faultMaxLatency})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	var subs []string
	for _, s := range tab.Subscribers() {
		subs = append(subs, s.SubscriberName())
	}
	announced := map[string]int{}
	projector, err := signal.New(signal.Config{Store: env.faultyStore(t, proxy, faultAttempts, faultTimeout),
		Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1,
		OnPark: func(_ context.Context, f signal.Failure) { announced[f.Subscriber+" "+f.Stream.String()]++ }})
	if err != nil {
		t.Fatal(err)
	}
	logs := &failureLog{}
	handler := New(Config{Service: projector, Logger: slog.New(logs)})

	// The poison's failure as recorded, per subscriber, read directly.
	poisonState := func() map[string]signal.Failure {
		out := map[string]signal.Failure{}
		for _, sub := range subs {
			cp, err := env.directStore.LoadCheckpoint(ctx, sub, poisonStream)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Failure != nil {
				out[sub] = *cp.Failure
			}
		}
		return out
	}
	isPoison := func(r events.DynamoDBEventRecord) bool {
		return r.Change.NewImage["pk"].String() == "tab#poison" && r.Change.NewImage["sk"].Number() == "2"
	}
	// checkHealthy: each healthy tab of the batch is reported only for a
	// store failure and, when not reported, is projected to its last
	// version in the batch by every subscriber.
	checkHealthy := func(batch []events.DynamoDBEventRecord, failed []string, logged []loggedFailure) {
		t.Helper()
		for _, lf := range logged {
			switch {
			case lf.kind == signal.KindUnavailable || lf.kind == signal.KindConflict:
			case lf.aggregate == poisonStream.String() && lf.version == 2:
			default:
				t.Errorf("%s failed at version %d in %s with a %v error: only the poison may fail but for store failures", lf.aggregate, lf.version, lf.subscriber, lf.kind)
			}
		}
		reported := map[signal.StreamID]bool{}
		last := map[signal.StreamID]int64{}
		for _, d := range dynstream.DecodeLambdaEvent(events.DynamoDBEvent{Records: batch}) {
			if d.Err != nil || !d.IsCommit {
				continue // the poison decodes as a record; only its events do not
			}
			if slices.Contains(failed, d.SequenceNumber) {
				reported[d.Commit.Stream] = true
			}
			if d.Commit.Stream.Type == tab.TypeName && d.Commit.Stream != poisonStream {
				last[d.Commit.Stream] = max(last[d.Commit.Stream], d.Commit.LastVersion())
			}
		}
		for stream, v := range last {
			if reported[stream] {
				continue
			}
			for _, sub := range subs {
				cp, err := env.directStore.LoadCheckpoint(ctx, sub, stream)
				if err != nil {
					t.Fatal(err)
				}
				if cp.Version < v {
					t.Errorf("%s: %s not reported but its checkpoint is at %d, short of %d in the batch", stream, sub, cp.Version, v)
				}
			}
		}
	}

	parkAfter := signal.DefaultParkAfter
	var records, invocations, redelivered, outageAt int
	carried := map[string]int{} // invocations that carried the poison while the subscriber was not parked
	before := map[string]signal.Failure{}
	for recs := env.read(t, ctx); len(recs) > 0; recs = env.read(t, ctx) {
		records += len(recs)
		for i := 0; i < len(recs); i += batchSize {
			batch := recs[i:min(i+batchSize, len(recs))]
			for attempt := 0; len(batch) > 0; attempt++ {
				if attempt > 50 || ctx.Err() != nil {
					t.Fatalf("the batch from %s did not converge: %v", batch[0].Change.SequenceNumber, proxy.Stats())
				}
				withPoison := slices.ContainsFunc(batch, isPoison)
				outage := false
				if withPoison && outageAt == 0 {
					for _, f := range before {
						outage = outage || (f.Attempts >= 1 && !f.Parked)
					}
				}
				if outage {
					if err := proxy.SetRates(faultproxy.Rates{Throttle: 1}); err != nil {
						t.Fatal(err)
					}
				}
				invocations++
				failed := invoke(t, ctx, handler, batch)
				if outage {
					outageAt = invocations
					if err := proxy.SetRates(everyKind); err != nil {
						t.Fatal(err)
					}
				}
				checkHealthy(batch, failed, logs.take())
				after := poisonState()
				poisonReported := false
				for _, r := range batch {
					poisonReported = poisonReported || (isPoison(r) && slices.Contains(failed, r.Change.SequenceNumber))
				}
				for _, sub := range subs {
					b, a := before[sub], after[sub]
					if withPoison && !b.Parked {
						carried[sub]++
					}
					switch {
					case a.Attempts < b.Attempts || a.Attempts > b.Attempts+1:
						t.Errorf("%s on the poison: %d attempts after %d in one invocation", sub, a.Attempts, b.Attempts)
					case outage && a.Attempts != b.Attempts:
						t.Errorf("%s on the poison: the outage counted (%d attempts after %d)", sub, a.Attempts, b.Attempts)
					case a.Parked != (a.Attempts >= parkAfter):
						t.Errorf("%s on the poison: parked %v after %d attempts (ParkAfter %d)", sub, a.Parked, a.Attempts, parkAfter)
					case a.Attempts > 0 && (a.Version != 2 || a.Stream != poisonStream):
						t.Errorf("%s: failure recorded at %s version %d, want the poison's", sub, a.Stream, a.Version)
					}
					if withPoison && !a.Parked && !poisonReported {
						t.Errorf("%s is not parked on the poison (%d attempts), but the poison's record was not reported (%v)", sub, a.Attempts, failed)
					}
				}
				before = after
				if len(failed) == 0 {
					break
				}
				redelivered++
				batch = from(t, batch, failed)
			}
		}
	}
	stats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}

	if outageAt == 0 {
		t.Error("the outage never ran: the poison's subscribers never failed on it before parking")
	}
	fs, err := env.reader.Failures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Subscriber+" "+f.Stream.String())
		if f.Stream != poisonStream || f.Version != 2 || !f.Parked || f.Attempts != parkAfter || f.Error == "" {
			t.Errorf("failure %+v, want the poison's at version 2, parked after %d attempts", f, parkAfter)
		}
	}
	var wantFailures []string
	for _, sub := range subs {
		wantFailures = append(wantFailures, sub+" "+poisonStream.String())
		// The outage delivered the poison too, and did not count.
		if carried[sub] < parkAfter+1 {
			t.Errorf("%s parked after %d deliveries of the poison, want at least %d (ParkAfter and the outage)", sub, carried[sub], parkAfter+1)
		}
	}
	slices.Sort(got)
	slices.Sort(wantFailures)
	if !slices.Equal(got, wantFailures) {
		t.Errorf("Service.Failures lists %q, want %q", got, wantFailures)
	}
	for k, n := range announced {
		if n > 1 {
			t.Errorf("%s announced as parked %d times", k, n)
		}
	}
	compareViews(t, sessionViews(t, env.reader, poisonStream.ID), want)
	checkReceipts(t, ctx, env.directStore)
	checkKinds(t, stats, faultproxy.Kinds())
	t.Logf("seed %d: %d commit records, %d invocations (%d redeliveries), outage at invocation %d; deliveries of the poison before parking %v; announced %v; proxy %v; lost %v; %v",
		seed, records, invocations, redelivered, outageAt, carried, announced, stats, stats.Lost, time.Since(start).Round(time.Millisecond))
}
