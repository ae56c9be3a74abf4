package signal_test

import (
	"context"
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
