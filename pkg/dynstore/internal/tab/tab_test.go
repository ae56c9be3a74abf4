package tab_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/signalforgo/signal/pkg/dynstore/internal/tab"
	"github.com/signalforgo/signal/pkg/memstore"
	"github.com/signalforgo/signal/pkg/signal"
)

func newService(t *testing.T) *signal.Service {
	t.Helper()
	svc, err := signal.New(signal.Config{Store: memstore.New(), Types: tab.Types(), Subscribers: tab.Subscribers(), InlineDispatch: true})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestTabRules checks what the store's tests rely on: the first order
// opens the tab, one event per command, refusals for what is not on the
// tab or an empty tab, payment and void end the tab.
func TestTabRules(t *testing.T) {
	ctx := t.Context()
	svc := newService(t)
	if _, err := svc.Handle(ctx, tab.TypeName, "t1", tab.Pay{}); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("pay before the first order: %v, want not found", err)
	}
	r, err := svc.Handle(ctx, tab.TypeName, "t1", tab.OrderItem{Item: "ale", Quantity: 2, Price: 450})
	if err != nil || !r.Created || r.Version != 1 || len(r.Events) != 1 {
		t.Fatalf("first order: %+v %v", r, err)
	}
	cases := []struct {
		name string
		cmd  any
		want error
	}{
		{"not on the tab", tab.CancelItem{Item: "gin", Quantity: 1}, tab.ErrNotOnTab},
		{"cancel too many", tab.CancelItem{Item: "ale", Quantity: 3}, tab.ErrCancelTooMany},
		{"another price", tab.OrderItem{Item: "ale", Quantity: 1, Price: 500}, tab.ErrPriceMismatch},
		{"negative quantity", tab.OrderItem{Item: "ale", Quantity: -1, Price: 450}, tab.ErrInvalidQuantity},
		{"item with #", tab.OrderItem{Item: "a#b", Quantity: 1, Price: 450}, tab.ErrInvalidItem},
	}
	for _, c := range cases {
		if _, err := svc.Handle(ctx, tab.TypeName, "t1", c.cmd); !errors.Is(err, signal.ErrRejected) || !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := svc.Handle(ctx, tab.TypeName, "t1", tab.CancelItem{Item: "ale", Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Handle(ctx, tab.TypeName, "t1", tab.Pay{}); !errors.Is(err, tab.ErrEmptyTab) {
		t.Fatalf("pay an empty tab: %v, want ErrEmptyTab", err)
	}
	if _, err := svc.End(ctx, tab.TypeName, "t1"); err != nil {
		t.Fatal(err)
	}
	s, err := svc.Get(ctx, tab.TypeName, "t1")
	if err != nil || s.Version != 3 || s.State.(tab.Tab).Status != tab.StatusVoided {
		t.Fatalf("voided tab: %+v %v", s, err)
	}
	if _, err := svc.Handle(ctx, tab.TypeName, "t1", tab.OrderItem{Item: "ale", Quantity: 1, Price: 450}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("order on a voided tab: %v, want closed", err)
	}
}

// TestPaymentFeedsViewsAndReceipt: a payment issues one receipt and is
// counted once per item; the summary follows every event.
func TestPaymentFeedsViewsAndReceipt(t *testing.T) {
	ctx := t.Context()
	svc := newService(t)
	for _, cmd := range []any{
		tab.OrderItem{Item: "ale", Quantity: 2, Price: 450},
		tab.OrderItem{Item: "gin", Quantity: 1, Price: 800},
		tab.Pay{},
	} {
		if _, err := svc.Handle(ctx, tab.TypeName, "t1", cmd); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Handle(ctx, tab.TypeName, "t1", tab.Pay{}); !errors.Is(err, signal.ErrClosed) {
		t.Fatalf("second payment: %v, want closed", err)
	}
	rc, err := svc.Get(ctx, tab.ReceiptTypeName, "t1")
	if r, ok := rc.State.(tab.Receipt); err != nil || !ok || rc.Version != 1 || r.Total != 1700 || r.TabID != "t1" || len(r.Lines) != 2 {
		t.Fatalf("receipt: %+v %v", rc, err)
	}
	var sum tab.TabSummary
	if v, err := svc.View(ctx, tab.TabSummaryView, "t1"); err != nil || json.Unmarshal(v.Data, &sum) != nil {
		t.Fatalf("summary: %s %v", v.Data, err)
	}
	if sum.Version != 3 || sum.Status != tab.StatusPaid || sum.Total != 1700 || sum.Items["ale"].Quantity != 2 {
		t.Fatalf("summary %+v", sum)
	}
	var sales tab.ItemSales
	if v, err := svc.View(ctx, tab.ItemSalesView, "ale"); err != nil || json.Unmarshal(v.Data, &sales) != nil {
		t.Fatalf("item-sales: %s %v", v.Data, err)
	}
	if sales != (tab.ItemSales{Item: "ale", UnitsSold: 2, Revenue: 900, Payments: 1}) {
		t.Fatalf("item-sales %+v", sales)
	}
}
