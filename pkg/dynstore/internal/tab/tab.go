package tab

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// TypeName is the tab aggregate type's name in stream keys.
const TypeName = "tab"

// The statuses of a tab.
const (
	StatusOpen   = "open"
	StatusPaid   = "paid"
	StatusVoided = "voided"
)

// Bounds on what a tab may hold: they keep the state far below the
// snapshot and commit size limits and every sum far from overflowing.
const (
	// MaxItemBytes bounds the length of an item's name.
	MaxItemBytes = 64
	// MaxQuantity bounds the units of one command and of one tab line.
	MaxQuantity = 10_000
	// MaxPrice bounds a unit price, in cents.
	MaxPrice = 100_000_000
	// MaxLines bounds the number of different items on a tab or a receipt.
	MaxLines = 100
)

// Tab is the state of a bar tab. Money is in integer cents.
type Tab struct {
	// Items holds the tab's lines by item. Every line has at least one unit.
	Items map[string]Line `json:"items"`
	// Total is the sum of quantity × price over Items, in cents.
	Total int64 `json:"total"`
	// Status is StatusOpen, StatusPaid or StatusVoided.
	Status string `json:"status"`
}

// Line is what a tab holds of one item: units at a unit price in cents.
type Line struct {
	Quantity int64 `json:"quantity"`
	Price    int64 `json:"price"`
}

// BillLine is an item with its quantity and unit price (in cents), as a
// payment and a receipt list them.
type BillLine struct {
	Item     string `json:"item"`
	Quantity int64  `json:"quantity"`
	Price    int64  `json:"price"`
}

// Bill returns the tab's lines sorted by item.
func (t Tab) Bill() []BillLine {
	out := make([]BillLine, 0, len(t.Items))
	for _, item := range slices.Sorted(maps.Keys(t.Items)) {
		l := t.Items[item]
		out = append(out, BillLine{Item: item, Quantity: l.Quantity, Price: l.Price})
	}
	return out
}

// OrderItem puts quantity units of item, at the unit price in cents, on
// the tab. The first OrderItem opens the tab. Ordering an item already on
// the tab adds to its line and must use the same price.
type OrderItem struct {
	Item     string `json:"item"`
	Quantity int64  `json:"quantity"`
	Price    int64  `json:"price"`
}

// CancelItem takes quantity units of item off the tab; the line goes
// away when none are left.
type CancelItem struct {
	Item     string `json:"item"`
	Quantity int64  `json:"quantity"`
}

// Pay settles what the tab holds and ends the tab's life.
type Pay struct{}

// ItemOrdered records units of an item put on the tab at a unit price.
type ItemOrdered OrderItem

// ItemCancelled records units of an item taken off the tab.
type ItemCancelled CancelItem

// TabPaid ends a tab's life with a payment. It carries what was paid
// for, so subscribers need not read the tab's state.
type TabPaid struct {
	// Lines are the tab's lines, sorted by item.
	Lines []BillLine `json:"lines"`
	// Total is the payment's total in cents.
	Total int64 `json:"total"`
}

// TabVoided ends an open tab's life without a payment (Service.End).
type TabVoided struct{}

// Domain errors; the Service wraps them as signal.ErrRejected.
var (
	ErrInvalidItem     = fmt.Errorf("item must be 1 to %d bytes, without surrounding spaces, '#', '/' or control characters", MaxItemBytes)
	ErrInvalidQuantity = fmt.Errorf("quantity must be between 1 and %d", MaxQuantity)
	ErrInvalidPrice    = fmt.Errorf("price must be between 0 and %d cents", MaxPrice)
	ErrPriceMismatch   = errors.New("the item is already on the tab at another price")
	ErrTooManyUnits    = fmt.Errorf("a tab line may hold at most %d units", MaxQuantity)
	ErrTooManyLines    = fmt.Errorf("a tab may hold at most %d different items", MaxLines)
	ErrNotOnTab        = errors.New("the item is not on the tab")
	ErrCancelTooMany   = errors.New("cannot cancel more units than the tab holds")
	ErrEmptyTab        = errors.New("cannot pay an empty tab")
	// ErrNotOpen guards a tab that is no longer open; the Service
	// normally answers signal.ErrClosed first (payment and void are terminal).
	ErrNotOpen = errors.New("the tab is no longer open")
)

// Type is the tab aggregate type.
var Type = signal.MustDefine(signal.Spec[Tab]{
	Name:    TypeName,
	Initial: func(string) Tab { return Tab{Status: StatusOpen} },
	Commands: []signal.CommandSpec[Tab]{
		signal.Decide("OrderItem", orderItem, signal.Genesis),
		signal.Decide("CancelItem", cancelItem),
		signal.Decide("Pay", pay),
	},
	Events: []signal.EventSpec[Tab]{
		signal.Evolve("ItemOrdered", itemOrdered),
		signal.Evolve("ItemCancelled", itemCancelled),
		signal.Evolve("TabPaid", tabPaid, signal.Terminal),
		signal.Evolve("TabVoided", tabVoided, signal.Terminal),
	},
	End:           signal.EndWith(void),
	SnapshotEvery: 100,
	StateVersion:  1,
})
