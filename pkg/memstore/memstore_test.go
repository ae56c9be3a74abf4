package memstore_test

import (
	"testing"

	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

func newStore(*testing.T) signal.Store { return memstore.New() }

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

// TestService runs the Service over the store (storetest.RunService).
func TestService(t *testing.T) { storetest.RunService(t, storetest.ServiceStores{New: newStore}) }

// BenchmarkAppend is the floor the durable stores' BenchmarkAppend
// compares with: validation and the in-memory append alone.
func BenchmarkAppend(b *testing.B) { storetest.BenchAppend(b, memstore.New()) }
