package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// The shared benchmarks: an adapter's Benchmark functions call them on a
// fresh store, so every store's figures measure the same work.
//
//	func BenchmarkAppend(b *testing.B) { storetest.BenchAppend(b, open(b)) }

// benchEvent is the payload of every benchmark event: a cart line.
var benchEvent = []byte(`{"sku":"A-1","quantity":2,"price":9.99}`)

// benchCommit is a one-event commit at version, as small as a command's.
func benchCommit(stream signal.StreamID, version int64) signal.Commit {
	return signal.Commit{Stream: stream, Version: version, CommandID: "cmd",
		Events: []signal.RawEvent{{ID: "e", Name: "ItemAdded", SchemaVersion: 1, Data: benchEvent}}}
}

// BenchAppend appends one-event commits round-robin to 16 streams, one
// at a time, to s (a fresh store): the latency of a command's write. It
// fails b on the first error.
func BenchAppend(b *testing.B, s signal.Store) {
	ctx := b.Context()
	const streams = 16
	versions := make([]int64, streams)
	ids := make([]signal.StreamID, streams)
	for i := range ids {
		ids[i] = signal.StreamID{Type: "cart", ID: fmt.Sprintf("bench-%d", i)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % streams
		i++
		versions[k]++
		if err := s.Append(ctx, benchCommit(ids[k], versions[k])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchAppendParallel appends one-event commits to s (a fresh store)
// from GOMAXPROCS*4 goroutines, each to its own stream: throughput when
// appends of different streams overlap. It fails b on the first error.
func BenchAppendParallel(b *testing.B, s signal.Store) {
	ctx := b.Context()
	var next atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := signal.StreamID{Type: "cart", ID: fmt.Sprintf("par-%d", next.Add(1))}
		v := int64(0)
		for pb.Next() {
			v++
			if err := s.Append(ctx, benchCommit(id, v)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchRehydrate appends an aggregate of n events to s (a fresh store),
// one per commit and no snapshot, then loads it into a cold Service each
// iteration: the store's paged reads and the decoding of every event
// (the aggregate's evolve is trivial). It fails b on the first error or
// a wrong state.
func BenchRehydrate(b *testing.B, s signal.Store, n int) {
	ctx := b.Context()
	stream := signal.StreamID{Type: "counter", ID: "big"}
	for v := int64(1); v <= int64(n); v++ {
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
		if err != nil || v != int64(n) || c.N != int64(n) {
			b.Fatalf("Get = %+v at version %d, %v; want %d", c, v, err, n)
		}
	}
}

// counter is the aggregate BenchRehydrate loads.
type (
	counter     struct{ N int64 }
	incremented struct{ By int64 }
	increment   struct{ By int64 }
)

var counterType = signal.MustDefine(signal.Spec[counter]{
	Name: "counter",
	Commands: []signal.CommandSpec[counter]{
		signal.Decide("Increment", func(_ counter, cmd increment) ([]any, error) { return []any{incremented(cmd)}, nil }),
	},
	Events: []signal.EventSpec[counter]{
		signal.Evolve("Incremented", func(c counter, e incremented) counter { return counter{N: c.N + e.By} }),
	},
})
