package cart

import (
	"errors"
	"reflect"
	"testing"
)

// The Service answers signal.ErrClosed before Decide or Close ever sees a
// purchased or discarded cart; these guards hold for other callers.
func TestGuardsBehindTheService(t *testing.T) {
	for _, status := range []string{StatusPurchased, StatusDiscarded} {
		s := Cart{Items: map[string]Item{"apple": {1, 150}}, Total: 150, Status: status}
		for _, cmd := range []any{AddItem{SKU: "apple", Quantity: 1, Price: 150}, RemoveItem{SKU: "apple", Quantity: 1}, CompletePurchase{}} {
			if _, err := decideCart(s, cmd); !errors.Is(err, ErrNotOpen) {
				t.Errorf("%s cart, %T: %v, want ErrNotOpen", status, cmd, err)
			}
		}
		if _, err := closeCart(s); !errors.Is(err, ErrNotOpen) {
			t.Errorf("close of a %s cart: %v, want ErrNotOpen", status, err)
		}
	}
	if _, err := decideCart(Type.Initial(), struct{}{}); err == nil {
		t.Error("an unknown command was accepted")
	}
	if _, err := decideOrder(Order{}, struct{}{}); err == nil {
		t.Error("an unknown order command was accepted")
	}
}

// Evolve is total: events that Decide could not have produced change as
// little as they can.
func TestEvolveIsTotal(t *testing.T) {
	s := Cart{Items: map[string]Item{"apple": {2, 150}}, Total: 300, Status: StatusOpen}
	if got := evolveCart(s, ItemRemoved{SKU: "pear", Quantity: 1}); !reflect.DeepEqual(got, s) {
		t.Errorf("removing a missing sku: %+v", got)
	}
	want := Cart{Items: map[string]Item{}, Total: 0, Status: StatusOpen}
	if got := evolveCart(s, ItemRemoved{SKU: "apple", Quantity: 5}); !reflect.DeepEqual(got, want) {
		t.Errorf("removing too many: %+v, want %+v", got, want)
	}
	if got := evolveCart(s, "not an event"); !reflect.DeepEqual(got, s) {
		t.Errorf("an unknown event changed the state: %+v", got)
	}
}
