package pgstore_test

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// BenchmarkAppend appends one-event commits round-robin to 16 streams,
// one at a time: the latency of a command's write (one round trip, one
// transaction) against the test cluster (loopback, fsync=off).
func BenchmarkAppend(b *testing.B) { storetest.BenchAppend(b, open(b)) }

// BenchmarkAppendParallel appends from GOMAXPROCS*4 goroutines, each to
// its own stream: throughput when appends of different streams overlap
// (they take no common lock).
func BenchmarkAppendParallel(b *testing.B) { storetest.BenchAppendParallel(b, open(b)) }

// BenchmarkRehydrate10k loads an aggregate of 10,000 events (one per
// commit, no snapshot) into a cold Service: Load's paged reads (7
// queries) and the decoding of every event.
func BenchmarkRehydrate10k(b *testing.B) { storetest.BenchRehydrate(b, open(b), 10_000) }
