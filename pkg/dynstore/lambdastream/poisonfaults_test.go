package lambdastream

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/dynstream"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

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
	want := writePoisonedSession(t, ctx, env)

	seed := faultproxy.Seed(t)
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: seed,
		Rates: everyKind, Operations: viewOps, MaxLatency: faultMaxLatency})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	r := newPoisonRun(t, ctx, env, proxy)
	n := env.deliverAll(t, ctx, proxy, r.invokeOnce)
	stats := proxy.Stats()
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}

	if r.outageAt == 0 {
		t.Error("the outage never ran: the poison's subscribers never failed on it before parking")
	}
	r.checkFailures()
	compareViews(t, sessionViews(t, env.reader, poisonStream.ID), want)
	checkReceipts(t, ctx, env.directStore)
	checkKinds(t, stats, faultproxy.Kinds())
	t.Logf("seed %d: %d commit records, %d invocations (%d redeliveries), outage at invocation %d; deliveries of the poison before parking %v; announced %v; proxy %v; lost %v; %v",
		seed, n.records, n.invocations, n.redelivered, r.outageAt, r.carried, r.announced, stats, stats.Lost, time.Since(start).Round(time.Millisecond))
}

// poisonStream is the poisoned tab: a healthy commit at version 1 (the
// command poisonHealthy), the poison at version 2.
var (
	poisonStream  = signal.StreamID{Type: tab.TypeName, ID: "poison"}
	poisonHealthy = tab.OrderItem{Item: "tap-3", Quantity: 1, Price: 103}
)

// The poison tab's healthy commit early in the session, the poison in
// the middle of it (before the session's command of that index).
const poisonHealthyAt, poisonAt = 10, 25

