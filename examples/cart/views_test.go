package cart_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// session runs a scripted shopping session:
//   - a: apple and pear, some apples removed and re-added, purchased;
//   - b: apple and kiwi, purchased;
//   - c: pear, left open;
//   - d: kiwi, discarded.
func session(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	steps := []struct {
		id  string
		cmd any
	}{
		{"a", cart.AddItem{SKU: "apple", Quantity: 2, Price: 150}},
		{"b", cart.AddItem{SKU: "apple", Quantity: 1, Price: 150}},
		{"a", cart.AddItem{SKU: "pear", Quantity: 1, Price: 300}},
		{"c", cart.AddItem{SKU: "pear", Quantity: 2, Price: 300}},
		{"a", cart.RemoveItem{SKU: "apple", Quantity: 1}},
		{"b", cart.AddItem{SKU: "kiwi", Quantity: 5, Price: 20}},
		{"d", cart.AddItem{SKU: "kiwi", Quantity: 1, Price: 20}},
		{"a", cart.AddItem{SKU: "apple", Quantity: 3, Price: 150}},
		{"b", cart.CompletePurchase{}},
		{"a", cart.CompletePurchase{}},
		{"d", endCart{}},
	}
	for i, s := range steps {
		var err error
		if _, ok := s.cmd.(endCart); ok {
			_, err = f.svc.End(ctx, cart.TypeName, s.id)
		} else {
			_, err = f.svc.Handle(ctx, cart.TypeName, s.id, s.cmd)
		}
		if err != nil {
			t.Fatalf("step %d (%s %T): %v", i+1, s.id, s.cmd, err)
		}
	}
}

var (
	wantSummaries = map[string]cart.CartSummary{
		"a": {CartID: "a", Items: map[string]cart.Item{"apple": {4, 150}, "pear": {1, 300}}, Total: 900, Status: cart.StatusPurchased, Version: 5},
		"b": {CartID: "b", Items: map[string]cart.Item{"apple": {1, 150}, "kiwi": {5, 20}}, Total: 250, Status: cart.StatusPurchased, Version: 3},
		"c": {CartID: "c", Items: map[string]cart.Item{"pear": {2, 300}}, Total: 600, Status: cart.StatusOpen, Version: 1},
		"d": {CartID: "d", Items: map[string]cart.Item{"kiwi": {1, 20}}, Total: 20, Status: cart.StatusDiscarded, Version: 2},
	}
	// The open cart c's pears and the discarded cart d's kiwi are not sales.
	wantSales = map[string]cart.SKUSales{
		"apple": {SKU: "apple", UnitsSold: 5, Revenue: 750, Purchases: 2},
		"pear":  {SKU: "pear", UnitsSold: 1, Revenue: 300, Purchases: 1},
		"kiwi":  {SKU: "kiwi", UnitsSold: 5, Revenue: 100, Purchases: 1},
	}
	wantOrders = map[string]cart.Order{
		"a": {CartID: "a", Lines: []cart.Line{{"apple", 4, 150}, {"pear", 1, 300}}, Total: 900, Status: cart.OrderStatusOpen},
		"b": {CartID: "b", Lines: []cart.Line{{"apple", 1, 150}, {"kiwi", 5, 20}}, Total: 250, Status: cart.OrderStatusOpen},
	}
)

// checkViews compares every view document and order with the session's
// expected outcome.
func checkViews(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	for id, want := range wantSummaries {
		got, _, err := signal.LoadView[cart.CartSummary](ctx, f.svc, cart.CartSummaryView, id)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("cart-summary/%s = %+v (%v), want %+v", id, got, err, want)
		}
	}
	for sku, want := range wantSales {
		got, _, err := signal.LoadView[cart.SKUSales](ctx, f.svc, cart.SKUSalesView, sku)
		if err != nil || got != want {
			t.Errorf("sku-sales/%s = %+v (%v), want %+v", sku, got, err, want)
		}
	}
	for _, sku := range []string{"banana"} {
		if _, err := f.svc.View(ctx, cart.SKUSalesView, sku); !errors.Is(err, signal.ErrNotFound) {
			t.Errorf("sku-sales/%s: %v, want ErrNotFound", sku, err)
		}
	}
	for id, want := range wantOrders {
		got, v, err := signal.Bind(f.svc, cart.OrderType).Get(ctx, id, signal.Fresh())
		if err != nil || v != 1 || !reflect.DeepEqual(got, want) {
			t.Errorf("order %s = %+v at %d (%v), want %+v at 1", id, got, v, err, want)
		}
	}
	for _, id := range []string{"c", "d"} {
		if _, err := f.svc.Get(ctx, cart.OrderTypeName, id, signal.Fresh()); !errors.Is(err, signal.ErrNotFound) {
			t.Errorf("order %s: %v, want ErrNotFound", id, err)
		}
	}
}

