package boltstore

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// BenchmarkAppend appends one-event commits with fsync on (the default):
// the durable cost of a command in `signal dev`.
func BenchmarkAppend(b *testing.B) { storetest.BenchAppend(b, open(b, nil)) }

// BenchmarkAppendParallel appends from GOMAXPROCS*4 goroutines, each to
// its own stream, fsync on: the appends that overlap share transactions
// and fsyncs (group commit), as concurrent commands of `signal dev` do.
func BenchmarkAppendParallel(b *testing.B) { storetest.BenchAppendParallel(b, open(b, nil)) }

// BenchmarkAppendNoSync is the same without fsync: the cost of the
// encoding and the bbolt transaction alone.
func BenchmarkAppendNoSync(b *testing.B) { storetest.BenchAppend(b, open(b, &Options{NoSync: true})) }

// BenchmarkRehydrate10k loads an aggregate of 10,000 events (one per
// commit, no snapshot) into a cold Service: Load's pages of 256 commits
// and the decoding of every event.
func BenchmarkRehydrate10k(b *testing.B) {
	storetest.BenchRehydrate(b, open(b, &Options{NoSync: true}), 10_000)
}
