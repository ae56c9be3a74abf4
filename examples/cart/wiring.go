package cart

import "github.com/signalforgo/signal/pkg/signal"

// Name is the example service's name.
const Name = "cart"

// App describes the example service: the cart and order types, the
// domain's subscribers and its authorization rule. Hand it to the Lambda
// wiring, the CLI kit, the console and tests.
func App() *signal.App {
	return &signal.App{Name: Name, Types: Types(), Subscribers: Subscribers(), Authorize: Authorize}
}

// Types returns the aggregate types of the domain, cart and order, for
// signal.Config.Types.
func Types() []signal.AggregateType {
	return []signal.AggregateType{Type, OrderType}
}

// Subscribers returns new values of the domain's subscribers, for
// signal.Config.Subscribers: the cart-summary and sku-sales projections
// and the open-order policy. Each call returns fresh values, so callers
// may adjust them (a name, a type filter) without affecting others.
func Subscribers() []signal.Subscriber {
	return []signal.Subscriber{CartSummaryProjection(), SKUSalesProjection(), OpenOrderPolicy()}
}
