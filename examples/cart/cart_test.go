package cart_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

// endCart stands for Service.End (HTTP DELETE) in the tables.
type endCart struct{}

// scenario is the cart test kit's scenario on cart c1, wired as the
// functions wire the domain: both types and every subscriber.
func scenario(t *testing.T) *signaltest.Scenario[cart.Cart] {
	return signaltest.For(t, cart.Type, signaltest.ID("c1"),
		signaltest.WithTypes(cart.OrderType), signaltest.WithSubscribers(cart.Subscribers()...))
}

var (
	apple2 = cart.ItemAdded{SKU: "apple", Quantity: 2, Price: 150}
	pear1  = cart.ItemAdded{SKU: "pear", Quantity: 1, Price: 300}
)

// TestCartRules: given events, when a command, then events or an error.
func TestCartRules(t *testing.T) {
	sku64 := strings.Repeat("s", cart.MaxSKUBytes)
	var hundredSKUs []any
	for i := range cart.MaxLines {
		hundredSKUs = append(hundredSKUs, cart.ItemAdded{SKU: "sku" + strings.Repeat("x", i), Quantity: 1, Price: 1})
	}
	tests := []struct {
		name  string
		given []any
		when  any
		then  []any
		// errs must all match the error with errors.Is.
		errs  []error
		state *cart.Cart // the state afterwards, when given
	}{
		// AddItem
		{name: "first AddItem creates the cart",
			when:  cart.AddItem{SKU: "apple", Quantity: 2, Price: 150},
			then:  []any{apple2},
			state: &cart.Cart{Items: map[string]cart.Item{"apple": {Quantity: 2, Price: 150}}, Total: 300, Status: cart.StatusOpen}},
		{name: "AddItem of another sku adds a line",
			given: []any{apple2},
			when:  cart.AddItem{SKU: "pear", Quantity: 1, Price: 300},
			then:  []any{pear1},
			state: &cart.Cart{Items: map[string]cart.Item{"apple": {2, 150}, "pear": {1, 300}}, Total: 600, Status: cart.StatusOpen}},
		{name: "AddItem of a sku in the cart adds to its line",
			given: []any{apple2},
			when:  cart.AddItem{SKU: "apple", Quantity: 3, Price: 150},
			then:  []any{cart.ItemAdded{SKU: "apple", Quantity: 3, Price: 150}},
			state: &cart.Cart{Items: map[string]cart.Item{"apple": {5, 150}}, Total: 750, Status: cart.StatusOpen}},
		{name: "AddItem at price 0 is a free item",
			when: cart.AddItem{SKU: "sticker", Quantity: 1, Price: 0},
			then: []any{cart.ItemAdded{SKU: "sticker", Quantity: 1, Price: 0}}},
		{name: "AddItem at the bounds",
			when: cart.AddItem{SKU: sku64, Quantity: cart.MaxQuantity, Price: cart.MaxPrice},
			then: []any{cart.ItemAdded{SKU: sku64, Quantity: cart.MaxQuantity, Price: cart.MaxPrice}}},
		{name: "AddItem of a sku in the cart at another price",
			given: []any{apple2},
			when:  cart.AddItem{SKU: "apple", Quantity: 1, Price: 99},
			errs:  []error{signal.ErrRejected, cart.ErrPriceMismatch}},
		{name: "AddItem of quantity 0", when: cart.AddItem{SKU: "apple", Quantity: 0, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "AddItem of negative quantity", given: []any{apple2}, when: cart.AddItem{SKU: "apple", Quantity: -1, Price: 150},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "AddItem of too many units at once", when: cart.AddItem{SKU: "apple", Quantity: cart.MaxQuantity + 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "AddItem overfilling a line",
			given: []any{cart.ItemAdded{SKU: "apple", Quantity: cart.MaxQuantity - 1, Price: 150}},
			when:  cart.AddItem{SKU: "apple", Quantity: 2, Price: 150},
			errs:  []error{signal.ErrRejected, cart.ErrTooManyUnits}},
		{name: "AddItem of negative price", when: cart.AddItem{SKU: "apple", Quantity: 1, Price: -1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidPrice}},
		{name: "AddItem above the highest price", when: cart.AddItem{SKU: "apple", Quantity: 1, Price: cart.MaxPrice + 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidPrice}},
		{name: "AddItem without sku", when: cart.AddItem{Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "AddItem of a too long sku", when: cart.AddItem{SKU: sku64 + "s", Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "AddItem of a sku with a slash", when: cart.AddItem{SKU: "a/b", Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "AddItem of a sku with a hash", when: cart.AddItem{SKU: "a#b", Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "AddItem of a sku with a control character", when: cart.AddItem{SKU: "a\nb", Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "AddItem of a sku with surrounding spaces", when: cart.AddItem{SKU: " apple", Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "AddItem of one sku too many", given: hundredSKUs,
			when: cart.AddItem{SKU: "one-more", Quantity: 1, Price: 1},
			errs: []error{signal.ErrRejected, cart.ErrTooManyLines}},
		{name: "AddItem to a full cart's existing line", given: hundredSKUs,
			when: cart.AddItem{SKU: "sku", Quantity: 1, Price: 1},
			then: []any{cart.ItemAdded{SKU: "sku", Quantity: 1, Price: 1}}},

		// RemoveItem
		{name: "RemoveItem of some units",
			given: []any{apple2, pear1},
			when:  cart.RemoveItem{SKU: "apple", Quantity: 1},
			then:  []any{cart.ItemRemoved{SKU: "apple", Quantity: 1}},
			state: &cart.Cart{Items: map[string]cart.Item{"apple": {1, 150}, "pear": {1, 300}}, Total: 450, Status: cart.StatusOpen}},
		{name: "RemoveItem of every unit removes the line",
			given: []any{apple2, pear1},
			when:  cart.RemoveItem{SKU: "apple", Quantity: 2},
			then:  []any{cart.ItemRemoved{SKU: "apple", Quantity: 2}},
			state: &cart.Cart{Items: map[string]cart.Item{"pear": {1, 300}}, Total: 300, Status: cart.StatusOpen}},
		{name: "RemoveItem of more than the cart holds", given: []any{apple2},
			when: cart.RemoveItem{SKU: "apple", Quantity: 3},
			errs: []error{signal.ErrRejected, cart.ErrRemoveTooMany}},
		{name: "RemoveItem of a sku not in the cart", given: []any{apple2},
			when: cart.RemoveItem{SKU: "pear", Quantity: 1},
			errs: []error{signal.ErrRejected, cart.ErrNotInCart}},
		{name: "RemoveItem of a sku removed before", given: []any{apple2, cart.ItemRemoved{SKU: "apple", Quantity: 2}},
			when: cart.RemoveItem{SKU: "apple", Quantity: 1},
			errs: []error{signal.ErrRejected, cart.ErrNotInCart}},
		{name: "RemoveItem of quantity 0", given: []any{apple2},
			when: cart.RemoveItem{SKU: "apple", Quantity: 0},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "RemoveItem of negative quantity", given: []any{apple2},
			when: cart.RemoveItem{SKU: "apple", Quantity: -2},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "RemoveItem of an invalid sku", given: []any{apple2},
			when: cart.RemoveItem{SKU: "", Quantity: 1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
		{name: "RemoveItem on a missing cart", when: cart.RemoveItem{SKU: "apple", Quantity: 1},
			errs: []error{signal.ErrNotFound}},

		// CompletePurchase
		{name: "CompletePurchase lists the lines by sku with the total",
			given: []any{pear1, apple2},
			when:  cart.CompletePurchase{},
			then: []any{cart.PurchaseCompleted{Lines: []cart.Line{
				{SKU: "apple", Quantity: 2, Price: 150}, {SKU: "pear", Quantity: 1, Price: 300}}, Total: 600}},
			state: &cart.Cart{Items: map[string]cart.Item{"apple": {2, 150}, "pear": {1, 300}}, Total: 600, Status: cart.StatusPurchased}},
		{name: "CompletePurchase of an emptied cart", given: []any{apple2, cart.ItemRemoved{SKU: "apple", Quantity: 2}},
			when: cart.CompletePurchase{},
			errs: []error{signal.ErrRejected, cart.ErrEmptyCart}},
		{name: "CompletePurchase on a missing cart", when: cart.CompletePurchase{},
			errs: []error{signal.ErrNotFound}},

		// After the end of the cart's life nothing changes.
		{name: "AddItem after purchase",
			given: []any{apple2, cart.PurchaseCompleted{Lines: []cart.Line{{"apple", 2, 150}}, Total: 300}},
			when:  cart.AddItem{SKU: "apple", Quantity: 1, Price: 150},
			errs:  []error{signal.ErrClosed}},
		{name: "RemoveItem after purchase",
			given: []any{apple2, cart.PurchaseCompleted{Lines: []cart.Line{{"apple", 2, 150}}, Total: 300}},
			when:  cart.RemoveItem{SKU: "apple", Quantity: 1},
			errs:  []error{signal.ErrClosed}},
		{name: "CompletePurchase after purchase",
			given: []any{apple2, cart.PurchaseCompleted{Lines: []cart.Line{{"apple", 2, 150}}, Total: 300}},
			when:  cart.CompletePurchase{},
			errs:  []error{signal.ErrClosed}},
		{name: "AddItem after discard", given: []any{apple2, cart.CartDiscarded{}},
			when: cart.AddItem{SKU: "apple", Quantity: 1, Price: 150},
			errs: []error{signal.ErrClosed}},
		{name: "CompletePurchase after discard", given: []any{apple2, cart.CartDiscarded{}},
			when: cart.CompletePurchase{},
			errs: []error{signal.ErrClosed}},

		// End (HTTP DELETE)
		{name: "End discards an open cart", given: []any{apple2},
			when:  endCart{},
			then:  []any{cart.CartDiscarded{}},
			state: &cart.Cart{Items: map[string]cart.Item{"apple": {2, 150}}, Total: 300, Status: cart.StatusDiscarded}},
		{name: "End discards an emptied cart", given: []any{apple2, cart.ItemRemoved{SKU: "apple", Quantity: 2}},
			when:  endCart{},
			then:  []any{cart.CartDiscarded{}},
			state: &cart.Cart{Items: map[string]cart.Item{}, Total: 0, Status: cart.StatusDiscarded}},
		{name: "End of a purchased cart",
			given: []any{apple2, cart.PurchaseCompleted{Lines: []cart.Line{{"apple", 2, 150}}, Total: 300}},
			when:  endCart{},
			errs:  []error{signal.ErrClosed}},
		{name: "End of a discarded cart", given: []any{apple2, cart.CartDiscarded{}},
			when: endCart{},
			errs: []error{signal.ErrClosed}},
		{name: "End of a missing cart", when: endCart{},
			errs: []error{signal.ErrNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario(t).Given(tt.given...)
			if _, ok := tt.when.(endCart); ok {
				s.WhenEnd()
			} else {
				s.When(tt.when)
			}
			if tt.errs != nil {
				for _, want := range tt.errs {
					s.ThenError(want)
				}
				if len(tt.errs) > 1 {
					// The domain's message reaches clients as it is.
					if msg := signal.PublicMessage(s.Err()); !strings.Contains(msg, tt.errs[1].Error()) {
						t.Errorf("public message %q, want it to hold %q", msg, tt.errs[1])
					}
				}
				return
			}
			s.Then(tt.then...)
			if want := len(tt.given) == 0; s.Result().Created != want {
				t.Errorf("Created = %v, want %v", s.Result().Created, want)
			}
			if tt.state != nil {
				// Also checks that a cold Service folds the stored events to it.
				s.ThenState(*tt.state)
			}
		})
	}
}

func TestGenesis(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	carts := signal.Bind(f.svc, cart.Type)
	add := cart.AddItem{SKU: "apple", Quantity: 1, Price: 150}

	_, res, err := carts.Handle(ctx, "c1", add)
	if err != nil || !res.Created || res.Version != 1 {
		t.Fatalf("first AddItem: created=%v version=%d err=%v, want created at 1", res.Created, res.Version, err)
	}
	_, res, err = carts.Handle(ctx, "c1", add)
	if err != nil || res.Created || res.Version != 2 {
		t.Fatalf("second AddItem: created=%v version=%d err=%v, want not created, at 2", res.Created, res.Version, err)
	}

	// A refused genesis command creates nothing.
	if _, err := f.svc.Handle(ctx, cart.TypeName, "c2", cart.AddItem{SKU: "apple"}); !errors.Is(err, cart.ErrInvalidQuantity) {
		t.Fatalf("invalid first AddItem: %v", err)
	}
	if _, err := f.svc.Get(ctx, cart.TypeName, "c2"); !errors.Is(err, signal.ErrNotFound) {
		t.Fatalf("Get after a refused genesis: %v, want ErrNotFound", err)
	}

	// Create insists on a new cart and on a genesis command.
	if _, err := f.svc.Create(ctx, cart.TypeName, "c1", add); !errors.Is(err, signal.ErrExists) {
		t.Errorf("Create of an existing cart: %v, want ErrExists", err)
	}
	if _, err := f.svc.Create(ctx, cart.TypeName, "c3", cart.CompletePurchase{}); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("Create with CompletePurchase: %v, want ErrInvalid", err)
	}
	if res, err := f.svc.Create(ctx, cart.TypeName, "c3", add); err != nil || !res.Created {
		t.Errorf("Create with AddItem: created=%v err=%v", res.Created, err)
	}
	f.noWarnings(t)
}

// TestNames pins the names and marks the HTTP API, the web page and every
// stored history rely on: renaming an event breaks every stored history.
func TestNames(t *testing.T) {
	type mark struct {
		name              string
		genesis, internal bool
	}
	commands := func(cs []signal.CommandInfo) (out []mark) {
		for _, c := range cs {
			out = append(out, mark{c.Name, c.Genesis, c.Internal})
		}
		return out
	}
	events := func(es []signal.EventInfo) (out []string) {
		for _, e := range es {
			name := e.Name
			if e.Terminal {
				name += " (terminal)"
			}
			out = append(out, name)
		}
		return out
	}
	if got, want := commands(cart.Type.Commands()), []mark{{"AddItem", true, false}, {"RemoveItem", false, false}, {"CompletePurchase", false, false}}; !slices.Equal(got, want) {
		t.Errorf("cart commands %v, want %v", got, want)
	}
	if got, want := commands(cart.OrderType.Commands()), []mark{{"OpenOrder", true, true}}; !slices.Equal(got, want) {
		t.Errorf("order commands %v, want %v", got, want)
	}
	if got, want := events(cart.Type.Events()), []string{"ItemAdded", "ItemRemoved", "PurchaseCompleted (terminal)", "CartDiscarded (terminal)"}; !slices.Equal(got, want) {
		t.Errorf("cart events %v, want %v", got, want)
	}
	if got, want := events(cart.OrderType.Events()), []string{"OrderOpened"}; !slices.Equal(got, want) {
		t.Errorf("order events %v, want %v", got, want)
	}
}

// TestForgedOrder: OpenOrder is internal, so a client cannot open an
// order ahead of the purchase (with a total of 0, say) and make the
// policy's real OpenOrder fail as "already open".
func TestForgedOrder(t *testing.T) {
	lines := `{"lines":[{"sku":"apple","quantity":1,"price":0}],"total":0}`
	signaltest.For(t, cart.OrderType, signaltest.ID("c1")).
		WhenJSON("OpenOrder", lines).
		ThenError(signal.ErrForbidden).
		WhenJSON("OpenOrder", `{"lines":`). // refused before the body is read
		ThenError(signal.KindForbidden)

	s := scenario(t).
		When(cart.AddItem{SKU: "apple", Quantity: 1, Price: 150}).
		When(cart.CompletePurchase{})
	o, v, err := signal.Bind(s.Service(), cart.OrderType).Get(t.Context(), "c1")
	if want := (cart.Order{CartID: "c1", Lines: []cart.Line{{"apple", 1, 150}}, Total: 150, Status: cart.OrderStatusOpen}); err != nil || v != 1 || !reflect.DeepEqual(o, want) {
		t.Errorf("the policy's order: %+v at %d (%v), want %+v at 1", o, v, err, want)
	}
}

// TestHTTPShapes pins the JSON shapes the HTTP API and the web page rely on.
func TestHTTPShapes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	res, err := f.svc.HandleJSON(ctx, "cart", "c1", "AddItem", []byte(`{"sku":"apple","quantity":2,"price":150}`))
	if err != nil || !res.Created {
		t.Fatalf("HandleJSON AddItem: %v", err)
	}
	if _, err := f.svc.HandleJSON(ctx, "cart", "c1", "RemoveItem", []byte(`{"sku":"apple","quantity":1}`)); err != nil {
		t.Fatalf("HandleJSON RemoveItem: %v", err)
	}
	if _, err := f.svc.HandleJSON(ctx, "cart", "c1", "AddItem", []byte(`{"sku":"apple","quantity":1.5,"price":150}`)); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("fractional quantity: %v, want ErrInvalid", err)
	}
	st, err := f.svc.Get(ctx, "cart", "c1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st.State)
	if want := `{"items":{"apple":{"quantity":1,"price":150}},"total":150,"status":"open"}`; string(b) != want {
		t.Errorf("state JSON %s, want %s", b, want)
	}
	res, err = f.svc.HandleJSON(ctx, "cart", "c1", "CompletePurchase", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(res.Events[0].Data)
	if want := `{"lines":[{"sku":"apple","quantity":1,"price":150}],"total":150}`; string(b) != want {
		t.Errorf("PurchaseCompleted JSON %s, want %s", b, want)
	}
	o, err := f.svc.Get(ctx, "order", "c1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(o.State)
	if want := `{"cartId":"c1","lines":[{"sku":"apple","quantity":1,"price":150}],"total":150,"status":"open"}`; string(b) != want {
		t.Errorf("order JSON %s, want %s", b, want)
	}
	f.noWarnings(t)
}

// TestStateAtAndHistory: the state after several commands, at each
// earlier version, and the history in pages.
func TestStateAtAndHistory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cmds := []any{
		cart.AddItem{SKU: "apple", Quantity: 2, Price: 150},
		cart.AddItem{SKU: "pear", Quantity: 1, Price: 300},
		cart.RemoveItem{SKU: "apple", Quantity: 1},
		cart.AddItem{SKU: "kiwi", Quantity: 4, Price: 25},
		cart.RemoveItem{SKU: "pear", Quantity: 1},
	}
	want := []cart.Cart{
		{Items: map[string]cart.Item{"apple": {2, 150}}, Total: 300, Status: cart.StatusOpen},
		{Items: map[string]cart.Item{"apple": {2, 150}, "pear": {1, 300}}, Total: 600, Status: cart.StatusOpen},
		{Items: map[string]cart.Item{"apple": {1, 150}, "pear": {1, 300}}, Total: 450, Status: cart.StatusOpen},
		{Items: map[string]cart.Item{"apple": {1, 150}, "pear": {1, 300}, "kiwi": {4, 25}}, Total: 550, Status: cart.StatusOpen},
		{Items: map[string]cart.Item{"apple": {1, 150}, "kiwi": {4, 25}}, Total: 250, Status: cart.StatusOpen},
	}
	carts := signal.Bind(f.svc, cart.Type)
	for i, c := range cmds {
		got, res, err := carts.Handle(ctx, "c1", c)
		if err != nil {
			t.Fatalf("command %d: %v", i+1, err)
		}
		if res.Version != int64(i+1) || !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("after command %d: %+v at %d, want %+v at %d", i+1, got, res.Version, want[i], i+1)
		}
	}
	got, v, err := carts.Get(ctx, "c1")
	if err != nil || v != 5 || !reflect.DeepEqual(got, want[4]) {
		t.Fatalf("Get: %+v at %d (%v)", got, v, err)
	}
	for v := int64(1); v <= 5; v++ {
		got, err := carts.At(ctx, "c1", v)
		if err != nil || !reflect.DeepEqual(got, want[v-1]) {
			t.Errorf("At(%d) = %+v (%v), want %+v", v, got, err, want[v-1])
		}
	}
	if _, err := f.svc.At(ctx, cart.TypeName, "c1", 6); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("At(6): %v, want ErrNotFound", err)
	}
	if _, err := f.svc.At(ctx, cart.TypeName, "c1", 0); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("At(0): %v, want ErrInvalid", err)
	}

	wantNames := []string{"ItemAdded", "ItemAdded", "ItemRemoved", "ItemAdded", "ItemRemoved"}
	var names []string
	var pages [][]int64
	for after := int64(0); ; {
		p, err := f.svc.History(ctx, cart.TypeName, "c1", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		var vs []int64
		for _, e := range p.Events {
			vs = append(vs, e.Version)
			names = append(names, e.Name)
			if e.AggregateType != "cart" || e.AggregateID != "c1" || e.SchemaVersion != 1 || e.ID == "" || e.CommandID == "" {
				t.Errorf("event %d metadata: %+v", e.Version, e)
			}
		}
		pages = append(pages, vs)
		if p.Next == 0 {
			break
		}
		after = p.Next
	}
	if !reflect.DeepEqual(pages, [][]int64{{1, 2}, {3, 4}, {5}}) || !slices.Equal(names, wantNames) {
		t.Errorf("history pages %v names %v, want [[1 2] [3 4] [5]] %v", pages, names, wantNames)
	}
	if p, err := carts.History(ctx, "c1", 1, 10); err != nil || len(p.Events) != 4 || p.Events[0].Data != (cart.ItemAdded{SKU: "pear", Quantity: 1, Price: 300}) {
		t.Errorf("History after 1: %+v (%v)", p.Events, err)
	}
	if _, err := f.svc.History(ctx, cart.TypeName, "nope", 0, 10); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("History of a missing cart: %v, want ErrNotFound", err)
	}
}

// TestClosure walks a cart's life end to end through the Service.
func TestClosure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	add := cart.AddItem{SKU: "apple", Quantity: 1, Price: 150}

	// Purchase ends it.
	if _, err := f.svc.Handle(ctx, cart.TypeName, "bought", add); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Handle(ctx, cart.TypeName, "bought", cart.CompletePurchase{}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []any{add, cart.RemoveItem{SKU: "apple", Quantity: 1}, cart.CompletePurchase{}} {
		if _, err := f.svc.Handle(ctx, cart.TypeName, "bought", cmd); !errors.Is(err, signal.ErrClosed) {
			t.Errorf("%T after purchase: %v, want ErrClosed", cmd, err)
		}
	}
	if _, err := f.svc.End(ctx, cart.TypeName, "bought"); !errors.Is(err, signal.ErrClosed) {
		t.Errorf("End after purchase: %v, want ErrClosed", err)
	}

	// End (DELETE) discards an open cart.
	if _, err := f.svc.Handle(ctx, cart.TypeName, "dropped", add); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.End(ctx, cart.TypeName, "dropped")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Name != "CartDiscarded" || res.Events[0].Data != (cart.CartDiscarded{}) {
		t.Errorf("End appended %+v, want one CartDiscarded", res.Events)
	}
	for _, cmd := range []any{add, cart.CompletePurchase{}} {
		if _, err := f.svc.Handle(ctx, cart.TypeName, "dropped", cmd); !errors.Is(err, signal.ErrClosed) {
			t.Errorf("%T after discard: %v, want ErrClosed", cmd, err)
		}
	}
	if _, err := f.svc.End(ctx, cart.TypeName, "dropped"); !errors.Is(err, signal.ErrClosed) {
		t.Errorf("second End: %v, want ErrClosed", err)
	}

	// Both stay readable, and say they are closed.
	for id, status := range map[string]string{"bought": cart.StatusPurchased, "dropped": cart.StatusDiscarded} {
		st, err := f.svc.Get(ctx, cart.TypeName, id)
		if err != nil || !st.Closed || st.State.(cart.Cart).Status != status || st.Version != 2 {
			t.Errorf("Get %s: %+v (%v), want closed, %s, at 2", id, st, err, status)
		}
	}
	// No order for a discarded cart.
	if _, err := f.svc.Get(ctx, cart.OrderTypeName, "dropped"); !errors.Is(err, signal.ErrNotFound) {
		t.Errorf("order of a discarded cart: %v, want ErrNotFound", err)
	}
	f.noWarnings(t)
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	add := cart.AddItem{SKU: "apple", Quantity: 2, Price: 150}

	first, err := f.svc.Handle(ctx, cart.TypeName, "c1", add, signal.WithCommandID("key-1"))
	if err != nil || first.Duplicate || !first.Created {
		t.Fatalf("first: %+v (%v)", first, err)
	}
	second, err := f.svc.Handle(ctx, cart.TypeName, "c1", add, signal.WithCommandID("key-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || second.Version != 1 || !reflect.DeepEqual(second.State, first.State) {
		t.Errorf("second: %+v, want a duplicate of %+v", second, first)
	}
	if len(second.Events) != 1 || second.Events[0].ID != first.Events[0].ID || second.Events[0].Data != (cart.ItemAdded{SKU: "apple", Quantity: 2, Price: 150}) {
		t.Errorf("the duplicate answered with events %+v, want the original %+v", second.Events, first.Events)
	}

	// Another process (a cold Service) recognises the key from the log.
	cold := newFixtureOn(t, f.store, cart.Subscribers()...)
	third, err := cold.svc.Handle(ctx, cart.TypeName, "c1", add, signal.WithCommandID("key-1"))
	if err != nil || !third.Duplicate || third.Version != 1 {
		t.Errorf("cold retry: %+v (%v), want a duplicate at 1", third, err)
	}

	// The same for the terminal command: the retry is not ErrClosed, and
	// the purchase is counted once.
	buy := func(svc *signal.Service) signal.Result {
		r, err := svc.Handle(ctx, cart.TypeName, "c1", cart.CompletePurchase{}, signal.WithCommandID("buy-1"))
		if err != nil {
			t.Fatalf("CompletePurchase: %v", err)
		}
		return r
	}
	if r := buy(f.svc); r.Duplicate {
		t.Errorf("first purchase is a duplicate")
	}
	if r := buy(f.svc); !r.Duplicate || r.Version != 2 {
		t.Errorf("repeated purchase: %+v, want a duplicate at 2", r)
	}
	if r := buy(cold.svc); !r.Duplicate {
		t.Errorf("repeated purchase on a cold service is not a duplicate")
	}

	if n := len(f.changes(t)); n != 3 { // ItemAdded, PurchaseCompleted, OrderOpened
		t.Errorf("%d commits in the store, want 3", n)
	}
	if h := f.history(t, cart.TypeName, "c1"); len(h) != 2 {
		t.Errorf("cart history has %d events, want 2", len(h))
	}
	sales, _, err := signal.LoadView[cart.SKUSales](ctx, f.svc, cart.SKUSalesView, "apple")
	if err != nil || sales != (cart.SKUSales{SKU: "apple", UnitsSold: 2, Revenue: 300, Purchases: 1}) {
		t.Errorf("sku-sales apple: %+v (%v)", sales, err)
	}
	f.noWarnings(t)
	cold.noWarnings(t)
}

// TestSnapshots: a long cart is snapshotted every 100 versions, and a cold
// Service loads it from the snapshot to the same state.
func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const n = 150
	for i := range n {
		if _, err := f.svc.Handle(ctx, cart.TypeName, "long", cart.AddItem{SKU: "apple", Quantity: 1, Price: 10}); err != nil {
			t.Fatalf("command %d: %v", i+1, err)
		}
	}
	if c := f.store.Counts(); c.SnapshotSaves != 1 {
		t.Errorf("%d snapshots saved, want 1", c.SnapshotSaves)
	}
	at := func(v int64) cart.Cart {
		return cart.Cart{Items: map[string]cart.Item{"apple": {v, 10}}, Total: 10 * v, Status: cart.StatusOpen}
	}
	cold := newFixtureOn(t, f.store, cart.Subscribers()...)
	carts := signal.Bind(cold.svc, cart.Type)
	got, v, err := carts.Get(ctx, "long")
	if err != nil || v != n || !reflect.DeepEqual(got, at(n)) {
		t.Fatalf("cold Get: %+v at %d (%v), want %+v", got, v, err, at(n))
	}
	for _, v := range []int64{1, 99, 100, 101, 149} {
		if got, err := carts.At(ctx, "long", v); err != nil || !reflect.DeepEqual(got, at(v)) {
			t.Errorf("At(%d) = %+v (%v), want %+v", v, got, err, at(v))
		}
	}
	if _, err := cold.svc.Handle(ctx, cart.TypeName, "long", cart.CompletePurchase{}); err != nil {
		t.Fatal(err)
	}
	sales, _, err := signal.LoadView[cart.SKUSales](ctx, cold.svc, cart.SKUSalesView, "apple")
	if err != nil || sales != (cart.SKUSales{SKU: "apple", UnitsSold: n, Revenue: 10 * n, Purchases: 1}) {
		t.Errorf("sku-sales apple: %+v (%v)", sales, err)
	}
}

// TestEvolveDoesNotMutate folds events into a state and checks that the
// state given, which the core may be handing to a reader, is unchanged.
func TestEvolveDoesNotMutate(t *testing.T) {
	base := cart.Type.Fold(cart.Type.Initial("c1"), apple2, pear1)
	want := deepCopy(t, base)
	events := []any{
		cart.ItemAdded{SKU: "apple", Quantity: 1, Price: 150},
		cart.ItemAdded{SKU: "kiwi", Quantity: 1, Price: 20},
		cart.ItemRemoved{SKU: "apple", Quantity: 1},
		cart.ItemRemoved{SKU: "pear", Quantity: 1},
		cart.PurchaseCompleted{Lines: base.Lines(), Total: base.Total},
		cart.CartDiscarded{},
	}
	for _, e := range events {
		next := cart.Type.Fold(base, e)
		if !reflect.DeepEqual(base, want) {
			t.Fatalf("folding %#v changed the input to %+v, was %+v", e, base, want)
		}
		if reflect.DeepEqual(next, base) {
			t.Errorf("folding %#v changed nothing", e)
		}
	}

	// The order's state shares no slice with the event it was folded from.
	lines := []cart.Line{{SKU: "apple", Quantity: 1, Price: 150}}
	o := cart.OrderType.Fold(cart.OrderType.Initial("c1"), cart.OrderOpened{Lines: lines, Total: 150})
	lines[0].Quantity = 99
	if o.Lines[0].Quantity != 1 {
		t.Errorf("the order's state aliases its event's lines")
	}
}

func deepCopy(t *testing.T, c cart.Cart) cart.Cart {
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out cart.Cart
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
