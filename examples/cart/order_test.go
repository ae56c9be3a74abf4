package cart_test

import (
	"strings"
	"testing"

	"github.com/signalforgo/signal/examples/cart"
	"github.com/signalforgo/signal/pkg/signal"
	"github.com/signalforgo/signal/pkg/signal/signaltest"
)

func TestOrderRules(t *testing.T) {
	apple := cart.Line{SKU: "apple", Quantity: 2, Price: 150}
	pear := cart.Line{SKU: "pear", Quantity: 1, Price: 300}
	opened := cart.OrderOpened{Lines: []cart.Line{apple, pear}, Total: 600}
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
			when: cart.OpenOrder{Lines: []cart.Line{apple, pear}, Total: 600},
			then: []any{opened}},
		{name: "OpenOrder of an open order", given: []any{opened},
			when: cart.OpenOrder{Lines: []cart.Line{apple, pear}, Total: 600},
			errs: []error{signal.ErrRejected, cart.ErrOrderExists}},
		{name: "OpenOrder without lines", when: cart.OpenOrder{},
			errs: []error{signal.ErrRejected, cart.ErrEmptyOrder}},
		{name: "OpenOrder of too many lines", when: cart.OpenOrder{Lines: tooMany},
			errs: []error{signal.ErrRejected, cart.ErrTooManyOrdered}},
		{name: "OpenOrder listing a sku twice", when: cart.OpenOrder{Lines: []cart.Line{apple, apple}, Total: 600},
			errs: []error{signal.ErrRejected, cart.ErrDuplicateSKU}},
		{name: "OpenOrder with a wrong total", when: cart.OpenOrder{Lines: []cart.Line{apple, pear}, Total: 599},
			errs: []error{signal.ErrRejected, cart.ErrTotalMismatch}},
		{name: "OpenOrder of a line without units", when: cart.OpenOrder{Lines: []cart.Line{{SKU: "apple", Price: 1}}},
			errs: []error{signal.ErrRejected, cart.ErrInvalidQuantity}},
		{name: "OpenOrder of a line with a negative price", when: cart.OpenOrder{Lines: []cart.Line{{SKU: "apple", Quantity: 1, Price: -1}}, Total: -1},
			errs: []error{signal.ErrRejected, cart.ErrInvalidPrice}},
		{name: "OpenOrder of a line with an invalid sku", when: cart.OpenOrder{Lines: []cart.Line{{SKU: "a#b", Quantity: 1}}},
			errs: []error{signal.ErrRejected, cart.ErrInvalidSKU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signaltest.For(t, cart.OrderType, signaltest.ID("o1")).Given(tt.given...).When(tt.when)
			if tt.errs != nil {
				for _, want := range tt.errs {
					s.ThenError(want)
				}
				return
			}
			s.Then(tt.then...)
			if !s.Result().Created {
				t.Errorf("OpenOrder did not create the order")
			}
			// The order's id is its cart's: Initial gives it to the state.
			s.ThenState(cart.Order{CartID: "o1", Lines: []cart.Line{apple, pear}, Total: 600, Status: cart.OrderStatusOpen})
		})
	}
}

func TestOrderCannotBeEnded(t *testing.T) {
	signaltest.For(t, cart.OrderType, signaltest.ID("o1")).
		Given(cart.OrderOpened{Lines: []cart.Line{{"apple", 1, 1}}, Total: 1}).
		WhenEnd().
		ThenError(signal.ErrInvalid)
}

// The open-order policy, on its own: a purchase opens the cart's order
// with what was bought; no other event sends anything.
func TestOpenOrderPolicy(t *testing.T) {
	lines := []cart.Line{{"apple", 2, 150}, {"pear", 1, 300}}
	signaltest.Policy(t, cart.OpenOrderPolicy(), cart.Type, cart.OrderType).
		When(cart.Type, "c7", cart.PurchaseCompleted{Lines: lines, Total: 600}).
		ThenSends(cart.OrderType.To("c7", cart.OpenOrder{Lines: lines, Total: 600})).
		When(cart.Type, "c7", cart.ItemAdded{SKU: "apple", Quantity: 1, Price: 150}).
		ThenSends().
		When(cart.Type, "c8", cart.CartDiscarded{}).
		ThenSends()
}
