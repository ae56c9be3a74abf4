package signal_test

import (
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// TestStats: each counter of Service.Stats counts where it happens, the
// pool's lookups in the pool, the command loop's races and catch-ups in
// the Service, for two processes on one aggregate.
func TestStats(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	other, err := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	if err != nil {
		t.Fatal(err)
	}
	// Each process loads a1 once (a miss), then finds it warm (a hit).
	mustHandle(t, f, "a1", Open{Owner: "ann"})
	if _, err := other.Handle(ctx, "account", "a1", Deposit{Amount: 1}); err != nil {
		t.Fatal(err)
	}
	// f's pooled a1 is at v1: the If-Match refusal is confirmed by a
	// catch-up, which finds v2, and the command goes through (v3).
	if _, err := f.svc.Handle(ctx, "account", "a1", Deposit{Amount: 1}, signal.IfVersion(2)); err != nil {
		t.Fatal(err)
	}
	// other's a1 is at v2: its append loses to v3, folds the winner the
	// store returned and wins at v4, without a read.
	if r, err := other.Handle(ctx, "account", "a1", Deposit{Amount: 1}); err != nil || r.Version != 4 {
		t.Fatalf("a command on a stale pool: %+v %v", r, err)
	}
	for _, c := range []struct {
		name string
		got  signal.Stats
		want signal.Stats
	}{
		{"the refusing process", f.svc.Stats(), signal.Stats{Hits: 1, Misses: 1, CatchUps: 1, Size: 1}},
		{"the racing process", other.Stats(), signal.Stats{Hits: 1, Misses: 1, Conflicts: 1, Retries: 1, Size: 1}},
	} {
		if c.got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, c.got, c.want)
		}
	}
}
