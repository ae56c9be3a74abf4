package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/signalforgo/signal/pkg/signal"
)

// ServiceStores makes the stores RunService runs Services over.
type ServiceStores struct {
	// New returns a fresh, empty store, released with t.Cleanup. Required.
	New func(t *testing.T) signal.Store
	// Shared, if set, returns a second store on s's data, as another
	// process would open it (pgstore: another pool on the same database;
	// dynstore: another client on the same tables). Commands then race
	// from Services on both, and each reads what the other wrote. Leave
	// it nil for a store one process holds (bbolt's file lock, memory).
	Shared func(t *testing.T, s signal.Store) signal.Store
	// Reopen, if set, closes s and opens its data again, as a restart
	// would; the suite then checks that everything is still there. Leave
	// it nil for a store that does not outlive its process (memory).
	Reopen func(t *testing.T, s signal.Store) signal.Store
}

// RunService runs the Service over stores as an application would:
// commands from several workers (and from two processes, with Shared)
// racing on the same carts, snapshots (if the store keeps them), a
// closed aggregate refused from every Service, the closing command's
// caller recorded as its commit's Actor, a projection delivered
// twice (from the change feed if the store has one, else from Load) that
// counts each event once (if the store keeps views), a cold Service's
// reads, and, with Reopen, all of it again after a restart. It is the
// end-to-end check that the store's answers are the ones the Service
// relies on (conflicts carrying Existing, ErrClosed, checkpoints).
func RunService(t *testing.T, stores ServiceStores) {
	t.Helper()
	sts := []signal.Store{stores.New(t)}
	if stores.Shared != nil {
		sts = append(sts, stores.Shared(t, sts[0]))
	}
	svcs := make([]*signal.Service, len(sts))
	for i, st := range sts {
		svcs[i] = newCartService(t, st)
	}
	total := raceCarts(t, svcs)
	if t.Failed() {
		return
	}
	last := svcs[len(svcs)-1]
	if _, _, err := signal.Bind(svcs[0], cartType).Handle(signal.WithPrincipal(t.Context(), checkoutCaller), "cart-0", checkout{}); err != nil {
		t.Fatalf("Checkout cart-0: %v", err)
	}
	if _, _, err := signal.Bind(last, cartType).Handle(t.Context(), "cart-0", addItem{SKU: "pear", Quantity: 1}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("AddItem on a checked-out cart from the last Service = %v, want ErrClosed", err)
	}
	pos := project(t, svcs[0], sts[0])
	if again := project(t, last, sts[len(sts)-1]); again != pos {
		t.Fatalf("a second delivery ends at %d, the first at %d", again, pos)
	}
	if ss, ok := sts[len(sts)-1].(signal.SnapshotStore); ok {
		if _, err := ss.LoadSnapshot(t.Context(), signal.StreamID{Type: "cart", ID: "cart-0"}); err != nil {
			t.Errorf("LoadSnapshot(cart-0) after %d commands = %v, want a snapshot", total/3, err)
		}
	}
	checkCarts(t, newCartService(t, sts[len(sts)-1]), sts[len(sts)-1], total, "a cold Service")
	checkCheckoutActor(t, sts[len(sts)-1], "from the last store")
	if stores.Reopen == nil {
		return
	}
	st := stores.Reopen(t, sts[0])
	svc := newCartService(t, st)
	if _, _, err := signal.Bind(svc, cartType).Handle(t.Context(), "cart-0", addItem{SKU: "pear", Quantity: 1}); !errors.Is(err, signal.ErrClosed) {
		t.Errorf("AddItem on the checked-out cart after reopening = %v, want ErrClosed", err)
	}
	if again := project(t, svc, st); again != pos {
		t.Errorf("after reopening a delivery ends at %d, want %d", again, pos)
	}
	checkCarts(t, svc, st, total, "after reopening")
	checkCheckoutActor(t, st, "after reopening")
}

// checkoutCaller is the principal cart-0's checkout runs as.
var checkoutCaller = &signal.Principal{Subject: "auth0|checkout-caller"}

