package signal_test

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// discardStore takes every commit and keeps none: what the heap holds
// after commands on it is the pool's alone.
type discardStore struct{}

func (discardStore) Append(context.Context, signal.Commit) error { return nil }

func (discardStore) Load(context.Context, signal.StreamID, int64) iter.Seq2[signal.Commit, error] {
	return func(func(signal.Commit, error) bool) {}
}

// poolBytesPerAggregate returns the heap the Service's pool holds per
// aggregate after n aggregates each took commits commands (an Open, then
// Deposits), measured as the live heap's growth over the Service's
// commands. The ids are the callers' and made before, so they are not counted.
func poolBytesPerAggregate(t testing.TB, n, commits int) float64 {
	t.Helper()
	typ := signal.MustDefine(accountSpec())
	svc, err := signal.New(signal.Config{Store: discardStore{}, Types: []signal.AggregateType{typ}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("a", i)
	}
	ctx := context.Background()
	before := liveHeap()
	for _, id := range ids {
		if _, err := svc.Handle(ctx, "account", id, Open{Owner: "ann"}); err != nil {
			t.Fatal(err)
		}
		for range commits - 1 {
			if _, err := svc.Handle(ctx, "account", id, Deposit{Amount: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	after := liveHeap()
	if s := svc.Stats(); s.Size != n {
		t.Fatalf("pooled %d aggregates, want %d", s.Size, n)
	}
	runtime.KeepAlive(svc)
	heldService = svc
	runtime.KeepAlive(ids)
	return float64(after-before) / float64(n)
}

// liveHeap is the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestPoolMemoryPerAggregate holds the pool to at most 600 bytes per
// small aggregate (issue 17): the window of recent command ids grows with
// the commits instead of being allocated whole at the first.
func TestPoolMemoryPerAggregate(t *testing.T) {
	for _, commits := range []int{1, 2} {
		got := poolBytesPerAggregate(t, 5_000, commits)
		t.Logf("%d commits: %.0f B per pooled aggregate", commits, got)
		if got > 600 {
			t.Errorf("%d commits: %.0f B per pooled aggregate, want <= 600", commits, got)
		}
	}
}

var heldService *signal.Service
