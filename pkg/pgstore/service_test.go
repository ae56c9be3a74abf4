package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/signalforgo/signal/internal/pgtest"
	"github.com/signalforgo/signal/pkg/pgstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// A tiny domain: a cart of counted items that ends with a checkout.
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

func cartSpec() signal.Spec[cart] {
	return signal.Spec[cart]{
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
	}
}

var cartType = func() *signal.Type[cart] {
	spec := cartSpec()
	spec.SnapshotEvery = 4
	return signal.MustDefine(spec)
}()

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
// dispatcher and returns the last position.
func dispatchFeed(t *testing.T, svc *signal.Service, feed signal.ChangeFeed, after uint64) uint64 {
	t.Helper()
	last, _, err := svc.DispatchChanges(t.Context(), feed, after, 5)
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// TestService runs Services over the store as two processes would: two
// stores on one database, commands racing on the same carts from both,
// snapshots, a closed aggregate, and a projection fed from the change
// feed twice (redelivery changes nothing).
func TestService(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	stores := []*pgstore.Store{openURL(t, url), openURL(t, url)}
	svcs := make([]*signal.Service, len(stores))
	for i, st := range stores {
		svc, err := signal.New(signal.Config{Store: st, Types: []signal.AggregateType{cartType}, Subscribers: []signal.Subscriber{skuUnits}})
		if err != nil {
			t.Fatal(err)
		}
		svcs[i] = svc
	}
	const carts, perWorker, workers = 3, 10, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			svc := svcs[w%len(svcs)]
			for i := range perWorker {
				id := fmt.Sprintf("cart-%d", i%carts)
				if _, _, err := signal.Bind(svc, cartType).Handle(ctx, id, addItem{SKU: "apple", Quantity: 1}); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if _, _, err := signal.Bind(svcs[0], cartType).Handle(ctx, "cart-0", checkout{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := signal.Bind(svcs[1], cartType).Handle(ctx, "cart-0", addItem{SKU: "pear", Quantity: 1}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("command on a checked-out cart from the other process = %v, want ErrClosed", err)
	}
	pos := dispatchFeed(t, svcs[0], stores[0], 0)
	if again := dispatchFeed(t, svcs[1], stores[1], 0); again != pos {
		t.Fatalf("the feed ends at %d for one store and %d for the other", pos, again)
	}
	if _, err := stores[1].LoadSnapshot(ctx, signal.StreamID{Type: "cart", ID: "cart-0"}); err != nil {
		t.Errorf("LoadSnapshot(cart-0) = %v, want a snapshot", err)
	}
	fresh, err := signal.New(signal.Config{Store: stores[1], Types: []signal.AggregateType{cartType}})
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for i := range carts {
		c, _, err := signal.Bind(fresh, cartType).Get(ctx, fmt.Sprintf("cart-%d", i))
		if err != nil || c.Closed != (i == 0) {
			t.Errorf("cart-%d = %+v, %v", i, c, err)
		}
		total += c.Items["apple"]
	}
	if total != workers*perWorker {
		t.Errorf("the carts hold %d apples, want %d", total, workers*perWorker)
	}
	v, err := stores[0].LoadView(ctx, "sku-units", "apple")
	if err != nil || string(v.Data) != fmt.Sprint(workers*perWorker) {
		t.Errorf("view sku-units/apple after two deliveries = %s, %v; want %d (each event counted once)", v.Data, err, workers*perWorker)
	}
}
