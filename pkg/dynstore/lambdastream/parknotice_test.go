package lambdastream

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestParkNoticeWhenAnswerLost: the write that parks a subscriber lands
// but its answer is lost (every UpdateItem, the recorded failure, is
// answered with a 500 after it was applied). The dispatcher must still
// learn that the subscriber is parked: the ParkAfter-th delivery of a
// poison succeeds, so the shard moves on, and each parked subscriber is
// announced (OnPark, the dead-letter queue's notice) exactly once.
func TestParkNoticeWhenAnswerLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	env := newStreamEnv(t, ctx)
	poisonStream := signal.StreamID{Type: tab.TypeName, ID: "poison"}
	poison := signal.Commit{Stream: poisonStream, Version: 1, CommandID: "p", Time: time.Now().UTC(),
		Events: []signal.RawEvent{{ID: signal.NewID(), Name: "ItemTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if err := env.directStore.Append(ctx, poison); err != nil {
		t.Fatal(err)
	}
	batch := env.read(t, ctx)
	if len(batch) != 1 {
		t.Fatalf("%d records, want the poison's", len(batch))
	}
	proxy, err := faultproxy.New(faultproxy.Config{Upstream: motoserver.Endpoint(t), Seed: faultproxy.Seed(t),
		Rates: faultproxy.Rates{ErrorAfter: 1}, Operations: []string{"UpdateItem"}})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	announced := map[string]int{}
	projector, err := signal.New(signal.Config{Store: env.faultyStore(t, proxy, faultAttempts, 5*time.Second),
		Types: tab.Types(), Subscribers: tab.Subscribers(), DispatchConcurrency: 1,
		OnPark: func(_ context.Context, f signal.Failure) { announced[f.Subscriber]++ }})
	if err != nil {
		t.Fatal(err)
	}
	handler := New(Config{Service: projector, Logger: slog.New(&failureLog{})})
	for delivery := 1; delivery <= signal.DefaultParkAfter; delivery++ {
		failed := invoke(t, ctx, handler, batch)
		if want := delivery < signal.DefaultParkAfter; (len(failed) > 0) != want {
			t.Errorf("delivery %d: reported %v, want a failure: %v", delivery, failed, want)
		}
	}
	fs, err := env.reader.Failures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if !f.Parked || f.Attempts != signal.DefaultParkAfter {
			t.Errorf("failure %+v, want parked after %d attempts", f, signal.DefaultParkAfter)
		}
	}
	for _, s := range tab.Subscribers() {
		if n := announced[s.SubscriberName()]; n != 1 {
			t.Errorf("%s announced as parked %d times, want once", s.SubscriberName(), n)
		}
	}
	if st := proxy.Stats(); len(fs) != 3 || st.Lost["UpdateItem"] < 3*signal.DefaultParkAfter {
		t.Errorf("%d failures recorded, %d answers lost, want 3 and every recorded failure's: %v", len(fs), st.Lost["UpdateItem"], st)
	}
}