// allViews reads every document the session's views hold.
func allViews(t *testing.T, f *fixture) map[string]signal.View {
	t.Helper()
	out := map[string]signal.View{}
	for id := range wantSummaries {
		v, err := f.svc.View(context.Background(), cart.CartSummaryView, id)
		if err != nil {
			t.Fatal(err)
		}
		out[cart.CartSummaryView+"/"+id] = v
	}
	for sku := range wantSales {
		v, err := f.svc.View(context.Background(), cart.SKUSalesView, sku)
		if err != nil {
			t.Fatal(err)
		}
		out[cart.SKUSalesView+"/"+sku] = v
	}
	return out
}

// The projections on their own, event by event.
func TestCartSummaryProjection(t *testing.T) {
	signaltest.Projection(t, cart.CartSummaryProjection(), cart.Type).
		Given(cart.Type, "c1", cart.ItemAdded{SKU: "apple", Quantity: 2, Price: 150}).
		ThenView(cart.CartSummaryView, "c1", cart.CartSummary{CartID: "c1", Items: map[string]cart.Item{"apple": {2, 150}}, Total: 300, Status: cart.StatusOpen, Version: 1}).
		Given(cart.Type, "c1", cart.ItemRemoved{SKU: "apple", Quantity: 2}, cart.CartDiscarded{}).
		ThenView(cart.CartSummaryView, "c1", cart.CartSummary{CartID: "c1", Items: map[string]cart.Item{}, Total: 0, Status: cart.StatusDiscarded, Version: 3}).
		ThenNoView(cart.CartSummaryView, "c2")
}

func TestSKUSalesProjection(t *testing.T) {
	bought := func(lines ...cart.Line) cart.PurchaseCompleted {
		p := cart.PurchaseCompleted{Lines: lines}
		for _, l := range lines {
			p.Total += l.Quantity * l.Price
		}
		return p
	}
	signaltest.Projection(t, cart.SKUSalesProjection(), cart.Type).
		Given(cart.Type, "c1", cart.ItemAdded{SKU: "apple", Quantity: 2, Price: 150}).
		ThenNoView(cart.SKUSalesView, "apple"). // not a sale yet
		Given(cart.Type, "c1", bought(cart.Line{"apple", 2, 150}, cart.Line{"pear", 1, 300})).
		Given(cart.Type, "c2", bought(cart.Line{"apple", 1, 150})).
		ThenView(cart.SKUSalesView, "apple", cart.SKUSales{SKU: "apple", UnitsSold: 3, Revenue: 450, Purchases: 2}).
		ThenView(cart.SKUSalesView, "pear", cart.SKUSales{SKU: "pear", UnitsSold: 1, Revenue: 300, Purchases: 1})
}

func TestViewsAndPolicy(t *testing.T) {
	f := newFixture(t)
	session(t, f)
	checkViews(t, f)
	f.noWarnings(t)

	// The order's causation links back to the purchase.
	order := f.history(t, cart.OrderTypeName, "a")
	purchase := f.history(t, cart.TypeName, "a")[4]
	if len(order) != 1 || order[0].CausationID != purchase.ID || order[0].CorrelationID != purchase.CommandID {
		t.Errorf("order a's event %+v is not caused by the purchase %+v", order, purchase)
	}
}

