package cart_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// securedFixture is the fixture's Service with the app's rule, as the
// functions and signal dev wire it.
func securedFixture(t *testing.T) *fixture {
	t.Helper()
	st, w := memstore.New(), &warnings{}
	cfg := cart.App().Config(st, true)
	cfg.InlineDispatch, cfg.Logger = true, slog.New(w)
	svc, err := signal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, svc: svc, logs: w}
}

func caller(subject string) context.Context {
	return signal.WithPrincipal(context.Background(), &signal.Principal{Subject: subject})
}

// TestOwnership: a cart belongs to the subject that created it, through
// commands, state, history, its summary and its order; sku-sales is
// open; a cart created anonymously belongs to nobody.
func TestOwnership(t *testing.T) {
	f := securedFixture(t)
	ann, bob := caller("ann"), caller("bob")
	apple := cart.AddItem{SKU: "apple", Quantity: 2, Price: 150}
	if _, err := f.svc.Handle(ann, cart.TypeName, "c1", apple); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Handle(ann, cart.TypeName, "c1", cart.CompletePurchase{}); err != nil {
		t.Fatal(err)
	}
	order, err := f.svc.Get(ann, cart.OrderTypeName, "c1")
	if err != nil || order.State.(cart.Order).Customer != "ann" {
		t.Fatalf("ann's order = %+v, %v; want it opened for ann", order, err)
	}
	before := storedCommits(t, f.store, "c1")
	for name, err := range refusals(f, bob, "c1") {
		if !errors.Is(err, signal.ErrForbidden) {
			t.Errorf("bob's %s = %v, want ErrForbidden", name, err)
		}
	}
	for name, err := range refusals(f, context.Background(), "c1") {
		if !errors.Is(err, signal.ErrUnauthenticated) {
			t.Errorf("an anonymous %s = %v, want ErrUnauthenticated", name, err)
		}
	}
	if after := storedCommits(t, f.store, "c1"); after != before {
		t.Errorf("refused commands wrote: %d commits, then %d", before, after)
	}
	if _, err := f.svc.View(bob, cart.SKUSalesView, "apple"); err != nil {
		t.Errorf("bob's read of sku-sales = %v, want it open", err)
	}
	if _, err := f.svc.Handle(context.Background(), cart.TypeName, "c2", apple); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Handle(bob, cart.TypeName, "c2", apple); err != nil {
		t.Errorf("bob adding to a cart created anonymously = %v, want it allowed (nobody's)", err)
	}
	f.noWarnings(t)
}

// refusals tries everything on cart id, and its order, as ctx's caller.
func refusals(f *fixture, ctx context.Context, id string) map[string]error {
	_, add := f.svc.Handle(ctx, cart.TypeName, id, cart.AddItem{SKU: "pear", Quantity: 1, Price: 90})
	_, get := f.svc.Get(ctx, cart.TypeName, id)
	_, hist := f.svc.History(ctx, cart.TypeName, id, 0, 10)
	_, sum := f.svc.View(ctx, cart.CartSummaryView, id)
	_, order := f.svc.Get(ctx, cart.OrderTypeName, id)
	return map[string]error{"AddItem": add, "Get": get, "History": hist, "cart-summary": sum, "order": order}
}

// storedCommits counts the commits of cart id in the store.
func storedCommits(t *testing.T, st *memstore.Store, id string) int {
	t.Helper()
	n := 0
	for _, err := range st.Load(t.Context(), signal.StreamID{Type: cart.TypeName, ID: id}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
