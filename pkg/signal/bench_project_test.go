package signal_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// BenchmarkProject1k: a projection (a balance document per account and a
// total shared by all) over one account's 1,000 events, delivered as one
// batch to a fresh view store: the dispatcher's run of one stream.
func BenchmarkProject1k(b *testing.B) {
	st := seed(b, 1000)
	typ := signal.MustDefine(accountSpec())
	ctx := context.Background()
	changes, err := st.Changes(ctx, 0, 10_000)
	if err != nil {
		b.Fatal(err)
	}
	commits := make([]signal.Commit, len(changes))
	for i, c := range changes {
		commits[i] = c.Commit
	}
	subs, _ := subscribers(nil)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		views := memstore.New()
		for _, c := range commits {
			if err := views.Append(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		svc, err := signal.New(signal.Config{Store: views, Types: []signal.AggregateType{typ}, Subscribers: subs[:1]})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := svc.Dispatch(ctx, commits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProjectOne and BenchmarkProjectRoundRobin measure the
// dispatcher over a change feed (DispatchChanges) into a projection that
// keeps one balance document per account. One holds a single account's
// 10,000 events; the other 1,000 accounts' 10 events each, committed
// round-robin. Each runs with pages of 200 commits (`signal dev`'s): a
// round-robin page is then 200 runs of one event, each reading its
// checkpoint and document and committing them; and with one page of all
// 10,000 (a rebuild's or a large stream batch's): 1,000 runs of 10 events.
// Run them at -test.cpu 1. The target: round-robin events/s at
// least 0.8x the single account's, at most 4 allocations and 600 B per
// projected event.
func BenchmarkProjectOne(b *testing.B) { benchPages(b, 1, 10_000, projectBalances) }

func BenchmarkProjectRoundRobin(b *testing.B) { benchPages(b, 1_000, 10, projectBalances) }

// The same workloads run by a checkpointed observer that keeps no
// documents: the dispatcher's and the checkpoints' cost without a
// projection's document reads and writes.
func BenchmarkObserveOne(b *testing.B) { benchPages(b, 1, 10_000, countEvents) }

func BenchmarkObserveRoundRobin(b *testing.B) { benchPages(b, 1_000, 10, countEvents) }

// A workload is the subscriber a benchmark runs and its check of the
// result.
type workload struct {
	subscriber func() signal.Subscriber
	check      func(b *testing.B, svc *signal.Service, events int)
}

var projectBalances = workload{
	subscriber: func() signal.Subscriber { return balanceProjection() },
	check: func(b *testing.B, svc *signal.Service, events int) {
		if doc, _, err := signal.LoadView[balanceDoc](context.Background(), svc, "balance", "a1"); err != nil || doc.Balance != int64(events-1) {
			b.Fatal(doc, err)
		}
	},
}

var counted atomic.Int64

var countEvents = workload{
	subscriber: func() signal.Subscriber {
		counted.Store(0)
		return &signal.Observer{Name: "count", Types: []string{"account"}, On: []signal.ObserverHandler{
			signal.ObserveAll(func(context.Context, signal.Event) error { counted.Add(1); return nil }),
		}}
	},
	check: func(b *testing.B, _ *signal.Service, _ int) {
		if counted.Load() == 0 {
			b.Fatal("the observer saw nothing")
		}
	},
}

func benchPages(b *testing.B, accounts, events int, w workload) {
	for _, page := range []int{200, 10_000} {
		b.Run(fmt.Sprint("page=", page), func(b *testing.B) { benchProjection(b, accounts, events, page, w) })
	}
}

func benchProjection(b *testing.B, accounts, events, page int, w workload) {
	ctx := context.Background()
	typ := signal.MustDefine(accountSpec())
	commits := roundRobin(accounts, events)
	total := accounts * events
	var mallocs, bytes uint64
	var before, after runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		st := memstore.New()
		for _, c := range commits {
			if err := st.Append(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{typ},
			Subscribers: []signal.Subscriber{w.subscriber()}})
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&before)
		b.StartTimer()
		_, n, err := svc.DispatchChanges(ctx, st, 0, page)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		bytes += after.TotalAlloc - before.TotalAlloc
		if err != nil || n != total {
			b.Fatal(n, err)
		}
		w.check(b, svc, events)
		b.StartTimer()
	}
	projected := float64(total) * float64(b.N)
	b.ReportMetric(projected/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(mallocs)/projected, "allocs/event")
	b.ReportMetric(float64(bytes)/projected, "B/event")
}

// roundRobin returns the commits of accounts a1..aN, one event each: an
// Opened, then Deposited of 1, version by version across the accounts.
func roundRobin(accounts, events int) []signal.Commit {
	out := make([]signal.Commit, 0, accounts*events)
	for v := int64(1); v <= int64(events); v++ {
		for a := 1; a <= accounts; a++ {
			ev := signal.RawEvent{ID: fmt.Sprintf("e%d-%d", a, v), Name: "Deposited", SchemaVersion: 2, Data: []byte(`{"amount":1}`)}
			if v == 1 {
				ev = signal.RawEvent{ID: fmt.Sprintf("e%d-%d", a, v), Name: "Opened", SchemaVersion: 1, Data: []byte(`{"owner":"ann"}`)}
			}
			out = append(out, signal.Commit{Stream: signal.StreamID{Type: "account", ID: fmt.Sprint("a", a)}, Version: v,
				CommandID: fmt.Sprintf("c%d-%d", a, v), Events: []signal.RawEvent{ev}})
		}
	}
	return out
}

// balanceProjection keeps one document per account: its balance and the
// version last applied.
func balanceProjection() *signal.Projection {
	apply := func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, amount int64) error {
		var doc balanceDoc
		if _, err := tx.Get(ctx, "balance", ev.AggregateID, &doc); err != nil {
			return err
		}
		doc.Balance += amount
		doc.Version = ev.Version
		return tx.Put(ctx, "balance", ev.AggregateID, doc)
	}
	return &signal.Projection{Name: "balances", Types: []string{"account"}, On: []signal.ProjectionHandler{
		signal.Project(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event, e Deposited) error {
			return apply(ctx, tx, ev, e.Amount)
		}),
		signal.ProjectAll(func(ctx context.Context, tx *signal.ViewTx, ev signal.Event) error {
			return apply(ctx, tx, ev, 0)
		}),
	}}
}
