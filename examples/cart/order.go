package cart

import (
	"errors"
	"fmt"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// OrderTypeName is the order aggregate type's name. The OpenOrderPolicy
// opens one order per purchased cart, under the cart's id.
const OrderTypeName = "order"

// OrderStatusOpen is the status of an order once opened.
const OrderStatusOpen = "open"

// Order is the state of an order: what a completed cart purchase bought.
// Money is in integer cents.
type Order struct {
	// CartID is the id of the cart whose purchase opened the order, which
	// is the order's own id.
	CartID string `json:"cartId"`
	Lines  []Line `json:"lines"`
	// Total is the sum of quantity × price over Lines, in cents.
	Total int64 `json:"total"`
	// Status is "" before the order is opened, then OrderStatusOpen.
	Status string `json:"status"`
	// Customer is the subject who bought the cart (its owner), who alone
	// reads the order (Authorize); "" for a cart bought without one.
	Customer string `json:"customer,omitempty"`
}

// OpenOrder opens an order for the lines of a purchased cart; it creates
// the order (genesis). Total, in cents, must be the sum of the lines. It
// is internal: only the OpenOrderPolicy sends it, never an HTTP client.
type OpenOrder struct {
	Lines []Line `json:"lines"`
	Total int64  `json:"total"`
	// Customer is the cart's buyer: the actor of its purchase.
	Customer string `json:"customer,omitempty"`
}

// OrderOpened records an opened order. Total is in cents.
type OrderOpened struct {
	Lines    []Line `json:"lines"`
	Total    int64  `json:"total"`
	Customer string `json:"customer,omitempty"`
}

// Order errors, shown to API clients like the cart's.
var (
	ErrOrderExists    = errors.New("the order is already open")
	ErrEmptyOrder     = errors.New("an order needs at least one line")
	ErrTooManyOrdered = fmt.Errorf("an order may hold at most %d lines", MaxLines)
	ErrDuplicateSKU   = errors.New("an order may list each sku once")
	ErrTotalMismatch  = errors.New("total is not the sum of the lines")
)

// OrderType is the order aggregate type. An order's id is its cart's id.
var OrderType = signal.MustDefine(signal.Spec[Order]{
	Name:    OrderTypeName,
	Initial: func(cartID string) Order { return Order{CartID: cartID} },
	Commands: []signal.CommandSpec[Order]{
		signal.Decide("OpenOrder", openOrder, signal.Genesis, signal.Internal),
	},
	Events: []signal.EventSpec[Order]{
		signal.Evolve("OrderOpened", orderOpened),
	},
})

func openOrder(s Order, c OpenOrder) ([]any, error) {
	if s.Status != "" {
		return nil, ErrOrderExists
	}
	switch {
	case len(c.Lines) == 0:
		return nil, ErrEmptyOrder
	case len(c.Lines) > MaxLines:
		return nil, ErrTooManyOrdered
	}
	seen := make(map[string]bool, len(c.Lines))
	var total int64
	for _, l := range c.Lines {
		if err := validLine(l.SKU, l.Quantity, l.Price); err != nil {
			return nil, err
		}
		if seen[l.SKU] {
			return nil, ErrDuplicateSKU
		}
		seen[l.SKU] = true
		total += l.Quantity * l.Price
	}
	if total != c.Total {
		return nil, ErrTotalMismatch
	}
	return []any{OrderOpened{Lines: slices.Clone(c.Lines), Total: c.Total, Customer: c.Customer}}, nil
}

// orderOpened copies the event's lines, so the state shares no slice with
// the event values handed to subscribers.
func orderOpened(s Order, e OrderOpened) Order {
	return Order{CartID: s.CartID, Lines: slices.Clone(e.Lines), Total: e.Total, Status: OrderStatusOpen, Customer: e.Customer}
}
