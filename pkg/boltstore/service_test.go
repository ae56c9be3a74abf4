package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/signalforgo/signal/pkg/boltstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/storetest"
)

// openAt opens the store at path and closes it when the test ends.
func openAt(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestService runs the Service over the store, and again after a
// reopen, as `signal dev` restarted would (storetest.RunService).
func TestService(t *testing.T) {
	storetest.RunService(t, storetest.ServiceStores{
		New: func(t *testing.T) signal.Store { return openAt(t, filepath.Join(t.TempDir(), ".signal", "signal.db")) },
		Reopen: func(t *testing.T, s signal.Store) signal.Store {
			st := s.(*boltstore.Store)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			return openAt(t, st.Path())
		},
	})
}

// TestAfterClose: Close wakes WaitForChange, and every later call fails
// with ErrUnavailable instead of panicking (storetest.RunAfterClose).
func TestAfterClose(t *testing.T) {
	storetest.RunAfterClose(t, func(t *testing.T) signal.Store { return openAt(t, filepath.Join(t.TempDir(), "signal.db")) },
		func(s signal.Store) error { return s.(*boltstore.Store).Close() })
}

// A counter, the smallest domain the example can run.
type counter struct{ N int64 }
type add struct{ By int64 }
type added struct{ By int64 }

var counterType = signal.MustDefine(signal.Spec[counter]{
	Name:     "counter",
	Commands: []signal.CommandSpec[counter]{signal.Decide("Add", func(_ counter, c add) ([]any, error) { return []any{added(c)}, nil }, signal.Genesis)},
	Events:   []signal.EventSpec[counter]{signal.Evolve("Added", func(c counter, e added) counter { return counter{N: c.N + e.By} })},
})

func Example() {
	dir, _ := os.MkdirTemp("", "boltstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	st, err := boltstore.Open(filepath.Join(dir, ".signal", "signal.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{counterType}})
	_, res, err := signal.Bind(svc, counterType).Handle(ctx, "visits", add{By: 3})
	fmt.Println(res.Version, err)
	st.Close()

	// The events are on disk: a new process (here, a new store and
	// Service) sees them.
	st, _ = boltstore.Open(filepath.Join(dir, ".signal", "signal.db"), nil)
	defer st.Close()
	svc, _ = signal.New(signal.Config{Store: st, Types: []signal.AggregateType{counterType}})
	c, version, err := signal.Bind(svc, counterType).Get(ctx, "visits")
	fmt.Println(c.N, version, err)
	// Output:
	// 1 <nil>
	// 3 1 <nil>
}
