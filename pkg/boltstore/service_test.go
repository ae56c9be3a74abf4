package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/signalforgo/signal/pkg/boltstore"
	"github.com/signalforgo/signal/pkg/signal"
)

type cart struct {
	Items  map[string]int64
	Closed bool
}
type addItem struct {
	SKU      string
	Quantity int64
}
type itemAdded struct {
	SKU      string
	Quantity int64
}
type checkout struct{}
type checkedOut struct{}

var cartType = signal.MustDefine(signal.Spec[cart]{
	Name: "cart",
	Commands: []signal.CommandSpec[cart]{
		signal.Decide("AddItem", func(_ cart, cmd addItem) ([]any, error) { return []any{itemAdded(cmd)}, nil }, signal.Genesis),
		signal.Decide("Checkout", func(cart, checkout) ([]any, error) { return []any{checkedOut{}}, nil }),
	},
	Events: []signal.EventSpec[cart]{
		signal.Evolve("ItemAdded", func(c cart, e itemAdded) cart {
			items := maps.Clone(c.Items)
			if items == nil {
				items = map[string]int64{}
			}
			items[e.SKU] += e.Quantity
			return cart{Items: items, Closed: c.Closed}
		}),
		signal.Evolve("CheckedOut", func(c cart, _ checkedOut) cart { return cart{Items: c.Items, Closed: true} }, signal.Terminal),
	},
	SnapshotEvery: 4,
})

// skuUnits counts units added per sku across all carts: a view every cart writes.
var skuUnits = &signal.Projection{
	Name: "sku-units",
	On: []signal.ProjectionHandler{signal.Project(func(ctx context.Context, tx *signal.ViewTx, _ signal.Event, e itemAdded) error {
		var n int64
		if _, err := tx.Get(ctx, "sku-units", e.SKU, &n); err != nil {
			return err
		}
		return tx.Put(ctx, "sku-units", e.SKU, n+e.Quantity)
	})},
}

// dispatchFeed feeds the change feed from after to the Service's
// dispatcher, as `signal dev` does, and returns the last position.
func dispatchFeed(t *testing.T, svc *signal.Service, feed signal.ChangeFeed, after uint64) uint64 {
	t.Helper()
	last, _, err := svc.DispatchChanges(t.Context(), feed, after, 3)
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// TestService runs the Service over the store: commands, snapshots, a
// closed aggregate, a projection fed from the change feed (twice, to
// show redelivery changes nothing), and all of it again after a reopen.
func TestService(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".signal", "signal.db")
	ctx := t.Context()
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{cartType}, Subscribers: []signal.Subscriber{skuUnits}})
	if err != nil {
		t.Fatal(err)
	}
	carts := signal.Bind(svc, cartType)
	for i := range 10 {
		id := fmt.Sprintf("cart-%d", i%3)
		if _, _, err := carts.Handle(ctx, id, addItem{SKU: "apple", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := carts.Handle(ctx, "cart-0", checkout{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := carts.Handle(ctx, "cart-0", addItem{SKU: "pear", Quantity: 1}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("command on a checked-out cart = %v, want ErrClosed", err)
	}
	pos := dispatchFeed(t, svc, st, 0)
	if again := dispatchFeed(t, svc, st, 0); again != pos {
		t.Fatalf("feed ends at %d, then %d", pos, again)
	}
	if _, err := st.LoadSnapshot(ctx, signal.StreamID{Type: "cart", ID: "cart-0"}); err != nil {
		t.Errorf("LoadSnapshot(cart-0) after 4 commands = %v, want a snapshot", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err = signal.New(signal.Config{Store: st, Types: []signal.AggregateType{cartType}, Subscribers: []signal.Subscriber{skuUnits}})
	if err != nil {
		t.Fatal(err)
	}
	carts = signal.Bind(svc, cartType)
	for i, want := range []int64{4, 3, 3} {
		c, v, err := carts.Get(ctx, fmt.Sprintf("cart-%d", i))
		if err != nil || c.Items["apple"] != want || c.Closed != (i == 0) {
			t.Errorf("cart-%d after reopen = %+v at version %d, %v; want %d apples", i, c, v, err, want)
		}
	}
	if again := dispatchFeed(t, svc, st, 0); again != pos {
		t.Errorf("after reopen the feed ends at %d, want %d", again, pos)
	}
	v, err := st.LoadView(ctx, "sku-units", "apple")
	if err != nil || string(v.Data) != "10" {
		t.Errorf("view sku-units/apple after three deliveries = %s, %v; want 10 (each event counted once)", v.Data, err)
	}
}

func Example() {
	dir, _ := os.MkdirTemp("", "boltstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	st, err := boltstore.Open(filepath.Join(dir, ".signal", "signal.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, _ := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{cartType}})
	carts := signal.Bind(svc, cartType)
	_, res, err := carts.Handle(ctx, "cart-1", addItem{SKU: "apple", Quantity: 3})
	fmt.Println(res.Version, err)
	st.Close()

	// The events are on disk: a new process (here, a new store and
	// Service) sees them.
	st, _ = boltstore.Open(filepath.Join(dir, ".signal", "signal.db"), nil)
	defer st.Close()
	svc, _ = signal.New(signal.Config{Store: st, Types: []signal.AggregateType{cartType}})
	carts = signal.Bind(svc, cartType)
	c, version, err := carts.Get(ctx, "cart-1")
	fmt.Println(c.Items["apple"], version, err)
	// Output:
	// 1 <nil>
	// 3 1 <nil>
}