// writePoisonedSession writes the session with the poison tab's commits
// mixed in, and returns the in-process reference's views (the healthy
// commit without the poison).
func writePoisonedSession(t *testing.T, ctx context.Context, env *streamEnv) map[string]any {
	runSession(t, env.writer, func(i int) {
		switch i {
		case poisonHealthyAt:
			if _, err := env.writer.Handle(ctx, "tab", poisonStream.ID, poisonHealthy, signal.WithCommandID("p-1")); err != nil {
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
	return referenceViews(t, func(ref *signal.Service, i int) {
		if i == poisonHealthyAt {
			if _, err := ref.Handle(ctx, "tab", poisonStream.ID, poisonHealthy, signal.WithCommandID("p-1")); err != nil {
				t.Fatal(err)
			}
		}
	}, poisonStream.ID)
}

// isPoison reports whether r is the poison's record.
func isPoison(r events.DynamoDBEventRecord) bool {
	return r.Change.NewImage["pk"].String() == "tab#poison" && r.Change.NewImage["sk"].Number() == "2"
}

// poisonRun is TestProjectorPoisonUnderFaults' projector and what its
// invocations did to the poison's failure records.
type poisonRun struct {
	t         *testing.T
	ctx       context.Context
	env       *streamEnv
	proxy     *faultproxy.Proxy
	subs      []string // the session's subscribers
	handler   *Handler
	logs      *failureLog
	parkAfter int

	announced map[string]int // OnPark calls per "subscriber stream"
	// carried counts the invocations that carried the poison while the
	// subscriber was not parked.
	carried  map[string]int
	before   map[string]signal.Failure // the poison's failures after the last invocation
	outageAt int                       // the invocation that ran in the outage, 0 before
}

func newPoisonRun(t *testing.T, ctx context.Context, env *streamEnv, proxy *faultproxy.Proxy) *poisonRun {
	r := &poisonRun{t: t, ctx: ctx, env: env, proxy: proxy, parkAfter: signal.DefaultParkAfter,
		announced: map[string]int{}, carried: map[string]int{}, before: map[string]signal.Failure{}}
	for _, s := range tab.Subscribers() {
		r.subs = append(r.subs, s.SubscriberName())
	}
	projector, err := signal.New(signal.Config{Store: env.faultyStore(t, proxy, faultAttempts, faultTimeout),
		Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1,
		OnPark: func(_ context.Context, f signal.Failure) { r.announced[f.Subscriber+" "+f.Stream.String()]++ }})
	if err != nil {
		t.Fatal(err)
	}
	r.logs = &failureLog{}
	r.handler = New(Config{Service: projector, Logger: slog.New(r.logs)})
	return r
}

// poisonState is the poison's failure as recorded, per subscriber, read
// directly.
func (r *poisonRun) poisonState() map[string]signal.Failure {
	out := map[string]signal.Failure{}
	for _, sub := range r.subs {
		cp, err := r.env.directStore.LoadCheckpoint(r.ctx, sub, poisonStream)
		if err != nil {
			r.t.Fatal(err)
		}
		if cp.Failure != nil {
			out[sub] = *cp.Failure
		}
	}
	return out
}

// invokeOnce is one invocation of the handler with batch, the first
// carrying the poison once a subscriber has failed on it (and is not
// parked) run in an outage (every view request throttled); then the
// healthy tabs and the poison's failure records are checked. It returns
// the reported identifiers.
func (r *poisonRun) invokeOnce(batch []events.DynamoDBEventRecord, invocation int) []string {
	withPoison := slices.ContainsFunc(batch, isPoison)
	outage := false
	if withPoison && r.outageAt == 0 {
		for _, f := range r.before {
			outage = outage || (f.Attempts >= 1 && !f.Parked)
		}
	}
	if outage {
		if err := r.proxy.SetRates(faultproxy.Rates{Throttle: 1}); err != nil {
			r.t.Fatal(err)
		}
	}
	failed := invoke(r.t, r.ctx, r.handler, batch)
	if outage {
		r.outageAt = invocation
		if err := r.proxy.SetRates(everyKind); err != nil {
			r.t.Fatal(err)
		}
	}
	r.checkHealthy(batch, failed, r.logs.take())
	after := r.poisonState()
	poisonReported := false
	for _, rec := range batch {
		poisonReported = poisonReported || (isPoison(rec) && slices.Contains(failed, rec.Change.SequenceNumber))
	}
	for _, sub := range r.subs {
		if withPoison && !r.before[sub].Parked {
			r.carried[sub]++
		}
		r.checkAttempts(sub, r.before[sub], after[sub], outage)
		if a := after[sub]; withPoison && !a.Parked && !poisonReported {
			r.t.Errorf("%s is not parked on the poison (%d attempts), but the poison's record was not reported (%v)", sub, a.Attempts, failed)
		}
	}
	r.before = after
	return failed
}

// checkAttempts checks sub's failure record on the poison across one
// invocation, from b to a: at most one more attempt, none in the outage,
// parked exactly at parkAfter, recorded at the poison.
func (r *poisonRun) checkAttempts(sub string, b, a signal.Failure, outage bool) {
	switch {
	case a.Attempts < b.Attempts || a.Attempts > b.Attempts+1:
		r.t.Errorf("%s on the poison: %d attempts after %d in one invocation", sub, a.Attempts, b.Attempts)
	case outage && a.Attempts != b.Attempts:
		r.t.Errorf("%s on the poison: the outage counted (%d attempts after %d)", sub, a.Attempts, b.Attempts)
	case a.Parked != (a.Attempts >= r.parkAfter):
		r.t.Errorf("%s on the poison: parked %v after %d attempts (ParkAfter %d)", sub, a.Parked, a.Attempts, r.parkAfter)
	case a.Attempts > 0 && (a.Version != 2 || a.Stream != poisonStream):
		r.t.Errorf("%s: failure recorded at %s version %d, want the poison's", sub, a.Stream, a.Version)
	}
}

// checkHealthy: only the poison fails but for store failures; each
// healthy tab of the batch is reported only for a store failure and,
// when not reported, is projected to its last version in the batch by
// every subscriber.
func (r *poisonRun) checkHealthy(batch []events.DynamoDBEventRecord, failed []string, logged []loggedFailure) {
	t := r.t
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
		for _, sub := range r.subs {
			cp, err := r.env.directStore.LoadCheckpoint(r.ctx, sub, stream)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Version < v {
				t.Errorf("%s: %s not reported but its checkpoint is at %d, short of %d in the batch", stream, sub, cp.Version, v)
			}
		}
	}
}

// checkFailures checks, in the end, that Service.Failures lists exactly
// the poison's (subscriber, stream) pairs, parked at version 2 after
// ParkAfter attempts; that each subscriber got the poison at least
// ParkAfter+1 times (the outage did not count); and that no park was
// announced twice.
func (r *poisonRun) checkFailures() {
	t := r.t
	fs, err := r.env.reader.Failures(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Subscriber+" "+f.Stream.String())
		if f.Stream != poisonStream || f.Version != 2 || !f.Parked || f.Attempts != r.parkAfter || f.Error == "" {
			t.Errorf("failure %+v, want the poison's at version 2, parked after %d attempts", f, r.parkAfter)
		}
	}
	var wantFailures []string
	for _, sub := range r.subs {
		wantFailures = append(wantFailures, sub+" "+poisonStream.String())
		// The outage delivered the poison too, and did not count.
		if r.carried[sub] < r.parkAfter+1 {
			t.Errorf("%s parked after %d deliveries of the poison, want at least %d (ParkAfter and the outage)", sub, r.carried[sub], r.parkAfter+1)
		}
	}
	slices.Sort(got)
	slices.Sort(wantFailures)
	if !slices.Equal(got, wantFailures) {
		t.Errorf("Service.Failures lists %q, want %q", got, wantFailures)
	}
	for k, n := range r.announced {
		if n > 1 {
			t.Errorf("%s announced as parked %d times", k, n)
		}
	}
}
