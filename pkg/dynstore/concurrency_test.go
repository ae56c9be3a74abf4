package dynstore

import (
	"fmt"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestContainersOnOneTab: 4 pools (4 simulated Lambda containers) with 8
// goroutines each send 50 commands to one tab. Every command is either
// applied exactly once or refused by the domain; versions are contiguous;
// the state is the fold of the stored events.
func TestContainersOnOneTab(t *testing.T) {
	const containers, workers, perWorker = 4, 8, 50
	st := newTestStore(t)
	ctx := t.Context()
	var svcs []*signal.Service
	for range containers {
		svc, err := signal.New(signal.Config{Store: st.Store, Types: tab.Types(), MaxRetries: 50})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	if _, _, err := signal.Bind(svcs[0], tab.Type).Handle(ctx, "shared", add("tap-0", 1)); err != nil {
		t.Fatal(err)
	}
	accepted, refused := raceOnSharedTab(t, svcs, workers, perWorker)
	if len(accepted)+len(refused) != containers*workers*perWorker {
		t.Fatalf("%d outcomes", len(accepted)+len(refused))
	}
	last := checkSharedLog(t, st, accepted, refused)
	if int64(len(accepted)+1) != last {
		t.Fatalf("%d accepted + 1 genesis, but the tab is at version %d", len(accepted), last)
	}
	// A cold load (the fold of the log) equals every container's fresh state.
	want, v, err := signal.Bind(newService(t, st.Store), tab.Type).Get(ctx, "shared")
	if err != nil || v != last {
		t.Fatal(v, err)
	}
	var conflicts int64
	for _, svc := range svcs {
		got, _, err := signal.Bind(svc, tab.Type).Get(ctx, "shared", signal.Fresh())
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("container state %v, fold %v (%v)", got, want, err)
		}
		conflicts += svc.Stats().Conflicts
	}
	if conflicts == 0 {
		t.Fatal("no conflicts: the containers did not race")
	}
	t.Logf("%d accepted, %d refused, %d conflicts, %d DynamoDB calls", len(accepted), len(refused), conflicts, st.meter.Total().Calls)
}

// raceOnSharedTab runs workers goroutines per container, each sending
// perWorker commands to tab "shared" (adds, and every third a cancel,
// sometimes of an item absent: refused), and returns the version of each
// accepted command by id and the ids refused. Any other error fails t.
func raceOnSharedTab(t *testing.T, svcs []*signal.Service, workers, perWorker int) (accepted map[string]int64, refused map[string]bool) {
	type outcome struct {
		id       string
		accepted bool
		version  int64
	}
	ctx := t.Context()
	outcomes := make(chan outcome, len(svcs)*workers*perWorker)
	var wg sync.WaitGroup
	for c, svc := range svcs {
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					id := fmt.Sprintf("c%d-w%d-%d", c, w, i)
					var cmd any = add(fmt.Sprint("tap-", i%5), 1)
					if i%3 == 2 {
						cmd = tab.CancelItem{Item: fmt.Sprint("tap-", (i+1)%7), Quantity: 1} // sometimes absent: refused
					}
					r, err := svc.Handle(ctx, "tab", "shared", cmd, signal.WithCommandID(id))
					switch {
					case err == nil:
						outcomes <- outcome{id, true, r.Version}
					case signal.KindOf(err) == signal.KindRejected:
						outcomes <- outcome{id, false, 0}
					default:
						t.Errorf("%s: %v", id, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(outcomes)
	accepted, refused = map[string]int64{}, map[string]bool{}
	for o := range outcomes {
		if o.accepted {
			accepted[o.id] = o.version
		} else {
			refused[o.id] = true
		}
	}
	return accepted, refused
}

// checkSharedLog reads tab "shared" directly and checks that versions are
// contiguous, no command is stored twice, every accepted command is
// stored at its version and no refused one at all. It returns the tab's
// last version.
func checkSharedLog(t *testing.T, st *testStore, accepted map[string]int64, refused map[string]bool) (last int64) {
	seen := map[string]int64{}
	for c, err := range st.Load(t.Context(), signal.StreamID{Type: "tab", ID: "shared"}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != last+1 {
			t.Fatalf("version %d after %d", c.Version, last)
		}
		if _, dup := seen[c.CommandID]; dup {
			t.Fatalf("command %s stored twice", c.CommandID)
		}
		seen[c.CommandID] = c.Version
		last = c.LastVersion()
	}
	for id, v := range accepted {
		if seen[id] != v {
			t.Fatalf("accepted command %s at version %d, stored at %d", id, v, seen[id])
		}
	}
	for id := range refused {
		if _, ok := seen[id]; ok {
			t.Fatalf("refused command %s is in the log", id)
		}
	}
	return last
}
