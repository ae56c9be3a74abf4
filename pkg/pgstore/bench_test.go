package pgstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// BenchmarkAppend appends one-event commits round-robin to 16 streams,
// one at a time: the latency of a command's write (one round trip, one
// transaction) against the test cluster (loopback, fsync=off).
func BenchmarkAppend(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	const streams = 16
	versions := make([]int64, streams)
	ids := make([]signal.StreamID, streams)
	for i := range ids {
		ids[i] = signal.StreamID{Type: "cart", ID: fmt.Sprintf("bench-%d", i)}
	}
	data := []byte(`{"sku":"A-1","quantity":2,"price":9.99}`)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % streams
		i++
		versions[k]++
		c := signal.Commit{Stream: ids[k], Version: versions[k], CommandID: "cmd", Events: []signal.RawEvent{{ID: "e", Name: "ItemAdded", SchemaVersion: 1, Data: data}}}
		if err := s.Append(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendParallel appends from GOMAXPROCS*4 goroutines, each to
// its own stream: throughput when appends of different streams overlap
// (they take no common lock).
func BenchmarkAppendParallel(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	data := []byte(`{"sku":"A-1","quantity":2,"price":9.99}`)
	var next atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := signal.StreamID{Type: "cart", ID: fmt.Sprintf("par-%d", next.Add(1))}
		v := int64(0)
		for pb.Next() {
			v++
			c := signal.Commit{Stream: id, Version: v, CommandID: "cmd", Events: []signal.RawEvent{{ID: "e", Name: "ItemAdded", SchemaVersion: 1, Data: data}}}
			if err := s.Append(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// counter is the aggregate BenchmarkRehydrate10k loads: its evolve is
// trivial, so the figure is the store's reads and the event decoding.
type counter struct{ N int64 }
type incremented struct{ By int64 }
type increment struct{ By int64 }

var counterType = signal.MustDefine(signal.Spec[counter]{
	Name: "counter",
	Commands: []signal.CommandSpec[counter]{
		signal.Decide("Increment", func(_ counter, cmd increment) ([]any, error) { return []any{incremented(cmd)}, nil }),
	},
	Events: []signal.EventSpec[counter]{
		signal.Evolve("Incremented", func(c counter, e incremented) counter { return counter{N: c.N + e.By} }),
	},
})

// BenchmarkRehydrate10k loads an aggregate of 10,000 events (one per
// commit, no snapshot) into a cold Service: Load's paged reads (7
// queries) and the decoding of every event.
func BenchmarkRehydrate10k(b *testing.B) {
	const n = 10_000
	s := open(b)
	ctx := context.Background()
	stream := signal.StreamID{Type: "counter", ID: "big"}
	for v := int64(1); v <= n; v++ {
		c := signal.Commit{Stream: stream, Version: v, CommandID: fmt.Sprint("c", v),
			Events: []signal.RawEvent{{ID: signal.NewID(), Name: "Incremented", SchemaVersion: 1, Data: []byte(`{"By":1}`)}}}
		if err := s.Append(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		svc, err := signal.New(signal.Config{Store: s, Types: []signal.AggregateType{counterType}})
		if err != nil {
			b.Fatal(err)
		}
		c, v, err := signal.Bind(svc, counterType).Get(ctx, "big")
		if err != nil || v != n || c.N != n {
			b.Fatal(v, c, err)
		}
	}
}
