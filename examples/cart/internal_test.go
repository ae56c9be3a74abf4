package cart

import (
	"errors"
	"reflect"
	"testing"
)

// The Service answers signal.ErrClosed before a handler or the End rule
// ever sees a purchased or discarded cart; these guards hold for other
// callers.
func TestGuardsBehindTheService(t *testing.T) {
	for _, status := range []string{StatusPurchased, StatusDiscarded} {
		s := Cart{Items: map[string]Item{"apple": {1, 150}}, Total: 150, Status: status}
		decided := map[string]error{}
		_, decided["AddItem"] = addItem(s, AddItem{SKU: "apple", Quantity: 1, Price: 150})
		_, decided["RemoveItem"] = removeItem(s, RemoveItem{SKU: "apple", Quantity: 1})
		_, decided["CompletePurchase"] = completePurchase(s, CompletePurchase{})
		_, decided["End"] = discard(s)
		for name, err := range decided {
			if !errors.Is(err, ErrNotOpen) {
				t.Errorf("%s cart, %s: %v, want ErrNotOpen", status, name, err)
			}
		}
	}
}

// The event handlers are total: events that no command could have
// produced change as little as they can.
func TestEvolveIsTotal(t *testing.T) {
	s := Cart{Items: map[string]Item{"apple": {2, 150}}, Total: 300, Status: StatusOpen}
	if got := itemRemoved(s, ItemRemoved{SKU: "pear", Quantity: 1}); !reflect.DeepEqual(got, s) {
		t.Errorf("removing a missing sku: %+v", got)
	}
	want := Cart{Items: map[string]Item{}, Total: 0, Status: StatusOpen}
	if got := itemRemoved(s, ItemRemoved{SKU: "apple", Quantity: 5}); !reflect.DeepEqual(got, want) {
		t.Errorf("removing too many: %+v, want %+v", got, want)
	}
	if s.Items["apple"] != (Item{2, 150}) {
		t.Errorf("a handler changed the state it was given: %+v", s)
	}
}