// TestRedelivery feeds every commit of the change feed to Dispatch again:
// twice in order, then in reverse. Checkpoints make all of it a no-op:
// no view changes, no sale is counted twice, no second order opens.
func TestRedelivery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	session(t, f)
	commits := f.changes(t)
	before := allViews(t, f)

	reversed := slices.Clone(commits)
	slices.Reverse(reversed)
	for i, batch := range [][]signal.Commit{commits, commits, reversed} {
		if err := f.svc.Dispatch(ctx, batch); err != nil {
			t.Fatalf("dispatch %d: %v", i+1, err)
		}
	}
	if after := allViews(t, f); !reflect.DeepEqual(after, before) {
		t.Errorf("redelivery changed the views:\n%v\nwas\n%v", after, before)
	}
	if n := len(f.changes(t)); n != len(commits) {
		t.Errorf("redelivery appended %d commits", n-len(commits))
	}
	checkViews(t, f)

	// A second process with its own subscribers, over the same store,
	// redelivering everything: same answer.
	other := newFixtureOn(t, f.store, cart.Subscribers()...)
	if err := other.svc.Dispatch(ctx, reversed); err != nil {
		t.Fatal(err)
	}
	if after := allViews(t, f); !reflect.DeepEqual(after, before) {
		t.Errorf("another process's redelivery changed the views")
	}
	f.noWarnings(t)
	other.noWarnings(t)
}

// TestRebuild drops the views and rebuilds them from the change feed, in
// reverse order: the documents come back the same.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	session(t, f)
	commits := f.changes(t)
	slices.Reverse(commits)
	for _, name := range []string{cart.CartSummaryView, cart.SKUSalesView} {
		if err := f.store.DropView(ctx, name, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.View(ctx, cart.CartSummaryView, "a"); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("view after drop: %v", err)
	}
	if err := f.svc.Dispatch(ctx, commits); err != nil {
		t.Fatal(err)
	}
	checkViews(t, f)
	f.noWarnings(t)
}

// TestPolicyOpensOneOrder: a policy that missed its checkpoint (here, the
// same policy under another name, whose command ids differ) cannot open a
// second order: the order refuses, and the refusal is not retried.
func TestPolicyOpensOneOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	session(t, f)
	p := cart.OpenOrderPolicy()
	p.Name = "open-order-again"
	again := newFixtureOn(t, f.store, p)
	if err := again.svc.Dispatch(ctx, f.changes(t)); err != nil {
		t.Fatal(err)
	}
	for id := range wantOrders {
		if h := f.history(t, cart.OrderTypeName, id); len(h) != 1 {
			t.Errorf("order %s has %d events, want 1", id, len(h))
		}
	}
	if msgs := again.logs.messages(); len(msgs) != len(wantOrders) {
		t.Errorf("want one logged refusal per order, got %q", msgs)
	}
	checkViews(t, f)
}

// TestConcurrentPurchases: many carts holding the same sku are purchased
// at once. Their projections race on the shared sku-sales document; after
// a redelivery of the change feed (which heals any run that lost its
// races) every purchase is counted exactly once.
func TestConcurrentPurchases(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	f := newFixtureOn(t, st, cart.Subscribers()...)
	const carts = 24
	var wg sync.WaitGroup
	errs := make(chan error, carts)
	for i := range carts {
		wg.Go(func() {
			id := fmt.Sprintf("cart-%d", i)
			for _, cmd := range []any{
				cart.AddItem{SKU: "apple", Quantity: 1, Price: 150},
				cart.AddItem{SKU: "apple", Quantity: 1, Price: 150},
				cart.CompletePurchase{},
			} {
				if _, err := f.svc.Handle(ctx, cart.TypeName, id, cmd); err != nil {
					errs <- fmt.Errorf("%s %T: %w", id, cmd, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := f.svc.Dispatch(ctx, f.changes(t)); err != nil {
		t.Fatal(err)
	}
	got, _, err := signal.LoadView[cart.SKUSales](ctx, f.svc, cart.SKUSalesView, "apple")
	if want := (cart.SKUSales{SKU: "apple", UnitsSold: 2 * carts, Revenue: 300 * carts, Purchases: carts}); err != nil || got != want {
		t.Errorf("sku-sales/apple = %+v (%v), want %+v", got, err, want)
	}
	for i := range carts {
		id := fmt.Sprintf("cart-%d", i)
		if o, _, err := signal.Bind(f.svc, cart.OrderType).Get(ctx, id, signal.Fresh()); err != nil || o.Total != 300 {
			t.Errorf("order %s: %+v (%v)", id, o, err)
		}
	}
}
