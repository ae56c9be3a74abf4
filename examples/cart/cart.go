package cart

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

// TypeName is the cart aggregate type's name in stream keys and the HTTP
// API: POST /aggregates/cart/{id}/AddItem.
const TypeName = "cart"

// The statuses of a cart.
const (
	StatusOpen      = "open"
	StatusPurchased = "purchased"
	StatusDiscarded = "discarded"
)

// Bounds on what a cart may hold. They keep the state far below the
// snapshot and commit size limits and every sum of money far from
// overflowing an int64.
const (
	// MaxSKUBytes bounds the length of a sku.
	MaxSKUBytes = 64
	// MaxQuantity bounds the units of one command and of one cart line.
	MaxQuantity = 10_000
	// MaxPrice bounds a unit price, in cents (1,000,000.00).
	MaxPrice = 100_000_000
	// MaxLines bounds the number of different skus in a cart or an order.
	MaxLines = 100
)

// Cart is the state of a shopping cart. Money is in integer cents.
type Cart struct {
	// Items holds the cart's lines by sku. Every line has at least one unit.
	Items map[string]Item `json:"items"`
	// Total is the sum of quantity × price over Items, in cents.
	Total int64 `json:"total"`
	// Status is StatusOpen, StatusPurchased or StatusDiscarded.
	Status string `json:"status"`
}

// Item is one line of a cart: how many units of a sku, at which unit price.
type Item struct {
	Quantity int64 `json:"quantity"`
	// Price is the unit price in cents.
	Price int64 `json:"price"`
}

// Line is a sku with its quantity and unit price (in cents), as a
// completed purchase and an order list them.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Price is the unit price in cents.
	Price int64 `json:"price"`
}

// Lines returns the cart's items as lines sorted by sku.
func (c Cart) Lines() []Line {
	out := make([]Line, 0, len(c.Items))
	for _, sku := range slices.Sorted(maps.Keys(c.Items)) {
		it := c.Items[sku]
		out = append(out, Line{SKU: sku, Quantity: it.Quantity, Price: it.Price})
	}
	return out
}

// Commands.

// AddItem puts quantity units of sku, at the unit price in cents, into the
// cart. The first AddItem creates the cart. Adding a sku already in the
// cart adds to its line and must use the same price.
type AddItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Price is the unit price in cents.
	Price int64 `json:"price"`
}

// RemoveItem takes quantity units of sku out of the cart; the line goes
// away when none are left.
type RemoveItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// CompletePurchase buys what the cart holds and ends the cart's life.
type CompletePurchase struct{}

// Events.

// ItemAdded records units of a sku put into the cart at a unit price in cents.
type ItemAdded struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Price is the unit price in cents.
	Price int64 `json:"price"`
}

// ItemRemoved records units of a sku taken out of the cart.
type ItemRemoved struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// PurchaseCompleted ends a cart's life with a purchase. It carries what was
// bought, so subscribers (sales figures, the order policy) need not read
// the cart's state.
type PurchaseCompleted struct {
	// Lines are the cart's lines, sorted by sku.
	Lines []Line `json:"lines"`
	// Total is the purchase's total in cents.
	Total int64 `json:"total"`
}

// CartDiscarded ends an open cart's life without a purchase (HTTP DELETE).
type CartDiscarded struct{}

// Domain errors. Their messages are shown to API clients (HTTP 422); the
// Service wraps them as signal.ErrRejected and errors.Is still finds them.
var (
	ErrInvalidSKU      = fmt.Errorf("sku must be 1 to %d bytes, without surrounding spaces, '#', '/' or control characters", MaxSKUBytes)
	ErrInvalidQuantity = fmt.Errorf("quantity must be between 1 and %d", MaxQuantity)
	ErrInvalidPrice    = fmt.Errorf("price must be between 0 and %d cents", MaxPrice)
	ErrPriceMismatch   = errors.New("the sku is already in the cart at another price")
	ErrTooManyUnits    = fmt.Errorf("a cart line may hold at most %d units", MaxQuantity)
	ErrTooManyLines    = fmt.Errorf("a cart may hold at most %d different skus", MaxLines)
	ErrNotInCart       = errors.New("the sku is not in the cart")
	ErrRemoveTooMany   = errors.New("cannot remove more units than the cart holds")
	ErrEmptyCart       = errors.New("cannot complete the purchase of an empty cart")
	// ErrNotOpen guards a cart that is no longer open. The Service
	// normally answers signal.ErrClosed first, since purchase and discard
	// are terminal.
	ErrNotOpen = errors.New("the cart is no longer open")
)

