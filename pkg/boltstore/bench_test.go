package boltstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// BenchmarkAppend appends one-event commits with fsync on (the default):
// the durable cost of a command in `signal dev`.
func BenchmarkAppend(b *testing.B) { benchmarkAppend(b, nil) }

// BenchmarkAppendNoSync is the same without fsync: the cost of the
// encoding and the bbolt transaction alone.
func BenchmarkAppendNoSync(b *testing.B) { benchmarkAppend(b, &Options{NoSync: true}) }

func benchmarkAppend(b *testing.B, opts *Options) {
	s := open(b, opts)
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
