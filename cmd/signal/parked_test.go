package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/boltstore"
	"github.com/signalforgo/signal/pkg/signal"
)

// TestParked: a rebuild over a stream its projection cannot process
// parks it and says so; `signal parked` lists it with its error; a replay
// of a parked stream whose cause is gone brings it up to date, one whose
// cause stays fails again and stays parked.
func TestParked(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	st, err := boltstore.Open(filepath.Join(dir, "signal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signal.New(signal.Config{Store: st, Types: cart.Types()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := signal.Bind(svc, cart.Type).Handle(ctx, "ok", cart.AddItem{SKU: "apple", Quantity: 2, Price: 50}); err != nil {
		t.Fatal(err)
	}
	// Written by a deployment that knows an event this one does not.
	poison := signal.Commit{Stream: signal.StreamID{Type: "cart", ID: "bad"}, Version: 1, CommandID: "p", Time: time.Now().UTC(),
		Events: []signal.RawEvent{{ID: "e-p", Name: "ItemTeleported", SchemaVersion: 1, Data: []byte(`{}`)}}}
	if err := st.Append(ctx, poison); err != nil {
		t.Fatal(err)
	}
	// cart-summary on "ok" was parked earlier for a cause now fixed.
	if err := st.RecordFailure(ctx, signal.Failure{Subscriber: cart.CartSummaryView, Stream: signal.StreamID{Type: "cart", ID: "ok"},
		Version: 1, Attempts: 3, Parked: true, Error: "view store was full", Time: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// cli runs "signal <words> -data dir <args>".
	cli := func(words string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		argv := append(append(strings.Fields(words), "-data", dir), args...)
		code := run(context.Background(), argv, &out, &errOut, env(nil))
		return code, out.String() + errOut.String()
	}

	code, out := cli("rebuild", cart.SKUSalesView)
	if code != 1 || !strings.Contains(out, "rebuilt view sku-sales from 2 commits") || !strings.Contains(out, "1 stream(s) of view sku-sales are parked") {
		t.Fatalf("rebuild over a poison commit: exit %d\n%s", code, out)
	}
	code, out = cli("parked")
	for _, want := range []string{"sku-sales", "cart#bad", "ItemTeleported", "cart-summary", "cart#ok", "view store was full", "parked"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("signal parked: exit %d, no %q in\n%s", code, want, out)
		}
	}

	code, out = cli("parked replay", cart.CartSummaryView, "cart", "ok")
	if code != 0 || !strings.Contains(out, "cart-summary on cart#ok: replayed, now at version 1") {
		t.Fatalf("replay of a fixed subscriber: exit %d\n%s", code, out)
	}
	code, out = cli("parked replay")
	if code != 1 || !strings.Contains(out, "sku-sales on cart#bad: failed again, still parked") || !strings.Contains(out, "1 of 1 replays failed") {
		t.Fatalf("replay of everything parked: exit %d\n%s", code, out)
	}
	code, out = cli("parked")
	if code != 0 || strings.Contains(out, "cart#ok") || !strings.Contains(out, "cart#bad") {
		t.Fatalf("signal parked after the replays: exit %d\n%s", code, out)
	}
	if code, out = cli("parked replay", "no-such", "cart", "ok"); code != 2 || !strings.Contains(out, "no subscriber") {
		t.Fatalf("replay of an unknown subscriber: exit %d\n%s", code, out)
	}
	if code, out = cli("parked replay", "cart-summary"); code != 2 || !strings.Contains(out, "<subscriber> <type> <id>") {
		t.Fatalf("replay with one argument: exit %d\n%s", code, out)
	}

	// The replayed view is the cart's.
	st, err = boltstore.Open(filepath.Join(dir, "signal.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.LoadView(ctx, cart.CartSummaryView, "ok")
	if err != nil || !strings.Contains(string(v.Data), `"apple"`) {
		t.Fatalf("cart-summary/ok after the replay: %s %v", v.Data, err)
	}
}
