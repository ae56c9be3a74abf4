package signal_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalforgo/signal/pkg/signal"
)

func TestPoolBoundedLRU(t *testing.T) {
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Pool.Size = 2 })
	for _, id := range []string{"a", "b", "c"} {
		mustHandle(t, f, id, Open{Owner: id})
	}
	s := f.svc.Stats()
	if s.Size != 2 || s.Evictions != 1 || s.Misses != 3 {
		t.Fatalf("after 3 aggregates in a pool of 2: %+v", s)
	}
	// "a" was least recently used, so it went; "c" is warm.
	mustHandle(t, f, "c", Deposit{Amount: 1})
	if s2 := f.svc.Stats(); s2.Hits != s.Hits+1 {
		t.Fatalf("c should be a hit: %+v", s2)
	}
	mustHandle(t, f, "b", Deposit{Amount: 1}) // touch b: now c is the oldest
	mustHandle(t, f, "a", Deposit{Amount: 1}) // miss, evicts c
	mustHandle(t, f, "b", Deposit{Amount: 1})
	s = f.svc.Stats()
	if s.Misses != 4 || s.Evictions != 2 {
		t.Fatalf("LRU order by activity: %+v", s)
	}
	st, _, err := f.typed.Get(t.Context(), "a")
	if err != nil || st.Balance != 1 {
		t.Fatalf("reloaded a: %+v %v", st, err)
	}
}

func TestPoolIdleExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) {
		c.Pool.IdleTTL = time.Minute
		c.Now = func() time.Time { return time.Unix(0, now.Load()) }
	})
	mustHandle(t, f, "a", Open{Owner: "a"})
	now.Add(int64(30 * time.Second))
	mustHandle(t, f, "a", Deposit{Amount: 1})
	if s := f.svc.Stats(); s.Hits != 1 || s.Evictions != 0 {
		t.Fatalf("within the TTL: %+v", s)
	}
	now.Add(int64(61 * time.Second))
	mustHandle(t, f, "a", Deposit{Amount: 1})
	if s := f.svc.Stats(); s.Misses != 2 || s.Evictions != 1 {
		t.Fatalf("after the TTL: %+v", s)
	}
}

func TestPoolSingleFlightLoad(t *testing.T) {
	f := newFixture(t)
	mustHandle(t, f, "a", Open{Owner: "a"})
	for i := range 200 {
		mustHandle(t, f, "a", Deposit{Amount: int64(i + 1)})
	}
	cold, _ := signal.New(signal.Config{Store: f.store, Types: []signal.AggregateType{f.typ}})
	before := f.store.Counts().Loads
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 32 {
		wg.Go(func() {
			<-start
			if _, _, err := signal.Bind(cold, f.typ).Get(t.Context(), "a"); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if loads := f.store.Counts().Loads - before; loads != 1 {
		t.Fatalf("32 concurrent cold reads made %d loads, want 1", loads)
	}
	if s := cold.Stats(); s.Misses != 1 || s.Hits != 31 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPoolDisabled(t *testing.T) {
	f := newFixture(t, func(_ *signal.Spec[Account], c *signal.Config) { c.Pool.Size = -1 })
	mustHandle(t, f, "a", Open{Owner: "a"})
	mustHandle(t, f, "a", Deposit{Amount: 1})
	if s := f.svc.Stats(); s.Size != 0 || s.Hits != 0 || s.Misses != 2 {
		t.Fatalf("disabled pool: %+v", s)
	}
	if n := f.store.Counts().Loads; n != 2 {
		t.Fatalf("each command loads without a pool: %d loads", n)
	}
}

func TestPerAggregateSerialisation(t *testing.T) {
	// Within one process, concurrent commands on one aggregate never
	// conflict: they queue on the aggregate's lock.
	f := newFixture(t)
	mustHandle(t, f, "a", Open{Owner: "a"})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				if _, err := f.svc.Handle(t.Context(), "account", "a", Deposit{Amount: 1}, signal.WithCommandID(fmt.Sprint(i, "-", j))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if s := f.svc.Stats(); s.Conflicts != 0 {
		t.Fatalf("one process conflicted with itself: %+v", s)
	}
	st, v, _ := f.typed.Get(t.Context(), "a")
	if v != 321 || st.Balance != 320 {
		t.Fatalf("v%d %+v", v, st)
	}
}
