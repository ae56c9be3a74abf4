package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/cli"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// step is one scripted command of the demo.
type step struct {
	id      string
	command string
	body    string
}

var script = []step{
	{"cart-1", "AddItem", `{"sku":"apple","quantity":3,"price":50}`},
	{"cart-1", "AddItem", `{"sku":"pear","quantity":2,"price":75}`},
	{"cart-1", "RemoveItem", `{"sku":"apple","quantity":1}`},
	{"cart-1", "RemoveItem", `{"sku":"pear","quantity":5}`}, // refused: more than in the cart
	{"cart-1", "CompletePurchase", `{}`},
	{"cart-1", "AddItem", `{"sku":"apple","quantity":1,"price":50}`}, // refused: the cart is closed
	{"cart-2", "CompletePurchase", `{}`},                             // refused: no such cart
	{"cart-2", "AddItem", `{"sku":"apple","quantity":4,"price":50}`},
	{"cart-2", "CompletePurchase", `{}`},
}

// demo runs the cart example in-process and prints what it did. It takes
// no arguments.
func demo(ctx context.Context, env cli.Env, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: demo takes no arguments, got %d", cli.ErrUsage, len(args))
	}
	out := env.Stdout
	cfg := env.App.Config(memstore.New(), true)
	cfg.InlineDispatch, cfg.Logger = true, env.Logger
	svc, err := signal.New(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "signal demo: the cart example, in-process on the in-memory store")
	for _, s := range script {
		fmt.Fprintf(out, "\nPOST /aggregates/cart/%s/%s %s\n", s.id, s.command, s.body)
		r, err := svc.HandleJSON(ctx, cart.TypeName, s.id, s.command, []byte(s.body))
		if err != nil {
			fmt.Fprintf(out, "  refused (%s): %s\n", signal.KindOf(err), signal.PublicMessage(err))
			continue
		}
		for _, ev := range r.Events {
			fmt.Fprintf(out, "  v%d %s %s\n", ev.Version, ev.Name, mustJSON(ev.Data))
		}
		fmt.Fprintf(out, "  state %s\n", mustJSON(r.State))
	}

	fmt.Fprintln(out, "\nviews:")
	for _, v := range []struct{ name, key string }{
		{cart.CartSummaryView, "cart-1"}, {cart.CartSummaryView, "cart-2"},
		{cart.SKUSalesView, "apple"}, {cart.SKUSalesView, "pear"},
	} {
		doc, err := svc.View(ctx, v.name, v.key)
		if err != nil {
			return fmt.Errorf("view %s/%s: %w", v.name, v.key, err)
		}
		fmt.Fprintf(out, "  %s/%s %s\n", v.name, v.key, doc.Data)
	}

	fmt.Fprintln(out, "\norders opened by the policy:")
	for _, id := range []string{"cart-1", "cart-2"} {
		st, err := svc.Get(ctx, cart.OrderTypeName, id)
		if err != nil {
			return fmt.Errorf("order %s: %w", id, err)
		}
		fmt.Fprintf(out, "  order/%s v%d %s\n", id, st.Version, mustJSON(st.State))
	}

	fmt.Fprintln(out, "\ntime travel, cart-1:")
	for v := int64(1); v <= 4; v++ {
		st, err := svc.At(ctx, cart.TypeName, "cart-1", v)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  at v%d %s\n", v, mustJSON(st.State))
	}
	fmt.Fprintf(out, "\nstats: %+v\n", svc.Stats())
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}
