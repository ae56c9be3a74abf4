package cart

import (
	"context"
	"slices"

	"github.com/signalforgo/signal/pkg/signal"
)

// OpenOrderPolicyName is the name the OpenOrderPolicy keeps its checkpoints under.
const OpenOrderPolicyName = "open-order"

// OpenOrderPolicy returns a new policy that opens an order when a purchase
// completes: OpenOrder to the order with the cart's id, so a cart has at
// most one order. A redelivered event sends the same command id and is
// recognised as a duplicate; an order opened by any other route refuses a
// second OpenOrder with ErrOrderExists.
func OpenOrderPolicy() *signal.Policy {
	return &signal.Policy{
		Name:  OpenOrderPolicyName,
		Types: []string{TypeName},
		React: func(_ context.Context, ev signal.Event) ([]signal.Send, error) {
			e, ok := ev.Data.(PurchaseCompleted)
			if !ok {
				return nil, nil
			}
			return []signal.Send{{
				Type:    OrderTypeName,
				ID:      ev.AggregateID,
				Command: OpenOrder{CartID: ev.AggregateID, Lines: slices.Clone(e.Lines), Total: e.Total},
			}}, nil
		},
	}
}
