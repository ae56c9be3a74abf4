package tab

import (
	"fmt"
	"strings"

	"github.com/signalforgo/signal/pkg/signal"
)

func orderItem(s Tab, c OrderItem) ([]any, error) {
	if s.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if err := validLine(c.Item, c.Quantity, c.Price); err != nil {
		return nil, err
	}
	l, ok := s.Items[c.Item]
	switch {
	case !ok && len(s.Items) >= MaxLines:
		return nil, ErrTooManyLines
	case ok && l.Price != c.Price:
		return nil, fmt.Errorf("%w (%d cents)", ErrPriceMismatch, l.Price)
	case l.Quantity+c.Quantity > MaxQuantity:
		return nil, ErrTooManyUnits
	}
	return []any{ItemOrdered(c)}, nil
}

func cancelItem(s Tab, c CancelItem) ([]any, error) {
	if s.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if err := validItem(c.Item); err != nil {
		return nil, err
	}
	if c.Quantity < 1 || c.Quantity > MaxQuantity {
		return nil, ErrInvalidQuantity
	}
	l, ok := s.Items[c.Item]
	switch {
	case !ok:
		return nil, ErrNotOnTab
	case c.Quantity > l.Quantity:
		return nil, fmt.Errorf("%w (%d)", ErrCancelTooMany, l.Quantity)
	}
	return []any{ItemCancelled(c)}, nil
}

func pay(s Tab, _ Pay) ([]any, error) {
	if s.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if len(s.Items) == 0 {
		return nil, ErrEmptyTab
	}
	return []any{TabPaid{Lines: s.Bill(), Total: s.Total}}, nil
}

// void is the End rule: an open tab is voided.
func void(s Tab) (TabVoided, error) {
	if s.Status != StatusOpen {
		return TabVoided{}, ErrNotOpen
	}
	return TabVoided{}, nil
}

// validItem checks an item's name: it also keys the item-sales view, so
// it must be a valid view key.
func validItem(item string) error {
	if len(item) > MaxItemBytes || strings.TrimSpace(item) != item || signal.ValidateID(item) != nil {
		return ErrInvalidItem
	}
	return nil
}

func validLine(item string, quantity, price int64) error {
	if err := validItem(item); err != nil {
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