// checkCheckoutActor checks that cart-0's last commit, its checkout,
// records checkoutCaller as its Actor and the commits before it none.
func checkCheckoutActor(t *testing.T, st signal.Store, when string) {
	t.Helper()
	var actors []string
	for c, err := range st.Load(t.Context(), signal.StreamID{Type: "cart", ID: "cart-0"}, 0) {
		if err != nil {
			t.Errorf("Load(cart-0) %s: %v", when, err)
			return
		}
		actors = append(actors, c.Actor)
	}
	last := len(actors) - 1
	if last < 1 || actors[last] != checkoutCaller.Subject || slices.ContainsFunc(actors[:last], func(a string) bool { return a != "" }) {
		t.Errorf("cart-0's commits %s have the actors %q, want none but the checkout's %q", when, actors, checkoutCaller.Subject)
	}
}

// raceCarts has workers add apples to three carts through svcs, one
// Service per worker in turn, and returns the apples added.
func raceCarts(t *testing.T, svcs []*signal.Service) int64 {
	const perWorker, workers = 10, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			carts := signal.Bind(svcs[w%len(svcs)], cartType)
			for i := range perWorker {
				if _, _, err := carts.Handle(t.Context(), fmt.Sprint("cart-", i%3), addItem{SKU: "apple", Quantity: 1}); err != nil {
					t.Errorf("worker %d, command %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return workers * perWorker
}

// checkCarts checks the carts' states through svc and, if st keeps
// views, that the projection counted every apple once.
func checkCarts(t *testing.T, svc *signal.Service, st signal.Store, total int64, when string) {
	t.Helper()
	got := int64(0)
	for i := range 3 {
		c, _, err := signal.Bind(svc, cartType).Get(t.Context(), fmt.Sprint("cart-", i))
		if err != nil || c.Closed != (i == 0) {
			t.Errorf("cart-%d %s = %+v, %v; want it closed only for cart-0", i, when, c, err)
		}
		got += c.Items["apple"]
	}
	if got != total {
		t.Errorf("the carts hold %d apples %s, want %d", got, when, total)
	}
	vs, ok := st.(signal.ViewStore)
	if !ok {
		return
	}
	v, err := vs.LoadView(t.Context(), "sku-units", "apple")
	if err != nil || string(v.Data) != fmt.Sprint(total) {
		t.Errorf("view sku-units/apple %s = %s, %v; want %d (each event counted once)", when, v.Data, err, total)
	}
}

// project delivers every commit, from the start, to svc's projection
// and returns the last change-feed position (0 for a store without a feed, which delivers
// what Load returns for the three carts).
func project(t *testing.T, svc *signal.Service, st signal.Store) uint64 {
	t.Helper()
	if _, ok := st.(signal.ViewStore); !ok {
		return 0
	}
	if feed, ok := st.(signal.ChangeFeed); ok {
		last, _, err := svc.DispatchChanges(t.Context(), feed, 0, 5)
		if err != nil {
			t.Fatalf("DispatchChanges: %v", err)
		}
		return last
	}
	var commits []signal.Commit
	for i := range 3 {
		commits = append(commits, LoadAll(t, st, signal.StreamID{Type: "cart", ID: fmt.Sprint("cart-", i)}, 0)...)
	}
	if err := svc.Dispatch(t.Context(), commits); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	return 0
}

// newCartService is a Service over st with the cart type and, if st keeps
// views, the sku-units projection.
func newCartService(t *testing.T, st signal.Store) *signal.Service {
	t.Helper()
	cfg := signal.Config{Store: st, Types: []signal.AggregateType{cartType}}
	if _, ok := st.(signal.ViewStore); ok {
		cfg.Subscribers = []signal.Subscriber{skuUnits}
	}
	svc, err := signal.New(cfg)
	if err != nil {
		t.Fatalf("signal.New: %v", err)
	}
	return svc
}

// The suite's domain: a cart of counted items that ends with a checkout.
type (
	cart struct {
		Items  map[string]int64
		Closed bool
	}
	addItem struct {
		SKU      string
		Quantity int64
	}
	itemAdded struct {
		SKU      string
		Quantity int64
	}
	checkout   struct{}
	checkedOut struct{}
)

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

// skuUnits counts units added per sku across all carts: a view every
// cart writes, so projections of different streams contend on it.
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