// Type is the cart aggregate type. Register it with a Service through
// Types, or on its own in signal.Config.Types.
var Type = signal.MustDefine(signal.Spec[Cart]{
	Name:    TypeName,
	Initial: func(string) Cart { return Cart{Status: StatusOpen} },
	Commands: []signal.CommandSpec[Cart]{
		signal.Decide("AddItem", addItem, signal.Genesis),
		signal.Decide("RemoveItem", removeItem),
		signal.Decide("CompletePurchase", completePurchase),
	},
	Events: []signal.EventSpec[Cart]{
		signal.Evolve("ItemAdded", itemAdded),
		signal.Evolve("ItemRemoved", itemRemoved),
		signal.Evolve("PurchaseCompleted", purchaseCompleted, signal.Terminal),
		signal.Evolve("CartDiscarded", cartDiscarded, signal.Terminal),
	},
	End:           signal.EndWith(discard),
	SnapshotEvery: 100,
	StateVersion:  1,
})

func addItem(s Cart, c AddItem) ([]any, error) {
	if s.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if err := validLine(c.SKU, c.Quantity, c.Price); err != nil {
		return nil, err
	}
	it, ok := s.Items[c.SKU]
	switch {
	case !ok && len(s.Items) >= MaxLines:
		return nil, ErrTooManyLines
	case ok && it.Price != c.Price:
		return nil, fmt.Errorf("%w (%d cents)", ErrPriceMismatch, it.Price)
	case it.Quantity+c.Quantity > MaxQuantity:
		return nil, ErrTooManyUnits
	}
	return []any{ItemAdded(c)}, nil
}

func removeItem(s Cart, c RemoveItem) ([]any, error) {
	if s.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if err := validSKU(c.SKU); err != nil {
		return nil, err
	}
	if c.Quantity < 1 || c.Quantity > MaxQuantity {
		return nil, ErrInvalidQuantity
	}
	it, ok := s.Items[c.SKU]
	switch {
	case !ok:
		return nil, ErrNotInCart
	case c.Quantity > it.Quantity:
		return nil, fmt.Errorf("%w (%d)", ErrRemoveTooMany, it.Quantity)
	}
	return []any{ItemRemoved(c)}, nil
}

func completePurchase(s Cart, _ CompletePurchase) ([]any, error) {
	if s.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if len(s.Items) == 0 {
		return nil, ErrEmptyCart
	}
	return []any{PurchaseCompleted{Lines: s.Lines(), Total: s.Total}}, nil
}

// discard is the End rule: an open cart is discarded.
func discard(s Cart) (CartDiscarded, error) {
	if s.Status != StatusOpen {
		return CartDiscarded{}, ErrNotOpen
	}
	return CartDiscarded{}, nil
}

// The event handlers fold one event into a copy of s; they never write
// to s.Items. They are total: an event that could not have been decided
// (removing what is not there) changes as little as it can instead of
// panicking.

func itemAdded(s Cart, e ItemAdded) Cart {
	items := cloneItems(s.Items)
	it := items[e.SKU]
	it.Quantity += e.Quantity
	it.Price = e.Price
	items[e.SKU] = it
	s.Items = items
	s.Total += e.Quantity * e.Price
	return s
}

func itemRemoved(s Cart, e ItemRemoved) Cart {
	it, ok := s.Items[e.SKU]
	if !ok {
		return s
	}
	items := cloneItems(s.Items)
	n := min(e.Quantity, it.Quantity)
	if it.Quantity -= n; it.Quantity == 0 {
		delete(items, e.SKU)
	} else {
		items[e.SKU] = it
	}
	s.Items = items
	s.Total -= n * it.Price
	return s
}

func purchaseCompleted(s Cart, _ PurchaseCompleted) Cart {
	s.Status = StatusPurchased
	return s
}

func cartDiscarded(s Cart, _ CartDiscarded) Cart {
	s.Status = StatusDiscarded
	return s
}

func cloneItems(m map[string]Item) map[string]Item {
	out := make(map[string]Item, len(m)+1)
	maps.Copy(out, m)
	return out
}

// validSKU checks a sku: it also keys the sku-sales view, so it must be a
// valid view key.
func validSKU(sku string) error {
	if len(sku) > MaxSKUBytes || strings.TrimSpace(sku) != sku || signal.ValidateID(sku) != nil {
		return ErrInvalidSKU
	}
	return nil
}

func validLine(sku string, quantity, price int64) error {
	if err := validSKU(sku); err != nil {
		return err
	}
	if quantity < 1 || quantity > MaxQuantity {
		return ErrInvalidQuantity
	}
	if price < 0 || price > MaxPrice {
		return ErrInvalidPrice
	}
	return nil
}
