package cart_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/signal"
)

func TestOrderRules(t *testing.T) {
	apple := cart.Line{SKU: "apple", Quantity: 2, Price: 150}
	pear := cart.Line{SKU: "pear", Quantity: 1, Price: 300}
	opened := cart.OrderOpened{CartID: "o1", Lines: []cart.Line{apple, pear}, Total: 600}
	var tooMany []cart.Line
	for i := range cart.MaxLines + 1 {
		tooMany = append(tooMany, cart.Line{SKU: "s" + strings.Repeat("x", i), Quantity: 1, Price: 0})
	}
	tests := []struct {
		name  string
		given []any
		when  cart.OpenOrder
		then  []any
		errs  []error
	}{
		{name: "OpenOrder creates the order",
			when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{apple, pear}, Total: 600},
			then: []any{opened}},
		{name: "OpenOrder of an open order", given: []any{opened},
			when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{apple, pear}, Total: 600},
			errs: []error{signal.ErrRejected, cart.ErrOrderExists}},
		{name: "OpenOrder without cart id", when: cart.OpenOrder{Lines: []cart.Line{apple}, Total: 300},
			errs: []error{signal.ErrRejected, cart.ErrInvalidCartID}},
		{name: "OpenOrder of an invalid cart id", when: cart.OpenOrder{CartID: "a/b", Lines: []cart.Line{apple}, Total: 300},
			errs: []error{signal.ErrRejected, cart.ErrInvalidCartID}},
		{name: "OpenOrder without lines", when: cart.OpenOrder{CartID: "o1"},
			errs: []error{signal.ErrRejected, cart.ErrEmptyOrder}},
		{name: "OpenOrder of too many lines", when: cart.OpenOrder{CartID: "o1", Lines: tooMany},
			errs: []error{signal.ErrRejected, cart.ErrTooManyOrdered}},
		{name: "OpenOrder listing a sku twice", when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{apple, apple}, Total: 600},
			errs: []error{signal.ErrRejected, cart.ErrDuplicateSKU}},
		{name: "OpenOrder with a wrong total", when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{apple, pear}, Total: 599},
			errs: []error{signal.ErrRejected, cart.ErrTotalMismatch}},
		{name: "OpenOrder of a line without units", when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{{SKU: "apple", Price: 1}}},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "OpenOrder of a line with a negative price", when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{{SKU: "apple", Quantity: 1, Price: -1}}, Total: -1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidPrice}},
		{name: "OpenOrder of a line with an invalid sku", when: cart.OpenOrder{CartID: "o1", Lines: []cart.Line{{SKU: "a#b", Quantity: 1}}},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			f.given(t, cart.OrderTypeName, "o1", tt.given...)
			res, err := f.svc.Handle(ctx, cart.OrderTypeName, "o1", tt.when)
			stored := f.history(t, cart.OrderTypeName, "o1")
			if tt.errs != nil {
				for _, want := range tt.errs {
					if !errors.Is(err, want) {
						t.Errorf("error %v is not %q", err, want)
					}
				}
				if len(stored) != len(tt.given) {
					t.Errorf("a refused command left %d events, want the %d given", len(stored), len(tt.given))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !res.Created {
				t.Errorf("OpenOrder did not create the order")
			}
			checkEvents(t, "result", res.Events, tt.then)
			checkEvents(t, "stored", stored, tt.then)
			want := cart.Order{CartID: "o1", Lines: []cart.Line{apple, pear}, Total: 600, Status: cart.OrderStatusOpen}
			if got, _, err := cart.OrderType.Get(ctx, f.svc, "o1"); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("order state %+v (%v), want %+v", got, err, want)
			}
		})
	}
}

func TestOrderIsNotClosable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.given(t, cart.OrderTypeName, "o1", cart.OrderOpened{CartID: "o1", Lines: []cart.Line{{"apple", 1, 1}}, Total: 1})
	if _, err := f.svc.Close(ctx, cart.OrderTypeName, "o1"); !errors.Is(err, signal.ErrInvalid) {
		t.Errorf("Close of an order: %v, want ErrInvalid", err)
	}
}
