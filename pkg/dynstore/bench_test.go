package dynstore

import (
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// BenchmarkCommandRequests measures DynamoDB requests per command against
// moto_server. Only the requests/op figures and ratios mean anything:
// moto's latency is not DynamoDB's.
//
//	go test -run '^$' -bench CommandRequests -benchtime 200x ./pkg/dynstore/
func BenchmarkCommandRequests(b *testing.B) {
	st := newTestStore(b)
	ctx := b.Context()
	seedTab(b, st, signal.StreamID{Type: "tab", ID: "big"}, 2000)
	if err := newService(b, st.Store).Snapshot(ctx, "tab", "big"); err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B) {
		tot := st.meter.Total()
		b.ReportMetric(float64(tot.Calls)/float64(b.N), "requests/op")
		b.ReportMetric(float64(tot.Capacity)/float64(b.N), "capacity/op")
	}
	b.Run("warm", func(b *testing.B) {
		svc := newService(b, st.Store)
		if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "warm", add("lager", 1)); err != nil {
			b.Fatal(err)
		}
		st.meter.Reset()
		for i := 0; b.Loop(); i++ {
			if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "warm", add(fmt.Sprint("tap-", i%50), 1)); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("cold-2000-events-snapshot", func(b *testing.B) {
		st.meter.Reset()
		for i := 0; b.Loop(); i++ {
			svc := newService(b, st.Store) // a new container each time
			if _, _, err := signal.Bind(svc, tab.Type).Handle(ctx, "big", tab.CancelItem{Item: fmt.Sprint("tap-", i%50), Quantity: 1}); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}
