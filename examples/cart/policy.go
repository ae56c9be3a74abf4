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
// most one order, for the purchase's actor (the cart's owner). A redelivered event sends the same command id and is
// recognised as a duplicate; OpenOrder is internal, so no HTTP client can
// open the order first.
func OpenOrderPolicy() *signal.Policy {
	return &signal.Policy{
		Name: OpenOrderPolicyName,
		On:   []signal.PolicyHandler{signal.React(openOrderOnPurchase)},
	}
}

func openOrderOnPurchase(_ context.Context, ev signal.Event, e PurchaseCompleted) ([]signal.Send, error) {
	return []signal.Send{
		OrderType.To(ev.AggregateID, OpenOrder{Lines: slices.Clone(e.Lines), Total: e.Total, Customer: ev.Actor}),
	}, nil
}
